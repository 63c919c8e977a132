//! From pest pairs to the AST: one function per grammar rule.

use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use rust_decimal::Decimal;

use super::ast::*;
use super::error::SyntaxError;
use super::parser::Rule;

type Result<T> = std::result::Result<T, SyntaxError>;

/// The pair's span without the whitespace pest lets a rule swallow at its end.
fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    let trimmed = pair.as_str().trim_end().len();
    Span::new(s.start(), s.start() + trimmed)
}

/// The grammar guarantees the shape of every pair; if it ever disagrees with
/// this file, say so as a syntax error rather than crash.
fn shape_error(at: Span, wanted: &str) -> SyntaxError {
    SyntaxError::Unexpected {
        expected: wanted.to_string(),
        found: "something the parser did not expect".to_string(),
        span: at.into(),
        help: "this is a defect in deal itself; please report it with the contract".to_string(),
    }
}

/// Iterates the children of a pair, skipping punctuation and keywords.
struct Children<'i> {
    inner: Pairs<'i, Rule>,
    span: Span,
}

impl<'i> Children<'i> {
    fn of(pair: Pair<'i, Rule>) -> Self {
        let span = span_of(&pair);
        Children {
            inner: pair.into_inner(),
            span,
        }
    }

    fn next(&mut self) -> Option<Pair<'i, Rule>> {
        self.inner.by_ref().find(|p| !is_noise(p.as_rule()))
    }

    /// The next child, or a shape error naming what was wanted.
    fn required(&mut self, wanted: &str) -> Result<Pair<'i, Rule>> {
        self.next().ok_or_else(|| shape_error(self.span, wanted))
    }

    fn peek_rule(&self) -> Option<Rule> {
        self.inner
            .clone()
            .find(|p| !is_noise(p.as_rule()))
            .map(|p| p.as_rule())
    }
}

fn is_noise(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::equals | Rule::comma | Rule::colon | Rule::lparen | Rule::rparen | Rule::dot | Rule::EOI
    ) || format!("{rule:?}").starts_with("kw_")
}

pub fn contract(pair: Pair<'_, Rule>) -> Result<Contract> {
    let mut kids = Children::of(pair);
    let header = kids.required("the title")?;
    let (title, title_span) = header_title(header)?;
    let mut c = Contract {
        title,
        title_span,
        parties: Vec::new(),
        term: None,
        terms: Vec::new(),
        events: Vec::new(),
        clauses: Vec::new(),
        repeated_sections: Vec::new(),
    };
    let mut parties_span: Option<Span> = None;
    while let Some(p) = kids.next() {
        let here = span_of(&p);
        match p.as_rule() {
            Rule::parties => {
                if let Some(first) = parties_span {
                    c.repeated_sections.push(("parties", first, here));
                }
                parties_span = Some(here);
                c.parties.extend(parties(p)?);
            }
            Rule::in_force => {
                let t = in_force(p)?;
                if let Some(first) = &c.term {
                    c.repeated_sections.push(("in force", first.span, here));
                } else {
                    c.term = Some(t);
                }
            }
            Rule::terms => c.terms.extend(terms(p)?),
            Rule::events => c.events.extend(events(p)?),
            Rule::clause => c.clauses.push(clause(p)?),
            _ => {}
        }
    }
    Ok(c)
}

fn header_title(pair: Pair<'_, Rule>) -> Result<(String, Span)> {
    let mut kids = Children::of(pair);
    let s = kids.required("a title in quotes")?;
    Ok((string(&s), span_of(&s)))
}

fn string(pair: &Pair<'_, Rule>) -> String {
    let raw = pair.as_str();
    let inner = raw
        .strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .unwrap_or(raw);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(ch) = chars.next() {
        if ch == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(ch);
        }
    }
    out
}

/// An event's name as written; the breach of clause C is named `breach of C`.
fn event_ref(pair: Pair<'_, Rule>) -> Ident {
    if pair.as_rule() != Rule::event_ref {
        return ident(&pair);
    }
    let span = span_of(&pair);
    let words: Vec<&str> = pair.as_str().split_whitespace().collect();
    Ident {
        name: words.join(" "),
        span,
    }
}

fn ident(pair: &Pair<'_, Rule>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: span_of(pair),
    }
}

fn parties(pair: Pair<'_, Rule>) -> Result<Vec<Ident>> {
    let mut out = Vec::new();
    let mut kids = Children::of(pair);
    while let Some(p) = kids.next() {
        out.push(ident(&p));
    }
    Ok(out)
}

fn in_force(pair: Pair<'_, Rule>) -> Result<InForce> {
    let span = span_of(&pair);
    let mut from = None;
    let mut until = None;
    let mut kids = Children::of(pair);
    while let Some(p) = kids.next() {
        match p.as_rule() {
            Rule::from_bound => from = Some(boundary(p)?),
            Rule::until_bound => until = Some(boundary(p)?),
            _ => return Err(shape_error(span_of(&p), "`from` or `until`")),
        }
    }
    Ok(InForce { from, until, span })
}

fn boundary(pair: Pair<'_, Rule>) -> Result<Boundary> {
    let mut kids = Children::of(pair);
    let p = kids.required("a date or an event")?;
    match p.as_rule() {
        Rule::date => Ok(Boundary::Date {
            text: p.as_str().to_string(),
            span: span_of(&p),
        }),
        _ => Ok(Boundary::Event(event_match(p)?)),
    }
}

fn terms(pair: Pair<'_, Rule>) -> Result<Vec<TermDef>> {
    let mut out = Vec::new();
    let mut kids = Children::of(pair);
    while let Some(p) = kids.next() {
        out.push(term_def(p)?);
    }
    Ok(out)
}

fn term_def(pair: Pair<'_, Rule>) -> Result<TermDef> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let name = ident(&kids.required("a term name")?);
    let v = kids.required("a value")?;
    let value = match v.as_rule() {
        Rule::open_term => {
            let mut k = Children::of(v);
            TermValue::Open {
                ty: ident(&k.required("a type")?),
            }
        }
        Rule::table => TermValue::Table(table(v)?),
        _ => TermValue::Expr(expr(v)?),
    };
    Ok(TermDef { name, value, span })
}

fn table(pair: Pair<'_, Rule>) -> Result<Table> {
    let span = span_of(&pair);
    let mut tiered = false;
    let mut rows = Vec::new();
    let mut kids = Children::of(pair);
    while let Some(p) = kids.next() {
        match p.as_rule() {
            Rule::tiered => tiered = true,
            _ => rows.push(table_row(p)?),
        }
    }
    Ok(Table { tiered, rows, span })
}

fn table_row(pair: Pair<'_, Rule>) -> Result<TableRow> {
    let span = span_of(&pair);
    let mut row = TableRow {
        above: None,
        from: None,
        up_to: None,
        below: None,
        otherwise: false,
        value: Expr {
            kind: ExprKind::Bool(false),
            span,
        },
        span,
    };
    let mut kids = Children::of(pair);
    while let Some(p) = kids.next() {
        let rule = p.as_rule();
        if rule == Rule::otherwise {
            row.otherwise = true;
            continue;
        }
        if rule == Rule::expr {
            row.value = expr(p)?;
            continue;
        }
        let bound = expr(Children::of(p).required("a bound")?)?;
        match rule {
            Rule::row_above => row.above = Some(bound),
            Rule::row_from => row.from = Some(bound),
            Rule::row_upto => row.up_to = Some(bound),
            _ => row.below = Some(bound),
        }
    }
    Ok(row)
}

fn events(pair: Pair<'_, Rule>) -> Result<Vec<EventDecl>> {
    let mut out = Vec::new();
    let mut kids = Children::of(pair);
    while let Some(p) = kids.next() {
        out.push(event_decl(p)?);
    }
    Ok(out)
}

fn event_decl(pair: Pair<'_, Rule>) -> Result<EventDecl> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let name = ident(&kids.required("an event name")?);
    let mut fields = Vec::new();
    if let Some(list) = kids.next() {
        let mut k = Children::of(list);
        while let Some(f) = k.next() {
            fields.push(field_decl(f)?);
        }
    }
    Ok(EventDecl { name, fields, span })
}

fn field_decl(pair: Pair<'_, Rule>) -> Result<FieldDecl> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let name = ident(&kids.required("a field name")?);
    let mut optional = false;
    let mut ty = kids.required("a type")?;
    if ty.as_rule() == Rule::optional {
        optional = true;
        ty = kids.required("a type")?;
    }
    Ok(FieldDecl {
        name,
        ty: ident(&ty),
        optional,
        span,
    })
}

fn clause(pair: Pair<'_, Rule>) -> Result<Clause> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let name = ident(&kids.required("a clause name")?);
    let mut c = Clause {
        name,
        in_force: Vec::new(),
        suspended_on: Vec::new(),
        resumed_on: Vec::new(),
        ended_on: Vec::new(),
        norms: Vec::new(),
        span,
    };
    while let Some(p) = kids.next() {
        match p.as_rule() {
            Rule::in_force => c.in_force.push(in_force(p)?),
            Rule::suspended_on => c.suspended_on.push(inner_event_match(p)?),
            Rule::resumed_on => c.resumed_on.push(inner_event_match(p)?),
            Rule::ended_on => c.ended_on.push(inner_event_match(p)?),
            Rule::norm => c.norms.push(norm(p)?),
            _ => return Err(shape_error(span_of(&p), "a clause item")),
        }
    }
    Ok(c)
}

fn inner_event_match(pair: Pair<'_, Rule>) -> Result<EventMatch> {
    let mut kids = Children::of(pair);
    event_match(kids.required("an event")?)
}

fn event_match(pair: Pair<'_, Rule>) -> Result<EventMatch> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let event = event_ref(kids.required("an event name")?);
    let condition = kids.next().map(expr).transpose()?;
    Ok(EventMatch {
        event,
        condition,
        span,
    })
}

fn norm(pair: Pair<'_, Rule>) -> Result<Norm> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let mut trigger = None;
    if kids.peek_rule() == Some(Rule::trigger_prefix) {
        let t = kids.required("`after each`")?;
        trigger = Some(inner_event_match(t)?);
    }
    let bearer = ident(&kids.required("a party")?);
    let tail = kids.required("what the party must, may or may not do")?;
    let body = match tail.as_rule() {
        Rule::obligation => obligation(tail)?,
        Rule::prohibition => prohibition(tail)?,
        Rule::permission => permission(tail)?,
        Rule::power => power(tail)?,
        Rule::exclusive => NormBody::Exclusive(Box::new(exclusive(tail)?)),
        Rule::first_refusal => NormBody::FirstRefusal(Box::new(first_refusal(tail)?)),
        Rule::owes => NormBody::Owes(Box::new(owes(tail)?)),
        _ => return Err(shape_error(span_of(&tail), "a norm")),
    };
    Ok(Norm {
        trigger,
        bearer,
        body,
        span,
    })
}

fn action(pair: Pair<'_, Rule>) -> Result<Action> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let event = ident(&kids.required("an event name")?);
    let mut same_key = None;
    let mut condition = None;
    while let Some(p) = kids.next() {
        match p.as_rule() {
            Rule::same_key => same_key = Some(same_key_of(p)?),
            _ => condition = Some(expr(p)?),
        }
    }
    Ok(Action {
        event,
        same_key,
        condition,
        span,
    })
}

fn same_key_of(pair: Pair<'_, Rule>) -> Result<Ident> {
    let mut kids = Children::of(pair);
    Ok(ident(&kids.required("a field name")?))
}

fn exception(pair: Pair<'_, Rule>) -> Result<Exception> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let event = ident(&kids.required("an event name")?);
    let same_key = kids.next().map(same_key_of).transpose()?;
    Ok(Exception {
        event,
        same_key,
        span,
    })
}

fn obligation(pair: Pair<'_, Rule>) -> Result<NormBody> {
    let mut kids = Children::of(pair);
    let action = action(kids.required("an action")?)?;
    let mut payee = None;
    let mut next = kids.next();
    if let Some(p) = next.clone().filter(|p| p.as_rule() == Rule::payee) {
        payee = Some(ident(&Children::of(p).required("a party")?));
        next = kids.next();
    }
    Ok(NormBody::Obligation {
        action,
        payee,
        deadline: next.map(deadline).transpose()?,
    })
}

fn deadline(pair: Pair<'_, Rule>) -> Result<Deadline> {
    let mut kids = Children::of(pair);
    let d = kids.required("`within` or `by`")?;
    let span = span_of(&d);
    let rule = d.as_rule();
    let mut k = Children::of(d);
    match rule {
        Rule::within_after => {
            let duration = expr(k.required("a duration")?)?;
            let after = k.next().map(event_match).transpose()?;
            Ok(Deadline::Within {
                duration,
                after,
                span,
            })
        }
        _ => Ok(Deadline::By {
            date: expr(k.required("a date")?)?,
            span,
        }),
    }
}

fn prohibition(pair: Pair<'_, Rule>) -> Result<NormBody> {
    let mut kids = Children::of(pair);
    let action = action(kids.required("an action")?)?;
    let exception = kids.next().map(exception).transpose()?;
    Ok(NormBody::Prohibition { action, exception })
}

fn permission(pair: Pair<'_, Rule>) -> Result<NormBody> {
    let mut kids = Children::of(pair);
    let action = action(kids.required("an action")?)?;
    let mut activation = None;
    let mut window = None;
    while let Some(p) = kids.next() {
        match p.as_rule() {
            Rule::activation => {
                let span = span_of(&p);
                let mut k = Children::of(p);
                let delay = expr(k.required("a duration")?)?;
                let unless = k.next().map(|u| ident(&u));
                activation = Some(Activation { delay, unless, span });
            }
            _ => window = Some(expr(Children::of(p).required("a duration")?)?),
        }
    }
    Ok(NormBody::Permission {
        action,
        activation,
        window,
    })
}

fn power(pair: Pair<'_, Rule>) -> Result<NormBody> {
    let mut kids = Children::of(pair);
    let mut actions = Vec::new();
    let mut window = None;
    while let Some(p) = kids.next() {
        match p.as_rule() {
            Rule::action => actions.push(action(p)?),
            _ => window = Some(expr(Children::of(p).required("a duration")?)?),
        }
    }
    Ok(NormBody::Power { actions, window })
}

fn exclusive(pair: Pair<'_, Rule>) -> Result<Exclusive> {
    let mut kids = Children::of(pair);
    let subject_pair = kids.required("what the exclusivity is over")?;
    let subject = Children::of(subject_pair).inner.map(|w| ident(&w)).collect();
    let grantor = ident(&kids.required("a party")?);
    let role_field = ident(&kids.required("a field name")?);
    let event = ident(&kids.required("an event name")?);
    let mut condition = None;
    let mut exc = None;
    while let Some(p) = kids.next() {
        match p.as_rule() {
            Rule::exception => exc = Some(exception(p)?),
            _ => condition = Some(expr(p)?),
        }
    }
    Ok(Exclusive {
        subject,
        grantor,
        role_field,
        event,
        condition,
        exception: exc,
    })
}

fn first_refusal(pair: Pair<'_, Rule>) -> Result<FirstRefusal> {
    let mut kids = Children::of(pair);
    let deal_event = ident(&kids.required("an event name")?);
    let grantor = ident(&kids.required("a party")?);
    let mut r = FirstRefusal {
        deal_event,
        grantor,
        condition: None,
        offered_by: None,
        accepted_by: None,
        declined_by: None,
        matched_on: None,
        window: None,
        only_if: None,
        repeated: Vec::new(),
    };
    let mut seen: Vec<(Rule, Span)> = Vec::new();
    while let Some(p) = kids.next() {
        let rule = p.as_rule();
        let here = span_of(&p);
        if let Some((_, first)) = seen.iter().find(|(r, _)| *r == rule) {
            r.repeated.push((refusal_part_name(rule), *first, here));
            continue;
        }
        seen.push((rule, here));
        let mut k = Children::of(p);
        let inner = k.required("a value")?;
        match rule {
            Rule::refusal_where => r.condition = Some(expr(inner)?),
            Rule::offered_by => r.offered_by = Some(ident(&inner)),
            Rule::accepted_by => r.accepted_by = Some(ident(&inner)),
            Rule::declined_by => r.declined_by = Some(ident(&inner)),
            Rule::matched_on => r.matched_on = Some(ident(&inner)),
            Rule::open_for => r.window = Some(expr(inner)?),
            Rule::only_if => r.only_if = Some(expr(inner)?),
            _ => return Err(shape_error(here, "a part of the first refusal")),
        }
    }
    Ok(r)
}

fn refusal_part_name(rule: Rule) -> &'static str {
    match rule {
        Rule::refusal_where => "where",
        Rule::offered_by => "offered by",
        Rule::accepted_by => "accepted by",
        Rule::declined_by => "declined by",
        Rule::matched_on => "matched on",
        Rule::open_for => "open for",
        _ => "only if",
    }
}

fn owes(pair: Pair<'_, Rule>) -> Result<Owes> {
    let mut kids = Children::of(pair);
    let payee = ident(&kids.required("a party")?);
    let amount = expr(kids.required("an amount")?)?;
    let mut o = Owes {
        payee,
        amount,
        per: None,
        growing_until: None,
        schedule: None,
        settled_by: Vec::new(),
    };
    while let Some(p) = kids.next() {
        match p.as_rule() {
            Rule::event_match => o.per = Some(event_match(p)?),
            Rule::growing => o.growing_until = Some(ident(&Children::of(p).required("an event name")?)),
            Rule::schedule => o.schedule = Some(schedule(p)?),
            _ => {
                let mut k = Children::of(p);
                let event = event_match(k.required("an event")?)?;
                let applying = k.next().map(expr).transpose()?;
                o.settled_by.push(SettledBy { event, applying });
            }
        }
    }
    Ok(o)
}

fn schedule(pair: Pair<'_, Rule>) -> Result<Schedule> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let first = timing(kids.required("when it is due")?)?;
    let alternative = match kids.next() {
        Some(alt) => {
            let mut k = Children::of(alt);
            let cond = expr(k.required("a condition")?)?;
            Some((cond, timing(k.required("when it is due")?)?))
        }
        None => None,
    };
    Ok(Schedule {
        timing: first,
        alternative,
        span,
    })
}

fn timing(pair: Pair<'_, Rule>) -> Result<Timing> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let grace = expr(kids.required("a duration")?)?;
    let anchor = match kids.next() {
        None => Anchor::Accrual,
        Some(a) => {
            let inner = Children::of(a).required("what it is counted from")?;
            match inner.as_rule() {
                Rule::each_period => Anchor::EachPeriod(period(inner)),
                Rule::its_period => Anchor::ItsPeriod(period(inner)),
                _ => Anchor::Event(ident(&inner)),
            }
        }
    };
    Ok(Timing { grace, anchor, span })
}

fn period(pair: Pair<'_, Rule>) -> Period {
    let rule = pair
        .into_inner()
        .find(|p| p.as_rule() == Rule::period)
        .and_then(|p| p.into_inner().next())
        .map(|p| p.as_rule());
    match rule {
        Some(Rule::kw_month) => Period::Month,
        Some(Rule::kw_year) => Period::Year,
        _ => Period::Quarter,
    }
}

// ---------------------------------------------------------------- expressions

fn pratt() -> PrattParser<Rule> {
    PrattParser::new()
        .op(Op::infix(Rule::op_or, Assoc::Left))
        .op(Op::infix(Rule::op_and, Assoc::Left))
        .op(Op::prefix(Rule::op_not))
        .op(Op::infix(Rule::op_is, Assoc::Left)
            | Op::infix(Rule::op_is_not, Assoc::Left)
            | Op::infix(Rule::op_eq, Assoc::Left)
            | Op::infix(Rule::op_ne, Assoc::Left)
            | Op::infix(Rule::op_lt, Assoc::Left)
            | Op::infix(Rule::op_le, Assoc::Left)
            | Op::infix(Rule::op_gt, Assoc::Left)
            | Op::infix(Rule::op_ge, Assoc::Left))
        .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
        .op(Op::infix(Rule::op_mul, Assoc::Left)
            | Op::infix(Rule::op_div, Assoc::Left)
            | Op::infix(Rule::op_of, Assoc::Left))
        .op(Op::prefix(Rule::op_neg))
}

pub fn expr(pair: Pair<'_, Rule>) -> Result<Expr> {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, || expr_inner(pair))
}

fn expr_inner(pair: Pair<'_, Rule>) -> Result<Expr> {
    // The tree is at most as deep as the operators in it, brackets and all:
    // bound them before building it.
    let mut operators = pair
        .clone()
        .into_inner()
        .flatten()
        .filter(|p| is_operator(p.as_rule()));
    if let Some(p) = operators.nth(super::limits::MAX_OPERATORS) {
        return Err(SyntaxError::ExpressionTooLong {
            span: span_of(&p).into(),
        });
    }
    thread_local! {
        static PRATT: PrattParser<Rule> = pratt();
    }
    PRATT.with(|p| {
        p.map_primary(operand)
            .map_prefix(|op, rhs| {
                let rhs = rhs?;
                let span = span_of(&op).join(rhs.span);
                let un = if op.as_rule() == Rule::op_not {
                    UnOp::Not
                } else {
                    UnOp::Neg
                };
                Ok(Expr {
                    kind: ExprKind::Unary(un, Box::new(rhs)),
                    span,
                })
            })
            .map_infix(|lhs, op, rhs| {
                let (lhs, rhs) = (lhs?, rhs?);
                let span = lhs.span.join(rhs.span);
                let bin = match op.as_rule() {
                    Rule::op_add => BinOp::Add,
                    Rule::op_sub => BinOp::Sub,
                    Rule::op_mul => BinOp::Mul,
                    Rule::op_div => BinOp::Div,
                    Rule::op_of => BinOp::Of,
                    Rule::op_lt => BinOp::Lt,
                    Rule::op_le => BinOp::Le,
                    Rule::op_gt => BinOp::Gt,
                    Rule::op_ge => BinOp::Ge,
                    Rule::op_eq | Rule::op_is => BinOp::Eq,
                    Rule::op_ne | Rule::op_is_not => BinOp::Ne,
                    Rule::op_and => BinOp::And,
                    _ => BinOp::Or,
                };
                Ok(Expr {
                    kind: ExprKind::Binary(bin, Box::new(lhs), Box::new(rhs)),
                    span,
                })
            })
            .parse(pair.into_inner())
    })
}

fn is_operator(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::op_add
            | Rule::op_sub
            | Rule::op_mul
            | Rule::op_div
            | Rule::op_of
            | Rule::op_le
            | Rule::op_ge
            | Rule::op_lt
            | Rule::op_gt
            | Rule::op_ne
            | Rule::op_eq
            | Rule::op_is_not
            | Rule::op_is
            | Rule::op_and
            | Rule::op_or
    )
}

fn operand(pair: Pair<'_, Rule>) -> Result<Expr> {
    let span = span_of(&pair);
    let kind = match pair.as_rule() {
        Rule::paren => {
            let inner = Children::of(pair).required("an expression")?;
            return expr(inner).map(|e| Expr { span, ..e });
        }
        Rule::quantity => return quantity(pair),
        Rule::date => ExprKind::Date(pair.as_str().to_string()),
        Rule::datetime => ExprKind::DateTime(pair.as_str().to_string()),
        Rule::string => ExprKind::Text(string(&pair)),
        Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
        Rule::path_or_call => return path_or_call(pair),
        Rule::if_expr => {
            let mut k = Children::of(pair);
            let c = expr(k.required("a condition")?)?;
            let a = expr(k.required("a value")?)?;
            let b = expr(k.required("a value")?)?;
            ExprKind::If(Box::new(c), Box::new(a), Box::new(b))
        }
        Rule::aggregate => return aggregate(pair),
        _ => return Err(shape_error(span, "a value")),
    };
    Ok(Expr { kind, span })
}

fn quantity(pair: Pair<'_, Rule>) -> Result<Expr> {
    let span = span_of(&pair);
    let mut kids = pair.into_inner();
    let num = kids.next().ok_or_else(|| shape_error(span, "a number"))?;
    let text = num.as_str().replace('_', "");
    let value = Decimal::from_str_exact(&text).map_err(|_| SyntaxError::BadNumber {
        text: num.as_str().to_string(),
        span: span_of(&num).into(),
    })?;
    let kind = match kids.next() {
        None => ExprKind::Number(value),
        Some(s) => match s.as_rule() {
            Rule::percent_sign => ExprKind::Percent(value),
            Rule::currency => ExprKind::Money(value, s.as_str().to_string()),
            _ => ExprKind::Duration(value, unit(s.as_str())),
        },
    };
    Ok(Expr { kind, span })
}

fn unit(text: &str) -> Unit {
    match text.trim_end_matches('s') {
        "second" => Unit::Seconds,
        "minute" => Unit::Minutes,
        "hour" => Unit::Hours,
        "week" => Unit::Weeks,
        "month" => Unit::Months,
        "year" => Unit::Years,
        _ => Unit::Days,
    }
}

fn aggregate(pair: Pair<'_, Rule>) -> Result<Expr> {
    let span = span_of(&pair);
    let sum = pair.as_str().starts_with("sum");
    let mut kids = Children::of(pair);
    let mut what = Children::of(kids.required("an event")?);
    let event = event_ref(what.required("an event")?);
    let field = what.next().map(|f| ident(&f));
    let mut condition = None;
    let mut since = None;
    let mut window = None;
    while let Some(p) = kids.next() {
        match p.as_rule() {
            Rule::expr => condition = Some(expr(p)?),
            Rule::since => since = Some(event_ref(Children::of(p).required("an event")?)),
            _ => window = Some(expr(Children::of(p).required("a duration")?)?),
        }
    }
    Ok(Expr {
        kind: ExprKind::Aggregate(Box::new(Aggregate {
            sum,
            event,
            field,
            condition,
            since,
            window,
        })),
        span,
    })
}

fn path_or_call(pair: Pair<'_, Rule>) -> Result<Expr> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let head = ident(&kids.required("a name")?);
    let kind = match kids.next() {
        None => ExprKind::Name(head),
        Some(p) if p.as_rule() == Rule::call_args => {
            let mut args = Vec::new();
            let mut k = Children::of(p);
            while let Some(a) = k.next() {
                args.push(expr(a)?);
            }
            ExprKind::Call(head, args)
        }
        Some(p) => ExprKind::Field(head, ident(&p)),
    };
    Ok(Expr { kind, span })
}

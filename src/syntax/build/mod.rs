//! From pest pairs to the AST: one function per grammar rule. This file
//! holds the sections of a contract; `norm` the norms and forms of a
//! clause; `expr` expressions.

mod expr;
mod norm;

use std::sync::OnceLock;

use pest::iterators::{Pair, Pairs};

use super::ast::*;
use super::error::SyntaxError;
use super::parser::Rule;

pub use expr::expr;
use norm::norm;

pub(super) type Result<T> = std::result::Result<T, SyntaxError>;

/// The pair's span without the whitespace pest lets a rule swallow at its end.
pub(super) fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    let trimmed = pair.as_str().trim_end().len();
    Span::new(s.start(), s.start() + trimmed)
}

/// The grammar guarantees the shape of every pair; if it ever disagrees with
/// this file, say so as a syntax error rather than crash.
pub(super) fn shape_error(at: Span, wanted: &str) -> SyntaxError {
    SyntaxError::Unexpected {
        expected: wanted.to_string(),
        found: "something the parser did not expect".to_string(),
        span: at.into(),
        help: "this is a defect in deal itself; please report it with the contract".to_string(),
    }
}

/// Iterates the children of a pair, skipping punctuation and keywords.
pub(super) struct Children<'i> {
    pub(super) inner: Pairs<'i, Rule>,
    span: Span,
}

impl<'i> Children<'i> {
    pub(super) fn of(pair: Pair<'i, Rule>) -> Self {
        let span = span_of(&pair);
        Children {
            inner: pair.into_inner(),
            span,
        }
    }

    pub(super) fn next(&mut self) -> Option<Pair<'i, Rule>> {
        self.inner.by_ref().find(|p| !is_noise(p.as_rule()))
    }

    /// The next child, or a shape error naming what was wanted.
    pub(super) fn required(&mut self, wanted: &str) -> Result<Pair<'i, Rule>> {
        self.next().ok_or_else(|| shape_error(self.span, wanted))
    }

    pub(super) fn peek_rule(&self) -> Option<Rule> {
        self.inner
            .clone()
            .find(|p| !is_noise(p.as_rule()))
            .map(|p| p.as_rule())
    }
}

pub(super) fn is_noise(rule: Rule) -> bool {
    // Keywords are every rule named `kw_…`: worked out once, not per pair.
    static KEYWORDS: OnceLock<Vec<bool>> = OnceLock::new();
    let keywords = KEYWORDS.get_or_init(|| {
        let mut table = vec![false; Rule::all_rules().len()];
        for r in Rule::all_rules() {
            if let Some(slot) = table.get_mut(*r as usize) {
                *slot = format!("{r:?}").starts_with("kw_");
            }
        }
        table
    });
    matches!(
        rule,
        Rule::equals | Rule::comma | Rule::colon | Rule::lparen | Rule::rparen | Rule::dot | Rule::EOI
    ) || keywords.get(rule as usize).copied().unwrap_or(false)
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

pub(super) fn header_title(pair: Pair<'_, Rule>) -> Result<(String, Span)> {
    let mut kids = Children::of(pair);
    let s = kids.required("a title in quotes")?;
    Ok((string(&s), span_of(&s)))
}

pub(super) fn string(pair: &Pair<'_, Rule>) -> String {
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
pub(super) fn event_ref(pair: Pair<'_, Rule>) -> Ident {
    if pair.as_rule() != Rule::event_ref {
        return ident(&pair);
    }
    let span = span_of(&pair);
    if let Some(t) = pair
        .clone()
        .into_inner()
        .find(|p| p.as_rule() == Rule::time_event)
    {
        return time_event(&t);
    }
    let words: Vec<&str> = pair.as_str().split_whitespace().collect();
    Ident {
        name: normalised(&words.join(" ")),
        span,
    }
}

/// A time event, named by its words in the one form the checker reads back
/// (`every 2 weeks from …` is `every 14 days from …`); comments written
/// inside it are not part of its name.
pub(super) fn time_event(pair: &Pair<'_, Rule>) -> Ident {
    let words: Vec<&str> = pair
        .clone()
        .into_inner()
        .flatten()
        .filter(|p| p.clone().into_inner().next().is_none() || p.as_rule() == Rule::quantity)
        .filter(|p| !matches!(p.as_rule(), Rule::number | Rule::unit))
        .map(|p| p.as_str())
        .collect();
    let words = words.join(" ");
    let written: Vec<&str> = words.split_whitespace().collect();
    let written = written.join(" ");
    let name = crate::time::TimeEvent::from_name(&written).map_or(written, |t| t.name());
    Ident {
        name,
        span: span_of(pair),
    }
}

/// `at the end of each quarter`, `every 3 months from 2025-01-15` or `on
/// 2025-06-30`: the occasion it names, as an event with no condition.
pub(super) fn time_trigger(pair: Pair<'_, Rule>) -> Result<EventMatch> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let p = kids.required("a time")?;
    let event = match p.as_rule() {
        Rule::time_event => time_event(&p),
        Rule::every_period => time_event(&p),
        _ => Ident {
            name: p.as_str().to_string(),
            span: span_of(&p),
        },
    };
    Ok(EventMatch {
        event,
        condition: None,
        span,
    })
}

pub(super) fn ident(pair: &Pair<'_, Rule>) -> Ident {
    Ident {
        name: normalised(pair.as_str()),
        span: span_of(pair),
    }
}

/// A name as the contract means it: in Unicode's composed form (NFC), so
/// that `Müller` typed with a combining mark and with `ü` is one name.
pub fn normalised(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    if name.is_ascii() {
        name.to_string()
    } else {
        name.nfc().collect()
    }
}

pub(super) fn parties(pair: Pair<'_, Rule>) -> Result<Vec<Ident>> {
    let mut out = Vec::new();
    let mut kids = Children::of(pair);
    while let Some(p) = kids.next() {
        out.push(ident(&p));
    }
    Ok(out)
}

pub(super) fn in_force(pair: Pair<'_, Rule>) -> Result<InForce> {
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

pub(super) fn boundary(pair: Pair<'_, Rule>) -> Result<Boundary> {
    let mut kids = Children::of(pair);
    let p = kids.required("a date or an event")?;
    match p.as_rule() {
        Rule::date => Ok(Boundary::Date {
            text: p.as_str().to_string(),
            span: span_of(&p),
        }),
        Rule::bound_expr => Ok(Boundary::Expr(expr(Children::of(p).required("a date")?)?)),
        _ => Ok(Boundary::Event(event_match(p)?)),
    }
}

pub(super) fn terms(pair: Pair<'_, Rule>) -> Result<Vec<TermDef>> {
    let mut out = Vec::new();
    let mut kids = Children::of(pair);
    while let Some(p) = kids.next() {
        out.push(term_def(p)?);
    }
    Ok(out)
}

pub(super) fn term_def(pair: Pair<'_, Rule>) -> Result<TermDef> {
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

pub(super) fn table(pair: Pair<'_, Rule>) -> Result<Table> {
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

pub(super) fn table_row(pair: Pair<'_, Rule>) -> Result<TableRow> {
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

pub(super) fn events(pair: Pair<'_, Rule>) -> Result<Vec<EventDecl>> {
    let mut out = Vec::new();
    let mut kids = Children::of(pair);
    while let Some(p) = kids.next() {
        out.push(event_decl(p)?);
    }
    Ok(out)
}

pub(super) fn event_decl(pair: Pair<'_, Rule>) -> Result<EventDecl> {
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

pub(super) fn field_decl(pair: Pair<'_, Rule>) -> Result<FieldDecl> {
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

pub(super) fn clause(pair: Pair<'_, Rule>) -> Result<Clause> {
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

pub(super) fn inner_event_match(pair: Pair<'_, Rule>) -> Result<EventMatch> {
    let mut kids = Children::of(pair);
    event_match(kids.required("an event")?)
}

pub(super) fn event_match(pair: Pair<'_, Rule>) -> Result<EventMatch> {
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

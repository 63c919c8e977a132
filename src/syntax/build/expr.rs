//! Expressions: operands, quantities, aggregates, names and calls, put
//! together by precedence.

use pest::pratt_parser::{Assoc, Op, PrattParser};
use rust_decimal::Decimal;

use super::*;

pub(super) fn pratt() -> PrattParser<Rule> {
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

pub(super) fn expr_inner(pair: Pair<'_, Rule>) -> Result<Expr> {
    // The tree is at most as deep as the operators in it, brackets and all:
    // bound them before building it.
    let mut operators = pair
        .clone()
        .into_inner()
        .flatten()
        .filter(|p| is_operator(p.as_rule()));
    if let Some(p) = operators.nth(crate::syntax::limits::MAX_OPERATORS) {
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

pub(super) fn is_operator(rule: Rule) -> bool {
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

pub(super) fn operand(pair: Pair<'_, Rule>) -> Result<Expr> {
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

pub(super) fn quantity(pair: Pair<'_, Rule>) -> Result<Expr> {
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

pub(super) fn unit(text: &str) -> Unit {
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

pub(super) fn aggregate(pair: Pair<'_, Rule>) -> Result<Expr> {
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
            span,
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

pub(super) fn path_or_call(pair: Pair<'_, Rule>) -> Result<Expr> {
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

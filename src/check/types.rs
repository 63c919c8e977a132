//! The types the checker tracks, how operators combine them, and the help
//! that says why two do not combine.

use rust_decimal::Decimal;

use super::error::*;
use super::Checker;
use crate::diag::words::article;
use crate::ops::BinOp;
use crate::syntax::ast::{Expr, Unit};
use crate::value::{Currency, Duration, Type};

/// A type as far as the checker knows it: money may carry a known currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sty {
    pub ty: Type,
    pub currency: Option<Currency>,
}

impl Sty {
    pub fn of(ty: Type) -> Sty {
        Sty { ty, currency: None }
    }

    pub fn describe(&self) -> String {
        match (self.ty, self.currency) {
            (Type::Money, Some(c)) => format!("money in {c}"),
            (ty, _) => article(ty),
        }
    }
}

impl Checker {
    pub(super) fn same_currency(&mut self, a: Sty, b: Sty, e: &Expr) -> Option<()> {
        if let (Some(x), Some(y)) = (a.currency, b.currency) {
            if x != y {
                self.push(CurrencyMismatch {
                    left: x.to_string(),
                    right: y.to_string(),
                    span: e.span.into(),
                });
                return None;
            }
        }
        Some(())
    }

    pub(super) fn binary_type(&mut self, op: BinOp, l: Sty, r: Sty, e: &Expr) -> Option<Sty> {
        use Type::*;
        let money = |c: Option<Currency>| Sty {
            ty: Money,
            currency: c,
        };
        let result = match op {
            BinOp::Add | BinOp::Sub => match (l.ty, r.ty) {
                (Money, Money) => {
                    self.same_currency(l, r, e)?;
                    Some(money(l.currency.or(r.currency)))
                }
                (Decimal, Decimal) | (Percent, Percent) | (Duration, Duration) => Some(l),
                (Date, Duration) => Some(Sty::of(Date)),
                (Duration, Date) if op == BinOp::Add => Some(Sty::of(Date)),
                (Date, Date) if op == BinOp::Sub => Some(Sty::of(Duration)),
                _ => None,
            },
            BinOp::Mul => match (l.ty, r.ty) {
                (Decimal, Decimal) => Some(l),
                (Decimal | Percent, Money) => Some(money(r.currency)),
                (Money, Decimal | Percent) => Some(money(l.currency)),
                (Percent, Decimal) | (Decimal, Percent) => Some(Sty::of(Decimal)),
                (Percent, Percent) => Some(l),
                (Decimal, Duration) | (Duration, Decimal) => Some(Sty::of(Duration)),
                _ => None,
            },
            BinOp::Of => match (l.ty, r.ty) {
                (Percent, Money) => Some(money(r.currency)),
                (Percent, Decimal) => Some(Sty::of(Decimal)),
                (Percent, Percent) => Some(r),
                _ => None,
            },
            BinOp::Div => match (l.ty, r.ty) {
                (Money, Decimal) => Some(l),
                (Money, Money) => {
                    self.same_currency(l, r, e)?;
                    Some(Sty::of(Decimal))
                }
                (Decimal, Decimal) => Some(l),
                (Percent, Decimal) => Some(l),
                (Percent, Percent) => Some(Sty::of(Decimal)),
                (Duration, Duration) => Some(Sty::of(Decimal)),
                _ => None,
            },
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let ordered = matches!(l.ty, Decimal | Money | Percent | Date | Duration);
                if ordered && l.ty == r.ty {
                    self.same_currency(l, r, e)?;
                    Some(Sty::of(Bool))
                } else {
                    None
                }
            }
            BinOp::Eq | BinOp::Ne => {
                let entity_like = |t: Type| matches!(t, Party | Entity | Text);
                if l.ty == r.ty || (entity_like(l.ty) && entity_like(r.ty)) {
                    self.same_currency(l, r, e)?;
                    Some(Sty::of(Bool))
                } else {
                    None
                }
            }
            BinOp::And | BinOp::Or => (l.ty == Bool && r.ty == Bool).then_some(Sty::of(Bool)),
        };
        if result.is_none() {
            self.push(BadOperands {
                op: op.symbol(),
                left: l.describe(),
                right: r.describe(),
                span: e.span.into(),
                help: operand_help(op, l.ty, r.ty),
            });
        }
        result
    }
}

pub(super) fn duration_literal(n: Decimal, unit: Unit) -> Option<Duration> {
    if !n.fract().is_zero() {
        return None;
    }
    let whole = i64::try_from(n.trunc().mantissa() / 10i128.pow(n.scale())).ok()?;
    let name = match unit {
        Unit::Seconds => "second",
        Unit::Minutes => "minute",
        Unit::Hours => "hour",
        Unit::Days => "day",
        Unit::Weeks => "week",
        Unit::Months => "month",
        Unit::Years => "year",
    };
    Duration::of(whole, name)
}

pub(super) fn type_help(want: Type) -> String {
    match want {
        Type::Money => {
            "amounts are written with a currency, e.g. `100 USD`, or come from a money field".to_string()
        }
        Type::Percent => "percentages are written with `%`, e.g. `25%`".to_string(),
        Type::Duration => {
            "durations are written with a unit, e.g. `30 days`, `2 weeks`, `36 hours`".to_string()
        }
        Type::Date => "dates are written year-month-day, e.g. `2025-01-21`".to_string(),
        Type::Bool => {
            "a condition compares values, e.g. `provider is not Microsoft` or `price >= offer.price`"
                .to_string()
        }
        other => format!("a value of type {other} is needed here"),
    }
}

fn operand_help(op: BinOp, l: Type, r: Type) -> String {
    use Type::*;
    match (op, l, r) {
        (BinOp::Add | BinOp::Sub, Money, Percent) | (BinOp::Add | BinOp::Sub, Percent, Money) => {
            "a percentage is a share of something: write `25% of amount`, then add amounts to amounts"
                .to_string()
        }
        (BinOp::Add | BinOp::Sub, Money, Decimal) | (BinOp::Add | BinOp::Sub, Decimal, Money) => {
            "give the number a currency, e.g. `100 USD`".to_string()
        }
        (BinOp::Add | BinOp::Sub, Date, Decimal) => {
            "add a duration with its unit, e.g. `2025-01-21 + 30 days`".to_string()
        }
        (BinOp::Mul, Money, Money) => {
            "multiply an amount by a number or a percentage, not by another amount".to_string()
        }
        (BinOp::Of, _, _) => {
            "`of` takes a percentage of an amount or a number, e.g. `25% of amount`".to_string()
        }
        (BinOp::And | BinOp::Or, _, _) => {
            "`and` and `or` join conditions, e.g. `price > 0 USD and provider is not Microsoft`".to_string()
        }
        (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge, _, _) => {
            "compare values of one kind: amounts with amounts, dates with dates".to_string()
        }
        (BinOp::Eq | BinOp::Ne, _, _) => {
            "compare values of one kind, e.g. `provider is not Microsoft`".to_string()
        }
        _ => "amounts combine with amounts of the same currency; numbers and percentages scale them"
            .to_string(),
    }
}

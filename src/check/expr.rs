//! Resolving and typing expressions.

use rust_decimal::Decimal;

use super::error::CheckError;
use super::{suggest, Checker};
use crate::model::{CExpr, EventId, Func};
use crate::syntax::ast::{BinOp, Expr, ExprKind, UnOp, Unit};
use crate::time::Moment;
use crate::value::{Currency, Duration, Money, Type, Value};

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

    fn describe(&self) -> String {
        match (self.ty, self.currency) {
            (Type::Money, Some(c)) => format!("money in {c}"),
            (ty, _) => article(ty),
        }
    }
}

pub fn article(ty: Type) -> String {
    match ty {
        Type::Money => "money",
        Type::Entity => "an entity",
        Type::Party => "a party",
        Type::Decimal => "a number",
        Type::Percent => "a percentage",
        Type::Date => "a date",
        Type::Duration => "a duration",
        Type::Text => "text",
        Type::Bool => "a yes/no value",
    }
    .to_string()
}

/// What names an expression can see.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// The event being matched: its fields are in scope by their bare names.
    pub event: Option<EventId>,
    /// The event that created the norm instance, reached as `name.field`
    /// under any of `binders`.
    pub bound: Option<(EventId, Vec<String>)>,
    /// Only literals and terms: for the values of terms.
    pub constant: bool,
}

impl Checker {
    /// Checks an expression and requires it to be of type `want`.
    pub(super) fn expr_of(&mut self, e: &Expr, scope: &Scope, want: Type) -> Option<CExpr> {
        let (c, sty) = self.expr(e, scope)?;
        if sty.ty.fits(want) || (want == Type::Entity && sty.ty == Type::Text) {
            Some(c)
        } else {
            self.push(CheckError::TypeMismatch {
                expected: article(want),
                found: sty.describe(),
                span: e.span.into(),
                help: type_help(want),
            });
            None
        }
    }

    pub(super) fn expr(&mut self, e: &Expr, scope: &Scope) -> Option<(CExpr, Sty)> {
        match &e.kind {
            ExprKind::Number(n) => Some((CExpr::Const(Value::Decimal(*n)), Sty::of(Type::Decimal))),
            ExprKind::Percent(p) => Some((CExpr::Const(Value::Percent(*p)), Sty::of(Type::Percent))),
            ExprKind::Money(amount, code) => {
                let Some(currency) = Currency::parse(code) else {
                    self.push(CheckError::BadLiteral {
                        text: code.clone(),
                        what: "currency",
                        span: e.span.into(),
                        help: "currencies are three capital letters, e.g. `USD`".to_string(),
                    });
                    return None;
                };
                Some((
                    CExpr::Const(Value::Money(Money::new(*amount, currency))),
                    Sty {
                        ty: Type::Money,
                        currency: Some(currency),
                    },
                ))
            }
            ExprKind::Duration(n, unit) => {
                let d = duration_literal(*n, *unit);
                match d {
                    Some(d) => Some((CExpr::Const(Value::Duration(d)), Sty::of(Type::Duration))),
                    None => {
                        self.push(CheckError::BadLiteral {
                            text: format!("{n}"),
                            what: "duration",
                            span: e.span.into(),
                            help: "durations are whole numbers of a unit, e.g. `36 hours` rather than `1.5 days`"
                                .to_string(),
                        });
                        None
                    }
                }
            }
            ExprKind::Date(text) | ExprKind::DateTime(text) => match Moment::parse(text) {
                Some(m) => Some((CExpr::Const(Value::Date(m)), Sty::of(Type::Date))),
                None => {
                    self.push(CheckError::BadLiteral {
                        text: text.clone(),
                        what: "date",
                        span: e.span.into(),
                        help: "dates are real calendar days written year-month-day, e.g. `2025-02-28`"
                            .to_string(),
                    });
                    None
                }
            },
            ExprKind::Text(s) => Some((CExpr::Const(Value::Text(s.as_str().into())), Sty::of(Type::Text))),
            ExprKind::Bool(b) => Some((CExpr::Const(Value::Bool(*b)), Sty::of(Type::Bool))),
            ExprKind::Name(id) => self.name(&id.name, e, scope),
            ExprKind::Field(head, field) => self.dotted(&head.name, &field.name, e, scope),
            ExprKind::Call(f, args) => self.call(&f.name, args, e, scope),
            ExprKind::Unary(op, inner) => {
                let (c, sty) = self.expr(inner, scope)?;
                let ok = match op {
                    UnOp::Not => sty.ty == Type::Bool,
                    UnOp::Neg => matches!(
                        sty.ty,
                        Type::Decimal | Type::Money | Type::Percent | Type::Duration
                    ),
                };
                if !ok {
                    let expected = if *op == UnOp::Not {
                        "a yes/no value"
                    } else {
                        "a number, an amount, a percentage or a duration"
                    };
                    self.push(CheckError::TypeMismatch {
                        expected: expected.to_string(),
                        found: sty.describe(),
                        span: inner.span.into(),
                        help: if *op == UnOp::Not {
                            "`not` applies to a condition, e.g. `not continues`".to_string()
                        } else {
                            "`-` negates numbers and amounts".to_string()
                        },
                    });
                    return None;
                }
                Some((CExpr::Unary(*op, Box::new(c)), sty))
            }
            ExprKind::Binary(op, l, r) => {
                let left = self.expr(l, scope);
                let right = self.expr(r, scope);
                let ((lc, ls), (rc, rs)) = (left?, right?);
                let ty = self.binary_type(*op, ls, rs, e)?;
                Some((CExpr::Binary(*op, Box::new(lc), Box::new(rc)), ty))
            }
        }
    }

    fn name(&mut self, name: &str, e: &Expr, scope: &Scope) -> Option<(CExpr, Sty)> {
        if !scope.constant {
            if let Some(ev) = scope.event {
                if let Some(fid) = self.events[ev].field(name) {
                    let ty = self.events[ev].fields[fid].ty;
                    return Some((CExpr::Field(fid), Sty::of(ty)));
                }
            }
        }
        if let Some(tid) = self.terms.iter().position(|t| t.name == name) {
            self.used_terms.insert(tid);
            let slot = &self.terms[tid];
            let currency = match &slot.value {
                Some(Value::Money(m)) => Some(m.currency),
                _ => None,
            };
            return Some((
                CExpr::Term(tid),
                Sty {
                    ty: slot.ty,
                    currency,
                },
            ));
        }
        if self.parties.iter().any(|(p, _)| p == name) {
            return Some((CExpr::Const(Value::Entity(name.into())), Sty::of(Type::Party)));
        }
        if scope.constant && self.events.iter().any(|ev| ev.field(name).is_some()) {
            self.push(CheckError::NotConstant {
                name: name.to_string(),
                span: e.span.into(),
            });
            return None;
        }
        let mut candidates: Vec<String> = self.terms.iter().map(|t| t.name.clone()).collect();
        candidates.extend(self.parties.iter().map(|(p, _)| p.clone()));
        if let Some(ev) = scope.event {
            candidates.extend(self.events[ev].fields.iter().map(|f| f.name.clone()));
        }
        let mut help = suggest(name, candidates.iter().map(String::as_str));
        if help.is_empty() {
            help = match scope.event {
                Some(ev) => format!(
                    "here a name can be a field of `{}`, a term or a party",
                    self.events[ev].name
                ),
                None => "here a name can be a term or a party".to_string(),
            };
        }
        self.push(CheckError::Unknown {
            what: "name",
            name: name.to_string(),
            span: e.span.into(),
            help,
        });
        None
    }

    fn dotted(&mut self, head: &str, field: &str, e: &Expr, scope: &Scope) -> Option<(CExpr, Sty)> {
        let target = match (&scope.bound, scope.event) {
            (Some((ev, binders)), _) if binders.iter().any(|b| b == head) => Some((*ev, true)),
            (_, Some(ev)) if self.events[ev].name == head => Some((ev, false)),
            _ => None,
        };
        let Some((ev, bound)) = target else {
            let mut names: Vec<String> = Vec::new();
            if let Some((_, binders)) = &scope.bound {
                names.extend(binders.iter().cloned());
            }
            if let Some(ev) = scope.event {
                names.push(self.events[ev].name.clone());
            }
            let help = if names.is_empty() {
                "no event is in scope here, so `name.field` cannot be used".to_string()
            } else {
                let s = suggest(head, names.iter().map(String::as_str));
                if s.is_empty() {
                    format!("here `name.field` can name: {}", names.join(", "))
                } else {
                    s
                }
            };
            self.push(CheckError::Unknown {
                what: "event",
                name: head.to_string(),
                span: e.span.into(),
                help,
            });
            return None;
        };
        let Some(fid) = self.events[ev].field(field) else {
            let help = self.field_help(ev, field);
            self.push(CheckError::Unknown {
                what: "field",
                name: format!("{head}.{field}"),
                span: e.span.into(),
                help,
            });
            return None;
        };
        let ty = self.events[ev].fields[fid].ty;
        let c = if bound {
            CExpr::Bound(fid)
        } else {
            CExpr::Field(fid)
        };
        Some((c, Sty::of(ty)))
    }

    fn call(&mut self, name: &str, args: &[Expr], e: &Expr, scope: &Scope) -> Option<(CExpr, Sty)> {
        let Some(func) = Func::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f) else {
            let help = suggest(name, Func::ALL.iter().map(|(n, _)| *n));
            self.push(CheckError::Unknown {
                what: "function",
                name: name.to_string(),
                span: e.span.into(),
                help: if help.is_empty() {
                    "the functions are `min(a, b, …)` and `max(a, b, …)`".to_string()
                } else {
                    help
                },
            });
            return None;
        };
        if args.len() < 2 {
            self.push(CheckError::BadCall {
                name: name.to_string(),
                expected: "two or more values".to_string(),
                span: e.span.into(),
                help: format!("e.g. `{name}(penalty, 55% of goods_value)`"),
            });
            return None;
        }
        let mut out = Vec::new();
        let mut first: Option<Sty> = None;
        for a in args {
            let (c, sty) = self.expr(a, scope)?;
            match first {
                None => first = Some(sty),
                Some(f) => {
                    if f.ty != sty.ty {
                        self.push(CheckError::TypeMismatch {
                            expected: f.describe(),
                            found: sty.describe(),
                            span: a.span.into(),
                            help: format!("all values given to `{name}` must be of one type"),
                        });
                        return None;
                    }
                    self.same_currency(f, sty, e)?;
                }
            }
            out.push(c);
        }
        let sty = first?;
        if !matches!(
            sty.ty,
            Type::Decimal | Type::Money | Type::Percent | Type::Date | Type::Duration
        ) {
            self.push(CheckError::BadCall {
                name: name.to_string(),
                expected: "numbers, amounts, percentages, dates or durations".to_string(),
                span: e.span.into(),
                help: format!("{} values cannot be ordered", sty.ty),
            });
            return None;
        }
        Some((CExpr::Call(func, out), sty))
    }

    fn same_currency(&mut self, a: Sty, b: Sty, e: &Expr) -> Option<()> {
        if let (Some(x), Some(y)) = (a.currency, b.currency) {
            if x != y {
                self.push(CheckError::CurrencyMismatch {
                    left: x.to_string(),
                    right: y.to_string(),
                    span: e.span.into(),
                });
                return None;
            }
        }
        Some(())
    }

    fn binary_type(&mut self, op: BinOp, l: Sty, r: Sty, e: &Expr) -> Option<Sty> {
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
            self.push(CheckError::BadOperands {
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

fn duration_literal(n: Decimal, unit: Unit) -> Option<Duration> {
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

fn type_help(want: Type) -> String {
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

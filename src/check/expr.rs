//! Resolving and typing expressions.

use rust_decimal::Decimal;

use super::error::CheckError;
use super::Checker;
use crate::diag::words::{article, suggest};
use crate::model::interpret::{eval, Ctx};
use crate::model::{CExpr, EventId, Func, RoundMode, TermId, Tracker};
use crate::syntax::ast::{Aggregate, BinOp, Expr, ExprKind, UnOp, Unit};
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

    pub fn describe(&self) -> String {
        match (self.ty, self.currency) {
            (Type::Money, Some(c)) => format!("money in {c}"),
            (ty, _) => article(ty),
        }
    }
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
    /// In an amount that is `growing until` an event: `elapsed` is known.
    pub growing: bool,
    /// In an amount owed: `outstanding` is known.
    pub owes: bool,
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
        // Expression trees are bounded (see `syntax::limits`), but a bounded
        // tree can still outgrow a small thread stack in a debug build.
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.expr_inner(e, scope))
    }

    fn expr_inner(&mut self, e: &Expr, scope: &Scope) -> Option<(CExpr, Sty)> {
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
            ExprKind::If(c, a, b) => {
                let cond = self.expr_of(c, scope, Type::Bool);
                let then = self.expr(a, scope);
                let other = self.expr(b, scope);
                let (cond, (ac, at), (bc, bt)) = (cond?, then?, other?);
                let fits = at.ty == bt.ty || (at.ty.fits(bt.ty) || bt.ty.fits(at.ty));
                if !fits {
                    self.push(CheckError::TypeMismatch {
                        expected: at.describe(),
                        found: bt.describe(),
                        span: b.span.into(),
                        help: "both branches of `if … then … else …` must give the same kind of value"
                            .to_string(),
                    });
                    return None;
                }
                self.same_currency(at, bt, e)?;
                let ty = Sty {
                    ty: at.ty,
                    currency: at.currency.or(bt.currency),
                };
                Some((CExpr::If(Box::new(cond), Box::new(ac), Box::new(bc)), ty))
            }
            ExprKind::Aggregate(agg) => self.aggregate(agg, e, scope),
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
        if !scope.constant {
            match name {
                "now" => return Some((CExpr::Now, Sty::of(Type::Date))),
                "at" if scope.event.is_some() => return Some((CExpr::At, Sty::of(Type::Date))),
                "elapsed" if scope.growing => return Some((CExpr::Elapsed, Sty::of(Type::Duration))),
                "outstanding" if scope.owes => return Some((CExpr::Outstanding, Sty::of(Type::Money))),
                "elapsed" | "outstanding" => {
                    let help = if name == "elapsed" {
                        "`elapsed` is the time run by an amount that is `growing until` an event"
                    } else {
                        "`outstanding` is known in what a party owes: `… owes … for each …`"
                    };
                    self.push(CheckError::Unknown {
                        what: "name",
                        name: name.to_string(),
                        span: e.span.into(),
                        help: help.to_string(),
                    });
                    return None;
                }
                _ => {}
            }
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
        enum Target {
            Bound(EventId),
            Current(EventId),
            Latest(EventId),
        }
        let target = match (&scope.bound, scope.event) {
            (Some((ev, binders)), _) if binders.iter().any(|b| b == head) => Some(Target::Bound(*ev)),
            (_, Some(ev)) if self.events[ev].name == head => Some(Target::Current(ev)),
            _ if !scope.constant => self.events.iter().position(|ev| ev.name == head).map(|ev| {
                self.used_events.insert(ev);
                Target::Latest(ev)
            }),
            _ => None,
        };
        let Some(target) = target else {
            let mut names: Vec<String> = Vec::new();
            if let Some((_, binders)) = &scope.bound {
                names.extend(binders.iter().cloned());
            }
            names.extend(self.events.iter().map(|ev| ev.name.clone()));
            let help = if scope.constant {
                "a term's value cannot read events".to_string()
            } else {
                let s = suggest(head, names.iter().map(String::as_str));
                if s.is_empty() {
                    "`name.field` reads a field of an event: the one being matched, the one that created the norm, or the latest of its kind".to_string()
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
        let ev = match target {
            Target::Bound(ev) | Target::Current(ev) | Target::Latest(ev) => ev,
        };
        if field == "at" {
            let c = match target {
                Target::Bound(_) => CExpr::BoundAt,
                Target::Current(_) => CExpr::At,
                Target::Latest(ev) => CExpr::Latest(ev, None),
            };
            return Some((c, Sty::of(Type::Date)));
        }
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
        let c = match target {
            Target::Bound(_) => CExpr::Bound(fid),
            Target::Current(_) => CExpr::Field(fid),
            Target::Latest(ev) => CExpr::Latest(ev, Some(fid)),
        };
        Some((c, Sty::of(ty)))
    }

    fn aggregate(&mut self, agg: &Aggregate, e: &Expr, scope: &Scope) -> Option<(CExpr, Sty)> {
        if scope.constant {
            self.push(CheckError::NotConstant {
                name: agg.event.name.clone(),
                span: e.span.into(),
            });
            return None;
        }
        let ev = self.event(&agg.event)?;
        let field = match &agg.field {
            Some(f) => Some(self.field(ev, f)?),
            None => None,
        };
        if agg.sum && field.is_none() {
            self.push(CheckError::MissingPart {
                what: "`sum` needs a field to add up".to_string(),
                span: e.span.into(),
                help: format!("e.g. `sum({}.amount since …)`", agg.event.name),
            });
            return None;
        }
        let ty = match field {
            Some(f) => self.events[ev].fields[f].ty,
            None => Type::Decimal,
        };
        if agg.sum && !matches!(ty, Type::Money | Type::Decimal | Type::Percent) {
            self.push(CheckError::TypeMismatch {
                expected: "money, a number or a percentage".to_string(),
                found: article(ty),
                span: e.span.into(),
                help: "`sum` adds up amounts or numbers".to_string(),
            });
            return None;
        }
        let inner = Scope {
            event: Some(ev),
            ..Scope::default()
        };
        let condition = match &agg.condition {
            Some(c) => Some(self.expr_of(c, &inner, Type::Bool)?),
            None => None,
        };
        let since = match &agg.since {
            Some(s) => Some(self.event(s)?),
            None => None,
        };
        let window = match &agg.window {
            None => None,
            Some(w) => {
                let c = self.expr_of(
                    w,
                    &Scope {
                        constant: true,
                        ..Scope::default()
                    },
                    Type::Duration,
                )?;
                match eval(&c, &Ctx::constant(&self.terms)) {
                    Ok(Some(Value::Duration(d))) => Some(d),
                    _ => None,
                }
            }
        };
        self.trackers.push(Tracker {
            event: ev,
            condition,
            since,
            field: if agg.sum { field } else { None },
            window,
        });
        Some((CExpr::Tracker(self.trackers.len() - 1), Sty::of(ty)))
    }

    fn call(&mut self, name: &str, args: &[Expr], e: &Expr, scope: &Scope) -> Option<(CExpr, Sty)> {
        if let Some(tid) = self
            .terms
            .iter()
            .position(|t| t.name == name && t.table.is_some())
        {
            self.used_terms.insert(tid);
            return self.table_call(tid, args, e, scope);
        }
        if name == "round" {
            return self.round(args, e, scope);
        }
        if let Some(func @ (Func::Floor | Func::Days | Func::Currency)) =
            Func::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
        {
            let [arg] = args else {
                self.push(CheckError::BadCall {
                    name: name.to_string(),
                    expected: "one value".to_string(),
                    span: e.span.into(),
                    help: format!("e.g. `{name}(x)`"),
                });
                return None;
            };
            let (c, sty) = self.expr(arg, scope)?;
            let (ok, out) = match func {
                Func::Floor => (matches!(sty.ty, Type::Decimal | Type::Money | Type::Percent), sty),
                Func::Days => (sty.ty == Type::Duration, Sty::of(Type::Decimal)),
                _ => (sty.ty == Type::Money, Sty::of(Type::Text)),
            };
            if !ok {
                let want = match func {
                    Func::Floor => "a number, an amount or a percentage",
                    Func::Days => "a duration",
                    _ => "money",
                };
                self.push(CheckError::TypeMismatch {
                    expected: want.to_string(),
                    found: sty.describe(),
                    span: arg.span.into(),
                    help: format!("`{name}` takes {want}"),
                });
                return None;
            }
            return Some((CExpr::Call(func, vec![c]), out));
        }
        if name == "default" {
            let [value, fallback] = args else {
                self.push(CheckError::BadCall {
                    name: name.to_string(),
                    expected: "a value and what to use where it is undetermined".to_string(),
                    span: e.span.into(),
                    help: "e.g. `default(sum(purchase.amount since quarter_closed), 0 EUR)`".to_string(),
                });
                return None;
            };
            let (vc, vt) = self.expr(value, scope)?;
            let (fc, ft) = self.expr(fallback, scope)?;
            if vt.ty != ft.ty {
                self.push(CheckError::TypeMismatch {
                    expected: vt.describe(),
                    found: ft.describe(),
                    span: fallback.span.into(),
                    help: "the fallback must be of the same kind as the value".to_string(),
                });
                return None;
            }
            self.same_currency(vt, ft, e)?;
            let ty = Sty {
                ty: vt.ty,
                currency: vt.currency.or(ft.currency),
            };
            return Some((CExpr::Call(Func::Default, vec![vc, fc]), ty));
        }
        let Some(func) = Func::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f) else {
            let help = suggest(name, Func::ALL.iter().map(|(n, _)| *n));
            self.push(CheckError::Unknown {
                what: "function",
                name: name.to_string(),
                span: e.span.into(),
                help: if help.is_empty() {
                    "the functions are `min`, `max`, `round`, `floor`, `days` and `currency`, and the tables declared under `terms`".to_string()
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

    fn round(&mut self, args: &[Expr], e: &Expr, scope: &Scope) -> Option<(CExpr, Sty)> {
        let modes: Vec<&str> = RoundMode::ALL.iter().map(|(n, _)| *n).collect();
        let bad = |c: &mut Self, help: String| {
            c.push(CheckError::BadCall {
                name: "round".to_string(),
                expected: "a value, a step and a mode".to_string(),
                span: e.span.into(),
                help,
            });
        };
        let [value, step, mode] = args else {
            bad(
                self,
                format!(
                    "e.g. `round(credit, 0.01, half_up)`; the modes are {}",
                    modes.join(", ")
                ),
            );
            return None;
        };
        let (vc, vt) = self.expr(value, scope)?;
        if !matches!(vt.ty, Type::Decimal | Type::Money | Type::Percent) {
            self.push(CheckError::TypeMismatch {
                expected: "a number, an amount or a percentage".to_string(),
                found: vt.describe(),
                span: value.span.into(),
                help: "`round` rounds numbers and amounts".to_string(),
            });
            return None;
        }
        let sc = self.expr_of(step, &Scope::default(), Type::Decimal)?;
        let mode_name = match &mode.kind {
            ExprKind::Name(id) => id.name.as_str(),
            _ => "",
        };
        let Some(m) = RoundMode::ALL
            .iter()
            .find(|(n, _)| *n == mode_name)
            .map(|(_, m)| *m)
        else {
            let s = suggest(mode_name, modes.iter().copied());
            self.push(CheckError::Unknown {
                what: "rounding mode",
                name: mode_name.to_string(),
                span: mode.span.into(),
                help: if s.is_empty() {
                    format!("the modes are {}", modes.join(", "))
                } else {
                    s
                },
            });
            return None;
        };
        Some((CExpr::Round(Box::new(vc), Box::new(sc), m), vt))
    }

    fn table_call(&mut self, tid: TermId, args: &[Expr], e: &Expr, scope: &Scope) -> Option<(CExpr, Sty)> {
        let name = self.terms[tid].name.clone();
        let [arg] = args else {
            self.push(CheckError::BadCall {
                name,
                expected: "one value to look up".to_string(),
                span: e.span.into(),
                help: "a table is applied to one value, e.g. `discount_rate(volume)`".to_string(),
            });
            return None;
        };
        let (c, sty) = self.expr(arg, scope)?;
        let (key, value, tiered) = self.table_types.get(&tid).copied()?;
        if let Some(key) = key {
            if key.ty != sty.ty {
                self.push(CheckError::TypeMismatch {
                    expected: key.describe(),
                    found: sty.describe(),
                    span: arg.span.into(),
                    help: format!("the rows of `{name}` are bounded by {}", key.describe()),
                });
                return None;
            }
            self.same_currency(key, sty, e)?;
        }
        let out = if tiered {
            self.binary_type(BinOp::Mul, value, sty, e)?
        } else {
            value
        };
        Some((CExpr::Table(tid, Box::new(c)), out))
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

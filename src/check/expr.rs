//! Resolving and typing expressions: literals, names, fields of events,
//! `if`, counts and sums, operators. Calls are in `calls`.

use super::error::*;
use super::types::{duration_literal, type_help, Sty};
use super::Checker;
use crate::diag::words::article;
use crate::model::interpret::{eval, Ctx};
use crate::model::over_terms_only;
use crate::model::{CExpr, EventId, ExprNode, FieldId, Guard, KeyOf, Tracker};
use crate::ops::BinOp;
use crate::syntax::ast::{Aggregate, Expr, ExprKind, UnOp};
use crate::time::Moment;
use crate::value::{Currency, Money, Type, Value};

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
    /// `with the same K`: the key's name and where it is read. `D.field`
    /// of another event D with a field K reads the latest D of that key.
    pub key: Option<(String, KeyOf)>,
}

impl Checker {
    /// Checks an expression and requires it to be of type `want`.
    pub(super) fn expr_of(&mut self, e: &Expr, scope: &Scope, want: Type) -> Option<CExpr> {
        let (c, sty) = self.expr(e, scope)?;
        if sty.ty.fits(want) || (want == Type::Entity && sty.ty == Type::Text) {
            Some(c)
        } else {
            self.push(TypeMismatch {
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
            ExprKind::Name(id) => self.name(&id.name, e, scope),
            ExprKind::Field(head, field) => self.dotted(&head.name, &field.name, e, scope),
            ExprKind::Call(f, args) => self.call(&f.name, args, e, scope),
            ExprKind::If(c, a, b) => self.conditional(c, a, b, e, scope),
            ExprKind::Aggregate(agg) => self.aggregate(agg, e, scope),
            ExprKind::Unary(op, inner) => self.unary(*op, inner, e, scope),
            ExprKind::Binary(op, l, r) => {
                let left = self.expr(l, scope);
                let right = self.expr(r, scope);
                let ((lc, ls), (rc, rs)) = (left?, right?);
                let ty = self.binary_type(*op, ls, rs, e)?;
                if *op == BinOp::Div && over_terms_only(&rc) {
                    self.guards.push(Guard::Divisor(rc.clone()));
                }
                Some((ExprNode::Binary(*op, Box::new(lc), Box::new(rc)).at(e.span), ty))
            }
            _ => self.literal(e),
        }
    }

    /// A value written out: a number, an amount, a duration, a date, text.
    fn literal(&mut self, e: &Expr) -> Option<(CExpr, Sty)> {
        let constant = |v: Value, ty: Type| Some((ExprNode::Const(v).at(e.span), Sty::of(ty)));
        match &e.kind {
            ExprKind::Number(n) => constant(Value::Decimal(*n), Type::Decimal),
            ExprKind::Percent(p) => constant(Value::Percent(*p), Type::Percent),
            ExprKind::Text(s) => constant(Value::Text(s.as_str().into()), Type::Text),
            ExprKind::Bool(b) => constant(Value::Bool(*b), Type::Bool),
            ExprKind::Money(amount, code) => {
                let Some(currency) = Currency::parse(code) else {
                    self.push(BadLiteral {
                        text: code.clone(),
                        what: "currency",
                        span: e.span.into(),
                        help: "currencies are three capital letters, e.g. `USD`".to_string(),
                    });
                    return None;
                };
                if !currency.is_iso() {
                    let help = match self.suggest(code, Currency::iso_codes()) {
                        h if h.is_empty() => {
                            "amounts are in ISO 4217 currencies, e.g. `USD`, `EUR`".to_string()
                        }
                        h => h,
                    };
                    self.push(UnknownCurrency {
                        code: code.clone(),
                        span: e.span.into(),
                        help,
                    });
                    return None;
                }
                Some((
                    ExprNode::Const(Value::Money(Money::new(*amount, currency))).at(e.span),
                    Sty {
                        ty: Type::Money,
                        currency: Some(currency),
                    },
                ))
            }
            ExprKind::Duration(n, unit) => {
                let d = duration_literal(*n, *unit);
                match d {
                    Some(d) => Some((
                        ExprNode::Const(Value::Duration(d)).at(e.span),
                        Sty::of(Type::Duration),
                    )),
                    None => {
                        self.push(BadLiteral {
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
                Some(m) => Some((ExprNode::Const(Value::Date(m)).at(e.span), Sty::of(Type::Date))),
                None => {
                    self.push(BadLiteral {
                        text: text.clone(),
                        what: "date",
                        span: e.span.into(),
                        help: "dates are real calendar days written year-month-day, e.g. `2025-02-28`"
                            .to_string(),
                    });
                    None
                }
            },
            _ => None,
        }
    }

    /// `if C then A else B`: both branches of one kind.
    fn conditional(&mut self, c: &Expr, a: &Expr, b: &Expr, e: &Expr, scope: &Scope) -> Option<(CExpr, Sty)> {
        let cond = self.expr_of(c, scope, Type::Bool);
        let then = self.expr(a, scope);
        let other = self.expr(b, scope);
        let (cond, (ac, at), (bc, bt)) = (cond?, then?, other?);
        let fits = at.ty == bt.ty || (at.ty.fits(bt.ty) || bt.ty.fits(at.ty));
        if !fits {
            self.push(TypeMismatch {
                expected: at.describe(),
                found: bt.describe(),
                span: b.span.into(),
                help: "both branches of `if … then … else …` must give the same kind of value".to_string(),
            });
            return None;
        }
        self.same_currency(at, bt, e)?;
        let ty = Sty {
            ty: at.ty,
            currency: at.currency.or(bt.currency),
        };
        Some((
            ExprNode::If(Box::new(cond), Box::new(ac), Box::new(bc)).at(e.span),
            ty,
        ))
    }

    /// `not C` and `-x`.
    fn unary(&mut self, op: UnOp, inner: &Expr, e: &Expr, scope: &Scope) -> Option<(CExpr, Sty)> {
        let (c, sty) = self.expr(inner, scope)?;
        let ok = match op {
            UnOp::Not => sty.ty == Type::Bool,
            UnOp::Neg => matches!(
                sty.ty,
                Type::Decimal | Type::Money | Type::Percent | Type::Duration
            ),
        };
        if !ok {
            let expected = if op == UnOp::Not {
                "a yes/no value"
            } else {
                "a number, an amount, a percentage or a duration"
            };
            self.push(TypeMismatch {
                expected: expected.to_string(),
                found: sty.describe(),
                span: inner.span.into(),
                help: if op == UnOp::Not {
                    "`not` applies to a condition, e.g. `not continues`".to_string()
                } else {
                    "`-` negates numbers and amounts".to_string()
                },
            });
            return None;
        }
        Some((ExprNode::Unary(op, Box::new(c)).at(e.span), sty))
    }

    fn name(&mut self, name: &str, e: &Expr, scope: &Scope) -> Option<(CExpr, Sty)> {
        if !scope.constant {
            if let Some((fid, ty)) = scope.event.and_then(|ev| self.field_of(ev, name)) {
                return Some((ExprNode::Field(fid).at(e.span), Sty::of(ty)));
            }
        }
        if let Some((tid, slot)) = self
            .names
            .terms
            .get(name)
            .and_then(|t| self.terms.get(*t).map(|s| (*t, s)))
        {
            let currency = match &slot.value {
                Some(Value::Money(m)) => Some(m.currency),
                _ => None,
            };
            let ty = Sty {
                ty: slot.ty,
                currency,
            };
            self.used_terms.insert(tid);
            return Some((ExprNode::Term(tid).at(e.span), ty));
        }
        if self.names.parties.contains_key(name) {
            let party = ExprNode::Const(Value::Entity(name.into())).at(e.span);
            return Some((party, Sty::of(Type::Party)));
        }
        if !scope.constant {
            match name {
                "now" => return Some((ExprNode::Now.at(e.span), Sty::of(Type::Date))),
                "at" if scope.event.is_some() => return Some((ExprNode::At.at(e.span), Sty::of(Type::Date))),
                "elapsed" if scope.growing => {
                    return Some((ExprNode::Elapsed.at(e.span), Sty::of(Type::Duration)))
                }
                "outstanding" if scope.owes => {
                    return Some((ExprNode::Outstanding.at(e.span), Sty::of(Type::Money)))
                }
                "elapsed" | "outstanding" => {
                    let help = if name == "elapsed" {
                        "`elapsed` is the time run by an amount that is `growing until` an event"
                    } else {
                        "`outstanding` is known in what a party owes: `… owes … for each …`"
                    };
                    self.push(UnknownName {
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
        if scope.constant && self.field_names.contains(name) {
            self.push(NotConstant {
                name: name.to_string(),
                span: e.span.into(),
            });
            return None;
        }
        if self.broken_terms.contains(name) {
            return None;
        }
        let mut help = String::new();
        if self.suggestions_left > 0 {
            let mut candidates: Vec<String> = self.terms.values().map(|t| t.name.clone()).collect();
            candidates.extend(self.parties.values().map(|p| p.name.clone()));
            if let Some(spec) = scope.event.and_then(|ev| self.event_spec(ev)) {
                candidates.extend(spec.fields.values().map(|f| f.name.clone()));
            }
            help = self.suggest(name, candidates.iter().map(String::as_str));
        }
        if help.is_empty() {
            help = match scope.event {
                Some(ev) => format!(
                    "here a name can be a field of `{}`, a term or a party",
                    self.event_name(ev)
                ),
                None => "here a name can be a term or a party".to_string(),
            };
        }
        self.push(UnknownName {
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
            (_, Some(ev)) if self.event_spec(ev).is_some_and(|s| s.name == head) => Some(Target::Current(ev)),
            _ if !scope.constant => self.names.events.get(head).copied().map(|ev| {
                self.used_events.insert(ev);
                Target::Latest(ev)
            }),
            _ => None,
        };
        let Some(target) = target else {
            let help = if scope.constant {
                "a term's value cannot read events".to_string()
            } else {
                let mut names: Vec<String> = Vec::new();
                if let Some((_, binders)) = &scope.bound {
                    names.extend(binders.iter().cloned());
                }
                if self.suggestions_left > 0 {
                    names.extend(self.events.values().map(|ev| ev.name.clone()));
                }
                let s = self.suggest(head, names.iter().map(String::as_str));
                if s.is_empty() {
                    "`name.field` reads a field of an event: the one being matched, the one that created the norm, or the latest of its kind".to_string()
                } else {
                    s
                }
            };
            self.push(UnknownName {
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
                Target::Bound(_) => ExprNode::BoundAt,
                Target::Current(_) => ExprNode::At,
                Target::Latest(ev) => match self.keyed_by(ev, scope) {
                    Some((by, key)) => ExprNode::Keyed(ev, None, by, key),
                    None => ExprNode::Latest(ev, None),
                },
            };
            return Some((c.at(e.span), Sty::of(Type::Date)));
        }
        let Some((fid, ty)) = self.field_of(ev, field) else {
            let help = self.field_help(ev, field);
            self.push(UnknownName {
                what: "field",
                name: format!("{head}.{field}"),
                span: e.span.into(),
                help,
            });
            return None;
        };
        let c = match target {
            Target::Bound(_) => ExprNode::Bound(fid),
            Target::Current(_) => ExprNode::Field(fid),
            Target::Latest(ev) => match self.keyed_by(ev, scope) {
                Some((by, key)) => ExprNode::Keyed(ev, Some(fid), by, key),
                None => ExprNode::Latest(ev, Some(fid)),
            },
        };
        Some((c.at(e.span), Sty::of(ty)))
    }

    /// Under `with the same K`, an event with a field K is read by key: its
    /// field K, and where the key to look for is read.
    fn keyed_by(&self, ev: EventId, scope: &Scope) -> Option<(FieldId, KeyOf)> {
        let (name, key) = scope.key.as_ref()?;
        let (by, _) = self.field_of(ev, name)?;
        Some((by, *key))
    }

    fn aggregate(&mut self, agg: &Aggregate, e: &Expr, scope: &Scope) -> Option<(CExpr, Sty)> {
        if scope.constant {
            self.push(NotConstant {
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
            self.push(SumWithoutField {
                span: e.span.into(),
                help: format!("e.g. `sum({}.amount since …)`", agg.event.name),
            });
            return None;
        }
        let ty = match field {
            Some(f) => self.field_type(ev, f)?,
            None => Type::Decimal,
        };
        if agg.sum && !matches!(ty, Type::Money | Type::Decimal | Type::Percent) {
            self.push(TypeMismatch {
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
        let id = self.trackers.push(Tracker {
            event: ev,
            span: agg.span,
            condition,
            since,
            field: if agg.sum { field } else { None },
            window,
        });
        Some((ExprNode::Tracker(id).at(e.span), Sty::of(ty)))
    }
}

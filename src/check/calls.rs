//! Calls: the built-in functions, rounding, and tables applied to a value.

use super::error::*;
use super::types::Sty;
use super::{Checker, Scope, TableTypes};
use crate::model::{CExpr, ExprNode, Func, RoundMode, TermId};
use crate::ops::BinOp;
use crate::syntax::ast::{Expr, ExprKind};
use crate::value::Type;

impl Checker {
    pub(super) fn call(
        &mut self,
        name: &str,
        args: &[Expr],
        e: &Expr,
        scope: &Scope,
    ) -> Option<(CExpr, Sty)> {
        if let Some(tid) = self
            .names
            .terms
            .get(name)
            .copied()
            .filter(|t| self.terms.get(*t).is_some_and(|slot| slot.table.is_some()))
        {
            self.used_terms.insert(tid);
            return self.table_call(tid, args, e, scope);
        }
        if name == "round" {
            return self.round(args, e, scope);
        }
        match Func::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f) {
            Some(func @ (Func::Floor | Func::Days | Func::Currency)) => {
                self.call_of_one(func, name, args, e, scope)
            }
            Some(Func::Default) => self.default_call(args, e, scope),
            Some(func @ (Func::Min | Func::Max)) => self.ordering_call(func, name, args, e, scope),
            None => {
                self.unknown_function(name, e);
                None
            }
        }
    }

    /// `floor(x)`, `days(d)`, `currency(m)`.
    fn call_of_one(
        &mut self,
        func: Func,
        name: &str,
        args: &[Expr],
        e: &Expr,
        scope: &Scope,
    ) -> Option<(CExpr, Sty)> {
        let [arg] = args else {
            self.push(BadCall {
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
            self.push(TypeMismatch {
                expected: want.to_string(),
                found: sty.describe(),
                span: arg.span.into(),
                help: format!("`{name}` takes {want}"),
            });
            return None;
        }
        Some((ExprNode::Call(func, vec![c]).at(e.span), out))
    }

    /// `default(x, y)`: x, or y where x is undetermined.
    fn default_call(&mut self, args: &[Expr], e: &Expr, scope: &Scope) -> Option<(CExpr, Sty)> {
        let [value, fallback] = args else {
            self.push(BadCall {
                name: "default".to_string(),
                expected: "a value and what to use where it is undetermined".to_string(),
                span: e.span.into(),
                help: "e.g. `default(sum(purchase.amount since quarter_closed), 0 EUR)`".to_string(),
            });
            return None;
        };
        let (vc, vt) = self.expr(value, scope)?;
        let (fc, ft) = self.expr(fallback, scope)?;
        if vt.ty != ft.ty {
            self.push(TypeMismatch {
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
        Some((ExprNode::Call(Func::Default, vec![vc, fc]).at(e.span), ty))
    }

    fn unknown_function(&mut self, name: &str, e: &Expr) {
        // A table whose definition was wrong is already reported.
        if self.broken_terms.contains(name) {
            return;
        }
        let help = self.suggest(name, Func::ALL.iter().map(|(n, _)| *n));
        self.push(UnknownName {
            what: "function",
            name: name.to_string(),
            span: e.span.into(),
            help: if help.is_empty() {
                "the functions are `min`, `max`, `round`, `floor`, `days` and `currency`, and the tables declared under `terms`".to_string()
            } else {
                help
            },
        });
    }

    /// `min(…)` and `max(…)`: two or more values of one kind that order.
    fn ordering_call(
        &mut self,
        func: Func,
        name: &str,
        args: &[Expr],
        e: &Expr,
        scope: &Scope,
    ) -> Option<(CExpr, Sty)> {
        if args.len() < 2 {
            self.push(BadCall {
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
                        self.push(TypeMismatch {
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
            self.push(BadCall {
                name: name.to_string(),
                expected: "numbers, amounts, percentages, dates or durations".to_string(),
                span: e.span.into(),
                help: format!("{} values cannot be ordered", sty.ty),
            });
            return None;
        }
        Some((ExprNode::Call(func, out).at(e.span), sty))
    }

    fn round(&mut self, args: &[Expr], e: &Expr, scope: &Scope) -> Option<(CExpr, Sty)> {
        let modes: Vec<&str> = RoundMode::ALL.iter().map(|(n, _)| *n).collect();
        let bad = |c: &mut Self, help: String| {
            c.push(BadCall {
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
            self.push(TypeMismatch {
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
            let s = self.suggest(mode_name, modes.iter().copied());
            self.push(UnknownName {
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
        Some((ExprNode::Round(Box::new(vc), Box::new(sc), m).at(e.span), vt))
    }

    fn table_call(&mut self, tid: TermId, args: &[Expr], e: &Expr, scope: &Scope) -> Option<(CExpr, Sty)> {
        let name = self.terms.get(tid).map(|t| t.name.clone()).unwrap_or_default();
        let [arg] = args else {
            self.push(BadCall {
                name,
                expected: "one value to look up".to_string(),
                span: e.span.into(),
                help: "a table is applied to one value, e.g. `discount_rate(volume)`".to_string(),
            });
            return None;
        };
        let (c, sty) = self.expr(arg, scope)?;
        let TableTypes { key, value, tiered } = self.table_types.get(&tid).copied()?;
        if let Some(key) = key {
            if key.ty != sty.ty {
                self.push(TypeMismatch {
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
        Some((ExprNode::Table(tid, Box::new(c)).at(e.span), out))
    }
}

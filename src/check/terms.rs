//! Terms and tables, dates, and the lifetimes of the deal and its clauses.

use super::error::*;
use super::{Checker, Scope, TableTypes};
use crate::model::interpret::{eval, Ctx};
use crate::model::*;
use crate::ops::Span;
use crate::syntax::ast;
use crate::time::Instant;
use crate::value::{Type, Value};

impl Checker {
    pub(super) fn terms(&mut self, contract: &ast::Contract) {
        for def in &contract.terms {
            if let Some(first) = self
                .names
                .terms
                .get(&def.name.name)
                .and_then(|t| self.terms.get(*t))
            {
                let first = first.span;
                self.push(DuplicateName {
                    what: "term",
                    name: def.name.name.clone(),
                    span: def.name.span.into(),
                    first: first.into(),
                    help: "give each term one value".to_string(),
                });
                continue;
            }
            let slot = match &def.value {
                ast::TermValue::Open { ty } => {
                    let Some(ty) = self.type_name(ty) else {
                        self.broken_terms.insert(def.name.name.clone());
                        continue;
                    };
                    self.push(OpenTerm {
                        name: def.name.name.clone(),
                        span: def.span.into(),
                    });
                    TermSlot {
                        name: def.name.name.clone(),
                        ty,
                        value: None,
                        table: None,
                        expr: None,
                        span: def.name.span,
                    }
                }
                ast::TermValue::Table(t) => {
                    let Some((spec, types)) = self.table(t) else {
                        self.broken_terms.insert(def.name.name.clone());
                        continue;
                    };
                    self.table_types.insert(self.terms.next_id(), types);
                    TermSlot {
                        name: def.name.name.clone(),
                        ty: types.value.ty,
                        value: None,
                        table: Some(spec),
                        expr: None,
                        span: def.name.span,
                    }
                }
                ast::TermValue::Expr(e) => {
                    let scope = Scope {
                        constant: true,
                        ..Scope::default()
                    };
                    let Some((c, sty)) = self.expr(e, &scope) else {
                        self.broken_terms.insert(def.name.name.clone());
                        continue;
                    };
                    let value = match eval(&c, &Ctx::constant(&self.terms)) {
                        Ok(v) => v,
                        Err(err) => {
                            self.push(BadLiteral {
                                text: def.name.name.clone(),
                                what: "term value",
                                span: e.span.into(),
                                help: err.to_string(),
                            });
                            self.broken_terms.insert(def.name.name.clone());
                            continue;
                        }
                    };
                    TermSlot {
                        name: def.name.name.clone(),
                        ty: sty.ty,
                        value,
                        table: None,
                        expr: Some(c),
                        span: def.name.span,
                    }
                }
            };
            let id = self.terms.push(slot);
            self.names.terms.insert(def.name.name.clone(), id);
        }
    }

    /// A table's rows, with the type of its bounds and of its values.
    fn table(&mut self, t: &ast::Table) -> Option<(TableSpec, TableTypes)> {
        let scope = Scope {
            constant: true,
            ..Scope::default()
        };
        let mut key: Option<super::Sty> = None;
        let mut value: Option<super::Sty> = None;
        let mut rows = Vec::new();
        let mut ok = true;
        for row in &t.rows {
            let mut bound = |c: &mut Self, b: &Option<ast::Expr>| -> Option<Option<CExpr>> {
                let Some(e) = b else { return Some(None) };
                let (ce, sty) = c.expr(e, &scope)?;
                match key {
                    None => key = Some(sty),
                    Some(k) if k.ty != sty.ty => {
                        c.push(TypeMismatch {
                            expected: k.describe(),
                            found: sty.describe(),
                            span: e.span.into(),
                            help: "every bound of a table is of one kind".to_string(),
                        });
                        return None;
                    }
                    Some(_) => {}
                }
                Some(Some(ce))
            };
            let above = bound(self, &row.above);
            let from = bound(self, &row.from);
            let up_to = bound(self, &row.up_to);
            let below = bound(self, &row.below);
            let v = self.expr(&row.value, &scope);
            let (Some(above), Some(from), Some(up_to), Some(below), Some((vc, vt))) =
                (above, from, up_to, below, v)
            else {
                ok = false;
                continue;
            };
            match value {
                None => value = Some(vt),
                Some(v) if v.ty != vt.ty => {
                    self.push(TypeMismatch {
                        expected: v.describe(),
                        found: vt.describe(),
                        span: row.value.span.into(),
                        help: "every row of a table gives a value of one kind".to_string(),
                    });
                    ok = false;
                    continue;
                }
                Some(_) => {}
            }
            if t.tiered && row.otherwise {
                self.push(TieredOtherwise {
                    span: row.span.into(),
                });
                ok = false;
            }
            rows.push(RowSpec {
                above,
                from,
                up_to,
                below,
                otherwise: row.otherwise,
                value: vc,
            });
        }
        let value = value?;
        if t.tiered && !matches!(value.ty, Type::Percent | Type::Decimal) {
            self.push(TypeMismatch {
                expected: "a percentage or a number".to_string(),
                found: value.describe(),
                span: t.span.into(),
                help: "a tiered table gives the rate of each band".to_string(),
            });
            return None;
        }
        let types = TableTypes {
            key,
            value,
            tiered: t.tiered,
        };
        ok.then_some((
            TableSpec {
                tiered: t.tiered,
                rows,
            },
            types,
        ))
    }

    fn date_of(&mut self, text: &str, span: Span) -> Option<Instant> {
        match crate::time::Moment::parse(text) {
            Some(m) => Some(m.instant),
            None => {
                self.push(BadLiteral {
                    text: text.to_string(),
                    what: "date",
                    span: span.into(),
                    help: "dates are real calendar days written year-month-day, e.g. `2025-02-28`"
                        .to_string(),
                });
                None
            }
        }
    }

    /// A lifetime from `in force from … until …`. `until D` includes all of D.
    pub(super) fn lifetime(&mut self, f: &ast::InForce) -> Lifetime {
        let start = match &f.from {
            None => Bound::Unbounded,
            Some(ast::Boundary::Date { text, span }) => {
                self.date_of(text, *span).map_or(Bound::Unbounded, Bound::At)
            }
            Some(b) => self.bound_of(b, false),
        };
        let end = match &f.until {
            None => Bound::Unbounded,
            Some(ast::Boundary::Date { text, span }) => self
                .date_of(text, *span)
                .and_then(|i| Instant::end_of(i.date()))
                .map_or(Bound::Unbounded, Bound::At),
            Some(b) => self.bound_of(b, true),
        };
        if let (Bound::At(s), Bound::At(e), Some(fb), Some(ub)) = (&start, &end, &f.from, &f.until) {
            if e <= s {
                self.push(EndsBeforeStart {
                    start_span: fb.span().into(),
                    end_span: ub.span().into(),
                    start: s.date().to_string(),
                    end: e.date().yesterday().map(|d| d.to_string()).unwrap_or_default(),
                });
            }
        }
        Lifetime { start, end }
    }

    /// An event, or a date worked out from terms (`effective_date`,
    /// `effective_date + 2 years`); a date alone, as an end, includes all of
    /// that day.
    fn bound_of(&mut self, b: &ast::Boundary, end: bool) -> Bound {
        let e = match b {
            ast::Boundary::Expr(e) => e.clone(),
            // A lone name that is a term, not an event, is that term's date.
            ast::Boundary::Event(m)
                if m.condition.is_none()
                    && !self.names.events.contains_key(&m.event.name)
                    && self.names.terms.contains_key(&m.event.name) =>
            {
                ast::Expr {
                    kind: ast::ExprKind::Name(m.event.clone()),
                    span: m.event.span,
                }
            }
            ast::Boundary::Event(m)
                if m.condition.is_none()
                    && !self.names.events.contains_key(&m.event.name)
                    && !m.event.name.starts_with("breach of ") =>
            {
                let name = &m.event.name;
                let known: Vec<String> = self
                    .events
                    .values()
                    .map(|e| e.name.clone())
                    .chain(self.names.terms.keys().cloned())
                    .collect();
                let mut help = self.suggest(name, known.iter().map(String::as_str));
                if help.is_empty() {
                    help = format!(
                        "a term starts or ends on a date or an event: for a date agreed in the terms, declare `{name} = 2025-01-01` under `terms`; for something that happens, declare `{name}` under `events`"
                    );
                }
                self.push(UnknownName {
                    what: "event or date term",
                    name: name.clone(),
                    span: m.event.span.into(),
                    help,
                });
                return Bound::Unbounded;
            }
            ast::Boundary::Event(m) => return self.event_match(m).map_or(Bound::Unbounded, Bound::On),
            ast::Boundary::Date { text, span } => {
                return self.date_of(text, *span).map_or(Bound::Unbounded, Bound::At)
            }
        };
        let scope = Scope {
            constant: true,
            ..Scope::default()
        };
        let Some(c) = self.expr_of(&e, &scope, Type::Date) else {
            return Bound::Unbounded;
        };
        match eval(&c, &Ctx::constant(&self.terms)) {
            Ok(Some(Value::Date(m))) => {
                let at = if end && m.date_only {
                    Instant::end_of(m.instant.date())
                } else {
                    Some(m.instant)
                };
                at.map_or(Bound::Unbounded, Bound::At)
            }
            Ok(_) => {
                self.push(BadLiteral {
                    text: source_name(&e),
                    what: "date",
                    span: e.span.into(),
                    help:
                        "the dates of `in force` must be known before any event: give the open term a value"
                            .to_string(),
                });
                Bound::Unbounded
            }
            Err(err) => {
                self.push(BadLiteral {
                    text: source_name(&e),
                    what: "date",
                    span: e.span.into(),
                    help: err.to_string(),
                });
                Bound::Unbounded
            }
        }
    }

    pub(super) fn deal_term(&mut self, contract: &ast::Contract) -> Lifetime {
        match &contract.term {
            Some(t) => self.lifetime(t),
            None => Lifetime {
                start: Bound::Unbounded,
                end: Bound::Unbounded,
            },
        }
    }

    pub(crate) fn event_match(&mut self, m: &ast::EventMatch) -> Option<Match> {
        let ev = self.event(&m.event)?;
        let condition = match &m.condition {
            None => None,
            Some(e) => {
                let scope = Scope {
                    event: Some(ev),
                    ..Scope::default()
                };
                Some(self.expr_of(e, &scope, Type::Bool)?)
            }
        };
        Some(Match { event: ev, condition })
    }
}

/// How a boundary's date is named in a diagnostic.
fn source_name(e: &ast::Expr) -> String {
    match &e.kind {
        ast::ExprKind::Name(id) => id.name.clone(),
        ast::ExprKind::Binary(op, a, _) => format!("{} {} …", source_name(a), op_word(*op)),
        _ => "the date".to_string(),
    }
}

fn op_word(op: ast::BinOp) -> &'static str {
    match op {
        ast::BinOp::Sub => "-",
        _ => "+",
    }
}

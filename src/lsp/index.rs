//! Every place a contract names one of its parties, terms, events, clauses
//! or fields, each resolved as the checker resolves it: a bare name in an
//! expression is a field of the event being matched, else a term, else a
//! party; `name.field` reads an event's field. References and rename are
//! read off this list, so that a word that merely looks like a name (a
//! field that shadows a term, a word of an exclusivity's subject) is never
//! taken for it.

use std::collections::HashMap;

use crate::syntax::ast::{self, Expr, ExprKind, Ident};

/// What a name stands for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) enum Symbol {
    Party(String),
    Term(String),
    Event(String),
    Clause(String),
    /// A field, by its event's name and its own.
    Field(String, String),
}

impl Symbol {
    pub(super) fn name(&self) -> &str {
        match self {
            Symbol::Party(n)
            | Symbol::Term(n)
            | Symbol::Event(n)
            | Symbol::Clause(n)
            | Symbol::Field(_, n) => n,
        }
    }

    /// The same symbol under another name.
    pub(super) fn renamed(&self, to: &str) -> Symbol {
        let to = to.to_string();
        match self {
            Symbol::Party(_) => Symbol::Party(to),
            Symbol::Term(_) => Symbol::Term(to),
            Symbol::Event(_) => Symbol::Event(to),
            Symbol::Clause(_) => Symbol::Clause(to),
            Symbol::Field(e, _) => Symbol::Field(e.clone(), to),
        }
    }
}

/// One place a symbol is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Occurrence {
    pub symbol: Symbol,
    pub start: usize,
    pub end: usize,
    /// Where it is declared, rather than used.
    pub declaration: bool,
}

/// The occurrences of every symbol of a contract, in the order written.
pub(super) fn index(contract: &ast::Contract) -> Vec<Occurrence> {
    let mut w = Walker {
        contract,
        fields: contract
            .events
            .iter()
            .map(|e| {
                (
                    e.name.name.as_str(),
                    e.fields.iter().map(|f| f.name.name.as_str()).collect(),
                )
            })
            .collect(),
        out: Vec::new(),
    };
    w.walk();
    w.out.sort_by_key(|o| (o.start, o.end));
    w.out.dedup();
    w.out
}

/// The occurrences under a byte offset (or just before it).
pub(super) fn at(occurrences: &[Occurrence], offset: usize) -> Vec<&Occurrence> {
    occurrences
        .iter()
        .filter(|o| o.start <= offset && offset <= o.end)
        .collect()
}

/// What the names of an expression can see.
#[derive(Clone, Copy, Default)]
struct Scope<'a> {
    /// The event being matched: its fields by their bare names.
    event: Option<&'a str>,
    /// The event that made the norm's instance, read as `binder.field`,
    /// and the binder's name when it is not the event's own.
    bound: Option<(&'a str, Option<&'a str>)>,
}

struct Walker<'c> {
    contract: &'c ast::Contract,
    fields: HashMap<&'c str, Vec<&'c str>>,
    out: Vec<Occurrence>,
}

impl<'c> Walker<'c> {
    fn push(&mut self, symbol: Symbol, start: usize, end: usize, declaration: bool) {
        self.out.push(Occurrence {
            symbol,
            start,
            end,
            declaration,
        });
    }

    fn walk(&mut self) {
        let c = self.contract;
        for p in &c.parties {
            self.push(Symbol::Party(p.name.clone()), p.span.start, p.span.end, true);
        }
        if let Some(t) = &c.term {
            self.in_force(t);
        }
        for t in &c.terms {
            self.push(
                Symbol::Term(t.name.name.clone()),
                t.name.span.start,
                t.name.span.end,
                true,
            );
            match &t.value {
                ast::TermValue::Open { .. } => {}
                ast::TermValue::Expr(e) => self.expr(e, Scope::default()),
                ast::TermValue::Table(table) => {
                    for row in &table.rows {
                        for e in [&row.above, &row.from, &row.up_to, &row.below]
                            .into_iter()
                            .flatten()
                        {
                            self.expr(e, Scope::default());
                        }
                        self.expr(&row.value, Scope::default());
                    }
                }
            }
        }
        for e in &c.events {
            self.push(
                Symbol::Event(e.name.name.clone()),
                e.name.span.start,
                e.name.span.end,
                true,
            );
            for f in &e.fields {
                let field = Symbol::Field(e.name.name.clone(), f.name.name.clone());
                self.push(field, f.name.span.start, f.name.span.end, true);
            }
        }
        for clause in &c.clauses {
            let name = &clause.name;
            self.push(
                Symbol::Clause(name.name.clone()),
                name.span.start,
                name.span.end,
                true,
            );
            for t in &clause.in_force {
                self.in_force(t);
            }
            for m in clause
                .suspended_on
                .iter()
                .chain(&clause.resumed_on)
                .chain(&clause.ended_on)
            {
                self.event_match(m, None);
            }
            for n in &clause.norms {
                self.norm(n);
            }
        }
    }

    fn in_force(&mut self, t: &'c ast::InForce) {
        for b in [&t.from, &t.until].into_iter().flatten() {
            match b {
                // A lone name that is no event but a term is that term's date.
                ast::Boundary::Event(m)
                    if m.condition.is_none()
                        && !self.fields.contains_key(m.event.name.as_str())
                        && self.contract.terms.iter().any(|t| t.name.name == m.event.name) =>
                {
                    self.name(&m.event, Scope::default());
                }
                ast::Boundary::Event(m) => {
                    self.event_match(m, None);
                }
                ast::Boundary::Expr(e) => self.expr(e, Scope::default()),
                ast::Boundary::Date { .. } => {}
            }
        }
    }

    /// An event as written: a declared one, or `breach of C`.
    fn event(&mut self, id: &Ident) -> Option<&'c str> {
        if let Some(clause) = id.name.strip_prefix("breach of ") {
            let start = id.span.end.saturating_sub(clause.len());
            self.push(Symbol::Clause(clause.to_string()), start, id.span.end, false);
            return None;
        }
        let (name, _) = self.fields.get_key_value(id.name.as_str())?;
        let name: &'c str = name;
        self.push(Symbol::Event(name.to_string()), id.span.start, id.span.end, false);
        Some(name)
    }

    fn party(&mut self, id: &Ident) {
        if self.contract.parties.iter().any(|p| p.name == id.name) {
            self.push(Symbol::Party(id.name.clone()), id.span.start, id.span.end, false);
        }
    }

    fn field(&mut self, event: Option<&str>, id: &Ident) {
        if let Some(ev) = event.filter(|ev| self.has_field(ev, &id.name)) {
            let field = Symbol::Field(ev.to_string(), id.name.clone());
            self.push(field, id.span.start, id.span.end, false);
        }
    }

    fn has_field(&self, event: &str, field: &str) -> bool {
        self.fields.get(event).is_some_and(|fs| fs.contains(&field))
    }

    fn event_match(&mut self, m: &'c ast::EventMatch, bound: Option<&'c str>) -> Option<&'c str> {
        let ev = self.event(&m.event);
        if let Some(cond) = &m.condition {
            let scope = Scope {
                event: ev,
                bound: bound.map(|b| (b, None)),
            };
            self.expr(cond, scope);
        }
        ev
    }

    fn action(&mut self, a: &'c ast::Action, trigger: Option<&'c str>) {
        let ev = self.event(&a.event);
        if let Some(k) = &a.same_key {
            self.field(ev, k);
            self.field(trigger, k);
        }
        if let Some(cond) = &a.condition {
            let scope = Scope {
                event: ev,
                bound: trigger.map(|t| (t, None)),
            };
            self.expr(cond, scope);
        }
    }

    fn exception(&mut self, x: &'c ast::Exception, trigger: Option<&'c str>) {
        let ev = self.event(&x.event);
        if let Some(k) = &x.same_key {
            self.field(ev, k);
            self.field(trigger, k);
        }
    }

    fn norm(&mut self, n: &'c ast::Norm) {
        let trigger = n.trigger.as_ref().and_then(|m| self.event_match(m, None));
        self.party(&n.bearer);
        let bound = Scope {
            event: None,
            bound: trigger.map(|t| (t, None)),
        };
        match &n.body {
            ast::NormBody::Obligation {
                action,
                payee,
                deadline,
            } => {
                self.action(action, trigger);
                if let Some(p) = payee {
                    self.party(p);
                }
                match deadline {
                    Some(ast::Deadline::Within { duration, after, .. }) => {
                        self.expr(duration, bound);
                        if let Some(m) = after {
                            self.event_match(m, trigger);
                        }
                    }
                    Some(ast::Deadline::By { date, .. }) => self.expr(date, bound),
                    None => {}
                }
            }
            ast::NormBody::Prohibition { action, exception } => {
                self.action(action, trigger);
                if let Some(x) = exception {
                    self.exception(x, trigger);
                }
            }
            ast::NormBody::Permission {
                action,
                activation,
                window,
            } => {
                self.action(action, trigger);
                if let Some(a) = activation {
                    self.expr(&a.delay, bound);
                    if let Some(u) = &a.unless {
                        let f = self.event(u);
                        if let Some(k) = &a.unless_key {
                            self.field(f, k);
                            self.field(trigger, k);
                        }
                    }
                }
                if let Some(w) = window {
                    self.expr(w, bound);
                }
            }
            ast::NormBody::Power { actions, window } => {
                for a in actions {
                    self.action(a, trigger);
                }
                if let Some(w) = window {
                    self.expr(w, bound);
                }
            }
            ast::NormBody::Exclusive(x) => {
                self.party(&x.grantor);
                let ev = self.event(&x.event);
                self.field(ev, &x.role_field);
                if let Some(cond) = &x.condition {
                    self.expr(
                        cond,
                        Scope {
                            event: ev,
                            bound: None,
                        },
                    );
                }
                if let Some(e) = &x.exception {
                    self.exception(e, ev);
                }
            }
            ast::NormBody::FirstRefusal(f) => self.first_refusal(f),
            ast::NormBody::Owes(o) => self.owes(o, trigger),
        }
    }

    fn first_refusal(&mut self, f: &'c ast::FirstRefusal) {
        let deal = self.event(&f.deal_event);
        self.party(&f.grantor);
        let offered = f.offered_by.as_ref().and_then(|e| self.event(e));
        for e in [&f.accepted_by, &f.declined_by].into_iter().flatten() {
            let ev = self.event(e);
            if let Some(k) = &f.matched_on {
                self.field(ev, k);
            }
        }
        if let Some(k) = &f.matched_on {
            self.field(offered, k);
            self.field(deal, k);
        }
        if let Some(cond) = &f.condition {
            self.expr(
                cond,
                Scope {
                    event: deal,
                    bound: None,
                },
            );
        }
        if let Some(w) = &f.window {
            self.expr(w, Scope::default());
        }
        if let Some(cond) = &f.only_if {
            let scope = Scope {
                event: deal,
                bound: offered.map(|o| (o, Some("offer"))),
            };
            self.expr(cond, scope);
        }
    }

    fn owes(&mut self, o: &'c ast::Owes, trigger: Option<&'c str>) {
        self.party(&o.payee);
        let per = match &o.per {
            Some(m) => self.event_match(m, trigger),
            None => trigger,
        };
        let scope = Scope {
            event: per,
            bound: None,
        };
        self.expr(&o.amount, scope);
        if let Some(k) = &o.per_key {
            self.field(per, k);
        }
        if let Some(g) = &o.growing_until {
            let stop = self.event(g);
            if let Some(k) = &o.growing_key {
                self.field(stop, k);
                self.field(per, k);
            }
        }
        if let Some(s) = &o.schedule {
            self.timing(&s.timing);
            if let Some((cond, t)) = &s.alternative {
                self.expr(cond, scope);
                self.timing(t);
            }
        }
        for sb in &o.settled_by {
            let ev = self.event_match(&sb.event, None);
            if let Some(a) = &sb.applying {
                self.expr(
                    a,
                    Scope {
                        event: ev,
                        bound: None,
                    },
                );
            }
        }
    }

    fn timing(&mut self, t: &'c ast::Timing) {
        self.expr(&t.grace, Scope::default());
        if let ast::Anchor::Event(e) = &t.anchor {
            self.event(e);
        }
    }

    fn expr(&mut self, e: &'c Expr, scope: Scope<'c>) {
        match &e.kind {
            ExprKind::Name(id) => self.name(id, scope),
            ExprKind::Field(head, field) => {
                let target = match scope.bound {
                    Some((ev, binder)) if binder.unwrap_or(ev) == head.name => {
                        if binder.is_none() {
                            self.push(
                                Symbol::Event(ev.to_string()),
                                head.span.start,
                                head.span.end,
                                false,
                            );
                        }
                        Some(ev)
                    }
                    _ => self.event(head),
                };
                self.field(target, field);
            }
            ExprKind::Call(f, args) => {
                if self.contract.terms.iter().any(|t| t.name.name == f.name) {
                    self.push(Symbol::Term(f.name.clone()), f.span.start, f.span.end, false);
                }
                for a in args {
                    self.expr(a, scope);
                }
            }
            ExprKind::If(c, a, b) => {
                for x in [c, a, b] {
                    self.expr(x, scope);
                }
            }
            ExprKind::Aggregate(agg) => {
                let ev = self.event(&agg.event);
                if let Some(f) = &agg.field {
                    self.field(ev, f);
                }
                if let Some(cond) = &agg.condition {
                    self.expr(cond, Scope { event: ev, ..scope });
                }
                if let Some(s) = &agg.since {
                    self.event(s);
                }
                if let Some(w) = &agg.window {
                    self.expr(w, scope);
                }
            }
            ExprKind::Unary(_, x) => self.expr(x, scope),
            ExprKind::Binary(_, l, r) => {
                self.expr(l, scope);
                self.expr(r, scope);
            }
            _ => {}
        }
    }

    fn name(&mut self, id: &Ident, scope: Scope<'c>) {
        if let Some(ev) = scope.event.filter(|ev| self.has_field(ev, &id.name)) {
            let field = Symbol::Field(ev.to_string(), id.name.clone());
            self.push(field, id.span.start, id.span.end, false);
        } else if self.contract.terms.iter().any(|t| t.name.name == id.name) {
            self.push(Symbol::Term(id.name.clone()), id.span.start, id.span.end, false);
        } else {
            self.party(id);
        }
    }
}

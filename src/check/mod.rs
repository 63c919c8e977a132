//! Check: resolves names, checks types, and lowers every clause to core
//! norms. All independent problems are collected, not only the first.
//!
//! The built-in commercial forms (exclusivity, first refusal, sharing) are
//! lowered here and only here, in `lower`; the interpreter knows nothing of
//! them.

mod analysis;
pub mod error;
mod expr;
mod lower;

use std::collections::{HashMap, HashSet};

pub use error::CheckError;
pub use expr::Scope;

use crate::diag::words::{article, suggest};
use crate::model::interpret::{eval, Ctx};
use crate::model::*;
use crate::syntax::ast::{self, Span};
use crate::time::Instant;
use crate::value::Type;

/// The outcome of checking: the program if there was no error, and every
/// diagnostic found (warnings included).
#[derive(Debug)]
pub struct Checked {
    pub program: Option<Program>,
    pub diagnostics: Vec<CheckError>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| !d.is_warning())
    }
}

pub fn check(contract: &ast::Contract) -> Checked {
    let mut c = Checker::default();
    c.parties(contract);
    c.events(contract);
    c.terms(contract);
    let term = c.deal_term(contract);
    c.clauses(contract);
    let failed = c.errors.iter().any(|e| !e.is_warning());
    let program = if failed {
        None
    } else {
        let mut p = Program {
            title: contract.title.clone(),
            parties: c.parties.iter().map(|(n, _)| n.clone()).collect(),
            term,
            term_span: contract.term.as_ref().map(|t| t.span),
            terms: std::mem::take(&mut c.terms),
            events: std::mem::take(&mut c.events),
            clauses: std::mem::take(&mut c.clauses),
            norms: std::mem::take(&mut c.norms),
            trackers: std::mem::take(&mut c.trackers),
            breach_events: Vec::new(),
            listeners: Vec::new(),
        };
        p.breach_events = p
            .clauses
            .iter()
            .map(|cl| p.event_id(&format!("breach of {}", cl.name)).unwrap_or(0))
            .collect();
        p.listeners = listeners(&p);
        let mut found = analysis::analyse(&p);
        found.extend(analysis::unused(&p, &c.used_terms, &c.used_events));
        let fatal = found.iter().any(|e| !e.is_warning());
        c.errors.extend(found);
        if fatal {
            None
        } else {
            Some(p)
        }
    };
    Checked {
        program,
        diagnostics: c.errors,
    }
}

#[derive(Default)]
pub(crate) struct Checker {
    errors: Vec<CheckError>,
    parties: Vec<(String, Span)>,
    terms: Vec<TermSlot>,
    events: Vec<EventSpec>,
    clauses: Vec<ClauseSpec>,
    norms: Vec<NormSpec>,
    used_terms: HashSet<TermId>,
    used_events: HashSet<EventId>,
    trackers: Vec<Tracker>,
    /// Per table term: the type of its bounds, of its values, and whether it is tiered.
    table_types: HashMap<TermId, (Option<expr::Sty>, expr::Sty, bool)>,
}

impl Checker {
    fn push(&mut self, e: CheckError) {
        self.errors.push(e);
    }

    fn field_help(&self, ev: EventId, field: &str) -> String {
        let spec = &self.events[ev];
        let s = suggest(field, spec.fields.iter().map(|f| f.name.as_str()));
        if !s.is_empty() {
            return s;
        }
        if spec.fields.is_empty() {
            format!("`{}` has no fields", spec.name)
        } else {
            let names: Vec<&str> = spec.fields.iter().map(|f| f.name.as_str()).collect();
            format!("the fields of `{}` are: {}", spec.name, names.join(", "))
        }
    }

    fn parties(&mut self, contract: &ast::Contract) {
        for (what, first, again) in &contract.repeated_sections {
            self.push(CheckError::Repeated {
                what: format!("`{what}`"),
                span: (*again).into(),
                first: (*first).into(),
            });
        }
        if contract.parties.is_empty() {
            self.push(CheckError::NoParties {
                span: contract.title_span.into(),
            });
        }
        for p in &contract.parties {
            if let Some((_, first)) = self.parties.iter().find(|(n, _)| *n == p.name) {
                let first = *first;
                self.push(CheckError::Duplicate {
                    what: "party",
                    name: p.name.clone(),
                    span: p.span.into(),
                    first: first.into(),
                    help: "list each party once".to_string(),
                });
                continue;
            }
            self.parties.push((p.name.clone(), p.span));
        }
    }

    pub(crate) fn party(&mut self, id: &ast::Ident) -> Option<PartyId> {
        if let Some(i) = self.parties.iter().position(|(n, _)| *n == id.name) {
            return Some(i);
        }
        let mut help = suggest(&id.name, self.parties.iter().map(|(n, _)| n.as_str()));
        if help.is_empty() {
            let names: Vec<&str> = self.parties.iter().map(|(n, _)| n.as_str()).collect();
            help = format!(
                "the parties are {}; add `{}` to `parties` if it is bound by the deal",
                names.join(", "),
                id.name
            );
        }
        self.push(CheckError::NotAParty {
            name: id.name.clone(),
            span: id.span.into(),
            help,
        });
        None
    }

    fn events(&mut self, contract: &ast::Contract) {
        let mut seen: HashMap<String, Span> = HashMap::new();
        for decl in &contract.events {
            if let Some(first) = seen.get(&decl.name.name) {
                let first = *first;
                self.push(CheckError::Duplicate {
                    what: "event",
                    name: decl.name.name.clone(),
                    span: decl.name.span.into(),
                    first: first.into(),
                    help: "declare each event once, with all its fields".to_string(),
                });
                continue;
            }
            seen.insert(decl.name.name.clone(), decl.name.span);
            let mut fields: Vec<FieldSpec> = Vec::new();
            for f in &decl.fields {
                if let Some(first) = fields.iter().find(|x| x.name == f.name.name) {
                    let first = first.span;
                    self.push(CheckError::Duplicate {
                        what: "field",
                        name: f.name.name.clone(),
                        span: f.name.span.into(),
                        first: first.into(),
                        help: format!("give each field of `{}` its own name", decl.name.name),
                    });
                    continue;
                }
                if matches!(f.name.name.as_str(), "at" | "event" | "id") {
                    self.push(CheckError::BadLiteral {
                        text: f.name.name.clone(),
                        what: "field name",
                        span: f.name.span.into(),
                        help: "`at`, `event` and `id` are part of every event already; choose another name"
                            .to_string(),
                    });
                    continue;
                }
                let Some(ty) = self.type_name(&f.ty) else {
                    continue;
                };
                fields.push(FieldSpec {
                    name: f.name.name.clone(),
                    ty,
                    optional: f.optional,
                    span: f.span,
                });
            }
            self.events.push(EventSpec {
                name: decl.name.name.clone(),
                fields,
                span: decl.name.span,
                derived: false,
            });
        }
        // Each clause's breach is an event too, found by deal itself, so
        // that remedies can follow it.
        for clause in &contract.clauses {
            let name = format!("breach of {}", clause.name.name);
            if self.events.iter().any(|e| e.name == name) {
                continue;
            }
            let field = |n: &str, ty: Type, optional: bool| FieldSpec {
                name: n.to_string(),
                ty,
                optional,
                span: clause.name.span,
            };
            self.events.push(EventSpec {
                name,
                fields: vec![
                    field("party", Type::Party, false),
                    field("amount", Type::Money, true),
                ],
                span: clause.name.span,
                derived: true,
            });
        }
    }

    fn type_name(&mut self, id: &ast::Ident) -> Option<Type> {
        if let Some(t) = Type::from_name(&id.name) {
            return Some(t);
        }
        let mut help = suggest(&id.name, Type::ALL.iter().map(|(n, _)| *n));
        if help.is_empty() {
            let names: Vec<&str> = Type::ALL.iter().map(|(n, _)| *n).collect();
            help = format!("the types are {}", names.join(", "));
        }
        self.push(CheckError::UnknownType {
            name: id.name.clone(),
            span: id.span.into(),
            help,
        });
        None
    }

    pub(crate) fn event(&mut self, id: &ast::Ident) -> Option<EventId> {
        if let Some(i) = self.events.iter().position(|e| e.name == id.name) {
            self.used_events.insert(i);
            return Some(i);
        }
        let mut help = suggest(&id.name, self.events.iter().map(|e| e.name.as_str()));
        if help.is_empty() {
            help = format!("declare it under `events`, e.g. `{} (ref: text)`", id.name);
        }
        self.push(CheckError::Unknown {
            what: "event",
            name: id.name.clone(),
            span: id.span.into(),
            help,
        });
        None
    }

    pub(crate) fn field(&mut self, ev: EventId, id: &ast::Ident) -> Option<FieldId> {
        if let Some(f) = self.events[ev].field(&id.name) {
            return Some(f);
        }
        let help = self.field_help(ev, &id.name);
        self.push(CheckError::Unknown {
            what: "field",
            name: id.name.clone(),
            span: id.span.into(),
            help,
        });
        None
    }

    fn terms(&mut self, contract: &ast::Contract) {
        for def in &contract.terms {
            if let Some(first) = self.terms.iter().find(|t| t.name == def.name.name) {
                let first = first.span;
                self.push(CheckError::Duplicate {
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
                        continue;
                    };
                    self.push(CheckError::OpenTerm {
                        name: def.name.name.clone(),
                        span: def.span.into(),
                    });
                    TermSlot {
                        name: def.name.name.clone(),
                        ty,
                        value: None,
                        table: None,
                        span: def.name.span,
                    }
                }
                ast::TermValue::Table(t) => {
                    let Some((spec, key, value)) = self.table(t) else {
                        continue;
                    };
                    self.table_types.insert(self.terms.len(), (key, value, t.tiered));
                    TermSlot {
                        name: def.name.name.clone(),
                        ty: value.ty,
                        value: None,
                        table: Some(spec),
                        span: def.name.span,
                    }
                }
                ast::TermValue::Expr(e) => {
                    let scope = Scope {
                        constant: true,
                        ..Scope::default()
                    };
                    let Some((c, sty)) = self.expr(e, &scope) else {
                        continue;
                    };
                    let ctx = Ctx::constant(&self.terms);
                    let value = match eval(&c, &ctx) {
                        Ok(v) => v,
                        Err(err) => {
                            self.push(CheckError::BadLiteral {
                                text: def.name.name.clone(),
                                what: "term value",
                                span: e.span.into(),
                                help: err.to_string(),
                            });
                            continue;
                        }
                    };
                    TermSlot {
                        name: def.name.name.clone(),
                        ty: sty.ty,
                        value,
                        table: None,
                        span: def.name.span,
                    }
                }
            };
            self.terms.push(slot);
        }
    }

    /// A table's rows, with the type of its bounds and of its values.
    fn table(&mut self, t: &ast::Table) -> Option<(TableSpec, Option<expr::Sty>, expr::Sty)> {
        let scope = Scope {
            constant: true,
            ..Scope::default()
        };
        let mut key: Option<expr::Sty> = None;
        let mut value: Option<expr::Sty> = None;
        let mut rows = Vec::new();
        let mut ok = true;
        for row in &t.rows {
            let mut bound = |c: &mut Self, b: &Option<ast::Expr>| -> Option<Option<CExpr>> {
                let Some(e) = b else { return Some(None) };
                let (ce, sty) = c.expr(e, &scope)?;
                match key {
                    None => key = Some(sty),
                    Some(k) if k.ty != sty.ty => {
                        c.push(CheckError::TypeMismatch {
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
                    self.push(CheckError::TypeMismatch {
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
                self.push(CheckError::MissingPart {
                    what: "a tiered table has no `otherwise` row".to_string(),
                    span: row.span.into(),
                    help: "each band of a tiered table says where it starts and ends, e.g. `above 1000000 USD up to 5000000 USD: 8%`".to_string(),
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
            self.push(CheckError::TypeMismatch {
                expected: "a percentage or a number".to_string(),
                found: value.describe(),
                span: t.span.into(),
                help: "a tiered table gives the rate of each band".to_string(),
            });
            return None;
        }
        ok.then_some((
            TableSpec {
                tiered: t.tiered,
                rows,
            },
            key,
            value,
        ))
    }

    fn date_of(&mut self, text: &str, span: Span) -> Option<Instant> {
        let m = crate::time::Moment::parse(text);
        match m {
            Some(m) => Some(m.instant),
            None => {
                self.push(CheckError::BadLiteral {
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
    fn lifetime(&mut self, f: &ast::InForce) -> Lifetime {
        let start = match &f.from {
            None => Bound::Unbounded,
            Some(ast::Boundary::Date { text, span }) => {
                self.date_of(text, *span).map_or(Bound::Unbounded, Bound::At)
            }
            Some(ast::Boundary::Event(m)) => self.event_match(m).map_or(Bound::Unbounded, Bound::On),
        };
        let end = match &f.until {
            None => Bound::Unbounded,
            Some(ast::Boundary::Date { text, span }) => self
                .date_of(text, *span)
                .and_then(|i| Instant::end_of(i.date()))
                .map_or(Bound::Unbounded, Bound::At),
            Some(ast::Boundary::Event(m)) => self.event_match(m).map_or(Bound::Unbounded, Bound::On),
        };
        if let (Bound::At(s), Bound::At(e), Some(fb), Some(ub)) = (&start, &end, &f.from, &f.until) {
            if e <= s {
                self.push(CheckError::EndsBeforeStart {
                    start_span: fb.span().into(),
                    end_span: ub.span().into(),
                    start: s.date().to_string(),
                    end: e.date().yesterday().map(|d| d.to_string()).unwrap_or_default(),
                });
            }
        }
        Lifetime { start, end }
    }

    fn deal_term(&mut self, contract: &ast::Contract) -> Lifetime {
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

    fn clauses(&mut self, contract: &ast::Contract) {
        let mut seen: HashMap<String, Span> = HashMap::new();
        for clause in &contract.clauses {
            if let Some(first) = seen.get(&clause.name.name) {
                let first = *first;
                self.push(CheckError::Duplicate {
                    what: "clause",
                    name: clause.name.name.clone(),
                    span: clause.name.span.into(),
                    first: first.into(),
                    help: "give each clause its own name".to_string(),
                });
                continue;
            }
            seen.insert(clause.name.name.clone(), clause.name.span);
            let id = self.clauses.len();
            let mut lifetime = Lifetime {
                start: Bound::Unbounded,
                end: Bound::Unbounded,
            };
            for (i, f) in clause.in_force.iter().enumerate() {
                if i > 0 {
                    self.push(CheckError::Repeated {
                        what: "`in force`".to_string(),
                        span: f.span.into(),
                        first: clause.in_force[0].span.into(),
                    });
                    continue;
                }
                lifetime = self.lifetime(f);
            }
            let matches = |c: &mut Self, list: &[ast::EventMatch]| -> Vec<Match> {
                list.iter().filter_map(|m| c.event_match(m)).collect()
            };
            let suspended_on = matches(self, &clause.suspended_on);
            let resumed_on = matches(self, &clause.resumed_on);
            let ended_on = matches(self, &clause.ended_on);
            self.clauses.push(ClauseSpec {
                name: clause.name.name.clone(),
                span: clause.name.span,
                lifetime,
                suspended_on,
                resumed_on,
                ended_on,
                norms: Vec::new(),
            });
            for n in &clause.norms {
                let before = self.norms.len();
                self.norm(id, n);
                let added: Vec<NormId> = (before..self.norms.len()).collect();
                self.clauses[id].norms.extend(added);
            }
        }
    }
}

/// Which clauses and norms react to each event kind, in the order they must
/// react: acts are judged under the state before the event; then amounts
/// accrue, then payments settle them, then due dates waiting on the event
/// are fixed; then clauses end, are suspended, start or resume; and only
/// then do new instances arise.
fn listeners(p: &Program) -> Vec<Vec<Listener>> {
    const PHASES: usize = 6;
    let mut phases: Vec<Vec<Vec<Listener>>> = vec![vec![Vec::new(); PHASES]; p.events.len()];
    let mut settle_events: Vec<EventId> = Vec::new();
    for (id, n) in p.norms.iter().enumerate() {
        match &n.rule {
            NormRule::Accrual {
                per,
                settlements,
                growing_until,
                schedule,
                ..
            } => {
                if let Some(stop) = growing_until {
                    phases[*stop][0].push(Listener::Stop(id));
                }
                phases[per.event][1].push(Listener::Accrue(id));
                for s in settlements {
                    if !settle_events.contains(&s.event) {
                        settle_events.push(s.event);
                        phases[s.event][2].push(Listener::Settle);
                    }
                }
                let anchors = schedule
                    .iter()
                    .flat_map(|s| std::iter::once(&s.timing).chain(s.alternative.as_ref().map(|(_, t)| t)));
                for t in anchors {
                    if let Anchor::Event(ev) = t.anchor {
                        if !phases[ev][3].contains(&Listener::DueOn(id)) {
                            phases[ev][3].push(Listener::DueOn(id));
                        }
                    }
                }
            }
            NormRule::Power { renounced_by, .. } => {
                phases[n.action.event][0].push(Listener::Act(id));
                for r in renounced_by {
                    phases[r.event][0].push(Listener::Renounce(id));
                }
            }
            NormRule::Permission {
                activation: Some(ActivationSpec { unless: Some(ev), .. }),
                ..
            } => {
                phases[n.action.event][0].push(Listener::Act(id));
                phases[*ev][0].push(Listener::Cancel(id));
            }
            _ => phases[n.action.event][0].push(Listener::Act(id)),
        }
    }
    let on = |b: &Bound| match b {
        Bound::On(m) => Some(m.event),
        _ => None,
    };
    if let Some(ev) = on(&p.term.end) {
        phases[ev][4].push(Listener::DealEnd);
    }
    for (id, c) in p.clauses.iter().enumerate() {
        if let Some(ev) = on(&c.lifetime.end) {
            phases[ev][4].push(Listener::ClauseEnd(id));
        }
        for m in &c.ended_on {
            if !phases[m.event][4].contains(&Listener::ClauseEnd(id)) {
                phases[m.event][4].push(Listener::ClauseEnd(id));
            }
        }
        for m in &c.suspended_on {
            phases[m.event][4].push(Listener::ClauseSuspend(id));
        }
    }
    if let Some(ev) = on(&p.term.start) {
        phases[ev][5].push(Listener::DealStart);
    }
    for (id, c) in p.clauses.iter().enumerate() {
        if let Some(ev) = on(&c.lifetime.start) {
            phases[ev][5].push(Listener::ClauseStart(id));
        }
        for m in &c.resumed_on {
            phases[m.event][5].push(Listener::ClauseResume(id));
        }
    }
    for (id, n) in p.norms.iter().enumerate() {
        if let Instancing::PerEvent { trigger, .. } = &n.instancing {
            phases[trigger.event][5].push(Listener::Trigger(id));
        }
    }
    phases
        .into_iter()
        .map(|ph| ph.into_iter().flatten().collect())
        .collect()
}

/// Fills a term from the command line (`--set NAME=VALUE`).
pub fn set_term(program: &mut Program, name: &str, text: &str) -> Result<(), SetError> {
    let Some(tid) = program.term_id(name) else {
        let help = suggest(name, program.terms.iter().map(|t| t.name.as_str()));
        return Err(SetError::UnknownTerm {
            name: name.to_string(),
            help: if help.is_empty() {
                let names: Vec<&str> = program.terms.iter().map(|t| t.name.as_str()).collect();
                if names.is_empty() {
                    "this contract has no terms".to_string()
                } else {
                    format!("the terms are {}", names.join(", "))
                }
            } else {
                help
            },
        });
    };
    let want = program.terms[tid].ty;
    let bad = |why: String| SetError::BadValue {
        name: name.to_string(),
        text: text.to_string(),
        ty: want,
        why,
    };
    let e = crate::syntax::parse_expr(text).map_err(|err| bad(err.to_string()))?;
    let mut c = Checker {
        parties: program
            .parties
            .iter()
            .map(|p| (p.clone(), Span::default()))
            .collect(),
        terms: program.terms.clone(),
        ..Checker::default()
    };
    let scope = Scope {
        constant: true,
        ..Scope::default()
    };
    let checked = c.expr_of(&e, &scope, want);
    let Some(cexpr) = checked else {
        let why = c
            .errors
            .first()
            .map(|e| e.to_string())
            .unwrap_or_else(|| "not a value".to_string());
        return Err(bad(why));
    };
    let value = eval(&cexpr, &Ctx::constant(&program.terms))
        .map_err(|e| bad(e.to_string()))?
        .ok_or_else(|| bad("it depends on another open term".to_string()))?;
    program.terms[tid].value = Some(value);
    Ok(())
}

#[derive(Debug, Clone, thiserror::Error, miette::Diagnostic)]
pub enum SetError {
    #[error("`--set {name}=…` names no term of this contract")]
    #[diagnostic(code(deal::cli::unknown_term))]
    UnknownTerm {
        name: String,
        #[help]
        help: String,
    },
    #[error("`--set {name}={text}` is not {}: {why}", article(*ty))]
    #[diagnostic(
        code(deal::cli::bad_set),
        help("write the value as in the contract, e.g. `--set rate=12.5%`, `--set cap=1000 USD`, `--set window=30 days`")
    )]
    BadValue {
        name: String,
        text: String,
        ty: Type,
        why: String,
    },
}

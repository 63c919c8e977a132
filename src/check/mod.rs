//! Check: resolves names, checks types, and lowers every clause to core
//! norms. All independent problems are collected, not only the first.
//!
//! - [`names`]: parties, events and their fields, and looking names up;
//! - [`terms`]: terms and tables, dates and lifetimes;
//! - [`clauses`]: each clause, and where its norms go;
//! - [`types`], [`expr`], [`calls`]: expressions;
//! - [`lower`]: one file a form, each lowering to the core norms;
//! - [`listeners`]: who reacts to each event kind, in which phase;
//! - [`analysis`]: what only the whole contract shows.
//!
//! The commercial forms are known here and only here: each norm leaves with
//! its own words, so the interpreter knows nothing of them.

mod analysis;
mod calls;
mod clauses;
pub mod error;
mod expr;
mod listeners;
mod lower;
mod names;
mod terms;
mod time;
mod types;

use std::collections::{HashMap, HashSet};

pub use error::{CheckError, CheckFailure};
pub use expr::Scope;

use crate::diag::words::{article, suggest};
use crate::model::interpret::{eval, Ctx};
use crate::model::*;
use crate::syntax::ast;
use crate::value::Type;
use types::Sty;

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
    c.scripts(contract);
    c.events(contract);
    c.terms(contract);
    let term = c.deal_term(contract);
    c.clauses(contract);
    c.ticks_need_a_start(&term);
    let failed = c.errors.iter().any(|e| !e.is_warning());
    let program = if failed {
        None
    } else {
        let mut p = Program {
            title: contract.title.clone(),
            parties: std::mem::take(&mut c.parties),
            term,
            term_span: contract.term.as_ref().map(|t| t.span),
            terms: std::mem::take(&mut c.terms),
            events: std::mem::take(&mut c.events),
            clauses: std::mem::take(&mut c.clauses),
            norms: std::mem::take(&mut c.norms),
            trackers: std::mem::take(&mut c.trackers),
            breach_events: Table::new(),
            listeners: Table::new(),
            names: std::mem::take(&mut c.names),
            guards: std::mem::take(&mut c.guards),
            ticks: std::mem::take(&mut c.ticks),
        };
        p.breach_events = p
            .clauses
            .values()
            .map(|cl| p.event_id(&format!("breach of {}", cl.name)).unwrap_or_default())
            .collect();
        p.listeners = listeners::listeners(&p);
        let mut found = once_without_start(&p);
        found.extend(analysis::analyse(&p));
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

/// An amount owed once arises when its clause comes into force; a clause
/// in force from no date and no event has no such moment.
fn once_without_start(p: &Program) -> Vec<CheckError> {
    let unbounded = |b: &Bound| matches!(b, Bound::Unbounded);
    p.norms
        .values()
        .filter(|n| matches!(n.instancing, Instancing::Once))
        .filter(|n| {
            unbounded(&p.term.start)
                && p.clauses.get(n.clause).is_none_or(|c| unbounded(&c.lifetime.start))
        })
        .map(|n| {
            error::OwedForNothing {
                span: n.span.into(),
                help: "an amount owed once arises when its clause comes into force: give the deal or the clause a start, `in force from 2025-01-01`, or say what it is owed for, `… for each order`".to_string(),
            }
            .into()
        })
        .collect()
}

/// The types of a table term: its bounds, its values, whether it is tiered.
#[derive(Debug, Clone, Copy)]
struct TableTypes {
    key: Option<Sty>,
    value: Sty,
    tiered: bool,
}

/// How many suggestions one check computes at most: each compares a name
/// with many, and a contract full of typos must not make checking quadratic.
const SUGGESTIONS: usize = 500;

pub(crate) struct Checker {
    errors: Vec<CheckError>,
    parties: Table<PartyId, Party>,
    names: Names,
    terms: Table<TermId, TermSlot>,
    events: Table<EventId, EventSpec>,
    clauses: Table<ClauseId, ClauseSpec>,
    norms: Table<NormId, NormSpec>,
    used_terms: HashSet<TermId>,
    used_events: HashSet<EventId>,
    trackers: Table<TrackerId, Tracker>,
    table_types: HashMap<TermId, TableTypes>,
    /// Every field name of every event, for telling a term's value that
    /// reads a field.
    field_names: HashSet<String>,
    /// Terms whose definition had errors: already reported, so a use of
    /// one is not reported again as an unknown name.
    broken_terms: HashSet<String>,
    suggestions_left: usize,
    guards: Vec<Guard>,
    /// The time events the contract names, each made a derived event.
    ticks: Vec<Tick>,
}

impl Default for Checker {
    fn default() -> Checker {
        Checker {
            errors: Vec::new(),
            parties: Table::new(),
            names: Names::default(),
            terms: Table::new(),
            events: Table::new(),
            clauses: Table::new(),
            norms: Table::new(),
            used_terms: HashSet::new(),
            used_events: HashSet::new(),
            trackers: Table::new(),
            table_types: HashMap::new(),
            field_names: HashSet::new(),
            broken_terms: HashSet::new(),
            suggestions_left: SUGGESTIONS,
            guards: Vec::new(),
            ticks: Vec::new(),
        }
    }
}

impl Checker {
    fn push(&mut self, e: impl Into<CheckError>) {
        self.errors.push(e.into());
    }

    /// "did you mean …?", while the budget of suggestions lasts.
    fn suggest<'c>(&mut self, name: &str, candidates: impl Iterator<Item = &'c str>) -> String {
        if self.suggestions_left == 0 {
            return String::new();
        }
        self.suggestions_left -= 1;
        suggest(name, candidates)
    }

    fn event_spec(&self, ev: EventId) -> Option<&EventSpec> {
        self.events.get(ev)
    }

    fn event_name(&self, ev: EventId) -> String {
        self.events.get(ev).map(|e| e.name.clone()).unwrap_or_default()
    }

    fn party_name(&self, p: PartyId) -> String {
        self.parties.get(p).map(|p| p.name.clone()).unwrap_or_default()
    }

    /// The type of a field of an event.
    fn field_type(&self, ev: EventId, f: FieldId) -> Option<Type> {
        self.events.get(ev)?.fields.get(f).map(|f| f.ty)
    }
}

/// Fills a term from the command line (`--set NAME=VALUE`).
pub fn set_term(program: &mut Program, name: &str, text: &str) -> Result<(), SetError> {
    let Some(tid) = program.term_id(name) else {
        let help = suggest(name, program.terms.values().map(|t| t.name.as_str()));
        return Err(SetError::UnknownTerm {
            name: name.to_string(),
            help: if help.is_empty() {
                let names: Vec<&str> = program.terms.values().map(|t| t.name.as_str()).collect();
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
    let Some(want) = program.terms.get(tid).map(|t| t.ty) else {
        return Err(SetError::UnknownTerm {
            name: name.to_string(),
            help: String::new(),
        });
    };
    if program.terms.get(tid).is_some_and(|t| t.table.is_some()) {
        return Err(SetError::Table {
            name: name.to_string(),
        });
    }
    let bad = |why: String| SetError::BadValue {
        name: name.to_string(),
        text: text.to_string(),
        ty: want,
        why,
    };
    let e = crate::syntax::parse_expr(text).map_err(|err| bad(err.to_string()))?;
    let mut c = Checker {
        parties: program.parties.clone(),
        names: program.names.clone(),
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
    if let Some(slot) = program.terms.get_mut(tid) {
        slot.value = Some(value);
        // Its value is now given, not worked out.
        slot.expr = None;
    }
    Ok(())
}

/// After `--set`: every term worked out from others is worked out again,
/// in the order written, and the analyses a written value passes run on the
/// program as it now is. Returns what they find; errors stop a run.
pub fn settle_terms(program: &mut Program) -> Vec<CheckError> {
    let mut found = Vec::new();
    let ids: Vec<TermId> = program.terms.ids().collect();
    for id in ids {
        let Some(expr) = program.terms.get(id).and_then(|t| t.expr.clone()) else {
            continue;
        };
        match eval(&expr, &Ctx::constant(&program.terms)) {
            Ok(v) => {
                if let Some(slot) = program.terms.get_mut(id) {
                    slot.value = v;
                }
            }
            Err(err) => {
                let name = program.terms.get(id).map(|t| t.name.clone()).unwrap_or_default();
                found.push(
                    error::BadLiteral {
                        text: name,
                        what: "term value",
                        span: err.span.unwrap_or(expr.span).into(),
                        help: format!("{err}, with the values given by `--set`"),
                    }
                    .into(),
                );
            }
        }
    }
    found.extend(analysis::analyse(program).into_iter().filter(|e| !e.is_warning()));
    found
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
    #[error("`--set {name}=…` names a table")]
    #[diagnostic(
        code(deal::cli::set_table),
        help("a table's rows are written in the contract; `--set` gives a value to a term written as one value")
    )]
    Table { name: String },
}

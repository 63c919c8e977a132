//! The checked and lowered contract: names resolved to indices, types known,
//! and every clause expressed as core norms. This is all the interpreter
//! sees; it never looks at the AST.

pub mod dump;
mod expr;
mod ids;
pub mod interpret;

use std::collections::HashMap;

pub use expr::*;
pub use ids::{ById, ClauseId, EventId, FieldId, Id, NormId, PartyId, Table, TermId, TrackerId};

use crate::ops::{Period, Span};
use crate::time::Instant;
use crate::value::{Type, Value};

#[derive(Debug, Clone)]
pub struct Program {
    pub title: String,
    pub parties: Table<PartyId, Party>,
    pub term: Lifetime,
    pub term_span: Option<Span>,
    pub terms: Table<TermId, TermSlot>,
    pub events: Table<EventId, EventSpec>,
    pub clauses: Table<ClauseId, ClauseSpec>,
    pub norms: Table<NormId, NormSpec>,
    /// Running counts and sums over events, read by expressions.
    pub trackers: Table<TrackerId, Tracker>,
    /// For each clause, the derived event `breach of` it.
    pub breach_events: Table<ClauseId, EventId>,
    /// For each event kind, who reacts to it, in the order they must.
    pub listeners: Table<EventId, Vec<Listener>>,
    /// Parties, events and terms by name.
    pub names: Names,
    /// Divisors and periods worked out from terms alone: checked when the
    /// contract is, and again when `--set` changes a term.
    pub guards: Vec<Guard>,
    /// Moments the clock makes occasions of (`the end of each quarter`),
    /// each raised as its derived event when it comes.
    pub ticks: Vec<Tick>,
}

/// A time event of the contract and the derived event it is raised as.
/// The event has two fields: `start` and `end`, the first and last day of
/// the period it opens or closes (the day itself for `on DATE`).
#[derive(Debug, Clone)]
pub struct Tick {
    pub event: EventId,
    pub when: crate::time::TimeEvent,
    pub span: Span,
}

/// An expression over terms only whose value must stay in bounds.
#[derive(Debug, Clone)]
pub enum Guard {
    /// Divides: must not be zero.
    Divisor(CExpr),
    /// A period or a delay: must not be negative.
    Period(CExpr),
}

/// Names to ids, built once.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub parties: HashMap<String, PartyId>,
    pub events: HashMap<String, EventId>,
    pub terms: HashMap<String, TermId>,
}

#[derive(Debug, Clone)]
pub struct Party {
    pub name: String,
    pub span: Span,
}

/// `count(E where C since F)` or `sum(E.field where C since F)`.
#[derive(Debug, Clone)]
pub struct Tracker {
    pub event: EventId,
    pub span: Span,
    pub condition: Option<CExpr>,
    /// Starts again from zero at each of these events.
    pub since: Option<EventId>,
    /// The field summed; a count when `None`.
    pub field: Option<FieldId>,
    /// Only events this recent count.
    pub window: Option<crate::value::Duration>,
}

impl Program {
    pub fn event_id(&self, name: &str) -> Option<EventId> {
        self.names.events.get(name).copied()
    }

    pub fn party_id(&self, name: &str) -> Option<PartyId> {
        self.names.parties.get(name).copied()
    }

    pub fn term_id(&self, name: &str) -> Option<TermId> {
        self.names.terms.get(name).copied()
    }

    /// A party's name, or nothing for an id this program did not give.
    pub fn party_name(&self, p: PartyId) -> &str {
        self.parties.get(p).map_or("", |p| p.name.as_str())
    }

    pub fn event_name(&self, e: EventId) -> &str {
        self.events.get(e).map_or("", |e| e.name.as_str())
    }

    pub fn clause_name(&self, c: ClauseId) -> &str {
        self.clauses.get(c).map_or("", |c| c.name.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct TermSlot {
    pub name: String,
    pub ty: Type,
    /// `None` while the term is `open` and not set on the command line,
    /// and for tables.
    pub value: Option<Value>,
    pub table: Option<TableSpec>,
    /// What a term's value is worked out from, when it is written as an
    /// expression: worked out again when a term it reads is set.
    pub expr: Option<CExpr>,
    pub span: Span,
}

impl TermSlot {
    /// Agreed in principle, value not fixed: `open` in the contract and not
    /// set since. A term worked out from an open one is not itself open.
    pub fn is_open(&self) -> bool {
        self.value.is_none() && self.table.is_none() && self.expr.is_none()
    }
}

#[derive(Debug, Clone)]
pub struct TableSpec {
    pub tiered: bool,
    pub rows: Vec<RowSpec>,
}

#[derive(Debug, Clone)]
pub struct RowSpec {
    pub above: Option<CExpr>,
    pub from: Option<CExpr>,
    pub up_to: Option<CExpr>,
    pub below: Option<CExpr>,
    pub otherwise: bool,
    pub value: CExpr,
}

#[derive(Debug, Clone)]
pub struct EventSpec {
    pub name: String,
    pub fields: Table<FieldId, FieldSpec>,
    pub span: Span,
    /// Found by deal itself (the breach of a clause), never read from events.
    pub derived: bool,
}

impl EventSpec {
    pub fn field(&self, name: &str) -> Option<FieldId> {
        self.fields.iter().find(|(_, f)| f.name == name).map(|(id, _)| id)
    }

    pub fn field_spec(&self, name: &str) -> Option<(FieldId, &FieldSpec)> {
        self.fields.iter().find(|(_, f)| f.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct FieldSpec {
    pub name: String,
    pub ty: Type,
    pub optional: bool,
    pub span: Span,
}

/// When something starts or ends.
#[derive(Debug, Clone)]
pub enum Bound {
    /// No bound of its own: the deal's term decides.
    Unbounded,
    At(Instant),
    On(Match),
}

#[derive(Debug, Clone)]
pub struct Lifetime {
    pub start: Bound,
    pub end: Bound,
}

/// An event kind with an optional condition on its fields.
#[derive(Debug, Clone)]
pub struct Match {
    pub event: EventId,
    pub condition: Option<CExpr>,
}

#[derive(Debug, Clone)]
pub struct ClauseSpec {
    pub name: String,
    pub span: Span,
    pub lifetime: Lifetime,
    pub suspended_on: Vec<Match>,
    pub resumed_on: Vec<Match>,
    pub ended_on: Vec<Match>,
    pub norms: Vec<NormId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NormKind {
    Obligation,
    Permission,
    Prohibition,
    Power,
}

impl NormKind {
    pub fn name(self) -> &'static str {
        match self {
            NormKind::Obligation => "obligation",
            NormKind::Permission => "permission",
            NormKind::Prohibition => "prohibition",
            NormKind::Power => "power",
        }
    }
}

/// An act: an event kind, correlated to the norm instance by a key field,
/// narrowed by a condition.
#[derive(Debug, Clone)]
pub struct ActionSpec {
    pub event: EventId,
    /// Field of the act that must equal the instance's key.
    pub key: Option<FieldId>,
    pub condition: Option<CExpr>,
}

/// How instances of a norm come to exist.
#[derive(Debug, Clone)]
pub enum Instancing {
    /// One instance, alive while its clause is in force.
    Single,
    /// One instance per occurrence of the trigger, keyed by one of its fields.
    PerEvent { trigger: Match, key: Option<FieldId> },
    /// One instance each time an instance of another norm lapses; it takes
    /// over that instance's key and trigger fields.
    OnLapse { norm: NormId },
    /// One instance per calendar period or accrual, made by the ledger.
    PerAccrual,
    /// One amount owed, arising once when its clause comes into force
    /// (`Buyer must pay Seller 100 USD by 2025-01-01`); made by the ledger.
    Once,
}

/// `from 16 days after, unless delivered first`.
#[derive(Debug, Clone)]
pub struct ActivationSpec {
    pub delay: CExpr,
    pub unless: Option<EventId>,
    /// `unless F with the same K first`: K in F, and K in the event that
    /// made the instance; F pairs only with an instance of its key.
    pub unless_key: Option<(FieldId, FieldId)>,
}

#[derive(Debug, Clone)]
pub enum DueRule {
    /// Counted from the instance's creation.
    After(CExpr),
    /// A fixed date or instant.
    By(CExpr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Accrual,
    EachPeriod(Period),
    ItsPeriod(Period),
    Event(EventId),
    /// `due by D`: the timing's grace is the date D.
    Date,
}

#[derive(Debug, Clone)]
pub struct Timing {
    pub grace: CExpr,
    pub anchor: Anchor,
}

#[derive(Debug, Clone)]
pub struct Schedule {
    pub timing: Timing,
    pub alternative: Option<(CExpr, Timing)>,
}

/// An event that pays amounts owed: which fields say who pays whom how
/// much. Without `from` and `to`, the clause's own parties are meant.
#[derive(Debug, Clone)]
pub struct Settlement {
    pub event: EventId,
    pub condition: Option<CExpr>,
    pub from: Option<FieldId>,
    pub to: Option<FieldId>,
    pub amount: FieldId,
    /// How much of the payment counts.
    pub applying: Option<CExpr>,
}

#[derive(Debug, Clone)]
pub enum NormRule {
    Obligation {
        due: Option<DueRule>,
    },
    Permission {
        /// For one act only: the act it permits uses it up.
        once: bool,
        activation: Option<ActivationSpec>,
        window: Option<CExpr>,
        /// Further condition on the act, which may read the instance's
        /// trigger fields (`price >= offer.price`).
        only_if: Option<CExpr>,
    },
    Prohibition {
        /// Permissions whose active instance, for the act's key, excuses it.
        excepted_by: Vec<NormId>,
    },
    Power {
        window: Option<CExpr>,
        /// Acts that close the power unused: a refusal, or the act of an
        /// alternative power.
        renounced_by: Vec<ActionSpec>,
        /// Whether a renouncing act is an act of its own, ineffective when
        /// there is nothing to renounce (a refusal is; an alternative's act
        /// is judged by its own power).
        renounce_is_an_act: bool,
    },
    Accrual {
        amount: CExpr,
        per: Match,
        /// Re-evaluated as time passes, until the first of these events.
        growing_until: Option<EventId>,
        /// `growing until F with the same K`: K in F, and K in the event the
        /// amount arose on; F stops only an amount of its key.
        growing_key: Option<(FieldId, FieldId)>,
        schedule: Option<Schedule>,
        settlements: Vec<Settlement>,
    },
}

#[derive(Debug, Clone)]
pub struct NormSpec {
    pub clause: ClauseId,
    pub kind: NormKind,
    pub bearer: PartyId,
    pub counterparty: Option<PartyId>,
    pub action: ActionSpec,
    pub instancing: Instancing,
    pub rule: NormRule,
    /// What the norm says, in words, for reports.
    pub summary: String,
    /// How its breaches and ineffective acts are put in words: written by
    /// the lowering of its form, so that the engine never needs to know
    /// which form made it.
    pub words: Words,
    /// The written form it was lowered from, for the contract analyses.
    pub form: Form,
    pub span: Span,
}

/// The words the engine uses for what a norm's acts came to.
#[derive(Debug, Clone, Default)]
pub struct Words {
    /// For a prohibition: what would have been allowed instead.
    pub allowed: Option<String>,
    /// For a permission that excuses acts: why it did not cover one.
    pub uncovered: Uncovered,
    /// What makes an instance: `cloud_offer` in "there is no cloud_offer
    /// `x` to answer". Empty for a norm of one instance.
    pub occasion: String,
}

/// Why a permission did not cover an act, in terms of what is known then.
#[derive(Debug, Clone, Default)]
pub enum Uncovered {
    /// "it is not covered by: {summary}".
    #[default]
    Plain,
    /// A permission made by an earlier event (a consent): "no consent
    /// `x` came before it".
    NoPrior,
    /// A permission passed on when another party's power lapsed (a first
    /// refusal): explained by what became of that power for the act's key.
    PassedOn {
        holder: String,
        offer: String,
        answer: String,
        power: NormId,
    },
}

/// The written form a core norm came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Form {
    /// Written as a core norm.
    Core,
    /// An exclusivity: `holder` is the exclusive `subject` of the bearer.
    Exclusive { subject: String, holder: PartyId },
    /// A share: `rate` of the field `base` of each `per` event, when the
    /// amount is written that way.
    Share {
        per: EventId,
        base: Option<FieldId>,
        rate: Option<TermOrRate>,
    },
}

/// A share's rate: a literal percentage or a term.
#[derive(Debug, Clone, PartialEq)]
pub enum TermOrRate {
    Rate(rust_decimal::Decimal),
    Term(TermId),
}

/// Who reacts to an event kind, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listener {
    ClauseStart(ClauseId),
    ClauseEnd(ClauseId),
    ClauseSuspend(ClauseId),
    ClauseResume(ClauseId),
    DealStart,
    DealEnd,
    Trigger(NormId),
    Act(NormId),
    Renounce(NormId),
    /// `unless F first`: F cancels a pending activation.
    Cancel(NormId),
    /// `growing until F`: F stops a growing amount.
    Stop(NormId),
    /// F fixes the due date of amounts waiting for it.
    DueOn(NormId),
    Accrue(NormId),
    /// Settles amounts owed; one listener per settlement event, whatever the
    /// number of clauses paid by it, so that a payment is applied once.
    Settle,
}

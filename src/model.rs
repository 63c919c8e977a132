//! The checked and lowered contract: names resolved to indices, types known,
//! and every clause expressed as core norms. This is all the interpreter
//! sees; it never looks at the AST.

use crate::syntax::ast::{BinOp, Period, Span, UnOp};
use crate::time::Instant;
use crate::value::{Type, Value};

pub type PartyId = usize;
pub type EventId = usize;
pub type FieldId = usize;
pub type TermId = usize;
pub type ClauseId = usize;
pub type NormId = usize;

#[derive(Debug, Clone)]
pub struct Program {
    pub title: String,
    pub parties: Vec<String>,
    pub term: Lifetime,
    pub term_span: Option<Span>,
    pub terms: Vec<TermSlot>,
    pub events: Vec<EventSpec>,
    pub clauses: Vec<ClauseSpec>,
    pub norms: Vec<NormSpec>,
    /// For each event kind, who reacts to it.
    pub listeners: Vec<Vec<Listener>>,
}

impl Program {
    pub fn event_id(&self, name: &str) -> Option<EventId> {
        self.events.iter().position(|e| e.name == name)
    }

    pub fn party_id(&self, name: &str) -> Option<PartyId> {
        self.parties.iter().position(|p| p == name)
    }

    pub fn term_id(&self, name: &str) -> Option<TermId> {
        self.terms.iter().position(|t| t.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct TermSlot {
    pub name: String,
    pub ty: Type,
    /// `None` while the term is `open` and not set on the command line.
    pub value: Option<Value>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct EventSpec {
    pub name: String,
    pub fields: Vec<FieldSpec>,
    pub span: Span,
}

impl EventSpec {
    pub fn field(&self, name: &str) -> Option<FieldId> {
        self.fields.iter().position(|f| f.name == name)
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
}

#[derive(Debug, Clone)]
pub enum DueRule {
    /// Counted from the instance's creation.
    After(CExpr),
    /// A fixed date or instant.
    By(CExpr),
}

#[derive(Debug, Clone)]
pub struct Schedule {
    pub grace: CExpr,
    pub period: Option<Period>,
}

/// The event that pays amounts owed: which fields say who pays whom how much.
#[derive(Debug, Clone)]
pub struct Settlement {
    pub event: EventId,
    pub from: FieldId,
    pub to: FieldId,
    pub amount: FieldId,
}

#[derive(Debug, Clone)]
pub enum NormRule {
    Obligation {
        due: DueRule,
    },
    Permission {
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
        renounced_by: Option<ActionSpec>,
    },
    Accrual {
        amount: CExpr,
        per: Match,
        schedule: Schedule,
        settlement: Settlement,
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
    /// The written form it was lowered from, for the contract analyses.
    pub form: Form,
    pub span: Span,
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
    Accrue(NormId),
    /// Settles amounts owed; one listener per settlement event, whatever the
    /// number of clauses paid by it, so that a payment is applied once.
    Settle,
}

/// A checked expression: names resolved, types known.
#[derive(Debug, Clone)]
pub enum CExpr {
    Const(Value),
    /// A field of the event being matched.
    Field(FieldId),
    /// A field of the event that created the norm instance.
    Bound(FieldId),
    Term(TermId),
    Unary(UnOp, Box<CExpr>),
    Binary(BinOp, Box<CExpr>, Box<CExpr>),
    Call(Func, Vec<CExpr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Min,
    Max,
}

impl Func {
    pub const ALL: [(&'static str, Func); 2] = [("min", Func::Min), ("max", Func::Max)];
}

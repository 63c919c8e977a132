//! The abstract syntax of a `.deal` file: what was written, with a span on
//! every node, before any name is resolved or any type is checked.

use rust_decimal::Decimal;

pub use crate::ops::{BinOp, Period, Span, UnOp};

/// A name as written, with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Contract {
    pub title: String,
    pub title_span: Span,
    pub parties: Vec<Ident>,
    pub term: Option<InForce>,
    pub terms: Vec<TermDef>,
    pub events: Vec<EventDecl>,
    pub clauses: Vec<Clause>,
    /// Sections that may appear once but were written again.
    pub repeated_sections: Vec<(&'static str, Span, Span)>,
}

#[derive(Debug, Clone)]
pub struct InForce {
    pub from: Option<Boundary>,
    pub until: Option<Boundary>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum Boundary {
    Date {
        text: String,
        span: Span,
    },
    Event(EventMatch),
    /// A date worked out from literals and terms: `effective_date + 2 years`.
    Expr(Expr),
}

impl Boundary {
    pub fn span(&self) -> Span {
        match self {
            Boundary::Date { span, .. } => *span,
            Boundary::Event(m) => m.span,
            Boundary::Expr(e) => e.span,
        }
    }
}

#[derive(Debug, Clone)]
pub struct TermDef {
    pub name: Ident,
    pub value: TermValue,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum TermValue {
    Open { ty: Ident },
    Expr(Expr),
    Table(Table),
}

/// A rate table. Rows are tried in order; a tiered table instead adds up,
/// band by band, each row's rate applied to the part of the amount in it.
#[derive(Debug, Clone)]
pub struct Table {
    pub tiered: bool,
    pub rows: Vec<TableRow>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct TableRow {
    /// Exclusive lower bound (`above`).
    pub above: Option<Expr>,
    /// Inclusive lower bound (`from`).
    pub from: Option<Expr>,
    /// Inclusive upper bound (`up to`).
    pub up_to: Option<Expr>,
    /// Exclusive upper bound (`below`).
    pub below: Option<Expr>,
    pub otherwise: bool,
    pub value: Expr,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct EventDecl {
    pub name: Ident,
    pub fields: Vec<FieldDecl>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct FieldDecl {
    pub name: Ident,
    pub ty: Ident,
    pub optional: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Clause {
    pub name: Ident,
    pub in_force: Vec<InForce>,
    pub suspended_on: Vec<EventMatch>,
    pub resumed_on: Vec<EventMatch>,
    pub ended_on: Vec<EventMatch>,
    pub norms: Vec<Norm>,
    pub span: Span,
}

/// An event kind, optionally narrowed by a condition on its fields.
#[derive(Debug, Clone)]
pub struct EventMatch {
    pub event: Ident,
    pub condition: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Norm {
    /// `after each E,`: one instance of the norm per occurrence of E.
    pub trigger: Option<EventMatch>,
    pub bearer: Ident,
    pub body: NormBody,
    pub span: Span,
}

/// An act: an event kind, optionally correlated with the triggering event by
/// a shared field, and narrowed by a condition.
#[derive(Debug, Clone)]
pub struct Action {
    pub event: Ident,
    pub same_key: Option<Ident>,
    pub condition: Option<Expr>,
    pub span: Span,
}

/// `unless preceded by consent with the same ref`
#[derive(Debug, Clone)]
pub struct Exception {
    pub event: Ident,
    pub same_key: Option<Ident>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum Deadline {
    Within {
        duration: Expr,
        after: Option<EventMatch>,
        span: Span,
    },
    By {
        date: Expr,
        span: Span,
    },
}

// Norms are few and built once per contract; boxing the common variants
// would only add noise to the builder.

/// `from 16 days after, unless delivered first`
#[derive(Debug, Clone)]
pub struct Activation {
    pub delay: Expr,
    pub unless: Option<Ident>,
    /// `unless F with the same K first`.
    pub unless_key: Option<Ident>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum NormBody {
    Obligation {
        action: Action,
        payee: Option<Ident>,
        deadline: Option<Deadline>,
    },
    Prohibition {
        action: Action,
        exception: Option<Exception>,
    },
    Permission {
        action: Action,
        activation: Option<Activation>,
        window: Option<Expr>,
    },
    /// Several actions are alternatives: using one closes the others.
    Power {
        actions: Vec<Action>,
        window: Option<Expr>,
    },
    Exclusive(Box<Exclusive>),
    FirstRefusal(Box<FirstRefusal>),
    Owes(Box<Owes>),
}

#[derive(Debug, Clone)]
pub struct Exclusive {
    /// Where the whole of it is written.
    pub span: Span,
    pub subject: Vec<Ident>,
    pub grantor: Ident,
    pub role_field: Ident,
    pub event: Ident,
    pub condition: Option<Expr>,
    pub exception: Option<Exception>,
}

#[derive(Debug, Clone)]
pub struct FirstRefusal {
    /// Where the whole of it is written.
    pub span: Span,
    pub deal_event: Ident,
    pub grantor: Ident,
    pub condition: Option<Expr>,
    pub offered_by: Option<Ident>,
    pub accepted_by: Option<Ident>,
    pub declined_by: Option<Ident>,
    pub matched_on: Option<Ident>,
    pub window: Option<Expr>,
    pub only_if: Option<Expr>,
    /// Parts written twice: (part, first span, second span).
    pub repeated: Vec<(&'static str, Span, Span)>,
}

/// What a due date is counted from.
#[derive(Debug, Clone)]
pub enum Anchor {
    /// The accrual itself.
    Accrual,
    /// The end of the calendar period; amounts of one period are one debt.
    EachPeriod(Period),
    /// The end of the accrual's calendar period; each accrual its own debt.
    ItsPeriod(Period),
    /// The next occurrence of an event.
    Event(Ident),
    /// `due by D`: the timing's `grace` is the date D itself.
    Date,
}

#[derive(Debug, Clone)]
pub struct Timing {
    pub grace: Expr,
    pub anchor: Anchor,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Schedule {
    pub timing: Timing,
    /// `or where C, within D after E`: the timing for accruals where C holds.
    pub alternative: Option<(Expr, Timing)>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct SettledBy {
    /// Where the whole of it is written.
    pub span: Span,
    pub event: EventMatch,
    /// How much of the payment counts, e.g. whole units only.
    pub applying: Option<Expr>,
}

#[derive(Debug, Clone)]
pub struct Owes {
    /// Where the whole of it is written.
    pub span: Span,
    pub payee: Ident,
    pub amount: Expr,
    /// `for each E`; the norm's `after each` serves when absent.
    pub per: Option<EventMatch>,
    /// `growing until E`: the amount is re-evaluated as time passes.
    pub growing_until: Option<Ident>,
    /// `growing until E with the same K`.
    pub growing_key: Option<Ident>,
    /// `for each E with the same K`: `D.field` reads the latest D of E's K.
    pub per_key: Option<Ident>,
    pub schedule: Option<Schedule>,
    pub settled_by: Vec<SettledBy>,
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Minutes,
    Hours,
    Days,
    Weeks,
    Months,
    Years,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Number(Decimal),
    Percent(Decimal),
    Money(Decimal, String),
    Duration(Decimal, Unit),
    Date(String),
    DateTime(String),
    Text(String),
    Bool(bool),
    /// A bare name: a field, a term, a party, or a binder.
    Name(Ident),
    /// `offer.price`
    Field(Ident, Ident),
    Call(Ident, Vec<Expr>),
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `count(E where C since F)` or `sum(E.field where C since F)`.
    Aggregate(Box<Aggregate>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
}

#[derive(Debug, Clone)]
pub struct Aggregate {
    /// Where the whole of it is written.
    pub span: Span,
    pub sum: bool,
    pub event: Ident,
    pub field: Option<Ident>,
    pub condition: Option<Expr>,
    pub since: Option<Ident>,
    /// Only events within this long before now count.
    pub window: Option<Expr>,
}

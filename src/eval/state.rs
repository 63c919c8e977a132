//! The state the engine holds between events.

use std::sync::Arc;

use crate::model::{ClauseId, EventId, NormId, PartyId};
use crate::time::{Instant, Moment};
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Status {
    #[default]
    Inactive,
    Active,
    Suspended,
    Ended,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Inactive => "inactive",
            Status::Active => "active",
            Status::Suspended => "suspended",
            Status::Ended => "ended",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ClauseState {
    pub status: Status,
    pub since: Option<Instant>,
    pub started: bool,
    pub ended: bool,
    /// Ended by an `ended on` event rather than by its term.
    pub discharged: bool,
    pub suspended: bool,
    pub suspended_at: Option<Instant>,
}

/// The lifecycle state of a norm instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NState {
    Inactive,
    Active,
    Suspended,
    Fulfilled,
    Violated,
    Discharged,
    Expired,
    Ended,
    Exercised,
    Lapsed,
}

impl NState {
    pub fn name(self) -> &'static str {
        match self {
            NState::Inactive => "inactive",
            NState::Active => "active",
            NState::Suspended => "suspended",
            NState::Fulfilled => "fulfilled",
            NState::Violated => "violated",
            NState::Discharged => "discharged",
            NState::Expired => "expired",
            NState::Ended => "ended",
            NState::Exercised => "exercised",
            NState::Lapsed => "lapsed",
        }
    }
}

/// When an instance falls due: the first late instant, and how to show the
/// deadline (the last day on time, or the exact instant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub late_from: Instant,
    pub shown: String,
    pub date_only: bool,
}

#[derive(Debug, Clone)]
pub struct Instance {
    /// The correlation key (`ref`) it was created for.
    pub key: Option<String>,
    /// Fields of the event that created it.
    pub payload: Arc<[Option<Value>]>,
    pub state: NState,
    pub since: Option<Instant>,
    pub due: Option<Due>,
    /// Line of the event that created it.
    pub line: Option<usize>,
    /// Bumped when the deadline moves, so stale timers are ignored.
    pub gen: u32,
    pub note: Option<String>,
    /// When the event that created it happened.
    pub born: Option<Moment>,
    /// Whether an `unless … first` event has been paired with it.
    pub matched: bool,
}

#[derive(Debug, Clone)]
pub struct Breach {
    pub clause: ClauseId,
    pub norm: NormId,
    pub party: PartyId,
    /// As shown: the event's `at`, or the due date for a missed deadline.
    pub at: String,
    pub instant: Instant,
    /// Line of the breaching event; `None` when time passing caused it.
    pub line: Option<usize>,
    /// The breaching event's line as read.
    pub raw: Option<Arc<str>>,
    pub event: Option<EventId>,
    pub reason: String,
    /// What would have been allowed instead.
    pub allowed: Option<String>,
}

/// An act that changed nothing, such as an acceptance after the window.
#[derive(Debug, Clone)]
pub struct Ineffective {
    pub clause: ClauseId,
    pub line: usize,
    pub at: String,
    pub event: EventId,
    pub reason: String,
}

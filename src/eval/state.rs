//! The state the engine holds between events, as the report reads it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use smol_str::SmolStr;

use crate::model::{ClauseId, EventId, NormId, PartyId};
use crate::time::{show_instant, Instant, Moment};
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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
    /// Past due with an amount that waits on an open term: violated if
    /// that amount turns out to be anything, fulfilled if it is nothing.
    Undetermined,
}

impl NState {
    pub const ALL: [NState; 11] = [
        NState::Inactive,
        NState::Active,
        NState::Suspended,
        NState::Fulfilled,
        NState::Violated,
        NState::Discharged,
        NState::Expired,
        NState::Ended,
        NState::Exercised,
        NState::Lapsed,
        NState::Undetermined,
    ];

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
            NState::Undetermined => "undetermined",
        }
    }

    /// Whether an instance in this state can still change.
    pub fn is_open(self) -> bool {
        matches!(self, NState::Inactive | NState::Active | NState::Suspended)
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// When an instance falls due: the first late instant, and whether the
/// deadline is a whole day (shown as its last day) or an exact instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Due {
    pub late_from: Instant,
    pub date_only: bool,
}

impl Due {
    /// The last day on time, or the instant.
    pub fn shown(&self) -> String {
        if self.date_only {
            self.late_from
                .just_before()
                .map(|x| x.date().to_string())
                .unwrap_or_default()
        } else {
            self.late_from.to_string()
        }
    }
}

/// What happened to an instance besides its state, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Note {
    /// A power closed by a refusal (or an alternative's act).
    AnsweredBy { event: EventId, at: Moment },
    /// An obligation performed after it was violated.
    PerformedLate { at: Moment },
    /// `unless F first`: F came before the permission came into force.
    CameFirst { event: EventId, at: Moment },
    /// A permission for one act, used by it.
    UsedBy { event: EventId, at: Moment },
    /// Its deadline depends on an open term: whether it is met cannot be
    /// known until the term is set.
    DueOpen,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Instance {
    /// Creation order among all instances of the run.
    pub seq: u64,
    /// The correlation key (`ref`) it was created for.
    pub key: Option<SmolStr>,
    /// The event that created it, kept only when the norm reads it.
    pub payload: Option<Arc<Trigger>>,
    pub state: NState,
    pub since: Option<Instant>,
    pub due: Option<Due>,
    /// Bumped when the deadline moves, so stale timers are ignored.
    pub gen: u32,
    /// Rare, so held apart.
    pub note: Option<Box<Note>>,
}

/// The event that made an instance, as its norm reads it (`offer.price`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trigger {
    pub at: Option<Moment>,
    pub fields: Box<[Option<Value>]>,
}

/// Instances of a norm that closed in one state: how many, and when the
/// last of them did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Closed {
    pub count: u64,
    pub last: Option<Instant>,
}

/// An instant as written in a saved record.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Stamp {
    s: i64,
    n: i32,
}

mod stamp {
    use super::{Instant, Stamp};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(i: &Instant, s: S) -> Result<S::Ok, S::Error> {
        let (sec, n) = i.parts();
        Stamp { s: sec, n }.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Instant, D::Error> {
        let st = Stamp::deserialize(d)?;
        Instant::from_parts(st.s, st.n).ok_or_else(|| serde::de::Error::custom("instant out of range"))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Breach {
    pub clause: ClauseId,
    pub norm: NormId,
    pub party: PartyId,
    /// As shown: the event's `at`, or the due date for a missed deadline.
    pub at: String,
    #[serde(with = "stamp")]
    pub instant: Instant,
    /// Line of the breaching event; `None` when time passing caused it.
    pub line: Option<usize>,
    /// The breaching event's line as read.
    pub raw: Option<String>,
    pub event: Option<EventId>,
    pub reason: String,
    /// What would have been allowed instead.
    pub allowed: Option<String>,
}

/// An act that changed nothing, such as an acceptance after the window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ineffective {
    pub clause: ClauseId,
    pub line: usize,
    pub at: String,
    pub event: EventId,
    pub reason: String,
}

impl super::spool::Weigh for Breach {
    fn weight(&self) -> usize {
        self.raw.as_ref().map_or(0, String::len) + self.reason.len() + self.at.len() + 64
    }
}

impl super::spool::Weigh for Ineffective {
    fn weight(&self) -> usize {
        self.reason.len() + self.at.len() + 64
    }
}

pub(crate) fn show(at: Option<Instant>) -> String {
    match at {
        Some(i) => show_instant(i),
        None => "the start".to_string(),
    }
}

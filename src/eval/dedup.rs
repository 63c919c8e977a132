//! Duplicate ids over a horizon of event time. Events arrive in time
//! order, so an id only needs remembering for as long as a redelivery of it
//! can still arrive: an id'd event dated within the horizon before the
//! latest event is judged against every id seen in that time (by a 128-bit
//! fingerprint, with a hash of what the event said and its line); one dated
//! earlier cannot be told from a duplicate, and is refused.
//!
//! Ids are kept in two generations, each spanning one horizon of event
//! time. When time passes the younger one's span, the older is dropped
//! whole: no id is ever removed one by one, and between one and two
//! horizons' worth of ids are held.

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::events::IdPrint;
use crate::time::Instant;
use crate::value::Duration;

/// The default horizon: 30 days.
pub const DEFAULT_HORIZON_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Seen {
    payload: u64,
    line: usize,
}

/// What an id'd event is, against what was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    New,
    /// The same event again: ignored.
    Duplicate,
    /// The same id on another event.
    Reused {
        first_line: usize,
    },
    /// Dated before the horizon: whether it was seen can no longer be known.
    BeyondHorizon,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Dedup {
    pub horizon: Duration,
    #[serde(with = "super::persist::pairs")]
    young: FxHashMap<IdPrint, Seen>,
    #[serde(with = "super::persist::pairs")]
    old: FxHashMap<IdPrint, Seen>,
    /// When the young generation's span began.
    young_from: Option<Instant>,
}

impl Dedup {
    pub fn new(horizon: Duration) -> Dedup {
        Dedup {
            horizon,
            young: FxHashMap::default(),
            old: FxHashMap::default(),
            young_from: None,
        }
    }

    /// The earliest moment still judged, given the latest event.
    pub fn cutoff(&self, latest: Instant) -> Option<Instant> {
        match self.horizon.exact_seconds() {
            Some(s) => latest.plus_seconds(-s),
            None => crate::model::interpret::back(latest, self.horizon),
        }
    }

    pub fn judge(&self, id: IdPrint, payload: u64, at: Instant, latest: Option<Instant>) -> Verdict {
        if latest
            .and_then(|l| self.cutoff(l))
            .is_some_and(|cutoff| at < cutoff)
        {
            return Verdict::BeyondHorizon;
        }
        match self.young.get(&id).or_else(|| self.old.get(&id)) {
            Some(s) if s.payload == payload => Verdict::Duplicate,
            Some(s) => Verdict::Reused { first_line: s.line },
            None => Verdict::New,
        }
    }

    /// Remembers an id applied at `at`, the latest moment so far.
    pub fn remember(&mut self, id: IdPrint, payload: u64, at: Instant, line: usize) {
        let from = *self.young_from.get_or_insert(at);
        // The young generation has spanned more than a horizon: it becomes
        // the old one, and what was older than that is forgotten. Every id
        // within one horizon of `at` is still in one of the two. Strictly
        // more: an id at the cutoff itself is still judged, and with a
        // horizon of zero that is every id of the same instant.
        let cutoff = self.cutoff(at);
        if cutoff.is_some_and(|c| c > from) {
            let young_is_too_old = cutoff.and_then(|c| self.cutoff(c)).is_some_and(|cc| cc > from);
            std::mem::swap(&mut self.old, &mut self.young);
            self.young.clear();
            if young_is_too_old {
                self.old.clear();
            }
            self.young_from = Some(at);
        }
        self.young.insert(id, Seen { payload, line });
    }

    pub fn remembered(&self) -> usize {
        self.young.len() + self.old.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Whatever the horizon, zero included, an id seen within the
        /// horizon of an event is known at that event.
        #[test]
        fn an_id_within_the_horizon_is_never_forgotten(
            horizon in 0i64..5,
            steps in proptest::collection::vec((0i64..4, 0u8..6), 1..200),
        ) {
            let mut dedup = Dedup::new(Duration::seconds(horizon));
            let mut at = Instant::default();
            let mut seen: Vec<(u8, Instant)> = Vec::new();
            for (step, id) in steps {
                at = at.plus_seconds(step).unwrap();
                let print = u128::from(id);
                let within = seen
                    .iter()
                    .any(|&(s, t)| s == id && t >= at.plus_seconds(-horizon).unwrap());
                let verdict = dedup.judge(print, 7, at, seen.last().map(|s| s.1));
                if within {
                    prop_assert_eq!(verdict, Verdict::Duplicate);
                }
                if verdict == Verdict::New {
                    dedup.remember(print, 7, at, 0);
                    seen.push((id, at));
                }
            }
        }
    }
}

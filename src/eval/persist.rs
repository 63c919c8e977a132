//! The engine's state, saved and read back: what `--state` keeps between
//! runs. What is saved is what the engine holds between events — open
//! instances, balances, timers, counts, ids within the horizon, breaches
//! and ineffective acts found so far — never the events themselves, so its
//! size follows the open state (and the findings), not the stream's length.
//! What the program alone gives (the plan, which trackers each kind feeds,
//! ledgers by key) is made afresh when it is read; what is only ever set
//! while an event is applied (the event being applied, breaches not yet
//! reacted to) is empty between events and not saved.
//!
//! The form is serde's, written as JSON by the caller (the
//! `resume` module adds a version, a fingerprint of the
//! contract and a checksum around it).

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, Hash};

use rustc_hash::FxHashMap;
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smallvec::SmallVec;

use super::clock::Clock;
use super::dedup::Dedup;
use super::instances::NormStore;
use super::ledger::Ledger;
use super::spool::{Spool, Weigh};
use super::state::{Breach, ClauseState, Ineffective};
use super::trackers::Trackers;
use super::{Counts, DealState, Engine, Options};
use crate::model::{ClauseId, NormId, Program, Table};
use crate::time::{Instant, Moment};

use super::clock::BucketId;
use super::plan::Plan;
use super::ticks::TickState;

/// A hash map saved as a list of pairs: JSON keys are text only, and the
/// maps are keyed by numbers and tuples.
pub(crate) mod pairs {
    use super::*;

    /// In the order of the keys: the same state is saved as the same
    /// bytes, however its maps were filled.
    pub fn serialize<K: Serialize + Ord, V: Serialize, H, S: Serializer>(
        m: &HashMap<K, V, H>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        let mut pairs: Vec<(&K, &V)> = m.iter().collect();
        pairs.sort_unstable_by(|a, b| a.0.cmp(b.0));
        s.collect_seq(pairs)
    }

    pub fn deserialize<'de, K, V, H, D>(d: D) -> Result<HashMap<K, V, H>, D::Error>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: Deserialize<'de>,
        H: BuildHasher + Default,
        D: Deserializer<'de>,
    {
        let list: Vec<(K, V)> = Vec::deserialize(d)?;
        Ok(list.into_iter().collect())
    }
}

/// A spool saved as the list of its entries, those spilled to disk
/// included, read as they are written.
struct Entries<'a, T>(&'a Spool<T>);

impl<T: Serialize + serde::de::DeserializeOwned + Clone + Weigh> Serialize for Entries<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error as _;
        let mut seq = s.serialize_seq(usize::try_from(self.0.len()).ok())?;
        for item in self.0.iter().map_err(S::Error::custom)? {
            seq.serialize_element(&item.map_err(S::Error::custom)?)?;
        }
        seq.end()
    }
}

#[derive(Serialize)]
struct Saving<'a> {
    now: Option<Instant>,
    last: Option<(Moment, usize)>,
    deal: DealState,
    clauses: &'a Table<ClauseId, ClauseState>,
    norms: &'a Table<NormId, NormStore>,
    ledgers: &'a [Ledger],
    growing: &'a Table<NormId, VecDeque<(u32, BucketId)>>,
    awaiting: &'a Table<NormId, Vec<(u32, BucketId)>>,
    banked: &'a Table<NormId, u32>,
    trackers: &'a Trackers,
    dedup: &'a Dedup,
    tombstones: &'a VecDeque<(Instant, NormId, u64, u64)>,
    breaches: Entries<'a, Breach>,
    ineffective: Entries<'a, Ineffective>,
    counts: Counts,
    seq: u64,
    stale: usize,
    clock: &'a Clock,
    ticks: TickState,
}

/// The engine's state as read back; see [`Engine::restore`].
#[derive(Deserialize)]
pub struct Saved {
    now: Option<Instant>,
    last: Option<(Moment, usize)>,
    deal: DealState,
    clauses: Table<ClauseId, ClauseState>,
    norms: Table<NormId, NormStore>,
    ledgers: Vec<Ledger>,
    growing: Table<NormId, VecDeque<(u32, BucketId)>>,
    awaiting: Table<NormId, Vec<(u32, BucketId)>>,
    banked: Table<NormId, u32>,
    trackers: Trackers,
    dedup: Dedup,
    tombstones: VecDeque<(Instant, NormId, u64, u64)>,
    breaches: Vec<Breach>,
    ineffective: Vec<Ineffective>,
    counts: Counts,
    seq: u64,
    stale: usize,
    clock: Clock,
    #[serde(default)]
    ticks: TickState,
}

impl<'p> Engine<'p> {
    /// The engine's state, between two events, to be serialised. Nothing
    /// of the stream is in it but what the engine holds.
    pub fn saving(&self) -> impl Serialize + '_ {
        Saving {
            now: self.now,
            last: self.last,
            deal: self.deal,
            clauses: &self.clauses,
            norms: &self.norms,
            ledgers: &self.ledgers,
            growing: &self.growing,
            awaiting: &self.awaiting,
            banked: &self.banked,
            trackers: &self.trackers,
            dedup: &self.dedup,
            tombstones: &self.tombstones,
            breaches: Entries(&self.breaches),
            ineffective: Entries(&self.ineffective),
            counts: self.counts,
            seq: self.seq,
            stale: self.stale,
            clock: &self.clock,
            ticks: self.ticks,
        }
    }

    /// An engine carrying on from `saved`, which must have been saved by an
    /// engine of this same program (the caller checks a fingerprint): its
    /// tables are checked against the program's sizes, never trusted to
    /// index it.
    pub fn restore(program: &'p Program, options: Options, saved: Saved) -> Result<Engine<'p>, String> {
        let norms = program.norms.len();
        if saved.clauses.len() != program.clauses.len()
            || saved.norms.len() != norms
            || saved.growing.len() != norms
            || saved.awaiting.len() != norms
            || saved.banked.len() != norms
        {
            return Err("its tables do not fit the contract".to_string());
        }
        let mut trackers = saved.trackers;
        trackers.wire(Trackers::new(program));
        let mut ledger_index = FxHashMap::default();
        let mut ledgers_between: FxHashMap<_, SmallVec<[u32; 1]>> = FxHashMap::default();
        for (i, l) in saved.ledgers.iter().enumerate() {
            let i = u32::try_from(i).map_err(|e| e.to_string())?;
            ledger_index.insert(l.key, i);
            ledgers_between.entry((l.key.from, l.key.to)).or_default().push(i);
        }
        let mut dedup = saved.dedup;
        dedup.horizon = options.dedup_horizon;
        Ok(Engine {
            program,
            plan: Plan::new(program),
            clock: saved.clock,
            now: saved.now,
            last: saved.last,
            deal: saved.deal,
            clauses: saved.clauses,
            norms: saved.norms,
            ledgers: saved.ledgers,
            ledger_index,
            ledgers_between,
            growing: saved.growing,
            awaiting: saved.awaiting,
            banked: saved.banked,
            trackers,
            dedup,
            tombstones: saved.tombstones,
            breaches: Spool::restore(options.spool_cap, saved.breaches),
            ineffective: Spool::restore(options.spool_cap, saved.ineffective),
            history: options.history.map(super::history::History::new),
            counts: saved.counts,
            current: None,
            current_at: None,
            pending: Vec::new(),
            seq: saved.seq,
            stale: saved.stale,
            failed: None,
            ticks: saved.ticks,
        })
    }
}

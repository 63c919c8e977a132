//! The instances of one norm: a slab of those still open or violated,
//! indexed by creation order and by key. An instance that closes (fulfilled,
//! exercised, lapsed, discharged, expired, ended) leaves the slab: it is
//! counted by state, and a small tombstone of the latest one for its key
//! stays for a while, so that a later act can be told what became of it.

use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};

use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use smol_str::SmolStr;

use super::clock::InstanceId;
use super::state::{Closed, Due, Instance, NState, Note};
use crate::model::EventId;
use crate::time::{Instant, Moment};

/// What is remembered of a closed instance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recent {
    pub seq: u64,
    pub state: NState,
    pub since: Option<Instant>,
    pub due: Option<Due>,
    pub note: Option<Note>,
}

/// An instant packed in 12 bytes, `None` included: tombstones are many.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct Stamp {
    secs: i64,
    /// `-1` for no instant.
    nanos: i32,
}

impl Stamp {
    fn of(i: Option<Instant>) -> Stamp {
        match i {
            Some(i) => {
                let (secs, nanos) = i.parts();
                Stamp { secs, nanos }
            }
            None => Stamp { secs: 0, nanos: -1 },
        }
    }

    fn get(self) -> Option<Instant> {
        (self.nanos >= 0)
            .then(|| Instant::from_parts(self.secs, self.nanos))
            .flatten()
    }
}

/// What is kept of a closed instance, small.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct Tomb {
    seq: u64,
    since: Stamp,
    due: Stamp,
    note_at: Stamp,
    note_event: EventId,
    state: NState,
    /// 0 none, 1 answered by, 2 performed late, 3 came first, 4 used by.
    note: u8,
    due_date_only: bool,
    note_date_only: bool,
}

impl Tomb {
    fn of(i: &Instance) -> Tomb {
        let (note, event, at) = match i.note.as_deref() {
            None => (0, EventId::default(), None),
            Some(Note::AnsweredBy { event, at }) => (1, *event, Some(*at)),
            Some(Note::PerformedLate { at }) => (2, EventId::default(), Some(*at)),
            Some(Note::CameFirst { event, at }) => (3, *event, Some(*at)),
            Some(Note::UsedBy { event, at }) => (4, *event, Some(*at)),
            // Only an open instance's deadline matters.
            Some(Note::DueOpen) => (0, EventId::default(), None),
        };
        Tomb {
            seq: i.seq,
            since: Stamp::of(i.since),
            due: Stamp::of(i.due.map(|d| d.late_from)),
            note_at: Stamp::of(at.map(|m| m.instant)),
            note_event: event,
            state: i.state,
            note,
            due_date_only: i.due.is_some_and(|d| d.date_only),
            note_date_only: at.is_some_and(|m| m.date_only),
        }
    }

    fn recent(&self) -> Recent {
        let at = self.note_at.get().map(|instant| Moment {
            instant,
            date_only: self.note_date_only,
        });
        let event = self.note_event;
        let note = at.and_then(|at| match self.note {
            1 => Some(Note::AnsweredBy { event, at }),
            2 => Some(Note::PerformedLate { at }),
            3 => Some(Note::CameFirst { event, at }),
            4 => Some(Note::UsedBy { event, at }),
            _ => None,
        });
        Recent {
            seq: self.seq,
            state: self.state,
            since: self.since.get(),
            due: self.due.get().map(|late_from| Due {
                late_from,
                date_only: self.due_date_only,
            }),
            note,
        }
    }
}

/// The key a tombstone is found by: a 64-bit hash of the key's text. Two
/// keys sharing one could only change the words of a message, never a
/// decision, and not within any realistic stream.
pub(crate) fn key_print(key: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(key.as_bytes())
}

impl Recent {
    fn of(i: &Instance) -> Recent {
        Recent {
            seq: i.seq,
            state: i.state,
            since: i.since,
            due: i.due,
            note: i.note.as_deref().copied(),
        }
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct NormStore {
    slots: Vec<Option<Instance>>,
    free: Vec<u32>,
    /// Open instances (inactive, active, suspended) by creation order.
    open: BTreeMap<u64, u32>,
    /// Violated instances not yet performed late, by creation order.
    late: BTreeMap<u64, u32>,
    /// Instances in the slab, by key, oldest first.
    #[serde(with = "super::persist::pairs")]
    by_key: FxHashMap<SmolStr, SmallVec<[InstanceId; 2]>>,
    /// Closed instances, counted by state.
    pub closed: [Closed; NState::ALL.len()],
    /// The latest closed instance of each key, while remembered.
    #[serde(with = "super::persist::pairs")]
    tombstones: FxHashMap<u64, Tomb>,
    /// The latest closed instance of any key.
    last_closed: Option<Tomb>,
    /// Whether a tombstone was ever forgotten: then the absence of one
    /// proves nothing.
    pub forgot: bool,
    /// `unless F first`: instances not yet paired with an F, oldest first.
    /// Closed ones stay until paired, as each F pairs with the oldest.
    unpaired: VecDeque<InstanceId>,
}

impl NormStore {
    pub fn insert(&mut self, inst: Instance) -> InstanceId {
        let seq = inst.seq;
        let key = inst.key.clone();
        let open = inst.state.is_open();
        let slot = match self.free.pop() {
            Some(s) => {
                if let Some(place) = self.slots.get_mut(s as usize) {
                    *place = Some(inst);
                }
                s
            }
            None => {
                self.slots.push(Some(inst));
                (self.slots.len() - 1) as u32
            }
        };
        let id = InstanceId { slot, seq };
        if open {
            self.open.insert(seq, slot);
        }
        if let Some(k) = key {
            self.by_key.entry(k).or_default().push(id);
        }
        id
    }

    pub fn get(&self, id: InstanceId) -> Option<&Instance> {
        self.slots
            .get(id.slot as usize)
            .and_then(Option::as_ref)
            .filter(|i| i.seq == id.seq)
    }

    pub fn get_mut(&mut self, id: InstanceId) -> Option<&mut Instance> {
        self.slots
            .get_mut(id.slot as usize)
            .and_then(Option::as_mut)
            .filter(|i| i.seq == id.seq)
    }

    /// Open instances, oldest first.
    pub fn open(&self) -> impl Iterator<Item = InstanceId> + '_ {
        self.open.iter().map(|(&seq, &slot)| InstanceId { slot, seq })
    }

    /// Violated instances not yet performed late, oldest first.
    pub fn late(&self) -> impl Iterator<Item = InstanceId> + '_ {
        self.late.iter().map(|(&seq, &slot)| InstanceId { slot, seq })
    }

    /// Instances in the slab for `key`, oldest first.
    pub fn with_key(&self, key: &str) -> &[InstanceId] {
        self.by_key.get(key).map_or(&[], |v| v.as_slice())
    }

    /// Marks an open instance violated: it stays, listed, and may still be
    /// performed late.
    pub fn violate(&mut self, id: InstanceId, at: Instant) {
        if let Some(i) = self.get_mut(id) {
            i.state = NState::Violated;
            i.since = Some(at);
        } else {
            return;
        }
        self.open.remove(&id.seq);
        self.late.insert(id.seq, id.slot);
    }

    /// A violated instance was performed late.
    pub fn performed_late(&mut self, id: InstanceId, note: Note) {
        if let Some(i) = self.get_mut(id) {
            i.note = Some(Box::new(note));
            self.late.remove(&id.seq);
        }
    }

    /// Closes an instance in `state`: it leaves the slab, is counted, and
    /// leaves a tombstone. Returns it, for the history.
    pub fn close(&mut self, id: InstanceId, state: NState, at: Option<Instant>) -> Option<Instance> {
        let mut inst = self
            .slots
            .get_mut(id.slot as usize)?
            .take_if(|i| i.seq == id.seq)?;
        inst.state = state;
        inst.since = at;
        self.free.push(id.slot);
        self.open.remove(&id.seq);
        self.late.remove(&id.seq);
        if let Some(k) = &inst.key {
            if let Some(ids) = self.by_key.get_mut(k) {
                ids.retain(|x| *x != id);
                if ids.is_empty() {
                    self.by_key.remove(k);
                }
            }
            self.tombstones.insert(key_print(k), Tomb::of(&inst));
        }
        self.last_closed = Some(Tomb::of(&inst));
        if let Some(c) = self.closed.get_mut(state.index()) {
            c.count += 1;
            c.last = c.last.max(at);
        }
        Some(inst)
    }

    /// Forgets the tombstone of `key` if it is still the one of `seq`.
    pub fn forget(&mut self, key: u64, seq: u64) {
        if self.tombstones.get(&key).is_some_and(|t| t.seq == seq) {
            self.tombstones.remove(&key);
            self.forgot = true;
        }
    }

    /// The latest instance for `key` (or of any key), open or closed.
    pub fn latest(&self, key: Option<&str>) -> Option<Recent> {
        let live = match key {
            Some(k) => self.with_key(k).last().and_then(|&id| self.get(id)),
            // Keyless acts answer powers and permissions, which are never
            // violated: the newest open one is the newest in the slab.
            None => self
                .open
                .iter()
                .next_back()
                .and_then(|(&seq, &slot)| self.get(InstanceId { slot, seq })),
        }
        .map(Recent::of);
        let closed = match key {
            Some(k) => self.tombstones.get(&key_print(k)).map(Tomb::recent),
            None => self.last_closed.as_ref().map(Tomb::recent),
        };
        match (live, closed) {
            (Some(a), Some(b)) => Some(if a.seq > b.seq { a } else { b }),
            (a, b) => a.or(b),
        }
    }

    pub fn push_unpaired(&mut self, id: InstanceId) {
        self.unpaired.push_back(id);
    }

    pub fn pop_unpaired(&mut self) -> Option<InstanceId> {
        self.unpaired.pop_front()
    }

    /// The oldest instance not yet paired that `pred` accepts, taken out.
    /// Instances closed meanwhile are let go: their key is no longer known.
    pub fn take_unpaired(&mut self, pred: impl Fn(&Instance) -> bool) -> Option<InstanceId> {
        let slots = &self.slots;
        let live = |id: &InstanceId| {
            slots
                .get(id.slot as usize)
                .and_then(Option::as_ref)
                .is_some_and(|i| i.seq == id.seq)
        };
        self.unpaired.retain(live);
        let i = self
            .unpaired
            .iter()
            .position(|id| self.get(*id).is_some_and(&pred))?;
        self.unpaired.remove(i)
    }

    /// Every instance in the slab, oldest first: what the report lists.
    pub fn listed(&self) -> Vec<&Instance> {
        let mut all: Vec<&Instance> = self.slots.iter().flatten().collect();
        all.sort_by_key(|i| i.seq);
        all
    }

    /// Instances in the slab: open and violated ones.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }
}

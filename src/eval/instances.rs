//! The instances of one norm: a slab of those still open or violated,
//! indexed by creation order and by key. An instance that closes (fulfilled,
//! exercised, lapsed, discharged, expired, ended) leaves the slab: it is
//! counted by state, and a small tombstone of the latest one for its key
//! stays for a while, so that a later act can be told what became of it.

use std::collections::{BTreeMap, VecDeque};

use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use smol_str::SmolStr;

use super::clock::InstanceId;
use super::state::{Closed, Due, Instance, NState, Note};
use crate::time::Instant;

/// What is remembered of a closed instance.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Recent {
    pub seq: u64,
    pub state: NState,
    pub since: Option<Instant>,
    pub due: Option<Due>,
    pub note: Option<Note>,
}

impl Recent {
    fn of(i: &Instance) -> Recent {
        Recent {
            seq: i.seq,
            state: i.state,
            since: i.since,
            due: i.due,
            note: i.note,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct NormStore {
    slots: Vec<Option<Instance>>,
    free: Vec<u32>,
    /// Open instances (inactive, active, suspended) by creation order.
    open: BTreeMap<u64, u32>,
    /// Violated instances not yet performed late, by creation order.
    late: BTreeMap<u64, u32>,
    /// Instances in the slab, by key, oldest first.
    by_key: FxHashMap<SmolStr, SmallVec<[InstanceId; 2]>>,
    /// Closed instances, counted by state.
    pub closed: [Closed; NState::ALL.len()],
    /// The latest closed instance of each key, while remembered.
    tombstones: FxHashMap<SmolStr, Recent>,
    /// The latest closed instance of any key.
    last_closed: Option<Recent>,
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
            i.note = Some(note);
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
            self.tombstones.insert(k.clone(), Recent::of(&inst));
        }
        self.last_closed = Some(Recent::of(&inst));
        if let Some(c) = self.closed.get_mut(state.index()) {
            c.count += 1;
            c.last = c.last.max(at);
        }
        Some(inst)
    }

    /// Forgets the tombstone of `key` if it is still the one of `seq`.
    pub fn forget(&mut self, key: &str, seq: u64) {
        if self.tombstones.get(key).is_some_and(|t| t.seq == seq) {
            self.tombstones.remove(key);
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
            Some(k) => self.tombstones.get(k).copied(),
            None => self.last_closed,
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

//! The clock: every moment something falls due without an event — a
//! deadline, a delayed start, an amount falling due, a window sliding, a
//! clause or the deal starting or ending — is a timer in one queue, fired
//! in time order. Nothing is ever found by scanning.

use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::model::{ClauseId, NormId, TrackerId};
use crate::time::Instant;

/// Fields are kept flat and narrow: a timer is set for nearly every open
/// instance, so its size is part of what each open instance costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) enum Timer {
    DealStart,
    DealEnd,
    ClauseStart(ClauseId),
    ClauseEnd(ClauseId),
    /// An instance's deadline or window end; `gen` tells a moved deadline
    /// from the one it replaced.
    Deadline {
        seq: u64,
        slot: u32,
        norm: NormId,
        gen: u32,
    },
    /// A delayed permission comes into force.
    Activate {
        seq: u64,
        slot: u32,
        norm: NormId,
        gen: u32,
    },
    /// An amount owed falls due.
    BucketDue {
        seq: u64,
        slot: u32,
        ledger: u32,
    },
    /// A period is over: nothing more can accrue to its amount.
    PeriodOver {
        seq: u64,
        slot: u32,
        ledger: u32,
    },
    /// The oldest entry of a windowed count leaves the window.
    WindowSlides {
        tracker: TrackerId,
    },
    /// The `k`-th occurrence of a time event of the program.
    Tick {
        tick: u32,
        k: u32,
    },
}

impl Timer {
    pub fn deadline(norm: NormId, id: InstanceId, gen: u32) -> Timer {
        Timer::Deadline {
            seq: id.seq,
            slot: id.slot,
            norm,
            gen,
        }
    }

    pub fn activate(norm: NormId, id: InstanceId, gen: u32) -> Timer {
        Timer::Activate {
            seq: id.seq,
            slot: id.slot,
            norm,
            gen,
        }
    }

    pub fn bucket_due(ledger: u32, id: BucketId) -> Timer {
        Timer::BucketDue {
            seq: id.seq,
            slot: id.slot,
            ledger,
        }
    }

    pub fn period_over(ledger: u32, id: BucketId) -> Timer {
        Timer::PeriodOver {
            seq: id.seq,
            slot: id.slot,
            ledger,
        }
    }
}

/// An instance: where it is stored and which one it is. Slots are reused
/// once an instance closes, so the sequence number tells them apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct InstanceId {
    pub slot: u32,
    pub seq: u64,
}

/// An amount owed within one ledger, likewise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub(crate) struct BucketId {
    pub slot: u32,
    pub seq: u64,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Clock {
    /// Ordered by instant, then by when each was set, so that timers of
    /// one instant fire in the order they were set.
    queue: BinaryHeap<Reverse<(Instant, u64, Timer)>>,
    set: u64,
}

impl Clock {
    pub fn schedule(&mut self, at: Instant, timer: Timer) {
        self.set += 1;
        self.queue.push(Reverse((at, self.set, timer)));
    }

    /// As [`Clock::schedule`], but before every timer set for the same
    /// instant: the end of a period belongs to the period, and comes before
    /// the next one begins or the deal ends at that instant.
    pub fn schedule_first(&mut self, at: Instant, timer: Timer) {
        self.queue.push(Reverse((at, 0, timer)));
    }

    /// The next timer due at or before `to`, taken off the queue.
    pub fn next_due(&mut self, to: Instant) -> Option<(Instant, Timer)> {
        match self.queue.peek() {
            Some(Reverse((at, _, _))) if *at <= to => {}
            _ => return None,
        }
        self.queue.pop().map(|Reverse((at, _, t))| (at, t))
    }

    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Drops the timers `live` says are for nothing any more.
    pub fn retain(&mut self, mut live: impl FnMut(&Timer) -> bool) {
        self.queue.retain(|Reverse((_, _, t))| live(t));
    }
}

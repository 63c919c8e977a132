//! Amounts owed between two parties in one currency: what accrued, in which
//! bucket (one per period and clause, or one per accrual), when each bucket
//! falls due, and how payments settle them, oldest due first.
//!
//! Buckets with something unpaid are kept in the order payments settle
//! them, and in the order reversals take back from them, so a payment
//! touches only what it pays. A bucket paid off that can receive nothing
//! more leaves the ledger: the engine counts it as fulfilled (or discharged,
//! when a reversal took it back whole).

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;
use std::sync::Arc;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;

use super::clock::BucketId;
use super::state::NState;
use crate::model::{EventId, NormId, PartyId};
use crate::ops::Period;
use crate::time::{Instant, Moment};
use crate::value::{exact, Currency, Duration, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LedgerKey {
    pub from: PartyId,
    pub to: PartyId,
    pub currency: Currency,
}

/// A calendar period: `2025-Q1` is (Quarter, 2025, 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PeriodKey {
    pub period: Period,
    pub year: i16,
    pub index: u8,
}

impl PeriodKey {
    /// The period of `period` holding the instant.
    pub fn holding(at: Instant, period: Period) -> Option<PeriodKey> {
        let (year, month, _) = at.civil();
        let index = match period {
            Period::Month => month,
            Period::Quarter => (month - 1) / 3 + 1,
            Period::Year => 1,
        };
        Some(PeriodKey {
            period,
            year: i16::try_from(year).ok()?,
            index: u8::try_from(index).ok()?,
        })
    }

    /// Its last day.
    pub fn last_day(&self) -> Option<jiff::civil::Date> {
        let month = match self.period {
            Period::Month => self.index,
            Period::Quarter => self.index * 3,
            Period::Year => 12,
        };
        jiff::civil::Date::new(self.year, i8::try_from(month).ok()?, 1)
            .ok()
            .map(|d| d.last_of_month())
    }
}

impl fmt::Display for PeriodKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.period {
            Period::Month => write!(f, "{}-{:02}", self.year, self.index),
            Period::Quarter => write!(f, "{}-Q{}", self.year, self.index),
            Period::Year => write!(f, "{}", self.year),
        }
    }
}

/// What a bucket holds amounts for; words are made only when shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Label {
    /// Everything accrued in a calendar period.
    Period(PeriodKey),
    /// One accrual.
    Accrual { at: Moment, line: usize },
    /// One accrual, due after the end of its period.
    PeriodAccrual {
        period: PeriodKey,
        at: Moment,
        line: usize,
    },
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Label::Period(p) => write!(f, "{p}"),
            // An amount owed once, as its clause came into force at a date.
            Label::Accrual { at, line: 0 } => write!(f, "{at}"),
            Label::Accrual { at, line } => write!(f, "{at} line {line}"),
            Label::PeriodAccrual { period, at, line } => write!(f, "{period}, {at} line {line}"),
        }
    }
}

/// An amount that grows with time until an event stops it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Live {
    pub started: Moment,
    /// Fields of the event it arose from.
    pub payload: Arc<[Option<Value>]>,
}

/// When a new bucket falls due.
#[derive(Debug, Clone, Copy, Default)]
pub struct DueSpec {
    /// The last day on which payment is on time.
    pub date: Option<jiff::civil::Date>,
    /// The instant from which it is late.
    pub late_from: Option<Instant>,
    /// Due a grace after the next event of this kind.
    pub awaiting: Option<(EventId, Duration)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bucket {
    pub norm: NormId,
    /// Creation order among all buckets and instances of the run.
    pub seq: u64,
    pub label: Label,
    pub due_date: Option<jiff::civil::Date>,
    pub late_from: Option<Instant>,
    pub awaiting: Option<(EventId, Duration)>,
    pub live: Option<Live>,
    pub opened: Instant,
    pub accrued: Decimal,
    pub paid: Decimal,
    /// Accruals whose amount depends on an open term.
    pub undetermined: u32,
    pub violated: bool,
    /// It fell due with nothing determined unpaid but an amount still
    /// waiting on an open term: breached if that amount is anything.
    pub late_if_owed: bool,
    /// Whether an amount in it had no exact decimal and was rounded.
    pub rounded: bool,
    pub settled_at: Option<Instant>,
    /// Nothing more can accrue to it: its period is over, or it holds one
    /// accrual.
    pub complete: bool,
    /// Whether it is in the ledger's unpaid orders.
    listed: bool,
}

impl Bucket {
    /// Once something of it is owed again, it is no longer settled; an
    /// amount re-evaluated to what was already paid stays settled when it
    /// was.
    fn reopen_if_owed(&mut self) {
        if self.outstanding() > Decimal::ZERO {
            self.settled_at = None;
        }
    }

    /// What is still owed. Every change to a bucket keeps this exact (see
    /// `Ledger::add`, `set` and `pay`), so it is never rounded here.
    pub fn outstanding(&self) -> Decimal {
        self.accrued.saturating_sub(self.paid)
    }

    /// Its state as a norm instance, and since when.
    pub fn state(&self) -> (NState, Option<Instant>) {
        // Taken back in full by a reversal (which dates it), not merely zero.
        let withdrawn = self.accrued.is_zero()
            && self.paid.is_zero()
            && self.undetermined == 0
            && self.settled_at.is_some();
        let state = if withdrawn && self.live.is_none() {
            NState::Discharged
        } else if self.outstanding() <= Decimal::ZERO && self.undetermined == 0 {
            if self.violated {
                NState::Violated
            } else {
                NState::Fulfilled
            }
        } else if self.violated {
            NState::Violated
        } else if self.late_if_owed && self.undetermined > 0 {
            NState::Undetermined
        } else {
            NState::Active
        };
        let since = match state {
            NState::Fulfilled | NState::Discharged => self.settled_at.or(Some(self.opened)),
            NState::Violated | NState::Undetermined => self.late_from,
            _ => Some(self.opened),
        };
        (state, since)
    }

    /// Whether it can change no more: then it leaves the ledger.
    fn done(&self) -> bool {
        self.complete
            && self.live.is_none()
            && self.undetermined == 0
            && !self.violated
            && self.outstanding() <= Decimal::ZERO
    }

    fn settle_order(&self, slot: u32) -> SettleOrder {
        (
            self.late_from.is_none(),
            self.late_from,
            self.opened,
            self.seq,
            slot,
        )
    }
}

/// Amounts with a due date first, earliest first; then the rest; within
/// one due date, the one opened first.
pub type SettleOrder = (bool, Option<Instant>, Instant, u64, u32);

#[derive(Debug, Serialize, Deserialize)]
pub struct Ledger {
    pub key: LedgerKey,
    slots: Vec<Option<Bucket>>,
    free: Vec<u32>,
    /// Buckets of a period still kept, by norm and period.
    #[serde(with = "super::persist::pairs")]
    grouped: FxHashMap<(NormId, PeriodKey), BucketId>,
    /// Buckets with something unpaid, or still growing (their value is
    /// worked out only when a payment reaches them), in the order payments
    /// settle them.
    unpaid: BTreeSet<SettleOrder>,
    /// The same, by opening, for reversals (newest first).
    unpaid_by_age: BTreeSet<(Instant, u64, u32)>,
    /// The buckets still growing, so that bringing them up to now costs
    /// what is growing, not what the ledger holds.
    live: BTreeSet<(u64, u32)>,
    /// Paid beyond everything owed: held, not applied to later accruals.
    pub unapplied: Decimal,
    pub paid_total: Decimal,
    accrued_total: Decimal,
    undetermined_total: u32,
    /// Whether anything ever accrued here.
    pub used: bool,
    /// How many amounts here had no exact decimal and were rounded.
    pub rounded: u64,
    /// Buckets that left the ledger since the engine last looked, with the
    /// state they closed in.
    pub closed: Vec<(Bucket, NState)>,
}

/// What a payment did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Settled {
    pub applied: Decimal,
    pub unapplied: Decimal,
}

impl Ledger {
    pub fn new(key: LedgerKey) -> Ledger {
        Ledger {
            key,
            slots: Vec::new(),
            free: Vec::new(),
            grouped: FxHashMap::default(),
            unpaid: BTreeSet::new(),
            unpaid_by_age: BTreeSet::new(),
            live: BTreeSet::new(),
            unapplied: Decimal::ZERO,
            paid_total: Decimal::ZERO,
            accrued_total: Decimal::ZERO,
            undetermined_total: 0,
            used: false,
            rounded: 0,
            closed: Vec::new(),
        }
    }

    pub fn get(&self, id: BucketId) -> Option<&Bucket> {
        self.slots
            .get(id.slot as usize)
            .and_then(Option::as_ref)
            .filter(|b| b.seq == id.seq)
    }

    fn get_mut(&mut self, id: BucketId) -> Option<&mut Bucket> {
        self.slots
            .get_mut(id.slot as usize)
            .and_then(Option::as_mut)
            .filter(|b| b.seq == id.seq)
    }

    /// The bucket of `norm` for `period`, if one is still kept.
    pub fn find(&self, norm: NormId, period: PeriodKey) -> Option<BucketId> {
        self.grouped
            .get(&(norm, period))
            .copied()
            .filter(|id| self.get(*id).is_some())
    }

    /// Opens a bucket. `period` groups every later accrual of the period
    /// into it.
    pub fn open(
        &mut self,
        norm: NormId,
        seq: u64,
        label: Label,
        period: Option<PeriodKey>,
        due: DueSpec,
        now: Instant,
    ) -> BucketId {
        self.used = true;
        let bucket = Bucket {
            norm,
            seq,
            label,
            due_date: due.date,
            late_from: due.late_from,
            awaiting: due.awaiting,
            live: None,
            opened: now,
            accrued: Decimal::ZERO,
            paid: Decimal::ZERO,
            undetermined: 0,
            violated: false,
            late_if_owed: false,
            rounded: false,
            settled_at: None,
            complete: period.is_none(),
            listed: false,
        };
        let slot = match self.free.pop() {
            Some(s) => {
                if let Some(place) = self.slots.get_mut(s as usize) {
                    *place = Some(bucket);
                }
                s
            }
            None => {
                self.slots.push(Some(bucket));
                (self.slots.len() - 1) as u32
            }
        };
        let id = BucketId { slot, seq };
        if let Some(p) = period {
            self.grouped.insert((norm, p), id);
        }
        id
    }

    /// Changes a bucket, keeping the unpaid orders right: a bucket is in
    /// them exactly while something of it is unpaid or it is growing. What
    /// orders it (its due date, opening, sequence) does not change here.
    fn update<R>(&mut self, id: BucketId, f: impl FnOnce(&mut Bucket) -> R) -> Option<R> {
        let b = self.get_mut(id)?;
        let out = f(b);
        let listed = b.live.is_some() || b.outstanding() > Decimal::ZERO;
        if listed != b.listed {
            b.listed = listed;
            let order = b.settle_order(id.slot);
            let age = (b.opened, b.seq, id.slot);
            if listed {
                self.unpaid.insert(order);
                self.unpaid_by_age.insert(age);
            } else {
                self.unpaid.remove(&order);
                self.unpaid_by_age.remove(&age);
            }
        }
        Some(out)
    }

    /// Adds to what a bucket holds.
    pub fn add(&mut self, id: BucketId, amount: Decimal) -> Option<()> {
        let total = exact::add(self.accrued_total, amount)?;
        exact::sub(total, self.paid_total)?;
        self.update(id, |b| {
            let accrued = exact::add(b.accrued, amount)?;
            exact::sub(accrued, b.paid)?;
            b.accrued = accrued;
            b.reopen_if_owed();
            Some(())
        })??;
        self.accrued_total = total;
        Some(())
    }

    /// Counts an accrual whose amount waits on an open term.
    pub fn add_undetermined(&mut self, id: BucketId) {
        if let Some(b) = self.get_mut(id) {
            b.undetermined += 1;
            self.undetermined_total += 1;
        }
    }

    /// Sets what a bucket holds (a growing amount, re-evaluated).
    pub fn set(&mut self, id: BucketId, amount: Decimal) -> Option<()> {
        let old = self.get(id)?.accrued;
        let total = exact::add(exact::sub(self.accrued_total, old)?, amount)?;
        exact::sub(amount, self.get(id)?.paid)?;
        exact::sub(total, self.paid_total)?;
        self.accrued_total = total;
        self.update(id, |b| {
            b.accrued = amount;
            b.reopen_if_owed();
        })
    }

    /// Fixes a due date: the bucket moves in the order payments settle.
    pub fn set_due(&mut self, id: BucketId, date: jiff::civil::Date, late_from: Instant) {
        let Some(b) = self.get_mut(id) else { return };
        let old = b.settle_order(id.slot);
        b.due_date = Some(date);
        b.late_from = Some(late_from);
        b.awaiting = None;
        let new = b.settle_order(id.slot);
        if b.listed && self.unpaid.remove(&old) {
            self.unpaid.insert(new);
        }
    }

    pub fn start_growing(&mut self, id: BucketId, live: Live) {
        if self.update(id, |b| b.live = Some(live)).is_some() {
            self.live.insert((id.seq, id.slot));
        }
    }

    /// A growing amount stops at its value now.
    pub fn stop_growing(&mut self, id: BucketId) {
        if self.update(id, |b| b.live.take().is_some()) == Some(true) {
            self.live.remove(&(id.seq, id.slot));
        }
        self.close_if_done(id);
    }

    /// The buckets still growing, in no particular order: for bringing
    /// them all up to now before a total is read.
    pub fn growing(&self) -> Vec<BucketId> {
        self.live
            .iter()
            .map(|&(seq, slot)| BucketId { slot, seq })
            .collect()
    }

    /// An amount of the bucket was rounded to become a decimal.
    pub fn mark_rounded(&mut self, id: BucketId) {
        self.rounded += 1;
        if let Some(b) = self.get_mut(id) {
            b.rounded = true;
        }
    }

    pub fn mark_late_if_owed(&mut self, id: BucketId) {
        if let Some(b) = self.get_mut(id) {
            b.late_if_owed = true;
        }
    }

    pub fn mark_violated(&mut self, id: BucketId) {
        if let Some(b) = self.get_mut(id) {
            b.violated = true;
        }
    }

    /// Nothing more can accrue to a period's bucket once the period is over.
    pub fn period_over(&mut self, id: BucketId) {
        if let Some(b) = self.get_mut(id) {
            b.complete = true;
        }
        self.close_if_done(id);
    }

    /// Moves a bucket that can change no more out of the ledger.
    pub fn close_if_done(&mut self, id: BucketId) {
        if !self.get(id).is_some_and(Bucket::done) {
            return;
        }
        // Not in the unpaid orders: nothing of it is unpaid.
        let Some(bucket) = self.slots.get_mut(id.slot as usize).and_then(Option::take) else {
            return;
        };
        self.free.push(id.slot);
        if let Label::Period(p) = bucket.label {
            if self.grouped.get(&(bucket.norm, p)) == Some(&id) {
                self.grouped.remove(&(bucket.norm, p));
            }
        }
        let (state, _) = bucket.state();
        self.closed.push((bucket, state));
    }

    /// Takes back up to `amount` from what is still unpaid, newest first; a
    /// reversal never turns into a credit. Returns what was taken back.
    /// Each bucket is visited once, walking down from the newest: one with
    /// nothing unpaid (an amount still growing from zero, or paid up to
    /// date) gives nothing back and is passed.
    pub fn reverse(&mut self, amount: Decimal, now: Instant) -> Option<Decimal> {
        // Every figure it changes is worked out before any is changed, so
        // that a reversal that cannot be held exactly changes nothing.
        let mut left = amount;
        let mut total = self.accrued_total;
        let mut plan: SmallVec<[(BucketId, Decimal); 4]> = SmallVec::new();
        let mut below: Option<(Instant, u64, u32)> = None;
        while left > Decimal::ZERO {
            let next = match below {
                None => self.unpaid_by_age.iter().next_back(),
                Some(key) => self.unpaid_by_age.range(..key).next_back(),
            };
            let Some(&key) = next else {
                break;
            };
            below = Some(key);
            let (_, seq, slot) = key;
            let id = BucketId { slot, seq };
            let b = self.get(id)?;
            let take = left.min(b.outstanding().max(Decimal::ZERO));
            if take.is_zero() {
                continue;
            }
            let accrued = exact::sub(b.accrued, take)?;
            exact::sub(accrued, b.paid)?;
            total = exact::sub(total, take)?;
            exact::sub(total, self.paid_total)?;
            left = exact::sub(left, take)?;
            plan.push((id, accrued));
        }
        for (id, accrued) in plan {
            self.update(id, |b| {
                b.accrued = accrued;
                if b.outstanding().is_zero() {
                    b.settled_at = Some(now);
                }
            });
            self.close_if_done(id);
        }
        self.accrued_total = total;
        exact::sub(amount, left)
    }

    /// The next bucket a payment settles, after the place `after` in the
    /// order when given: a place, not a bucket, so that walking on after a
    /// bucket that was paid off and left the ledger does not start over.
    pub fn next_unpaid(&self, after: Option<SettleOrder>) -> Option<(BucketId, SettleOrder)> {
        let next = match after {
            Some(key) => self
                .unpaid
                .range((std::ops::Bound::Excluded(key), std::ops::Bound::Unbounded))
                .next(),
            None => self.unpaid.iter().next(),
        };
        next.map(|&key| {
            let (_, _, _, seq, slot) = key;
            (BucketId { slot, seq }, key)
        })
    }

    /// What paying up to `left` of a bucket would take, if what it leaves
    /// owed stays exact; changes nothing.
    pub fn payable(&self, id: BucketId, left: Decimal) -> Option<Decimal> {
        let b = self.get(id)?;
        let take = left.min(b.outstanding().max(Decimal::ZERO));
        let paid = exact::add(b.paid, take)?;
        exact::sub(b.accrued, paid)?;
        Some(take)
    }

    /// Pays `take` of a bucket, as `payable` found it could.
    pub fn pay_taken(&mut self, id: BucketId, take: Decimal, now: Instant) {
        self.update(id, |b| {
            if let Some(paid) = exact::add(b.paid, take) {
                b.paid = paid;
            }
            if b.outstanding().is_zero() && b.undetermined == 0 {
                b.settled_at = Some(now);
            }
        });
        self.close_if_done(id);
    }

    /// Pays up to `left` of a bucket; returns what it took.
    #[cfg(test)]
    pub fn pay(&mut self, id: BucketId, left: Decimal, now: Instant) -> Option<Decimal> {
        let take = self.payable(id, left)?;
        self.pay_taken(id, take, now);
        Some(take)
    }

    /// Whether a payment of `amount` leaving `left` unapplied keeps the
    /// ledger's totals exact; changes nothing.
    pub fn can_record(&self, amount: Decimal, left: Decimal) -> Option<()> {
        let applied = exact::sub(amount, left)?;
        let paid = exact::add(self.paid_total, applied)?;
        exact::sub(self.accrued_total, paid)?;
        if left > Decimal::ZERO {
            exact::add(self.unapplied, left)?;
        }
        Some(())
    }

    /// Records a payment of `amount` of which `left` found nothing to pay.
    pub fn paid(&mut self, amount: Decimal, left: Decimal) -> Option<Settled> {
        let applied = exact::sub(amount, left)?;
        let paid = exact::add(self.paid_total, applied)?;
        exact::sub(self.accrued_total, paid)?;
        self.paid_total = paid;
        if left > Decimal::ZERO {
            self.unapplied = exact::add(self.unapplied, left)?;
        }
        Some(Settled {
            applied,
            unapplied: left,
        })
    }

    /// Applies a payment to the buckets falling due first. Amounts still
    /// growing are taken at the value they were last brought up to.
    #[cfg(test)]
    pub fn settle(&mut self, amount: Decimal, now: Instant) -> Option<Settled> {
        let mut left = amount;
        let mut after = None;
        while left > Decimal::ZERO {
            let Some((id, place)) = self.next_unpaid(after) else {
                break;
            };
            left = exact::sub(left, self.pay(id, left, now)?)?;
            after = Some(place);
        }
        self.paid(amount, left)
    }

    pub fn accrued(&self) -> Decimal {
        self.accrued_total
    }

    /// Outstanding in buckets whose due date has passed as of `now`.
    pub fn overdue(&self, now: Option<Instant>) -> Option<Decimal> {
        let Some(now) = now else {
            return Some(Decimal::ZERO);
        };
        let mut total = Decimal::ZERO;
        for &(_, late_from, _, seq, slot) in &self.unpaid {
            match late_from {
                Some(l) if l <= now => {}
                // In due order: the rest falls due later, or never.
                _ => break,
            }
            total = exact::add(total, self.get(BucketId { slot, seq })?.outstanding())?;
        }
        Some(total)
    }

    pub fn undetermined(&self) -> u32 {
        self.undetermined_total
    }

    /// The buckets still kept, oldest first.
    pub fn listed(&self) -> Vec<&Bucket> {
        let mut all: Vec<&Bucket> = self.slots.iter().flatten().collect();
        all.sort_by_key(|b| b.seq);
        all
    }

    /// Buckets still kept.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Id, PartyId};
    use crate::time::parse_date;

    fn day(s: &str) -> (jiff::civil::Date, Instant) {
        let d = parse_date(s).unwrap();
        (d, Instant::start_of(d).unwrap())
    }

    fn ledger() -> Ledger {
        Ledger::new(LedgerKey {
            from: PartyId::from_index(0),
            to: PartyId::from_index(1),
            currency: Currency::parse("USD").unwrap(),
        })
    }

    fn quarter(year: i16, index: u8) -> PeriodKey {
        PeriodKey {
            period: Period::Quarter,
            year,
            index,
        }
    }

    fn bucket(
        l: &mut Ledger,
        seq: u64,
        norm: usize,
        grouped: bool,
        due: Option<&str>,
        now: Instant,
    ) -> BucketId {
        let norm = NormId::from_index(norm);
        let due = match due {
            Some(d) => {
                let (d, i) = day(d);
                DueSpec {
                    date: Some(d),
                    late_from: Some(i),
                    awaiting: None,
                }
            }
            None => DueSpec::default(),
        };
        let p = quarter(2025, (seq % 4 + 1) as u8);
        let label = if grouped {
            Label::Period(p)
        } else {
            Label::Accrual {
                at: Moment::at(now),
                line: seq as usize,
            }
        };
        l.open(norm, seq, label, grouped.then_some(p), due, now)
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[test]
    fn a_reversal_takes_back_unpaid_amounts_newest_first_and_never_more() {
        let mut l = ledger();
        let (_, now) = day("2025-03-01");
        let mut ids = Vec::new();
        for seq in 0..3 {
            let b = bucket(&mut l, seq, 0, false, None, now);
            l.set(b, dec("10"));
            ids.push(b);
        }
        l.settle(dec("10"), now);
        assert_eq!(l.reverse(dec("15"), now), Some(dec("15")));
        assert_eq!(l.accrued(), dec("15"));
        assert_eq!(l.reverse(dec("100"), now), Some(dec("5")), "only what is unpaid");
        assert_eq!(l.accrued(), dec("10"));
        // The first was paid, the other two taken back: all three left.
        assert_eq!(l.len(), 0);
        let states: Vec<NState> = l.closed.iter().map(|(_, s)| *s).collect();
        assert_eq!(
            states,
            [NState::Fulfilled, NState::Discharged, NState::Discharged]
        );
    }

    /// The totals kept as amounts change equal the totals recomputed, and
    /// the unpaid orders hold exactly the buckets with something unpaid.
    #[test]
    fn running_totals_match_a_recount() {
        let mut l = ledger();
        let (_, now) = day("2025-03-01");
        let mut seed: u64 = 7;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            Decimal::from(seed >> 54)
        };
        let mut closed_accrued = Decimal::ZERO;
        for step in 0..500u64 {
            match step % 4 {
                0 | 1 => {
                    let norm = (step % 3) as usize;
                    let grouped = step % 2 == 0;
                    let p = quarter(2025, 1);
                    let b = match l.find(NormId::from_index(norm), p).filter(|_| grouped) {
                        Some(b) => b,
                        None => bucket(&mut l, step, norm, grouped, Some("2025-04-30"), now),
                    };
                    l.add(b, next()).unwrap();
                }
                2 => {
                    l.settle(next(), now).unwrap();
                }
                _ => {
                    l.reverse(next(), now).unwrap();
                }
            }
            closed_accrued += l.closed.drain(..).map(|(b, _)| b.accrued).sum::<Decimal>();
            let kept: Decimal = l.listed().iter().map(|b| b.accrued).sum();
            assert_eq!(l.accrued(), kept + closed_accrued);
            let unpaid = l
                .listed()
                .iter()
                .filter(|b| b.outstanding() > Decimal::ZERO)
                .count();
            assert_eq!(l.unpaid.len(), unpaid);
            assert_eq!(l.unpaid_by_age.len(), unpaid);
        }
    }

    #[test]
    fn payments_settle_the_oldest_due_first() {
        let mut l = ledger();
        let (_, now) = day("2025-03-01");
        // Opened out of order: the later-due bucket first.
        let late = bucket(&mut l, 0, 1, true, Some("2025-07-30"), now);
        let early = bucket(&mut l, 1, 0, true, Some("2025-04-30"), now);
        l.set(late, dec("100"));
        l.set(early, dec("40"));
        let s = l.settle(dec("50"), now).unwrap();
        assert_eq!(s.applied, dec("50"));
        assert_eq!(l.get(early).unwrap().paid, dec("40"));
        assert_eq!(l.get(late).unwrap().paid, dec("10"));
        assert_eq!(l.paid_total, dec("50"));
    }

    #[test]
    fn overpayment_is_held_not_lost() {
        let mut l = ledger();
        let (_, now) = day("2025-03-01");
        let b = bucket(&mut l, 0, 0, true, Some("2025-04-30"), now);
        l.set(b, dec("10.005"));
        let s = l.settle(dec("12"), now).unwrap();
        assert_eq!(s.unapplied, dec("1.995"));
        assert_eq!(l.paid_total, dec("10.005"));
        assert_eq!(l.unapplied, dec("1.995"));
    }

    #[test]
    fn overdue_counts_only_past_due_buckets() {
        let mut l = ledger();
        let (_, now) = day("2025-03-01");
        let a = bucket(&mut l, 0, 0, true, Some("2025-04-30"), now);
        let b = bucket(&mut l, 1, 0, true, Some("2025-07-30"), now);
        l.set(a, dec("1"));
        l.set(b, dec("2"));
        let (_, june) = day("2025-06-01");
        assert_eq!(l.overdue(Some(june)), Some(dec("1")));
        assert_eq!(l.overdue(None), Some(dec("0")));
    }

    #[test]
    fn a_period_bucket_leaves_only_once_its_period_is_over() {
        let mut l = ledger();
        let (_, now) = day("2025-03-01");
        let b = bucket(&mut l, 0, 0, true, Some("2025-04-30"), now);
        l.set(b, dec("5"));
        l.settle(dec("5"), now);
        assert_eq!(l.len(), 1, "more may accrue to the quarter");
        l.period_over(b);
        assert_eq!(l.len(), 0);
        assert_eq!(l.closed.len(), 1);
    }
}

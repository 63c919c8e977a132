//! Amounts owed between two parties in one currency: what accrued, in which
//! bucket (one per period and clause), when each bucket falls due, and how
//! payments settle them, oldest due first.

use rust_decimal::Decimal;

use std::sync::Arc;

use crate::model::{EventId, NormId, PartyId};
use crate::time::{Instant, Moment};
use crate::value::{Currency, Duration, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LedgerKey {
    pub from: PartyId,
    pub to: PartyId,
    pub currency: Currency,
}

/// An amount that grows with time until an event stops it.
#[derive(Debug, Clone)]
pub struct Live {
    pub started: Moment,
    /// Fields of the event it arose from.
    pub payload: Arc<[Option<Value>]>,
}

#[derive(Debug, Clone)]
pub struct Bucket {
    pub norm: NormId,
    /// `2025-Q1`, `2025-03`, `2025`, or the accrual's date when there is no period.
    pub label: String,
    /// The last day on which payment is on time, once known.
    pub due_date: Option<jiff::civil::Date>,
    /// The instant from which it is late, once known.
    pub late_from: Option<Instant>,
    /// Due a grace after the next event of this kind.
    pub awaiting: Option<(EventId, Duration)>,
    pub live: Option<Live>,
    pub opened: Instant,
    pub accrued: Decimal,
    pub paid: Decimal,
    /// Accruals whose amount depends on an open term.
    pub undetermined: u32,
    pub violated: bool,
    pub settled_at: Option<Instant>,
    /// Whether it is in the ledger's list of open buckets.
    listed: bool,
}

impl Bucket {
    pub fn outstanding(&self) -> Decimal {
        self.accrued - self.paid
    }
}

#[derive(Debug, Clone, Default)]
pub struct Ledger {
    pub buckets: Vec<Bucket>,
    /// Paid beyond everything owed: held, not applied to later accruals.
    pub unapplied: Decimal,
    pub paid_total: Decimal,
    /// The sum of every bucket's `accrued`, kept as they change.
    accrued_total: Decimal,
    undetermined_total: u32,
    /// Buckets with something still unpaid or undetermined: the only ones a
    /// payment or a reversal can touch.
    open: Vec<usize>,
}

/// What a payment did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Settled {
    /// Buckets paid off in full by this payment.
    pub closed: Vec<usize>,
    pub unapplied: Decimal,
}

impl Ledger {
    /// The bucket for `norm` and `label`, opened if new. Returns its index
    /// and whether it was opened now.
    /// The bucket for `norm` and `label`, opened if new (or always, when
    /// amounts are not grouped). Returns its index and whether it was opened.
    /// The bucket for `norm` and `label`, opened if new (or always, when
    /// amounts are not grouped). Returns its index and whether it was opened.
    pub fn bucket(&mut self, norm: NormId, label: &str, grouped: bool, now: Instant) -> (usize, bool) {
        if grouped {
            let found = self
                .open
                .iter()
                .rev()
                .copied()
                .find(|&i| self.buckets[i].norm == norm && self.buckets[i].label == label)
                .or_else(|| {
                    self.buckets
                        .iter()
                        .rposition(|b| b.norm == norm && b.label == label)
                });
            if let Some(i) = found {
                return (i, false);
            }
        }
        self.buckets.push(Bucket {
            norm,
            label: label.to_string(),
            due_date: None,
            late_from: None,
            awaiting: None,
            live: None,
            opened: now,
            accrued: Decimal::ZERO,
            paid: Decimal::ZERO,
            undetermined: 0,
            violated: false,
            settled_at: None,
            listed: false,
        });
        (self.buckets.len() - 1, true)
    }

    /// Adds to what a bucket holds.
    pub fn add(&mut self, b: usize, amount: Decimal) -> Option<()> {
        let new = self.buckets[b].accrued.checked_add(amount)?;
        self.set(b, new)
    }

    /// Counts an accrual whose amount waits on an open term.
    pub fn add_undetermined(&mut self, b: usize) {
        self.buckets[b].undetermined += 1;
        self.undetermined_total += 1;
        self.reopen(b);
    }

    /// Sets what a bucket holds (a growing amount, re-evaluated).
    pub fn set(&mut self, b: usize, amount: Decimal) -> Option<()> {
        let old = self.buckets[b].accrued;
        self.accrued_total = self.accrued_total.checked_sub(old)?.checked_add(amount)?;
        self.buckets[b].accrued = amount;
        self.buckets[b].settled_at = None;
        self.reopen(b);
        Some(())
    }

    fn reopen(&mut self, b: usize) {
        let bucket = &mut self.buckets[b];
        let open = bucket.outstanding() > Decimal::ZERO || bucket.undetermined > 0 || bucket.live.is_some();
        if open && !bucket.listed {
            bucket.listed = true;
            self.open.push(b);
        }
    }

    /// Takes back up to `amount` from what is still unpaid, newest first; a
    /// reversal never turns into a credit. Returns what was taken back.
    pub fn reverse(&mut self, amount: Decimal, now: Instant) -> Option<Decimal> {
        let mut left = amount;
        let mut order = self.open.clone();
        order.sort_by_key(|&i| std::cmp::Reverse((self.buckets[i].opened, i)));
        for i in order {
            if left <= Decimal::ZERO {
                break;
            }
            let b = &mut self.buckets[i];
            let take = left.min(b.outstanding().max(Decimal::ZERO));
            if take.is_zero() {
                continue;
            }
            b.accrued = b.accrued.checked_sub(take)?;
            self.accrued_total = self.accrued_total.checked_sub(take)?;
            left = left.checked_sub(take)?;
            if b.outstanding().is_zero() {
                b.settled_at = Some(now);
            }
        }
        self.prune();
        amount.checked_sub(left)
    }

    /// Drops from the open list what is fully paid and determined.
    fn prune(&mut self) {
        let buckets = &mut self.buckets;
        self.open.retain(|&i| {
            let b = &mut buckets[i];
            b.listed = b.outstanding() > Decimal::ZERO || b.undetermined > 0 || b.live.is_some();
            b.listed
        });
    }

    /// Applies a payment to the buckets falling due first; within one due
    /// date, to the one opened first.
    pub fn settle(&mut self, amount: Decimal, now: Instant) -> Option<Settled> {
        let mut order: Vec<usize> = self
            .open
            .iter()
            .copied()
            .filter(|&i| self.buckets[i].outstanding() > Decimal::ZERO)
            .collect();
        // Amounts with a due date first, earliest first; then the rest, oldest first.
        order.sort_by_key(|&i| {
            let b = &self.buckets[i];
            (b.late_from.is_none(), b.late_from, b.opened, i)
        });
        let mut left = amount;
        let mut out = Settled::default();
        for i in order {
            if left <= Decimal::ZERO {
                break;
            }
            let b = &mut self.buckets[i];
            let take = left.min(b.outstanding());
            b.paid = b.paid.checked_add(take)?;
            left = left.checked_sub(take)?;
            if b.outstanding().is_zero() && b.undetermined == 0 {
                b.settled_at = Some(now);
                out.closed.push(i);
            }
        }
        self.paid_total = self.paid_total.checked_add(amount.checked_sub(left)?)?;
        if left > Decimal::ZERO {
            self.unapplied = self.unapplied.checked_add(left)?;
            out.unapplied = left;
        }
        self.prune();
        Some(out)
    }

    pub fn accrued(&self) -> Option<Decimal> {
        Some(self.accrued_total)
    }

    /// Outstanding in buckets whose due date has passed as of `now`.
    pub fn overdue(&self, now: Option<Instant>) -> Option<Decimal> {
        self.open
            .iter()
            .map(|&i| &self.buckets[i])
            .filter(|b| matches!((now, b.late_from), (Some(n), Some(l)) if l <= n))
            .try_fold(Decimal::ZERO, |acc, b| acc.checked_add(b.outstanding()))
    }

    pub fn undetermined(&self) -> u32 {
        self.undetermined_total
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_date;

    fn day(s: &str) -> (jiff::civil::Date, Instant) {
        let d = parse_date(s).unwrap();
        (d, Instant::start_of(d).unwrap())
    }

    fn due(l: &mut Ledger, b: usize, d: jiff::civil::Date, i: Instant) {
        l.buckets[b].due_date = Some(d);
        l.buckets[b].late_from = Some(i);
    }

    #[test]
    fn a_reversal_takes_back_unpaid_amounts_newest_first_and_never_more() {
        let mut l = Ledger::default();
        let (_, now) = day("2025-03-01");
        for _ in 0..3 {
            let (b, _) = l.bucket(0, "unit", false, now);
            l.set(b, dec("10"));
        }
        l.settle(dec("10"), now);
        assert_eq!(l.reverse(dec("15"), now), Some(dec("15")));
        assert_eq!(l.accrued(), Some(dec("15")));
        assert_eq!(l.reverse(dec("100"), now), Some(dec("5")), "only what is unpaid");
        assert_eq!(l.accrued(), Some(dec("10")));
    }

    /// The totals kept as amounts change equal the totals recomputed.
    #[test]
    fn running_totals_match_a_recount() {
        let mut l = Ledger::default();
        let (_, now) = day("2025-03-01");
        let mut seed: u64 = 7;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            Decimal::from(seed >> 54)
        };
        for step in 0..500 {
            match step % 4 {
                0 | 1 => {
                    let (b, _) = l.bucket(step % 3, "q", step % 2 == 0, now);
                    l.add(b, next()).unwrap();
                }
                2 => {
                    l.settle(next(), now).unwrap();
                }
                _ => {
                    l.reverse(next(), now).unwrap();
                }
            }
            let recount: Decimal = l.buckets.iter().map(|b| b.accrued).sum();
            assert_eq!(l.accrued(), Some(recount));
            let open: usize = l
                .buckets
                .iter()
                .filter(|b| b.outstanding() > Decimal::ZERO)
                .count();
            assert_eq!(
                l.open
                    .iter()
                    .filter(|&&i| l.buckets[i].outstanding() > Decimal::ZERO)
                    .count(),
                open
            );
        }
    }

    fn dec(s: &str) -> Decimal {
        Decimal::from_str_exact(s).unwrap()
    }

    #[test]
    fn payments_settle_the_oldest_due_first() {
        let mut l = Ledger::default();
        let (d1, i1) = day("2025-04-30");
        let (d2, i2) = day("2025-07-30");
        let (_, now) = day("2025-03-01");
        // Opened out of order: the later-due bucket first.
        let (late, _) = l.bucket(1, "2025-Q2", true, now);
        due(&mut l, late, d2, i2);
        let (early, _) = l.bucket(0, "2025-Q1", true, now);
        due(&mut l, early, d1, i1);
        l.set(late, dec("100"));
        l.set(early, dec("40"));
        let s = l.settle(dec("50"), now);
        assert_eq!(s.map(|s| s.closed), Some(vec![early]));
        assert_eq!(l.buckets[early].paid, dec("40"));
        assert_eq!(l.buckets[late].paid, dec("10"));
        assert_eq!(l.paid_total, dec("50"));
    }

    #[test]
    fn overpayment_is_held_not_lost() {
        let mut l = Ledger::default();
        let (d1, i1) = day("2025-04-30");
        let (_, now) = day("2025-03-01");
        let (b, _) = l.bucket(0, "2025-Q1", true, now);
        due(&mut l, b, d1, i1);
        l.set(b, dec("10.005"));
        let s = l.settle(dec("12"), now);
        assert_eq!(s.map(|s| s.unapplied), Some(dec("1.995")));
        assert_eq!(l.paid_total, dec("10.005"));
        assert_eq!(l.unapplied, dec("1.995"));
    }

    #[test]
    fn overdue_counts_only_past_due_buckets() {
        let mut l = Ledger::default();
        let (d1, i1) = day("2025-04-30");
        let (d2, i2) = day("2025-07-30");
        let (_, now) = day("2025-03-01");
        let (a, _) = l.bucket(0, "2025-Q1", true, now);
        due(&mut l, a, d1, i1);
        let (b, _) = l.bucket(0, "2025-Q2", true, now);
        due(&mut l, b, d2, i2);
        l.set(a, dec("1"));
        l.set(b, dec("2"));
        let (_, june) = day("2025-06-01");
        assert_eq!(l.overdue(Some(june)), Some(dec("1")));
        assert_eq!(l.overdue(None), Some(dec("0")));
    }
}

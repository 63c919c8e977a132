//! A read-only view of the engine's state at one moment: all a report
//! reads. It exposes what the state is, never how it is stored.

use std::io;

use rust_decimal::Decimal;

use super::ledger::{Bucket, Ledger, LedgerKey};
use super::state::{Breach, ClauseState, Closed, Ineffective, Instance};
use super::{Counts, Engine};
use crate::model::{ClauseId, ClauseSpec, NormId, Program, Table};
use crate::time::Instant;

pub struct Snapshot<'e, 'p> {
    engine: &'e Engine<'p>,
    /// Per norm: the amounts owed it still keeps, by ledger then age.
    buckets: Table<NormId, Vec<(LedgerKey, &'e Bucket)>>,
}

/// What the report lists of one norm.
pub struct NormView<'e> {
    /// Instances open or violated, oldest first.
    pub instances: Vec<&'e Instance>,
    /// For amounts owed: those still kept, with their ledger.
    pub buckets: &'e [(LedgerKey, &'e Bucket)],
    /// Closed instances (and amounts), by state.
    pub closed: &'e [Closed],
}

/// One ledger's totals.
pub struct LedgerView {
    pub key: LedgerKey,
    pub accrued: Decimal,
    pub paid: Decimal,
    pub overdue: Decimal,
    pub undetermined: u32,
    pub unapplied: Decimal,
    /// Whether anything ever accrued to it.
    pub used: bool,
    /// How many of its amounts were rounded to become decimals.
    pub rounded: u64,
}

impl<'e, 'p> Snapshot<'e, 'p> {
    pub(super) fn new(engine: &'e Engine<'p>) -> Snapshot<'e, 'p> {
        let mut buckets: Table<NormId, Vec<(LedgerKey, &'e Bucket)>> =
            Table::filled(Vec::new(), engine.program.norms.len());
        for ledger in &engine.ledgers {
            for b in ledger.listed() {
                if let Some(list) = buckets.get_mut(b.norm) {
                    list.push((ledger.key, b));
                }
            }
        }
        Snapshot { engine, buckets }
    }

    pub fn program(&self) -> &'p Program {
        self.engine.program
    }

    pub fn now(&self) -> Option<Instant> {
        self.engine.now
    }

    pub fn counts(&self) -> Counts {
        self.engine.counts
    }

    pub fn clauses(&self) -> impl Iterator<Item = (&'p ClauseSpec, &'e ClauseState)> + '_ {
        self.engine.program.clauses.values().zip(&self.engine.clauses)
    }

    pub fn clause_state(&self, c: ClauseId) -> Option<&'e ClauseState> {
        self.engine.clauses.get(c)
    }

    pub fn norm(&self, n: NormId) -> NormView<'_> {
        let store = self.engine.store(n);
        NormView {
            instances: store.listed(),
            buckets: self.buckets.get(n).map_or(&[], Vec::as_slice),
            closed: &store.closed,
        }
    }

    pub fn ledgers(&self) -> impl Iterator<Item = LedgerView> + '_ {
        let now = self.engine.now;
        self.engine.ledgers.iter().map(move |l: &Ledger| LedgerView {
            key: l.key,
            accrued: l.accrued(),
            paid: l.paid_total,
            overdue: l.overdue(now).unwrap_or_default(),
            undetermined: l.undetermined(),
            unapplied: l.unapplied,
            used: l.used,
            rounded: l.rounded,
        })
    }

    pub fn breach_count(&self) -> u64 {
        self.engine.breaches.len()
    }

    /// Every breach in the order found; past the cap they are read back
    /// from disk.
    pub fn breaches(&self) -> io::Result<impl Iterator<Item = io::Result<Breach>> + '_> {
        self.engine.breaches.iter()
    }

    pub fn ineffective(&self) -> io::Result<impl Iterator<Item = io::Result<Ineffective>> + '_> {
        self.engine.ineffective.iter()
    }
}

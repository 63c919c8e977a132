//! `--history FILE`: every transition of every clause and norm instance and
//! every ledger movement, one JSON object a line, written as it happens.
//! The report folds closed instances into counts; this stream keeps them
//! all, so nothing is lost and a timeline can be drawn from it.

use std::io::{self, Write};

use serde::Serialize;

/// One line of the history. Fields that do not apply are left out.
#[derive(Debug, Default, Serialize)]
pub struct Record<'a> {
    /// When it happened: a date for a midnight, else a date-time.
    pub at: String,
    /// `clause`, `instance`, `accrual`, `reversal`, `settlement`, `bucket`,
    /// `breach` or `ineffective`.
    pub record: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clause: Option<&'a str>,
    /// The norm's index in the contract's lowered program, stable for a
    /// given contract.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub norm: Option<NormId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// The instance (or amount owed): unique within the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<u64>,
    /// The instance's correlation key, or the period an amount is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub due: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub party: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outstanding: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unapplied: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub undetermined: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What caused it: the event on this line, or (null) time passing.
    pub line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<&'a str>,
}

/// Where history goes. A failed write is kept and reported at the end.
pub struct History {
    out: Box<dyn Write>,
    pub error: Option<io::Error>,
}

impl std::fmt::Debug for History {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("History").field("error", &self.error).finish()
    }
}

impl History {
    pub fn new(out: Box<dyn Write>) -> History {
        History { out, error: None }
    }

    pub fn write(&mut self, record: &Record<'_>) {
        if self.error.is_some() {
            return;
        }
        let result = serde_json::to_writer(&mut self.out, record)
            .map_err(io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        if let Err(e) = result {
            self.error = Some(e);
        }
    }

    pub fn flush(&mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()
    }
}

use super::clock::{BucketId, InstanceId};
use super::ledger::{Bucket, Label, LedgerKey, Settled};
use super::state::{Breach, Ineffective, Instance, NState, Status};
use super::{amount_text, at_text, Engine};
use crate::model::{ClauseId, NormId};
use crate::time::Instant;
use rust_decimal::Decimal;

impl<'p> Engine<'p> {
    fn write_record(&mut self, mut record: Record<'_>) {
        record.line = self.current;
        if let Some(h) = self.history.as_mut() {
            h.write(&record);
        }
    }

    fn moment(&self) -> String {
        self.now.map(at_text).unwrap_or_default()
    }

    pub(super) fn record_clause(&mut self, c: ClauseId, from: Status, to: Status, at: Option<Instant>) {
        let program = self.program;
        let record = Record {
            at: at.map(at_text).unwrap_or_else(|| self.moment()),
            record: "clause",
            clause: program.clauses.get(c).map(|s| s.name.as_str()),
            from: Some(from.name()),
            to: Some(to.name()),
            ..Record::default()
        };
        self.write_record(record);
    }

    fn instance_record(&self, n: NormId, inst: &Instance, from: NState) -> Record<'p> {
        let program = self.program;
        let spec = program.norms.get(n);
        Record {
            at: inst.since.map(at_text).unwrap_or_else(|| self.moment()),
            record: "instance",
            clause: spec
                .and_then(|s| program.clauses.get(s.clause))
                .map(|c| c.name.as_str()),
            norm: Some(n),
            kind: spec.map(|s| s.kind.name()),
            instance: Some(inst.seq),
            key: inst.key.as_ref().map(|k| k.to_string()),
            from: Some(from.name()),
            to: Some(inst.state.name()),
            due: inst.due.map(|d| d.shown()),
            note: inst.note.as_ref().map(|note| note.describe(program)),
            ..Record::default()
        }
    }

    /// An instance changed state (or arose, from `inactive`).
    pub(super) fn record_instance(&mut self, n: NormId, id: InstanceId, from: NState) {
        let Some(inst) = self.store(n).get(id).cloned() else {
            return;
        };
        let record = self.instance_record(n, &inst, from);
        self.write_record(record);
    }

    /// An instance closed.
    pub(super) fn record_closed(&mut self, n: NormId, inst: &Instance, from: NState) {
        let record = self.instance_record(n, inst, from);
        self.write_record(record);
    }

    fn money_record(&self, record: &'static str, n: Option<NormId>, key: LedgerKey) -> Record<'p> {
        let program = self.program;
        let spec = n.and_then(|n| program.norms.get(n));
        Record {
            at: self.moment(),
            record,
            clause: spec
                .and_then(|s| program.clauses.get(s.clause))
                .map(|c| c.name.as_str()),
            norm: n,
            from: program.parties.get(key.from).map(|p| p.name.as_str()),
            to: program.parties.get(key.to).map(|p| p.name.as_str()),
            currency: Some(key.currency.to_string()),
            ..Record::default()
        }
    }

    pub(super) fn record_money(
        &mut self,
        what: &'static str,
        n: NormId,
        key: LedgerKey,
        amount: Decimal,
        bucket: Option<BucketId>,
    ) {
        let mut record = self.money_record(what, Some(n), key);
        record.amount = Some(amount_text(amount));
        record.instance = bucket.map(|b| b.seq);
        self.write_record(record);
    }

    pub(super) fn record_accrual(
        &mut self,
        n: NormId,
        key: LedgerKey,
        b: BucketId,
        // The amount owed's label, and when it falls due once known.
        label: Option<(Label, Option<jiff::civil::Date>)>,
        amount: Decimal,
        determined: bool,
    ) {
        let mut record = self.money_record("accrual", Some(n), key);
        record.instance = Some(b.seq);
        record.key = label.map(|(l, _)| l.to_string());
        record.due = label.and_then(|(_, due)| due).map(|d| d.to_string());
        if determined {
            record.amount = Some(amount_text(amount));
        } else {
            record.undetermined = Some(true);
        }
        self.write_record(record);
    }

    pub(super) fn record_settlement(&mut self, key: LedgerKey, settled: Settled) {
        let mut record = self.money_record("settlement", None, key);
        record.amount = Some(amount_text(settled.applied));
        if settled.unapplied > Decimal::ZERO {
            record.unapplied = Some(amount_text(settled.unapplied));
        }
        self.write_record(record);
    }

    /// An amount owed fell due unpaid, or closed.
    pub(super) fn record_bucket(&mut self, key: LedgerKey, bucket: &Bucket, to: NState, at: Instant) {
        let mut record = self.money_record("bucket", Some(bucket.norm), key);
        record.at = at_text(at);
        record.instance = Some(bucket.seq);
        record.key = Some(bucket.label.to_string());
        record.to = Some(to.name());
        record.from = None;
        record.party = self.program.parties.get(key.from).map(|p| p.name.as_str());
        record.outstanding = Some(amount_text(bucket.outstanding()));
        record.due = bucket.due_date.map(|d| d.to_string());
        self.write_record(record);
    }

    pub(super) fn record_breach(&mut self, b: &Breach) {
        let program = self.program;
        let record = Record {
            at: at_text(b.instant),
            record: "breach",
            clause: program.clauses.get(b.clause).map(|c| c.name.as_str()),
            norm: Some(b.norm),
            party: program.parties.get(b.party).map(|p| p.name.as_str()),
            reason: Some(&b.reason),
            due: b.line.is_none().then(|| b.at.clone()),
            ..Record::default()
        };
        self.write_record(record);
    }

    pub(super) fn record_ineffective(&mut self, i: &Ineffective) {
        let program = self.program;
        let record = Record {
            at: self.moment(),
            record: "ineffective",
            clause: program.clauses.get(i.clause).map(|c| c.name.as_str()),
            event: program.events.get(i.event).map(|e| e.name.as_str()),
            reason: Some(&i.reason),
            ..Record::default()
        };
        self.write_record(record);
    }
}

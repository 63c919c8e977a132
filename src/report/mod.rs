//! Report: the state of the deal at one moment, as data (`Report`, which is
//! also the JSON form) and as text for people (`text`, rendered from the
//! `Report` alone, so the two can never disagree).
//!
//! The report is built from a [`Snapshot`] of the engine. Its size follows
//! the open state: instances still open, violated or suspended are listed
//! one by one, closed ones as a count per state. Breaches and ineffective
//! acts are listed in full, read in order as the report is written.

pub mod html;
pub mod text;

use std::io::{self, Write};

use serde::ser::{Error as _, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::eval::{Breach, Ineffective, NState, Snapshot, Status};
use crate::model::{Instancing, NormRule, Program};
use crate::ops::Span;
use crate::time::show_instant;
use crate::value::format_amount;

#[derive(Serialize)]
pub struct Report<'s> {
    pub deal: String,
    pub as_of: Option<String>,
    pub events: EventCounts,
    pub clauses: Vec<ClauseRow>,
    pub norms: Norms<'s>,
    pub balances: Vec<BalanceRow>,
    pub breaches: Breaches<'s>,
    pub ineffective: IneffectiveActs<'s>,
    /// Open terms with no value: amounts that depend on them are undetermined.
    pub open_terms: Vec<String>,
    /// Amounts past due that wait on an open term: breaches if they turn
    /// out to be anything (their norms' state is `undetermined`).
    #[serde(skip_serializing_if = "is_zero")]
    pub undetermined_past_due: u64,
    /// Set when the run stopped at a bad line: the report is then as of the
    /// last event applied before it, whatever moment was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Stopped>,
}

/// Where a run stopped: the bad line, in its own file's numbering.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Stopped {
    pub file: String,
    /// `null` when the input could not be read on.
    pub line: Option<usize>,
    pub code: String,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, Default)]
pub struct EventCounts {
    pub applied: u64,
    pub rejected: u64,
    pub ineffective: u64,
    pub duplicates: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ClauseRow {
    pub name: String,
    pub state: String,
    pub since: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct NormRow {
    pub clause: String,
    pub kind: String,
    pub bearer: String,
    pub counterparty: Option<String>,
    pub action: String,
    pub state: String,
    /// For a count of closed instances: when the last of them closed.
    pub since: Option<String>,
    pub due: Option<String>,
    /// The correlation key or period the instance is for; `null` on a count.
    pub key: Option<String>,
    /// How many closed instances this row stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// For amounts owed: what is still outstanding on this instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outstanding: Option<String>,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BalanceRow {
    pub from: String,
    pub to: String,
    pub currency: String,
    pub accrued: String,
    pub paid: String,
    pub outstanding: String,
    pub overdue: String,
    /// Accruals whose amount waits on an open term.
    pub undetermined: u32,
    /// Paid beyond everything owed.
    pub unapplied: String,
    /// How many amounts had no exact decimal and were rounded half to even
    /// at the 28th digit to become one.
    #[serde(skip_serializing_if = "is_zero")]
    pub rounded: u64,
    /// Where nothing was ever owed in this currency but is in others
    /// between the same parties: those currencies. What was paid here is
    /// held unapplied, never converted.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub owed_in: Vec<String>,
}

/// What a rounded amount's note says.
pub const ROUNDED: &str =
    "no decimal holds this amount exactly: rounded half to even at the finest of 28 digits";

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BreachRow {
    pub clause: String,
    pub party: String,
    /// The event's `at`; for a missed deadline, the due date (the last day
    /// on time) or instant.
    pub at: String,
    /// For a missed deadline, the first instant that was late, in full
    /// (`2025-05-01T00:00:00Z`); `null` for a breach by an act.
    pub late_from: Option<String>,
    pub line: Option<usize>,
    pub reason: String,
    pub allowed: Option<String>,
    pub event: Option<String>,
    /// Where the breached norm is written, for the text report.
    #[serde(skip)]
    pub span: Span,
    /// The breaching event's line as read, for the text report.
    #[serde(skip)]
    pub raw: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IneffectiveRow {
    pub clause: String,
    pub line: usize,
    pub at: String,
    pub event: String,
    pub reason: String,
}

/// Every norm's rows, made from the engine's state one at a time as they
/// are written: however many instances are open, none is held as a row.
pub struct Norms<'s> {
    snapshot: &'s Snapshot<'s, 's>,
}

impl Norms<'_> {
    /// Calls `f` on each row in order.
    pub fn each(&self, mut f: impl FnMut(NormRow) -> io::Result<()>) -> io::Result<()> {
        let snapshot = self.snapshot;
        let p = snapshot.program();
        for (id, spec) in p.norms.iter() {
            let clause = p
                .clauses
                .get(spec.clause)
                .map(|c| c.name.as_str())
                .unwrap_or_default();
            let row =
                |state: NState, since: Option<String>, due: Option<String>, key: Option<String>| NormRow {
                    clause: clause.to_string(),
                    kind: spec.kind.name().to_string(),
                    bearer: p.party_name(spec.bearer).to_string(),
                    counterparty: spec.counterparty.map(|c| p.party_name(c).to_string()),
                    action: p
                        .events
                        .get(spec.action.event)
                        .map(|e| e.name.clone())
                        .unwrap_or_default(),
                    state: state.name().to_string(),
                    since,
                    due,
                    key,
                    count: None,
                    outstanding: None,
                    summary: spec.summary.clone(),
                    note: None,
                };
            let view = snapshot.norm(id);
            let mut any = false;
            if let NormRule::Accrual { .. } = spec.rule {
                for (key, b) in view.buckets {
                    any = true;
                    let (state, since) = b.state();
                    let mut r = row(
                        state,
                        since.map(show_instant),
                        b.due_date.map(|d| d.to_string()),
                        Some(b.label.to_string()),
                    );
                    r.outstanding = Some(if key.currency == crate::value::Currency::UNDETERMINED {
                        "undetermined".to_string()
                    } else {
                        format!("{} {}", format_amount(b.outstanding()), key.currency)
                    });
                    if state == NState::Undetermined {
                        r.note = Some(format!(
                            "past due, with {} accrual(s) waiting on an open term: violated unless the term makes them nothing",
                            b.undetermined
                        ));
                    } else if b.undetermined > 0 {
                        r.note = Some(format!(
                            "{} accrual(s) undetermined until an open term is set",
                            b.undetermined
                        ));
                    } else if b.rounded {
                        r.note = Some(ROUNDED.to_string());
                    }
                    f(r)?;
                }
            } else {
                for i in &view.instances {
                    any = true;
                    let mut r = row(
                        i.state,
                        i.since.map(show_instant),
                        i.due.map(|d| d.shown()),
                        i.key.as_ref().map(|k| k.to_string()),
                    );
                    r.note = i.note.as_ref().map(|n| n.describe(p));
                    f(r)?;
                }
            }
            for (state, closed) in NState::ALL.iter().zip(view.closed) {
                if closed.count > 0 {
                    any = true;
                    let mut r = row(*state, closed.last.map(show_instant), None, None);
                    r.count = Some(closed.count);
                    f(r)?;
                }
            }
            if !any {
                let ended = matches!(spec.instancing, Instancing::Single)
                    && snapshot
                        .clause_state(spec.clause)
                        .is_some_and(|st| st.status == Status::Ended);
                let state = if ended { NState::Ended } else { NState::Inactive };
                f(row(state, None, None, None))?;
            }
        }
        Ok(())
    }
}

impl Serialize for Norms<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_rows(s, |f| self.each(f))
    }
}

/// The breaches, read from the engine in order as they are written.
pub struct Breaches<'s> {
    snapshot: &'s Snapshot<'s, 's>,
}

/// The ineffective acts, likewise.
pub struct IneffectiveActs<'s> {
    snapshot: &'s Snapshot<'s, 's>,
}

impl Breaches<'_> {
    pub fn len(&self) -> u64 {
        self.snapshot.breach_count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` on each row in order.
    pub fn each(&self, mut f: impl FnMut(BreachRow) -> io::Result<()>) -> io::Result<()> {
        let p = self.snapshot.program();
        for b in self.snapshot.breaches()? {
            f(breach_row(p, b?))?;
        }
        Ok(())
    }

    /// All rows, in memory: for tests and small reports.
    pub fn rows(&self) -> io::Result<Vec<BreachRow>> {
        let mut out = Vec::new();
        self.each(|r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }
}

impl IneffectiveActs<'_> {
    pub fn each(&self, mut f: impl FnMut(IneffectiveRow) -> io::Result<()>) -> io::Result<()> {
        let p = self.snapshot.program();
        for i in self.snapshot.ineffective()? {
            f(ineffective_row(p, i?))?;
        }
        Ok(())
    }

    pub fn rows(&self) -> io::Result<Vec<IneffectiveRow>> {
        let mut out = Vec::new();
        self.each(|r| {
            out.push(r);
            Ok(())
        })?;
        Ok(out)
    }
}

fn serialize_rows<S: Serializer, T: Serialize>(
    s: S,
    each: impl FnOnce(&mut dyn FnMut(T) -> io::Result<()>) -> io::Result<()>,
) -> Result<S::Ok, S::Error> {
    let mut seq = s.serialize_seq(None)?;
    let mut failed: Option<S::Error> = None;
    let read = each(&mut |row| {
        if failed.is_none() {
            if let Err(e) = seq.serialize_element(&row) {
                failed = Some(e);
            }
        }
        Ok(())
    });
    if let Some(e) = failed {
        return Err(e);
    }
    read.map_err(S::Error::custom)?;
    seq.end()
}

impl Serialize for Breaches<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_rows(s, |f| self.each(f))
    }
}

impl Serialize for IneffectiveActs<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_rows(s, |f| self.each(f))
    }
}

fn breach_row(p: &Program, b: Breach) -> BreachRow {
    BreachRow {
        clause: p
            .clauses
            .get(b.clause)
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        party: p.party_name(b.party).to_string(),
        at: b.at,
        late_from: b.line.is_none().then(|| b.instant.to_string()),
        line: b.line,
        reason: b.reason,
        allowed: b.allowed,
        event: b.event.and_then(|e| p.events.get(e)).map(|e| e.name.clone()),
        span: p.norms.get(b.norm).map(|n| n.span).unwrap_or_default(),
        raw: b.raw,
    }
}

fn ineffective_row(p: &Program, i: Ineffective) -> IneffectiveRow {
    IneffectiveRow {
        clause: p
            .clauses
            .get(i.clause)
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        line: i.line,
        at: i.at,
        event: p.events.get(i.event).map(|e| e.name.clone()).unwrap_or_default(),
        reason: i.reason,
    }
}

impl<'s> Report<'s> {
    /// The report as of the snapshot's moment. `as_of` is how that moment
    /// was asked for (`--at`, or the last event).
    pub fn build(snapshot: &'s Snapshot<'s, 's>, as_of: Option<String>, rejected: u64) -> Report<'s> {
        let p = snapshot.program();
        let counts = snapshot.counts();
        let clauses = snapshot
            .clauses()
            .map(|(spec, st)| ClauseRow {
                name: spec.name.clone(),
                state: st.status.name().to_string(),
                since: st.since.map(show_instant),
            })
            .collect();

        let ledgers: Vec<_> = snapshot
            .ledgers()
            .filter(|l| l.used || l.unapplied > rust_decimal::Decimal::ZERO)
            .collect();
        let balances = ledgers
            .iter()
            .map(|l| BalanceRow {
                from: p.party_name(l.key.from).to_string(),
                to: p.party_name(l.key.to).to_string(),
                currency: l.key.currency.to_string(),
                accrued: format_amount(l.accrued),
                paid: format_amount(l.paid),
                outstanding: format_amount(l.accrued.saturating_sub(l.paid)),
                overdue: format_amount(l.overdue),
                undetermined: l.undetermined,
                unapplied: format_amount(l.unapplied),
                rounded: l.rounded,
                owed_in: if l.used {
                    Vec::new()
                } else {
                    ledgers
                        .iter()
                        .filter(|o| o.used && o.key.from == l.key.from && o.key.to == l.key.to)
                        .map(|o| o.key.currency.to_string())
                        .collect()
                },
            })
            .collect();

        Report {
            deal: p.title.clone(),
            as_of,
            events: EventCounts {
                applied: counts.applied,
                rejected,
                ineffective: counts.ineffective,
                duplicates: counts.duplicates,
            },
            clauses,
            norms: Norms { snapshot },
            balances,
            breaches: Breaches { snapshot },
            ineffective: IneffectiveActs { snapshot },
            open_terms: p
                .terms
                .values()
                .filter(|t| t.is_open())
                .map(|t| t.name.clone())
                .collect(),
            undetermined_past_due: p
                .norms
                .ids()
                .flat_map(|n| snapshot.norm(n).buckets)
                .filter(|(_, b)| b.state().0 == NState::Undetermined)
                .count() as u64,
            stopped: None,
        }
    }

    /// Writes the report as pretty JSON, through `out` as it is made.
    pub fn write_json(&self, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, self).map_err(io::Error::from)?;
        out.write_all(b"\n")
    }

    /// The report as one JSON string: for tests and small reports.
    pub fn to_json(&self) -> io::Result<String> {
        let mut out = Vec::new();
        self.write_json(&mut out)?;
        String::from_utf8(out).map_err(io::Error::other)
    }
}

//! Report: the state of the deal at one moment, as data (`Report`, which is
//! also the JSON form) and as text for people (`text`).

pub mod text;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::eval::{Engine, NState};
use crate::model::{Instancing, NormRule};
use crate::time::Instant;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Report {
    pub deal: String,
    pub as_of: Option<String>,
    pub events: EventCounts,
    pub clauses: Vec<ClauseRow>,
    pub norms: Vec<NormRow>,
    pub balances: Vec<BalanceRow>,
    pub breaches: Vec<BreachRow>,
    pub ineffective: Vec<IneffectiveRow>,
    /// Open terms with no value: amounts that depend on them are undetermined.
    pub open_terms: Vec<String>,
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
    pub since: Option<String>,
    pub due: Option<String>,
    /// The correlation key or period the instance is for.
    pub key: Option<String>,
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
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct BreachRow {
    pub clause: String,
    pub party: String,
    pub at: String,
    pub line: Option<usize>,
    pub reason: String,
    pub allowed: Option<String>,
    pub event: Option<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct IneffectiveRow {
    pub clause: String,
    pub line: usize,
    pub at: String,
    pub event: String,
    pub reason: String,
}

/// Shows an instant as a date when it is a midnight, else as a date-time.
pub fn show_instant(i: Instant) -> String {
    if i.is_midnight() {
        i.date().to_string()
    } else {
        i.to_string()
    }
}

/// An exact amount, with at least two decimals and no trailing noise.
pub fn amount(d: Decimal) -> String {
    let mut n = d.normalize();
    if n.scale() < 2 {
        n.rescale(2);
    }
    n.to_string()
}

impl Report {
    /// The report as of the engine's present moment. `as_of` is how that
    /// moment was asked for (`--at`, or the last event).
    pub fn build(engine: &Engine<'_>, as_of: Option<String>, rejected: u64) -> Report {
        let p = engine.program();
        let counts = engine.counts();
        let clauses = p
            .clauses
            .iter()
            .zip(&engine.clauses)
            .map(|(spec, st)| ClauseRow {
                name: spec.name.clone(),
                state: st.status.name().to_string(),
                since: st.since.map(show_instant),
            })
            .collect();

        let mut norms = Vec::new();
        for (id, spec) in p.norms.iter().enumerate() {
            let clause = &p.clauses[spec.clause].name;
            let row =
                |state: &str, since: Option<String>, due: Option<String>, key: Option<String>| NormRow {
                    clause: clause.clone(),
                    kind: spec.kind.name().to_string(),
                    bearer: p.parties[spec.bearer].clone(),
                    counterparty: spec.counterparty.map(|c| p.parties[c].clone()),
                    action: p.events[spec.action.event].name.clone(),
                    state: state.to_string(),
                    since,
                    due,
                    key,
                    outstanding: None,
                    summary: spec.summary.clone(),
                    note: None,
                };
            if let NormRule::Accrual { .. } = spec.rule {
                let mut any = false;
                for (l, ledger) in engine.ledgers.iter().enumerate() {
                    let key = engine.ledger_keys[l];
                    for b in ledger.buckets.iter().filter(|b| b.norm == id) {
                        any = true;
                        // Taken back in full by a reversal (which dates it), not merely zero.
                        let withdrawn = b.accrued.is_zero()
                            && b.paid.is_zero()
                            && b.undetermined == 0
                            && b.settled_at.is_some();
                        let state = if withdrawn && b.live.is_none() {
                            // Taken back in full before anything was paid.
                            NState::Discharged
                        } else if b.outstanding() <= Decimal::ZERO && b.undetermined == 0 {
                            if b.violated {
                                NState::Violated
                            } else {
                                NState::Fulfilled
                            }
                        } else if b.violated {
                            NState::Violated
                        } else {
                            NState::Active
                        };
                        let since = match state {
                            NState::Fulfilled | NState::Discharged => b.settled_at.or(Some(b.opened)),
                            NState::Violated => b.late_from,
                            _ => Some(b.opened),
                        };
                        let mut r = row(
                            state.name(),
                            since.map(show_instant),
                            b.due_date.map(|d| d.to_string()),
                            Some(b.label.clone()),
                        );
                        r.outstanding = Some(format!("{} {}", amount(b.outstanding()), key.currency));
                        if b.undetermined > 0 {
                            r.note = Some(format!(
                                "{} accrual(s) undetermined until an open term is set",
                                b.undetermined
                            ));
                        }
                        norms.push(r);
                    }
                }
                if !any {
                    norms.push(row("inactive", None, None, None));
                }
                continue;
            }
            let instances = &engine.instances[id];
            if instances.is_empty() {
                let state = match (&spec.instancing, engine.clauses[spec.clause].status) {
                    (Instancing::Single, crate::eval::Status::Ended) => "ended",
                    _ => "inactive",
                };
                norms.push(row(state, None, None, None));
                continue;
            }
            for i in instances {
                let mut r = row(
                    i.state.name(),
                    i.since.map(show_instant),
                    i.due.as_ref().map(|d| d.shown.clone()),
                    i.key.clone(),
                );
                r.note = i.note.clone();
                norms.push(r);
            }
        }

        let now = engine.now();
        let balances = engine
            .ledgers
            .iter()
            .zip(&engine.ledger_keys)
            .filter(|(l, _)| !l.buckets.is_empty() || l.unapplied > Decimal::ZERO)
            .map(|(l, key)| {
                let accrued = l.accrued().unwrap_or_default();
                BalanceRow {
                    from: p.parties[key.from].clone(),
                    to: p.parties[key.to].clone(),
                    currency: key.currency.to_string(),
                    accrued: amount(accrued),
                    paid: amount(l.paid_total),
                    outstanding: amount(accrued - l.paid_total),
                    overdue: amount(l.overdue(now).unwrap_or_default()),
                    undetermined: l.undetermined(),
                    unapplied: amount(l.unapplied),
                }
            })
            .collect();

        let breaches = engine
            .breaches()
            .iter()
            .map(|b| BreachRow {
                clause: p.clauses[b.clause].name.clone(),
                party: p.parties[b.party].clone(),
                at: b.at.clone(),
                line: b.line,
                reason: b.reason.clone(),
                allowed: b.allowed.clone(),
                event: b.event.map(|e| p.events[e].name.clone()),
            })
            .collect();

        let ineffective = engine
            .ineffective
            .iter()
            .map(|i| IneffectiveRow {
                clause: p.clauses[i.clause].name.clone(),
                line: i.line,
                at: i.at.clone(),
                event: p.events[i.event].name.clone(),
                reason: i.reason.clone(),
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
            norms,
            balances,
            breaches,
            ineffective,
            open_terms: p
                .terms
                .iter()
                .filter(|t| t.value.is_none())
                .map(|t| t.name.clone())
                .collect(),
        }
    }
}

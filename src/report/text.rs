//! The report as text for people.

use std::fmt::Write as _;

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

use super::Report;
use crate::eval::Engine;
use crate::render::{render as render_diag, Style};
use crate::source::{LineSource, SourceFile};

/// A breach, shown as a diagnostic pointing at the clause and at the event.
#[derive(Debug, Error, Diagnostic)]
pub enum BreachReport {
    #[error("{party} breached `{clause}` on {at}")]
    #[diagnostic(code(deal::breach::act), severity(Warning))]
    Act {
        party: String,
        clause: String,
        at: String,
        #[source_code]
        src: SourceFile,
        #[label("{reason}")]
        span: SourceSpan,
        reason: String,
        #[help]
        help: Option<String>,
        #[related]
        event: Vec<EventLine>,
    },
    #[error("{party} breached `{clause}`: a deadline passed on {at}")]
    #[diagnostic(code(deal::breach::deadline), severity(Warning))]
    Deadline {
        party: String,
        clause: String,
        at: String,
        #[source_code]
        src: SourceFile,
        #[label("{reason}")]
        span: SourceSpan,
        reason: String,
        #[help]
        help: Option<String>,
    },
}

/// The events line behind a breach.
#[derive(Debug, Error, Diagnostic)]
#[error("the event that breached it")]
#[diagnostic(severity(Advice))]
pub struct EventLine {
    #[source_code]
    pub src: LineSource,
    #[label("line {line}")]
    pub span: SourceSpan,
    pub line: usize,
}

/// Renders the report; breaches are drawn as diagnostics in `style`.
pub fn render(
    report: &Report,
    engine: &Engine<'_>,
    contract: &SourceFile,
    events_name: &str,
    style: Style,
) -> String {
    let mut out = String::new();
    let p = engine.program();
    let as_of = report.as_of.as_deref().unwrap_or("the start (no events)");
    let _ = writeln!(out, "{} — as of {as_of}", report.deal);
    let e = &report.events;
    let _ = writeln!(
        out,
        "{} applied, {} rejected, {} ineffective, {} duplicate{}",
        plural(e.applied, "event"),
        e.rejected,
        e.ineffective,
        e.duplicates,
        if e.duplicates == 1 { "" } else { "s" }
    );
    if !report.open_terms.is_empty() {
        let _ = writeln!(
            out,
            "open terms: {} (amounts that depend on them are undetermined; try --set NAME=VALUE)",
            report.open_terms.join(", ")
        );
    }

    let _ = writeln!(out, "\nClauses");
    let width = report.clauses.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for c in &report.clauses {
        let since = c
            .since
            .as_deref()
            .map(|s| format!(" since {s}"))
            .unwrap_or_default();
        let _ = writeln!(out, "  {:width$}  {}{since}", c.name, c.state);
    }

    let _ = writeln!(out, "\nNorms");
    let mut last_clause = "";
    for n in &report.norms {
        if n.clause != last_clause {
            let _ = writeln!(out, "  {}", n.clause);
            last_clause = &n.clause;
        }
        let key = n.key.as_deref().map(|k| format!(" [{k}]")).unwrap_or_default();
        let mut tail = String::new();
        if let Some(s) = &n.since {
            let _ = write!(tail, " since {s}");
        }
        if let Some(d) = &n.due {
            let _ = write!(tail, ", due {d}");
        }
        if let Some(o) = &n.outstanding {
            let _ = write!(tail, ", outstanding {o}");
        }
        let _ = writeln!(out, "    {:11} {}{key}: {}{tail}", n.kind, n.summary, n.state);
        if let Some(note) = &n.note {
            let _ = writeln!(out, "                ({note})");
        }
    }

    let _ = writeln!(out, "\nBalances");
    if report.balances.is_empty() {
        let _ = writeln!(out, "  nothing owed");
    }
    for b in &report.balances {
        let _ = writeln!(
            out,
            "  {} owes {} ({}): accrued {}, paid {}, outstanding {}, overdue {}",
            b.from, b.to, b.currency, b.accrued, b.paid, b.outstanding, b.overdue
        );
        if b.undetermined > 0 {
            let _ = writeln!(
                out,
                "    plus {} accrual(s) undetermined until an open term is set",
                b.undetermined
            );
        }
        if b.unapplied != "0.00" {
            let _ = writeln!(
                out,
                "    {} {} paid beyond what was owed",
                b.unapplied, b.currency
            );
        }
    }

    if !report.ineffective.is_empty() {
        let _ = writeln!(out, "\nIneffective acts");
        for i in &report.ineffective {
            let _ = writeln!(
                out,
                "  line {} ({}): {} changed nothing: {}",
                i.line, i.at, i.event, i.reason
            );
        }
    }

    let _ = writeln!(out, "\nBreaches");
    if engine.breaches().is_empty() {
        let _ = writeln!(out, "  none");
    }
    for b in engine.breaches() {
        let clause = &p.clauses[b.clause];
        let norm = &p.norms[b.norm];
        let party = p.parties[b.party].clone();
        let help = b.allowed.as_ref().map(|a| format!("allowed instead: {a}"));
        let diag = match (&b.line, &b.raw) {
            (Some(line), Some(raw)) => BreachReport::Act {
                party,
                clause: clause.name.clone(),
                at: b.at.clone(),
                src: contract.clone(),
                span: norm.span.into(),
                reason: b.reason.clone(),
                help,
                event: vec![EventLine {
                    src: LineSource {
                        name: events_name.into(),
                        line: *line,
                        text: raw.clone(),
                    },
                    span: (0, raw.len()).into(),
                    line: *line,
                }],
            },
            _ => BreachReport::Deadline {
                party,
                clause: clause.name.clone(),
                at: b.at.clone(),
                src: contract.clone(),
                span: norm.span.into(),
                reason: b.reason.clone(),
                help,
            },
        };
        out.push_str(&render_diag(&diag, style));
    }
    out
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

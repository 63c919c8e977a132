//! The report as text for people.

use std::fmt::Write as _;
use std::io::{self, Write};

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

use super::Report;
use crate::diag::source::{unprintable, LineSource, SourceFile};
use crate::diag::{render as render_diag, Style};

/// A breach, shown as a diagnostic pointing at the clause and at the event.
#[derive(Debug, Error, Diagnostic)]
pub enum BreachReport {
    #[error("{party} breached `{clause}` on {at}")]
    #[diagnostic(code(deal::breach::act), severity(Error))]
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
    /// `when` names both dates: the due date and the first late instant.
    #[error("{party} breached `{clause}`: {when}")]
    #[diagnostic(code(deal::breach::deadline), severity(Error))]
    Deadline {
        party: String,
        clause: String,
        when: String,
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

/// Writes the report for people; breaches are drawn as diagnostics in
/// `style`, pointing at the contract and at the events line.
pub fn render(
    report: &Report<'_>,
    contract: &SourceFile,
    events_name: &str,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    header(report, out)?;
    clauses(report, out)?;
    norms(report, out)?;
    balances(report, out)?;
    ineffective(report, out)?;
    breaches(report, contract, events_name, style, out)
}

/// The deal, the moment, whether the run stopped, what was read.
fn header(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    let as_of = report.as_of.as_deref().unwrap_or("the start (no events)");
    writeln!(out, "{} — as of {as_of}", shown(&report.deal))?;
    if let Some(st) = &report.stopped {
        let at = st.line.map(|l| format!("line {l} of ")).unwrap_or_default();
        writeln!(
            out,
            "STOPPED at {at}{} ({}): nothing after it was read; this is the state as of the last event applied",
            shown(&st.file), st.code
        )?;
    }
    let e = &report.events;
    writeln!(
        out,
        "{} applied, {} rejected, {} ineffective, {} duplicate{}",
        plural(e.applied, "event"),
        e.rejected,
        e.ineffective,
        e.duplicates,
        if e.duplicates == 1 { "" } else { "s" }
    )?;
    if !report.open_terms.is_empty() {
        writeln!(
            out,
            "open terms: {} (amounts that depend on them are undetermined; try --set NAME=VALUE)",
            report.open_terms.join(", ")
        )?;
    }
    Ok(())
}

fn clauses(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "\nClauses")?;
    let width = report
        .clauses
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0);
    for c in &report.clauses {
        let since = c
            .since
            .as_deref()
            .map(|s| format!(" since {s}"))
            .unwrap_or_default();
        writeln!(out, "  {:width$}  {}{since}", c.name, c.state)?;
    }
    Ok(())
}

/// Open instances one by one, closed ones counted.
fn norms(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "\nNorms")?;
    let mut last_clause = String::new();
    report.norms.each(|n| {
        if n.clause != last_clause {
            writeln!(out, "  {}", shown(&n.clause))?;
            last_clause.clone_from(&n.clause);
        }
        let key = n
            .key
            .as_deref()
            .map(|k| format!(" [{}]", shown(k)))
            .unwrap_or_default();
        let mut tail = String::new();
        match (&n.since, n.count) {
            (Some(s), Some(c)) if c > 1 => {
                let _ = write!(tail, ", the last on {s}");
            }
            (Some(s), _) => {
                let _ = write!(tail, " since {s}");
            }
            (None, _) => {}
        }
        if let Some(d) = &n.due {
            let _ = write!(tail, ", due {d}");
        }
        if let Some(o) = &n.outstanding {
            let _ = write!(tail, ", outstanding {o}");
        }
        let state = match n.count {
            Some(c) if c > 1 => format!("{c} {}", n.state),
            _ => n.state.clone(),
        };
        writeln!(out, "    {:11} {}{key}: {state}{tail}", n.kind, shown(&n.summary))?;
        if let Some(note) = &n.note {
            writeln!(out, "                ({})", shown(note))?;
        }
        Ok(())
    })
}

fn balances(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "\nBalances")?;
    if report.balances.is_empty() {
        writeln!(out, "  nothing owed")?;
    }
    for b in &report.balances {
        writeln!(
            out,
            "  {} owes {} ({}): accrued {}, paid {}, outstanding {}, overdue {}",
            b.from, b.to, b.currency, b.accrued, b.paid, b.outstanding, b.overdue
        )?;
        if b.undetermined > 0 {
            writeln!(
                out,
                "    plus {} accrual(s) undetermined until an open term is set",
                b.undetermined
            )?;
        }
        if b.unapplied != "0.00" && !b.owed_in.is_empty() {
            writeln!(
                out,
                "    warning: {} {} paid, but {} owes {} in {} only: held unapplied, not converted",
                b.unapplied,
                b.currency,
                b.from,
                b.to,
                b.owed_in.join(", ")
            )?;
        } else if b.unapplied != "0.00" {
            writeln!(
                out,
                "    {} {} paid beyond what was owed",
                b.unapplied, b.currency
            )?;
        }
        if b.rounded > 0 {
            writeln!(
                out,
                "    {} amount(s) with no exact decimal, rounded half to even at the finest of 28 digits",
                b.rounded
            )?;
        }
    }
    Ok(())
}

fn ineffective(report: &Report<'_>, out: &mut dyn Write) -> io::Result<()> {
    if report.events.ineffective > 0 {
        writeln!(out, "\nIneffective acts")?;
        report.ineffective.each(|i| {
            writeln!(
                out,
                "  line {} ({}): {} changed nothing: {}",
                i.line,
                i.at,
                shown(&i.event),
                shown(&i.reason)
            )
        })?;
    }
    Ok(())
}

/// Breaches, each drawn as a diagnostic pointing at its clause and, for an
/// act, at the events line.
fn breaches(
    report: &Report<'_>,
    contract: &SourceFile,
    events_name: &str,
    style: Style,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "\nBreaches")?;
    match (report.breaches.is_empty(), report.undetermined_past_due) {
        (true, 0) => writeln!(out, "  none")?,
        (true, n) => writeln!(
            out,
            "  none certain: {n} amount(s) past due wait on an open term, and are breaches if it makes them anything"
        )?,
        (false, 0) => {}
        (false, n) => writeln!(
            out,
            "  and {n} amount(s) past due wait on an open term, and are breaches if it makes them anything"
        )?,
    }
    report.breaches.each(|b| {
        let help = b
            .allowed
            .as_ref()
            .map(|a| format!("allowed instead: {}", shown(a)));
        let reason = shown(&b.reason).into_owned();
        let diag = match (b.line, b.raw) {
            (Some(line), Some(raw)) => {
                let raw = shown(&raw).into_owned();
                BreachReport::Act {
                    party: b.party,
                    clause: b.clause,
                    at: b.at,
                    src: contract.clone(),
                    span: b.span.into(),
                    reason: reason.clone(),
                    help,
                    event: vec![EventLine {
                        span: (0, raw.len()).into(),
                        src: LineSource::new(events_name.into(), line, &raw),
                        line,
                    }],
                }
            }
            _ => BreachReport::Deadline {
                party: b.party,
                clause: b.clause,
                when: match b.late_from {
                    Some(late) if late != b.at => format!("due {}, late from {late}", b.at),
                    _ => format!("the deadline {} passed", b.at),
                },
                src: contract.clone(),
                span: b.span.into(),
                reason: reason.clone(),
                help,
            },
        };
        out.write_all(render_diag(&diag, style).as_bytes())
    })
}

fn plural(n: u64, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// Text from an events line (or a contract) as it may be printed on a
/// terminal: control characters and the marks that reorder text are
/// written as escapes, so a field can neither forge a line of the report
/// nor send the terminal a command.
pub fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(unprintable) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if unprintable(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn a_field_cannot_forge_a_line_or_reach_the_terminal() {
        assert_eq!(shown("po-1"), "po-1");
        assert_eq!(shown("a\n\nBreaches\n  none\n"), "a\\n\\nBreaches\\n  none\\n");
        assert_eq!(shown("\u{1b}[2J"), "\\u{001b}[2J");
        assert_eq!(shown("\u{9b}31m"), "\\u{009b}31m");
        assert_eq!(shown("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(shown("Müller"), "Müller");
    }
}

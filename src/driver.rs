//! The whole pipeline for one contract: load and check it, replay an events
//! stream, report. The command line is a thin shell over these functions.

use std::io::BufRead;

use miette::Diagnostic;
use thiserror::Error;

use crate::check::{self, CheckError};
use crate::eval::{Engine, Rejection};
use crate::events::{Event, EventError, EventReader};
use crate::model::Program;
use crate::source::{LineSource, SourceFile};
use crate::syntax::{self, SyntaxError};
use crate::time::{Instant, Moment};

/// Why a contract could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    Syntax(Box<SyntaxError>),
    /// Every problem the checker found; warnings may be among them.
    Check(Vec<CheckError>),
}

/// A checked contract and the warnings it drew.
#[derive(Debug)]
pub struct Loaded {
    pub program: Program,
    pub warnings: Vec<CheckError>,
}

/// Parses and checks a contract.
pub fn load(source: &SourceFile) -> Result<Loaded, LoadError> {
    let ast = syntax::parse(&source.text).map_err(|e| LoadError::Syntax(Box::new(e)))?;
    let checked = check::check(&ast);
    let failed = checked.has_errors();
    match checked.program {
        Some(program) if !failed => Ok(Loaded {
            program,
            warnings: checked.diagnostics,
        }),
        _ => Err(LoadError::Check(checked.diagnostics)),
    }
}

/// The moment a report is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsOf {
    /// The last instant included.
    pub instant: Instant,
    /// How it was asked for.
    pub shown: String,
}

impl AsOf {
    /// `2026-11-30` means the end of that day; a date-time means that instant.
    pub fn parse(text: &str) -> Option<AsOf> {
        let m = Moment::parse(text.trim())?;
        let instant = if m.date_only {
            Instant::end_of(m.instant.date())?.just_before()?
        } else {
            m.instant
        };
        Some(AsOf {
            instant,
            shown: m.to_string(),
        })
    }
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("--at `{text}` is not a date or an RFC 3339 date-time")]
#[diagnostic(
    code(deal::cli::bad_at),
    help("write `--at 2026-11-30` for the end of that day, or `--at 2026-11-30T12:00:00Z` for an instant")
)]
pub struct BadAt {
    pub text: String,
}

/// What replaying a stream came to.
#[derive(Debug, Default)]
pub struct Replay {
    /// Rejected lines, in order. Without `keep_going`, at most one.
    pub rejected: Vec<EventError>,
    /// Whether the run stopped at a rejected line.
    pub stopped: bool,
}

/// Reads events line by line and applies them, up to `until` when given:
/// a report as of a moment does not see what came after it. Without
/// `keep_going` the replay stops at the first bad line, after applying
/// everything before it; with it, bad lines are handed to `on_reject` with
/// their text and skipped. One line buffer and one event are reused for
/// the whole stream.
pub fn replay<R: BufRead>(
    engine: &mut Engine<'_>,
    reader: &EventReader<'_>,
    mut input: R,
    until: Option<Instant>,
    keep_going: bool,
    mut on_reject: impl FnMut(&EventError, &str),
) -> Replay {
    let mut out = Replay::default();
    let mut buf = Vec::new();
    let mut ev = Event::blank();
    let mut line_no = 0usize;
    loop {
        buf.clear();
        match input.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                let err = EventError::Unreadable {
                    message: e.to_string(),
                };
                on_reject(&err, "");
                out.rejected.push(err);
                out.stopped = true;
                break;
            }
        }
        line_no += 1;
        while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            buf.pop();
        }
        let (text, result) = match std::str::from_utf8(&buf) {
            Ok(text) => (text, reader.decode(line_no, text, &mut ev)),
            Err(_) => ("", Err(Box::new(EventError::NotUtf8 { line: line_no }))),
        };
        let result: Result<(), Box<EventError>> = match result {
            Ok(false) => continue,
            Ok(true) if until.is_some_and(|u| ev.at.instant > u) => break,
            Ok(true) => match engine.apply(&ev, text) {
                Ok(_) => continue,
                Err(rej) => Err(Box::new(rejection(rej, &ev, text, line_no, reader))),
            },
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            on_reject(&e, text);
            out.rejected.push(*e);
            if !keep_going {
                out.stopped = true;
                break;
            }
        }
    }
    out
}

fn rejection(rej: Rejection, ev: &Event, text: &str, line_no: usize, reader: &EventReader<'_>) -> EventError {
    let src = LineSource {
        name: reader.events_name().into(),
        line: line_no,
        text: text.into(),
    };
    match rej {
        Rejection::OutOfOrder {
            previous,
            previous_line,
        } => {
            let span = at_span(text);
            EventError::OutOfOrder {
                at: ev.at.to_string(),
                previous: previous.to_string(),
                src,
                span,
                previous_line,
            }
        }
        Rejection::ReusedId { first_line } => EventError::ReusedId {
            first_line,
            span: crate::events::value_span(text, "id"),
            src,
        },
        Rejection::BeyondHorizon { horizon, latest } => EventError::BeyondHorizon {
            at: ev.at.to_string(),
            horizon: horizon.to_string(),
            latest: latest.to_string(),
            span: at_span(text),
            src,
        },
        Rejection::Eval(err) => EventError::CannotApply {
            reason: err.to_string(),
            span: (0, text.len()).into(),
            src,
            help: "check the amounts and currencies in this event against the contract".to_string(),
            declared: vec![reader.declared_of(ev.kind)],
        },
    }
}

fn at_span(text: &str) -> miette::SourceSpan {
    match text.find("\"at\"") {
        Some(i) => {
            let rest = &text[i..];
            let end = rest
                .char_indices()
                .skip(5)
                .find(|(_, c)| *c == ',' || *c == '}')
                .map_or(rest.len(), |(j, _)| j);
            (i, end).into()
        }
        None => (0, text.len()).into(),
    }
}

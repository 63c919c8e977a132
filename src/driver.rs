//! The whole pipeline for one contract: load and check it, replay an events
//! stream, report. The command line is a thin shell over these functions.

use std::io::Read;

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

use crate::check::{self, CheckError};
use crate::diag::source::{LineSource, SourceFile};
use crate::eval::{Engine, Rejection};
use crate::events::stream::{Batch, LineStream, Outcome};
use crate::events::{Event, EventError, EventReader};
use crate::model::interpret::EvalError;
use crate::model::Program;
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

/// The report cannot be worked out: bringing the deal up to the moment
/// asked for failed in the contract (an amount growing past what can be
/// held exactly, a date past the calendar).
#[derive(Debug, Clone, Error, Diagnostic)]
#[error("the report as of {at} cannot be worked out: {reason}")]
#[diagnostic(code(deal::run::cannot_report))]
pub struct CannotReport {
    pub at: String,
    pub reason: String,
    #[source_code]
    pub src: SourceFile,
    #[label("{reason}")]
    pub span: Option<SourceSpan>,
    #[help]
    pub help: String,
}

impl CannotReport {
    pub fn new(contract: &SourceFile, at: String, err: &EvalError) -> CannotReport {
        CannotReport {
            at,
            reason: err.problem.to_string(),
            src: contract.clone(),
            span: err.span.map(Into::into),
            help: "ask for an earlier moment with `--at`, or bound the amount in the contract (e.g. with `min(…)`)"
                .to_string(),
        }
    }
}

/// How far a stream was read through: the lines and bytes taken (applied,
/// blank, duplicate or set aside as rejected), and a print of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fed {
    /// The number of the last line taken, in its file's numbering.
    pub lines: usize,
    /// The bytes of the stream up to the end of that line.
    pub bytes: u64,
    /// The lines' prints chained ([`crate::events::stream::chain`]); kept
    /// only when the stream was read with `hashing`.
    pub print: u64,
}

/// What replaying a stream came to.
#[derive(Debug, Default)]
pub struct Replay {
    /// Rejected lines, in order. Without `keep_going`, at most one.
    pub rejected: Vec<EventError>,
    /// Whether the run stopped at a rejected line.
    pub stopped: bool,
    /// What was read through.
    pub fed: Fed,
    /// The stream ended in a line without its end, left unread (only with
    /// `leave_unended`).
    pub unended: Option<usize>,
}

/// How a stream is replayed.
#[derive(Debug, Clone, Copy, Default)]
pub struct ReplayOptions {
    /// Apply nothing dated after this: a report as of a moment does not see
    /// what came after it.
    pub until: Option<Instant>,
    /// Go on past bad lines instead of stopping at the first.
    pub keep_going: bool,
    /// Read and decode on a thread of their own while the engine applies.
    /// Only for inputs that always end (files): a thread blocked reading a
    /// pipe that never closes could not be stopped.
    pub threaded: bool,
    /// Where the stream starts: a file read on after what an earlier run
    /// took from it keeps its own line numbers, and its print goes on.
    pub start: Fed,
    /// Added to the line of every event the engine sees: lines of the
    /// parts of a stream fed before this one.
    pub line_base: usize,
    /// Give every line its print, for `Fed::print`.
    pub hashing: bool,
    /// Leave a last line without its end unread: a file still being
    /// written may end in half a line.
    pub leave_unended: bool,
    /// Call the checkpoint hook after every so many events applied; 0 never.
    pub checkpoint_every: u64,
}

/// Reads events and applies them in order. Without `keep_going` the replay
/// stops at the first bad line, after applying everything before it; with
/// it, bad lines are handed to `on_reject` with their bytes as written and
/// skipped.
pub fn replay<R: Read + Send>(
    engine: &mut Engine<'_>,
    reader: &EventReader<'_>,
    input: R,
    options: ReplayOptions,
    on_reject: impl FnMut(&EventError, &[u8]),
) -> Replay {
    replay_with(engine, reader, input, options, on_reject, |_, _| {})
}

/// [`replay`], calling `on_checkpoint` with the engine and what was read
/// through after every `checkpoint_every` events applied.
pub fn replay_with<R: Read + Send>(
    engine: &mut Engine<'_>,
    reader: &EventReader<'_>,
    input: R,
    options: ReplayOptions,
    on_reject: impl FnMut(&EventError, &[u8]),
    on_checkpoint: impl FnMut(&Engine<'_>, &Fed),
) -> Replay {
    let mut out = Replay {
        fed: options.start,
        ..Replay::default()
    };
    let mut hooks = Hooks {
        on_reject,
        on_checkpoint,
        since_checkpoint: 0,
    };
    let mut stream = LineStream::new(input)
        .numbered_from(options.start.lines + 1)
        .offset_from(options.start.bytes)
        .hashing(options.hashing);
    if !options.threaded {
        let mut batch = Batch::default();
        while stream.fill(reader, &mut batch) {
            if !apply_batch(engine, reader, &mut batch, options, &mut hooks, &mut out) {
                break;
            }
        }
        return out;
    }
    // Batches go to the engine through a short queue and come back empty
    // to be filled again, so their storage is reused.
    let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Batch>(2);
    let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Batch>();
    std::thread::scope(|scope| {
        let read = move || loop {
            let mut batch = empty_rx.try_recv().unwrap_or_default();
            if !stream.fill(reader, &mut batch) || full_tx.send(batch).is_err() {
                break;
            }
        };
        // Without a thread (none can be had) the replay cannot go on: it
        // stops as if the input were unreadable.
        if let Err(e) = std::thread::Builder::new()
            .name("deal-reader".into())
            .spawn_scoped(scope, read)
        {
            let err = EventError::Unreadable {
                message: format!("no thread to read on: {e}"),
            };
            (hooks.on_reject)(&err, b"");
            out.rejected.push(err);
            out.stopped = true;
            return;
        }
        for mut batch in full_rx.iter() {
            if !apply_batch(engine, reader, &mut batch, options, &mut hooks, &mut out) {
                break;
            }
            let _ = empty_tx.send(batch);
        }
        // Dropping the queue's end stops the reader at its next batch.
        drop(full_rx);
    });
    out
}

struct Hooks<J, C> {
    on_reject: J,
    on_checkpoint: C,
    since_checkpoint: u64,
}

/// Applies the lines of a batch in order; `false` once the replay must stop.
fn apply_batch<J: FnMut(&EventError, &[u8]), C: FnMut(&Engine<'_>, &Fed)>(
    engine: &mut Engine<'_>,
    reader: &EventReader<'_>,
    batch: &mut Batch,
    options: ReplayOptions,
    hooks: &mut Hooks<J, C>,
    out: &mut Replay,
) -> bool {
    for i in 0..batch.lines.len() {
        let Some(line) = batch.lines.get(i) else { break };
        if line.unended && options.leave_unended {
            out.unended = Some(line.no);
            return false;
        }
        let (no, after, print) = (line.no, line.after, line.print);
        let error = match &line.outcome {
            Outcome::Blank => None,
            Outcome::Event(e) => {
                let e = *e;
                if options.line_base > 0 {
                    if let Some(ev) = batch.event_mut(e) {
                        ev.line += options.line_base;
                    }
                }
                let Some(line) = batch.lines.get(i) else { break };
                let Some(ev) = batch.event(e) else { continue };
                if options.until.is_some_and(|u| ev.at.instant > u) {
                    return false;
                }
                match engine.apply(ev, batch.bytes(line)) {
                    Ok(_) => {
                        hooks.since_checkpoint += 1;
                        None
                    }
                    Err(rej) => {
                        let text = String::from_utf8_lossy(batch.bytes(line));
                        Some(Box::new(rejection(
                            rej,
                            ev,
                            &text,
                            line.no,
                            options.line_base,
                            reader,
                        )))
                    }
                }
            }
            Outcome::Bad(_) => {
                let placeholder = Outcome::Blank;
                let Some(line) = batch.lines.get_mut(i) else { break };
                match std::mem::replace(&mut line.outcome, placeholder) {
                    Outcome::Bad(e) => Some(e),
                    _ => None,
                }
            }
        };
        if let Some(error) = error {
            let raw = batch.lines.get(i).map(|l| batch.raw(l)).unwrap_or(&[]);
            (hooks.on_reject)(&error, raw);
            let unreadable = matches!(*error, EventError::Unreadable { .. });
            out.rejected.push(*error);
            if !options.keep_going || unreadable {
                out.stopped = true;
                return false;
            }
        }
        out.fed = Fed {
            lines: no,
            bytes: after,
            print: if options.hashing {
                crate::events::stream::chain(out.fed.print, print)
            } else {
                0
            },
        };
        if options.checkpoint_every > 0 && hooks.since_checkpoint >= options.checkpoint_every {
            hooks.since_checkpoint = 0;
            (hooks.on_checkpoint)(engine, &out.fed);
        }
    }
    true
}

/// The error for an event the engine refused. Lines the engine names are
/// of the whole stream fed through a state; those within this file are
/// given in its own numbering.
fn rejection(
    rej: Rejection,
    ev: &Event,
    text: &str,
    line_no: usize,
    base: usize,
    reader: &EventReader<'_>,
) -> EventError {
    let own = |l: usize| if l > base { l - base } else { l };
    let src = LineSource::new(reader.events_name().into(), line_no, text);
    match rej {
        Rejection::OutOfOrder {
            previous,
            previous_line,
        } => {
            let span = crate::events::value_span(text, "at");
            EventError::OutOfOrder {
                at: ev.at.to_string(),
                previous: previous.to_string(),
                src,
                span,
                previous_line: own(previous_line),
            }
        }
        Rejection::ReusedId { first_line } => EventError::ReusedId {
            first_line: own(first_line),
            span: crate::events::value_span(text, "id"),
            src,
        },
        Rejection::BeyondHorizon { horizon, latest } => EventError::BeyondHorizon {
            at: ev.at.to_string(),
            horizon: horizon.to_string(),
            latest: latest.to_string(),
            span: crate::events::value_span(text, "at"),
            src,
        },
        Rejection::Eval(err) => EventError::CannotApply {
            reason: err.to_string(),
            span: (0, text.len()).into(),
            src,
            help: "check the amounts and currencies in this event against the contract".to_string(),
            declared: match err.span {
                Some(span) => vec![reader.failed_at(span, err.problem.to_string())],
                None => reader.declared_of(ev.kind),
            },
        },
    }
}

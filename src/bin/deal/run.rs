//! `deal run`: the command line's side of a run — what to read, where to
//! write, what to say — in the order a run goes: the contract and its
//! `--set` values, the state carried on, the events, the replay, the
//! state saved, the report, the closing word.

use std::fs::File;
use std::io::{self, IsTerminal, Read as _, Write};
use std::sync::Arc;

use miette::Diagnostic as _;

use deal::diag::source::SourceFile;
use deal::diag::{Style, WithSource};
use deal::driver::{self, AsOf, BadAt, Replay, ReplayOptions};
use deal::eval::{Engine, Options};
use deal::events::EventReader;
use deal::model::Program;
use deal::report::{html, text, Report, Stopped};
use deal::resume::{Position, Resumed, Start};
use deal::value::Duration;

use super::{load, read_source, rejects, warn, CliError, Format, Out, BREACHED, EVALUATED, INVALID};

pub(crate) struct RunArgs<'a> {
    pub contract: &'a str,
    pub events: &'a str,
    pub at: Option<&'a str>,
    pub format: Format,
    pub sets: &'a [String],
    pub rejects: Option<&'a str>,
    pub history: Option<&'a str>,
    pub dedup_horizon: Option<&'a str>,
    pub state: Option<&'a str>,
    pub checkpoint_every: u64,
}

/// A step that failed has said why; the run ends with exit 2.
struct Said;

impl Out {
    fn said(&self, d: &dyn miette::Diagnostic) -> Said {
        self.diag(d);
        Said
    }
}

type Step<T> = Result<T, Said>;

pub(crate) fn run(out: &Out, args: &RunArgs<'_>) -> u8 {
    match run_steps(out, args) {
        Ok(code) => code,
        Err(Said) => INVALID,
    }
}

fn run_steps(out: &Out, args: &RunArgs<'_>) -> Step<u8> {
    let as_of = as_of(out, args.at)?;
    let given_horizon = horizon(out, args.dedup_horizon)?;
    let (source, program) = program(out, args)?;
    refuse_overwriting_events(out, args)?;
    let fingerprint = args.state.map(|_| deal::resume::fingerprint(&program, args.sets));
    let resumed = match (args.state, &fingerprint) {
        (Some(path), Some(fp)) => deal::resume::read(path, fp).map_err(|e| out.said(&e))?,
        _ => None,
    };
    let horizon = carried_horizon(out, args, resumed.as_ref(), given_horizon)?;
    let position = resumed.as_ref().map(|r| r.fed).unwrap_or_default();
    let input = open_events(out, args, resumed.is_some(), position)?;
    let events_name = if args.events == "-" {
        "<stdin>"
    } else {
        args.events
    };

    // Carried on from a state, the rejects and the history go on too.
    let carried = resumed.is_some();
    let mut rejects_file = args.rejects.map(|path| rejects::Rejects::new(path, carried));
    let mut history: Option<Box<dyn Write>> = match args.history {
        None => None,
        Some(path) => Some(Box::new(create(out, path, carried).ok_or(Said)?)),
    };
    // The page is drawn from the history, read back as it is written.
    let timeline = (args.format == Format::Html).then(|| {
        let (timeline, tap) = html::tap(&program, history.take());
        history = Some(tap);
        timeline
    });
    let reader = EventReader::new(&program, &source, events_name);
    let options = Options {
        dedup_horizon: horizon,
        history,
        ..Options::default()
    };
    let mut engine = match resumed {
        Some(r) => r
            .engine(&program, options, args.state.unwrap_or_default())
            .map_err(|e| out.said(&e))?,
        None => Engine::with_options(&program, options),
    };

    let keeping = args.state.is_some();
    let (from, line_base) = input.start.replay(position);
    let replay_options = ReplayOptions {
        until: as_of.as_ref().map(|a| a.instant),
        keep_going: args.rejects.is_some(),
        threaded: input.threaded,
        start: from,
        line_base,
        hashing: keeping,
        leave_unended: keeping,
        checkpoint_every: if keeping { args.checkpoint_every } else { 0 },
    };
    let fingerprint = fingerprint.unwrap_or_default();
    let start = input.start;
    let checkpoints = Checkpoints {
        path: args.state,
        fingerprint: &fingerprint,
        horizon,
        position,
        start,
    };
    let replay = replay(
        out,
        &mut engine,
        &reader,
        input.read,
        replay_options,
        &checkpoints,
        rejects_file.as_mut(),
    )?;
    if let Some(path) = args.state {
        save_state(
            out,
            path,
            &engine,
            &fingerprint,
            horizon,
            position.after(start, replay.fed),
        )?;
        // What is brought up to `--at` is not in the state: the history
        // records it when a later run's events get there.
        if as_of.is_some() && !replay.stopped {
            engine.detach_history().map_err(|e| {
                out.said(&CliError::WriteFailed {
                    what: "history",
                    reason: e.to_string(),
                })
            })?;
        }
    }
    if let Some(line) = replay.unended {
        out.diag(&CliError::Unended {
            line,
            file: events_name.to_string(),
        });
    }
    let mut failed = false;
    if let Some(reason) = rejects_file.as_ref().and_then(|r| r.failed.clone()) {
        out.diag(&CliError::Unwritable {
            path: args.rejects.unwrap_or_default().to_string(),
            reason,
        });
        failed = true;
    }

    let stopped = stopped_at(&replay, events_name);
    // Stopped at a bad line, the run knows nothing of what came after it:
    // the report is as of the last event applied, never as of a later
    // `--at` that the unread lines might have changed.
    let as_of = if stopped.is_some() { None } else { as_of };
    let as_of_seconds = match &as_of {
        Some(a) => Some(a.instant.as_second()),
        None => engine.last_event().map(|m| m.instant.as_second()),
    };
    let shown = match &as_of {
        Some(a) => {
            engine
                .advance_to(a.instant)
                .map_err(|e| out.said(&driver::CannotReport::new(&source, a.shown.clone(), &e)))?;
            Some(a.shown.clone())
        }
        None => engine.last_event().map(|m| m.to_string()),
    };
    engine.finish().map_err(|e| {
        out.said(&CliError::WriteFailed {
            what: "history",
            reason: e.to_string(),
        })
    })?;
    if let Some(reason) = engine.spill_failure() {
        out.diag(&CliError::SpillFailed {
            reason: reason.to_string(),
        });
    }
    let at = shown.clone().unwrap_or_else(|| "the start".to_string());
    let snapshot = engine
        .snapshot()
        .map_err(|e| out.said(&driver::CannotReport::new(&source, at, &e)))?;
    let mut report = Report::build(&snapshot, shown, replay.rejected.len() as u64);
    report.stopped = stopped.clone();
    let page = Page {
        program: &program,
        source: &source,
        events_name,
        timeline: timeline.as_ref(),
        kept_stdin: input.kept_stdin.as_deref(),
        as_of_seconds,
        line_base,
    };
    write_report(out, args, &report, &page)?;

    // Said last, so that it is what a reader of standard error sees.
    if let Some(st) = &stopped {
        say_stopped(out, args, st, &report, replay.fed.lines);
        return Ok(INVALID);
    }
    if let Some(r) = rejects_file.as_ref().filter(|r| r.count > 0) {
        out.diag(&CliError::Rejected {
            count: r.count,
            path: r.path.clone(),
            reasons: r.reasons_said(),
        });
    }
    Ok(if failed {
        INVALID
    } else if !report.breaches.is_empty() {
        BREACHED
    } else {
        EVALUATED
    })
}

/// Where and how the state is saved every `--checkpoint-every` events.
struct Checkpoints<'a> {
    path: Option<&'a str>,
    fingerprint: &'a str,
    horizon: Duration,
    position: Position,
    start: Start,
}

/// The events applied, each bad line said and set aside, the state saved
/// at each checkpoint.
fn replay(
    out: &Out,
    engine: &mut Engine<'_>,
    reader: &EventReader<'_>,
    input: Box<dyn io::Read + Send>,
    options: ReplayOptions,
    at: &Checkpoints<'_>,
    mut rejects_file: Option<&mut rejects::Rejects>,
) -> Step<Replay> {
    let events_name = reader.events_name().to_string();
    let mut checkpoint_failed = None;
    let mut checkpoints = 0u64;
    // A run stopped by force right before a checkpoint, for tests of what
    // survives one: hidden, as nobody else has a use for it.
    let abort_at: Option<u64> = std::env::var("DEAL_TEST_ABORT_AT_CHECKPOINT")
        .ok()
        .and_then(|v| v.parse().ok());
    let replay = driver::replay_with(
        engine,
        reader,
        input,
        options,
        |err, raw| {
            out.diag(err);
            if let Some(r) = rejects_file.as_mut() {
                r.put(&events_name, err, raw);
            }
        },
        |engine, fed| {
            checkpoints += 1;
            if abort_at == Some(checkpoints) {
                std::process::abort();
            }
            if checkpoint_failed.is_some() {
                return;
            }
            if let Some(path) = at.path {
                let fed_to = at.position.after(at.start, *fed);
                if let Err(e) = deal::resume::write(path, engine, at.fingerprint, at.horizon, fed_to) {
                    checkpoint_failed = Some(e);
                }
            }
        },
    );
    match checkpoint_failed {
        Some(e) => Err(out.said(&e)),
        None => Ok(replay),
    }
}

fn as_of(out: &Out, at: Option<&str>) -> Step<Option<AsOf>> {
    match at.map(|t| AsOf::parse(t).ok_or(t)) {
        None => Ok(None),
        Some(Ok(a)) => Ok(Some(a)),
        Some(Err(text)) => Err(out.said(&BadAt {
            text: text.to_string(),
        })),
    }
}

fn horizon(out: &Out, text: Option<&str>) -> Step<Option<Duration>> {
    let Some(text) = text else { return Ok(None) };
    match Duration::parse(text).filter(|d| d.months >= 0 && d.days >= 0 && d.seconds >= 0) {
        Some(d) => Ok(Some(d)),
        None => Err(out.said(&CliError::BadHorizon {
            text: text.to_string(),
        })),
    }
}

/// The contract, checked, with the `--set` values worked through it.
fn program(out: &Out, args: &RunArgs<'_>) -> Step<(SourceFile, Program)> {
    let source = read_source(out, args.contract).ok_or(Said)?;
    let loaded = load(out, &source).ok_or(Said)?;
    let mut program = loaded.program;
    let mut filled = Vec::new();
    for s in args.sets {
        let Some((name, value)) = s.split_once('=') else {
            return Err(out.said(&CliError::SetSyntax { text: s.clone() }));
        };
        deal::check::set_term(&mut program, name.trim(), value.trim()).map_err(|e| out.said(&e))?;
        filled.push(name.trim());
    }
    warn(out, &source, &loaded.warnings, &filled);
    if !filled.is_empty() {
        // A value given on the command line passes every check a written one does.
        let found = deal::check::settle_terms(&mut program);
        for e in &found {
            out.diag(&WithSource {
                diag: e,
                source: &source,
            });
        }
        if !found.is_empty() {
            return Err(Said);
        }
    }
    Ok((source, program))
}

/// Nothing written may be the events file: truncating it would lose them.
fn refuse_overwriting_events(out: &Out, args: &RunArgs<'_>) -> Step<()> {
    let events = args.events;
    if events == "-" {
        return Ok(());
    }
    let outputs = [
        ("rejects", args.rejects, "rejects.jsonl"),
        ("history", args.history, "history.jsonl"),
        ("state", args.state, "run.state"),
    ];
    for (flag, path, suggestion) in outputs {
        let Some(path) = path else { continue };
        let reasons = format!("{path}.reasons.jsonl");
        if rejects::same_file(path, events) || (flag == "rejects" && rejects::same_file(&reasons, events)) {
            return Err(out.said(&CliError::OverwritesEvents {
                flag,
                path: path.to_string(),
                suggestion,
            }));
        }
    }
    Ok(())
}

/// The duplicate horizon: the state's own, which a run may not change.
fn carried_horizon(
    out: &Out,
    args: &RunArgs<'_>,
    resumed: Option<&Resumed>,
    given: Option<Duration>,
) -> Step<Duration> {
    match (resumed, given) {
        (Some(r), Some(given)) if r.horizon != given => {
            Err(out.said(&deal::resume::StateError::OtherHorizon {
                path: args.state.unwrap_or_default().to_string(),
                saved: r.horizon.to_string(),
                given: given.to_string(),
            }))
        }
        (Some(r), _) => Ok(r.horizon),
        (None, Some(given)) => Ok(given),
        (None, None) => Ok(Duration::days(deal::eval::DEFAULT_HORIZON_DAYS)),
    }
}

/// The events as they are to be read, and where in them the run starts.
struct Input {
    read: Box<dyn io::Read + Send>,
    /// A regular file always ends, so it can be read on a thread of its own.
    threaded: bool,
    start: Start,
    /// Standard input, kept for the page to quote its lines from.
    kept_stdin: Option<Arc<[u8]>>,
}

fn open_events(out: &Out, args: &RunArgs<'_>, resuming: bool, position: Position) -> Step<Input> {
    let events = args.events;
    let unreadable = |path: &str, e: io::Error| {
        out.said(&CliError::Unreadable {
            path: path.to_string(),
            reason: e.to_string(),
        })
    };
    if events != "-" {
        let mut f = File::open(events).map_err(|e| unreadable(events, e))?;
        let threaded = f.metadata().is_ok_and(|m| m.is_file());
        let start = if resuming {
            deal::resume::recognise_file(&mut f, position).map_err(|e| unreadable(events, e))?
        } else {
            Start::New
        };
        return Ok(Input {
            read: Box::new(f),
            threaded,
            start,
            kept_stdin: None,
        });
    }
    // The page quotes the event lines behind its marks: standard input is
    // kept to pick them from afterwards.
    let mut kept_stdin = None;
    let read: Box<dyn io::Read + Send> = if args.format == Format::Html {
        let mut all = Vec::new();
        io::stdin()
            .read_to_end(&mut all)
            .map_err(|e| unreadable("<stdin>", e))?;
        let all: Arc<[u8]> = all.into();
        kept_stdin = Some(all.clone());
        Box::new(io::Cursor::new(all))
    } else {
        Box::new(io::stdin())
    };
    if !resuming {
        return Ok(Input {
            read,
            threaded: false,
            start: Start::New,
            kept_stdin,
        });
    }
    // Standard input cannot be read again: what was read to recognise it
    // is read on after, or read first.
    let (start, head, rest) =
        deal::resume::recognise(read, position).map_err(|e| unreadable("<stdin>", e))?;
    let read: Box<dyn io::Read + Send> = match start {
        Start::After(_) => rest,
        Start::New => Box::new(io::Cursor::new(head).chain(rest)),
    };
    Ok(Input {
        read,
        threaded: false,
        start,
        kept_stdin,
    })
}

/// Saved as of the last event applied, before the report is brought up to
/// `--at`: a later run applies what comes next as if in one run.
fn save_state(
    out: &Out,
    path: &str,
    engine: &Engine<'_>,
    fingerprint: &str,
    horizon: Duration,
    at: Position,
) -> Step<()> {
    deal::resume::write(path, engine, fingerprint, horizon, at).map_err(|e| out.said(&e))
}

fn stopped_at(replay: &Replay, events_name: &str) -> Option<Stopped> {
    if !replay.stopped {
        return None;
    }
    replay.rejected.last().map(|err| Stopped {
        file: events_name.to_string(),
        line: err.line(),
        code: err.code().map(|c| c.to_string()).unwrap_or_default(),
    })
}

/// What the HTML page draws besides the report.
struct Page<'a> {
    program: &'a Program,
    source: &'a SourceFile,
    events_name: &'a str,
    timeline: Option<&'a std::rc::Rc<std::cell::RefCell<html::Timeline>>>,
    kept_stdin: Option<&'a [u8]>,
    as_of_seconds: Option<i64>,
    /// What the run added to each line of this file to number it in the
    /// whole stream fed through a state.
    line_base: usize,
}

fn write_report(out: &Out, args: &RunArgs<'_>, report: &Report<'_>, page: &Page<'_>) -> Step<()> {
    let stdout = io::stdout();
    let mut w = io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let written = match args.format {
        Format::Json => report.write_json(&mut w),
        Format::Html => {
            let timeline = page.timeline.map(|t| t.borrow());
            let empty = html::Timeline::new(page.program);
            let tl = timeline.as_deref().unwrap_or(&empty);
            // Marks are numbered in the whole stream; only this file's
            // lines can be quoted, by their place in it.
            let base = page.line_base;
            let wanted = tl
                .lines_wanted()
                .into_iter()
                .filter_map(|l| l.checked_sub(base).filter(|own| *own > 0))
                .collect();
            let own = match page.kept_stdin {
                Some(bytes) => html::pick_lines(bytes, &wanted, html::LINE_CHARS),
                None => File::open(args.events)
                    .map(|f| html::pick_lines(io::BufReader::new(f), &wanted, html::LINE_CHARS))
                    .unwrap_or_default(),
            };
            let lines = own.into_iter().map(|(l, text)| (l + base, text)).collect();
            html::Page::new(
                report,
                page.program,
                page.source,
                page.events_name,
                tl,
                &lines,
                page.as_of_seconds,
            )
            .after_lines(base)
            .write(&mut w)
        }
        Format::Text => {
            let color = io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            let style = match out.style {
                Style::Graphical { width, .. } => Style::Graphical { color, width },
                other => other,
            };
            text::render(report, page.source, page.events_name, style, &mut w)
        }
    }
    .and_then(|()| w.flush());
    written.map_err(|e| {
        out.said(&CliError::WriteFailed {
            what: "report",
            reason: e.to_string(),
        })
    })
}

/// The warning that the run stopped; an input that could not be read at
/// all was said to be already.
fn say_stopped(out: &Out, args: &RunArgs<'_>, st: &Stopped, report: &Report<'_>, lines_fed: usize) {
    if st.line.is_none() && lines_fed == 0 {
        return;
    }
    let place = match st.line {
        Some(l) => format!("line {l} of `{}`", st.file),
        None => format!("the end of what could be read of `{}`", st.file),
    };
    let not_at = match args.at {
        Some(at) => format!(", not as of `--at {at}`"),
        None => String::new(),
    };
    out.diag(&CliError::Stopped {
        place,
        last: report
            .as_of
            .clone()
            .unwrap_or_else(|| "none; the start".to_string()),
        not_at,
    });
}

pub(crate) fn create(out: &Out, path: &str, append: bool) -> Option<io::BufWriter<File>> {
    let opened = if append {
        std::fs::OpenOptions::new().create(true).append(true).open(path)
    } else {
        File::create(path)
    };
    match opened {
        Ok(f) => Some(io::BufWriter::new(f)),
        Err(e) => {
            out.diag(&CliError::Unwritable {
                path: path.to_string(),
                reason: e.to_string(),
            });
            None
        }
    }
}

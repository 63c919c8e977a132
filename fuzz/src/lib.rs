//! The bodies of the fuzz targets. cargo-fuzz runs them from
//! `fuzz/fuzz_targets/`; `tests/fuzz_corpus.rs` includes this file and runs
//! the seed corpus and its mutations through the very same functions, on
//! stable, in `cargo test`.
//!
//! A target fails by panicking. Besides "no panic, no hang", each checks
//! what must hold whatever the input: every diagnostic renders in every
//! style, a JSON diagnostic or report is JSON, and two ways of reading the
//! same input (the stream and line by line, on a thread or not, a line and
//! its canonical JSON) come to the same thing.

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;
use std::sync::OnceLock;

use miette::Diagnostic;

use deal::diag::source::SourceFile;
use deal::diag::{render, Style};
use deal::driver::{self, AsOf, LoadError, ReplayOptions};
use deal::eval::{Engine, Options, Rejection};
use deal::events::{Event, EventError, EventReader};
use deal::model::Program;
use deal::report::{text, Report};
use deal::time::Instant;

/// Every contract of the repository that loads, by the stem of its file:
/// what an events line or a run is fuzzed against.
pub const CONTRACTS: [(&str, &str); 14] = [
    (
        "microsoft_openai",
        include_str!("../../contracts/microsoft_openai.deal"),
    ),
    (
        "software_licence",
        include_str!("../../contracts/software_licence.deal"),
    ),
    ("distribution", include_str!("../../contracts/distribution.deal")),
    ("saas", include_str!("../../contracts/saas.deal")),
    (
        "acceptance-of-delivery",
        include_str!("../../contracts/conformance/acceptance-of-delivery.deal"),
    ),
    (
        "fragile-goods",
        include_str!("../../contracts/conformance/fragile-goods.deal"),
    ),
    (
        "installment-sale",
        include_str!("../../contracts/conformance/installment-sale.deal"),
    ),
    (
        "ip-payment",
        include_str!("../../contracts/conformance/ip-payment.deal"),
    ),
    (
        "latedeliveryandpenalty",
        include_str!("../../contracts/conformance/latedeliveryandpenalty.deal"),
    ),
    (
        "payment-upon-iot",
        include_str!("../../contracts/conformance/payment-upon-iot.deal"),
    ),
    (
        "servicelevelagreement",
        include_str!("../../contracts/conformance/servicelevelagreement.deal"),
    ),
    (
        "volumediscountolist",
        include_str!("../../contracts/conformance/volumediscountolist.deal"),
    ),
    ("supply", include_str!("../../tests/fixtures/supply.deal")),
    ("remedies", include_str!("../../tests/fixtures/remedies.deal")),
];

pub struct Contract {
    pub name: &'static str,
    pub source: SourceFile,
    pub program: Program,
}

/// The contracts, loaded once: loading is not what the line and run
/// targets are about.
pub fn contracts() -> &'static [Contract] {
    static LOADED: OnceLock<Vec<Contract>> = OnceLock::new();
    LOADED.get_or_init(|| {
        CONTRACTS
            .iter()
            .map(|(name, text)| {
                let source = SourceFile::new(format!("{name}.deal"), *text);
                let program = match driver::load(&source) {
                    Ok(loaded) => loaded.program,
                    Err(_) => panic!("the repository's contract {name}.deal does not load"),
                };
                Contract {
                    name,
                    source,
                    program,
                }
            })
            .collect()
    })
}

/// Target `front_end`: any text as a contract, parsed and checked, every
/// diagnostic rendered, and for a contract that loads, its events schema.
pub fn front_end(data: &[u8]) {
    // The command line refuses a contract that is not UTF-8 before parsing.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let source = SourceFile::new("fuzz.deal", text);
    match driver::load(&source) {
        Ok(loaded) => {
            for w in loaded.warnings {
                show(miette::Report::new(w).with_source_code(source.clone()).as_ref());
            }
            let schema = deal::schema::events_schema(&loaded.program, "fuzz");
            let written = serde_json::to_string(&schema);
            assert!(written.is_ok(), "the events schema does not serialise");
        }
        Err(LoadError::Syntax(e)) => show(miette::Report::new(*e).with_source_code(source.clone()).as_ref()),
        Err(LoadError::Check(errors)) => {
            assert!(
                errors.iter().any(|e| is_error(e)),
                "a contract was refused with warnings only"
            );
            for e in errors {
                show(miette::Report::new(e).with_source_code(source.clone()).as_ref());
            }
        }
    }
}

/// Target `event_line`: one line (the input up to its first newline)
/// against every contract, applied to a fresh engine, whose report is then
/// made; a line that is a JSON object must mean the same as its canonical
/// form. (Reading a stream of lines is `whole_run`'s: the stream reader
/// zeroes a large block for every stream, which would be most of the time
/// here.)
pub fn event_line(data: &[u8]) {
    let line = trim_cr(data.split(|b| *b == b'\n').next().unwrap_or(&[]));
    // The stream reader refuses a line that is not UTF-8 before decoding it.
    let Ok(text) = std::str::from_utf8(line) else {
        return;
    };
    // A line of one contract is, to the others, mostly of an unknown kind:
    // a diagnostic is rendered once per code, or rendering would be most of
    // the time spent.
    let mut shown = Vec::new();
    for c in contracts() {
        let reader = EventReader::new(&c.program, &c.source, "fuzz.jsonl");
        let parsed = reader.parse(1, text);
        same_as_canonical(&reader, text, &parsed, c.name);
        match parsed {
            Ok(None) => {}
            Ok(Some(ev)) => {
                let mut engine = Engine::new(&c.program);
                let rejected = usize::from(engine.apply(&ev, line).is_err());
                report(&mut engine, &c.source, None, rejected);
            }
            Err(e) => {
                let code = code(&*e);
                if !shown.contains(&code) {
                    show(&*e);
                    shown.push(code);
                }
            }
        }
    }
}

/// Target `whole_run`: a contract and a stream. The first line names the
/// contract (the stem of its file; any other text picks one by its bytes)
/// and may add, after `|`s, a moment to report as of and `NAME=VALUE` terms;
/// the rest is the events file. The run goes on past bad lines. Read on a
/// thread, on the engine's, and line by line, the report and the history
/// must be the same; the report must be JSON and render as text.
pub fn whole_run(data: &[u8]) {
    let (head, events) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (data.get(..i).unwrap_or(&[]), data.get(i + 1..).unwrap_or(&[])),
        None => (data, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut parts = head.split('|');
    let name = parts.next().unwrap_or("").trim();
    let all = contracts();
    let Some(c) = all.iter().find(|c| c.name == name).or_else(|| {
        let pick = name
            .bytes()
            .fold(0usize, |a, b| a.wrapping_mul(31).wrapping_add(usize::from(b)));
        all.get(pick % all.len())
    }) else {
        return;
    };
    let mut program = c.program.clone();
    let mut as_of = None;
    for part in parts {
        match part.split_once('=') {
            // A term the command line would refuse to set is left as it is.
            Some((k, v)) => {
                let _ = deal::check::set_term(&mut program, k.trim(), v.trim());
            }
            None => as_of = AsOf::parse(part).or(as_of),
        }
    }
    let reader = EventReader::new(&program, &c.source, "fuzz.jsonl");
    let on_engine = run_stream(&program, &reader, &c.source, events, as_of.as_ref(), false);
    let on_thread = run_stream(&program, &reader, &c.source, events, as_of.as_ref(), true);
    assert_eq!(on_engine, on_thread, "read on a thread, the run differs");
    let by_line = run_by_line(&program, &reader, &c.source, events, as_of.as_ref());
    assert_eq!(on_engine, by_line, "read line by line, the run differs");

    // STATE ROUND TRIP: the stream split at a line the input chooses, the
    // first part replayed, the state saved and a new engine resumed from it
    // for the rest, as `--state` does with a file that grew. The run must be
    // the one of a single engine, and the state saved again straight after
    // resuming must be the bytes it was read from.
    let round = run_resumed(&program, &reader, &c.source, events, as_of.as_ref());
    assert_eq!(on_engine, round, "saved and resumed part way, the run differs");
}

fn run_resumed(
    program: &Program,
    reader: &EventReader<'_>,
    source: &SourceFile,
    events: &[u8],
    as_of: Option<&AsOf>,
) -> Run {
    let history = Shared::default();
    let lines = events.iter().filter(|b| **b == b'\n').count();
    let cut_line = events.first().map_or(0, |b| usize::from(*b) % (lines + 1));
    let cut = events
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(cut_line.wrapping_sub(1))
        .map_or(0, |(i, _)| if cut_line == 0 { 0 } else { i + 1 });
    let (head, tail) = events.split_at(cut);
    let mut rejected = Vec::new();
    let until = as_of.map(|a| a.instant);
    let options_first = ReplayOptions {
        until,
        keep_going: true,
        hashing: true,
        ..ReplayOptions::default()
    };
    let mut engine = Engine::with_options(program, options(&history));
    let first = driver::replay(&mut engine, reader, head, options_first, |e, _| {
        rejected.push((code(e), e.line()));
    });
    // Stopped at `--at` within the first part: nothing more is read.
    let stopped_early = first.fed.bytes < head.len() as u64;
    let fingerprint = deal::resume::fingerprint(program, &[]);
    let horizon = deal::value::Duration::days(deal::eval::DEFAULT_HORIZON_DAYS);
    let at = deal::resume::Position {
        lines: first.fed.lines,
        bytes: first.fed.bytes,
        print: first.fed.print,
        ..deal::resume::Position::default()
    };
    let Ok(saved) = deal::resume::to_bytes(&engine, &fingerprint, horizon, at) else {
        panic!("the state could not be saved")
    };
    drop(engine);
    let resumed = match deal::resume::from_bytes(&saved, &fingerprint, "fuzz.state") {
        Ok(r) => r,
        Err(e) => panic!("the state saved could not be read: {e}"),
    };
    let Ok(mut engine) = resumed.engine(program, options(&history), "fuzz.state") else {
        panic!("the state saved could not be resumed")
    };
    let again = deal::resume::to_bytes(&engine, &fingerprint, horizon, at);
    assert!(
        again.as_deref() == Ok(saved.as_slice()),
        "saved again after resuming, the state differs"
    );
    if !stopped_early {
        let rest = ReplayOptions {
            until,
            keep_going: true,
            hashing: true,
            start: first.fed,
            ..ReplayOptions::default()
        };
        driver::replay(&mut engine, reader, tail, rest, |e, _| {
            rejected.push((code(e), e.line()));
        });
    }
    finish(engine, source, as_of, rejected, &history)
}

/// What a run came to, everything that must not depend on how it was read.
#[derive(Debug, PartialEq, Eq)]
pub struct Run {
    /// Codes and lines of the rejected lines, in order.
    pub rejected: Vec<(String, Option<usize>)>,
    /// The JSON report; `None` where the command line would exit 2 at the end.
    pub json: Option<String>,
    pub text: Option<String>,
    pub history: String,
}

fn options(history: &Shared) -> Options {
    Options {
        // A cap this small sends breaches and ineffective acts to disk in
        // most runs that have any, so that path is fuzzed too.
        spool_cap: 2,
        history: Some(Box::new(history.clone())),
        ..Options::default()
    }
}

fn run_stream(
    program: &Program,
    reader: &EventReader<'_>,
    source: &SourceFile,
    events: &[u8],
    as_of: Option<&AsOf>,
    threaded: bool,
) -> Run {
    let history = Shared::default();
    let mut engine = Engine::with_options(program, options(&history));
    let mut rejected = Vec::new();
    let mut shown = Vec::new();
    let replay_options = ReplayOptions {
        until: as_of.map(|a| a.instant),
        keep_going: true,
        threaded,

        ..ReplayOptions::default()
    };
    driver::replay(&mut engine, reader, events, replay_options, |e, _| {
        let code = code(e);
        if !threaded && !shown.contains(&code) {
            show(e);
            shown.push(code.clone());
        }
        rejected.push((code, e.line()));
    });
    finish(engine, source, as_of, rejected, &history)
}

/// The stream without the stream reader: each line split off, decoded on its
/// own and applied, as `driver::replay` documents it.
fn run_by_line(
    program: &Program,
    reader: &EventReader<'_>,
    source: &SourceFile,
    events: &[u8],
    as_of: Option<&AsOf>,
) -> Run {
    let history = Shared::default();
    let mut engine = Engine::with_options(program, options(&history));
    let until: Option<Instant> = as_of.map(|a| a.instant);
    let mut rejected = Vec::new();
    let mut lines: Vec<&[u8]> = events.split(|b| *b == b'\n').collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    for (i, line) in lines.into_iter().enumerate() {
        let no = i + 1;
        let raw = trim_cr(line);
        let Ok(text) = std::str::from_utf8(raw) else {
            rejected.push((code(&EventError::NotUtf8 { line: no }), Some(no)));
            continue;
        };
        match reader.parse(no, text) {
            Ok(None) => {}
            Ok(Some(ev)) => {
                if until.is_some_and(|u| ev.at.instant > u) {
                    break;
                }
                if let Err(rej) = engine.apply(&ev, raw) {
                    rejected.push((rejection_code(&rej).to_string(), Some(no)));
                }
            }
            Err(e) => rejected.push((code(&*e), e.line())),
        }
    }
    finish(engine, source, as_of, rejected, &history)
}

fn finish(
    mut engine: Engine<'_>,
    source: &SourceFile,
    as_of: Option<&AsOf>,
    rejected: Vec<(String, Option<usize>)>,
    history: &Shared,
) -> Run {
    let (json, text) = match report(&mut engine, source, as_of, rejected.len()) {
        Some((json, text)) => (Some(json), Some(text)),
        None => (None, None),
    };
    drop(engine);
    let history = String::from_utf8(history.0.borrow().clone());
    let Ok(history) = history else {
        panic!("the history is not UTF-8")
    };
    for line in history.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "a history line is not JSON: {line}"
        );
    }
    Run {
        rejected,
        json,
        text,
        history,
    }
}

/// The report as the command line makes it: JSON that parses, whose
/// balances add up, and text.
fn report(
    engine: &mut Engine<'_>,
    source: &SourceFile,
    as_of: Option<&AsOf>,
    rejected: usize,
) -> Option<(String, String)> {
    let shown = match as_of {
        Some(a) => {
            engine.advance_to(a.instant).ok()?;
            Some(a.shown.clone())
        }
        None => engine.last_event().map(|m| m.to_string()),
    };
    assert!(
        engine.finish().is_ok(),
        "the history could not be written to memory"
    );
    let snapshot = engine.snapshot().ok()?;
    let report = Report::build(&snapshot, shown, rejected as u64);
    let json = match report.to_json() {
        Ok(json) => json,
        Err(e) => panic!("the JSON report could not be written: {e}"),
    };
    let value: serde_json::Value = match serde_json::from_str(&json) {
        Ok(v) => v,
        Err(e) => panic!("the JSON report is not JSON ({e}): {json}"),
    };
    balances_add_up(&value);
    let mut words = Vec::new();
    if let Err(e) = text::render(&report, source, "fuzz.jsonl", Style::PLAIN, &mut words) {
        panic!("the text report could not be written: {e}");
    }
    let Ok(words) = String::from_utf8(words) else {
        panic!("the text report is not UTF-8")
    };
    Some((json, words))
}

/// What the README promises of every balance: exact decimals, paid and
/// outstanding making up what accrued, overdue a part of outstanding.
fn balances_add_up(report: &serde_json::Value) {
    use rust_decimal::Decimal;
    let Some(rows) = report.get("balances").and_then(|b| b.as_array()) else {
        panic!("the report has no balances: {report}")
    };
    for row in rows {
        let amount = |field: &str| -> Decimal {
            let text = row.get(field).and_then(|v| v.as_str()).unwrap_or("");
            match Decimal::from_str_exact(text) {
                Ok(d) => d,
                Err(_) => panic!("balance {field} is not an exact decimal: {row}"),
            }
        };
        let (accrued, paid, outstanding, overdue) = (
            amount("accrued"),
            amount("paid"),
            amount("outstanding"),
            amount("overdue"),
        );
        assert!(
            accrued.checked_sub(paid) == Some(outstanding),
            "paid and outstanding do not make up accrued: {row}"
        );
        assert!(
            Decimal::ZERO <= overdue && overdue <= outstanding,
            "overdue is not part of outstanding: {row}"
        );
        assert!(
            amount("unapplied") >= Decimal::ZERO,
            "unapplied is negative: {row}"
        );
    }
}

/// Whether a line means the same as its canonical JSON, which the reader's
/// precise path reads the way serde does: same event, or both refused.
fn same_as_canonical(
    reader: &EventReader<'_>,
    text: &str,
    parsed: &Result<Option<Event>, Box<EventError>>,
    contract: &str,
) {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) else {
        return;
    };
    let Ok(canonical) = serde_json::to_string(&serde_json::Value::Object(map)) else {
        return;
    };
    let again = reader.parse(1, &canonical);
    match (parsed, &again) {
        (Ok(Some(a)), Ok(Some(b))) => assert_eq!(
            format!("{a:?}"),
            format!("{b:?}"),
            "{contract}: the line and its canonical JSON {canonical} are different events"
        ),
        (Ok(_), Ok(_)) | (Err(_), Err(_)) => {}
        // A repeated key is refused; its canonical form keeps only one.
        (Err(e), Ok(_)) if matches!(**e, deal::events::EventError::RepeatedKey { .. }) => {}
        (Ok(_), Err(e)) => {
            panic!("{contract}: the line is read but its canonical JSON {canonical} is refused: {e}")
        }
        (Err(e), Ok(_)) => {
            panic!("{contract}: the line is refused ({e}) but its canonical JSON {canonical} is read")
        }
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && line.get(end - 1) == Some(&b'\r') {
        end -= 1;
    }
    line.get(..end).unwrap_or(&[])
}

fn is_error(d: &dyn Diagnostic) -> bool {
    matches!(d.severity(), None | Some(miette::Severity::Error))
}

fn code(d: &dyn Diagnostic) -> String {
    d.code().map(|c| c.to_string()).unwrap_or_default()
}

/// The code `driver::replay` gives an event the engine refused.
fn rejection_code(rej: &Rejection) -> &'static str {
    match rej {
        Rejection::OutOfOrder { .. } => "deal::event::out_of_order",
        Rejection::ReusedId { .. } => "deal::event::reused_id",
        Rejection::BeyondHorizon { .. } => "deal::event::beyond_dedup_horizon",
        Rejection::Eval(_) => "deal::event::cannot_apply",
    }
}

/// Renders a diagnostic every way the command line can, at a width that
/// wraps nearly everything and at the usual one.
fn show(d: &dyn Diagnostic) {
    for style in [
        Style::PLAIN,
        Style::Graphical {
            color: true,
            width: 12,
        },
        Style::Narrated,
    ] {
        assert!(!render(d, style).is_empty(), "a diagnostic rendered as nothing");
    }
    let line = render(d, Style::Json);
    assert!(
        serde_json::from_str::<serde_json::Value>(&line).is_ok(),
        "a JSON diagnostic is not JSON: {line}"
    );
}

/// A history kept in memory and read back after the run.
#[derive(Clone, Default)]
struct Shared(Rc<RefCell<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

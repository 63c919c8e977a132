//! What the playground's two requests do: check a contract, and run one
//! against events, each on the text it is given and nothing else.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use crate::check::CheckError;
use crate::diag::source::SourceFile;
use crate::diag::to_json;
use crate::driver::{self, AsOf, BadAt, LoadError, ReplayOptions};
use crate::eval::{Engine, Options};
use crate::events::EventReader;
use crate::model::{Bound, Program};
use crate::report::html::{self, Page};
use crate::report::{ClauseRow, Report};

/// What one evaluation may take.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Event lines in one request.
    pub events: usize,
    /// Time for one evaluation.
    pub time: Duration,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            events: 200_000,
            time: Duration::from_secs(5),
        }
    }
}

impl Budget {
    pub fn time_message(&self) -> String {
        format!(
            "the evaluation was stopped after {} s, the playground's budget for one request; \
             `deal run CONTRACT --events FILE --format html` has no such limit",
            self.time.as_secs()
        )
    }
}

const CONTRACT_NAME: &str = "contract.deal";
const EVENTS_NAME: &str = "events.jsonl";

#[derive(Debug, Deserialize)]
pub struct CheckIn {
    pub contract: String,
}

#[derive(Debug, Deserialize)]
pub struct RunIn {
    pub contract: String,
    #[serde(default)]
    pub events: String,
    /// A date or date-time, as `--at`; empty for the last event.
    #[serde(default)]
    pub at: Option<String>,
    /// What-if values, as `--set NAME=VALUE`; empty ones are left out.
    #[serde(default)]
    pub sets: BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
pub struct FieldDecl {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: &'static str,
    pub optional: bool,
}

#[derive(Debug, Serialize)]
pub struct EventDecl {
    pub name: String,
    pub fields: Vec<FieldDecl>,
}

#[derive(Debug, Serialize)]
pub struct TermDecl {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: &'static str,
    /// As written in the contract; `null` when open.
    pub value: Option<String>,
    pub open: bool,
}

#[derive(Debug, Default, Serialize)]
pub struct CheckOut {
    /// No errors (warnings allowed).
    pub ok: bool,
    pub diagnostics: Vec<Json>,
    pub parties: Vec<String>,
    pub events: Vec<EventDecl>,
    pub terms: Vec<TermDecl>,
}

#[derive(Debug, Default, Serialize)]
pub struct Range {
    /// The first and last day the as-of slider offers.
    pub start: String,
    pub end: String,
    pub last_event: Option<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct RunOut {
    pub ok: bool,
    /// The contract's diagnostics, and those of the what-ifs and `at`.
    pub diagnostics: Vec<Json>,
    /// Event lines that were not applied, each a diagnostic.
    pub rejected: Vec<Json>,
    pub rejected_count: usize,
    /// The report and timeline, as the content of a page.
    pub html: Option<String>,
    pub as_of: Option<String>,
    pub clauses: Vec<ClauseRow>,
    pub breaches: u64,
    pub range: Option<Range>,
    /// Why nothing was evaluated, or why evaluation stopped.
    pub error: Option<String>,
}

fn diag_json(d: &dyn miette::Diagnostic) -> Json {
    to_json(d)
}

fn with_source(e: impl miette::Diagnostic + Send + Sync + 'static, source: &SourceFile) -> Json {
    diag_json(miette::Report::new(e).with_source_code(source.clone()).as_ref())
}

/// Loads a contract; its diagnostics as JSON either way.
fn load(source: &SourceFile) -> (Option<Program>, Vec<CheckError>, Vec<Json>) {
    match driver::load(source) {
        Ok(loaded) => {
            let diags = loaded
                .warnings
                .iter()
                .map(|w| with_source(w.clone(), source))
                .collect();
            (Some(loaded.program), loaded.warnings, diags)
        }
        Err(LoadError::Syntax(e)) => (None, Vec::new(), vec![with_source(*e, source)]),
        Err(LoadError::Check(errors)) => {
            let diags = errors.iter().map(|e| with_source(e.clone(), source)).collect();
            (None, Vec::new(), diags)
        }
    }
}

pub fn check(input: &CheckIn) -> CheckOut {
    let source = SourceFile::new(CONTRACT_NAME, input.contract.as_str());
    let (program, _, diagnostics) = load(&source);
    let Some(p) = program else {
        return CheckOut {
            ok: false,
            diagnostics,
            ..CheckOut::default()
        };
    };
    CheckOut {
        ok: true,
        diagnostics,
        parties: p.parties.values().map(|p| p.name.clone()).collect(),
        events: p
            .events
            .values()
            .filter(|e| !e.derived)
            .map(|e| EventDecl {
                name: e.name.clone(),
                fields: e
                    .fields
                    .values()
                    .map(|f| FieldDecl {
                        name: f.name.clone(),
                        ty: f.ty.name(),
                        optional: f.optional,
                    })
                    .collect(),
            })
            .collect(),
        terms: p
            .terms
            .values()
            .filter(|t| t.table.is_none())
            .map(|t| TermDecl {
                name: t.name.clone(),
                ty: t.ty.name(),
                value: t.value.as_ref().map(|v| v.to_string()),
                open: t.is_open(),
            })
            .collect(),
    }
}

/// The events text, read in small pieces so that a run past its time, or
/// told to stop, ends at the next piece.
struct Budgeted<'a> {
    data: &'a [u8],
    deadline: std::time::Instant,
    stop: &'a AtomicBool,
    over: &'a AtomicBool,
}

impl Read for Budgeted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.stop.load(Ordering::Relaxed) || std::time::Instant::now() > self.deadline {
            self.over.store(true, Ordering::Relaxed);
            return Err(io::Error::other("the evaluation's budget of time is spent"));
        }
        let n = buf.len().min(self.data.len()).min(16 * 1024);
        let (head, tail) = self.data.split_at(n);
        if let Some(dst) = buf.get_mut(..n) {
            dst.copy_from_slice(head);
        }
        self.data = tail;
        Ok(n)
    }
}

fn day(secs: i64) -> String {
    crate::time::Instant::from_parts(secs, 0)
        .map(|i| i.date().to_string())
        .unwrap_or_default()
}

pub fn run(input: &RunIn, budget: Budget, stop: &AtomicBool) -> RunOut {
    let source = SourceFile::new(CONTRACT_NAME, input.contract.as_str());
    let (program, warnings, _) = load(&source);
    let Some(mut program) = program else {
        return RunOut {
            error: Some("the contract has errors: fix them to see its report".to_string()),
            diagnostics: load(&source).2,
            ..RunOut::default()
        };
    };
    let mut diagnostics = Vec::new();
    let mut filled = Vec::new();
    for (name, value) in &input.sets {
        if value.trim().is_empty() {
            continue;
        }
        match crate::check::set_term(&mut program, name.trim(), value.trim()) {
            Ok(()) => filled.push(name.trim().to_string()),
            Err(e) => diagnostics.push(diag_json(&e)),
        }
    }
    if !filled.is_empty() {
        for e in crate::check::settle_terms(&mut program) {
            diagnostics.push(with_source(e, &source));
        }
    }
    for w in warnings {
        if w.open_term().is_some_and(|name| filled.iter().any(|f| f == name)) {
            continue;
        }
        diagnostics.push(with_source(w, &source));
    }
    let as_of = match input.at.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => match AsOf::parse(t) {
            Some(a) => Some(a),
            None => {
                diagnostics.push(diag_json(&BadAt { text: t.to_string() }));
                None
            }
        },
    };
    let lines = input.events.lines().count();
    if lines > budget.events {
        return RunOut {
            diagnostics,
            error: Some(format!(
                "{lines} event lines are more than the playground's budget of {} for one request; \
                 `deal run CONTRACT --events FILE --format html` has no such limit",
                budget.events
            )),
            ..RunOut::default()
        };
    }
    let (timeline, tap) = html::tap(&program, None);
    let options = Options {
        history: Some(tap),
        ..Options::default()
    };
    let mut engine = Engine::with_options(&program, options);
    let reader = EventReader::new(&program, &source, EVENTS_NAME);
    let over = AtomicBool::new(false);
    let events = Budgeted {
        data: input.events.as_bytes(),
        deadline: std::time::Instant::now() + budget.time,
        stop,
        over: &over,
    };
    let mut rejected = Vec::new();
    let mut rejected_count = 0usize;
    let replay_options = ReplayOptions {
        until: as_of.as_ref().map(|a| a.instant),
        keep_going: true,
        threaded: false,

        ..ReplayOptions::default()
    };
    driver::replay(&mut engine, &reader, events, replay_options, |err, _| {
        if over.load(Ordering::Relaxed) {
            return;
        }
        rejected_count += 1;
        if rejected.len() < 200 {
            rejected.push(diag_json(err));
        }
    });
    if over.load(Ordering::Relaxed) {
        return RunOut {
            diagnostics,
            rejected,
            rejected_count,
            error: Some(budget.time_message()),
            ..RunOut::default()
        };
    }
    let as_of_seconds = match &as_of {
        Some(a) => Some(a.instant.as_second()),
        None => engine.last_event().map(|m| m.instant.as_second()),
    };
    let last_event = engine.last_event().map(|m| m.instant.date().to_string());
    let shown = match &as_of {
        Some(a) => {
            if engine.advance_to(a.instant).is_err() {
                return RunOut {
                    diagnostics,
                    error: Some("time could not be moved to that moment".to_string()),
                    ..RunOut::default()
                };
            }
            Some(a.shown.clone())
        }
        None => engine.last_event().map(|m| m.to_string()),
    };
    let _ = engine.finish();
    let Ok(snapshot) = engine.snapshot() else {
        return RunOut {
            diagnostics,
            error: Some("an amount could not be worked out".to_string()),
            ..RunOut::default()
        };
    };
    let report = Report::build(&snapshot, shown.clone(), rejected_count as u64);
    let tl = timeline.borrow();
    let lines = html::pick_lines(input.events.as_bytes(), &tl.lines_wanted(), html::LINE_CHARS);
    let page = Page::new(
        &report,
        &program,
        &source,
        EVENTS_NAME,
        &tl,
        &lines,
        as_of_seconds,
    );
    let fragment = page.fragment();
    let range = {
        let start = match &program.term.start {
            Bound::At(i) => Some(i.as_second()),
            _ => tl.first,
        };
        let end = match &program.term.end {
            Bound::At(i) => Some(i.as_second() - 1),
            _ => tl.last.map(|l| l + 90 * 86_400),
        };
        let last = tl.last.unwrap_or(0).max(as_of_seconds.unwrap_or(0));
        start.map(|s| Range {
            start: day(s),
            end: day(end.unwrap_or(last).max(last).max(s)),
            last_event: last_event.clone(),
        })
    };
    RunOut {
        ok: true,
        diagnostics,
        rejected,
        rejected_count,
        html: Some(fragment),
        as_of: shown,
        clauses: report.clauses.clone(),
        breaches: report.breaches.len(),
        range,
        error: None,
    }
}

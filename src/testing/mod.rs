//! `deal test`: scenarios a contract's author writes beside the contract,
//! run with the library and compared with what they expect.
//!
//! A test file (`supply.test` beside `supply.deal`) reads like the contract;
//! its grammar is `grammar/test.pest`. Each scenario gives events, inline or
//! from a JSON Lines file, and blocks of expectations as of a moment: the
//! exit status, clause and norm states, balances to the cent, breaches with
//! their clause, party and date. A failed expectation is a diagnostic that
//! points at it, with the expected and the actual side by side; `--update`
//! writes the actual in its place.

pub mod ast;
mod build;
pub mod error;
pub mod output;
mod parser;
mod run;
mod show;

use std::path::{Component, Path, PathBuf};
use std::time::Instant as Clock;

pub use build::parse;
pub use error::TestError;
pub use parser::Rule;
pub use run::Edit;

use ast::*;
use run::{Actual, Input};

use crate::diag::source::SourceFile;
use crate::diag::words::suggest;
use crate::driver::{self, LoadError};
use crate::model::Program;

/// How a run goes.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Run only the scenarios whose name contains this.
    pub filter: Option<String>,
    /// Rewrite failed expectations, and fill empty blocks, from the actual
    /// report; then run again.
    pub update: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Failed,
    /// The scenario could not be run as written (an unknown name, a bad
    /// setting, an unreadable events file).
    Error,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Failed => "failed",
            Status::Error => "error",
        }
    }
}

/// One scenario's outcome.
#[derive(Debug)]
pub struct TestReport {
    pub name: String,
    pub status: Status,
    pub problems: Vec<TestError>,
    pub seconds: f64,
}

/// One test file's outcome.
#[derive(Debug)]
pub struct FileReport {
    pub path: String,
    /// The contract, as found; `None` when it could not be named.
    pub contract: Option<String>,
    /// What stopped the whole file: unreadable, a syntax error, a contract
    /// with errors.
    pub errors: Vec<TestError>,
    pub tests: Vec<TestReport>,
    /// Expectations written by `--update`.
    pub updated: usize,
    /// Why the updated file could not be written.
    pub write_error: Option<String>,
}

impl FileReport {
    pub fn count(&self, status: Status) -> usize {
        self.tests.iter().filter(|t| t.status == status).count()
    }
}

/// `a/./b/../c` as `a/c`, without touching the file system.
fn tidy(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                let last = out.components().next_back();
                if matches!(last, Some(Component::Normal(_))) {
                    out.pop();
                } else {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

fn show_path(p: &Path) -> String {
    tidy(p).to_string_lossy().into_owned()
}

/// The test files for the paths given: a `.test` file itself; for a `.deal`
/// file, the `.test` file beside it with the same name; for a folder, every
/// `.test` file in it and in its folders, in order.
pub fn discover(paths: &[String]) -> (Vec<PathBuf>, Vec<TestError>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let paths: Vec<String> = if paths.is_empty() {
        vec![".".to_string()]
    } else {
        paths.to_vec()
    };
    for p in &paths {
        let path = Path::new(p);
        if path.is_dir() {
            let before = found.len();
            walk(path, &mut found);
            if found.len() == before {
                errors.push(TestError::NoTests {
                    path: p.clone(),
                    help: "test files end in `.test` and sit beside their contracts: \
                           `supply.deal` is tested by `supply.test`; `deal init NAME` writes one"
                        .into(),
                });
            }
        } else if path.extension().is_some_and(|e| e == "deal") {
            let test = path.with_extension("test");
            if test.is_file() {
                found.push(test);
            } else {
                errors.push(TestError::NoTests {
                    path: p.clone(),
                    help: format!(
                        "write its tests in `{}`; `deal init NAME` shows the form",
                        show_path(&test)
                    ),
                });
            }
        } else if path.is_file() {
            found.push(path.to_path_buf());
        } else {
            errors.push(TestError::UnreadableFile {
                path: p.clone(),
                reason: "no such file or folder".into(),
            });
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    found.retain(|f| seen.insert(tidy(f)));
    (found, errors)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let hidden = p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.') || n == "target");
        if hidden {
            continue;
        }
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|e| e == "test") {
            out.push(p);
        }
    }
}

/// The most a test file may hold: it carries events inline, so more than a
/// contract.
const MAX_TEST_BYTES: usize = 16 * crate::syntax::limits::MAX_SOURCE_BYTES;

fn read_text(path: &Path) -> Result<String, String> {
    use crate::diag::source::{read_file, ReadError};
    let limit = if path.extension().is_some_and(|e| e == "test") {
        MAX_TEST_BYTES
    } else {
        crate::syntax::limits::MAX_SOURCE_BYTES
    };
    read_file(path, limit).map_err(|e| match e {
        ReadError::Io(e) => e.to_string(),
        ReadError::TooLarge { limit } => format!("it is more than {limit} bytes long"),
        ReadError::NotUtf8 { offset } => {
            format!("it is not UTF-8 text (the first invalid byte is at offset {offset})")
        }
    })
}

/// Runs every scenario of one test file.
pub fn run_file(path: &Path, options: &Options) -> FileReport {
    let mut edits = Vec::new();
    let mut report = run_once(path, options, &mut edits);
    if !options.update {
        return report;
    }
    let Ok(text) = read_text(path) else {
        return report;
    };
    if edits.is_empty() {
        return report;
    }
    let n = edits.len();
    let new = apply_edits(&text, edits);
    if let Err(e) = std::fs::write(path, new) {
        report.write_error = Some(e.to_string());
        return report;
    }
    let mut again = run_once(
        path,
        &Options {
            update: false,
            ..options.clone()
        },
        &mut Vec::new(),
    );
    again.updated = n;
    again
}

/// Runs the file, gathering in `edits` what `--update` would change.
fn run_once(path: &Path, options: &Options, edits: &mut Vec<Edit>) -> FileReport {
    let shown = show_path(path);
    let mut report = FileReport {
        path: shown.clone(),
        contract: None,
        errors: Vec::new(),
        tests: Vec::new(),
        updated: 0,
        write_error: None,
    };
    let text = match read_text(path) {
        Ok(t) => t,
        Err(reason) => {
            report
                .errors
                .push(TestError::UnreadableFile { path: shown, reason });
            return report;
        }
    };
    let src = SourceFile::new(shown.clone(), text);
    let file = match build::parse(&src) {
        Ok(f) => f,
        Err(e) => {
            report.errors.push(*e);
            return report;
        }
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let (contract_path, contract_span) = match &file.contract {
        Some(c) => (dir.join(&c.text), c.span),
        None => (path.with_extension("deal"), (0, 0).into()),
    };
    let contract_shown = show_path(&contract_path);
    report.contract = Some(contract_shown.clone());
    let contract_text = match read_text(&contract_path) {
        Ok(t) => t,
        Err(reason) => {
            let named = file.contract.is_some();
            report.errors.push(TestError::NoContract {
                path: contract_shown,
                reason,
                src: src.clone(),
                span: contract_span,
                label: if named {
                    "the contract, relative to this file".into()
                } else {
                    "no `tests of \"…\"` line: the contract is the `.deal` file of the same name".into()
                },
                help: "name the contract on the first line: `tests of \"supply.deal\"`, relative to the test file".into(),
            });
            return report;
        }
    };
    let contract = SourceFile::new(contract_shown.clone(), contract_text);
    let program = match driver::load(&contract) {
        Ok(l) => l.program,
        Err(e) => {
            let errors: Vec<error::Related> = match e {
                LoadError::Syntax(e) => vec![error::Related(
                    miette::Report::new(*e).with_source_code(contract.clone()).into(),
                )],
                LoadError::Check(es) => es
                    .into_iter()
                    .filter(|e| !e.is_warning())
                    .map(|e| error::Related(miette::Report::new(e).with_source_code(contract.clone()).into()))
                    .collect(),
            };
            report.errors.push(TestError::BadContract {
                path: contract_shown,
                src: src.clone(),
                span: contract_span,
                errors,
            });
            return report;
        }
    };
    let mut names: Vec<&Named> = Vec::new();
    for scenario in &file.scenarios {
        if let Some(first) = names.iter().find(|n| n.text == scenario.name.text) {
            report.errors.push(TestError::DuplicateName {
                name: scenario.name.text.clone(),
                src: src.clone(),
                first: first.span,
                again: scenario.name.span,
            });
        }
        names.push(&scenario.name);
    }
    if !report.errors.is_empty() {
        return report;
    }
    for scenario in &file.scenarios {
        if options
            .filter
            .as_ref()
            .is_some_and(|f| !scenario.name.text.contains(f.as_str()))
        {
            continue;
        }
        let started = Clock::now();
        let (status, problems) = run_scenario(&src, &dir, &program, &contract, scenario, options, edits);
        report.tests.push(TestReport {
            name: scenario.name.text.clone(),
            status,
            problems,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    report
}

fn unknown(src: &SourceFile, n: &Named, what: &str, candidates: &[&str]) -> TestError {
    let mut help = suggest(&n.text, candidates.iter().copied());
    if help.is_empty() {
        help = format!("it can be one of: {}", candidates.join(", "));
    }
    // Clauses, parties and events are the contract's; states and kinds of
    // norm are the language's.
    let whose = if what.starts_with("state") || what.starts_with("kind") {
        ""
    } else {
        " of the contract"
    };
    TestError::UnknownName {
        message: format!("`{}` is not a {what}{whose}", n.text),
        src: src.clone(),
        span: n.span,
        label: format!("not a {what}"),
        help,
    }
}

const CLAUSE_STATES: [&str; 4] = ["inactive", "active", "suspended", "ended"];
const NORM_KINDS: [&str; 4] = ["obligation", "permission", "prohibition", "power"];

/// Every name the scenario uses that the contract does not have.
fn validate(src: &SourceFile, program: &Program, s: &Scenario) -> Vec<TestError> {
    let clauses: Vec<&str> = program.clauses.values().map(|c| c.name.as_str()).collect();
    let parties: Vec<&str> = program.parties.values().map(|p| p.name.as_str()).collect();
    let events: Vec<&str> = program
        .events
        .values()
        .filter(|e| !e.derived)
        .map(|e| e.name.as_str())
        .collect();
    let all_events: Vec<&str> = program.events.values().map(|e| e.name.as_str()).collect();
    let mut out = Vec::new();
    let mut check = |n: &Named, what: &str, list: &[&str]| {
        if !list.contains(&n.text.as_str()) {
            out.push(unknown(src, n, what, list));
        }
    };
    if let Events::Inline(evs) = &s.events {
        for e in evs {
            check(&e.kind, "declared event", &events);
        }
    }
    for block in &s.expects {
        for item in &block.items {
            match &item.what {
                Expectation::Clause { name, state, .. } => {
                    check(name, "clause", &clauses);
                    check(state, "state of a clause", &CLAUSE_STATES);
                }
                Expectation::Norm(n) => {
                    if let Some(k) = &n.kind {
                        check(k, "kind of norm", &NORM_KINDS);
                    }
                    if let Some(c) = &n.clause {
                        check(c, "clause", &clauses);
                    }
                    if let Some(b) = &n.bearer {
                        check(b, "party", &parties);
                    }
                    if let Some(a) = &n.action {
                        check(a, "event", &all_events);
                    }
                    if let Some(st) = &n.state {
                        check(
                            st,
                            "state of a norm",
                            &crate::eval::NState::ALL.map(crate::eval::NState::name),
                        );
                    }
                }
                Expectation::Owes { from, to, .. } => {
                    check(from, "party", &parties);
                    check(to, "party", &parties);
                }
                Expectation::Breach(b) => {
                    if let Some(p) = &b.party {
                        check(p, "party", &parties);
                    }
                    if let Some(c) = &b.clause {
                        check(c, "clause", &clauses);
                    }
                    if let Some(e) = &b.by {
                        check(e, "declared event", &events);
                    }
                }
                Expectation::Exit(_) | Expectation::NoBreaches | Expectation::Counts(_) => {}
            }
        }
    }
    out
}

fn run_scenario(
    src: &SourceFile,
    dir: &Path,
    program: &Program,
    contract: &SourceFile,
    s: &Scenario,
    options: &Options,
    edits: &mut Vec<Edit>,
) -> (Status, Vec<TestError>) {
    let problems = validate(src, program, s);
    if !problems.is_empty() {
        return (Status::Error, problems);
    }
    let mut program = program.clone();
    for set in &s.sets {
        if let Err(e) = crate::check::set_term(&mut program, &set.name.text, &set.value) {
            use miette::Diagnostic as _;
            return (
                Status::Error,
                vec![TestError::BadSet {
                    message: e.to_string(),
                    src: src.clone(),
                    span: set.span,
                    help: e.help().map(|h| h.to_string()).unwrap_or_default(),
                }],
            );
        }
    }
    if !s.sets.is_empty() {
        if let (Some(e), Some(set)) = (crate::check::settle_terms(&mut program).first(), s.sets.first()) {
            use miette::Diagnostic as _;
            return (
                Status::Error,
                vec![TestError::BadSet {
                    message: e.to_string(),
                    src: src.clone(),
                    span: set.span,
                    help: e.help().map(|h| h.to_string()).unwrap_or_default(),
                }],
            );
        }
    }
    let input = match &s.events {
        Events::None => Input::inline(&src.name, &[]),
        Events::Inline(evs) => Input::inline(&src.name, evs),
        Events::File(p) => {
            let path = dir.join(&p.text);
            match std::fs::read(&path) {
                Ok(bytes) => Input {
                    bytes,
                    name: show_path(&path),
                    lines: None,
                },
                Err(e) => {
                    return (
                        Status::Error,
                        vec![TestError::Unreadable {
                            path: show_path(&path),
                            reason: e.to_string(),
                            src: src.clone(),
                            span: p.span,
                        }],
                    )
                }
            }
        }
    };
    let mut failures = Vec::new();
    let mut reported_rejection = false;
    for block in &s.expects {
        let actual = match run::evaluate(
            &program,
            contract,
            &input,
            block.as_of.as_ref().map(|a| a.text.as_str()),
        ) {
            Ok(a) => a,
            Err(e) => {
                let (message, label) = match e {
                    run::RunError::BadAsOf => (
                        "this moment is not a date or a date-time that exists".to_string(),
                        "not a moment".to_string(),
                    ),
                    run::RunError::Engine(reason) => {
                        (format!("the run could not finish: {reason}"), "here".into())
                    }
                };
                failures.push(TestError::Mismatch {
                    message,
                    src: src.clone(),
                    span: block.as_of.as_ref().map_or(block.head, |a| a.span),
                    label,
                    help: "write a date (`2025-05-01`, the end of that day) or a date-time (`2025-05-01T12:00:00Z`)"
                        .into(),
                });
                continue;
            }
        };
        if block.items.is_empty() {
            if options.update {
                let lines = run::fill(&actual);
                edits.push(Edit::Insert(block.head.offset() + block.head.len(), lines));
            } else {
                failures.push(TestError::Empty {
                    src: src.clone(),
                    span: block.head,
                    help: format!(
                        "write what the report must say, or run `deal test --update {}` to fill the block \
                         from the actual report, then read it through",
                        src.name
                    ),
                });
            }
            continue;
        }
        let expects_rejection = block.items.iter().any(|i| match &i.what {
            Expectation::Exit(2) => true,
            Expectation::Counts(c) => c.rejected.is_some_and(|r| r > 0),
            _ => false,
        });
        if !actual.rejected.is_empty() && !expects_rejection && !reported_rejection {
            reported_rejection = true;
            failures.extend(rejection(src, s, &input, &actual));
        }
        let mut found = run::compare(block, &actual);
        found.sort_by_key(|f| f.span.offset());
        for f in found {
            let help = format!(
                "expected: {}\n  actual: {}\nif the actual is right, `deal test --update {}` writes it in",
                f.expected.replace('\n', "\n          "),
                f.actual.replace('\n', "\n          "),
                src.name
            );
            let label = match f.actual.lines().count() {
                0 | 1 => format!("actual: {}", f.actual),
                _ => "actual: see below".to_string(),
            };
            edits.push(f.edit.clone());
            failures.push(TestError::Mismatch {
                message: f.message,
                src: src.clone(),
                span: f.span,
                label,
                help,
            });
        }
    }
    if failures.is_empty() {
        (Status::Ok, failures)
    } else {
        (Status::Failed, failures)
    }
}

/// The first rejected event, pointed at where it is written.
fn rejection(src: &SourceFile, s: &Scenario, input: &Input, actual: &Actual) -> Option<TestError> {
    use miette::Diagnostic as _;
    let err = actual.rejected.first()?;
    let help = err.help().map(|h| h.to_string()).unwrap_or_default();
    let code = err.code().map(|c| c.to_string()).unwrap_or_default();
    match &s.events {
        Events::Inline(evs) => {
            let line = err.line().map(|l| input.origin(l));
            let ev = evs.iter().find(|e| Some(e.line) == line);
            Some(TestError::RejectedEvent {
                message: format!("this event is rejected: {err}"),
                src: src.clone(),
                span: ev.map_or((0, 0).into(), |e| e.span),
                label: code,
                help: format!("{help}\nif the scenario means to test a rejection, expect `exit 2`"),
                related: Vec::new(),
            })
        }
        Events::File(p) => Some(TestError::RejectedEvent {
            message: format!("line {} of `{}` is rejected", err.line().unwrap_or(0), input.name),
            src: src.clone(),
            span: p.span,
            label: code,
            help: "if the scenario means to test a rejection, expect `exit 2`".into(),
            related: vec![error::Related(Box::new(err.clone()))],
        }),
        Events::None => None,
    }
}

/// The text with the edits made, last first so that offsets hold.
pub fn apply_edits(text: &str, mut edits: Vec<Edit>) -> String {
    let start = |e: &Edit| match e {
        Edit::Replace(s, _) | Edit::Delete(s) => s.offset(),
        Edit::Insert(at, _) => *at,
    };
    edits.sort_by_key(|e| std::cmp::Reverse(start(e)));
    edits.dedup();
    let mut out = text.to_string();
    for e in edits {
        match e {
            Edit::Replace(span, new) => {
                let indent = indent_at(&out, span.offset());
                let new = new.replace('\n', &format!("\n{indent}"));
                if out.get(span.offset()..span.offset() + span.len()).is_some() {
                    out.replace_range(span.offset()..span.offset() + span.len(), &new);
                }
            }
            Edit::Delete(span) => {
                // The whole line, when the expectation is alone on it.
                let line_start = out
                    .get(..span.offset())
                    .and_then(|b| b.rfind('\n'))
                    .map_or(0, |i| i + 1);
                let end = span.offset() + span.len();
                let line_end = out
                    .get(end..)
                    .and_then(|r| r.find('\n'))
                    .map_or(out.len(), |i| end + i + 1);
                let alone = out
                    .get(line_start..span.offset())
                    .is_some_and(|b| b.trim().is_empty())
                    && out
                        .get(end..line_end)
                        .is_some_and(|a| a.trim().is_empty() || a.trim_start().starts_with('#'));
                let range = if alone {
                    line_start..line_end
                } else {
                    span.offset()..end
                };
                if out.get(range.clone()).is_some() {
                    out.replace_range(range, "");
                }
            }
            Edit::Insert(at, lines) => {
                let indent = block_indent(&out, at);
                let mut add = String::new();
                for l in lines {
                    add.push('\n');
                    add.push_str(&indent);
                    add.push_str(&l);
                }
                // After the rest of the line the offset is on.
                let eol = out
                    .get(at..)
                    .and_then(|r| r.find('\n'))
                    .map_or(out.len(), |i| at + i);
                if eol == out.len() {
                    add.push('\n');
                }
                if out.is_char_boundary(eol) {
                    out.insert_str(eol, &add);
                }
            }
        }
    }
    out
}

fn indent_at(text: &str, at: usize) -> String {
    let line_start = text.get(..at).and_then(|b| b.rfind('\n')).map_or(0, |i| i + 1);
    text.get(line_start..at)
        .map(|s| s.chars().take_while(|c| c.is_whitespace()).collect())
        .unwrap_or_default()
}

/// The indentation of what follows `expect`: the line's own, two spaces more.
fn block_indent(text: &str, at: usize) -> String {
    let line_start = text.get(..at).and_then(|b| b.rfind('\n')).map_or(0, |i| i + 1);
    let line = text.get(line_start..).unwrap_or("");
    let own: String = line.chars().take_while(|c| *c == ' ' || *c == '\t').collect();
    if line.trim_start().starts_with("expect") {
        format!("{own}  ")
    } else {
        own
    }
}

//! The author's commands: `deal test`, `explain` by short code or as a
//! list, `init`, `schema`, shell completions and the man page.

use std::io::{self, IsTerminal, Write};
use std::path::{Path, PathBuf};

use miette::Diagnostic;

use crate::CliError;

use deal::diag::{render, Style};
use deal::testing::{self, output, FileReport, Status, TestError};

pub const OK: u8 = 0;
pub const FAILED: u8 = 1;
pub const INVALID: u8 = 2;

pub fn diag(style: Style, d: &dyn Diagnostic) {
    let _ = io::stderr().write_all(render(d, style).as_bytes());
}

// ---------------------------------------------------------------- explain

/// The one-line summary of a code's entry: its bold line.
fn summary(entry: &str) -> &str {
    entry
        .lines()
        .find_map(|l| l.strip_prefix("**").and_then(|l| l.strip_suffix("**")))
        .unwrap_or("")
}

/// Every code a name can stand for: `deal::check::unknown_name`,
/// `check::unknown_name` or just `unknown_name`.
fn resolve(code: &str) -> Vec<&'static str> {
    let code = code.trim();
    let all = deal::diag::codes::all();
    let full = if code.starts_with("deal::") {
        code.to_string()
    } else {
        format!("deal::{code}")
    };
    if let Some(c) = all.iter().find(|c| **c == full) {
        return vec![c];
    }
    all.into_iter()
        .filter(|c| c.rsplit("::").next() == Some(code))
        .collect()
}

pub fn explain(style: Style, code: Option<&str>, list: bool) -> u8 {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    if list || code.is_none() {
        for c in deal::diag::codes::all() {
            let line = deal::diag::codes::explain(c).map(summary).unwrap_or("");
            // A closed pipe (`| head`) ends the listing, quietly.
            if writeln!(out, "{c:<36} {line}").is_err() {
                return OK;
            }
        }
        let _ = out.flush();
        return OK;
    }
    let code = code.unwrap_or_default();
    let found = resolve(code);
    if found.is_empty() {
        let all = deal::diag::codes::all();
        let mut help = deal::diag::words::suggest(code, all.iter().copied());
        if help.is_empty() {
            let short: Vec<&str> = all.iter().filter_map(|c| c.rsplit("::").next()).collect();
            let s = deal::diag::words::suggest(code.rsplit("::").next().unwrap_or(code), short.into_iter());
            if let Some(name) = s
                .strip_prefix("did you mean `")
                .and_then(|s| s.strip_suffix("`?"))
            {
                let matches: Vec<&str> = all
                    .iter()
                    .filter(|c| c.rsplit("::").next() == Some(name))
                    .copied()
                    .collect();
                help = format!("did you mean `{}`?", matches.join("` or `"));
            }
        }
        if help.is_empty() {
            help = "`deal explain --list` lists every code".into();
        } else {
            help.push_str(" (`deal explain --list` lists every code)");
        }
        diag(
            style,
            &CliError::UnknownCode {
                code: code.to_string(),
                help,
            },
        );
        return INVALID;
    }
    let texts: Vec<&str> = found
        .iter()
        .filter_map(|c| deal::diag::codes::explain(c))
        .collect();
    let _ = writeln!(out, "{}", texts.join("\n\n")).and_then(|()| out.flush());
    OK
}

// ---------------------------------------------------------------- test

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TestFormat {
    /// `ok` / `FAILED` per test, diagnostics, a summary line.
    Human,
    /// One JSON document on standard output.
    Json,
    /// JUnit XML on standard output, for CI.
    Junit,
}

pub struct TestArgs {
    pub paths: Vec<String>,
    pub update: bool,
    pub format: TestFormat,
    pub filter: Option<String>,
}

pub fn test(style: Style, args: &TestArgs) -> u8 {
    let (files, path_errors) = testing::discover(&args.paths);
    let options = testing::Options {
        filter: args.filter.clone(),
        update: args.update,
    };
    let human = args.format == TestFormat::Human;
    let stdout = io::stdout();
    let mut out = stdout.lock();
    if human {
        for e in &path_errors {
            diag(style, e);
        }
    }
    if human && !files.is_empty() {
        let _ = writeln!(
            out,
            "running the tests of {} file{}",
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        );
    }
    let mut reports: Vec<FileReport> = Vec::new();
    let mut write_failed = false;
    for f in &files {
        let r = testing::run_file(f, &options);
        if let Some(reason) = &r.write_error {
            write_failed = true;
            diag(
                style,
                &CliError::WriteFailed {
                    what: "updated test file",
                    reason: format!("{}: {reason}", r.path),
                },
            );
        }
        if human {
            let _ = print_file(&mut out, style, &r);
        }
        reports.push(r);
    }
    let (passed, failed, errors) = output::totals(&reports, &path_errors);
    let written = match args.format {
        TestFormat::Human => {
            let failures: Vec<(String, &str, &[TestError])> = reports
                .iter()
                .flat_map(|r| {
                    r.tests
                        .iter()
                        .filter(|t| t.status != Status::Ok)
                        .map(|t| (r.path.clone(), t.name.as_str(), t.problems.as_slice()))
                })
                .collect();
            let mut w = Ok(());
            if !failures.is_empty() {
                w = writeln!(out, "\nfailures:");
                let _ = out.flush();
                for (path, name, problems) in failures {
                    let _ = writeln!(out, "\n---- {path}: {name} ----").and_then(|()| out.flush());
                    for p in problems {
                        diag(style, p);
                    }
                }
            }
            let word = if failed + errors == 0 { "ok" } else { "FAILED" };
            let tail = if errors > 0 {
                format!(", {errors} error{}", if errors == 1 { "" } else { "s" })
            } else {
                String::new()
            };
            w.and_then(|()| {
                writeln!(
                    out,
                    "\ntest result: {word}. {passed} passed, {failed} failed{tail}"
                )
            })
        }
        TestFormat::Json => output::write_json(&reports, &path_errors, &mut out),
        TestFormat::Junit => output::write_junit(&reports, &path_errors, &mut out),
    };
    let _ = written.and_then(|()| out.flush());
    if errors > 0 || write_failed {
        INVALID
    } else if failed > 0 {
        FAILED
    } else {
        OK
    }
}

fn print_file(out: &mut dyn Write, style: Style, r: &FileReport) -> io::Result<()> {
    for e in &r.errors {
        writeln!(out, "test {} ... ERROR", r.path)?;
        out.flush()?;
        diag(style, e);
    }
    if r.updated > 0 {
        writeln!(
            out,
            "updated {}: {} expectation{} written from the actual report",
            r.path,
            r.updated,
            if r.updated == 1 { "" } else { "s" }
        )?;
    }
    for t in &r.tests {
        let word = match t.status {
            Status::Ok => "ok",
            Status::Failed => "FAILED",
            Status::Error => "ERROR",
        };
        writeln!(out, "test {}: {} ... {word}", r.path, t.name)?;
    }
    out.flush()
}

// ---------------------------------------------------------------- fmt

/// Reads a contract for `deal fmt`; `-` is standard input.
fn read_text(style: Style, path: &str) -> Option<deal::diag::source::SourceFile> {
    use deal::diag::source::{read_file, read_text, SourceFile};
    let limit = deal::syntax::limits::MAX_SOURCE_BYTES;
    let (name, text) = if path == "-" {
        ("<stdin>", read_text(io::stdin().lock(), limit))
    } else {
        (path, read_file(path, limit))
    };
    match text {
        Ok(text) => Some(SourceFile::new(name, text)),
        Err(e) => {
            diag(style, &CliError::unreadable(name, e));
            None
        }
    }
}

/// Writes `text` to `path` whole or not at all: through a file beside it,
/// renamed over it, so that a failed write never leaves half a contract.
fn replace(path: &Path, text: &str) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = tmp.as_file().set_permissions(meta.permissions());
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

pub fn fmt(style: Style, paths: &[String], check: bool) -> u8 {
    let stdin = paths.iter().any(|p| p == "-");
    let files: Vec<String> = if stdin {
        vec!["-".to_string()]
    } else {
        deal::fmt::discover(paths)
            .iter()
            .map(|p| p.display().to_string())
            .collect()
    };
    let (mut seen, mut changed, mut invalid) = (0usize, 0usize, false);
    for path in &files {
        seen += 1;
        let Some(source) = read_text(style, path) else {
            invalid = true;
            continue;
        };
        let formatted = match deal::fmt::format(&source.text) {
            Ok(f) => f,
            Err(e) => {
                diag(
                    style,
                    &deal::diag::WithSource {
                        diag: &e,
                        source: &source,
                    },
                );
                invalid = true;
                continue;
            }
        };
        let differs = deal::fmt::unformatted(&source, &formatted);
        if differs.is_some() {
            changed += 1;
        }
        if check {
            if let Some(d) = differs {
                diag(
                    style,
                    &deal::diag::WithSource {
                        diag: &d,
                        source: &source,
                    },
                );
            }
        } else if stdin {
            let mut out = io::stdout().lock();
            if let Err(e) = out.write_all(formatted.as_bytes()).and_then(|()| out.flush()) {
                diag(
                    style,
                    &CliError::WriteFailed {
                        what: "formatted contract",
                        reason: e.to_string(),
                    },
                );
                invalid = true;
            }
        } else if differs.is_some() {
            if let Err(e) = replace(Path::new(path), &formatted) {
                diag(
                    style,
                    &CliError::Unwritable {
                        path: path.clone(),
                        reason: e.to_string(),
                    },
                );
                invalid = true;
            }
        }
    }
    if !stdin {
        // Said on every run, on standard output, as `deal check` does.
        let n = |k: usize| format!("{k} contract{}", if k == 1 { "" } else { "s" });
        let line = if check {
            format!("checked the layout of {}: {} not formatted", n(seen), changed)
        } else {
            format!("formatted {}: {} rewritten", n(seen), changed)
        };
        let _ = writeln!(io::stdout(), "{line}");
    }
    if invalid {
        INVALID
    } else if check && changed > 0 {
        FAILED
    } else {
        OK
    }
}

// ---------------------------------------------------------------- init, schema

pub fn init(style: Style, name: &str) -> u8 {
    let name = name.strip_suffix(".deal").unwrap_or(name);
    match deal::scaffold::init(Path::new(name)) {
        Ok(files) => {
            let mut out = io::stdout().lock();
            for f in &files {
                let _ = writeln!(out, "created {}", f.display());
            }
            let shown = |i: usize| {
                files
                    .get(i)
                    .map(|p: &PathBuf| p.display().to_string())
                    .unwrap_or_default()
            };
            let _ = writeln!(
                out,
                "\nnext: `deal check {}`, then `deal test {}`",
                shown(0),
                shown(2)
            );
            OK
        }
        Err(e) => {
            diag(style, &e);
            INVALID
        }
    }
}

pub fn schema(program: &deal::model::Program, contract: &str) -> Result<(), io::Error> {
    let doc = deal::schema::events_schema(program, contract);
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &doc).map_err(io::Error::from)?;
    writeln!(out)?;
    out.flush()
}

// ---------------------------------------------------------------- completions, man

pub fn completions(cmd: &mut clap::Command, shell: clap_complete::Shell) -> u8 {
    let mut buf = Vec::new();
    clap_complete::generate(shell, cmd, "deal", &mut buf);
    let _ = io::stdout().write_all(&buf);
    OK
}

pub fn man(cmd: clap::Command) -> u8 {
    let mut buf = Vec::new();
    if clap_mangen::Man::new(cmd).render(&mut buf).is_err() {
        return INVALID;
    }
    let _ = io::stdout().write_all(&buf);
    OK
}

/// Diagnostics as wide as the terminal they are shown on; 80 columns when
/// they go to a file or a pipe.
pub fn width() -> usize {
    if io::stderr().is_terminal() {
        if let Some((terminal_size::Width(w), _)) = terminal_size::terminal_size_of(io::stderr()) {
            return usize::from(w).max(40);
        }
    }
    80
}

//! The results of a `deal test` run for machines: one JSON document, or
//! JUnit XML for CI systems that draw test reports.

use std::io::{self, Write};

use miette::Diagnostic;
use serde_json::json;

use super::{FileReport, Status, TestError};
use crate::diag::{render, to_json, Style};

/// Totals over every file: passed, failed, errors (scenarios that could not
/// run, and files that could not be read, parsed or loaded).
pub fn totals(files: &[FileReport], errors: &[TestError]) -> (usize, usize, usize) {
    let mut t = (0, 0, errors.len());
    for f in files {
        t.0 += f.count(Status::Ok);
        t.1 += f.count(Status::Failed);
        t.2 += f.count(Status::Error) + f.errors.len();
    }
    t
}

fn diag(e: &TestError) -> &dyn Diagnostic {
    e
}

/// `{"passed", "failed", "errors", "files": [{"file", "contract", "errors",
/// "tests": [{"name", "status", "seconds", "problems"}]}], "problems"}`,
/// every problem a diagnostic as `--error-format json` writes it.
pub fn write_json(files: &[FileReport], errors: &[TestError], out: &mut dyn Write) -> io::Result<()> {
    let (passed, failed, errored) = totals(files, errors);
    let doc = json!({
        "passed": passed,
        "failed": failed,
        "errors": errored,
        "files": files.iter().map(|f| json!({
            "file": f.path,
            "contract": f.contract,
            "updated": f.updated,
            "errors": f.errors.iter().map(|e| to_json(diag(e))).collect::<Vec<_>>(),
            "tests": f.tests.iter().map(|t| json!({
                "name": t.name,
                "status": t.status.name(),
                "seconds": t.seconds,
                "problems": t.problems.iter().map(|e| to_json(diag(e))).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "problems": errors.iter().map(|e| to_json(diag(e))).collect::<Vec<_>>(),
    });
    serde_json::to_writer_pretty(&mut *out, &doc).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

fn xml(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\'' => s.push_str("&apos;"),
            // XML 1.0 has no place for other control characters.
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => {}
            c => s.push(c),
        }
    }
    s
}

fn rendered(problems: &[TestError]) -> String {
    problems
        .iter()
        .map(|e| render(e, Style::PLAIN))
        .collect::<Vec<_>>()
        .join("\n")
}

/// JUnit XML: a `testsuite` per test file, a `testcase` per scenario; a
/// failed expectation is a `failure`, a scenario or file that could not run
/// an `error`, each with its diagnostics as plain text.
pub fn write_junit(files: &[FileReport], errors: &[TestError], out: &mut dyn Write) -> io::Result<()> {
    let (passed, failed, errored) = totals(files, errors);
    let tests = passed + failed + errored;
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>")?;
    writeln!(
        out,
        "<testsuites name=\"deal test\" tests=\"{tests}\" failures=\"{failed}\" errors=\"{errored}\">"
    )?;
    for f in files {
        let n = f.tests.len() + f.errors.len();
        let seconds: f64 = f.tests.iter().map(|t| t.seconds).sum();
        writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{n}\" failures=\"{}\" errors=\"{}\" time=\"{seconds:.3}\">",
            xml(&f.path),
            f.count(Status::Failed),
            f.count(Status::Error) + f.errors.len()
        )?;
        if !f.errors.is_empty() {
            writeln!(
                out,
                "    <testcase name=\"(the file)\" classname=\"{}\" time=\"0\">",
                xml(&f.path)
            )?;
            write_problem(out, "error", &f.errors)?;
            writeln!(out, "    </testcase>")?;
        }
        for t in &f.tests {
            writeln!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{:.3}\">",
                xml(&t.name),
                xml(&f.path),
                t.seconds
            )?;
            match t.status {
                Status::Ok => {}
                Status::Failed => write_problem(out, "failure", &t.problems)?,
                Status::Error => write_problem(out, "error", &t.problems)?,
            }
            writeln!(out, "    </testcase>")?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    if !errors.is_empty() {
        writeln!(
            out,
            "  <testsuite name=\"deal test\" tests=\"{}\" failures=\"0\" errors=\"{}\">",
            errors.len(),
            errors.len()
        )?;
        writeln!(
            out,
            "    <testcase name=\"(the paths)\" classname=\"deal test\" time=\"0\">"
        )?;
        write_problem(out, "error", errors)?;
        writeln!(out, "    </testcase>")?;
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

fn write_problem(out: &mut dyn Write, tag: &str, problems: &[TestError]) -> io::Result<()> {
    let first = problems.first();
    let message = first.map(|e| e.to_string()).unwrap_or_default();
    let kind = first
        .and_then(|e| e.code())
        .map(|c| c.to_string())
        .unwrap_or_default();
    writeln!(
        out,
        "      <{tag} message=\"{}\" type=\"{}\">{}</{tag}>",
        xml(&message),
        xml(&kind),
        xml(&rendered(problems))
    )
}

//! `--rejects FILE`: the dead-letter file. It holds the rejected lines and
//! nothing else, each as it was read (bytes that are not UTF-8 included),
//! so that it can be corrected and fed to a later run as it is; why each was
//! rejected goes to `FILE.reasons.jsonl`. Both are made at the first
//! rejected line, so a run that rejects nothing leaves an earlier file
//! alone, and each line is written through as it comes: a run killed
//! part-way leaves every line it reported.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};

use miette::Diagnostic as _;
use serde::Serialize;

use deal::events::EventError;

pub struct Rejects {
    pub path: String,
    pub reasons_path: String,
    /// Add to what is there (a run carried on from a state) rather than
    /// start the file afresh.
    append: bool,
    /// The file and its reasons, once opened; none for the reasons of a
    /// file that is not a regular one (`/dev/null`, a pipe): they are only
    /// on standard error then.
    files: Option<(File, Option<File>)>,
    /// Lines written to the file.
    written: u64,
    pub count: u64,
    /// The first failure to write; nothing is written after it.
    pub failed: Option<String>,
}

/// One line of `FILE.reasons.jsonl`.
#[derive(Serialize)]
struct Reason<'a> {
    /// The events file and the line, in its own numbering.
    file: &'a str,
    line: Option<usize>,
    code: String,
    reason: String,
    /// The line of the rejects file that holds it; `null` for a line too
    /// long to have been held, which is not in the file.
    entry: Option<u64>,
}

impl Rejects {
    pub fn new(path: &str, append: bool) -> Rejects {
        Rejects {
            path: path.to_string(),
            reasons_path: format!("{path}.reasons.jsonl"),
            append,
            files: None,
            written: 0,
            count: 0,
            failed: None,
        }
    }

    fn open(&self, path: &str) -> io::Result<File> {
        let mut o = OpenOptions::new();
        o.create(true);
        if self.append {
            o.append(true);
        } else {
            o.write(true).truncate(true);
        }
        o.open(path)
    }

    /// Where the reasons are, in words.
    pub fn reasons_said(&self) -> String {
        match &self.files {
            Some((_, None)) => "their reasons are in the diagnostics above".to_string(),
            _ => format!("their reasons are in `{}`", self.reasons_path),
        }
    }

    /// Sets a rejected line aside: `raw` as read, without its `\n`.
    pub fn put(&mut self, events_name: &str, err: &EventError, raw: &[u8]) {
        self.count += 1;
        if self.failed.is_some() {
            return;
        }
        if let Err(e) = self.write(events_name, err, raw) {
            self.failed = Some(e.to_string());
        }
    }

    fn write(&mut self, events_name: &str, err: &EventError, raw: &[u8]) -> io::Result<()> {
        if self.files.is_none() {
            let file = self.open(&self.path)?;
            let regular = file.metadata().is_ok_and(|m| m.is_file());
            let reasons = if regular {
                Some(self.open(&self.reasons_path)?)
            } else {
                None
            };
            self.files = Some((file, reasons));
        }
        let Some((file, reasons)) = self.files.as_mut() else {
            return Ok(());
        };
        // A line too long to be held was never kept; an unreadable input
        // has no line. Only the reason says they were there.
        let held = !matches!(err, EventError::TooLong { .. } | EventError::Unreadable { .. });
        let entry = if held {
            let mut line = Vec::with_capacity(raw.len() + 1);
            line.extend_from_slice(raw);
            line.push(b'\n');
            // One write a line, unbuffered: what was reported is on disk
            // (in the system's hands) before the next line is read.
            file.write_all(&line)?;
            self.written += 1;
            Some(self.written)
        } else {
            None
        };
        let reason = Reason {
            file: events_name,
            line: err.line(),
            code: err.code().map(|c| c.to_string()).unwrap_or_default(),
            reason: err.to_string(),
            entry,
        };
        let Some(reasons) = reasons.as_mut() else {
            return Ok(());
        };
        let mut text = serde_json::to_vec(&reason).map_err(io::Error::from)?;
        text.push(b'\n');
        reasons.write_all(&text)
    }
}

/// Whether writing `out` would write over `input`: the same path, or the
/// same file under another name (a link to it).
pub fn same_file(out: &str, input: &str) -> bool {
    if out == input {
        return true;
    }
    let (Ok(a), Ok(b)) = (std::fs::metadata(out), std::fs::metadata(input)) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        a.dev() == b.dev() && a.ino() == b.ino()
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        use std::path::Path;
        match (Path::new(out).canonicalize(), Path::new(input).canonicalize()) {
            (Ok(x), Ok(y)) => x == y,
            _ => false,
        }
    }
}

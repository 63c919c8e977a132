//! Runs the real `deal` binary.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "each test crate uses part of it, and a test fails by panicking"
)]

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

pub const REFERENCE: &str = "contracts/microsoft_openai.deal";
pub const REFERENCE_EVENTS: &str = "contracts/microsoft_openai.events.jsonl";

pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `deal` with `args` from the crate root, feeding `stdin`.
pub fn deal(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_deal"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("deal runs");
    // A run that stops early (at a bad line, or at `--at`) may close its
    // input before all of it is written: that is not a failure of the test.
    let _ = child.stdin.take().expect("stdin").write_all(stdin.as_bytes());
    let out = child.wait_with_output().expect("deal finishes");
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Events given one to a line, as an events file.
pub fn lines(ls: &[&str]) -> String {
    ls.iter().map(|l| format!("{l}\n")).collect()
}

/// Replays `events` against `contract`, with a JSON report.
pub fn run(contract: &str, events: &[&str], extra: &[&str]) -> Output {
    let mut args = vec!["run", contract, "--events", "-", "--format", "json"];
    args.extend_from_slice(extra);
    deal(&args, &lines(events))
}

/// Replays `events` (JSON Lines) against the reference contract.
pub fn reference(events: &str, extra: &[&str]) -> Output {
    let mut args = vec!["run", REFERENCE, "--events", "-", "--format", "json"];
    args.extend_from_slice(extra);
    deal(&args, events)
}

pub fn clause_state(report: &serde_json::Value, name: &str) -> String {
    report["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no clause {name}"))["state"]
        .as_str()
        .unwrap()
        .to_string()
}

pub fn breaches(report: &serde_json::Value) -> Vec<serde_json::Value> {
    report["breaches"].as_array().unwrap().clone()
}

/// Norm rows of a clause, optionally of one kind.
pub fn norms<'a>(report: &'a serde_json::Value, clause: &str, kind: &str) -> Vec<&'a serde_json::Value> {
    report["norms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["clause"] == clause && n["kind"] == kind)
        .collect()
}

pub fn balance(report: &serde_json::Value, field: &str) -> String {
    let rows = report["balances"].as_array().unwrap();
    let row = rows
        .iter()
        .find(|b| b["from"] == "OpenAI" && b["to"] == "Microsoft" && b["currency"] == "USD")
        .unwrap_or_else(|| panic!("no OpenAI→Microsoft USD balance in {rows:?}"));
    row[field].as_str().unwrap().to_string()
}

/// Compares two decimal strings exactly, ignoring trailing zeros.
pub fn same_amount(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        let s = s.trim();
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    norm(a) == norm(b)
}

/// Replays `events` against `contract` with `--history`, returning the
/// output and the history's records.
pub fn run_with_history(contract: &str, events: &[&str], extra: &[&str]) -> (Output, Vec<serde_json::Value>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "history-{}-{}.jsonl",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let path_text = path.to_string_lossy().into_owned();
    let mut args = vec!["--history", path_text.as_str()];
    args.extend_from_slice(extra);
    let out = run(contract, events, &args);
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let _ = std::fs::remove_file(&path);
    let records = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("history line not JSON ({e}): {l}")))
        .collect();
    (out, records)
}

/// The history's records of one clause's instances.
pub fn instance_records<'a>(records: &'a [serde_json::Value], clause: &str) -> Vec<&'a serde_json::Value> {
    records
        .iter()
        .filter(|r| r["record"] == "instance" && r["clause"] == clause)
        .collect()
}

/// Replays `events` against `contract`, with the text report.
pub fn run_text(contract: &str, events: &[&str], extra: &[&str]) -> String {
    let mut args = vec!["run", contract, "--events", "-"];
    args.extend_from_slice(extra);
    deal(&args, &lines(events)).stdout
}

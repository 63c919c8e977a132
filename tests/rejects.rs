//! The dead-letter file and stopped runs: rejected lines are set aside as
//! they were read, never over the events, and a run that stops says so
//! rather than reporting a moment it did not reach.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "a test fails by panicking"
)]

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const AMENDED: &str = r#"{"at":"2025-01-21","event":"cloud_terms_amended"}"#;
const REVENUE: &str = r#"{"at":"2025-03-31","event":"revenue","amount":"1000.00 USD"}"#;
/// Pays the quarter's share in full, before it is due on 2025-04-30.
const PAYMENT: &str =
    r#"{"at":"2025-04-10","event":"payment","from":"OpenAI","to":"Microsoft","amount":"250.00 USD"}"#;

/// A folder of its own for one test.
fn folder(name: &str) -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("rejects-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(path: &Path, bytes: &[u8]) -> String {
    std::fs::write(path, bytes).unwrap();
    path.to_string_lossy().into_owned()
}

fn run_file(events: &str, extra: &[&str]) -> Output {
    let mut args = vec!["run", REFERENCE, "--events", events, "--format", "json"];
    args.extend_from_slice(extra);
    deal(&args, "")
}

#[test]
fn the_rejects_file_is_never_the_events_file() {
    let dir = folder("never-events");
    let body = lines(&[AMENDED, "not json", REVENUE]);
    let events = write(&dir.join("events.jsonl"), body.as_bytes());
    // The same path, a symbolic link to it, a hard link to it.
    let link = dir.join("link.jsonl");
    std::os::unix::fs::symlink(&events, &link).unwrap();
    let hard = dir.join("hard.jsonl");
    std::fs::hard_link(&events, &hard).unwrap();
    for target in [
        events.clone(),
        link.to_string_lossy().into_owned(),
        hard.to_string_lossy().into_owned(),
    ] {
        let out = run_file(&events, &["--rejects", &target]);
        assert_eq!(out.code, 2, "{target}: {}", out.stderr);
        assert!(
            out.stderr.contains("deal::cli::overwrites_events"),
            "{}",
            out.stderr
        );
        assert_eq!(
            std::fs::read_to_string(&events).unwrap(),
            body,
            "the events were written over"
        );
    }
    // Nor the history.
    let out = run_file(&events, &["--history", &events]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&events).unwrap(), body);
}

#[test]
fn a_run_that_rejects_nothing_leaves_the_rejects_file_alone() {
    let dir = folder("nothing");
    let events = write(&dir.join("events.jsonl"), lines(&[AMENDED, REVENUE]).as_bytes());
    let kept = dir.join("kept.jsonl");
    std::fs::write(&kept, "from an earlier run\n").unwrap();
    let out = run_file(&events, &["--rejects", &kept.to_string_lossy()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "from an earlier run\n");
    let fresh = dir.join("fresh.jsonl");
    let out = run_file(&events, &["--rejects", &fresh.to_string_lossy()]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!fresh.exists(), "made although nothing was rejected");
    assert!(!out.stderr.contains("deal::run::rejected"), "{}", out.stderr);
}

#[test]
fn rejected_lines_are_kept_byte_for_byte_and_replay_as_they_are() {
    let dir = folder("bytes");
    let mut body = Vec::new();
    body.extend_from_slice(format!("{AMENDED}\n").as_bytes());
    body.extend_from_slice(b"not json\r\n");
    body.extend_from_slice(b"{\"at\":\"2025-02-01\",\"event\":\"ip_use\",\"product\":\"Caf\xe9\"}\n");
    body.extend_from_slice(format!("{REVENUE}\n").as_bytes());
    body.extend_from_slice(b"{\"at\":\"2025-04-01\",\"event\":\"no_such_kind\"}\n");
    let events = write(&dir.join("events.jsonl"), &body);
    let rejects = dir.join("rejects.jsonl");
    let out = run_file(
        &events,
        &["--rejects", &rejects.to_string_lossy(), "--at", "2025-06-30"],
    );
    let expected: &[u8] = b"not json\r\n{\"at\":\"2025-02-01\",\"event\":\"ip_use\",\"product\":\"Caf\xe9\"}\n{\"at\":\"2025-04-01\",\"event\":\"no_such_kind\"}\n";
    let kept = std::fs::read(&rejects).unwrap();
    assert_eq!(kept, expected, "{}", String::from_utf8_lossy(&kept));
    // The reasons are beside it, one a line, with the line each came from.
    let reasons = std::fs::read_to_string(format!("{}.reasons.jsonl", rejects.display())).unwrap();
    let reasons: Vec<serde_json::Value> = reasons
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let at: Vec<(u64, &str)> = reasons
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["code"].as_str().unwrap()))
        .collect();
    assert_eq!(
        at,
        [
            (2, "deal::event::not_json"),
            (3, "deal::event::not_utf8"),
            (5, "deal::event::unknown_kind")
        ]
    );
    // With `--rejects` the exit status is by breaches (the share of the
    // quarter's revenue was never paid), the report counts
    // the lines, and standard error ends by naming the file.
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(out.json()["events"]["rejected"], 3);
    let last = out.stderr.trim_end().rsplit("deal::").next().unwrap();
    assert!(last.starts_with("run::rejected"), "{}", out.stderr);
    assert!(out.stderr.contains("rejects.jsonl"), "{}", out.stderr);
    // Fed again as it is, the file rejects the same lines: nothing in it
    // but them.
    let again = dir.join("again.jsonl");
    let out = run_file(
        &rejects.to_string_lossy(),
        &["--rejects", &again.to_string_lossy()],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["events"]["rejected"], 3);
    assert_eq!(std::fs::read(&again).unwrap(), expected);
}

#[test]
fn rejected_lines_are_on_disk_as_they_are_reported() {
    use std::io::Write as _;
    let dir = folder("flushed");
    let rejects = dir.join("rejects.jsonl");
    let mut child = Command::new(env!("CARGO_BIN_EXE_deal"))
        .args(["run", REFERENCE, "--events", "-", "--rejects"])
        .arg(&rejects)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{AMENDED}").unwrap();
    for i in 0..52 {
        writeln!(stdin, "bad line {i}").unwrap();
    }
    // Enough blank lines after them for the run to read a block and go on.
    let blank = format!("{}\n", " ".repeat(1023));
    for _ in 0..400 {
        stdin.write_all(blank.as_bytes()).unwrap();
    }
    stdin.flush().unwrap();
    // The input stays open: the run is still going when it is killed.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mut seen = 0;
    while std::time::Instant::now() < deadline {
        seen = std::fs::read_to_string(&rejects).map_or(0, |t| t.lines().count());
        if seen == 52 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    let _ = child.wait();
    drop(stdin);
    assert_eq!(seen, 52, "lines on disk while the run went on");
    let kept = std::fs::read_to_string(&rejects).unwrap();
    assert_eq!(kept.lines().next(), Some("bad line 0"));
}

#[test]
fn a_stopped_run_reports_as_of_its_last_event_and_says_so() {
    let dir = folder("stopped");
    // The payment after the bad line would cure the breach `--at` would show.
    let events = write(
        &dir.join("events.jsonl"),
        lines(&[AMENDED, REVENUE, r#"{"at":"2025-04-05","event":"oops"}"#, PAYMENT]).as_bytes(),
    );
    let whole = write(
        &dir.join("whole.jsonl"),
        lines(&[AMENDED, REVENUE, PAYMENT]).as_bytes(),
    );
    let out = run_file(&whole, &["--at", "2025-06-30"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(breaches(&out.json()).is_empty());

    let out = run_file(&events, &["--at", "2025-06-30"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let report = out.json();
    assert!(
        breaches(&report).is_empty(),
        "a breach the unread lines would have cured: {report}"
    );
    assert_eq!(report["as_of"], "2025-03-31");
    assert_eq!(report["stopped"]["line"], 3);
    assert_eq!(report["stopped"]["code"], "deal::event::unknown_kind");
    assert!(out.stderr.contains("deal::run::stopped"), "{}", out.stderr);
    assert!(
        out.stderr.contains("not as of `--at 2025-06-30`"),
        "{}",
        out.stderr
    );

    let text = deal(&["run", REFERENCE, "--events", &events, "--at", "2025-06-30"], "").stdout;
    let second = text.lines().nth(1).unwrap_or_default();
    assert!(second.starts_with("STOPPED at line 3 of"), "{text}");
    // A run that did not stop says nothing of it.
    let out = run_file(&whole, &[]);
    assert!(out.json().get("stopped").is_none());
}

#[test]
fn no_arguments_is_a_usage_error() {
    let out = deal(&[], "");
    assert_eq!(out.code, 2);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(out.stderr.contains("Usage: deal"), "{}", out.stderr);
}

#[test]
fn explain_into_a_closed_pipe_does_not_panic() {
    for args in [
        &["explain", "deal::check::unknown_name"][..],
        &["explain", "--list"][..],
        &["man"][..],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_deal"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Closed before anything is written: every write meets a broken pipe.
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_ne!(out.status.code(), Some(101), "{args:?}");
    }
}

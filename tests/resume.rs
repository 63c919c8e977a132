//! `--state`: a stream fed in parts, or a run killed and started again,
//! reports exactly what one run over the whole stream reports.
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

use proptest::prelude::*;

fn folder(name: &str) -> PathBuf {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "resume-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `deal run` of the reference contract over a file, with a JSON report.
fn run_file(events: &Path, extra: &[&str]) -> Output {
    let events = path(events);
    let mut args = vec!["run", REFERENCE, "--events", events.as_str(), "--format", "json"];
    args.extend_from_slice(extra);
    deal(&args, "")
}

/// A stream for the reference contract: every kind it reacts to, breaches
/// among them (a contract placed with no offer first, revenue left unpaid),
/// ids on most lines and some lines delivered twice.
fn stream(ops: &[u8]) -> Vec<String> {
    let mut out = vec![r#"{"at":"2025-01-21","event":"cloud_terms_amended"}"#.to_string()];
    let mut t = 1_737_417_600i64 + 3600;
    let mut offer = 0;
    for (i, op) in ops.iter().enumerate() {
        t += i64::from(op % 7) * 3600 * 9;
        let at = jiff::Timestamp::from_second(t)
            .unwrap()
            .strftime("%Y-%m-%dT%H:%M:%SZ");
        let id = format!(r#","id":"e{i}""#);
        let line = match op % 10 {
            0 | 1 => format!(
                r#"{{"at":"{at}"{id},"event":"revenue","amount":"{}.25 USD"}}"#,
                100 + i
            ),
            2 => format!(
                r#"{{"at":"{at}"{id},"event":"payment","from":"OpenAI","to":"Microsoft","amount":"40 USD"}}"#
            ),
            3 => {
                offer += 1;
                format!(r#"{{"at":"{at}"{id},"event":"cloud_offer","ref":"r{offer}","price":"1000 USD"}}"#)
            }
            4 => format!(r#"{{"at":"{at}"{id},"event":"cloud_offer_declined","ref":"r{offer}"}}"#),
            5 => format!(
                r#"{{"at":"{at}"{id},"event":"cloud_contract","provider":"Oracle","ref":"r{offer}","price":"1000 USD"}}"#
            ),
            6 => format!(r#"{{"at":"{at}","event":"ip_use","product":"Copilot"}}"#),
            7 => {
                format!(r#"{{"at":"{at}"{id},"event":"product_profit","product":"Sora","amount":"10 USD"}}"#)
            }
            8 => format!(
                r#"{{"at":"{at}"{id},"event":"resale_license","licensee":"L{i}","platform":"Azure"}}"#
            ),
            // The line before, delivered again.
            _ => out.last().cloned().unwrap_or_default(),
        };
        out.push(line);
    }
    out
}

fn text(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// Feeds `lines` in the parts `cuts` make, through one state; each part
/// either as a file of its own (`grown[k]` false) or appended to the file
/// before it, which is fed again whole.
fn fed_in_parts(dir: &Path, lines: &[String], cuts: &[usize], grown: &[bool], extra: &[&str]) -> Output {
    let state = path(&dir.join("run.state"));
    let mut from = 0;
    let mut last = None;
    let mut ends: Vec<usize> = cuts.to_vec();
    ends.push(lines.len());
    let mut file = dir.join("part0.jsonl");
    let mut body = String::new();
    for (k, &end) in ends.iter().enumerate() {
        let end = end.max(from);
        if k == 0 || !grown.get(k).copied().unwrap_or(false) {
            file = dir.join(format!("part{k}.jsonl"));
            body.clear();
        }
        body.push_str(&text(&lines[from..end]));
        std::fs::write(&file, &body).unwrap();
        let mut args = vec!["--state", state.as_str()];
        args.extend_from_slice(extra);
        last = Some(run_file(&file, &args));
        from = end;
    }
    last.unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// However a stream is split, and whether each part comes as a file of
    /// its own or as the same file grown, the last report is the report of
    /// one run over the whole stream, byte for byte.
    #[test]
    fn parts_fed_through_a_state_report_as_the_whole(
        ops in proptest::collection::vec(any::<u8>(), 1..60),
        cuts in proptest::collection::vec(0usize..60, 0..4),
        grown in proptest::collection::vec(any::<bool>(), 5),
    ) {
        let dir = folder("parts");
        let lines = stream(&ops);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(lines.len())).collect();
        cuts.sort_unstable();
        let whole = dir.join("whole.jsonl");
        std::fs::write(&whole, text(&lines)).unwrap();
        let one = run_file(&whole, &[]);
        let parts = fed_in_parts(&dir, &lines, &cuts, &grown, &[]);
        prop_assert_eq!(&one.stdout, &parts.stdout, "cuts {:?} grown {:?}\n{}", cuts, grown, parts.stderr);
        prop_assert_eq!(one.code, parts.code);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn the_history_of_parts_is_the_history_of_the_whole() {
    let dir = folder("history");
    let ops: Vec<u8> = (0..80u32).map(|i| (i * 37 % 251) as u8).collect();
    let lines = stream(&ops);
    let whole = dir.join("whole.jsonl");
    std::fs::write(&whole, text(&lines)).unwrap();
    let one_history = path(&dir.join("one.history"));
    let one = run_file(&whole, &["--history", &one_history]);
    let parts_history = path(&dir.join("parts.history"));
    let parts = fed_in_parts(
        &dir,
        &lines,
        &[20, 50],
        &[false, false, false],
        &["--history", &parts_history],
    );
    assert_eq!(one.stdout, parts.stdout);
    assert_eq!(
        std::fs::read_to_string(&one_history).unwrap(),
        std::fs::read_to_string(&parts_history).unwrap()
    );
}

/// A long stream for the runs that are killed.
fn long_stream(n: usize) -> Vec<String> {
    let ops: Vec<u8> = (0..n).map(|i| ((i * 7919 + i / 3) % 253) as u8).collect();
    stream(&ops)
}

fn deal_command(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_deal"));
    c.args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

#[test]
fn a_run_killed_at_a_checkpoint_and_started_again_reports_as_one_never_killed() {
    let dir = folder("aborted");
    let lines = long_stream(3000);
    let events = dir.join("events.jsonl");
    std::fs::write(&events, text(&lines)).unwrap();
    let whole = run_file(&events, &[]);
    let events_text = path(&events);
    for abort_at in [1, 3, 7] {
        let state = path(&dir.join(format!("run{abort_at}.state")));
        let args = [
            "run",
            REFERENCE,
            "--events",
            events_text.as_str(),
            "--format",
            "json",
            "--state",
            state.as_str(),
            "--checkpoint-every",
            "250",
        ];
        // Killed as it was about to save its third (…) checkpoint: what it
        // applied since the one before is not in the state.
        let killed = deal_command(&args)
            .env("DEAL_TEST_ABORT_AT_CHECKPOINT", abort_at.to_string())
            .output()
            .unwrap();
        assert!(!killed.status.success(), "the run was to be stopped");
        let again = deal_command(&args).output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&again.stdout),
            whole.stdout,
            "stopped at checkpoint {abort_at}: {}",
            String::from_utf8_lossy(&again.stderr)
        );
    }
}

#[test]
fn a_run_killed_by_sigkill_and_started_again_reports_as_one_never_killed() {
    let dir = folder("killed");
    let lines = long_stream(20_000);
    let events = dir.join("events.jsonl");
    std::fs::write(&events, text(&lines)).unwrap();
    let whole = run_file(&events, &[]);
    let events_text = path(&events);
    for wait_ms in [30u64, 120, 400] {
        let state = path(&dir.join(format!("run{wait_ms}.state")));
        let args = [
            "run",
            REFERENCE,
            "--events",
            events_text.as_str(),
            "--format",
            "json",
            "--state",
            state.as_str(),
            "--checkpoint-every",
            "100",
        ];
        let mut child = deal_command(&args).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        // SIGKILL: nothing of the run gets to tidy up.
        let _ = child.kill();
        let _ = child.wait();
        let again = deal_command(&args).output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&again.stdout),
            whole.stdout,
            "killed after {wait_ms} ms: {}",
            String::from_utf8_lossy(&again.stderr)
        );
    }
}

#[test]
fn a_state_grows_with_what_is_open_not_with_the_stream() {
    let dir = folder("size");
    let size = |n: usize| {
        // Revenue and its payment, offers declined: nothing stays open.
        let mut lines = vec![r#"{"at":"2025-01-21","event":"cloud_terms_amended"}"#.to_string()];
        let mut t = 1_737_417_600i64;
        for i in 0..n {
            t += 600;
            let at = jiff::Timestamp::from_second(t)
                .unwrap()
                .strftime("%Y-%m-%dT%H:%M:%SZ");
            lines.push(match i % 3 {
                0 => format!(r#"{{"at":"{at}","id":"e{i}","event":"revenue","amount":"100 USD"}}"#),
                1 => format!(r#"{{"at":"{at}","id":"e{i}","event":"payment","from":"OpenAI","to":"Microsoft","amount":"25 USD"}}"#),
                _ => format!(r#"{{"at":"{at}","id":"e{i}","event":"ip_use","product":"Copilot"}}"#),
            });
        }
        let events = dir.join(format!("events{n}.jsonl"));
        std::fs::write(&events, text(&lines)).unwrap();
        let state = dir.join(format!("run{n}.state"));
        let out = run_file(&events, &["--state", &path(&state)]);
        assert_eq!(out.code, 0, "{}", out.stderr);
        std::fs::metadata(&state).unwrap().len()
    };
    // The ids of 30 days (4,320 events ten minutes apart) are held either way.
    let small = size(6_000);
    let large = size(30_000);
    assert!(
        large * 2 <= small * 3,
        "{small} bytes at 6k events, {large} at 30k"
    );
}

#[test]
fn a_state_of_another_contract_version_or_a_damaged_one_is_refused() {
    let dir = folder("refused");
    let lines = long_stream(40);
    let events = dir.join("events.jsonl");
    std::fs::write(&events, text(&lines)).unwrap();
    let state = dir.join("run.state");
    let state_text = path(&state);
    let first = run_file(&events, &["--state", &state_text]);
    assert!(first.code < 2, "{}", first.stderr);
    let saved = std::fs::read(&state).unwrap();

    // Other `--set` values make another contract.
    let out = run_file(
        &events,
        &["--state", &state_text, "--set", "future_profit_rate=10%"],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("deal::state::other_contract"),
        "{}",
        out.stderr
    );
    // Another horizon.
    let out = run_file(&events, &["--state", &state_text, "--dedup-horizon", "90 days"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("deal::state::other_horizon"),
        "{}",
        out.stderr
    );
    // One byte changed anywhere in the body.
    let mut damaged = saved.clone();
    let at = damaged.len() / 2;
    damaged[at] ^= 0x01;
    std::fs::write(&state, &damaged).unwrap();
    let out = run_file(&events, &["--state", &state_text]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("deal::state::corrupt"), "{}", out.stderr);
    // Cut short.
    std::fs::write(&state, &saved[..saved.len() - 10]).unwrap();
    let out = run_file(&events, &["--state", &state_text]);
    assert!(out.stderr.contains("deal::state::corrupt"), "{}", out.stderr);
    // Another version of the format.
    let text = String::from_utf8(saved.clone())
        .unwrap()
        .replacen("deal-state 1 ", "deal-state 2 ", 1);
    std::fs::write(&state, text).unwrap();
    let out = run_file(&events, &["--state", &state_text]);
    assert!(out.stderr.contains("deal::state::version"), "{}", out.stderr);
    // Left as it was, it is read as it was.
    std::fs::write(&state, &saved).unwrap();
    let out = run_file(&events, &["--state", &state_text]);
    assert_eq!(out.code, first.code, "{}", out.stderr);
    // The state is never the events file.
    let out = run_file(&events, &["--state", &path(&events)]);
    assert!(
        out.stderr.contains("deal::cli::overwrites_events"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_contract_laid_out_anew_keeps_its_states() {
    let dir = folder("layout");
    let lines = long_stream(60);
    let (a, b) = lines.split_at(30);
    let first = dir.join("a.jsonl");
    let second = dir.join("b.jsonl");
    std::fs::write(&first, text(a)).unwrap();
    std::fs::write(&second, text(b)).unwrap();
    let whole = dir.join("whole.jsonl");
    std::fs::write(&whole, text(&lines)).unwrap();
    let one = run_file(&whole, &[]);
    // The same contract with comments and blank lines added.
    let source = std::fs::read_to_string(root().join(REFERENCE)).unwrap();
    let relaid: String = source
        .lines()
        .map(|l| {
            if l.trim().is_empty() {
                "\n# a comment\n\n".to_string()
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let contract = dir.join("relaid.deal");
    std::fs::write(&contract, relaid).unwrap();
    let state = path(&dir.join("run.state"));
    let out = run_file(&first, &["--state", &state]);
    assert!(out.code < 2, "{}", out.stderr);
    let contract = path(&contract);
    let second = path(&second);
    let out = deal(
        &[
            "run", &contract, "--events", &second, "--format", "json", "--state", &state,
        ],
        "",
    );
    assert!(!out.stderr.contains("deal::state::"), "{}", out.stderr);
    assert_eq!(out.stdout.replace(&contract, REFERENCE), one.stdout);
}

#[test]
fn a_stopped_run_carries_on_from_its_bad_line_once_corrected() {
    let dir = folder("corrected");
    let lines = long_stream(40);
    let whole = dir.join("whole.jsonl");
    std::fs::write(&whole, text(&lines)).unwrap();
    let one = run_file(&whole, &[]);
    let events = dir.join("events.jsonl");
    let mut bad = lines.clone();
    bad[20] = "not an event".to_string();
    std::fs::write(&events, text(&bad)).unwrap();
    let state = path(&dir.join("run.state"));
    let out = run_file(&events, &["--state", &state]);
    assert_eq!(out.code, 2);
    assert_eq!(out.json()["stopped"]["line"], 21);
    // Corrected in place: the lines before it are the ones already applied.
    std::fs::write(&events, text(&lines)).unwrap();
    let out = run_file(&events, &["--state", &state]);
    assert_eq!(out.stdout, one.stdout, "{}", out.stderr);
}

#[test]
fn a_last_line_without_its_end_waits_for_it() {
    let dir = folder("unended");
    let lines = long_stream(10);
    let whole = dir.join("whole.jsonl");
    std::fs::write(&whole, text(&lines)).unwrap();
    let one = run_file(&whole, &[]);
    let events = dir.join("events.jsonl");
    let body = text(&lines);
    // Caught while the last line was half written.
    std::fs::write(&events, &body[..body.len() - 12]).unwrap();
    let state = path(&dir.join("run.state"));
    let out = run_file(&events, &["--state", &state]);
    assert!(out.stderr.contains("deal::run::unended"), "{}", out.stderr);
    std::fs::write(&events, &body).unwrap();
    let out = run_file(&events, &["--state", &state]);
    assert_eq!(out.stdout, one.stdout, "{}", out.stderr);
}

#[test]
fn standard_input_is_recognised_too() {
    let dir = folder("stdin");
    let lines = long_stream(50);
    let whole = text(&lines);
    let one = reference(&whole, &[]);
    let state = path(&dir.join("run.state"));
    let head = text(&lines[..25]);
    let out = reference(&head, &["--state", &state]);
    assert!(out.code < 2, "{}", out.stderr);
    // All of it again: the first half is recognised and not applied twice.
    let out = reference(&whole, &["--state", &state]);
    assert_eq!(out.stdout, one.stdout, "{}", out.stderr);
}

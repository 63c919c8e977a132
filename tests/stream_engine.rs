//! The engine as a stream processor, through the real CLI: ids over a
//! horizon, closed instances folded into counts and kept in `--history`,
//! the report written as it is made, and a file read on its own thread
//! giving exactly what standard input gives.
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

use std::process::{Command, Stdio};

fn revenue(at: &str, id: &str, amount: &str) -> String {
    format!(r#"{{"at":"{at}","id":"{id}","event":"revenue","amount":"{amount} USD"}}"#)
}

#[test]
fn a_reused_id_with_another_payload_is_rejected_naming_both_lines() {
    let events = lines(&[
        &revenue("2025-03-01", "r-1", "100"),
        &revenue("2025-03-02", "r-2", "100"),
        &revenue("2025-03-02", "r-1", "250"),
    ]);
    let out = reference(&events, &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("deal::event::reused_id"), "{}", out.stderr);
    assert!(
        out.stderr.contains("<stdin>:3:"),
        "names its own line: {}",
        out.stderr
    );
    assert!(
        out.stderr.contains("line 1"),
        "names the first line: {}",
        out.stderr
    );
    let r = out.json();
    assert_eq!(r["events"]["applied"], 2);
    assert!(
        same_amount(&balance(&r, "accrued"), "50"),
        "the second 250 never counted"
    );
}

#[test]
fn the_same_event_again_is_a_duplicate_whatever_its_layout() {
    let again = r#"{ "event": "revenue", "amount": "100 USD", "id": "r-1", "at": "2025-03-01" }"#;
    let events = lines(&[&revenue("2025-03-01", "r-1", "100"), again]);
    let out = reference(&events, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["events"]["duplicates"], 1);
}

#[test]
fn an_id_older_than_the_horizon_is_rejected_with_its_code() {
    let first = revenue("2025-03-01", "r-1", "100");
    let events = lines(&[&first, &revenue("2025-06-01", "r-2", "100"), &first]);
    let out = reference(&events, &[]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("deal::event::beyond_dedup_horizon"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("--dedup-horizon"),
        "says how to widen it: {}",
        out.stderr
    );
    assert_eq!(out.json()["events"]["applied"], 2);

    // A wider horizon still remembers it: the redelivery is recognised
    // (the unpaid first quarter is a breach, exit 1, not a rejection).
    let out = reference(&events, &["--dedup-horizon", "120 days"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let r = out.json();
    assert_eq!(r["events"]["applied"], 2);
    assert_eq!(r["events"]["duplicates"], 1);
}

#[test]
fn an_event_without_id_is_only_judged_by_its_order() {
    let events = lines(&[
        r#"{"at":"2025-06-01","event":"revenue","amount":"1 USD"}"#,
        r#"{"at":"2025-03-01","event":"revenue","amount":"1 USD"}"#,
    ]);
    let out = reference(&events, &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("deal::event::out_of_order"), "{}", out.stderr);
}

/// A reference stream of `n` offers, each declined and then placed with a
/// third party: every power lapses and every permission passed on is used.
fn offers(n: usize) -> String {
    let mut out = lines(&[r#"{"at":"2025-01-21","event":"cloud_terms_amended"}"#]);
    for i in 0..n {
        let at = format!(
            "2025-02-{:02}T{:02}:{:02}:00Z",
            1 + i / 600,
            (i / 60) % 10,
            i % 60
        );
        out.push_str(&lines(&[
            &format!(r#"{{"at":"{at}","event":"cloud_offer","ref":"r{i}","price":"5 USD"}}"#),
            &format!(r#"{{"at":"{at}","event":"cloud_offer_declined","ref":"r{i}"}}"#),
            &format!(
                r#"{{"at":"{at}","event":"cloud_contract","provider":"Oracle","ref":"r{i}","price":"5 USD"}}"#
            ),
        ]));
    }
    out
}

#[test]
fn closed_instances_are_counted_in_the_report_and_each_kept_in_the_history() {
    let events = offers(250);
    let lines: Vec<&str> = events.lines().collect();
    let (out, history) = run_with_history(REFERENCE, &lines, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = out.json();
    let power = norms(&r, "cloud_first_refusal", "power");
    assert_eq!(power.len(), 1, "one row for all of them: {power:?}");
    assert_eq!(power[0]["state"], "lapsed");
    assert_eq!(power[0]["count"], 250);
    assert!(power[0]["key"].is_null());
    let permission = norms(&r, "cloud_first_refusal", "permission");
    assert_eq!(
        (&permission[0]["state"], &permission[0]["count"]),
        (&"ended".into(), &250.into())
    );

    let records = instance_records(&history, "cloud_first_refusal");
    let closed = |kind: &str, to: &str| {
        records
            .iter()
            .filter(|h| h["kind"] == kind && h["to"] == to)
            .map(|h| h["key"].as_str().unwrap().to_string())
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(
        closed("power", "lapsed").len(),
        250,
        "every closed instance, by its key"
    );
    assert_eq!(closed("permission", "ended").len(), 250);
    assert!(closed("power", "lapsed").contains("r249"));
    // And the history says when each arose, and what closed it.
    let arose = records
        .iter()
        .filter(|h| h["kind"] != "prohibition" && h["from"] == "inactive" && h["to"] == "active")
        .count();
    assert_eq!(arose, 500);
    assert!(records.iter().filter(|h| h["to"] == "lapsed").all(|h| h["note"]
        .as_str()
        .unwrap()
        .starts_with("answered by cloud_offer_declined")));
}

#[test]
fn money_moves_are_in_the_history() {
    let events = [
        r#"{"at":"2025-03-31","event":"revenue","amount":"1000 USD"}"#,
        r#"{"at":"2025-05-02","event":"payment","from":"OpenAI","to":"Microsoft","amount":"300 USD"}"#,
    ];
    let (out, history) = run_with_history(REFERENCE, &events, &["--at", "2025-07-01"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let of = |what: &str| history.iter().filter(|h| h["record"] == what).collect::<Vec<_>>();
    let accrual = of("accrual");
    assert_eq!(accrual.len(), 1);
    assert_eq!(
        (&accrual[0]["amount"], &accrual[0]["key"]),
        (&"250.00".into(), &"2025-Q1".into())
    );
    let due = of("bucket");
    assert_eq!(due[0]["to"], "violated", "unpaid on 2025-04-30: {due:?}");
    assert!(due[0]["line"].is_null());
    let paid = of("settlement");
    assert_eq!(
        (&paid[0]["amount"], &paid[0]["unapplied"]),
        (&"250.00".into(), &"50.00".into())
    );
    assert_eq!(of("breach").len(), 1);
}

#[test]
fn a_report_that_cannot_be_written_is_a_diagnostic_and_exit_2() {
    let full = std::fs::File::create("/dev/full").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_deal"))
        .args(["run", REFERENCE, "--events", REFERENCE_EVENTS, "--format", "json"])
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(full)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("deal::cli::write_failed"), "{stderr}");
    assert!(stderr.contains("cannot write the report"), "{stderr}");
}

#[test]
fn a_closed_pipe_is_a_diagnostic_not_a_panic() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_deal"))
        .args(["run", REFERENCE, "--events", "-", "--format", "json"])
        .current_dir(root())
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before anything is written.
    drop(child.stdout.take());
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        let _ = stdin.write_all(offers(2000).as_bytes());
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("deal::cli::write_failed"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A file is read on a thread of its own, standard input on the engine's:
/// the two must say exactly the same, bad lines and rejects included.
#[test]
fn a_file_and_standard_input_give_the_same_run() {
    let mut events = offers(3000);
    events.push_str("{not json\n");
    events.push_str(&lines(&[
        r#"{"at":"2025-03-31","event":"revenue","amount":"1000 USD"}"#,
        r#"{"at":"2025-03-30","event":"revenue","amount":"1 USD"}"#,
    ]));
    events.push_str("\n\n{\"at\":\"2025-04-01\",\"event\":\"ip_use\",\"product\":\"Caf\u{e9}\"}");
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let file = dir.join(format!("same-run-{}.jsonl", std::process::id()));
    std::fs::write(&file, &events).unwrap();
    let file_text = file.to_string_lossy().into_owned();
    for extra in [
        &[][..],
        &["--rejects", "/dev/null"][..],
        &["--at", "2025-02-03"][..],
    ] {
        let mut from_file = vec![
            "run",
            REFERENCE,
            "--events",
            file_text.as_str(),
            "--format",
            "json",
        ];
        from_file.extend_from_slice(extra);
        let a = deal(&from_file, "");
        let b = reference(&events, extra);
        assert_eq!(a.code, b.code, "{extra:?}: {}\n{}", a.stderr, b.stderr);
        // A stopped run's report names the file it stopped in.
        assert_eq!(a.stdout.replace(&file_text, "<stdin>"), b.stdout, "{extra:?}");
        // Words only: a message naming the file wraps where its name ends.
        let words = |t: &str| {
            t.split(|c: char| c.is_whitespace() || c == '│')
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            words(&a.stderr.replace(&file_text, "<stdin>")),
            words(&b.stderr),
            "{extra:?}"
        );
    }
    let _ = std::fs::remove_file(&file);
}

#[test]
fn what_became_of_an_instance_is_recalled_for_three_months() {
    let taken = |contract_at: &str| {
        let events = lines(&[
            r#"{"at":"2025-01-21","event":"cloud_terms_amended"}"#,
            r#"{"at":"2025-03-01","event":"cloud_offer","ref":"x","price":"10 USD"}"#,
            r#"{"at":"2025-03-10","event":"cloud_offer_accepted","ref":"x"}"#,
            &format!(r#"{{"at":"{contract_at}","event":"cloud_contract","provider":"Oracle","ref":"x"}}"#),
        ]);
        let out = reference(&events, &[]);
        assert_eq!(out.code, 1, "{}", out.stderr);
        breaches(&out.json())[0]["reason"].as_str().unwrap().to_string()
    };
    let within = taken("2025-06-01");
    assert!(
        within.contains("took up cloud_offer `x` by cloud_offer_accepted on 2025-03-10"),
        "{within}"
    );
    let beyond = taken("2025-07-01");
    assert!(
        beyond.contains("is open or closed in the last 92 days (older ones are not recalled)"),
        "{beyond}"
    );
}

/// Runs `deal` on another thread, failing the test rather than hanging it.
fn run_within(
    contract: &'static str,
    events: &'static [&'static str],
    extra: &'static [&'static str],
) -> Output {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(run(contract, events, extra));
    });
    rx.recv_timeout(std::time::Duration::from_secs(60))
        .expect("deal finishes within a minute")
}

/// A correction can arrive while an amount is still growing from nothing,
/// or once it is paid up to date: it takes back from what is owed, and
/// the run ends.
#[test]
fn a_negative_amount_beside_a_growing_one_ends() {
    let out = run_within(
        "contracts/conformance/latedeliveryandpenalty.deal",
        &[
            r#"{"at":"2018-10-11","event":"delivery_due","goods_value":"100 USD"}"#,
            r#"{"at":"2018-10-11","event":"delivery_due","goods_value":"-100 USD"}"#,
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = run_within(
        "tests/fixtures/credits.deal",
        &[
            r#"{"at":"2025-01-01","event":"drawdown","amount":"1000 USD"}"#,
            r#"{"at":"2025-01-06","event":"payment","from":"Borrower","to":"Lender","amount":"1005 USD"}"#,
            r#"{"at":"2025-01-06","event":"drawdown","amount":"-10 USD"}"#,
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    // Everything owed was paid: the correction has nothing to take back,
    // and a reversal never becomes a credit.
    assert_eq!(report["balances"][0]["accrued"], "1005.00", "{report}");
    let out = run_within(
        "tests/fixtures/credits.deal",
        &[r#"{"at":"2025-01-29","event":"drawdown","amount":"-54 USD"}"#],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
}

/// A growing amount paid off is fulfilled since the payment, however
/// often it is worked out again afterwards.
#[test]
fn a_paid_off_growing_amount_is_fulfilled_since_the_payment() {
    let out = run(
        "contracts/conformance/latedeliveryandpenalty.deal",
        &[
            r#"{"at":"2020-08-27","event":"delivery_due","goods_value":"1000 USD"}"#,
            r#"{"at":"2020-08-28","event":"payment","from":"Dan","to":"Steve","amount":"5000 USD"}"#,
        ],
        &[],
    );
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let rows = norms(&report, "late_delivery_penalty", "obligation");
    assert_eq!(rows.len(), 1, "{report}");
    assert_eq!(rows[0]["state"], "fulfilled");
    assert_eq!(rows[0]["since"], "2020-08-28");
}

/// With a horizon of zero, an id is still known for the rest of its instant.
#[test]
fn a_zero_horizon_still_knows_the_same_instant() {
    let line = |id: &str, fee: &str| {
        format!(r#"{{"at":"2025-01-31","id":"{id}","event":"monthly_invoice","fee":"{fee} USD"}}"#)
    };
    let (a, b) = (line("a", "10"), line("b", "20"));
    let out = deal(
        &[
            "run",
            "contracts/saas.deal",
            "--events",
            "-",
            "--format",
            "json",
            "--dedup-horizon",
            "0 days",
        ],
        &lines(&[&a, &b, &a]),
    );
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["events"]["applied"], 2, "{report}");
    assert_eq!(report["events"]["duplicates"], 1);
}

/// A line of nothing but spaces is blank, however long; it is not an event
/// too long to read.
#[test]
fn a_long_blank_line_is_blank() {
    let events = format!(
        "{}\n{}\n{}\n",
        r#"{"at":"2025-01-21","event":"cloud_terms_amended"}"#,
        " ".repeat(3 << 20),
        r#"{"at":"2025-01-22","event":"cloud_terms_amended"}"#
    );
    let out = deal(&["run", REFERENCE, "--events", "-", "--format", "json"], &events);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(report["events"]["applied"], 2);
}

//! Time events: amounts and norms that arise by time alone, raised by the
//! clock with no event in the stream.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "a test fails by panicking"
)]

mod common;

use common::{breaches, deal, run};

const SUPPLY: &str = "tests/fixtures/time/supply.deal";

fn kilnworks_owes(report: &serde_json::Value, field: &str) -> String {
    let rows = report["balances"].as_array().unwrap();
    let row = rows
        .iter()
        .find(|b| b["from"] == "Kilnworks" && b["to"] == "Ferrocast")
        .unwrap_or_else(|| panic!("no Kilnworks→Ferrocast balance in {rows:?}"));
    row[field].as_str().unwrap().to_string()
}

#[test]
fn the_annual_fee_falls_due_on_each_first_day_of_the_term_with_no_event() {
    let out = run(SUPPLY, &[], &["--at", "2025-05-15"]);
    let r = out.json();
    assert_eq!(kilnworks_owes(&r, "accrued"), "12000.00", "{r:#}");
    assert_eq!(kilnworks_owes(&r, "overdue"), "12000.00", "{r:#}");
    let out = run(SUPPLY, &[], &["--at", "2026-04-01"]);
    let r = out.json();
    // A second year of the term, and four quarters short of the whole
    // minimum, nothing delivered: 2 × 12000 + 4 × 3000.
    assert_eq!(kilnworks_owes(&r, "accrued"), "36000.00", "{r:#}");
}

#[test]
fn a_quarter_short_of_the_minimum_owes_the_shortfall_at_its_end() {
    let events = [
        r#"{"at":"2025-04-10","event":"payment","from":"Kilnworks","to":"Ferrocast","amount":"12000 USD"}"#,
        r#"{"at":"2025-05-03","event":"delivery","units":"400"}"#,
        r#"{"at":"2025-06-30T23:59:00Z","event":"delivery","units":"500"}"#,
        r#"{"at":"2025-07-01","event":"delivery","units":"2000"}"#,
    ];
    let r = run(SUPPLY, &events, &["--at", "2025-07-02"]).json();
    // 100 units short in the second quarter, at 3 USD; the delivery on the
    // first day of the third counts for the third.
    assert_eq!(kilnworks_owes(&r, "accrued"), "12300.00", "{r:#}");
    let r = run(SUPPLY, &events, &["--at", "2025-10-01"]).json();
    assert_eq!(kilnworks_owes(&r, "accrued"), "12300.00", "{r:#}");
    assert_eq!(kilnworks_owes(&r, "overdue"), "300.00", "{r:#}");
}

#[test]
fn an_obligation_made_at_each_month_end_is_breached_when_nothing_follows() {
    let events = [r#"{"at":"2025-05-04","event":"report"}"#];
    let r = run(SUPPLY, &events, &["--at", "2025-06-30"]).json();
    let b: Vec<_> = breaches(&r)
        .into_iter()
        .filter(|b| b["clause"] == "reporting")
        .collect();
    // April's report came in time; May's, due by 6 June, did not.
    assert_eq!(b.len(), 1, "{b:#?}");
}

#[test]
fn nothing_arises_after_the_deal_ends() {
    let r = run(SUPPLY, &[], &["--at", "2030-01-01"]).json();
    // Two years of fees, and eight quarters of the full shortfall.
    assert_eq!(kilnworks_owes(&r, "accrued"), "48000.00", "{r:#}");
}

#[test]
fn a_state_saved_between_two_ticks_carries_on_as_one_run() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("time_triggers_state");
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("supply.state");
    let _ = std::fs::remove_file(&state);
    let first = dir.join("first.jsonl");
    let second = dir.join("second.jsonl");
    let all = dir.join("all.jsonl");
    let a = r#"{"at":"2025-05-03","event":"delivery","units":"400"}"#;
    let b = r#"{"at":"2025-08-03","event":"delivery","units":"900"}"#;
    std::fs::write(&first, format!("{a}\n")).unwrap();
    std::fs::write(&second, format!("{a}\n{b}\n")).unwrap();
    std::fs::write(&all, format!("{a}\n{b}\n")).unwrap();
    let s = state.to_str().unwrap();
    let once = deal(
        &[
            "run",
            SUPPLY,
            "--events",
            all.to_str().unwrap(),
            "--format",
            "json",
        ],
        "",
    );
    deal(
        &[
            "run",
            SUPPLY,
            "--events",
            first.to_str().unwrap(),
            "--state",
            s,
            "--format",
            "json",
        ],
        "",
    );
    let resumed = deal(
        &[
            "run",
            SUPPLY,
            "--events",
            second.to_str().unwrap(),
            "--state",
            s,
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(once.stdout, resumed.stdout, "{}", resumed.stderr);
}

#[test]
fn a_period_written_as_an_event_is_taught_the_time_form() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join("for_each_quarter.deal");
    std::fs::write(
        &path,
        "deal \"x\"\n\nparties A, B\n\nevents\n  payment (from: party, to: party, amount: money)\n\nclause c\n  A owes B 10 USD for each quarter\n",
    )
    .unwrap();
    let out = deal(&["check", path.to_str().unwrap()], "");
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("at the end of each quarter"),
        "{}",
        out.stderr
    );
}

#[test]
fn time_events_are_formatted_as_their_own_fixed_point() {
    let out = deal(&["fmt", "--check", SUPPLY], "");
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
}

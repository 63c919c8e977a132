//! Bad event lines, the rejects file, and command-line errors.
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

const GOOD: &str = r#"{"at":"2025-03-31","event":"revenue","amount":"1000 USD"}"#;

/// Runs one good line, then `bad`, then a good line; the run stops at `bad`.
fn stops_at(bad: &str, code: &str, field_hint: &str) {
    let events = format!("{GOOD}\n{bad}\n{GOOD}\n");
    let out = reference(&events, &[]);
    assert_eq!(out.code, 2, "{bad}\n{}", out.stderr);
    assert!(
        out.stderr.contains(code),
        "expected {code} for {bad}:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("<stdin>:2:"),
        "names the line:\n{}",
        out.stderr
    );
    assert!(
        out.stderr.contains(field_hint),
        "expected `{field_hint}` in:\n{}",
        out.stderr
    );
    assert!(out.stderr.contains("help:"), "{}", out.stderr);
    // Everything before the bad line was applied and reported.
    let r = out.json();
    assert_eq!(r["events"]["applied"], 1);
    assert_eq!(r["events"]["rejected"], 1);
}

#[test]
fn a_line_that_is_not_json() {
    stops_at("{not json", "deal::event::not_json", "not a JSON object");
}

#[test]
fn a_line_that_is_not_an_object() {
    stops_at("[1, 2]", "deal::event::not_json", "object in braces");
}

#[test]
fn a_line_without_at() {
    stops_at(
        r#"{"event":"revenue","amount":"1 USD"}"#,
        "deal::event::missing_key",
        "`at`",
    );
}

#[test]
fn a_line_with_a_bad_date() {
    stops_at(
        r#"{"at":"2025-02-30","event":"revenue","amount":"1 USD"}"#,
        "deal::event::bad_at",
        "2025-02-30",
    );
}

#[test]
fn a_line_without_an_event_kind() {
    stops_at(
        r#"{"at":"2025-04-01","amount":"1 USD"}"#,
        "deal::event::missing_key",
        "`event`",
    );
}

#[test]
fn an_unknown_event_kind_is_named_with_a_suggestion() {
    stops_at(
        r#"{"at":"2025-04-01","event":"revenu","amount":"1 USD"}"#,
        "deal::event::unknown_kind",
        "did you mean `revenue`?",
    );
}

#[test]
fn a_missing_field_points_at_its_declaration() {
    stops_at(
        r#"{"at":"2025-04-01","event":"revenue"}"#,
        "deal::event::missing_field",
        "contracts/microsoft_openai.deal:35",
    );
}

#[test]
fn a_mistyped_field_points_at_its_declaration() {
    stops_at(
        r#"{"at":"2025-04-01","event":"revenue","amount":12}"#,
        "deal::event::bad_field",
        "money, required",
    );
}

#[test]
fn money_without_a_currency_is_mistyped() {
    stops_at(
        r#"{"at":"2025-04-01","event":"revenue","amount":"12.5"}"#,
        "deal::event::bad_field",
        "\"1500.00 USD\"",
    );
}

#[test]
fn a_bool_given_as_text_is_mistyped() {
    stops_at(
        r#"{"at":"2025-04-01","event":"profit_share_resolved","continues":"yes"}"#,
        "deal::event::bad_field",
        "true or false",
    );
}

#[test]
fn an_unknown_field_is_named_with_a_suggestion() {
    stops_at(
        r#"{"at":"2025-04-01","event":"revenue","amount":"1 USD","amout":"2 USD"}"#,
        "deal::event::unknown_field",
        "did you mean `amount`?",
    );
}

#[test]
fn a_party_field_must_name_a_party() {
    stops_at(
        r#"{"at":"2025-04-01","event":"payment","from":"Oracle","to":"Microsoft","amount":"1 USD"}"#,
        "deal::event::not_a_party",
        "Microsoft, OpenAI",
    );
}

#[test]
fn an_event_earlier_than_the_one_before_it() {
    stops_at(
        r#"{"at":"2025-01-01","event":"revenue","amount":"1 USD"}"#,
        "deal::event::out_of_order",
        "earlier than line 1",
    );
}

#[test]
fn an_id_must_be_text_or_a_whole_number() {
    stops_at(
        r#"{"at":"2025-04-01","event":"revenue","amount":"1 USD","id":{"x":1}}"#,
        "deal::event::bad_id",
        "not an id",
    );
}

#[test]
fn a_line_that_is_not_utf8() {
    let mut bytes = format!("{GOOD}\n").into_bytes();
    bytes.extend_from_slice(b"{\"at\":\"2025-04-01\",\"event\":\"revenue\",\"amount\":\"1 \xff\"}\n");
    let path = std::env::temp_dir().join(format!("deal-not-utf8-{}.jsonl", std::process::id()));
    std::fs::write(&path, bytes).unwrap();
    let out = deal(
        &[
            "run",
            REFERENCE,
            "--events",
            path.to_str().unwrap(),
            "--format",
            "json",
        ],
        "",
    );
    let _ = std::fs::remove_file(&path);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("deal::event::not_utf8"), "{}", out.stderr);
    assert_eq!(out.json()["events"]["applied"], 1);
}

#[test]
fn blank_lines_are_skipped() {
    let out = reference(&format!("\n{GOOD}\n\n"), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn numbers_are_read_exactly_from_their_text() {
    // A decimal field does not exist in the reference deal; money strings
    // carry the digits, and they must survive unchanged.
    let out = reference(
        r#"{"at":"2025-03-31","event":"revenue","amount":"0.1000000000000000000000001 USD"}"#,
        &[],
    );
    let r = out.json();
    assert!(
        same_amount(&balance(&r, "accrued"), "0.025000000000000000000000025"),
        "{}",
        balance(&r, "accrued")
    );
}

#[test]
fn rejects_lets_the_run_go_on_and_keeps_every_bad_line() {
    let path = std::env::temp_dir().join(format!("deal-rejects-{}.txt", std::process::id()));
    let bad1 = r#"{"at":"2025-04-01","event":"revenu","amount":"1 USD"}"#;
    let bad2 = "{oops";
    let events = format!("{GOOD}\n{bad1}\n{bad2}\n{GOOD}\n");
    let out = reference(&events, &["--rejects", path.to_str().unwrap()]);
    let kept = std::fs::read_to_string(&path).unwrap();
    let reasons_path = format!("{}.reasons.jsonl", path.display());
    let reasons = std::fs::read_to_string(&reasons_path).unwrap();
    let _ = std::fs::remove_file(&path);
    let _ = std::fs::remove_file(&reasons_path);
    assert_eq!(out.code, 0, "the lines set aside do not count against the events");
    let r = out.json();
    assert_eq!(r["events"]["applied"], 2);
    assert_eq!(r["events"]["rejected"], 2);
    // The lines only, verbatim: the file can be fed to a run as it is.
    assert_eq!(kept, format!("{bad1}\n{bad2}\n"));
    let reasons: Vec<&str> = reasons.lines().collect();
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(
        reasons[0].contains(r#""line":2,"code":"deal::event::unknown_kind""#),
        "{}",
        reasons[0]
    );
    assert!(
        reasons[1].contains(r#""line":3,"code":"deal::event::not_json""#),
        "{}",
        reasons[1]
    );
}

#[test]
fn a_missing_events_file_is_reported() {
    let out = deal(&["run", REFERENCE, "--events", "no/such/file.jsonl"], "");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("deal::cli::unreadable"), "{}", out.stderr);
}

#[test]
fn a_bad_at_argument_is_reported() {
    let out = deal(
        &[
            "run",
            REFERENCE,
            "--events",
            REFERENCE_EVENTS,
            "--at",
            "yesterday",
        ],
        "",
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("deal::cli::bad_at"), "{}", out.stderr);
}

#[test]
fn setting_an_unknown_term_suggests_the_right_one() {
    let out = deal(
        &[
            "run",
            REFERENCE,
            "--events",
            REFERENCE_EVENTS,
            "--set",
            "future_profit_rat=10%",
        ],
        "",
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("deal::cli::unknown_term"), "{}", out.stderr);
    assert!(
        out.stderr.contains("did you mean `future_profit_rate`?"),
        "{}",
        out.stderr
    );
}

#[test]
fn setting_a_term_to_a_value_of_the_wrong_type_is_refused() {
    let out = deal(
        &[
            "run",
            REFERENCE,
            "--events",
            REFERENCE_EVENTS,
            "--set",
            "future_profit_rate=10 USD",
        ],
        "",
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("deal::cli::bad_set"), "{}", out.stderr);
    let out = deal(
        &[
            "run",
            REFERENCE,
            "--events",
            REFERENCE_EVENTS,
            "--set",
            "future_profit_rate",
        ],
        "",
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("deal::cli::set_syntax"), "{}", out.stderr);
}

#[test]
fn a_wrong_command_line_gets_a_diagnostic() {
    let out = deal(&["run", REFERENCE], "");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("deal::cli::usage"), "{}", out.stderr);
    let out = deal(&["frobnicate"], "");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("deal::cli::usage"), "{}", out.stderr);
}

#[test]
fn a_missing_contract_is_reported() {
    let out = deal(&["check", "no/such.deal"], "");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("deal::cli::unreadable"), "{}", out.stderr);
}

#[test]
fn a_stream_delivered_twice_counts_once() {
    let stream = "{\"at\":\"2025-03-31\",\"id\":\"a\",\"event\":\"revenue\",\"amount\":\"1000 USD\"}\n\
                  {\"at\":\"2025-04-02\",\"id\":\"b\",\"event\":\"revenue\",\"amount\":\"10 USD\"}\n";
    let out = reference(&format!("{stream}{stream}"), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = out.json();
    assert_eq!(r["events"]["applied"], 2);
    assert_eq!(r["events"]["duplicates"], 2);
    assert!(same_amount(&balance(&r, "accrued"), "252.5"));
}

#[test]
fn check_reports_every_file_it_is_given() {
    let out = deal(
        &[
            "check",
            "tests/fixtures/bad_contracts/unknown_type.deal",
            REFERENCE,
            "tests/fixtures/bad_contracts/two_currencies.deal",
        ],
        "",
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("unknown_type.deal:"), "{}", out.stderr);
    assert!(out.stderr.contains("two_currencies.deal:"), "{}", out.stderr);
    assert!(
        out.stderr.contains("deal::check::open_term"),
        "the clean file's warning too"
    );
}

#[test]
fn diagnostics_can_be_narrated_for_screen_readers() {
    let out = deal(
        &[
            "check",
            "--error-format",
            "narrated",
            "tests/fixtures/bad_contracts/unknown_event.deal",
        ],
        "",
    );
    assert_eq!(out.code, 2);
    assert!(!out.stderr.contains('╭'), "no box drawing:\n{}", out.stderr);
    assert!(out.stderr.contains("unknown event `odrer`"), "{}", out.stderr);
    assert!(out.stderr.contains("did you mean `order`?"), "{}", out.stderr);
    assert!(out.stderr.contains("deal::check::unknown_name"), "{}", out.stderr);
}

#[test]
fn diagnostics_can_be_json_lines() {
    let out = deal(
        &[
            "check",
            "--error-format",
            "json",
            "tests/fixtures/bad_contracts/many_errors_at_once.deal",
        ],
        "",
    );
    assert_eq!(out.code, 2);
    let lines: Vec<serde_json::Value> = out
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 4, "{}", out.stderr);
    for d in &lines {
        assert!(d["code"].as_str().unwrap().starts_with("deal::"));
        assert!(d["line"].as_u64().unwrap() > 0);
        assert!(d["help"].is_string());
    }
}

#[test]
fn explain_prints_a_code_s_entry() {
    let out = deal(&["explain", "deal::event::out_of_order"], "");
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.contains("non-decreasing order of `at`"),
        "{}",
        out.stdout
    );
}

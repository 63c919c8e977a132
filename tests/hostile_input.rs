//! Input a careless or hostile producer might send: each is refused with a
//! diagnostic or shown for what it is, never taken silently.
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

const CURRENCIES: &str = "tests/fixtures/currencies.deal";
const ORDER: &str = r#"{"at":"2025-01-01","event":"order","ref":"po-1","price":"100 USD"}"#;

#[test]
fn a_payment_in_another_currency_is_held_with_a_warning() {
    let pay = r#"{"at":"2025-01-02","event":"payment","from":"Buyer","to":"Seller","amount":"50 EUR"}"#;
    let out = run(CURRENCIES, &[ORDER, pay], &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = out.json();
    let balances = report["balances"].as_array().unwrap();
    let usd = balances.iter().find(|b| b["currency"] == "USD").unwrap();
    assert_eq!(usd["outstanding"], "50.00", "nothing converted: {usd}");
    let eur = balances.iter().find(|b| b["currency"] == "EUR").unwrap();
    assert_eq!(eur["unapplied"], "50.00");
    assert_eq!(eur["owed_in"], serde_json::json!(["USD"]));
    let text = run_text(CURRENCIES, &[ORDER, pay], &[]);
    assert!(
        text.contains(
            "warning: 50.00 EUR paid, but Buyer owes Seller in USD only: held unapplied, not converted"
        ),
        "{text}"
    );
}

#[test]
fn a_currency_iso_4217_does_not_list_is_refused() {
    let bad = r#"{"at":"2025-01-01","event":"order","ref":"po-1","price":"100 USX"}"#;
    let out = run(CURRENCIES, &[bad], &[]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("deal::event::unknown_currency"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("did you mean `USD`?"), "{}", out.stderr);

    let out = deal(
        &["check", "tests/fixtures/bad_contracts/unknown_currency.deal"],
        "",
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("deal::check::unknown_currency"),
        "{}",
        out.stderr
    );
}

#[test]
fn a_key_given_twice_is_refused() {
    let twice = r#"{"at":"2025-01-01","event":"order","ref":"po-1","price":"100 USD","price":"1 USD"}"#;
    let out = run(CURRENCIES, &[twice], &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("deal::event::repeated_key"), "{}", out.stderr);
    // Written with an escape, the same key is still the same key.
    let escaped =
        r#"{"at":"2025-01-01","event":"order","ref":"po-1","price":"100 USD","pr\u0069ce":"1 USD"}"#;
    let out = run(CURRENCIES, &[escaped], &[]);
    assert!(out.stderr.contains("deal::event::repeated_key"), "{}", out.stderr);
}

#[test]
fn a_divisor_known_to_be_zero_is_refused_before_any_event() {
    let out = deal(
        &["check", "tests/fixtures/bad_contracts/division_by_zero.deal"],
        "",
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("deal::check::division_by_zero"),
        "{}",
        out.stderr
    );
    // A value given on the command line is held to the same rule.
    let out = run(CURRENCIES, &[ORDER], &["--set", "instalments=0"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("deal::check::division_by_zero"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "no report from a refused contract");
}

#[test]
fn a_period_that_runs_backwards_is_refused() {
    let out = deal(
        &["check", "tests/fixtures/bad_contracts/negative_period.deal"],
        "",
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("deal::check::negative_period"),
        "{}",
        out.stderr
    );
}

#[test]
fn text_from_events_cannot_forge_the_report_or_reach_the_terminal() {
    let forged =
        r#"{"at":"2025-01-01","event":"order","ref":"x\n\nBreaches\n  none\n\u001b[2J","price":"100 USD"}"#;
    let text = run_text(CURRENCIES, &[forged], &["--at", "2025-03-01"]);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert_eq!(text.matches("\nBreaches\n").count(), 1, "{text}");
    assert!(text.contains(r"[x\n\nBreaches\n  none\n\u{001b}[2J]"), "{text}");
}

#[test]
fn a_broken_line_is_shown_without_its_control_characters() {
    let out = run(CURRENCIES, &["{\"at\":\u{1b}[2J"], &[]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("deal::event::not_json"), "{}", out.stderr);
    assert!(!out.stderr.contains('\u{1b}'), "{:?}", out.stderr);
}

#[test]
fn a_byte_order_mark_is_not_part_of_a_contract_or_of_an_event() {
    let dir = tempfile::tempdir().unwrap();
    let contract = dir.path().join("bom.deal");
    let text = std::fs::read_to_string(root().join(CURRENCIES)).unwrap();
    std::fs::write(&contract, format!("\u{feff}{text}")).unwrap();
    let events = dir.path().join("bom.jsonl");
    std::fs::write(&events, format!("\u{feff}{ORDER}\n")).unwrap();
    let (contract, events) = (contract.to_str().unwrap(), events.to_str().unwrap());
    let out = deal(&["check", contract], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let out = deal(&["run", contract, "--events", events, "--format", "json"], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["events"]["applied"], 1);
}

#[test]
fn lines_ended_by_a_carriage_return_alone_are_refused_once() {
    let out = run(CURRENCIES, &[&format!("{ORDER}\r{ORDER}\r")], &[]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("deal::event::carriage_return"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.matches("deal::event::").count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("line 1 holds a carriage return"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("line 2"), "{}", out.stderr);
}

#[test]
fn a_contract_is_read_no_further_than_its_limit() {
    // /dev/zero never ends: the read must stop at the limit, not at the end.
    let out = deal(&["check", "/dev/zero"], "");
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("deal::cli::too_large"), "{}", out.stderr);
}

#[test]
fn names_are_unicode_and_composed_alike_in_contract_and_events() {
    const UNICODE: &str = "tests/fixtures/unicode.deal";
    // `Müller` with a combining diaeresis (NFD), as some systems send it.
    let order = "{\"at\":\"2025-01-01\",\"event\":\"bestellung\",\"ref\":\"a\",\"von\":\"Mu\u{308}ller\"}";
    let out = run(UNICODE, &[order], &["--at", "2025-02-01"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.json();
    assert_eq!(report["events"]["applied"], 1);
    assert_eq!(report["breaches"][0]["party"], "Ødegård", "{report}");
    let out = deal(&["check", UNICODE], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr.is_empty(),
        "no warning for names in one script: {}",
        out.stderr
    );
}

#[test]
fn a_name_that_mixes_scripts_is_warned_of() {
    let out = deal(&["check", "tests/fixtures/bad_contracts/mixed_script.deal"], "");
    assert_eq!(out.code, 0, "a warning, not an error: {}", out.stderr);
    assert!(out.stderr.contains("deal::check::mixed_script"), "{}", out.stderr);
    assert!(
        out.stderr.contains("mixes Latin and Cyrillic letters"),
        "{}",
        out.stderr
    );
}

//! Figures are exact, or rounded only where the contract says or where no
//! decimal can hold them — and then said to be; values given on the
//! command line pass the checks a written value passes.
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

const EXACT: &str = "tests/fixtures/exact.deal";

fn balance_in<'a>(report: &'a serde_json::Value, currency: &str) -> &'a serde_json::Value {
    report["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["currency"] == currency)
        .unwrap_or_else(|| panic!("no {currency} balance in {report}"))
}

#[test]
fn a_share_past_28_digits_is_rounded_and_said_to_be() {
    let out = run(
        EXACT,
        &[r#"{"at":"2025-01-01","event":"sale","amount":"999999999999999999999999999.9 USD"}"#],
        &["--set", "base=0 USD"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = out.json();
    let usd = balance_in(&report, "USD");
    // Exactly 249999999999999999999999999.975: no decimal holds it.
    assert_eq!(usd["accrued"], "249999999999999999999999999.98");
    assert_eq!(usd["rounded"], 1);
    let text = run_text(
        EXACT,
        &[r#"{"at":"2025-01-01","event":"sale","amount":"999999999999999999999999999.9 USD"}"#],
        &["--set", "base=0 USD"],
    );
    assert!(text.contains("no decimal holds this amount exactly"), "{text}");
}

#[test]
fn a_share_below_the_last_place_is_rounded_and_said_to_be() {
    let out = run(
        EXACT,
        &[r#"{"at":"2025-01-01","event":"sale","amount":"0.0000000000000000000000000001 GBP"}"#],
        &["--set", "base=0 USD"],
    );
    let report = out.json();
    let gbp = balance_in(&report, "GBP");
    assert_eq!(gbp["accrued"], "0.00");
    assert_eq!(gbp["rounded"], 1);
}

#[test]
fn a_third_is_exact_once_the_contract_rounds_it() {
    let out = run(
        EXACT,
        &[r#"{"at":"2025-01-01","event":"split","amount":"100 EUR"}"#],
        &["--set", "base=0 USD"],
    );
    let report = out.json();
    let cents = norms(&report, "cents", "obligation");
    assert_eq!(cents[0]["outstanding"], "33.33 EUR", "{report}");
    assert!(cents[0]["note"].is_null(), "{report}");
    let thirds = norms(&report, "thirds", "obligation");
    assert!(
        thirds[0]["note"].as_str().unwrap().contains("rounded"),
        "{report}"
    );
    // Two amounts in one ledger: one rounded, one exact.
    assert_eq!(balance_in(&report, "EUR")["rounded"], 1);
}

#[test]
fn an_exact_figure_says_nothing_of_rounding() {
    let out = run(
        EXACT,
        &[r#"{"at":"2025-01-01","event":"sale","amount":"1000.00 USD"}"#],
        &["--set", "base=0 USD"],
    );
    let report = out.json();
    let usd = balance_in(&report, "USD");
    assert_eq!(usd["accrued"], "250.00");
    assert!(usd.get("rounded").is_none(), "{report}");
}

#[test]
fn a_term_worked_out_from_a_set_one_is_worked_out_again() {
    let out = run(
        EXACT,
        &[r#"{"at":"2025-01-01","event":"fee"}"#],
        &["--set", "base=2000 USD"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let report = out.json();
    assert_eq!(balance_in(&report, "USD")["accrued"], "200.00", "{report}");
    // Worked out from an open term, `cap` is not open itself.
    let unset = run(EXACT, &[r#"{"at":"2025-01-01","event":"fee"}"#], &[]);
    assert_eq!(unset.json()["open_terms"], serde_json::json!(["base"]));
}

#[test]
fn a_value_given_on_the_command_line_passes_the_analyses() {
    let out = reference(
        "{\"at\":\"2025-01-21\",\"event\":\"cloud_terms_amended\"}\n",
        &["--set", "revenue_rate=250%"],
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("deal::check::over_shared"), "{}", out.stderr);
    assert!(out.stdout.is_empty());
}

#[test]
fn a_table_cannot_be_set() {
    let out = run("contracts/saas.deal", &[], &["--set", "credit_rates=5%"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("deal::cli::set_table"), "{}", out.stderr);
    let listed = run("contracts/saas.deal", &[], &[]);
    assert_eq!(
        listed.json()["open_terms"],
        serde_json::json!([]),
        "tables are not open terms"
    );
}

#[test]
fn a_sum_over_no_events_takes_the_currency_it_meets() {
    let out = run(
        "tests/fixtures/deductions.deal",
        &[
            r#"{"at":"2025-01-01","event":"inspection"}"#,
            r#"{"at":"2025-01-02","event":"invoice","fee":"100 USD"}"#,
            r#"{"at":"2025-01-03","event":"deduction","amount":"30 USD"}"#,
            r#"{"at":"2025-01-04","event":"invoice","fee":"100 USD"}"#,
        ],
        &[],
    );
    let report = out.json();
    // 100 with no deduction yet, then 100 less 30.
    assert_eq!(balance_in(&report, "USD")["accrued"], "170.00", "{report}");
    assert_eq!(balance_in(&report, "USD")["undetermined"], 0);
}

#[test]
fn a_deadline_from_the_event_that_made_it_is_kept() {
    let out = run(
        "tests/fixtures/deadlines.deal",
        &[r#"{"at":"2025-01-01","event":"forecast","qty":"5"}"#],
        &["--at", "2025-03-01"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.json();
    let b = breaches(&report);
    assert_eq!(b.len(), 1, "{report}");
    assert_eq!(b[0]["clause"], "orders");
    assert_eq!(b[0]["at"], "2025-01-31");
}

#[test]
fn a_deadline_past_the_calendar_is_refused() {
    let out = run(
        "tests/fixtures/deadlines.deal",
        &[r#"{"at":"9999-12-15","event":"forecast","qty":"5"}"#],
        &[],
    );
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("deal::event::cannot_apply"), "{}", out.stderr);
    assert!(out.stderr.contains("outside the calendar"), "{}", out.stderr);
}

#[test]
fn a_deadline_that_waits_on_an_open_term_says_so() {
    let out = run(
        "tests/fixtures/deadlines.deal",
        &[r#"{"at":"2025-01-01","event":"quote"}"#],
        &["--at", "2025-06-01"],
    );
    let report = out.json();
    let rows = norms(&report, "quotes", "obligation");
    assert_eq!(rows[0]["state"], "active");
    assert!(
        rows[0]["note"].as_str().unwrap().contains("open term"),
        "{report}"
    );
    // Set, the same obligation is breached.
    let out = run(
        "tests/fixtures/deadlines.deal",
        &[r#"{"at":"2025-01-01","event":"quote"}"#],
        &["--at", "2025-06-01", "--set", "lead=10 days"],
    );
    assert_eq!(breaches(&out.json()).len(), 1);
}

#[test]
fn an_amount_waiting_on_an_open_term_is_owed_and_possibly_breached_past_due() {
    let order = r#"{"at":"2025-01-01","event":"order","ref":"a"}"#;
    let out = run("tests/fixtures/open_fee.deal", &[order], &["--at", "2025-03-01"]);
    assert_eq!(out.code, 0, "not a certain breach: {}", out.stderr);
    let report = out.json();
    // Owed, in a currency not yet known: never dropped.
    let balance = &report["balances"][0];
    assert_eq!(balance["currency"], "undetermined", "{report}");
    assert_eq!(balance["undetermined"], 1);
    let norm = &report["norms"][0];
    assert_eq!(norm["state"], "undetermined", "{norm}");
    assert_eq!(norm["since"], "2025-01-12");
    assert_eq!(report["undetermined_past_due"], 1);
    let text = run_text("tests/fixtures/open_fee.deal", &[order], &["--at", "2025-03-01"]);
    assert!(
        text.contains("none certain: 1 amount(s) past due wait on an open term"),
        "{text}"
    );
    // Before its due date it is simply open.
    let out = run("tests/fixtures/open_fee.deal", &[order], &["--at", "2025-01-05"]);
    assert_eq!(out.json()["norms"][0]["state"], "active");
    // Set, the term decides it.
    let out = run(
        "tests/fixtures/open_fee.deal",
        &[order],
        &["--at", "2025-03-01", "--set", "fee=10 USD"],
    );
    assert_eq!(out.code, 1);
    assert_eq!(out.json()["norms"][0]["state"], "violated");
}

//! The language's newer phrasings, through the real CLI: payments owed once
//! or per event and phrased as duties to pay, amounts nothing settles.
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

const PAYMENTS: &str = "tests/fixtures/language/payments.deal";
const UNSETTLED: &str = "tests/fixtures/language/unsettled.deal";

fn pay(at: &str, amount: &str) -> String {
    format!(r#"{{"at":"{at}","event":"payment","from":"Borrower","to":"Lender","amount":"{amount}"}}"#)
}

fn row<'a>(r: &'a serde_json::Value, clause: &str) -> &'a serde_json::Value {
    let rows = norms(r, clause, "obligation");
    assert_eq!(rows.len(), 1, "{clause}: {rows:?}");
    rows[0]
}

#[test]
fn a_payment_owed_by_a_date_checks_clean() {
    let out = deal(&["check", PAYMENTS], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn paid_in_time_the_duty_to_pay_is_fulfilled() {
    let out = run(
        PAYMENTS,
        &[&pay("2025-01-10", "150 USD")],
        &["--at", "2025-03-01"],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    let r = out.json();
    assert_eq!(row(&r, "repayment")["state"], "fulfilled");
    assert_eq!(row(&r, "arrangement_fee")["state"], "fulfilled");
    assert!(breaches(&r).is_empty());
}

#[test]
fn unpaid_by_its_date_it_is_overdue_and_breached() {
    let out = run(PAYMENTS, &[&pay("2025-01-10", "60 USD")], &["--at", "2025-02-15"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let r = out.json();
    // The fee falls due first (30 days after 2025-01-01), so it is paid first.
    assert_eq!(row(&r, "arrangement_fee")["state"], "fulfilled");
    let repayment = row(&r, "repayment");
    assert_eq!(repayment["state"], "violated");
    assert_eq!(repayment["due"], "2025-02-01");
    assert_eq!(repayment["outstanding"], "90.00 USD");
    assert_eq!(repayment["summary"], "Borrower must pay Lender 100 USD");
    let b = breaches(&r);
    assert_eq!(b.len(), 1, "{b:?}");
    assert_eq!(b[0]["clause"], "repayment");
}

#[test]
fn owed_once_it_falls_due_counted_from_the_clause_start() {
    let out = run(PAYMENTS, &[], &["--at", "2025-01-15"]);
    let r = out.json();
    assert_eq!(row(&r, "arrangement_fee")["due"], "2025-01-31");
    assert_eq!(row(&r, "arrangement_fee")["state"], "active");
}

#[test]
fn owed_once_from_an_event_it_arises_with_the_event() {
    let out = run(
        PAYMENTS,
        &[r#"{"at":"2025-03-03","event":"drawdown"}"#],
        &["--at", "2025-03-20"],
    );
    let r = out.json();
    let fee = row(&r, "commitment_fee");
    assert_eq!(fee["state"], "violated", "{fee}");
    assert_eq!(fee["due"], "2025-03-13");
}

#[test]
fn a_duty_to_pay_per_event_reads_its_due_date_from_the_event() {
    let out = run(
        PAYMENTS,
        &[
            &pay("2025-01-02", "150 USD"),
            r#"{"at":"2025-02-10","event":"order","price":"40 USD","due":"2025-03-31"}"#,
        ],
        &["--at", "2025-03-15"],
    );
    let r = out.json();
    let o = row(&r, "orders");
    assert_eq!(o["due"], "2025-03-31");
    assert_eq!(o["state"], "active");
    assert_eq!(o["outstanding"], "40.00 USD");
}

#[test]
fn pay_without_an_event_says_what_was_meant() {
    let contract = "deal \"x\"\n\nparties A, B\n\nin force from 2025-01-01\n\nclause c\n  A must pay to B by 2025-02-01\n";
    let path = std::env::temp_dir().join(format!("deal-pay-{}.deal", std::process::id()));
    std::fs::write(&path, contract).unwrap();
    let out = deal(&["check", path.to_str().unwrap()], "");
    let _ = std::fs::remove_file(&path);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("`pay` is not an event"), "{}", out.stderr);
    assert!(
        out.stderr.contains("A must pay B 100 USD by 2025-02-01"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_amount_nothing_settles_is_a_warning_and_stays_outstanding() {
    let out = deal(&["check", UNSETTLED], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("nothing_settles"), "{}", out.stderr);
    let out = run(
        UNSETTLED,
        &[r#"{"at":"2025-01-05","event":"sale","amount":"1000 USD"}"#],
        &["--at", "2025-01-20"],
    );
    let r = out.json();
    let rows = norms(&r, "commission", "obligation");
    assert_eq!(rows[0]["outstanding"], "50.00 USD", "{rows:?}");
    assert_eq!(rows[0]["due"], "2025-02-04");
}

const CORRELATION: &str = "tests/fixtures/language/correlation.deal";

fn supply(events: &[&str]) -> serde_json::Value {
    let out = run(CORRELATION, events, &["--at", "2025-03-01"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    out.json()
}

fn due(at: &str, po: &str, price: &str) -> String {
    format!(r#"{{"at":"{at}","event":"delivery_due","po":"{po}","actual_price":"{price}"}}"#)
}

fn delivered(at: &str, po: &str) -> String {
    format!(r#"{{"at":"{at}","event":"delivered","po":"{po}"}}"#)
}

fn outstanding(r: &serde_json::Value, clause: &str) -> Vec<String> {
    norms(r, clause, "obligation")
        .iter()
        .filter_map(|n| n["outstanding"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn an_amount_for_each_event_with_the_same_key_reads_the_event_of_that_key() {
    let r = supply(&[
        &due("2025-02-01", "A", "1000 USD"),
        &due("2025-02-02", "B", "2000 USD"),
        &delivered("2025-02-11", "A"),
    ]);
    // Priced with the order of po A, not with the latest order.
    assert_eq!(outstanding(&r, "rebate"), ["100.00 USD"]);
}

#[test]
fn growing_until_an_event_with_the_same_key_stops_the_amount_of_that_key() {
    let r = supply(&[
        &due("2025-02-01", "A", "1000 USD"),
        &due("2025-02-02", "B", "2000 USD"),
        &delivered("2025-02-11", "B"),
        &delivered("2025-02-21", "A"),
    ]);
    // A grew 20 days at 1% of 1000; B 9 days at 1% of 2000.
    assert_eq!(outstanding(&r, "late_penalty"), ["200.00 USD", "180.00 USD"]);
}

#[test]
fn a_stop_of_a_key_that_came_first_stops_the_amount_as_it_arises() {
    let r = supply(&[
        &delivered("2025-01-20", "A"),
        &due("2025-02-01", "A", "1000 USD"),
        &due("2025-02-02", "B", "2000 USD"),
        &delivered("2025-02-11", "B"),
    ]);
    assert_eq!(outstanding(&r, "late_penalty"), ["180.00 USD"]);
}

#[test]
fn unless_an_event_with_the_same_key_first_pairs_by_key() {
    let r = supply(&[
        &due("2025-02-01", "A", "1000 USD"),
        &due("2025-02-02", "B", "2000 USD"),
        &delivered("2025-02-11", "B"),
    ]);
    let p = norms(&r, "termination", "permission");
    let states: Vec<&str> = p.iter().map(|n| n["state"].as_str().unwrap()).collect();
    // A's permission came into force 16 days after its due date; B's never will.
    assert_eq!(states, ["active", "inactive"], "{p:?}");
    assert_eq!(p[0]["since"], "2025-02-17");
}

#[test]
fn without_the_key_the_latest_event_is_read() {
    let text = std::fs::read_to_string(root().join(CORRELATION))
        .unwrap()
        .replace("for each delivered with the same po", "for each delivered");
    let path = std::env::temp_dir().join(format!("deal-nokey-{}.deal", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let out = run(
        path.to_str().unwrap(),
        &[
            &due("2025-02-01", "A", "1000 USD"),
            &due("2025-02-02", "B", "2000 USD"),
            &delivered("2025-02-11", "A"),
        ],
        &["--at", "2025-03-01"],
    );
    let _ = std::fs::remove_file(&path);
    assert_eq!(outstanding(&out.json(), "rebate"), ["200.00 USD"]);
}

#[test]
fn a_key_the_events_do_not_have_is_refused() {
    let text = std::fs::read_to_string(root().join(CORRELATION))
        .unwrap()
        .replace(
            "growing until delivered with the same po",
            "growing until delivered with the same ref",
        );
    let path = std::env::temp_dir().join(format!("deal-badkey-{}.deal", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let out = deal(&["check", path.to_str().unwrap()], "");
    let _ = std::fs::remove_file(&path);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("unknown field `ref`"), "{}", out.stderr);
}

const DATED_BY_TERMS: &str = "tests/fixtures/language/dated_by_terms.deal";

#[test]
fn a_term_of_the_contract_may_be_dated_by_its_terms() {
    let out = deal(&["check", DATED_BY_TERMS], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    // The deal runs from 2025-03-01 for two years, all of 2027-03-01 included.
    let r = run(DATED_BY_TERMS, &[], &["--at", "2027-03-01"]).json();
    assert_eq!(clause_state(&r, "rent_deposit"), "active");
    let r = run(DATED_BY_TERMS, &[], &["--at", "2027-03-02"]).json();
    assert_eq!(clause_state(&r, "rent_deposit"), "ended");
    // The clause starts ten days in: its deposit is due five days later.
    let fee = norms(&r, "rent_deposit", "obligation");
    assert_eq!(fee[0]["due"], "2025-03-16", "{fee:?}");
}

#[test]
fn a_term_of_the_contract_is_dated_by_the_terms_as_written() {
    // `in force` dates are worked out as the contract is checked: `--set`
    // does not move them.
    let r = run(
        DATED_BY_TERMS,
        &[],
        &["--at", "2025-03-20", "--set", "effective_date=2025-03-05"],
    )
    .json();
    let fee = norms(&r, "rent_deposit", "obligation");
    assert_eq!(fee[0]["due"], "2025-03-16", "{fee:?}");
}

#[test]
fn an_event_accrues_everything_before_it_takes_anything_back_in_any_clause_order() {
    let invoice = r#"{"at":"2025-01-10","event":"invoice","amount":"5000 USD","credit":"500 USD"}"#;
    for contract in [
        "tests/fixtures/language/reversal_first.deal",
        "tests/fixtures/language/reversal_last.deal",
    ] {
        let r = run(contract, &[invoice], &["--at", "2025-01-20"]).json();
        let b = &r["balances"][0];
        assert_eq!(b["outstanding"], "4500.00", "{contract}: {b}");
    }
}

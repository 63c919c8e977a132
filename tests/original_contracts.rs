//! The three original contracts, each kept and broken, through the real CLI.
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

fn row(r: &serde_json::Value, from: &str, to: &str, field: &str) -> String {
    r["balances"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["from"] == from && b["to"] == to)
        .unwrap_or_else(|| panic!("no {from}→{to} balance in {}", r["balances"]))[field]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn each_original_contract_checks_clean_and_its_events_keep_it() {
    for name in ["software_licence", "distribution", "saas"] {
        let contract = format!("contracts/{name}.deal");
        let check = deal(&["check", &contract], "");
        assert_eq!(check.code, 0, "{name}: {}", check.stderr);
        assert!(
            check.stderr.is_empty(),
            "{name} draws warnings:\n{}",
            check.stderr
        );
        let events = format!("contracts/{name}.events.jsonl");
        let out = deal(&["run", &contract, "--events", &events, "--format", "json"], "");
        assert_eq!(out.code, 0, "{name}:\n{}\n{}", out.stdout, out.stderr);
    }
}

// ------------------------------------------------------------ software licence

const LICENCE: &str = "contracts/software_licence.deal";
const YEAR: &str = r#"{"at":"2025-01-01","event":"licence_year_opened"}"#;

#[test]
fn royalties_follow_the_tiers_across_reports() {
    let out = run(
        LICENCE,
        &[
            YEAR,
            r#"{"at":"2025-03-31","event":"sales_report","sales":"900000.00 USD"}"#,
            r#"{"at":"2025-06-30","event":"sales_report","sales":"4500000.00 USD"}"#,
            r#"{"at":"2025-09-30","event":"sales_report","sales":"600000.00 USD"}"#,
        ],
        &["--at", "2025-10-01"],
    );
    let r = out.json();
    // 8% of 1M + 6% of 4M + 4% of 1M on 6M of sales in the year.
    assert!(
        same_amount(&row(&r, "Harbor", "Nimbus", "accrued"), "360000"),
        "{}",
        r["balances"]
    );
}

#[test]
fn a_royalty_unpaid_on_its_due_date_is_a_breach() {
    let out = run(
        LICENCE,
        &[
            YEAR,
            r#"{"at":"2025-03-31","event":"sales_report","sales":"100000.00 USD"}"#,
        ],
        &["--at", "2025-05-01"],
    );
    assert_eq!(out.code, 1);
    let b = breaches(&out.json());
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["clause"], "royalties");
    assert_eq!(b[0]["party"], "Harbor");
    assert_eq!(b[0]["at"], "2025-04-30");
}

#[test]
fn a_year_below_the_minimum_owes_the_shortfall() {
    let out = run(
        LICENCE,
        &[
            YEAR,
            r#"{"at":"2025-03-31","event":"sales_report","sales":"250000.00 USD"}"#,
            r#"{"at":"2025-04-10","event":"payment","from":"Harbor","to":"Nimbus","amount":"20000.00 USD"}"#,
            r#"{"at":"2025-12-31","event":"licence_year_closed"}"#,
        ],
        &["--at", "2026-01-15"],
    );
    assert_eq!(out.code, 0);
    let r = out.json();
    // 20,000 of royalties against a 60,000 minimum.
    assert!(
        same_amount(&row(&r, "Harbor", "Nimbus", "outstanding"), "40000"),
        "{}",
        r["balances"]
    );
    let late = run(
        LICENCE,
        &[
            YEAR,
            r#"{"at":"2025-03-31","event":"sales_report","sales":"250000.00 USD"}"#,
            r#"{"at":"2025-04-10","event":"payment","from":"Harbor","to":"Nimbus","amount":"20000.00 USD"}"#,
            r#"{"at":"2025-12-31","event":"licence_year_closed"}"#,
        ],
        &["--at", "2026-02-01"],
    );
    assert_eq!(late.code, 1);
    assert_eq!(breaches(&late.json())[0]["clause"], "annual_minimum");
}

#[test]
fn records_must_be_opened_after_an_audit_notice() {
    let kept = run(
        LICENCE,
        &[
            r#"{"at":"2026-02-02","event":"audit"}"#,
            r#"{"at":"2026-02-22","event":"grant_access"}"#,
        ],
        &["--at", "2026-03-31"],
    );
    assert_eq!(kept.code, 0, "day 20 is in time");
    let broken = run(
        LICENCE,
        &[r#"{"at":"2026-02-02","event":"audit"}"#],
        &["--at", "2026-03-31"],
    );
    assert_eq!(broken.code, 1);
    let b = breaches(&broken.json());
    assert_eq!(b[0]["clause"], "audit_right");
    assert_eq!(b[0]["party"], "Harbor");
    assert_eq!(b[0]["at"], "2026-02-22");
}

#[test]
fn an_audit_finding_above_the_threshold_adds_the_audit_cost() {
    let small = run(
        LICENCE,
        &[
            r#"{"at":"2026-03-02","event":"audit_finding","underpaid":"5000.00 USD","reported":"100000.00 USD"}"#,
        ],
        &[],
    );
    assert!(same_amount(
        &row(&small.json(), "Harbor", "Nimbus", "accrued"),
        "5000"
    ));
    let large = run(
        LICENCE,
        &[
            r#"{"at":"2026-03-02","event":"audit_finding","underpaid":"5000.01 USD","reported":"100000.00 USD"}"#,
        ],
        &[],
    );
    assert!(same_amount(
        &row(&large.json(), "Harbor", "Nimbus", "accrued"),
        "20000.01"
    ));
}

// ------------------------------------------------------------ distribution

const DISTRIBUTION: &str = "contracts/distribution.deal";

#[test]
fn appointing_another_distributor_in_the_home_territory_is_a_breach() {
    let out = run(
        DISTRIBUTION,
        &[
            r#"{"at":"2025-02-01","event":"appointment","distributor":"Baltic Instruments","territory":"Baltics"}"#,
            r#"{"at":"2025-02-02","event":"appointment","distributor":"Nordic","territory":"Nordics"}"#,
            r#"{"at":"2025-02-03","event":"appointment","distributor":"Scandi Tools","territory":"Nordics"}"#,
        ],
        &[],
    );
    assert_eq!(out.code, 1);
    let b = breaches(&out.json());
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["clause"], "territorial_exclusivity");
    assert_eq!(b[0]["party"], "Alpine");
    assert_eq!(b[0]["line"], 3);
}

#[test]
fn a_new_territory_must_be_offered_to_nordic_first() {
    let out = run(
        DISTRIBUTION,
        &[
            r#"{"at":"2025-04-01","event":"territory_deal","distributor":"Rhein Messtechnik","territory":"DACH","fee":"1 EUR"}"#,
        ],
        &[],
    );
    assert_eq!(out.code, 1);
    assert_eq!(breaches(&out.json())[0]["clause"], "new_territories");
    let lapsed = run(
        DISTRIBUTION,
        &[
            r#"{"at":"2025-04-01","event":"territory_offer","territory":"DACH","fee":"100000 EUR"}"#,
            r#"{"at":"2025-05-17","event":"territory_deal","distributor":"Rhein Messtechnik","territory":"DACH","fee":"100000 EUR"}"#,
        ],
        &[],
    );
    assert_eq!(lapsed.code, 0, "45 days passed unanswered: {}", lapsed.stdout);
    let early = run(
        DISTRIBUTION,
        &[
            r#"{"at":"2025-04-01","event":"territory_offer","territory":"DACH","fee":"100000 EUR"}"#,
            r#"{"at":"2025-05-16","event":"territory_deal","distributor":"Rhein Messtechnik","territory":"DACH","fee":"100000 EUR"}"#,
        ],
        &[],
    );
    assert_eq!(early.code, 1, "day 45 is still Nordic's");
}

#[test]
fn a_quarter_below_the_minimum_owes_the_shortfall() {
    let events = [
        r#"{"at":"2025-02-01","event":"purchase_order","amount":"100000.00 EUR"}"#,
        r#"{"at":"2025-03-01","event":"payment","from":"Nordic","to":"Alpine","amount":"100000.00 EUR"}"#,
        r#"{"at":"2025-03-31","event":"quarter_closed"}"#,
        r#"{"at":"2025-04-05","event":"purchase_order","amount":"300000.00 EUR"}"#,
        r#"{"at":"2025-05-01","event":"payment","from":"Nordic","to":"Alpine","amount":"300000.00 EUR"}"#,
        r#"{"at":"2025-06-30","event":"quarter_closed"}"#,
    ];
    let out = run(DISTRIBUTION, &events, &["--at", "2025-04-15"]);
    let r = out.json();
    assert!(
        same_amount(&row(&r, "Nordic", "Alpine", "accrued"), "550000"),
        "{}",
        r["balances"]
    );
    // The Q1 shortfall of 150,000 was still unpaid on 30 April; the payment
    // of 1 May settles it first, leaving 150,000 of the April order unpaid
    // when that falls due.
    let out = run(DISTRIBUTION, &events, &["--at", "2025-07-31"]);
    assert_eq!(out.code, 1);
    let b = breaches(&out.json());
    assert_eq!(b.len(), 2, "{b:?}");
    assert_eq!(b[0]["clause"], "minimum_purchases");
    assert_eq!(b[0]["at"], "2025-04-30");
    assert_eq!(b[1]["clause"], "purchases");
    assert_eq!(b[1]["at"], "2025-06-04");
    assert!(b[1]["reason"].as_str().unwrap().starts_with("150000.00 EUR"));
}

#[test]
fn an_invoice_paid_late_bears_a_charge_on_what_was_overdue() {
    let events = [
        r#"{"at":"2025-01-10","event":"purchase_order","amount":"300000.00 EUR"}"#,
        r#"{"at":"2025-03-01","event":"payment","from":"Nordic","to":"Alpine","amount":"100000.00 EUR"}"#,
    ];
    let out = run(DISTRIBUTION, &events, &["--at", "2025-03-31"]);
    assert_eq!(out.code, 1);
    let r = out.json();
    let b = breaches(&r);
    assert_eq!(b[0]["clause"], "purchases");
    assert_eq!(b[0]["at"], "2025-03-11");
    // 300,000 owed, 100,000 paid on time, 200,000 overdue: 2% of it is 4,000.
    assert!(
        same_amount(&row(&r, "Nordic", "Alpine", "accrued"), "304000"),
        "{}",
        r["balances"]
    );
    let charge = r["norms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["clause"] == "late_payment" && n["state"] != "inactive")
        .unwrap();
    // The breach takes effect as 11 March ends; the charge is due 60 days on.
    assert_eq!(charge["due"], "2025-05-11");
    assert_eq!(charge["outstanding"], "4000.00 EUR");
}

#[test]
fn breaches_cannot_be_sent_as_events() {
    let out = run(
        DISTRIBUTION,
        &[r#"{"at":"2025-01-10","event":"breach of purchases","party":"Nordic"}"#],
        &[],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("deal finds breaches itself"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_empty_quarter_owes_the_whole_minimum() {
    let out = run(
        DISTRIBUTION,
        &[r#"{"at":"2025-03-31","event":"quarter_closed"}"#],
        &[],
    );
    assert!(same_amount(
        &row(&out.json(), "Nordic", "Alpine", "accrued"),
        "250000"
    ));
}

// ------------------------------------------------------------ SaaS

const SAAS: &str = "contracts/saas.deal";

fn uptime(at: &str, pct: &str) -> String {
    format!(r#"{{"at":"{at}","event":"uptime_report","uptime":"{pct}","fee":"40000.00 USD"}}"#)
}

#[test]
fn credits_follow_the_table_and_the_cap() {
    let events = [
        uptime("2025-02-01", "99.0%"),
        uptime("2025-03-01", "98.99%"),
        uptime("2025-04-01", "50%"),
    ];
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    let r = run(SAAS, &refs, &[]).json();
    // 10% + 25% + 50% capped to 30%, of 40,000 each.
    assert!(
        same_amount(&row(&r, "Cloudwise", "Meridian", "accrued"), "26000"),
        "{}",
        r["balances"]
    );
}

#[test]
fn a_third_failure_within_twelve_months_opens_the_right_to_terminate() {
    let events = [
        uptime("2025-02-01", "99.0%"),
        uptime("2025-06-01", "98.0%"),
        uptime("2025-11-01", "97.0%"),
        r#"{"at":"2025-11-15","event":"terminate"}"#.to_string(),
    ];
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    let out = run(SAAS, &refs, &["--set", "credit_terms=365 days"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let r = out.json();
    assert_eq!(clause_state(&r, "termination_right"), "ended");
    assert_eq!(clause_state(&r, "no_early_termination"), "ended");
    assert_eq!(clause_state(&r, "subscription"), "ended");
}

#[test]
fn terminating_before_the_third_failure_is_a_breach() {
    let events = [
        uptime("2025-02-01", "99.0%"),
        uptime("2025-06-01", "98.0%"),
        r#"{"at":"2025-07-01","event":"terminate"}"#.to_string(),
    ];
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    let out = run(SAAS, &refs, &["--set", "credit_terms=365 days"]);
    assert_eq!(out.code, 1);
    let b = breaches(&out.json());
    assert_eq!(b[0]["clause"], "no_early_termination");
    assert_eq!(b[0]["party"], "Meridian");
}

#[test]
fn failures_more_than_twelve_months_apart_do_not_add_up() {
    let events = [
        uptime("2025-01-01", "99.0%"),
        uptime("2025-06-01", "98.0%"),
        uptime("2026-01-02", "97.0%"),
    ];
    let refs: Vec<&str> = events.iter().map(String::as_str).collect();
    let r = run(SAAS, &refs, &["--set", "credit_terms=365 days"]).json();
    assert_eq!(clause_state(&r, "termination_right"), "inactive");
}

#[test]
fn an_unpaid_invoice_is_a_breach_by_meridian() {
    let out = run(
        SAAS,
        &[r#"{"at":"2025-01-31","event":"monthly_invoice","fee":"40000.00 USD"}"#],
        &["--at", "2025-02-16"],
    );
    assert_eq!(out.code, 1);
    let b = breaches(&out.json());
    assert_eq!(b[0]["clause"], "subscription");
    assert_eq!(b[0]["party"], "Meridian");
    assert_eq!(b[0]["at"], "2025-02-15");
}

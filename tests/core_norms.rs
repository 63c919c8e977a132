//! Each core norm written directly, through the real CLI.
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

const SUPPLY: &str = "tests/fixtures/supply.deal";

fn supply(events: &[&str], extra: &[&str]) -> Output {
    run(SUPPLY, events, extra)
}

fn rows<'a>(r: &'a serde_json::Value, clause: &str) -> Vec<&'a serde_json::Value> {
    r["norms"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["clause"] == clause)
        .collect()
}

const DEPOSIT: &str = r#"{"at":"2025-01-02","event":"deposit","amount":"100 USD"}"#;

#[test]
fn the_fixture_checks_clean() {
    let out = deal(&["check", SUPPLY], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
}

#[test]
fn an_obligation_met_in_time_is_fulfilled() {
    let (out, history) = run_with_history(
        SUPPLY,
        &[
            DEPOSIT,
            r#"{"at":"2025-01-05","event":"order","ref":"A","qty":3}"#,
            r#"{"at":"2025-01-15","event":"deliver","ref":"A"}"#,
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    let r = out.json();
    // Closed instances are reported as a count per state ...
    let d = rows(&r, "delivery");
    assert_eq!(d.len(), 1);
    assert_eq!(d[0]["state"], "fulfilled");
    assert_eq!(d[0]["count"], 1);
    assert!(d[0]["key"].is_null());
    assert_eq!(d[0]["since"], "2025-01-15");
    // ... and one by one in the history.
    let h = instance_records(&history, "delivery");
    assert_eq!(h.len(), 2, "{h:?}");
    assert_eq!(
        (&h[0]["from"], &h[0]["to"]),
        (&"inactive".into(), &"active".into())
    );
    assert_eq!(h[0]["line"], 2);
    assert_eq!(h[1]["to"], "fulfilled");
    assert_eq!(h[1]["due"], "2025-01-15");
    assert_eq!(h[1]["key"], "A");
    assert_eq!(h[1]["line"], 3);
}

#[test]
fn a_missed_deadline_is_a_breach_at_its_own_moment() {
    let out = supply(
        &[
            DEPOSIT,
            r#"{"at":"2025-01-05","event":"order","ref":"B","qty":3}"#,
            r#"{"at":"2025-03-01","event":"deliver","ref":"B"}"#,
        ],
        &[],
    );
    assert_eq!(out.code, 1);
    let r = out.json();
    let b = breaches(&r);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["clause"], "delivery");
    assert_eq!(b[0]["party"], "Seller");
    assert_eq!(b[0]["at"], "2025-01-15");
    assert!(b[0]["line"].is_null());
    let d = rows(&r, "delivery");
    assert_eq!(d[0]["state"], "violated");
    assert_eq!(d[0]["since"], "2025-01-16");
    assert!(d[0]["note"].as_str().unwrap().contains("performed late"));
}

#[test]
fn a_delivery_for_another_order_does_not_count() {
    let out = supply(
        &[
            DEPOSIT,
            r#"{"at":"2025-01-05","event":"order","ref":"A","qty":3}"#,
            r#"{"at":"2025-01-06","event":"deliver","ref":"Z"}"#,
        ],
        &["--at", "2025-01-20"],
    );
    assert_eq!(out.code, 1);
}

#[test]
fn a_condition_on_the_trigger_decides_whether_an_instance_arises() {
    let out = supply(
        &[
            DEPOSIT,
            r#"{"at":"2025-01-05","event":"order","ref":"A","qty":0.5}"#,
        ],
        &["--at", "2025-06-01"],
    );
    assert_eq!(out.code, 0);
    let r = out.json();
    assert_eq!(rows(&r, "delivery")[0]["state"], "inactive");
}

#[test]
fn a_suspension_stops_the_clock() {
    let (out, history) = run_with_history(
        SUPPLY,
        &[
            DEPOSIT,
            r#"{"at":"2025-02-01","event":"order","ref":"C","qty":3}"#,
            r#"{"at":"2025-02-05","event":"dispute"}"#,
            r#"{"at":"2025-02-10","event":"settled"}"#,
            r#"{"at":"2025-02-15","event":"deliver","ref":"C"}"#,
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    let r = out.json();
    let d = rows(&r, "delivery");
    assert_eq!(d[0]["state"], "fulfilled");
    let h = instance_records(&history, "delivery");
    let states: Vec<&str> = h.iter().map(|r| r["to"].as_str().unwrap()).collect();
    assert_eq!(states, ["active", "suspended", "active", "fulfilled"]);
    assert_eq!(h[1]["due"], "2025-02-11");
    assert_eq!(h[3]["due"], "2025-02-16", "11 Feb plus the 5 days suspended");
}

#[test]
fn a_dated_obligation_falls_due_on_its_date() {
    let on_time = supply(&[], &["--at", "2025-01-15"]);
    assert_eq!(on_time.code, 0);
    let late = supply(&[], &["--at", "2025-01-16"]);
    assert_eq!(late.code, 1);
    let b = breaches(&late.json());
    assert_eq!(b[0]["clause"], "deposit");
    assert_eq!(b[0]["party"], "Buyer");
    assert_eq!(b[0]["at"], "2025-01-15");
}

#[test]
fn a_power_is_exercised_within_its_window_and_ineffective_after() {
    let out = supply(
        &[
            DEPOSIT,
            r#"{"at":"2025-01-05","event":"order","ref":"A","qty":3}"#,
            r#"{"at":"2025-01-06","event":"order","ref":"B","qty":3}"#,
            r#"{"at":"2025-01-10","event":"deliver","ref":"A"}"#,
            r#"{"at":"2025-01-10","event":"deliver","ref":"B"}"#,
            r#"{"at":"2025-01-15","event":"reject","ref":"A"}"#,
            r#"{"at":"2025-01-16","event":"reject","ref":"B"}"#,
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    let r = out.json();
    let p = rows(&r, "inspection");
    assert_eq!(p[0]["kind"], "power");
    assert_eq!(p[0]["state"], "exercised");
    assert_eq!(p[1]["state"], "lapsed");
    assert_eq!(r["events"]["ineffective"], 1);
    assert_eq!(r["ineffective"][0]["line"], 7);
}

#[test]
fn a_permission_with_a_window_ends_with_it() {
    let (out, history) = run_with_history(
        SUPPLY,
        &[
            DEPOSIT,
            r#"{"at":"2025-01-05","event":"order","ref":"A","qty":3}"#,
        ],
        &["--at", "2025-02-05"],
    );
    let r = out.json();
    let a = rows(&r, "audit_right");
    assert_eq!(a[0]["kind"], "permission");
    assert_eq!(a[0]["state"], "ended");
    assert_eq!(a[0]["count"], 1);
    let h = instance_records(&history, "audit_right");
    assert_eq!(h.last().unwrap()["to"], "ended");
    assert_eq!(h.last().unwrap()["due"], "2025-02-04");
    assert!(h.last().unwrap()["line"].is_null(), "time passing ended it");
}

#[test]
fn a_prohibited_act_is_a_breach_and_the_prohibition_stays() {
    let out = supply(
        &[
            DEPOSIT,
            r#"{"at":"2025-01-05","event":"order","ref":"A","qty":5000}"#,
            r#"{"at":"2025-01-06","event":"order","ref":"B","qty":2000}"#,
        ],
        &["--at", "2025-01-07"],
    );
    assert_eq!(out.code, 1);
    let r = out.json();
    let b = breaches(&r);
    assert_eq!(b.len(), 2);
    assert!(b
        .iter()
        .all(|x| x["clause"] == "no_resale" && x["party"] == "Buyer"));
    assert_eq!(rows(&r, "no_resale")[0]["state"], "active");
}

#[test]
fn obligations_expire_with_the_deal() {
    let out = supply(
        &[
            DEPOSIT,
            r#"{"at":"2025-12-30","event":"order","ref":"A","qty":3}"#,
        ],
        &["--at", "2026-02-01"],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    let r = out.json();
    assert_eq!(rows(&r, "delivery")[0]["state"], "expired");
    assert_eq!(clause_state(&r, "delivery"), "ended");
}

#[test]
fn a_remedy_follows_the_third_breach_at_the_moment_it_happens() {
    let orders: String = ["a", "b", "c"]
        .iter()
        .enumerate()
        .map(|(i, r)| {
            format!(
                "{{\"at\":\"2025-01-0{}\",\"event\":\"order\",\"ref\":\"{r}\"}}\n",
                i + 1
            )
        })
        .collect();
    let check = deal(&["check", "tests/fixtures/remedies.deal"], "");
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(check.stderr.is_empty(), "{}", check.stderr);
    let out = deal(
        &[
            "run",
            "tests/fixtures/remedies.deal",
            "--events",
            "-",
            "--at",
            "2025-02-01",
            "--format",
            "json",
        ],
        &orders,
    );
    assert_eq!(out.code, 1);
    let r = out.json();
    assert_eq!(breaches(&r).len(), 3);
    let clause = r["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "termination_for_cause")
        .unwrap();
    assert_eq!(clause["state"], "active");
    assert_eq!(
        clause["since"], "2025-01-14",
        "when the third shipment became late"
    );
    let two = deal(
        &[
            "run",
            "tests/fixtures/remedies.deal",
            "--events",
            "-",
            "--at",
            "2025-02-01",
            "--format",
            "json",
        ],
        &orders
            .lines()
            .take(2)
            .map(|l| format!("{l}\n"))
            .collect::<String>(),
    );
    assert_eq!(clause_state(&two.json(), "termination_for_cause"), "inactive");
}

#[test]
fn breach_events_cannot_name_an_unknown_clause() {
    let text = std::fs::read_to_string(root().join("tests/fixtures/remedies.deal"))
        .unwrap()
        .replace("breach of supply where", "breach of suply where");
    let path = std::env::temp_dir().join(format!("deal-remedy-{}.deal", std::process::id()));
    std::fs::write(&path, text).unwrap();
    let out = deal(&["check", path.to_str().unwrap()], "");
    let _ = std::fs::remove_file(&path);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("unknown event `breach of suply`"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("did you mean `breach of supply`?"),
        "{}",
        out.stderr
    );
}

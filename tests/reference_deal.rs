//! The reference contract, clause by clause, through the real CLI.
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

const AMENDED: &str = r#"{"at":"2025-01-21","event":"cloud_terms_amended"}"#;

#[test]
fn the_reference_contract_checks_clean_with_one_warning() {
    let out = deal(&["check", REFERENCE], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("deal::check::open_term"), "{}", out.stderr);
    assert!(out.stderr.contains("future_profit_rate"));
}

#[test]
fn the_public_timeline_gives_the_expected_states() {
    let out = deal(
        &[
            "run",
            REFERENCE,
            "--events",
            REFERENCE_EVENTS,
            "--at",
            "2026-11-30",
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = out.json();
    assert_eq!(r["as_of"], "2026-11-30");
    assert_eq!(clause_state(&r, "cloud_exclusivity"), "ended");
    let ended = r["clauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "cloud_exclusivity")
        .unwrap();
    assert_eq!(ended["since"], "2025-01-21");
    for c in [
        "cloud_first_refusal",
        "azure_resale_exclusivity",
        "ip_reuse",
        "revenue_share",
    ] {
        assert_eq!(clause_state(&r, c), "active", "{c}");
    }
    assert_eq!(clause_state(&r, "future_profit_share"), "suspended");
    assert!(breaches(&r).is_empty());
    assert_eq!(r["events"]["rejected"], 0);
    assert_eq!(r["events"]["ineffective"], 0);
}

#[test]
fn the_text_report_reads_as_a_summary() {
    let out = deal(
        &[
            "run",
            REFERENCE,
            "--events",
            REFERENCE_EVENTS,
            "--at",
            "2026-11-30",
        ],
        "",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out
        .stdout
        .contains("Microsoft and OpenAI partnership — as of 2026-11-30"));
    assert!(
        out.stdout
            .contains("future_profit_share       suspended since 2025-10-28"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("Breaches\n  none"));
}

#[test]
fn every_norm_is_listed_before_anything_happens() {
    let out = reference("", &["--at", "2019-07-01"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let r = out.json();
    for c in r["clauses"].as_array().unwrap() {
        assert_eq!(c["state"], "inactive", "{c}");
    }
    let norms = r["norms"].as_array().unwrap();
    assert!(norms.len() >= 9, "{norms:?}");
    assert!(norms.iter().all(|n| n["state"] == "inactive"), "{norms:?}");
}

// ------------------------------------------------------------ first refusal

#[test]
fn a_third_party_cloud_contract_without_an_offer_is_a_breach() {
    let out = reference(
        &lines(&[
            AMENDED,
            r#"{"at":"2025-03-01","event":"cloud_contract","provider":"Google","ref":"gcp","price":"5 USD"}"#,
        ]),
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let b = breaches(&out.json());
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["clause"], "cloud_first_refusal");
    assert_eq!(b[0]["party"], "OpenAI");
    assert_eq!(b[0]["at"], "2025-03-01");
    assert_eq!(b[0]["line"], 2);
    assert!(b[0]["reason"]
        .as_str()
        .unwrap()
        .contains("no cloud_offer `gcp` was made to Microsoft first"));
}

#[test]
fn a_third_party_contract_after_microsoft_accepted_is_a_breach() {
    let out = reference(
        &lines(&[
            AMENDED,
            r#"{"at":"2025-03-01","event":"cloud_offer","ref":"x","price":"10 USD"}"#,
            r#"{"at":"2025-03-10","event":"cloud_offer_accepted","ref":"x"}"#,
            r#"{"at":"2025-04-20","event":"cloud_contract","provider":"Oracle","ref":"x","price":"10 USD"}"#,
        ]),
        &[],
    );
    assert_eq!(out.code, 1);
    let r = out.json();
    let b = breaches(&r);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["line"], 4);
    assert!(b[0]["reason"]
        .as_str()
        .unwrap()
        .contains("took up cloud_offer `x`"));
    let power = norms(&r, "cloud_first_refusal", "power");
    assert_eq!(power[0]["state"], "exercised");
    assert_eq!(power[0]["since"], "2025-03-10");
}

#[test]
fn a_third_party_contract_while_the_window_is_open_is_a_breach() {
    let out = reference(
        &lines(&[
            AMENDED,
            r#"{"at":"2025-03-01","event":"cloud_offer","ref":"x","price":"10 USD"}"#,
            r#"{"at":"2025-03-31","event":"cloud_contract","provider":"Oracle","ref":"x","price":"10 USD"}"#,
        ]),
        &[],
    );
    assert_eq!(out.code, 1);
    let b = breaches(&out.json());
    assert_eq!(b.len(), 1);
    assert!(
        b[0]["reason"]
            .as_str()
            .unwrap()
            .contains("still open until 2025-03-31"),
        "{}",
        b[0]
    );
}

#[test]
fn a_third_party_contract_at_a_lower_price_is_a_breach() {
    let out = reference(
        &lines(&[
            AMENDED,
            r#"{"at":"2025-03-01","event":"cloud_offer","ref":"x","price":"10.00 USD"}"#,
            r#"{"at":"2025-03-02","event":"cloud_offer_declined","ref":"x"}"#,
            r#"{"at":"2025-03-03","event":"cloud_contract","provider":"Oracle","ref":"x","price":"9.999999 USD"}"#,
        ]),
        &[],
    );
    assert_eq!(out.code, 1);
    let b = breaches(&out.json());
    assert_eq!(b.len(), 1);
    assert!(b[0]["reason"]
        .as_str()
        .unwrap()
        .contains("better for the third party"));
}

#[test]
fn a_third_party_contract_without_a_price_cannot_show_it_is_no_cheaper() {
    let out = reference(
        &lines(&[
            AMENDED,
            r#"{"at":"2025-03-01","event":"cloud_offer","ref":"x","price":"10.00 USD"}"#,
            r#"{"at":"2025-03-02","event":"cloud_offer_declined","ref":"x"}"#,
            r#"{"at":"2025-03-03","event":"cloud_contract","provider":"Oracle","ref":"x"}"#,
        ]),
        &[],
    );
    assert_eq!(out.code, 1);
}

#[test]
fn a_third_party_contract_after_a_decline_at_the_same_or_higher_price_is_allowed() {
    let out = reference(
        &lines(&[
            AMENDED,
            r#"{"at":"2025-03-01","event":"cloud_offer","ref":"x","price":"10 USD"}"#,
            r#"{"at":"2025-03-02","event":"cloud_offer_declined","ref":"x"}"#,
            r#"{"at":"2025-03-03","event":"cloud_contract","provider":"Oracle","ref":"x","price":"10.00 USD"}"#,
            r#"{"at":"2025-03-04","event":"cloud_offer","ref":"y","price":"10 USD"}"#,
            r#"{"at":"2025-03-05","event":"cloud_offer_declined","ref":"y"}"#,
            r#"{"at":"2025-03-06","event":"cloud_contract","provider":"Google","ref":"y","price":"12 USD"}"#,
        ]),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    let r = out.json();
    let power = norms(&r, "cloud_first_refusal", "power");
    assert!(power.iter().all(|p| p["state"] == "lapsed"));
}

#[test]
fn a_third_party_contract_after_the_offer_lapsed_is_allowed() {
    let (out, history) = run_with_history(
        REFERENCE,
        &[
            AMENDED,
            r#"{"at":"2025-03-01","event":"cloud_offer","ref":"x","price":"10 USD"}"#,
            r#"{"at":"2025-04-01","event":"cloud_contract","provider":"Oracle","ref":"x","price":"10 USD"}"#,
        ],
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    let r = out.json();
    let power = norms(&r, "cloud_first_refusal", "power");
    assert_eq!(power[0]["state"], "lapsed");
    assert_eq!(power[0]["count"], 1);
    assert_eq!(power[0]["since"], "2025-04-01");
    let lapse = instance_records(&history, "cloud_first_refusal")
        .into_iter()
        .find(|h| h["to"] == "lapsed")
        .unwrap();
    assert_eq!(lapse["due"], "2025-03-31");
    assert_eq!(lapse["at"], "2025-04-01");
    assert!(lapse["line"].is_null(), "the window closing lapsed it");
    // The permission passed on was used by the contract it was for.
    let used = instance_records(&history, "cloud_first_refusal")
        .into_iter()
        .find(|h| h["kind"] == "permission" && h["to"] == "ended")
        .unwrap();
    assert_eq!(used["line"], 3);
    assert!(used["note"].as_str().unwrap().contains("used by cloud_contract"));
}

#[test]
fn a_second_contract_on_an_offer_already_used_is_a_breach() {
    let out = reference(
        &lines(&[
            AMENDED,
            r#"{"at":"2025-03-01","event":"cloud_offer","ref":"x","price":"10 USD"}"#,
            r#"{"at":"2025-03-02","event":"cloud_offer_declined","ref":"x"}"#,
            r#"{"at":"2025-03-03","event":"cloud_contract","provider":"Oracle","ref":"x","price":"10 USD"}"#,
            r#"{"at":"2025-03-04","event":"cloud_contract","provider":"Google","ref":"x","price":"10 USD"}"#,
        ]),
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    let b = breaches(&out.json());
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["line"], 5);
    assert!(
        b[0]["reason"]
            .as_str()
            .unwrap()
            .contains("that deal was already done by cloud_contract on 2025-03-03"),
        "{}",
        b[0]
    );
}

#[test]
fn an_acceptance_after_thirty_days_is_ineffective() {
    let out = reference(
        &lines(&[
            AMENDED,
            r#"{"at":"2025-01-21","event":"cloud_offer","ref":"x","price":"10 USD"}"#,
            r#"{"at":"2025-02-20","event":"cloud_offer_accepted","ref":"x"}"#,
            r#"{"at":"2025-02-21","event":"cloud_offer","ref":"y","price":"10 USD"}"#,
            r#"{"at":"2025-03-24","event":"cloud_offer_accepted","ref":"y"}"#,
        ]),
        &[],
    );
    assert_eq!(out.code, 0);
    let r = out.json();
    assert_eq!(r["events"]["ineffective"], 1);
    let inef = r["ineffective"].as_array().unwrap();
    assert_eq!(inef[0]["line"], 5);
    assert!(
        inef[0]["reason"]
            .as_str()
            .unwrap()
            .contains("closed at the end of 2025-03-23"),
        "{}",
        inef[0]
    );
    let power = norms(&r, "cloud_first_refusal", "power");
    assert_eq!(power[0]["state"], "exercised", "accepted on day 30");
    assert_eq!(power[1]["state"], "lapsed");
}

#[test]
fn an_offer_before_the_amendment_creates_no_first_refusal() {
    let out = reference(
        &lines(&[r#"{"at":"2024-03-01","event":"cloud_offer_accepted","ref":"x"}"#]),
        &[],
    );
    assert_eq!(out.code, 0);
    let r = out.json();
    assert_eq!(r["events"]["ineffective"], 1);
    assert!(r["ineffective"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("inactive"));
}

// ------------------------------------------------------------ exclusivity

#[test]
fn a_cloud_contract_with_another_provider_before_the_amendment_is_a_breach() {
    let out = reference(
        &lines(&[r#"{"at":"2023-05-01","event":"cloud_contract","provider":"Google","ref":"g"}"#]),
        &[],
    );
    assert_eq!(out.code, 1);
    let b = breaches(&out.json());
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["clause"], "cloud_exclusivity");
    assert_eq!(b[0]["party"], "OpenAI");
    assert!(b[0]["reason"]
        .as_str()
        .unwrap()
        .contains("no consent `g` came before it"));
    assert!(b[0]["allowed"].as_str().unwrap().contains("consent"));
}

#[test]
fn consent_for_that_very_act_keeps_the_exclusivity() {
    let out = reference(
        &lines(&[
            r#"{"at":"2024-06-11","event":"consent","ref":"oci"}"#,
            r#"{"at":"2024-06-11","event":"cloud_contract","provider":"Oracle","ref":"oci"}"#,
            r#"{"at":"2024-06-12","event":"cloud_contract","provider":"Microsoft","ref":"azure"}"#,
        ]),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
}

#[test]
fn consent_for_another_act_does_not_cover_this_one() {
    let out = reference(
        &lines(&[
            r#"{"at":"2024-06-11","event":"consent","ref":"oci"}"#,
            r#"{"at":"2024-06-12","event":"cloud_contract","provider":"Oracle","ref":"other"}"#,
        ]),
        &[],
    );
    assert_eq!(out.code, 1);
}

#[test]
fn the_exclusivity_ends_with_the_amendment() {
    let out = reference(&lines(&[AMENDED]), &["--at", "2025-06-01"]);
    let r = out.json();
    assert_eq!(clause_state(&r, "cloud_exclusivity"), "ended");
    assert_eq!(clause_state(&r, "cloud_first_refusal"), "active");
    assert!(norms(&r, "cloud_exclusivity", "prohibition")
        .iter()
        .all(|n| n["state"] == "ended"));
}

#[test]
fn resale_by_anyone_but_microsoft_is_a_breach() {
    let out = reference(
        &lines(&[
            r#"{"at":"2023-01-01","event":"resale_license","licensee":"Microsoft","platform":"Azure"}"#,
            r#"{"at":"2026-01-01","event":"resale_license","licensee":"Amazon","platform":"Bedrock"}"#,
        ]),
        &[],
    );
    assert_eq!(out.code, 1);
    let b = breaches(&out.json());
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["clause"], "azure_resale_exclusivity");
    assert_eq!(b[0]["line"], 2);
}

#[test]
fn microsoft_may_reuse_openai_ip() {
    let out = reference(
        &lines(&[r#"{"at":"2024-01-01","event":"ip_use","product":"Copilot"}"#]),
        &[],
    );
    assert_eq!(out.code, 0);
    let r = out.json();
    let p = norms(&r, "ip_reuse", "permission");
    assert_eq!(p[0]["state"], "active");
    assert_eq!(p[0]["bearer"], "Microsoft");
}

// ------------------------------------------------------------ revenue share

#[test]
fn the_revenue_share_is_exact_to_many_decimals() {
    let out = reference(
        &lines(&[
            r#"{"at":"2025-02-15","event":"revenue","amount":"0.0000000001 USD"}"#,
            r#"{"at":"2025-03-31","event":"revenue","amount":"333.33333333 USD"}"#,
            r#"{"at":"2025-03-31","event":"revenue","amount":"100000000000.01 USD"}"#,
        ]),
        &["--at", "2025-04-01"],
    );
    assert_eq!(out.code, 0);
    let r = out.json();
    assert!(
        same_amount(&balance(&r, "accrued"), "25000000083.335833332525"),
        "{}",
        balance(&r, "accrued")
    );
    assert!(same_amount(&balance(&r, "overdue"), "0"));
}

#[test]
fn an_unpaid_quarter_is_breached_on_its_due_date_without_any_event() {
    let events = lines(&[r#"{"at":"2025-03-31","event":"revenue","amount":"1000 USD"}"#]);
    let on_time = reference(&events, &["--at", "2025-04-30"]);
    assert_eq!(on_time.code, 0, "the last day is still on time");
    let late = reference(&events, &["--at", "2025-05-01"]);
    assert_eq!(late.code, 1);
    let r = late.json();
    let b = breaches(&r);
    assert_eq!(b.len(), 1);
    assert_eq!(b[0]["clause"], "revenue_share");
    assert_eq!(b[0]["at"], "2025-04-30");
    assert!(b[0]["line"].is_null());
    assert!(same_amount(&balance(&r, "overdue"), "250"));
    let q = norms(&r, "revenue_share", "obligation");
    assert_eq!(q[0]["state"], "violated");
    assert_eq!(q[0]["key"], "2025-Q1");
}

#[test]
fn each_unpaid_quarter_is_its_own_breach_and_payments_settle_the_oldest_first() {
    let out = reference(
        &lines(&[
            r#"{"at":"2025-01-10","event":"revenue","amount":"400 USD"}"#,
            r#"{"at":"2025-04-10","event":"revenue","amount":"800 USD"}"#,
            r#"{"at":"2025-07-05","event":"payment","from":"OpenAI","to":"Microsoft","amount":"150 USD"}"#,
        ]),
        &["--at", "2025-08-15"],
    );
    assert_eq!(out.code, 1);
    let r = out.json();
    let b = breaches(&r);
    assert_eq!(b.len(), 2, "{b:?}");
    assert_eq!(b[0]["at"], "2025-04-30");
    assert_eq!(b[1]["at"], "2025-07-30");
    assert!(same_amount(&balance(&r, "paid"), "150"));
    assert!(same_amount(&balance(&r, "outstanding"), "150"));
    let q = norms(&r, "revenue_share", "obligation");
    // 150 paid: 100 settles Q1 (late), 50 goes to Q2.
    assert!(same_amount(
        q[0]["outstanding"].as_str().unwrap().trim_end_matches(" USD"),
        "0"
    ));
    assert!(same_amount(
        q[1]["outstanding"].as_str().unwrap().trim_end_matches(" USD"),
        "150"
    ));
}

#[test]
fn a_quarter_paid_in_full_on_time_is_fulfilled() {
    let out = reference(
        &lines(&[
            r#"{"at":"2025-03-31","event":"revenue","amount":"1000 USD"}"#,
            r#"{"at":"2025-04-30","event":"payment","from":"OpenAI","to":"Microsoft","amount":"250 USD"}"#,
        ]),
        &["--at", "2026-01-01"],
    );
    assert_eq!(out.code, 0);
    let r = out.json();
    assert_eq!(norms(&r, "revenue_share", "obligation")[0]["state"], "fulfilled");
}

#[test]
fn accruals_survive_the_end_of_the_term_and_nothing_accrues_after_it() {
    let events = lines(&[
        r#"{"at":"2030-12-31T23:59:59Z","event":"revenue","amount":"1000 USD"}"#,
        r#"{"at":"2031-01-01","event":"revenue","amount":"5000 USD"}"#,
    ]);
    let r = reference(&events, &["--at", "2031-01-15"]).json();
    assert_eq!(clause_state(&r, "revenue_share"), "ended");
    assert!(same_amount(&balance(&r, "accrued"), "250"));
    let late = reference(&events, &["--at", "2031-02-01"]);
    assert_eq!(late.code, 1);
    let b = breaches(&late.json());
    assert_eq!(b[0]["at"], "2031-01-30");
}

#[test]
fn revenue_before_the_term_accrues_nothing() {
    let r = reference(
        &lines(&[r#"{"at":"2019-07-21","event":"revenue","amount":"1000 USD"}"#]),
        &[],
    )
    .json();
    assert!(r["balances"].as_array().unwrap().is_empty());
}

// ------------------------------------------------------------ profit share

const PROFIT: &[&str] = &[
    r#"{"at":"2025-05-01","event":"product_profit","product":"Sora","amount":"1000 USD"}"#,
    r#"{"at":"2025-10-28","event":"for_profit_transition"}"#,
    r#"{"at":"2025-11-01","event":"product_profit","product":"Sora","amount":"1000 USD"}"#,
];

#[test]
fn profit_share_is_undetermined_while_its_rate_is_open() {
    let out = reference(&lines(PROFIT), &["--at", "2026-11-30"]);
    assert_eq!(out.code, 0, "an undetermined amount is not a breach");
    let r = out.json();
    assert_eq!(clause_state(&r, "future_profit_share"), "suspended");
    assert_eq!(r["balances"][0]["undetermined"], 1);
    assert_eq!(r["open_terms"][0], "future_profit_rate");
}

#[test]
fn profit_share_is_computed_with_a_rate_set_on_the_command_line() {
    let mut events = PROFIT.to_vec();
    events.push(r#"{"at":"2025-12-01","event":"profit_share_resolved","continues":true}"#);
    events.push(r#"{"at":"2025-12-02","event":"product_profit","product":"Sora","amount":"200 USD"}"#);
    let out = reference(
        &lines(&events),
        &["--at", "2025-12-31", "--set", "future_profit_rate=12.5%"],
    );
    let r = out.json();
    assert_eq!(clause_state(&r, "future_profit_share"), "active");
    // 12.5% of 1000 (before the suspension) + 12.5% of 200 (after it resumed).
    assert!(same_amount(&balance(&r, "accrued"), "150"), "{}", r["balances"]);
    let b = breaches(&r);
    assert_eq!(b.len(), 1, "Q2 fell due 2025-07-30 unpaid");
    assert_eq!(b[0]["clause"], "future_profit_share");
    assert_eq!(b[0]["at"], "2025-07-30");
    assert!(
        !out.stderr.contains("open_term"),
        "a filled term draws no warning"
    );
}

#[test]
fn profit_share_ends_when_the_parties_resolve_it_does_not_continue() {
    let mut events = PROFIT.to_vec();
    events.push(r#"{"at":"2025-12-01","event":"profit_share_resolved","continues":false}"#);
    events.push(r#"{"at":"2025-12-02","event":"product_profit","product":"Sora","amount":"200 USD"}"#);
    let r = reference(&lines(&events), &["--set", "future_profit_rate=10%"]).json();
    assert_eq!(clause_state(&r, "future_profit_share"), "ended");
    assert!(same_amount(&balance(&r, "accrued"), "100"));
}

// ------------------------------------------------------------ the stream

#[test]
fn a_repeated_id_is_applied_once() {
    let line = r#"{"at":"2025-03-31","id":"r1","event":"revenue","amount":"1000 USD"}"#;
    let r = reference(&lines(&[line, line, line]), &[]).json();
    assert_eq!(r["events"]["applied"], 1);
    assert_eq!(r["events"]["duplicates"], 2);
    assert!(same_amount(&balance(&r, "accrued"), "250"));
}

#[test]
fn an_empty_stream_is_valid() {
    let out = reference("", &[]);
    assert_eq!(out.code, 0);
    assert!(out.json()["as_of"].is_null());
}

#[test]
fn the_same_run_gives_byte_identical_reports() {
    let args = ["run", REFERENCE, "--events", REFERENCE_EVENTS, "--format", "json"];
    let a = deal(&args, "");
    let b = deal(&args, "");
    assert_eq!(a.stdout, b.stdout);
    let a = deal(&args[..4], "");
    let b = deal(&args[..4], "");
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn a_report_as_of_a_moment_does_not_see_later_events() {
    let events = lines(&[
        r#"{"at":"2025-03-31","event":"revenue","amount":"1000 USD"}"#,
        r#"{"at":"2025-06-30","event":"revenue","amount":"1000 USD"}"#,
    ]);
    let r = reference(&events, &["--at", "2025-04-15"]).json();
    assert_eq!(r["events"]["applied"], 1);
    assert!(same_amount(&balance(&r, "accrued"), "250"));
    let r = reference(&events, &["--at", "2025-06-30"]).json();
    assert_eq!(r["events"]["applied"], 2, "the whole of the day is included");
}

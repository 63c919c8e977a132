//! Laws of the interpreter and the parser, checked on generated input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "a test fails by panicking"
)]

use proptest::prelude::*;
use rust_decimal::Decimal;

use deal::diag::source::SourceFile;
use deal::driver::{self, replay, ReplayOptions};
use deal::eval::{Engine, Options};
use deal::events::EventReader;
use deal::report::Report;

const CONTRACT: &str = include_str!("../contracts/microsoft_openai.deal");
const ALL: [&str; 12] = [
    CONTRACT,
    include_str!("../contracts/software_licence.deal"),
    include_str!("../contracts/distribution.deal"),
    include_str!("../contracts/saas.deal"),
    include_str!("../contracts/conformance/acceptance-of-delivery.deal"),
    include_str!("../contracts/conformance/fragile-goods.deal"),
    include_str!("../contracts/conformance/installment-sale.deal"),
    include_str!("../contracts/conformance/ip-payment.deal"),
    include_str!("../contracts/conformance/latedeliveryandpenalty.deal"),
    include_str!("../contracts/conformance/payment-upon-iot.deal"),
    include_str!("../contracts/conformance/servicelevelagreement.deal"),
    include_str!("../contracts/conformance/volumediscountolist.deal"),
];

#[derive(Debug, Clone)]
enum Ev {
    Revenue(u32, u8),
    Payment(u32),
    Offer(u8, u16),
    Accept(u8),
    Decline(u8),
    Contract(u8, u16),
    Amend,
    Transition,
    Resolve(bool),
    Profit(u32),
}

fn event() -> impl Strategy<Value = Ev> {
    prop_oneof![
        4 => (1u32..10_000_000, 0u8..100).prop_map(|(a, c)| Ev::Revenue(a, c)),
        2 => (1u32..5_000_000).prop_map(Ev::Payment),
        1 => (0u8..5, 1u16..1000).prop_map(|(r, p)| Ev::Offer(r, p)),
        1 => (0u8..5).prop_map(Ev::Accept),
        1 => (0u8..5).prop_map(Ev::Decline),
        1 => (0u8..5, 1u16..1000).prop_map(|(r, p)| Ev::Contract(r, p)),
        1 => Just(Ev::Amend),
        1 => Just(Ev::Transition),
        1 => any::<bool>().prop_map(Ev::Resolve),
        1 => (1u32..1_000_000).prop_map(Ev::Profit),
    ]
}

/// A dated stream: each event 0–20 days after the one before, from 2024-01-01.
fn stream() -> impl Strategy<Value = Vec<(u16, Ev)>> {
    prop::collection::vec((0u16..20, event()), 0..60)
}

fn render(events: &[(u16, Ev)], with_ids: bool) -> String {
    let mut day = 0i64;
    let start = jiff::civil::date(2024, 1, 1);
    let mut out = String::new();
    for (i, (gap, ev)) in events.iter().enumerate() {
        day += i64::from(*gap);
        let at = start.checked_add(jiff::Span::new().days(day)).unwrap();
        let id = if with_ids {
            format!(",\"id\":\"e{i}\"")
        } else {
            String::new()
        };
        let body = match ev {
            Ev::Revenue(a, c) => format!("\"event\":\"revenue\",\"amount\":\"{a}.{c:02} USD\""),
            Ev::Payment(a) => {
                format!(
                    "\"event\":\"payment\",\"from\":\"OpenAI\",\"to\":\"Microsoft\",\"amount\":\"{a} USD\""
                )
            }
            Ev::Offer(r, p) => format!("\"event\":\"cloud_offer\",\"ref\":\"r{r}\",\"price\":\"{p} USD\""),
            Ev::Accept(r) => format!("\"event\":\"cloud_offer_accepted\",\"ref\":\"r{r}\""),
            Ev::Decline(r) => format!("\"event\":\"cloud_offer_declined\",\"ref\":\"r{r}\""),
            Ev::Contract(r, p) => {
                format!("\"event\":\"cloud_contract\",\"provider\":\"Oracle\",\"ref\":\"r{r}\",\"price\":\"{p} USD\"")
            }
            Ev::Amend => "\"event\":\"cloud_terms_amended\"".to_string(),
            Ev::Transition => "\"event\":\"for_profit_transition\"".to_string(),
            Ev::Resolve(c) => format!("\"event\":\"profit_share_resolved\",\"continues\":{c}"),
            Ev::Profit(a) => format!("\"event\":\"product_profit\",\"product\":\"p\",\"amount\":\"{a} USD\""),
        };
        out.push_str(&format!("{{\"at\":\"{at}\"{id},{body}}}\n"));
    }
    out
}

/// A report as its JSON value, and its breaches as rows.
struct Outcome {
    json: serde_json::Value,
    breaches: Vec<serde_json::Value>,
}

fn run(text: &str, sets: &[(&str, &str)], at: Option<&str>) -> Outcome {
    let (outcome, rejected) = run_all(text, sets, at);
    assert!(rejected.is_empty(), "{:?}", rejected.first());
    outcome
}

/// Runs a stream with the default options; returns the report and the
/// codes of the lines rejected.
fn run_all(text: &str, sets: &[(&str, &str)], at: Option<&str>) -> (Outcome, Vec<String>) {
    let source = SourceFile::new("microsoft_openai.deal", CONTRACT);
    let mut program = driver::load(&source).map_err(|_| "contract").unwrap().program;
    for (k, v) in sets {
        deal::check::set_term(&mut program, k, v).unwrap();
    }
    let reader = EventReader::new(&program, &source, "gen.jsonl");
    let mut engine = Engine::with_options(&program, Options::default());
    let until = at.and_then(driver::AsOf::parse).map(|a| a.instant);
    let options = ReplayOptions {
        until,
        ..ReplayOptions::default()
    };
    let out = replay(&mut engine, &reader, text.as_bytes(), options, |_, _| {});
    let rejected = out
        .rejected
        .iter()
        .map(|e| {
            miette::Diagnostic::code(e)
                .map(|c| c.to_string())
                .unwrap_or_default()
        })
        .collect();
    let shown = match at {
        Some(a) => {
            let a = driver::AsOf::parse(a).unwrap();
            engine.advance_to(a.instant).unwrap();
            Some(a.shown)
        }
        None => engine.last_event().map(|m| m.to_string()),
    };
    let snapshot = engine.snapshot().unwrap();
    let report = Report::build(&snapshot, shown, 0);
    let json: serde_json::Value = serde_json::from_str(&report.to_json().unwrap()).unwrap();
    let breaches = json["breaches"].as_array().unwrap().clone();
    (Outcome { json, breaches }, rejected)
}

/// The lines of a stream dated within `days` of its last event.
fn recent(text: &str, days: i64) -> String {
    let at = |l: &str| -> jiff::civil::Date {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        v["at"].as_str().unwrap().parse().unwrap()
    };
    let Some(last) = text.lines().last().map(at) else {
        return String::new();
    };
    let from = last.checked_sub(jiff::Span::new().days(days)).unwrap();
    text.lines()
        .filter(|l| at(l) >= from)
        .map(|l| format!("{l}\n"))
        .collect()
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str_exact(s).unwrap()
}

proptest! {
    // 64 cases keep the suite fast; PROPTEST_CASES=5000 searches harder.
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(64)
    ))]

    /// The same contract and events give the same report.
    #[test]
    fn evaluation_is_deterministic(events in stream()) {
        let text = render(&events, false);
        let a = run(&text, &[], Some("2031-06-30")).json;
        let b = run(&text, &[], Some("2031-06-30")).json;
        prop_assert_eq!(a, b);
    }

    /// Delivering again the events of the last 30 days (the default
    /// horizon) changes nothing but the count of duplicates.
    #[test]
    fn redelivery_within_the_horizon_is_idempotent(events in stream()) {
        let text = render(&events, true);
        let again = recent(&text, 30);
        let once = run(&text, &[], Some("2031-06-30")).json;
        let mut twice = run(&format!("{text}{again}"), &[], Some("2031-06-30")).json;
        prop_assert_eq!(&twice["events"]["duplicates"], &serde_json::json!(again.lines().count()));
        twice["events"]["duplicates"] = serde_json::json!(0);
        prop_assert_eq!(once, twice);
    }

    /// A whole stream delivered twice is never counted twice: each event is
    /// recognised as a duplicate, or, once it is older than the horizon,
    /// refused with its own code, and the run stops there.
    #[test]
    fn a_stream_delivered_twice_never_counts_twice(events in stream()) {
        let text = render(&events, true);
        let once = run(&text, &[], None).json;
        let (twice, rejected) = run_all(&format!("{text}{text}"), &[], None);
        let mut twice = twice.json;
        prop_assert!(rejected.iter().all(|c| c == "deal::event::beyond_dedup_horizon"), "{:?}", rejected);
        twice["events"]["duplicates"] = serde_json::json!(0);
        twice["events"]["rejected"] = serde_json::json!(0);
        prop_assert_eq!(once, twice);
    }

    /// Accrued revenue share is exactly 25% of the revenue booked while the
    /// deal is in force, and paid + outstanding = accrued.
    #[test]
    fn shares_are_exact(events in stream()) {
        let text = render(&events, false);
        let report = run(&text, &[("future_profit_rate", "0%")], Some("2031-06-30")).json;
        let mut revenue = Decimal::ZERO;
        for line in text.lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            if v["event"] == "revenue" {
                let amount = v["amount"].as_str().unwrap().trim_end_matches(" USD");
                revenue += dec(amount);
            }
        }
        let expected = revenue * dec("0.25");
        let field = |b: &serde_json::Value, f: &str| dec(b[f].as_str().unwrap());
        match report["balances"].as_array().unwrap().iter().find(|b| b["from"] == "OpenAI") {
            Some(b) => {
                prop_assert_eq!(field(b, "accrued"), expected);
                prop_assert_eq!(field(b, "paid") + field(b, "outstanding"), field(b, "accrued"));
                prop_assert!(field(b, "overdue") <= field(b, "outstanding"));
            }
            None => prop_assert_eq!(expected, Decimal::ZERO),
        }
    }

    /// Reporting later never un-breaches: breaches as of an earlier moment
    /// are a prefix of those as of a later one.
    #[test]
    fn breaches_only_accumulate(events in stream()) {
        let text = render(&events, false);
        let early = run(&text, &[], Some("2030-01-01"));
        let late = run(&text, &[], Some("2031-06-30"));
        prop_assert!(early.breaches.len() <= late.breaches.len());
        prop_assert_eq!(&early.breaches[..], &late.breaches[..early.breaches.len()]);
    }

    /// No text makes the parser or checker panic.
    #[test]
    fn any_text_gets_a_result_not_a_panic(text in "\\PC{0,200}") {
        let _ = driver::load(&SourceFile::new("any.deal", text));
    }

    /// Mutating any contract of the repository by one character, or cutting
    /// it short, never panics.
    #[test]
    fn near_misses_of_real_contracts_never_panic(which in 0usize..ALL.len(), at in 0usize..4000, c in "[ -~\\n]", cut in any::<bool>()) {
        let original = ALL[which];
        let at = at % original.len();
        let mut text = original.to_string();
        if cut {
            let at = (0..=at).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            text.truncate(at);
        } else if text.is_char_boundary(at) && text.is_char_boundary(at + 1) {
            text.replace_range(at..at + 1, &c);
        }
        let _ = driver::load(&SourceFile::new("mutated.deal", text));
    }

    /// No line makes the event reader panic.
    #[test]
    fn any_event_line_gets_a_result_not_a_panic(line in "\\PC{0,200}") {
        let source = SourceFile::new("microsoft_openai.deal", CONTRACT);
        let program = driver::load(&source).map_err(|_| "contract").unwrap().program;
        let reader = EventReader::new(&program, &source, "any.jsonl");
        let _ = reader.parse(1, &line);
    }
}

//! The engine's state, through the library: it follows what is open, not
//! what happened, and what is reported in full is not held in full.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "a test fails by panicking"
)]

use deal::diag::source::SourceFile;
use deal::diag::Style;
use deal::driver::{self, replay, ReplayOptions};
use deal::eval::{Engine, Options};
use deal::events::EventReader;
use deal::report::{text, Report};

const CONTRACT: &str = include_str!("../contracts/microsoft_openai.deal");

fn run(events: &str, options: Options, check: impl FnOnce(&mut Engine<'_>)) -> (String, String) {
    let source = SourceFile::new("microsoft_openai.deal", CONTRACT);
    let program = driver::load(&source).map_err(|_| "contract").unwrap().program;
    let reader = EventReader::new(&program, &source, "e.jsonl");
    let mut engine = Engine::with_options(&program, options);
    let out = replay(
        &mut engine,
        &reader,
        events.as_bytes(),
        ReplayOptions::default(),
        |_, _| {},
    );
    assert!(
        out.rejected.is_empty(),
        "{:?}",
        out.rejected.first().map(|e| e.to_string())
    );
    check(&mut engine);
    let shown = engine.last_event().map(|m| m.to_string());
    let snapshot = engine.snapshot().unwrap();
    let report = Report::build(&snapshot, shown, 0);
    let json = report.to_json().unwrap();
    let mut words = Vec::new();
    text::render(&report, &source, "e.jsonl", Style::PLAIN, &mut words).unwrap();
    (json, String::from_utf8(words).unwrap())
}

fn stream(lines: impl Iterator<Item = String>) -> String {
    let mut out = String::from("{\"at\":\"2025-01-21\",\"event\":\"cloud_terms_amended\"}\n");
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// Past the cap, breaches go to disk and come back in order: the report is
/// the same whatever the cap.
#[test]
fn breaches_past_the_cap_are_reported_in_full_and_in_order() {
    let events = stream((0..25).map(|i| {
        format!(
            r#"{{"at":"2025-02-{:02}","event":"cloud_contract","provider":"Google","ref":"g{i}"}}"#,
            1 + i
        )
    }));
    let small = Options {
        spool_cap: 4,
        ..Options::default()
    };
    let (json, words) = run(&events, small, |_| {});
    let (json_all, words_all) = run(&events, Options::default(), |_| {});
    assert_eq!(json, json_all);
    assert_eq!(words, words_all);
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    let b = r["breaches"].as_array().unwrap();
    assert_eq!(b.len(), 25);
    let lines: Vec<u64> = b.iter().map(|b| b["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, (2..27).collect::<Vec<_>>());
    assert_eq!(words.matches("deal::breach::act").count(), 25);
}

/// Thousands of offers, each declined and used: nothing of them stays
/// open, whatever their number.
#[test]
fn closed_instances_leave_nothing_open() {
    let offers = |n: usize| {
        stream((0..n).flat_map(|i| {
            // A second apart from 2025-02-01.
            let at = jiff::Timestamp::from_second(1_738_368_000 + i as i64).unwrap();
            let at = at.strftime("%Y-%m-%dT%H:%M:%SZ");
            [
                format!(r#"{{"at":"{at}","event":"cloud_offer","ref":"r{i}","price":"5 USD"}}"#),
                format!(r#"{{"at":"{at}","event":"cloud_offer_declined","ref":"r{i}"}}"#),
                format!(r#"{{"at":"{at}","event":"cloud_contract","provider":"Oracle","ref":"r{i}","price":"5 USD"}}"#),
            ]
        }))
    };
    let mut few = (0, 0, 0);
    run(&offers(100), Options::default(), |e| few = e.open_state());
    let mut many = (0, 0, 0);
    run(&offers(5000), Options::default(), |e| many = e.open_state());
    assert_eq!(few.0, many.0, "open instances: {few:?} vs {many:?}");
    assert_eq!(few.1, many.1, "amounts owed kept");
    // Each offer's window timer stays set until it would have closed: the
    // queue follows the windows still running, not the history.
    assert!(many.2 <= 5000 + 10, "{many:?}");
}

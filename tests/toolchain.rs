//! The small commands around the language: `check`'s summary, `explain` by
//! short code and as a list, `schema`, completions and the man page.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "a test fails by panicking"
)]

mod common;

use common::{deal, root, REFERENCE};

#[test]
fn check_says_what_it_checked() {
    let clean = deal(&["check", REFERENCE], "");
    assert_eq!(clean.code, 0);
    assert_eq!(
        clean.stdout,
        "checked 1 contract: 6 clauses, 0 errors, 1 warning\n"
    );
    let bad = deal(
        &[
            "check",
            REFERENCE,
            "tests/fixtures/bad_contracts/unknown_event.deal",
        ],
        "",
    );
    assert_eq!(bad.code, 2);
    assert!(
        bad.stdout
            .starts_with("checked 2 contracts: 6 clauses, 1 error, "),
        "{}",
        bad.stdout
    );
    let json = deal(&["check", REFERENCE, "--error-format", "json"], "");
    for line in json.stderr.lines() {
        serde_json::from_str::<serde_json::Value>(line).unwrap();
    }
}

#[test]
fn explain_takes_short_codes_and_lists_them_all() {
    let short = deal(&["explain", "unknown_type"], "");
    assert_eq!(short.code, 0);
    assert!(short.stdout.starts_with("## `deal::check::unknown_type`"));
    // A short code that two stages use explains both.
    let both = deal(&["explain", "unknown_name"], "");
    assert!(both.stdout.contains("## `deal::check::unknown_name`"));
    assert!(both.stdout.contains("## `deal::test::unknown_name`"));
    let near = deal(&["explain", "unknown_nme"], "");
    assert_eq!(near.code, 2);
    assert!(near.stderr.contains("did you mean"), "{}", near.stderr);
    assert!(!near.stderr.contains("docs/"), "{}", near.stderr);
    let list = deal(&["explain", "--list"], "");
    assert_eq!(list.code, 0);
    let docs = std::fs::read_to_string(root().join("docs/diagnostics.md")).unwrap();
    assert_eq!(list.stdout.lines().count(), docs.matches("\n## `").count());
    assert!(list.stdout.contains("deal::parse::syntax"));
}

#[test]
fn explain_into_a_closed_pipe_does_not_panic() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_deal"))
        .args(["explain", "--list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn the_schema_describes_every_event_and_field() {
    let out = deal(&["schema", REFERENCE], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let s: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(s["$schema"], "https://json-schema.org/draft/2020-12/schema");
    let branches = s["oneOf"].as_array().unwrap();
    let payment = branches.iter().find(|b| b["title"] == "payment").unwrap();
    assert_eq!(payment["properties"]["from"]["$ref"], "#/$defs/party");
    assert_eq!(
        payment["required"],
        serde_json::json!(["at", "event", "from", "to", "amount"])
    );
    assert_eq!(payment["additionalProperties"], false);
    let contract = branches.iter().find(|b| b["title"] == "cloud_contract").unwrap();
    assert!(
        contract["properties"]["price"]["anyOf"].is_array(),
        "an optional field may be null"
    );
    assert_eq!(
        s["$defs"]["party"]["enum"],
        serde_json::json!(["Microsoft", "OpenAI"])
    );
    // Derived events cannot be sent, so they are not in it.
    assert!(branches
        .iter()
        .all(|b| !b["title"].as_str().unwrap().starts_with("breach")));
    // The patterns accept what the events file holds.
    let money = regex_lite(s["$defs"]["money"]["pattern"].as_str().unwrap());
    assert!(money("625000000.00 USD") && !money("625000000.00"));
}

/// Enough of a regular expression for the money pattern: the one this
/// schema writes, checked by hand.
fn regex_lite(pattern: &str) -> impl Fn(&str) -> bool {
    assert_eq!(pattern, r"^[+-]?\d+(\.\d+)? [A-Z]{3}$");
    |s: &str| {
        let Some((n, c)) = s.split_once(' ') else {
            return false;
        };
        let n = n.strip_prefix(['+', '-']).unwrap_or(n);
        let (i, f) = n.split_once('.').unwrap_or((n, "0"));
        !i.is_empty()
            && i.bytes().all(|b| b.is_ascii_digit())
            && !f.is_empty()
            && f.bytes().all(|b| b.is_ascii_digit())
            && c.len() == 3
            && c.bytes().all(|b| b.is_ascii_uppercase())
    }
}

#[test]
fn completions_and_the_man_page_are_written() {
    let bash = deal(&["completions", "bash"], "");
    assert_eq!(bash.code, 0);
    assert!(bash.stdout.contains("complete -F _deal"), "{}", bash.stdout);
    let man = deal(&["man"], "");
    assert_eq!(man.code, 0);
    assert!(
        man.stdout.starts_with(".ie \\n(.g .ds Aq"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
    assert!(
        man.stdout.contains("deal\\-test"),
        "the subcommands are in the page"
    );
}

#[test]
fn help_never_breaks_inside_a_date_or_a_code_span() {
    use deal::diag::{render, Style};
    let d = deal::driver::BadAt {
        text: "2026-02-30".into(),
    };
    for width in 30..100 {
        let out = render(&d, Style::Graphical { color: false, width });
        for whole in ["`--at 2026-11-30`", "`--at 2026-11-30T12:00:00Z`"] {
            assert!(out.contains(whole), "width {width}:\n{out}");
        }
    }
}

#[test]
fn a_test_file_cut_anywhere_parses_or_says_why_without_panicking() {
    let text = std::fs::read_to_string(root().join("tests/fixtures/bad_tests/mismatch.test")).unwrap()
        + &std::fs::read_to_string(root().join("contracts/microsoft_openai.test")).unwrap();
    for (i, _) in text.char_indices().step_by(3) {
        let src = deal::diag::source::SourceFile::new("cut.test", &text[..i]);
        let _ = deal::testing::parse(&src);
    }
    let garbage = "scenario \"x\" expect as of 2025-13-45 norm is is , , owes owes \u{1F600} \"unclosed";
    let _ = deal::testing::parse(&deal::diag::source::SourceFile::new("g.test", garbage));
}

//! `deal test` through the real CLI: the passing suite (every contract in
//! `contracts/`), the failing suites of `tests/fixtures/bad_tests/`, the
//! machine formats, `--update`, and the scaffold of `deal init`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "a test fails by panicking"
)]

mod common;

use std::path::{Path, PathBuf};

use common::{deal, root};

/// A fresh folder under the target directory.
fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn text(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn every_contract_has_tests_and_they_pass() {
    let mut contracts = Vec::new();
    for dir in ["contracts", "contracts/conformance"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "deal") {
                contracts.push(p);
            }
        }
    }
    assert_eq!(contracts.len(), 12);
    for c in &contracts {
        assert!(c.with_extension("test").is_file(), "{} has no tests", c.display());
    }
    let out = deal(&["test", "contracts"], "");
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let last = out.stdout.lines().last().unwrap();
    assert!(
        last.starts_with("test result: ok. ") && last.ends_with(" passed, 0 failed"),
        "{last}"
    );
    let passed: usize = last["test result: ok. ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    // The fifty conformance scenarios and the top-level contracts' own.
    assert!(passed >= 60, "{passed}");
    assert_eq!(out.stdout.matches(" ... ok\n").count(), passed);
}

#[test]
fn a_failing_suite_says_which_tests_failed_and_where() {
    let out = deal(&["test", "tests/fixtures/bad_tests/mismatch.test"], "");
    assert_eq!(out.code, 1, "{}", out.stderr);
    let file = "tests/fixtures/bad_tests/mismatch.test";
    assert!(out.stdout.contains(&format!(
        "test {file}: an early termination, expected wrongly ... FAILED"
    )));
    assert!(out
        .stdout
        .contains(&format!("test {file}: no breach, as expected ... ok")));
    assert!(out
        .stdout
        .contains(&format!("test {file}: a breach nobody expected ... FAILED")));
    assert!(
        out.stdout.ends_with("test result: FAILED. 1 passed, 2 failed\n"),
        "{}",
        out.stdout
    );
    // Each failure points at its expectation, with both sides.
    assert!(
        out.stderr
            .contains("╭─[tests/fixtures/bad_tests/mismatch.test:12:5]"),
        "{}",
        out.stderr
    );
    assert!(out
        .stderr
        .contains("expected: clause no_early_termination is active"));
    assert!(out
        .stderr
        .contains("actual: clause no_early_termination is ended"));
}

#[test]
fn failures_in_json_point_at_the_expectation() {
    let out = deal(
        &[
            "test",
            "tests/fixtures/bad_tests/mismatch.test",
            "--format",
            "json",
        ],
        "",
    );
    assert_eq!(out.code, 1);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        (doc["passed"].as_u64(), doc["failed"].as_u64()),
        (Some(1), Some(2))
    );
    let test = &doc["files"][0]["tests"][0];
    assert_eq!(test["status"], "failed");
    let clause = test["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["line"] == 12)
        .unwrap();
    assert_eq!(clause["code"], "deal::test::mismatch");
    assert_eq!(clause["file"], "tests/fixtures/bad_tests/mismatch.test");
    assert_eq!(clause["column"], 5);
}

#[test]
fn junit_has_a_case_per_scenario_and_a_failure_per_failed_one() {
    let out = deal(&["test", "tests/fixtures/bad_tests", "--format", "junit"], "");
    assert_eq!(out.code, 2, "errors in some files make the run exit 2");
    let x = &out.stdout;
    assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"deal test\""));
    assert!(x.contains(
        "<testsuite name=\"tests/fixtures/bad_tests/mismatch.test\" tests=\"3\" failures=\"2\" errors=\"0\""
    ));
    assert!(x.contains("<testcase name=\"a breach nobody expected\""));
    assert!(x.contains("<failure message=\"a breach that is not expected\" type=\"deal::test::mismatch\">"));
    assert!(x.contains("<error message=\"two scenarios are called `an invoice`\""));
    assert_eq!(x.matches("<testcase ").count(), x.matches("</testcase>").count());
    assert!(x.trim_end().ends_with("</testsuites>"));
}

#[test]
fn update_rewrites_what_failed_and_then_passes() {
    let dir = scratch("update");
    let test = dir.join("saas.test");
    std::fs::copy(root().join("contracts/saas.deal"), dir.join("saas.deal")).unwrap();
    let original = std::fs::read_to_string(root().join("tests/fixtures/bad_tests/mismatch.test"))
        .unwrap()
        .replace(
            "tests of \"../../../contracts/saas.deal\"",
            "tests of \"saas.deal\"",
        );
    std::fs::write(&test, &original).unwrap();
    let out = deal(&["test", "--update", text(&test)], "");
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("updated"), "{}", out.stdout);
    let updated = std::fs::read_to_string(&test).unwrap();
    assert!(
        updated.contains("    clause no_early_termination is ended\n"),
        "{updated}"
    );
    assert!(updated.contains("    Meridian owes Cloudwise 40000.00 USD, paid 0.00 USD\n"));
    assert!(updated.contains("    Meridian breached no_early_termination on 2025-02-10\n"));
    // The breach that was not there is gone, and the one nobody expected
    // takes the place of `no breaches`.
    assert!(!updated.contains(
        "breached subscription on 2025-02-15 when the deadline passed\n    Meridian breached no_early"
    ));
    assert!(
        updated.ends_with("    Meridian breached subscription on 2025-02-15 when the deadline passed\n"),
        "{updated}"
    );
    // The comment and the scenario that passed are as they were.
    assert!(updated.starts_with("# Every kind of expectation"));
    assert!(updated.contains("scenario \"no breach, as expected\"\n  events\n    2025-01-31 monthly_invoice (fee: 40000.00 USD)\n  expect as of 2025-02-10\n    exit 0\n    no breaches\n"));
    let again = deal(&["test", text(&test)], "");
    assert_eq!(again.code, 0, "{}", again.stderr);
}

#[test]
fn update_fills_an_empty_block() {
    let dir = scratch("fill");
    std::fs::copy(root().join("contracts/saas.deal"), dir.join("saas.deal")).unwrap();
    let test = dir.join("saas.test");
    std::fs::write(
        &test,
        "scenario \"one invoice\"\n  events\n    2025-01-31 monthly_invoice (fee: 40000.00 USD)\n  expect as of 2025-02-28\n",
    )
    .unwrap();
    let before = deal(&["test", text(&test)], "");
    assert_eq!(before.code, 1);
    assert!(before.stderr.contains("deal::test::empty"));
    let out = deal(&["test", "--update", text(&test)], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let filled = std::fs::read_to_string(&test).unwrap();
    assert!(
        filled.contains("  expect as of 2025-02-28\n    exit 1\n    clause subscription is active\n"),
        "{filled}"
    );
    assert!(filled.contains("    Meridian breached subscription on 2025-02-15 when the deadline passed\n"));
}

#[test]
fn errors_exit_2_and_name_their_file() {
    for (file, code) in [
        ("syntax", "deal::test::syntax"),
        ("no_contract", "deal::test::no_contract"),
        ("bad_contract", "deal::test::bad_contract"),
        ("unknown_name", "deal::test::unknown_name"),
        ("unreadable_events", "deal::test::unreadable"),
        ("bad_set", "deal::test::bad_set"),
        ("duplicate_name", "deal::test::duplicate_name"),
    ] {
        let out = deal(&["test", &format!("tests/fixtures/bad_tests/{file}.test")], "");
        assert_eq!(out.code, 2, "{file}: {}", out.stderr);
        assert!(out.stderr.contains(code), "{file}: {}", out.stderr);
        assert!(out.stdout.contains("ERROR"), "{file}: {}", out.stdout);
    }
    let none = deal(&["test", "tests/fixtures/bad_contracts"], "");
    assert_eq!(none.code, 2);
    assert!(none.stderr.contains("deal::test::no_tests"));
}

#[test]
fn a_contract_path_runs_the_test_file_beside_it() {
    let out = deal(&["test", "contracts/saas.deal", "--filter", "terminating"], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout.matches(" ... ok").count(), 1, "{}", out.stdout);
}

#[test]
fn init_scaffolds_a_contract_that_checks_clean_and_whose_tests_pass() {
    let dir = scratch("init");
    let name = dir.join("supply");
    let out = deal(&["init", text(&name)], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    for ext in ["deal", "events.jsonl", "test"] {
        assert!(dir.join(format!("supply.{ext}")).is_file(), "{ext}");
    }
    let check = deal(&["check", text(&dir.join("supply.deal"))], "");
    assert_eq!(check.code, 0, "{}", check.stderr);
    assert!(
        check.stderr.is_empty(),
        "the scaffold draws warnings: {}",
        check.stderr
    );
    assert_eq!(
        check.stdout,
        "checked 1 contract: 2 clauses, 0 errors, 0 warnings\n"
    );
    let test = deal(&["test", text(&dir)], "");
    assert_eq!(test.code, 0, "{}\n{}", test.stdout, test.stderr);
    assert!(test.stdout.ends_with("test result: ok. 2 passed, 0 failed\n"));
    let run = deal(
        &[
            "run",
            text(&dir.join("supply.deal")),
            "--events",
            text(&dir.join("supply.events.jsonl")),
        ],
        "",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Never over a file that is there.
    let again = deal(&["init", text(&name)], "");
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("deal::cli::exists"));
}

//! Every scenario of every conformance case, through the real CLI.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "a test fails by panicking"
)]

mod common;

use std::path::Path;

use common::{deal, root};
use rust_decimal::Decimal;
use serde_json::Value;

fn dec(v: &Value) -> Decimal {
    Decimal::from_str_exact(v.as_str().unwrap_or_else(|| panic!("not a decimal string: {v}"))).unwrap()
}

/// Checks one scenario; returns what did not match.
fn check(case: &str, scenario: &Path) -> Vec<String> {
    let expect: Value = serde_json::from_str(&std::fs::read_to_string(scenario).unwrap()).unwrap();
    let events = scenario
        .to_str()
        .unwrap()
        .replace(".expect.json", ".events.jsonl");
    let contract = format!("contracts/conformance/{case}.deal");
    let mut args = vec![
        "run",
        contract.as_str(),
        "--events",
        events.as_str(),
        "--format",
        "json",
    ];
    let extra: Vec<String> = expect["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    args.extend(extra.iter().map(String::as_str));
    let out = deal(&args, "");
    let mut problems = Vec::new();
    if i64::from(out.code) != expect["exit"].as_i64().unwrap() {
        problems.push(format!(
            "exit {} (expected {})\n{}",
            out.code, expect["exit"], out.stderr
        ));
    }
    let Ok(report) = serde_json::from_str::<Value>(&out.stdout) else {
        problems.push(format!("no report:\n{}", out.stderr));
        return problems;
    };

    if let Some(want) = expect.get("breaches").and_then(Value::as_array) {
        let got = report["breaches"].as_array().unwrap();
        if got.len() != want.len() {
            problems.push(format!(
                "{} breaches (expected {}): {got:?}",
                got.len(),
                want.len()
            ));
        }
        let mut used = vec![false; got.len()];
        for w in want {
            let dates: Vec<&str> = match &w["at"] {
                Value::Array(a) => a.iter().map(|d| d.as_str().unwrap()).collect(),
                d => vec![d.as_str().unwrap()],
            };
            let found = got.iter().enumerate().position(|(i, g)| {
                !used[i]
                    && g["clause"] == w["clause"]
                    && g["party"] == w["party"]
                    && dates.contains(
                        &&g["at"].as_str().unwrap_or("")[..10.min(g["at"].as_str().unwrap_or("").len())],
                    )
                    && g["line"] == w["line"]
            });
            match found {
                Some(i) => used[i] = true,
                None => problems.push(format!("no breach like {w} in {got:?}")),
            }
        }
    }

    if let Some(want) = expect.get("balances").and_then(Value::as_array) {
        let got = report["balances"].as_array().unwrap();
        for w in want {
            let row = got
                .iter()
                .find(|g| g["from"] == w["from"] && g["to"] == w["to"] && g["currency"] == w["currency"]);
            let amounts = ["accrued", "paid", "outstanding", "overdue"];
            match row {
                Some(g) => {
                    for a in amounts {
                        if let Some(v) = w.get(a) {
                            if dec(v) != dec(&g[a]) {
                                problems.push(format!("{a} {} (expected {v}) in {g}", g[a]));
                            }
                        }
                    }
                }
                None => {
                    let all_zero = amounts.iter().all(|a| w.get(*a).is_none_or(|v| dec(v).is_zero()));
                    if !all_zero {
                        problems.push(format!("no balance row like {w} in {got:?}"));
                    }
                }
            }
        }
    }

    if let Some(want) = expect.get("norms").and_then(Value::as_array) {
        let got = report["norms"].as_array().unwrap();
        for w in want {
            let fields = w.as_object().unwrap();
            if !got.iter().any(|g| fields.iter().all(|(k, v)| &g[k] == v)) {
                problems.push(format!("no norm like {w} in {got:?}"));
            }
        }
    }

    if let Some(want) = expect.get("clauses").and_then(Value::as_object) {
        let got = report["clauses"].as_array().unwrap();
        for (name, state) in want {
            match got.iter().find(|c| &c["name"] == name) {
                Some(c) if &c["state"] == state => {}
                Some(c) => problems.push(format!("clause {name} is {} (expected {state})", c["state"])),
                None => problems.push(format!("no clause {name}")),
            }
        }
    }
    problems
}

fn scenarios() -> Vec<(String, std::path::PathBuf)> {
    let mut out = Vec::new();
    for case in std::fs::read_dir(root().join("tests/conformance")).unwrap() {
        let case = case.unwrap().path();
        if !case.is_dir() {
            continue;
        }
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        for f in std::fs::read_dir(&case).unwrap() {
            let f = f.unwrap().path();
            if f.to_string_lossy().ends_with(".expect.json") {
                out.push((name.clone(), f));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn every_conformance_scenario_passes() {
    let all = scenarios();
    assert_eq!(all.len(), 50, "the suite has 50 scenarios");
    let mut failures = Vec::new();
    for (case, path) in &all {
        let problems = check(case, path);
        if !problems.is_empty() {
            failures.push(format!(
                "{case}/{}:\n  {}",
                path.file_name().unwrap().to_string_lossy(),
                problems.join("\n  ")
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n{}",
        failures.len(),
        all.len(),
        failures.join("\n")
    );
}

#[test]
fn every_conformance_contract_checks_clean() {
    for case in std::fs::read_dir(root().join("tests/conformance")).unwrap() {
        let case = case.unwrap().path();
        if !case.is_dir() {
            continue;
        }
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let out = deal(&["check", &format!("contracts/conformance/{name}.deal")], "");
        assert_eq!(out.code, 0, "{name}:\n{}", out.stderr);
    }
}

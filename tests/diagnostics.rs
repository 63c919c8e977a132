//! Every diagnostic `deal` can give, rendered colourless at 80 columns and
//! held in snapshots; plus the law that every code is unique, documented, and
//! shown by at least one case here.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "a test fails by panicking"
)]

mod common;

use std::collections::BTreeSet;

use common::{deal, root, REFERENCE};
use deal::diag::source::SourceFile;
use deal::diag::{render, Style};
use deal::driver::{self, replay, LoadError, ReplayOptions};
use deal::eval::Engine;
use deal::events::EventReader;

fn render_contract(name: &str, text: &str) -> String {
    let source = SourceFile::new(name, text);
    let diags: Vec<String> = match driver::load(&source) {
        Ok(loaded) => loaded
            .warnings
            .into_iter()
            .map(|w| {
                render(
                    miette::Report::new(w).with_source_code(source.clone()).as_ref(),
                    Style::PLAIN,
                )
            })
            .collect(),
        Err(LoadError::Syntax(e)) => {
            vec![render(
                miette::Report::new(*e).with_source_code(source.clone()).as_ref(),
                Style::PLAIN,
            )]
        }
        Err(LoadError::Check(es)) => es
            .into_iter()
            .map(|e| {
                render(
                    miette::Report::new(e).with_source_code(source.clone()).as_ref(),
                    Style::PLAIN,
                )
            })
            .collect(),
    };
    diags.join("\n")
}

fn render_events(name: &str, text: &[u8]) -> String {
    let contract = std::fs::read_to_string(root().join(REFERENCE)).unwrap();
    let source = SourceFile::new(REFERENCE, contract);
    let loaded = driver::load(&source).map_err(|_| ()).unwrap();
    let reader = EventReader::new(&loaded.program, &source, name);
    let mut engine = Engine::new(&loaded.program);
    let out = replay(&mut engine, &reader, text, ReplayOptions::default(), |_, _| {});
    out.rejected
        .iter()
        .map(|e| render(e, Style::PLAIN))
        .collect::<Vec<_>>()
        .join("\n")
}

fn files(dir: &str, ext: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .map(|p| {
            let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
            let rel = format!("{dir}/{}", p.file_name().unwrap().to_string_lossy());
            (stem, rel)
        })
        .collect();
    out.sort();
    out
}

/// Every case: (snapshot name, rendered diagnostics).
fn corpus() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (stem, rel) in files("tests/fixtures/bad_contracts", "deal") {
        let text = std::fs::read_to_string(root().join(&rel)).unwrap();
        out.push((format!("contract_{stem}"), render_contract(&rel, &text)));
    }
    for (stem, rel) in files("tests/fixtures/bad_events", "jsonl") {
        let text = std::fs::read(root().join(&rel)).unwrap();
        out.push((format!("events_{stem}"), render_events(&rel, &text)));
    }

    // Test files that fail or cannot run: what `deal test` says of each.
    for (stem, rel) in files("tests/fixtures/bad_tests", "test") {
        out.push((format!("test_{stem}"), deal(&["test", &rel], "").stderr));
    }

    // Hostile inputs, made here rather than kept as files.
    let chain = format!(
        "deal \"x\"\nparties A\nterms\n  t = {}\n",
        vec!["1"; 300].join(" +\n    ")
    );
    out.push((
        "contract_expression_too_long".into(),
        render_contract("chain.deal", &chain),
    ));
    let huge = format!("deal \"x\"\n# {}\n", "x".repeat(1 << 20));
    out.push(("contract_too_large".into(), render_contract("huge.deal", &huge)));
    let line = format!(
        "{{\"at\":\"2025-04-01\",\"event\":\"cloud_offer\",\"ref\":\"{}\",\"price\":\"1 USD\"}}\n",
        "r".repeat(5 << 20)
    );
    out.push((
        "events_five_megabyte_line".into(),
        render_events("long.jsonl", line.as_bytes()),
    ));
    out.push((
        "events_not_utf8".into(),
        render_events(
            "latin1.jsonl",
            b"{\"at\":\"2025-04-01\",\"event\":\"ip_use\",\"product\":\"Caf\xe9\"}\n",
        ),
    ));

    // Breaches in the text report: one by an act, one by time passing.
    let events = "{\"at\":\"2025-01-21\",\"event\":\"cloud_terms_amended\"}\n\
                  {\"at\":\"2025-03-01\",\"event\":\"cloud_contract\",\"provider\":\"Google\",\"ref\":\"gcp\"}\n\
                  {\"at\":\"2025-03-31\",\"event\":\"revenue\",\"amount\":\"1000.00 USD\"}\n";
    let run = deal(&["run", REFERENCE, "--events", "-", "--at", "2025-05-15"], events);
    let report = run
        .stdout
        .split("\nBreaches\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    out.push(("report_breaches".into(), report));

    // The command line.
    let cli: &[(&str, &[&str])] = &[
        ("cli_usage", &["run", REFERENCE]),
        ("cli_unreadable", &["check", "no/such/contract.deal"]),
        ("cli_too_large", &["check", "/dev/zero"]),
        (
            "cli_events_unreadable",
            &["run", REFERENCE, "--events", "no/such/events.jsonl"],
        ),
        (
            "cli_events_directory",
            &["run", REFERENCE, "--events", "tests/fixtures"],
        ),
        (
            "cli_bad_at",
            &["run", REFERENCE, "--events", "-", "--at", "2026-02-30"],
        ),
        (
            "cli_set_syntax",
            &["run", REFERENCE, "--events", "-", "--set", "future_profit_rate"],
        ),
        (
            "cli_set_table",
            &[
                "run",
                "contracts/saas.deal",
                "--events",
                "-",
                "--set",
                "credit_rates=5%",
            ],
        ),
        (
            "cli_set_over_shared",
            &["run", REFERENCE, "--events", "-", "--set", "revenue_rate=250%"],
        ),
        (
            "cli_bad_set",
            &[
                "run",
                REFERENCE,
                "--events",
                "-",
                "--set",
                "future_profit_rate=ten",
            ],
        ),
        (
            "cli_unknown_term",
            &["run", REFERENCE, "--events", "-", "--set", "profit_rate=10%"],
        ),
        (
            "cli_unwritable",
            &[
                "run",
                REFERENCE,
                "--events",
                "-",
                "--history",
                "no/such/dir/history.jsonl",
            ],
        ),
        ("cli_unknown_code", &["explain", "deal::check::unknown"]),
        (
            "fmt_unformatted",
            &["fmt", "--check", "tests/fixtures/fmt/unformatted.deal"],
        ),
        ("cli_no_tests", &["test", "tests/fixtures/bad_contracts"]),
        ("cli_test_unreadable", &["test", "no/such/contract.test"]),
        ("cli_init_exists", &["init", "contracts/saas"]),
        ("cli_init_failed", &["init", "no/such/folder/supply"]),
        (
            "cli_bad_horizon",
            &["run", REFERENCE, "--events", "-", "--dedup-horizon", "soon"],
        ),
    ];
    for (name, args) in cli {
        let out_ = deal(args, "");
        out.push((name.to_string(), out_.stderr));
    }
    // An editor that does not speak the protocol.
    out.push(("cli_lsp_failed".into(), deal(&["lsp"], "hello\r\n\r\n").stderr));
    let full = deal(
        &["run", REFERENCE, "--events", "-", "--history", "/dev/full"],
        "{\"at\":\"2025-01-21\",\"event\":\"cloud_terms_amended\"}\n",
    );
    out.push(("cli_write_failed".into(), full.stderr));
    let grown = deal(
        &[
            "run",
            "tests/fixtures/growing_without_bound.deal",
            "--events",
            "-",
            "--at",
            "2030-01-01",
        ],
        "{\"at\":\"2025-01-01\",\"event\":\"loan\",\"amount\":\"79228162514264337593543950 USD\"}\n",
    );
    out.push(("cli_cannot_report".into(), grown.stderr));
    out.push(("cli_spill_failed".into(), spill_failed()));
    out.extend(rejects_and_stops());
    let not_utf8 = std::env::temp_dir().join(format!("deal-latin1-{}.deal", std::process::id()));
    std::fs::write(&not_utf8, b"deal \"Caf\xe9\"\n").unwrap();
    let r = deal(&["check", not_utf8.to_str().unwrap()], "");
    let _ = std::fs::remove_file(&not_utf8);
    out.push((
        "cli_contract_not_utf8".into(),
        r.stderr.replace(not_utf8.to_str().unwrap(), "latin1.deal"),
    ));
    // `deal serve` on a port that is taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let r = deal(&["serve", "--port", &port], "");
    drop(taken);
    out.push(("cli_cannot_listen".into(), r.stderr.replace(&port, "PORT")));
    out
}

/// A dead-letter file that would be the events, lines set aside, a run
/// that stopped: each from its own code on, run in a folder of their own.
fn rejects_and_stops() -> Vec<(String, String)> {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("diag-rejects-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let events = dir.join("events.jsonl");
    std::fs::write(
        &events,
        "{\"at\":\"2025-01-21\",\"event\":\"cloud_terms_amended\"}\nnot json\n",
    )
    .unwrap();
    let from = |stderr: &str, code: &str| {
        let i = stderr.find(code).unwrap_or(0);
        stderr[i..].to_string()
    };
    let contract = root().join(REFERENCE);
    let run = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_deal"))
            .arg("run")
            .arg(&contract)
            .args(["--events", "events.jsonl", "--format", "json"])
            .args(extra)
            .current_dir(&dir)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let out: Vec<(String, String)> = vec![
        (
            "cli_overwrites_events".to_string(),
            from(
                &run(&["--rejects", "events.jsonl"]),
                "deal::cli::overwrites_events",
            ),
        ),
        (
            "run_rejected".to_string(),
            from(&run(&["--rejects", "rejects.jsonl"]), "deal::run::rejected"),
        ),
        (
            "run_stopped".to_string(),
            from(&run(&["--at", "2025-06-30"]), "deal::run::stopped"),
        ),
    ];
    // States that cannot be carried on from, and a line left unread.
    let mut out = out;
    let first = run(&["--state", "run.state"]);
    assert!(!first.contains("deal::state::"), "{first}");
    let saved = std::fs::read(dir.join("run.state")).unwrap();
    out.push((
        "state_other_contract".to_string(),
        from(
            &run(&["--state", "run.state", "--set", "future_profit_rate=10%"]),
            "deal::state::other_contract",
        ),
    ));
    out.push((
        "state_other_horizon".to_string(),
        from(
            &run(&["--state", "run.state", "--dedup-horizon", "90 days"]),
            "deal::state::other_horizon",
        ),
    ));
    let mut damaged = saved.clone();
    let at = damaged.len() - 2;
    damaged[at] ^= 1;
    std::fs::write(dir.join("run.state"), &damaged).unwrap();
    out.push((
        "state_corrupt".to_string(),
        from(&run(&["--state", "run.state"]), "deal::state::corrupt"),
    ));
    let other = String::from_utf8(saved)
        .unwrap()
        .replacen("deal-state 1 ", "deal-state 7 ", 1);
    std::fs::write(dir.join("run.state"), other).unwrap();
    out.push((
        "state_version".to_string(),
        from(&run(&["--state", "run.state"]), "deal::state::version"),
    ));
    std::fs::create_dir_all(dir.join("a-folder")).unwrap();
    out.push((
        "state_unreadable".to_string(),
        from(&run(&["--state", "a-folder"]), "deal::state::unreadable"),
    ));
    out.push((
        "state_unwritable".to_string(),
        from(
            &run(&["--state", "no/such/folder/run.state"]),
            "deal::state::unwritable",
        ),
    ));
    std::fs::write(
        dir.join("events.jsonl"),
        "{\"at\":\"2025-01-21\",\"event\":\"cloud_terms_amended\"}\n{\"at\":\"2025-01-22\",\"eve",
    )
    .unwrap();
    out.push((
        "run_unended".to_string(),
        from(&run(&["--state", "fresh.state"]), "deal::run::unended"),
    ));
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// More breaches than are held in memory, with nowhere to set the rest
/// aside: a warning, and a report still complete.
fn spill_failed() -> String {
    use std::io::Write as _;
    let events: String = (0..10_005)
        .map(|i| format!("{{\"at\":\"2025-03-01\",\"event\":\"resale_license\",\"licensee\":\"L{i}\",\"platform\":\"p\"}}\n"))
        .collect();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_deal"))
        .args(["run", REFERENCE, "--events", "-", "--format", "json"])
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env("TMPDIR", "/nonexistent/deal-spill")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(events.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["breaches"].as_array().unwrap().len(), 10_005);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    // Only the warning about the spill, the contract's own being shown
    // elsewhere; the temporary file's name is made afresh each run.
    let from = stderr.find("deal::cli::spill_failed").unwrap_or(0);
    let warning = &stderr[from..];
    match warning.find(".tmp") {
        Some(i) => {
            let end = warning[i..].find('"').map_or(warning.len(), |j| i + j);
            format!("{}.tmpXXXXXX{}", &warning[..i], &warning[end..])
        }
        None => warning.to_string(),
    }
}

#[test]
fn every_diagnostic_renders_as_its_snapshot() {
    let cases = corpus();
    assert!(cases.iter().filter(|(n, _)| n.starts_with("contract_")).count() >= 40);
    assert!(cases.iter().filter(|(n, _)| n.starts_with("events_")).count() >= 15);
    for (name, text) in cases {
        assert!(!text.trim().is_empty(), "{name} gave no diagnostic");
        insta::assert_snapshot!(name, text);
    }
}

/// `code(deal::…)` in the sources, by the variant that declares it.
fn declared_codes() -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root().join("src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let mut rest = text.as_str();
                while let Some(i) = rest.find("code(deal::") {
                    let tail = &rest[i + 5..];
                    let end = tail.find(')').unwrap();
                    out.push(tail[..end].to_string());
                    rest = &tail[end..];
                }
            }
        }
    }
    out.sort();
    out
}

fn documented_codes() -> Vec<String> {
    let docs = std::fs::read_to_string(root().join("docs/diagnostics.md")).unwrap();
    let mut out: Vec<String> = docs
        .lines()
        .filter_map(|l| l.strip_prefix("## `"))
        .map(|l| l.trim_end_matches('`').to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn every_code_is_unique_documented_and_shown() {
    let declared = declared_codes();
    let unique: BTreeSet<&String> = declared.iter().collect();
    assert_eq!(
        declared.len(),
        unique.len(),
        "a code is used by two diagnostics: {declared:?}"
    );

    let documented = documented_codes();
    let documented_set: BTreeSet<&String> = documented.iter().collect();
    assert_eq!(
        documented.len(),
        documented_set.len(),
        "a code is documented twice"
    );
    let undocumented: Vec<_> = unique.difference(&documented_set).collect();
    assert!(undocumented.is_empty(), "undocumented codes: {undocumented:?}");
    let stale: Vec<_> = documented_set.difference(&unique).collect();
    assert!(
        stale.is_empty(),
        "documented codes that no longer exist: {stale:?}"
    );

    let shown: BTreeSet<String> = corpus()
        .iter()
        .flat_map(|(_, text)| {
            text.split(|c: char| c.is_whitespace() || c == '"')
                .filter(|w| w.starts_with("deal::"))
                .map(|w| {
                    w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                        .to_string()
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let unshown: Vec<_> = unique.iter().filter(|c| !shown.contains(c.as_str())).collect();
    assert!(unshown.is_empty(), "codes no snapshot shows: {unshown:?}");
}

#[test]
fn explain_prints_each_documented_code() {
    for code in documented_codes() {
        let out = deal(&["explain", &code], "");
        assert_eq!(out.code, 0, "{code}: {}", out.stderr);
        assert!(out.stdout.contains(&code), "{code}:\n{}", out.stdout);
        assert!(out.stdout.lines().count() > 3, "{code} has no explanation");
    }
}

#[test]
fn important_errors_carry_the_right_code_label_and_span() {
    let text =
        std::fs::read_to_string(root().join("tests/fixtures/bad_contracts/unknown_event.deal")).unwrap();
    let source = SourceFile::new("unknown_event.deal", text.clone());
    let Err(LoadError::Check(errors)) = driver::load(&source) else {
        panic!("expected check errors")
    };
    let errors: Vec<_> = errors.into_iter().filter(|e| !e.is_warning()).collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    let e = &errors[0];
    let json = deal::diag::to_json(
        miette::Report::new(e.clone())
            .with_source_code(source.clone())
            .as_ref(),
    );
    assert_eq!(json["code"], "deal::check::unknown_name");
    assert_eq!(json["help"], "did you mean `order`?");
    assert_eq!(json["labels"][0]["label"], "not a declared event");
    let offset = json["span"]["offset"].as_u64().unwrap() as usize;
    let length = json["span"]["length"].as_u64().unwrap() as usize;
    assert_eq!(&text[offset..offset + length], "odrer");
    assert_eq!(json["line"], 14);

    // An event error points at the field in the line and at its declaration.
    let out = deal(
        &["run", REFERENCE, "--events", "-", "--error-format", "json"],
        "{\"at\":\"2025-04-01\",\"event\":\"revenue\",\"amount\":\"12\"}\n",
    );
    // The line's diagnostic, before the warning that the run stopped at it.
    let lines: Vec<&str> = out.stderr.lines().collect();
    let stopped: serde_json::Value = serde_json::from_str(lines[lines.len() - 1]).unwrap();
    assert_eq!(stopped["code"], "deal::run::stopped");
    let json: serde_json::Value = serde_json::from_str(lines[lines.len() - 2]).unwrap();
    assert_eq!(json["code"], "deal::event::bad_field");
    assert_eq!(json["file"], "<stdin>");
    assert_eq!(json["line"], 1);
    assert_eq!(json["column"], 47);
    assert_eq!(json["related"][0]["file"], REFERENCE);
    assert_eq!(json["related"][0]["labels"][0]["label"], "money, required");
}

#[test]
fn a_hundred_thousand_nested_brackets_are_refused_without_overflow() {
    let text = format!(
        "deal \"x\"\nparties A\nterms\n  t = {}1{}\n",
        "(".repeat(100_000),
        ")".repeat(100_000)
    );
    let rendered = render_contract("deep.deal", &text);
    assert!(rendered.contains("deal::parse::too_deep"), "{rendered}");
    let nots = format!(
        "deal \"x\"\nparties A\nterms\n  t = {} true\n",
        "not ".repeat(100_000)
    );
    assert!(render_contract("nots.deal", &nots).contains("deal::parse::too_deep"));
    let chain = format!(
        "deal \"x\"\nparties A\nterms\n  t = {}\n",
        vec!["1"; 100_000].join(" + ")
    );
    assert!(render_contract("chain.deal", &chain).contains("deal::parse::expression_too_long"));
    // Brackets cannot multiply the length: the bound counts what is inside them.
    let inner = vec!["1"; 200].join(" + ");
    let nested = format!(
        "deal \"x\"\nparties A\nterms\n  t = {}{inner}{}\n",
        "(".repeat(60),
        format!(") + {inner}").repeat(60)
    );
    assert!(render_contract("nested.deal", &nested).contains("deal::parse::expression_too_long"));
}

#[test]
fn the_longest_expression_allowed_is_checked_and_evaluated() {
    let chain = vec!["1 USD"; 257].join(" + ");
    let text = format!(
        "deal \"x\"\nparties A, B\nterms\n  t = {chain}\nevents\n  e\n  payment (from: party, to: party, amount: money)\nclause c\n  A owes B t for each e\n"
    );
    let source = SourceFile::new("longest.deal", text);
    let loaded = driver::load(&source).map_err(|e| format!("{e:?}")).unwrap();
    let t = loaded.program.terms.values().find(|t| t.name == "t").unwrap();
    assert_eq!(
        t.value.as_ref().map(|v| v.to_string()),
        Some("257 USD".to_string())
    );
}

fn json_of(name: &str) -> Vec<serde_json::Value> {
    let rel = format!("tests/fixtures/bad_contracts/{name}.deal");
    let text = std::fs::read_to_string(root().join(&rel)).unwrap();
    let source = SourceFile::new(rel, text);
    match driver::load(&source) {
        Err(LoadError::Syntax(e)) => {
            vec![deal::diag::to_json(
                miette::Report::new(*e).with_source_code(source).as_ref(),
            )]
        }
        Err(LoadError::Check(es)) => es
            .into_iter()
            .map(|e| deal::diag::to_json(miette::Report::new(e).with_source_code(source.clone()).as_ref()))
            .collect(),
        Ok(_) => Vec::new(),
    }
}

#[test]
fn a_syntax_error_points_just_after_the_last_word_written() {
    let d = &json_of("syntax_deadline_without_duration")[0];
    assert_eq!(d["code"], "deal::parse::syntax");
    assert_eq!(d["message"], "expected a value, found the end of the file");
    assert_eq!((d["line"].as_u64(), d["column"].as_u64()), (Some(12), Some(65)));
    assert_eq!(d["span"]["length"], 0);
}

#[test]
fn a_duplicate_is_labelled_where_it_was_declared_and_again() {
    let d = &json_of("duplicate_party")[0];
    assert_eq!(d["code"], "deal::check::duplicate_name");
    let labels: Vec<(&str, u64)> = d["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["label"].as_str().unwrap(), l["column"].as_u64().unwrap()))
        .collect();
    assert!(labels.contains(&("declared again here", 24)), "{labels:?}");
    assert!(labels.contains(&("first declared here", 9)), "{labels:?}");
}

#[test]
fn output_to_a_pipe_has_no_colour_even_without_no_color() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_deal"))
        .args(["check", "tests/fixtures/bad_contracts/unknown_event.deal"])
        .current_dir(root())
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("unknown event"), "{stderr}");
    assert!(
        !stderr.contains('\u{1b}'),
        "escape codes in piped output:\n{stderr}"
    );
}

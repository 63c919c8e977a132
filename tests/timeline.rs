//! `--format html` and `deal serve`, through the real binary; and the
//! browser tests, run when Chromium and their node modules are present.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "a test fails by panicking"
)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

fn html(args: &[&str], stdin: &str) -> Output {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "html"]);
    deal(&all, stdin)
}

const AMENDED: &str = r#"{"at":"2025-01-21","event":"cloud_terms_amended"}"#;
const GCP: &str =
    r#"{"at":"2025-03-01","event":"cloud_contract","provider":"Google","ref":"gcp","price":"5 USD"}"#;

#[test]
fn the_reference_deal_is_one_self_contained_page() {
    let out = html(&[REFERENCE, "--events", REFERENCE_EVENTS], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    let page = &out.stdout;
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert_eq!(
        page.matches("<li class=\"lane\"").count(),
        6,
        "one lane per clause"
    );
    for c in [
        "cloud_exclusivity",
        "cloud_first_refusal",
        "azure_resale_exclusivity",
        "ip_reuse",
        "revenue_share",
        "future_profit_share",
    ] {
        assert!(page.contains(&format!("id=\"c-{c}\"")), "{c}");
    }
    // Nothing is fetched: no external script, style, image or font.
    for bad in ["<link", " src=", "http://", "https://", "url(", "@import"] {
        assert!(
            !page.contains(bad),
            "the page refers to something outside it: {bad}"
        );
    }
    assert!(page.contains("As of 26 Oct 2026"));
    assert!(page.contains("suspended since 28 Oct 2025"));
    // The text of every mark is in the page, for readers without script.
    assert!(
        page.contains("lapsed</strong> on 21 Jan 2025"),
        "the offer that lapsed"
    );
    assert!(page.contains("Amount owed for 2025-Q1"));
    // The money, exactly.
    assert!(page.contains("6,400,000,000.00"));
    assert!(out.stdout.len() < 200_000, "{} bytes", out.stdout.len());
}

#[test]
fn a_breach_is_a_marker_named_by_its_clause_and_date_and_listed_with_a_link() {
    let out = html(&[REFERENCE, "--events", "-"], &lines(&[AMENDED, GCP]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let page = &out.stdout;
    let marker = page.find("class=\"mk breach\"").expect("a breach marker");
    let tip = &page[marker..page[marker..].find("</a>").unwrap() + marker];
    assert!(tip.contains("Breach of Cloud first refusal"), "{tip}");
    assert!(tip.contains("1 Mar 2025"), "{tip}");
    assert!(tip.contains("line 2"), "{tip}");
    let id = tip.split("id=\"").nth(1).unwrap().split('"').next().unwrap();
    assert!(
        page.contains(&format!("<a href=\"#{id}\"><time datetime=\"2025-03-01\">")),
        "the list links to the marker"
    );
}

#[test]
fn a_stopped_run_s_page_says_so() {
    let out = html(&[REFERENCE, "--events", "-"], &lines(&[AMENDED, "not json"]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stdout.contains("class=\"stopped\""), "a banner");
    assert!(
        out.stdout.contains("Stopped at line 2 of &lt;stdin&gt;"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_page_carried_on_from_a_state_quotes_this_file_s_lines() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("run.state");
    let (first, second) = (dir.path().join("1.jsonl"), dir.path().join("2.jsonl"));
    std::fs::write(&first, lines(&[AMENDED])).unwrap();
    std::fs::write(&second, lines(&[GCP])).unwrap();
    let state = state.to_str().unwrap();
    let out = deal(
        &[
            "run",
            REFERENCE,
            "--events",
            first.to_str().unwrap(),
            "--state",
            state,
        ],
        "",
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let second = second.to_str().unwrap();
    let out = html(&[REFERENCE, "--events", second, "--state", state], "");
    assert_eq!(out.code, 1, "{}", out.stderr);
    // The breach is line 2 of the stream, line 1 of this file.
    assert!(
        out.stdout.contains(&format!("{second} line 1</span> <code>")),
        "{}",
        out.stdout
    );
}

#[test]
fn text_from_events_is_escaped() {
    let hostile = r#"{"at":"2025-02-03","event":"ip_use","product":"<script>alert(1)</script>"}"#;
    let offer = r#"{"at":"2025-02-04","event":"cloud_offer","ref":"\"><img src=x onerror=alert(2)>","price":"1 USD"}"#;
    let out = html(&[REFERENCE, "--events", "-"], &lines(&[AMENDED, hostile, offer]));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let page = &out.stdout;
    assert!(!page.contains("<script>alert"), "raw script from an event");
    assert!(!page.contains("<img"), "raw markup from an event");
    assert!(page.contains("&lt;img src=x onerror=alert(2)&gt;"));
    assert_eq!(page.matches("<script>").count(), 1, "only the page's own script");
}

#[test]
fn html_with_history_writes_both_and_reads_standard_input() {
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("html-history-{}.jsonl", std::process::id()));
    let events = std::fs::read_to_string(root().join(REFERENCE_EVENTS)).unwrap();
    let out = html(
        &[REFERENCE, "--events", "-", "--history", path.to_str().unwrap()],
        &events,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let history = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(history.lines().count() > 30);
    // Event lines behind the marks are quoted, from standard input too.
    assert!(out.stdout.contains("&quot;stargate-declined&quot;"));
    // An accrual says when it falls due.
    assert!(history.contains(r#""record":"accrual""#) && history.contains(r#""due":"2025-04-30""#));
}

/// The totals drawn from the history end where the report's do.
#[test]
fn the_history_totals_match_the_report_for_every_contract() {
    use deal::diag::source::SourceFile;
    use deal::driver::{load, replay, ReplayOptions};
    use deal::eval::{Engine, Options};
    use deal::events::EventReader;
    use deal::report::{html as h, Report};
    for name in ["microsoft_openai", "distribution", "saas", "software_licence"] {
        let path = format!("contracts/{name}.deal");
        let text = std::fs::read_to_string(root().join(&path)).unwrap();
        let source = SourceFile::new(path.as_str(), text);
        let loaded = load(&source).map_err(|_| ()).unwrap();
        let (timeline, tap) = h::tap(&loaded.program, None);
        let mut engine = Engine::with_options(
            &loaded.program,
            Options {
                history: Some(tap),
                ..Options::default()
            },
        );
        let events = std::fs::read(root().join(format!("contracts/{name}.events.jsonl"))).unwrap();
        let reader = EventReader::new(&loaded.program, &source, "events");
        replay(
            &mut engine,
            &reader,
            &events[..],
            ReplayOptions::default(),
            |_, _| {},
        );
        engine.finish().unwrap();
        let snapshot = engine.snapshot().unwrap();
        let report = Report::build(&snapshot, None, 0);
        let tl = timeline.borrow();
        assert_eq!(tl.unreadable, 0);
        for b in &report.balances {
            let l = tl
                .ledgers
                .iter()
                .find(|l| l.from == b.from && l.to == b.to && l.currency == b.currency)
                .unwrap_or_else(|| panic!("{name}: no ledger {b:?}"));
            let d = |s: &str| rust_decimal::Decimal::from_str_exact(s).unwrap();
            assert_eq!(l.accrued(), d(&b.accrued), "{name} accrued");
            assert_eq!(l.paid(), d(&b.paid), "{name} paid");
            assert_eq!(l.overdue(), d(&b.overdue), "{name} overdue");
        }
        assert_eq!(tl.breach_count, report.breaches.len(), "{name} breaches");
    }
}

/// A long stream: lanes past a few hundred instances become counted bands,
/// and the page stays small.
#[test]
fn a_hundred_thousand_events_make_a_page_under_five_megabytes() {
    let mut s = String::with_capacity(10 << 20);
    s.push_str(AMENDED);
    s.push('\n');
    let mut n = 1;
    let mut i = 0u64;
    while n < 100_000 {
        let day = 20_109 + i / 60; // from 2025-01-22, sixty events a day
        let date = jiff::civil::Date::constant(1970, 1, 1)
            .checked_add(jiff::Span::new().days(day as i64))
            .unwrap();
        let line = match i % 10 {
            0..=2 => {
                s.push_str(&format!(
                    "{{\"at\":\"{date}\",\"event\":\"cloud_offer\",\"ref\":\"o{i}\",\"price\":\"100 USD\"}}\n"
                ));
                n += 1;
                format!("{{\"at\":\"{date}\",\"event\":\"cloud_offer_declined\",\"ref\":\"o{i}\"}}")
            }
            3..=5 => format!("{{\"at\":\"{date}\",\"event\":\"revenue\",\"amount\":\"1000.00 USD\"}}"),
            6 | 7 => format!(
                "{{\"at\":\"{date}\",\"event\":\"payment\",\"from\":\"OpenAI\",\"to\":\"Microsoft\",\"amount\":\"700.00 USD\"}}"
            ),
            8 => format!("{{\"at\":\"{date}\",\"event\":\"cloud_offer\",\"ref\":\"p{i}\",\"price\":\"100 USD\"}}"),
            _ => format!(
                "{{\"at\":\"{date}\",\"event\":\"cloud_contract\",\"provider\":\"Google\",\"ref\":\"g{i}\"}}"
            ),
        };
        s.push_str(&line);
        s.push('\n');
        n += 1;
        i += 1;
    }
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("html-100k-{}.jsonl", std::process::id()));
    std::fs::write(&path, &s).unwrap();
    let started = Instant::now();
    let out = html(&[REFERENCE, "--events", path.to_str().unwrap()], "");
    let took = started.elapsed();
    let _ = std::fs::remove_file(&path);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let size = out.stdout.len();
    assert!(size < 5 * 1024 * 1024, "{size} bytes");
    assert!(out.stdout.contains("class=\"band\""), "aggregated into bands");
    assert!(out.stdout.contains("that arose in"), "bands say what they count");
    assert!(out
        .stdout
        .contains("more are in <code>deal run … --format json</code>"));
    eprintln!("100k events: {size} bytes of HTML in {took:?}");
}

// ---------------------------------------------------------------- serve

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve() -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_deal"))
        .args(["serve", "--port", "0"])
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    err.read_line(&mut line).unwrap();
    let port = line
        .split("http://127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    Server { child, port }
}

/// One HTTP/1.1 request; the status and body.
fn request(port: u16, method: &str, path: &str, host: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    let _ = s.write_all(body.as_bytes());
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("").to_string();
    (status, body)
}

#[test]
fn the_playground_checks_and_runs_only_what_it_is_sent() {
    let server = serve();
    let host = format!("127.0.0.1:{}", server.port);
    let (status, page) = request(server.port, "GET", "/", &host, "");
    assert_eq!(status, 200);
    assert!(page.contains("deal <span>playground</span>"));
    assert!(!page.contains("https://") && !page.contains("<link"));

    // Another name for this machine is turned away.
    let (status, _) = request(server.port, "GET", "/", "attacker.example", "");
    assert_eq!(status, 403);

    let typo = serde_json::json!({"contract":
        "deal \"x\"\nparties A, B\nevents\n  order (ref: text)\n  ship (ref: text)\nclause c\n  after each odrer, A must ship with the same ref within 3 days\n"});
    let (status, body) = request(server.port, "POST", "/api/check", &host, &typo.to_string());
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["diagnostics"][0]["code"], "deal::check::unknown_name");
    assert_eq!(v["diagnostics"][0]["line"], 7);

    let contract = std::fs::read_to_string(root().join(REFERENCE)).unwrap();
    let run = serde_json::json!({"contract": contract, "events": lines(&[AMENDED, GCP]),
        "at": "2025-06-30", "sets": {"future_profit_rate": "10%"}});
    let (status, body) = request(server.port, "POST", "/api/run", &host, &run.to_string());
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["breaches"], 1);
    assert_eq!(v["as_of"], "2025-06-30");
    let html = v["html"].as_str().unwrap();
    assert_eq!(html.matches("<li class=\"lane\"").count(), 6);
    assert!(
        !v["diagnostics"].to_string().contains("open_term"),
        "the what-if filled it"
    );

    // Too many events for one request: stopped, and told why.
    let many = "{\"at\":\"2025-02-03\",\"event\":\"ip_use\",\"product\":\"x\"}\n".repeat(200_001);
    let big = serde_json::json!({"contract": contract, "events": many});
    let (status, body) = request(server.port, "POST", "/api/run", &host, &big.to_string());
    assert_eq!(
        status,
        413,
        "over the size limit: {}",
        &body[..body.len().min(200)]
    );
    let many = "{}\n".repeat(200_001);
    let over = serde_json::json!({"contract": contract, "events": many});
    let (status, body) = request(server.port, "POST", "/api/run", &host, &over.to_string());
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v["error"].as_str().unwrap().contains("budget of 200000"), "{v}");
}

#[test]
fn an_evaluation_past_its_time_is_stopped_with_a_message() {
    use deal::serve::{run, Budget, RunIn};
    let contract = std::fs::read_to_string(root().join(REFERENCE)).unwrap();
    let events = "{\"at\":\"2025-02-03\",\"event\":\"ip_use\",\"product\":\"x\"}\n".repeat(50_000);
    let input = RunIn {
        contract,
        events,
        at: None,
        sets: Default::default(),
    };
    let budget = Budget {
        events: 100_000,
        time: Duration::ZERO,
    };
    let out = run(&input, budget, &std::sync::atomic::AtomicBool::new(false));
    assert!(out.html.is_none());
    assert!(out.error.unwrap().contains("stopped after 0 s"));
}

// ------------------------------------------------------------- browsers

/// The end-to-end tests in `tests/browser/`, in headless Chromium. Skipped,
/// saying how to run them, where Chromium or the test's node modules are
/// missing.
#[test]
fn browser_tests() {
    let dir = root().join("tests/browser");
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_string());
    let ready = std::path::Path::new(&chromium).exists()
        && dir.join("node_modules/playwright-core").exists()
        && Command::new("node").arg("--version").output().is_ok();
    if !ready {
        // CI installs what they need (`.ci/run`): there, missing is a failure.
        assert!(
            std::env::var("CI").map_or(true, |v| v != "true"),
            "browser tests cannot run in CI: Chromium ({chromium}) or tests/browser/node_modules is missing"
        );
        eprintln!(
            "browser tests skipped: they need Chromium ({chromium}), node and their modules. \
             Run them with: apt-get install -y chromium nodejs npm && npm ci --prefix tests/browser && cargo test --test timeline browser_tests \
             (or `.ci/run`, which does all of it)"
        );
        return;
    }
    let out = Command::new("node")
        .args(["--test", "--test-reporter=spec"])
        .arg(dir.join("e2e.test.mjs"))
        .env("DEAL_BIN", env!("CARGO_BIN_EXE_deal"))
        .env("CHROMIUM", &chromium)
        .current_dir(root())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    eprintln!("{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "browser tests failed:\n{text}");
}

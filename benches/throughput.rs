//! Throughput of the interpreter on a large generated stream for the
//! reference deal: events per second (reading, typing and applying each
//! line) and the process's peak memory.
//!
//! `cargo bench --bench throughput` runs 100k, 300k and 1M events; give
//! counts as arguments to run others: `cargo bench --bench throughput -- 50000`.
//! Every event carries an `id`; set `DEAL_BENCH_NO_IDS=1` to leave them out
//! and see what the id fingerprints cost.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fmt::Write as _;
use std::time::Instant;

use deal::driver::{self, replay};
use deal::eval::Engine;
use deal::events::EventReader;
use deal::source::SourceFile;

const CONTRACT: &str = include_str!("../contracts/microsoft_openai.deal");

/// A stream of `n` events from 2025-01-21 on, a few minutes apart, mixing
/// every kind the reference deal reacts to. Every offer is declined and then
/// placed with a third party at the offered price, so the run has no breach
/// and every clause does real work.
fn stream(n: usize, out: &mut impl std::io::Write) {
    let ids = std::env::var_os("DEAL_BENCH_NO_IDS").is_none();
    let mut s = String::with_capacity(64 * 1024);
    s.push_str("{\"at\":\"2025-01-21\",\"event\":\"cloud_terms_amended\"}\n");
    let start = 1_737_417_600i64; // 2025-01-21T00:00:00Z
    let mut offer = 0usize;
    let mut owed_cents: i64 = 0;
    for i in 1..n {
        let t = start + (i as i64) * 120;
        let at = jiff::Timestamp::from_second(t).unwrap();
        let at = at.strftime("%Y-%m-%dT%H:%M:%SZ");
        let line = match i % 20 {
            0..=7 => {
                owed_cents += 2500;
                format!("{{\"at\":\"{at}\",\"id\":\"e{i}\",\"event\":\"revenue\",\"amount\":\"100.00 USD\"}}")
            }
            8..=11 => {
                let pay = owed_cents.min(5000);
                owed_cents -= pay;
                format!(
                    "{{\"at\":\"{at}\",\"id\":\"e{i}\",\"event\":\"payment\",\"from\":\"OpenAI\",\"to\":\"Microsoft\",\"amount\":\"{}.{:02} USD\"}}",
                    pay / 100,
                    pay % 100
                )
            }
            12 => {
                offer += 1;
                format!("{{\"at\":\"{at}\",\"id\":\"e{i}\",\"event\":\"cloud_offer\",\"ref\":\"r{offer}\",\"price\":\"1000 USD\"}}")
            }
            13 => format!("{{\"at\":\"{at}\",\"id\":\"e{i}\",\"event\":\"cloud_offer_declined\",\"ref\":\"r{offer}\"}}"),
            14 => format!(
                "{{\"at\":\"{at}\",\"id\":\"e{i}\",\"event\":\"cloud_contract\",\"provider\":\"Oracle\",\"ref\":\"r{offer}\",\"price\":\"1000 USD\"}}"
            ),
            15 | 16 => format!("{{\"at\":\"{at}\",\"id\":\"e{i}\",\"event\":\"ip_use\",\"product\":\"Copilot\"}}"),
            17 => format!(
                "{{\"at\":\"{at}\",\"id\":\"e{i}\",\"event\":\"resale_license\",\"licensee\":\"Microsoft\",\"platform\":\"Azure\"}}"
            ),
            _ => format!("{{\"at\":\"{at}\",\"id\":\"e{i}\",\"event\":\"product_profit\",\"product\":\"Sora\",\"amount\":\"10 USD\"}}"),
        };
        let line = if ids {
            line
        } else {
            line.replace(&format!(",\"id\":\"e{i}\""), "")
        };
        s.push_str(&line);
        s.push('\n');
        if s.len() > 60 * 1024 {
            out.write_all(s.as_bytes()).unwrap();
            s.clear();
        }
    }
    out.write_all(s.as_bytes()).unwrap();
}

/// The process's peak resident memory, in KiB, from /proc.
fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn run(n: usize) -> String {
    // The stream goes through a file, as a real one would, so that peak
    // memory measures the engine and not the stream's text.
    let path = std::env::temp_dir().join(format!("deal-bench-{}-{n}.jsonl", std::process::id()));
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        stream(n, &mut f);
    }
    let bytes = std::fs::metadata(&path).unwrap().len() as usize;
    let input = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
    let source = SourceFile::new("microsoft_openai.deal", CONTRACT);
    let loaded = driver::load(&source).map_err(|_| "contract").unwrap();
    let reader = EventReader::new(&loaded.program, &source, "bench.jsonl");
    let mut engine = Engine::new(&loaded.program);
    let before = peak_kib();
    let started = Instant::now();
    let outcome = replay(&mut engine, &reader, "bench.jsonl", input, None, false, |_, _| {});
    let elapsed = started.elapsed();
    let _ = std::fs::remove_file(&path);
    assert!(outcome.rejected.is_empty(), "{:?}", outcome.rejected.first());
    assert!(engine.breaches().is_empty(), "the generated stream has no breach");
    let counts = engine.counts();
    let per_sec = counts.applied as f64 / elapsed.as_secs_f64();
    let mut line = String::new();
    let _ = write!(
        line,
        "{n:>9} events  {:>8.1} MB  {:>7.3} s  {:>9.0} events/s  {:>6.1} MB/s",
        bytes as f64 / 1e6,
        elapsed.as_secs_f64(),
        per_sec,
        bytes as f64 / 1e6 / elapsed.as_secs_f64()
    );
    if let (Some(b), Some(a)) = (before, peak_kib()) {
        let _ = write!(
            line,
            "  peak RSS {:.1} MB (before the run {:.1} MB)",
            a as f64 / 1024.0,
            b as f64 / 1024.0
        );
    }
    line
}

fn main() {
    let counts: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.replace('_', "").parse().ok())
        .collect();
    let counts = if counts.is_empty() {
        vec![100_000, 300_000, 1_000_000]
    } else {
        counts
    };
    println!("deal throughput on the reference contract (one run each, release build)");
    for n in counts {
        println!("{}", run(n));
    }
}

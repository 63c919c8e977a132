//! The fuzz targets as a bounded replay, on stable: every seed of the fuzz
//! corpus, then a few thousand deterministic mutations of them, through the
//! same target bodies cargo-fuzz runs (`fuzz/src/lib.rs`), and every finding
//! under `fuzz/findings/` as a regression case.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "a test fails by panicking"
)]

#[allow(dead_code, reason = "the targets' file is shared with the fuzz crate")]
#[path = "../fuzz/src/lib.rs"]
mod targets;

mod common;

use std::path::{Path, PathBuf};

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

fn under(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    files(&common::root().join(dir), ext, &mut out);
    out
}

/// Seeds of `front_end`: every contract, good and bad.
fn contract_seeds() -> Vec<Vec<u8>> {
    let mut paths = under("tests/fixtures", "deal");
    paths.extend(under("contracts", "deal"));
    paths.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// Seeds of `event_line`: every line of every events file, good and bad.
fn line_seeds() -> Vec<Vec<u8>> {
    let mut paths = under("contracts", "jsonl");
    paths.extend(under("tests/fixtures/bad_events", "jsonl"));
    let mut out = Vec::new();
    for p in paths {
        let text = std::fs::read(p).unwrap();
        out.extend(
            text.split(|b| *b == b'\n')
                .filter(|l| !l.is_empty())
                .map(<[u8]>::to_vec),
        );
    }
    out
}

/// Seeds of `whole_run`: each contract's events file, as of its last event
/// and as of the end of 2031; each bad events file against the reference
/// deal; the reference deal with its open term filled.
fn run_seeds() -> Vec<Vec<u8>> {
    let with_head = |head: &str, body: &[u8]| [head.as_bytes(), b"\n", body].concat();
    let mut out = Vec::new();
    for p in under("contracts", "jsonl") {
        let name = p
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".events.jsonl", "");
        let body = std::fs::read(&p).unwrap();
        out.push(with_head(&name, &body));
        out.push(with_head(&format!("{name}|2031-12-31"), &body));
    }
    for p in under("tests/fixtures/bad_events", "jsonl") {
        out.push(with_head("microsoft_openai", &std::fs::read(p).unwrap()));
    }
    let reference = std::fs::read(common::root().join(common::REFERENCE_EVENTS)).unwrap();
    out.push(with_head(
        "microsoft_openai|2031-12-31|future_profit_rate=10%",
        &reference,
    ));
    out
}

/// xorshift64*: the same mutations on every run and every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// Pieces that reach the edges: of JSON, of numbers and the decimal type,
/// of the calendar, of the grammar.
const TOKENS: [&str; 40] = [
    "\"",
    "{",
    "}",
    ",",
    ":",
    "\n",
    "\r",
    " ",
    "-",
    ".",
    "%",
    "0",
    "9999999999999999999999999999",
    "0.0000000000000000000000000001",
    "79228162514264337593543950335",
    "-1",
    "1e3",
    " USD",
    " EUR",
    "null",
    "true",
    "\\u0000",
    "\\ud800",
    "é",
    "\u{2028}",
    "2025-02-29",
    "9999-12-31",
    "T23:59:59Z",
    "+14:00",
    "(",
    ")",
    "#",
    "round(",
    " of ",
    " days",
    " months",
    "where ",
    "\t",
    "after each ",
    "\"id\":\"x\",",
];

fn mutate(seeds: &[Vec<u8>], rng: &mut Rng) -> Vec<u8> {
    let mut out = seeds[rng.below(seeds.len())].clone();
    for _ in 0..=rng.below(3) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 if at < out.len() => out[at] = (rng.next() & 0xff) as u8,
            1 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                out.splice(at..at, token.iter().copied());
            }
            2 => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            3 => {
                let end = (at + 1 + rng.below(64)).min(out.len());
                let piece = out[at.min(end)..end].to_vec();
                out.splice(at..at, piece);
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                out.truncate(at);
                out.extend_from_slice(&other[from..]);
            }
            _ => {
                // A run of digits becomes one at the decimal type's limits.
                let start = out.iter().skip(at).position(u8::is_ascii_digit).map(|i| i + at);
                if let Some(start) = start {
                    let end = out
                        .iter()
                        .skip(start)
                        .position(|b| !b.is_ascii_digit())
                        .map_or(out.len(), |i| i + start);
                    let token = TOKENS[12 + rng.below(3)].as_bytes();
                    out.splice(start..end, token.iter().copied());
                }
            }
        }
    }
    out
}

/// Runs each input; on a panic, keeps the input where `cargo fuzz run
/// TARGET FILE` can replay it, and fails naming it.
fn replay(target: &str, f: fn(&[u8]), seeds: &[Vec<u8>], mutations: usize, seed: u64) {
    assert!(!seeds.is_empty(), "no seeds for {target}");
    let mut rng = Rng(seed);
    let inputs = seeds
        .iter()
        .cloned()
        .chain((0..mutations).map(|_| mutate(seeds, &mut rng)));
    for (i, input) in inputs.enumerate() {
        if std::panic::catch_unwind(|| f(&input)).is_err() {
            let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("fuzz-{target}-{i}"));
            std::fs::write(&path, &input).unwrap();
            panic!(
                "{target} failed on input {i}, kept in {}:\n{}",
                path.display(),
                String::from_utf8_lossy(&input)
            );
        }
    }
}

#[test]
fn front_end_survives_its_corpus() {
    replay(
        "front_end",
        targets::front_end,
        &contract_seeds(),
        1500,
        0x5eed_0001,
    );
}

#[test]
fn event_line_survives_its_corpus() {
    replay("event_line", targets::event_line, &line_seeds(), 250, 0x5eed_0002);
}

#[test]
fn whole_run_survives_its_corpus() {
    replay("whole_run", targets::whole_run, &run_seeds(), 100, 0x5eed_0003);
}

/// The findings under `fuzz/findings/`, each named for its target.
fn findings(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = common::root().join("fuzz/findings");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(&format!("{target}-")))
        })
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

type Target = (&'static str, fn(&[u8]));

/// Findings that do not make their target fail (the fault is past what the
/// target sees) are replayed with the corpus, so that they stay that way.
#[test]
fn findings_replay_through_their_targets() {
    let targets: [Target; 3] = [
        ("front_end", targets::front_end),
        ("event_line", targets::event_line),
        ("whole_run", targets::whole_run),
    ];
    for (target, f) in targets {
        let inputs: Vec<Vec<u8>> = findings(target).into_iter().map(|(_, input)| input).collect();
        if !inputs.is_empty() {
            replay(target, f, &inputs, 0, 0);
        }
    }
}

/// `whole_run-silent-exit-*`: when a growing amount overflows as it is
/// worked out for the report, `deal run` once exited 2 and said nothing at
/// all; it must report, or explain why it cannot.
#[test]
fn an_overflow_at_the_report_is_explained() {
    let found = findings("whole_run-silent-exit");
    assert_eq!(found.len(), 2);
    for (name, input) in found {
        let text = String::from_utf8(input).unwrap();
        let (head, events) = text.split_once('\n').unwrap();
        let mut parts = head.split('|');
        let contract = format!("contracts/conformance/{}.deal", parts.next().unwrap());
        let mut args = vec!["run", contract.as_str(), "--events", "-", "--format", "json"];
        let at = parts.next();
        if let Some(at) = at {
            args.extend(["--at", at]);
        }
        let out = common::deal(&args, events);
        // The penalty is capped, so exact arithmetic reaches a figure; what
        // must never happen again is an exit with nothing said.
        if out.code == 2 {
            assert!(
                !out.stderr.trim().is_empty(),
                "{name}: exit 2 without a diagnostic\nstdout:\n{}",
                out.stdout
            );
        } else {
            let report: serde_json::Value = serde_json::from_str(&out.stdout)
                .unwrap_or_else(|e| panic!("{name}: exit {} without a report: {e}", out.code));
            assert!(
                report["balances"].as_array().is_some_and(|b| !b.is_empty()),
                "{name}"
            );
        }
    }
}

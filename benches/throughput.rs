//! Throughput of `deal run` against a floor measured in the same run.
//!
//! For each stream, at two sizes, this generates a contract and a JSON Lines
//! file into a temporary folder, then times the real release binary on it
//! (`/usr/bin/time -f %M deal run CONTRACT --events FILE --format json`, so
//! the figures include process start, contract checking and the report) and
//! times the *floor* on the same file: an in-process loop that only reads
//! each line, decodes it into a typed, borrowed struct and parses its money
//! amounts. The floor is what any engine must pay to look at its input; the
//! ratio deal/floor says how far above that the engine is.
//!
//! Between the two sizes of a stream it prints the growth exponent of the
//! wall time, `ln(t2/t1) / ln(n2/n1)`: about 1 for an engine whose cost per
//! event does not depend on how much came before, about 2 for a quadratic one.
//!
//! ```text
//! cargo bench --bench throughput                      # everything (1-2 minutes)
//! cargo bench --bench throughput -- reference keyless # some streams
//! cargo bench --bench throughput -- --quick           # small sizes, a smoke check
//! ```
//!
//! Streams: `reference`, `growing`, `keyless`, `windowed`, `sharing`,
//! `open-norms` (see `Bench::inputs` for what each one is for). Set
//! `DEAL_BENCH_NO_IDS=1` to leave the `id`s out of the reference stream, and
//! `DEAL_BENCH_KEEP=1` to keep the generated files. Nothing here asserts a
//! time: the figures are printed as a markdown table for
//! `docs/performance.md`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "a test fails by panicking"
)]

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde::Deserialize;

/// The binary under test: cargo builds it for benches, in the bench profile
/// (which inherits `release`).
const DEAL: &str = env!("CARGO_BIN_EXE_deal");
const TIME: &str = "/usr/bin/time";
const REFERENCE: &str = include_str!("../contracts/microsoft_openai.deal");

/// Runs of a measurement; the best one counts.
const RUNS: usize = 3;
/// A `deal` run slower than this is not repeated: an engine that regresses
/// to quadratic on some stream should still finish the bench in minutes.
/// One run of several seconds is steady enough.
const SLOW: Duration = Duration::from_secs(4);

// ---------------------------------------------------------------------------
// Writing streams

/// A JSON Lines file being written, counting its lines.
struct Jsonl {
    out: BufWriter<File>,
    lines: u64,
}

impl Jsonl {
    fn create(path: &Path) -> Jsonl {
        Jsonl {
            out: BufWriter::with_capacity(1 << 16, File::create(path).unwrap()),
            lines: 0,
        }
    }

    fn line(&mut self, line: std::fmt::Arguments<'_>) {
        self.out.write_fmt(line).unwrap();
        self.out.write_all(b"\n").unwrap();
        self.lines += 1;
    }

    fn finish(mut self) -> u64 {
        self.out.flush().unwrap();
        self.lines
    }
}

/// An RFC 3339 UTC time, `seconds` after 2025-01-01T00:00:00Z.
fn stamp(seconds: i64) -> String {
    let t = jiff::Timestamp::from_second(1_735_689_600 + seconds).unwrap();
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The reference stream, unchanged from the first version of this bench: `n`
/// events from 2025-01-21 on, a few minutes apart, mixing every kind the
/// reference deal reacts to. Every offer is declined and then placed with a
/// third party at the offered price, so the run has no breach and every
/// clause does real work.
fn reference_stream(n: usize, out: &mut impl Write) {
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

/// Late delivery, in the style of `contracts/conformance/latedeliveryandpenalty.deal`,
/// with payments settling the penalties.
const GROWING: &str = r#"deal "Bench: growing penalties"

parties Dan, Steve

terms
  penalty_rate   = 10.5%
  penalty_period = 2 days
  penalty_cap    = 55%

events
  delivery_due (goods_value: money)
  delivered
  payment      (from: party, to: party, amount: money)

clause late_delivery_penalty
  after each delivery_due, Dan owes Steve
      min(days(elapsed) / days(penalty_period) * (penalty_rate of goods_value),
          penalty_cap of goods_value)
    growing until delivered
    settled by payment
"#;

/// `n` events ten minutes apart, `open` deliveries late at any moment: first
/// `open` delivery_dues, then the cycle delivery_due, delivered, payment. Each
/// delivered stops the oldest growing penalty, and the payment after it pays
/// exactly what that penalty came to (whole days late / 2 × 10.5% of
/// 1000 USD, at most 55%), so nothing is left unpaid but the amounts still
/// growing and nothing is paid in advance.
fn growing_stream(n: u64, open: u64, out: &mut Jsonl) {
    const STEP: i64 = 600;
    let mut due_at = std::collections::VecDeque::new();
    let mut penalty_tenths = 0i64;
    for i in 0..n as i64 {
        let at = stamp(i * STEP);
        // 0: delivery_due, 1: delivered, 2: payment; `open` dues come first.
        let phase = (i - open as i64).max(0) % 3;
        match phase {
            0 => {
                out.line(format_args!(
                    r#"{{"at":"{at}","event":"delivery_due","goods_value":"1000.00 USD"}}"#
                ));
                due_at.push_back(i * STEP);
            }
            1 => {
                out.line(format_args!(r#"{{"at":"{at}","event":"delivered"}}"#));
                let started = due_at.pop_front().unwrap();
                let days = (i * STEP - started) / 86_400;
                // 52.5 USD a whole day, 550 USD at most, in tenths of a USD.
                penalty_tenths = (days * 525).min(5500);
            }
            _ => out.line(format_args!(
                r#"{{"at":"{at}","event":"payment","from":"Dan","to":"Steve","amount":"{}.{}0 USD"}}"#,
                penalty_tenths / 10,
                penalty_tenths % 10
            )),
        }
    }
}

/// Obligations with no key: each ship fulfils the oldest open order.
const KEYLESS: &str = r#"deal "Bench: keyless obligations"

parties Seller, Buyer

events
  order
  ship

clause supply
  after each order, Seller must ship within 10 days
"#;

/// `n` events two seconds apart: `open` orders, then order and ship in
/// turn, so that `open` orders wait at any moment and each is shipped well
/// inside its 10 days. With `ships` false, orders only, all left open.
fn keyless_stream(n: u64, open: u64, ships: bool, out: &mut Jsonl) {
    let mut i = 0i64;
    while out.lines < n {
        let at = stamp(i * 2);
        if !ships || out.lines < open || (out.lines - open).is_multiple_of(2) {
            out.line(format_args!(r#"{{"at":"{at}","event":"order"}}"#));
        } else {
            out.line(format_args!(r#"{{"at":"{at}","event":"ship"}}"#));
        }
        i += 1;
    }
}

/// Sixty clauses, each with its own windowed count of an event the stream
/// never sends, beside one clause that does the work.
fn windowed_contract() -> String {
    let mut s = String::from(
        r#"deal "Bench: windowed counters"

parties Seller, Buyer

events
  complaint (severity: decimal)
  sale      (amount: money)
  payment   (from: party, to: party, amount: money)

clause sales
  Buyer owes Seller amount for each sale
    due 30 days after each month
    settled by payment
"#,
    );
    // Each condition differs, so that no two counts could be shared.
    for i in 0..60 {
        let _ = write!(
            s,
            "\nclause watch_{i}\n  in force until complaint\n    where count(complaint where severity > {i} within 12 months) >= 3\n  Buyer may sale\n"
        );
    }
    s
}

/// `n` events five minutes apart: a sale, then its payment.
fn windowed_stream(n: u64, out: &mut Jsonl) {
    let mut i = 0i64;
    while out.lines < n {
        let at = stamp(i * 300);
        if i % 2 == 0 {
            out.line(format_args!(
                r#"{{"at":"{at}","event":"sale","amount":"100.00 USD"}}"#
            ));
        } else {
            out.line(format_args!(
                r#"{{"at":"{at}","event":"payment","from":"Buyer","to":"Seller","amount":"100.00 USD"}}"#
            ));
        }
        i += 1;
    }
}

/// `clauses` clauses owing a share of the same revenues, settled by the same
/// payments.
fn sharing_contract(clauses: u64) -> String {
    let mut s = String::from(
        r#"deal "Bench: sharing clauses"

parties Payer, Payee

terms
  share = 0.01%
  grace = 30 days

events
  revenue (amount: money)
  payment (from: party, to: party, amount: money)
"#,
    );
    for i in 0..clauses {
        let _ = write!(
            s,
            "\nclause share_{i}\n  Payer owes Payee share of amount for each revenue\n    due grace after each quarter\n    settled by payment\n"
        );
    }
    s
}

/// 300 events a day apart: two revenues of 1000 USD, then a payment of
/// 600 USD, which is what 3,000 clauses take of them (0.01% each); with fewer
/// clauses the rest is kept as unapplied. Both contracts read the same file
/// and neither has a breach.
fn sharing_stream(out: &mut Jsonl) {
    for i in 0..300i64 {
        let at = stamp(i * 86_400);
        if i % 3 < 2 {
            out.line(format_args!(
                r#"{{"at":"{at}","event":"revenue","amount":"1000.00 USD"}}"#
            ));
        } else {
            out.line(format_args!(
                r#"{{"at":"{at}","event":"payment","from":"Payer","to":"Payee","amount":"600.00 USD"}}"#
            ));
        }
    }
}

// ---------------------------------------------------------------------------
// The floor

/// One events line, decoded as cheaply as a typed reader can: borrowed
/// strings, no allocation, unknown fields skipped. It names every field the
/// streams above send; numbers would be `serde_json::Number`, but no stream
/// sends one.
#[derive(Deserialize)]
struct Line<'a> {
    at: &'a str,
    event: &'a str,
    #[serde(default, borrow)]
    id: Option<&'a str>,
    #[serde(default, borrow)]
    amount: Option<&'a str>,
    #[serde(default, borrow)]
    price: Option<&'a str>,
    #[serde(default, borrow)]
    goods_value: Option<&'a str>,
    #[serde(default, borrow)]
    from: Option<&'a str>,
    #[serde(default, borrow)]
    to: Option<&'a str>,
    #[serde(default, borrow, rename = "ref")]
    reference: Option<&'a str>,
    #[serde(default, borrow)]
    provider: Option<&'a str>,
    #[serde(default, borrow)]
    product: Option<&'a str>,
    #[serde(default, borrow)]
    licensee: Option<&'a str>,
    #[serde(default, borrow)]
    platform: Option<&'a str>,
}

/// A money amount, `"<decimal> <CUR>"`, parsed as the engine must.
fn money(text: &str) -> Decimal {
    let (number, currency) = text
        .split_once(' ')
        .unwrap_or_else(|| panic!("not an amount: {text:?}"));
    assert!(currency.len() == 3, "not a currency: {text:?}");
    Decimal::from_str_exact(number).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}

/// The floor: read, decode and parse every line of `path`. Fixed on purpose:
/// it is the yardstick, so it must not get faster when the engine does.
fn floor(path: &Path) -> (u64, Decimal) {
    let mut input = BufReader::with_capacity(1 << 16, File::open(path).unwrap());
    let mut buf = String::new();
    let mut lines = 0u64;
    let mut total = Decimal::ZERO;
    let mut text_bytes = 0usize;
    loop {
        buf.clear();
        if input.read_line(&mut buf).unwrap() == 0 {
            break;
        }
        let line: Line<'_> = serde_json::from_str(&buf).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for m in [line.amount, line.price, line.goods_value].into_iter().flatten() {
            total = total.checked_add(money(m)).unwrap();
        }
        let texts = [
            Some(line.at),
            Some(line.event),
            line.id,
            line.from,
            line.to,
            line.reference,
            line.provider,
            line.product,
            line.licensee,
            line.platform,
        ];
        text_bytes += texts.into_iter().flatten().map(str::len).sum::<usize>();
        lines += 1;
    }
    std::hint::black_box(text_bytes);
    (lines, std::hint::black_box(total))
}

/// The best of `RUNS` runs of the floor, in seconds.
fn time_floor(path: &Path, runs: usize) -> f64 {
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            std::hint::black_box(floor(path));
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

// ---------------------------------------------------------------------------
// Running deal

struct DealRun {
    seconds: f64,
    peak_kib: u64,
}

/// One `deal run`, its report written to `report`.
fn deal_once(contract: &Path, events: &Path, report: &Path) -> DealRun {
    // The last report goes first, outside the timing: truncating a report
    // of a hundred megabytes takes longer than starting deal.
    let _ = std::fs::remove_file(report);
    let stdout = File::create(report).unwrap();
    let started = Instant::now();
    let output = Command::new(TIME)
        .args(["-f", "%M", DEAL, "run"])
        .arg(contract)
        .arg("--events")
        .arg(events)
        .args(["--format", "json"])
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {TIME} (GNU time is needed for peak memory): {e}"));
    let seconds = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // 0: no breach; 1: breaches found. Anything else (2: invalid contract or
    // events, or a signal) is a failure of the bench.
    if !matches!(output.status.code(), Some(0 | 1)) {
        panic!(
            "deal run {} --events {} failed ({}):\n{stderr}",
            contract.display(),
            events.display(),
            output.status
        );
    }
    let peak_kib = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("no peak memory from {TIME} in:\n{stderr}"));
    DealRun { seconds, peak_kib }
}

/// The best of `first` and up to `runs - 1` more runs (the fastest, and the
/// least memory); a slow run is not repeated.
fn time_deal(first: DealRun, contract: &Path, events: &Path, report: &Path, runs: usize) -> DealRun {
    let mut best = first;
    for _ in 1..runs {
        if best.seconds > SLOW.as_secs_f64() {
            break;
        }
        let run = deal_once(contract, events, report);
        best.seconds = best.seconds.min(run.seconds);
        best.peak_kib = best.peak_kib.min(run.peak_kib);
    }
    best
}

/// What the bench reads of a report.
#[derive(Deserialize)]
struct Report {
    events: Counts,
    norms: Vec<NormRow>,
}

#[derive(Deserialize)]
struct Counts {
    applied: u64,
    rejected: u64,
    duplicates: u64,
}

#[derive(Deserialize)]
struct NormRow {
    state: String,
}

/// Checks that every line of the stream was applied; returns how many norm
/// instances the report shows as active.
fn check_report(report: &Path, events: &Path, expected: u64) -> u64 {
    let text = std::fs::read_to_string(report).unwrap();
    let report: Report = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", report.display()));
    let c = &report.events;
    assert!(
        c.rejected == 0 && c.duplicates == 0 && c.applied == expected,
        "{}: applied {} of {expected} events ({} rejected, {} duplicates): the generated stream is invalid",
        events.display(),
        c.applied,
        c.rejected,
        c.duplicates
    );
    report.norms.iter().filter(|n| n.state == "active").count() as u64
}

// ---------------------------------------------------------------------------
// Cases

/// One size of one stream, as written to disk.
struct Input {
    /// What the growth exponent is taken over: events, or clauses.
    size: u64,
    label: String,
    contract: PathBuf,
    events: PathBuf,
    lines: u64,
    /// Norm instances that must be active at the end, when that is the point.
    active: Option<u64>,
}

/// One size of one stream, measured.
struct Row {
    input: Input,
    bytes: u64,
    deal: DealRun,
    floor: f64,
    startup: f64,
    active: u64,
}

struct Bench {
    dir: PathBuf,
    quick: bool,
}

impl Drop for Bench {
    fn drop(&mut self) {
        if std::env::var_os("DEAL_BENCH_KEEP").is_some() {
            eprintln!(
                "kept the contracts, streams and last report in {}",
                self.dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// "1M", "100k", "2.5k", "300".
fn short(n: u64) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n if n >= 1_000 && n % 100 == 0 => format!("{}.{}k", n / 1_000, n % 1_000 / 100),
        n => n.to_string(),
    }
}

impl Bench {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Writes a contract and makes sure `deal check` accepts it.
    fn contract(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path(&format!("{name}.deal"));
        std::fs::write(&path, text).unwrap();
        let check = Command::new(DEAL).arg("check").arg(&path).output().unwrap();
        if !check.status.success() {
            panic!(
                "deal check {} failed ({}):\n{}",
                path.display(),
                check.status,
                String::from_utf8_lossy(&check.stderr)
            );
        }
        path
    }

    fn events(&self, name: &str, write: impl FnOnce(&mut Jsonl)) -> (PathBuf, u64) {
        let path = self.path(&format!("{name}.jsonl"));
        let mut out = Jsonl::create(&path);
        write(&mut out);
        (path, out.finish())
    }

    /// The two sizes of a stream, written to disk. Each size is chosen so
    /// that an engine linear in it shows an exponent near 1 and one that is
    /// not shows its true growth, while the whole bench stays near a minute.
    fn inputs(&self, stream: &str) -> [Input; 2] {
        let q = self.quick;
        match stream {
            "reference" => {
                let contract = self.contract("reference", REFERENCE);
                let sizes: [u64; 2] = if q { [2_000, 20_000] } else { [100_000, 1_000_000] };
                sizes.map(|n| {
                    let path = self.path(&format!("reference-{n}.jsonl"));
                    let mut out = BufWriter::with_capacity(1 << 16, File::create(&path).unwrap());
                    reference_stream(n as usize, &mut out);
                    out.flush().unwrap();
                    Input {
                        size: n,
                        label: format!("{} events", short(n)),
                        contract: contract.clone(),
                        events: path,
                        lines: n,
                        active: None,
                    }
                })
            }
            "growing" => {
                let contract = self.contract("growing", GROWING);
                // A twentieth of the stream late at once: the number of
                // amounts growing at a time rises with the stream, so an
                // engine that revisits all of them on every event is
                // quadratic here (exponent ~2) and one that does not is
                // linear (~1). An engine that did (the one before the
                // stream processor) took 14 s on 20k events.
                let sizes: [u64; 2] = if q { [1_000, 4_000] } else { [50_000, 200_000] };
                sizes.map(|n| {
                    let open = n / 20;
                    let (events, lines) =
                        self.events(&format!("growing-{n}"), |o| growing_stream(n, open, o));
                    Input {
                        size: n,
                        label: format!("{} events, {} late", short(n), short(open)),
                        contract: contract.clone(),
                        events,
                        lines,
                        active: None,
                    }
                })
            }
            "keyless" => {
                let contract = self.contract("keyless", KEYLESS);
                // A bounded number waiting: the cost of a ship should not
                // depend on how many orders were fulfilled before it (an engine
                // each ship looks through every order since the start).
                let (sizes, waiting): ([u64; 2], u64) = if q {
                    ([2_000, 8_000], 100)
                } else {
                    ([100_000, 400_000], 1_000)
                };
                sizes.map(|n| {
                    let (events, lines) =
                        self.events(&format!("keyless-{n}"), |o| keyless_stream(n, waiting, true, o));
                    Input {
                        size: n,
                        label: format!("{} events, {} waiting", short(n), short(waiting)),
                        contract: contract.clone(),
                        events,
                        lines,
                        active: Some(waiting),
                    }
                })
            }
            "windowed" => {
                // Windows over an event that never comes should cost
                // nothing; an engine that slides every window on every event pays for each.
                let contract = self.contract("windowed", &windowed_contract());
                let sizes: [u64; 2] = if q { [2_000, 8_000] } else { [100_000, 400_000] };
                sizes.map(|n| {
                    let (events, lines) = self.events(&format!("windowed-{n}"), |o| windowed_stream(n, o));
                    Input {
                        size: n,
                        label: format!("{} events, 60 windows", short(n)),
                        contract: contract.clone(),
                        events,
                        lines,
                        active: None,
                    }
                })
            }
            "sharing" => {
                // Ten times the clauses on the same events: the exponent is
                // over clauses, and startup (checking them) is in the time.
                let (events, lines) = self.events("sharing", sharing_stream);
                let sizes: [u64; 2] = if q { [30, 300] } else { [300, 3_000] };
                sizes.map(|c| Input {
                    size: c,
                    label: format!("{} clauses", short(c)),
                    contract: self.contract(&format!("sharing-{c}"), &sharing_contract(c)),
                    events: events.clone(),
                    lines,
                    active: None,
                })
            }
            "open-norms" => {
                // The memory an open norm costs, the report's row included:
                // orders two seconds apart, so 250k of them span under six
                // days and none reaches its 10-day deadline.
                let contract = self.contract("open-norms", KEYLESS);
                let sizes: [u64; 2] = if q { [5_000, 25_000] } else { [50_000, 250_000] };
                sizes.map(|n| {
                    let (events, lines) =
                        self.events(&format!("open-{n}"), |o| keyless_stream(n, n, false, o));
                    Input {
                        size: n,
                        label: format!("{} orders, none shipped", short(n)),
                        contract: contract.clone(),
                        events,
                        lines,
                        active: Some(n),
                    }
                })
            }
            _ => panic!("unknown stream {stream}"),
        }
    }

    fn measure(&self, stream: &str) -> [Row; 2] {
        let runs = if self.quick { 1 } else { RUNS };
        let empty = self.path("empty.jsonl");
        File::create(&empty).unwrap();
        let report = self.path("report.json");
        self.inputs(stream).map(|input| {
            eprintln!("  {stream}: {}", input.label);
            let bytes = std::fs::metadata(&input.events).unwrap().len();
            // A first run checks the stream and the report, and warms the
            // page cache for both sides.
            let (floor_lines, _) = floor(&input.events);
            assert_eq!(floor_lines, input.lines, "{}", input.events.display());
            let first = deal_once(&input.contract, &input.events, &report);
            let active = check_report(&report, &input.events, input.lines);
            if let Some(want) = input.active {
                assert_eq!(
                    active,
                    want,
                    "{}: active norm instances at the end",
                    input.events.display()
                );
            }
            let deal = time_deal(first, &input.contract, &input.events, &report, runs);
            let floor = time_floor(&input.events, runs);
            let startup = deal_once(&input.contract, &empty, &report);
            let startup = time_deal(startup, &input.contract, &empty, &report, runs).seconds;
            Row {
                input,
                bytes,
                deal,
                floor,
                startup,
                active,
            }
        })
    }
}

const STREAMS: [&str; 7] = [
    "reference",
    "growing",
    "keyless",
    "windowed",
    "sharing",
    "open-norms",
    "check",
];

// ---------------------------------------------------------------------------
// Checking contracts

/// Contract shapes for `deal check`, each grown to a given size: what makes
/// a checker quadratic is many of one thing (names to look up, warnings to
/// render, typos to suggest for, clauses to analyse together).
const SHAPES: [&str; 5] = ["terms", "events", "permissions", "clauses", "typos"];

fn shaped_contract(shape: &str, bytes: usize) -> String {
    let mut out = String::from("deal \"Bench: checking\"\n\nparties Seller, Buyer\n\n");
    let mut i = 0u64;
    match shape {
        // Unused terms: a warning for each, rendered.
        "terms" => {
            out.push_str("terms\n");
            while out.len() < bytes {
                let _ = writeln!(out, "  t{i} = {i} USD");
                i += 1;
            }
        }
        // Unused events with fields: a warning for each.
        "events" => {
            out.push_str("events\n");
            while out.len() < bytes {
                let _ = writeln!(out, "  e{i} (ref: text, amount: money)");
                i += 1;
            }
        }
        // One clause, many permissions over many events.
        "permissions" => {
            let mut events = String::from("events\n");
            let mut clause = String::from("\nclause rights\n");
            while events.len() + clause.len() + out.len() < bytes {
                let _ = writeln!(events, "  e{i} (ref: text)");
                let _ = writeln!(clause, "  Buyer may e{i}");
                i += 1;
            }
            out.push_str(&events);
            out.push_str(&clause);
        }
        // Many clauses, each an obligation and a prohibition over shared
        // events: the analyses look at clauses together.
        "clauses" => {
            out.push_str("events\n  order (ref: text)\n  ship (ref: text)\n  resell (ref: text)\n");
            while out.len() < bytes {
                let _ = writeln!(
                    out,
                    "\nclause c{i}\n  after each order, Seller must ship with the same ref within {} days\n  \
                     Seller must not resell where ref is \"r{i}\"",
                    i % 90 + 1
                );
                i += 1;
            }
        }
        // Terms whose values name terms that do not exist: an error and a
        // suggestion search for each.
        "typos" => {
            out.push_str("terms\n");
            while out.len() < bytes {
                let _ = writeln!(out, "  t{i} = tt{i} + 1");
                i += 1;
            }
        }
        _ => unreachable_shape(shape),
    }
    out
}

fn unreachable_shape(shape: &str) -> ! {
    panic!("no contract shape {shape}")
}

/// `deal check` on `path`, best of `runs`, its diagnostics rendered (to a
/// pipe, read and dropped).
fn time_check(path: &Path, runs: usize) -> f64 {
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            let out = Command::new(DEAL)
                .arg("check")
                .arg(path)
                .env("NO_COLOR", "1")
                .stdin(Stdio::null())
                .output()
                .unwrap();
            assert!(out.status.code().is_some(), "deal check was killed");
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// The floor for checking: parsing the same text, in process.
fn time_parse(text: &str, runs: usize) -> f64 {
    (0..runs)
        .map(|_| {
            let started = Instant::now();
            let _ = std::hint::black_box(deal::syntax::parse(text));
            started.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn measure_checking(dir: &Path, quick: bool) {
    let max = deal::syntax::limits::MAX_SOURCE_BYTES - 4096;
    let sizes = if quick {
        [max / 16, max / 4]
    } else {
        [max / 4, max]
    };
    let runs = if quick { 1 } else { RUNS };
    println!("\ndeal check against parsing alone, best of {runs}\n");
    println!("| shape | KiB | deal check s | parse s | check/parse | time exponent |");
    println!("|---|---:|---:|---:|---:|---:|");
    for shape in SHAPES {
        let mut times = Vec::new();
        for bytes in sizes {
            let text = shaped_contract(shape, bytes);
            let path = dir.join(format!("check-{shape}-{bytes}.deal"));
            std::fs::write(&path, &text).unwrap();
            let check = time_check(&path, runs);
            let parse = time_parse(&text, runs);
            times.push((text.len(), check));
            let exponent = match times.as_slice() {
                [(n1, t1), (n2, t2)] => format!("{:.2}", (t2 / t1).ln() / (*n2 as f64 / *n1 as f64).ln()),
                _ => String::new(),
            };
            println!(
                "| {shape} | {} | {check:.3} | {parse:.3} | {:.1} | {exponent} |",
                text.len() / 1024,
                check / parse
            );
        }
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    let mut quick = false;
    let mut only = Vec::new();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--quick" => quick = true,
            // cargo bench passes --bench (and may pass others) to every bench.
            a if a.starts_with('-') => {}
            a if STREAMS.contains(&a) => only.push(a.to_string()),
            a => panic!("unknown stream {a:?}; the streams are {}", STREAMS.join(", ")),
        }
    }
    let streams: Vec<&str> = STREAMS
        .into_iter()
        .filter(|s| only.is_empty() || only.iter().any(|o| o == s))
        .collect();

    let dir = std::env::temp_dir().join(format!("deal-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bench = Bench { dir, quick };

    let started = Instant::now();
    let mut results = Vec::new();
    let mut checking = false;
    for stream in streams {
        if stream == "check" {
            checking = true;
            continue;
        }
        eprintln!("measuring {stream}");
        results.push((stream, bench.measure(stream)));
    }

    println!(
        "deal run --format json against the floor (read, decode, parse money), best of {}{}\n",
        if quick { 1 } else { RUNS },
        if quick { ", quick sizes" } else { "" }
    );
    println!("| stream | size | events | MB | deal s | events/s | floor s | deal/floor | peak RSS MiB | startup s |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for (stream, rows) in &results {
        for r in rows {
            println!(
                "| {stream} | {} | {} | {:.1} | {:.3} | {:.0} | {:.4} | {:.1} | {:.1} | {:.3} |",
                r.input.label,
                r.input.lines,
                r.bytes as f64 / 1e6,
                r.deal.seconds,
                r.input.lines as f64 / r.deal.seconds,
                r.floor,
                r.deal.seconds / r.floor,
                mib(r.deal.peak_kib),
                r.startup,
            );
        }
    }

    println!("\n| stream | sizes | time exponent | RSS ratio |");
    println!("|---|---|---:|---:|");
    for (stream, [a, b]) in &results {
        let exponent =
            (b.deal.seconds / a.deal.seconds).ln() / (b.input.size as f64 / a.input.size as f64).ln();
        println!(
            "| {stream} | {} → {} | {exponent:.2} | {:.2} |",
            short(a.input.size),
            short(b.input.size),
            b.deal.peak_kib as f64 / a.deal.peak_kib as f64
        );
    }

    for (stream, [a, b]) in &results {
        match *stream {
            "reference" => println!(
                "\nreference: peak RSS({}) / peak RSS({}) = {:.2}",
                short(b.input.size),
                short(a.input.size),
                b.deal.peak_kib as f64 / a.deal.peak_kib as f64
            ),
            "open-norms" => {
                let bytes =
                    (b.deal.peak_kib as f64 - a.deal.peak_kib as f64) * 1024.0 / (b.active - a.active) as f64;
                println!(
                    "\nbytes per open norm: ({:.1} MiB − {:.1} MiB) / ({} − {} active) = {bytes:.0} bytes \
                     (the report's rows included)",
                    mib(b.deal.peak_kib),
                    mib(a.deal.peak_kib),
                    b.active,
                    a.active
                );
            }
            _ => {}
        }
    }
    if checking {
        eprintln!("measuring check");
        measure_checking(&bench.dir, quick);
    }
    eprintln!("\n(whole bench: {:.0} s)", started.elapsed().as_secs_f64());
}

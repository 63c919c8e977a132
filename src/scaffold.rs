//! `deal init NAME`: a contract to start from, an events file that keeps
//! it, and a test file that says so — all three checked by the test suite,
//! so that what a new user first runs works.

use std::path::{Path, PathBuf};

use miette::Diagnostic;
use thiserror::Error;

#[derive(Debug, Error, Diagnostic)]
pub enum InitError {
    #[error("`{path}` already exists")]
    #[diagnostic(
        code(deal::cli::exists),
        help("`deal init` never overwrites a file: choose another name, or move the file away")
    )]
    Exists { path: String },
    #[error("cannot write `{path}`: {reason}")]
    #[diagnostic(
        code(deal::cli::init_failed),
        help("check that the folder exists and can be written")
    )]
    Write { path: String, reason: String },
}

const CONTRACT: &str = r#"# {name}: a supply agreement to start from.
#
# Seller delivers each order within 10 days; Buyer pays its price within 30
# days. `deal check {name}.deal` checks it, `deal test {name}.test` runs its
# tests, and `deal run {name}.deal --events {name}.events.jsonl` shows it.

deal "Supply agreement"

parties Seller, Buyer

in force from 2025-01-01 until 2025-12-31

terms
  delivery_window = 10 days
  payment_terms   = 30 days

events
  order   (ref: text, price: money)
  deliver (ref: text)
  payment (from: party, to: party, amount: money)

clause supply
  after each order, Seller must deliver with the same ref within delivery_window

clause price
  Buyer owes Seller price for each order
    due within payment_terms
    settled by payment
"#;

const EVENTS: &str = r#"{"at":"2025-03-03","id":"po-1","event":"order","ref":"po-1","price":"1200.00 USD"}
{"at":"2025-03-10","id":"dl-1","event":"deliver","ref":"po-1"}
{"at":"2025-03-28","id":"pay-1","event":"payment","from":"Buyer","to":"Seller","amount":"1200.00 USD"}
"#;

const TESTS: &str = r#"# Tests of {name}.deal: `deal test {name}.test` runs them.
tests of "{name}.deal"

scenario "an order delivered and paid on time"
  events from "{name}.events.jsonl"
  expect as of 2025-04-30
    exit 0
    clause supply is active
    norm obligation in supply is fulfilled 1 time
    norm obligation in price is fulfilled 1 time
    Buyer owes Seller 0.00 USD, accrued 1200.00 USD, paid 1200.00 USD
    no breaches

scenario "a late delivery is a breach"
  events
    2025-03-03 order (ref: "po-1", price: 1200.00 USD)
    2025-03-20 deliver (ref: "po-1")
  expect as of 2025-03-31
    exit 1
    norm obligation in supply for "po-1" is violated, due 2025-03-13
    Seller breached supply on 2025-03-13 when the deadline passed
    Buyer owes Seller 1200.00 USD, overdue 0.00 USD
"#;

/// The three files for `name` (a path without extension): contract, events
/// and tests, with their paths.
pub fn files(name: &Path) -> Vec<(PathBuf, String)> {
    let stem = name
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "contract".into());
    let fill = |t: &str| t.replace("{name}", &stem);
    let with = |ext: &str| {
        let mut p = name.as_os_str().to_owned();
        p.push(ext);
        PathBuf::from(p)
    };
    vec![
        (with(".deal"), fill(CONTRACT)),
        (with(".events.jsonl"), fill(EVENTS)),
        (with(".test"), fill(TESTS)),
    ]
}

/// Writes the three files, none of which may exist yet.
pub fn init(name: &Path) -> Result<Vec<PathBuf>, InitError> {
    let files = files(name);
    for (p, _) in &files {
        if p.exists() {
            return Err(InitError::Exists {
                path: p.display().to_string(),
            });
        }
    }
    let mut written = Vec::new();
    for (p, text) in files {
        std::fs::write(&p, text).map_err(|e| InitError::Write {
            path: p.display().to_string(),
            reason: e.to_string(),
        })?;
        written.push(p);
    }
    Ok(written)
}

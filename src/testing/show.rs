//! Expectations written out as they would be in a test file: for the
//! "expected / actual" of a failure, and for `--update`.

use std::fmt::Write as _;

use super::ast::*;

pub fn exit(code: u8) -> String {
    format!("exit {code}")
}

pub fn clause(name: &str, state: &str, since: Option<&str>) -> String {
    match since {
        Some(s) => format!("clause {name} is {state} since {s}"),
        None => format!("clause {name} is {state}"),
    }
}

fn amount(a: &Amount) -> String {
    format!("{} {}", a.text, a.currency)
}

pub fn norm(n: &NormExpect) -> String {
    let word = |x: &Option<Named>| x.as_ref().map(|n| n.text.clone()).unwrap_or_default();
    let mut s = format!("norm {}", word(&n.kind));
    if let Some(c) = &n.clause {
        let _ = write!(s, " in {}", c.text);
    }
    if let Some(b) = &n.bearer {
        let _ = write!(s, " of {}", b.text);
    }
    if let Some(a) = &n.action {
        let _ = write!(s, " to {}", a.text);
    }
    if let Some(k) = &n.key {
        let _ = write!(s, " for {}", quote(k));
    }
    let _ = write!(s, " is {}", word(&n.state));
    if let Some(t) = n.times {
        let _ = write!(s, " {t} {}", if t == 1 { "time" } else { "times" });
    }
    if let Some(d) = &n.since {
        let _ = write!(s, ", since {d}");
    }
    if let Some(d) = &n.due {
        let _ = write!(s, ", due {d}");
    }
    if let Some(o) = &n.outstanding {
        let _ = write!(s, ", outstanding {}", amount(o));
    }
    s
}

pub fn owes(from: &str, to: &str, amounts: Option<&Amounts>) -> String {
    let Some(a) = amounts else {
        return format!("{from} owes {to} nothing");
    };
    let mut s = format!(
        "{from} owes {to} {}",
        a.outstanding.as_ref().map(amount).unwrap_or_default()
    );
    for (word, v) in [
        ("accrued", &a.accrued),
        ("paid", &a.paid),
        ("overdue", &a.overdue),
        ("unapplied", &a.unapplied),
    ] {
        if let Some(v) = v {
            let _ = write!(s, ", {word} {}", amount(v));
        }
    }
    if let Some(n) = a.undetermined {
        let _ = write!(s, ", {n} undetermined");
    }
    s
}

pub fn breach(b: &BreachExpect) -> String {
    let word = |x: &Option<Named>| x.as_ref().map(|n| n.text.clone()).unwrap_or_default();
    let mut s = format!("{} breached {} on {}", word(&b.party), word(&b.clause), b.on);
    if let Some(e) = &b.by {
        let _ = write!(s, " by {}", e.text);
    }
    if b.deadline {
        s.push_str(" when the deadline passed");
    }
    if let Some(l) = b.line {
        let _ = write!(s, " at line {l}");
    }
    s
}

pub fn counts(c: &Counts) -> String {
    let mut parts = Vec::new();
    for (word, v) in [
        ("applied", c.applied),
        ("rejected", c.rejected),
        ("ineffective", c.ineffective),
    ] {
        if let Some(v) = v {
            parts.push(format!("{v} {word}"));
        }
    }
    if let Some(d) = c.duplicates {
        parts.push(format!("{d} {}", if d == 1 { "duplicate" } else { "duplicates" }));
    }
    format!("events {}", parts.join(", "))
}

pub fn expectation(e: &Expectation) -> String {
    match e {
        Expectation::Exit(c) => exit(*c),
        Expectation::Clause { name, state, since } => clause(&name.text, &state.text, since.as_deref()),
        Expectation::Norm(n) => norm(n),
        Expectation::Owes { from, to, amounts } => owes(&from.text, &to.text, amounts.as_ref()),
        Expectation::NoBreaches => "no breaches".to_string(),
        Expectation::Breach(b) => breach(b),
        Expectation::Counts(c) => counts(c),
    }
}

pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

//! Running one scenario's block of expectations: replay its events with the
//! library, build the report as of its moment, and hold each expectation up
//! against it.

use miette::SourceSpan;
use rust_decimal::Decimal;

use super::ast::*;
use super::show;
use crate::diag::source::SourceFile;
use crate::driver::{self, AsOf, ReplayOptions};
use crate::eval::Engine;
use crate::events::{EventError, EventReader};
use crate::model::Program;
use crate::report::{BalanceRow, BreachRow, ClauseRow, EventCounts, NormRow, Report};
use crate::time::Moment;
use crate::value::Money;

/// A scenario's events as one JSON Lines text, with where each line came from.
pub struct Input {
    pub bytes: Vec<u8>,
    /// The name the events reader gives diagnostics.
    pub name: String,
    /// For inline events: the test file line of each generated line (the
    /// first is line 1). `None` when the events come from a file.
    pub lines: Option<Vec<usize>>,
}

impl Input {
    pub fn inline(name: &str, events: &[InlineEvent]) -> Input {
        let mut bytes = Vec::new();
        let mut lines = Vec::with_capacity(events.len());
        for e in events {
            bytes.extend_from_slice(b"{\"at\":");
            bytes.extend_from_slice(serde_json::Value::String(e.at.clone()).to_string().as_bytes());
            bytes.extend_from_slice(b",\"event\":");
            bytes.extend_from_slice(
                serde_json::Value::String(e.kind.text.clone())
                    .to_string()
                    .as_bytes(),
            );
            for (k, v) in &e.fields {
                bytes.push(b',');
                bytes.extend_from_slice(serde_json::Value::String(k.clone()).to_string().as_bytes());
                bytes.push(b':');
                bytes.extend_from_slice(v.as_bytes());
            }
            bytes.extend_from_slice(b"}\n");
            lines.push(e.line);
        }
        Input {
            bytes,
            name: name.to_string(),
            lines: Some(lines),
        }
    }

    /// The line an event was written on, in the test file or the events file.
    pub fn origin(&self, line: usize) -> usize {
        match &self.lines {
            Some(map) => line
                .checked_sub(1)
                .and_then(|i| map.get(i))
                .copied()
                .unwrap_or(line),
            None => line,
        }
    }
}

/// The report as of one moment, held as rows.
pub struct Actual {
    pub exit: u8,
    pub counts: EventCounts,
    pub clauses: Vec<ClauseRow>,
    pub norms: Vec<NormRow>,
    pub balances: Vec<BalanceRow>,
    /// With `line` as written: the test file's line for inline events.
    pub breaches: Vec<BreachRow>,
    pub rejected: Vec<EventError>,
}

/// Why a block could not be evaluated at all.
pub enum RunError {
    BadAsOf,
    Engine(String),
}

pub fn evaluate(
    program: &Program,
    contract: &SourceFile,
    input: &Input,
    as_of: Option<&str>,
) -> Result<Actual, RunError> {
    let as_of = match as_of {
        Some(t) => Some(AsOf::parse(t).ok_or(RunError::BadAsOf)?),
        None => None,
    };
    let reader = EventReader::new(program, contract, &input.name);
    let mut engine = Engine::new(program);
    let options = ReplayOptions {
        until: as_of.as_ref().map(|a| a.instant),
        keep_going: false,
        threaded: false,

        ..ReplayOptions::default()
    };
    let replay = driver::replay(&mut engine, &reader, input.bytes.as_slice(), options, |_, _| {});
    let shown = match &as_of {
        Some(a) => {
            engine
                .advance_to(a.instant)
                .map_err(|e| RunError::Engine(e.to_string()))?;
            Some(a.shown.clone())
        }
        None => engine.last_event().map(|m| m.to_string()),
    };
    engine.finish().map_err(|e| RunError::Engine(e.to_string()))?;
    let snapshot = engine.snapshot().map_err(|e| RunError::Engine(e.to_string()))?;
    let report = Report::build(&snapshot, shown, replay.rejected.len() as u64);
    let mut norms = Vec::new();
    let mut breaches = Vec::new();
    let read = report
        .norms
        .each(|r| {
            norms.push(r);
            Ok(())
        })
        .and_then(|()| {
            report.breaches.each(|mut b| {
                b.line = b.line.map(|l| input.origin(l));
                breaches.push(b);
                Ok(())
            })
        });
    read.map_err(|e| RunError::Engine(e.to_string()))?;
    let exit = if !replay.rejected.is_empty() {
        2
    } else if !breaches.is_empty() {
        1
    } else {
        0
    };
    Ok(Actual {
        exit,
        counts: report.events,
        clauses: report.clauses.clone(),
        norms,
        balances: report.balances.clone(),
        breaches,
        rejected: replay.rejected,
    })
}

// ---------------------------------------------------------------- comparing

/// How `--update` changes the test file to say what actually happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Put this text where the expectation is.
    Replace(SourceSpan, String),
    /// Take the expectation out: nothing like it happened.
    Delete(SourceSpan),
    /// Add lines after this offset, each at the block's indentation.
    Insert(usize, Vec<String>),
}

/// One expectation that does not hold.
pub struct Failure {
    pub span: SourceSpan,
    pub message: String,
    pub expected: String,
    pub actual: String,
    pub edit: Edit,
}

/// A moment as written in a test file against one as shown in a report: a
/// date stands for any instant of that day, a date-time for that instant.
pub fn same_moment(expected: &str, actual: &str) -> bool {
    if expected == actual {
        return true;
    }
    if expected.len() == 10 {
        return actual.starts_with(expected) && actual.len() > 10;
    }
    match (Moment::parse(expected), Moment::parse(actual)) {
        (Some(a), Some(b)) => a.instant == b.instant,
        _ => false,
    }
}

fn dec(text: &str) -> Option<Decimal> {
    crate::value::parse_decimal(text)
}

fn same_amount(expected: &Amount, actual_amount: &str, actual_currency: &str) -> bool {
    expected.currency == actual_currency
        && matches!((dec(&expected.text), dec(actual_amount)), (Some(a), Some(b)) if a == b)
}

fn amount(text: &str, currency: &str) -> Amount {
    Amount {
        text: text.to_string(),
        currency: currency.to_string(),
    }
}

fn named(text: &str, like: &Named) -> Named {
    Named {
        text: text.to_string(),
        span: like.span,
    }
}

fn opt_named(text: &str, like: &Option<Named>) -> Option<Named> {
    like.as_ref().map(|l| named(text, l))
}

fn fail(item: &Item, actual: String, message: String) -> Failure {
    Failure {
        span: item.span,
        message,
        expected: show::expectation(&item.what),
        edit: Edit::Replace(item.span, actual.clone()),
        actual,
    }
}

/// Every expectation of a block that does not hold.
pub fn compare(block: &Expect, actual: &Actual) -> Vec<Failure> {
    let mut out = Vec::new();
    let mut breach_items: Vec<&Item> = Vec::new();
    let mut breaches_listed = false;
    for item in &block.items {
        match &item.what {
            Expectation::Exit(code) => {
                if *code != actual.exit {
                    out.push(fail(
                        item,
                        show::exit(actual.exit),
                        format!("the run exits with {}, not {code}", actual.exit),
                    ));
                }
            }
            Expectation::Counts(c) => {
                let a = &actual.counts;
                let got = Counts {
                    applied: c.applied.map(|_| a.applied),
                    rejected: c.rejected.map(|_| a.rejected),
                    ineffective: c.ineffective.map(|_| a.ineffective),
                    duplicates: c.duplicates.map(|_| a.duplicates),
                };
                if &got != c {
                    out.push(fail(item, show::counts(&got), "the events counted differ".into()));
                }
            }
            Expectation::Clause { name, state, since } => {
                let Some(row) = actual.clauses.iter().find(|c| c.name == name.text) else {
                    continue;
                };
                let since_ok = match (since, &row.since) {
                    (None, _) => true,
                    (Some(e), Some(a)) => same_moment(e, a),
                    (Some(_), None) => false,
                };
                if row.state != state.text || !since_ok {
                    let shown = show::clause(&row.name, &row.state, since.as_ref().and(row.since.as_deref()));
                    out.push(fail(
                        item,
                        shown,
                        format!("clause `{}` is {}, not {}", row.name, row.state, state.text),
                    ));
                }
            }
            Expectation::Norm(n) => {
                if let Some(f) = compare_norm(item, n, actual) {
                    out.push(f);
                }
            }
            Expectation::Owes { from, to, amounts } => {
                if let Some(f) = compare_owes(item, from, to, amounts.as_ref(), actual) {
                    out.push(f);
                }
            }
            Expectation::NoBreaches => breaches_listed = true,
            Expectation::Breach(_) => {
                breaches_listed = true;
                breach_items.push(item);
            }
        }
    }
    if breaches_listed {
        compare_breaches(block, &breach_items, actual, &mut out);
    }
    out
}

fn norm_identity(n: &NormExpect, r: &NormRow) -> bool {
    let is = |e: &Option<Named>, a: &str| e.as_ref().is_none_or(|e| e.text == a);
    is(&n.kind, &r.kind)
        && is(&n.clause, &r.clause)
        && is(&n.bearer, &r.bearer)
        && is(&n.action, &r.action)
        && n.key
            .as_ref()
            .is_none_or(|k| r.key.as_deref() == Some(k.as_str()))
}

fn norm_holds(n: &NormExpect, r: &NormRow) -> bool {
    let moment = |e: &Option<String>, a: &Option<String>| match (e, a) {
        (None, _) => true,
        (Some(e), Some(a)) => same_moment(e, a),
        (Some(_), None) => false,
    };
    n.state.as_ref().is_none_or(|s| s.text == r.state)
        && n.times.is_none_or(|t| r.count == Some(t))
        && moment(&n.since, &r.since)
        && moment(&n.due, &r.due)
        && n.outstanding.as_ref().is_none_or(|o| {
            r.outstanding
                .as_deref()
                .and_then(Money::parse)
                .is_some_and(|m| same_amount(o, &m.amount.to_string(), m.currency.as_str()))
        })
}

/// A norm row as an expectation with the same parts as `like`.
fn norm_as(r: &NormRow, like: &NormExpect) -> NormExpect {
    let state = like.state.as_ref().map(|s| named(&r.state, s));
    NormExpect {
        kind: opt_named(&r.kind, &like.kind),
        clause: opt_named(&r.clause, &like.clause),
        bearer: opt_named(&r.bearer, &like.bearer),
        action: opt_named(&r.action, &like.action),
        key: like.key.as_ref().and(r.key.clone()),
        state,
        times: r.count.filter(|_| like.times.is_some() || r.key.is_none()),
        since: like.since.as_ref().and(r.since.clone()),
        due: like.due.as_ref().and(r.due.clone()),
        outstanding: like
            .outstanding
            .as_ref()
            .and(r.outstanding.as_deref())
            .and_then(Money::parse)
            .map(|m| amount(&m.amount.to_string(), m.currency.as_str())),
    }
}

fn compare_norm(item: &Item, n: &NormExpect, actual: &Actual) -> Option<Failure> {
    let candidates: Vec<&NormRow> = actual.norms.iter().filter(|r| norm_identity(n, r)).collect();
    if candidates.iter().any(|r| norm_holds(n, r)) {
        return None;
    }
    let Some(nearest) = candidates
        .iter()
        .find(|r| n.state.as_ref().is_some_and(|s| s.text == r.state))
        .or(candidates.first())
    else {
        return Some(Failure {
            span: item.span,
            message: if n.key.is_some() {
                "no norm instance has this key: only open, violated and suspended instances keep theirs; \
                 closed ones are counted (`is fulfilled 3 times`)"
                    .into()
            } else {
                "no norm of the report is like this one".into()
            },
            expected: show::expectation(&item.what),
            actual: "no such norm".into(),
            edit: Edit::Delete(item.span),
        });
    };
    let got = norm_as(nearest, n);
    let message = if candidates.len() == 1 {
        format!(
            "the {} is {}{}",
            nearest.kind,
            nearest.state,
            match nearest.count {
                Some(1) => " 1 time".to_string(),
                Some(c) => format!(" {c} times"),
                None => String::new(),
            }
        )
    } else {
        format!("none of the {} norms like this one holds", candidates.len())
    };
    Some(fail(item, show::norm(&got), message))
}

fn compare_owes(
    item: &Item,
    from: &Named,
    to: &Named,
    amounts: Option<&Amounts>,
    actual: &Actual,
) -> Option<Failure> {
    let rows: Vec<&BalanceRow> = actual
        .balances
        .iter()
        .filter(|b| b.from == from.text && b.to == to.text)
        .collect();
    let Some(want) = amounts else {
        let owing: Vec<&&BalanceRow> = rows
            .iter()
            .filter(|b| dec(&b.outstanding).is_some_and(|d| !d.is_zero()))
            .collect();
        let first = owing.first()?;
        let got = show::owes(
            &from.text,
            &to.text,
            Some(&Amounts {
                outstanding: Some(amount(&first.outstanding, &first.currency)),
                ..Amounts::default()
            }),
        );
        return Some(fail(
            item,
            got,
            format!(
                "{} owes {} {} {}",
                from.text, to.text, first.outstanding, first.currency
            ),
        ));
    };
    let currency = want
        .outstanding
        .as_ref()
        .map(|a| a.currency.clone())
        .unwrap_or_default();
    let row = rows.iter().find(|b| b.currency == currency);
    let Some(row) = row else {
        // No row: nothing moved between them in that currency, which is
        // what an expectation of all zeros says.
        let zero = |a: &Option<Amount>| {
            a.as_ref()
                .is_none_or(|a| dec(&a.text).is_some_and(|d| d.is_zero()))
        };
        if zero(&want.outstanding)
            && zero(&want.accrued)
            && zero(&want.paid)
            && zero(&want.overdue)
            && zero(&want.unapplied)
        {
            return None;
        }
        return Some(fail(
            item,
            show::owes(&from.text, &to.text, None),
            format!(
                "nothing is owed between {} and {} in {currency}",
                from.text, to.text
            ),
        ));
    };
    let check = |e: &Option<Amount>, a: &str| e.as_ref().is_none_or(|e| same_amount(e, a, &row.currency));
    let holds = check(&want.outstanding, &row.outstanding)
        && check(&want.accrued, &row.accrued)
        && check(&want.paid, &row.paid)
        && check(&want.overdue, &row.overdue)
        && check(&want.unapplied, &row.unapplied)
        && want.undetermined.is_none_or(|n| n == row.undetermined);
    if holds {
        return None;
    }
    let like = |e: &Option<Amount>, a: &str| e.as_ref().map(|_| amount(a, &row.currency));
    let got = Amounts {
        outstanding: Some(amount(&row.outstanding, &row.currency)),
        accrued: like(&want.accrued, &row.accrued),
        paid: like(&want.paid, &row.paid),
        overdue: like(&want.overdue, &row.overdue),
        unapplied: like(&want.unapplied, &row.unapplied),
        undetermined: want.undetermined.map(|_| row.undetermined),
    };
    Some(fail(
        item,
        show::owes(&from.text, &to.text, Some(&got)),
        format!(
            "the balance {} owes {} in {} differs",
            from.text, to.text, row.currency
        ),
    ))
}

fn breach_holds(e: &BreachExpect, b: &BreachRow) -> bool {
    e.party.as_ref().is_none_or(|p| p.text == b.party)
        && e.clause.as_ref().is_none_or(|c| c.text == b.clause)
        && same_moment(&e.on, &b.at)
        && e.by
            .as_ref()
            .is_none_or(|by| b.event.as_deref() == Some(by.text.as_str()) && b.line.is_some())
        && (!e.deadline || b.line.is_none())
        && e.line.is_none_or(|l| b.line == Some(l))
}

/// A breach of the report as an expectation; with the parts of `like`, or
/// all of them.
pub fn breach_as(b: &BreachRow, like: Option<&BreachExpect>) -> BreachExpect {
    let span: SourceSpan = (0, 0).into();
    let how = like.is_none_or(|l| l.by.is_some() || l.deadline);
    BreachExpect {
        party: Some(Named {
            text: b.party.clone(),
            span,
        }),
        clause: Some(Named {
            text: b.clause.clone(),
            span,
        }),
        on: b.at.clone(),
        by: if how && b.line.is_some() {
            b.event.as_ref().map(|e| Named {
                text: e.clone(),
                span,
            })
        } else {
            None
        },
        deadline: how && b.line.is_none(),
        line: like.and_then(|l| l.line).and(b.line),
    }
}

fn compare_breaches(block: &Expect, items: &[&Item], actual: &Actual, out: &mut Vec<Failure>) {
    let mut used = vec![false; actual.breaches.len()];
    let mut missing: Vec<(&Item, &BreachExpect)> = Vec::new();
    for item in items {
        let Expectation::Breach(e) = &item.what else {
            continue;
        };
        let found = actual
            .breaches
            .iter()
            .enumerate()
            .position(|(i, b)| !used.get(i).copied().unwrap_or(true) && breach_holds(e, b));
        match found.and_then(|i| used.get_mut(i)) {
            Some(u) => *u = true,
            None => missing.push((item, e)),
        }
    }
    for (item, e) in missing {
        // The nearest breach not yet accounted for: same party and clause.
        let partner = actual.breaches.iter().enumerate().position(|(i, b)| {
            !used.get(i).copied().unwrap_or(true)
                && e.party.as_ref().is_some_and(|p| p.text == b.party)
                && e.clause.as_ref().is_some_and(|c| c.text == b.clause)
        });
        match partner.and_then(|i| actual.breaches.get(i).map(|b| (i, b))) {
            Some((i, b)) => {
                if let Some(u) = used.get_mut(i) {
                    *u = true;
                }
                let got = show::breach(&breach_as(b, Some(e)));
                out.push(fail(
                    item,
                    got,
                    format!("the breach of `{}` is not as expected", b.clause),
                ));
            }
            None => out.push(Failure {
                span: item.span,
                message: "no such breach".into(),
                expected: show::expectation(&item.what),
                actual: "no such breach".into(),
                edit: Edit::Delete(item.span),
            }),
        }
    }
    let unexpected: Vec<&BreachRow> = actual
        .breaches
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|(b, _)| b)
        .collect();
    if unexpected.is_empty() {
        return;
    }
    let no_breaches = block.items.iter().find(|i| i.what == Expectation::NoBreaches);
    let lines: Vec<String> = unexpected
        .iter()
        .map(|b| show::breach(&breach_as(b, None)))
        .collect();
    let (span, edit) = match no_breaches {
        Some(item) => (item.span, Edit::Replace(item.span, lines.join("\n"))),
        None => {
            let after = items
                .last()
                .map(|i| i.span.offset() + i.span.len())
                .unwrap_or(block.head.offset() + block.head.len());
            let span = items.last().map_or(block.head, |i| i.span);
            (span, Edit::Insert(after, lines.clone()))
        }
    };
    let n = unexpected.len();
    out.push(Failure {
        span,
        message: if n == 1 {
            "a breach that is not expected".into()
        } else {
            format!("{n} breaches that are not expected")
        },
        expected: if no_breaches.is_some() {
            "no breaches".into()
        } else {
            "only the breaches listed".into()
        },
        actual: lines.join("\n"),
        edit,
    });
}

// ---------------------------------------------------------------- filling

/// Every expectation the report supports, for a block that states none.
pub fn fill(actual: &Actual) -> Vec<String> {
    let mut out = vec![show::exit(actual.exit)];
    for c in &actual.clauses {
        out.push(show::clause(&c.name, &c.state, None));
    }
    let span: SourceSpan = (0, 0).into();
    let n = |t: &str| {
        Some(Named {
            text: t.to_string(),
            span,
        })
    };
    for r in &actual.norms {
        // Name the norm by as little as tells it from the others.
        let same_kind: Vec<&NormRow> = actual
            .norms
            .iter()
            .filter(|o| o.clause == r.clause && o.kind == r.kind)
            .collect();
        let action = same_kind.iter().any(|o| o.action != r.action);
        let bearer = same_kind
            .iter()
            .any(|o| o.action == r.action && o.bearer != r.bearer);
        let e = NormExpect {
            kind: n(&r.kind),
            clause: n(&r.clause),
            bearer: if bearer { n(&r.bearer) } else { None },
            action: if action { n(&r.action) } else { None },
            key: r.key.clone(),
            state: n(&r.state),
            times: r.count,
            since: None,
            due: r.due.clone(),
            outstanding: r
                .outstanding
                .as_deref()
                .and_then(Money::parse)
                .map(|m| amount(&m.amount.to_string(), m.currency.as_str())),
        };
        out.push(show::norm(&e));
    }
    for b in &actual.balances {
        let nonzero = |t: &str| dec(t).is_some_and(|d| !d.is_zero());
        let a = Amounts {
            outstanding: Some(amount(&b.outstanding, &b.currency)),
            accrued: Some(amount(&b.accrued, &b.currency)),
            paid: Some(amount(&b.paid, &b.currency)),
            overdue: Some(amount(&b.overdue, &b.currency)),
            unapplied: nonzero(&b.unapplied).then(|| amount(&b.unapplied, &b.currency)),
            undetermined: (b.undetermined > 0).then_some(b.undetermined),
        };
        out.push(show::owes(&b.from, &b.to, Some(&a)));
    }
    if actual.breaches.is_empty() {
        out.push("no breaches".into());
    }
    for b in &actual.breaches {
        out.push(show::breach(&breach_as(b, None)));
    }
    out
}

//! The timeline, read back from the `--history` stream: every clause's
//! term and suspensions, every norm instance from the moment it arose to
//! the state it ended in, breaches, ineffective acts, and the ledgers'
//! running totals. Nothing here looks at the engine's state: the engine
//! writes its history into a [`Tap`], which parses each record as it
//! arrives and folds it into a [`Timeline`].

use std::cell::RefCell;
use std::collections::{BTreeSet, VecDeque};
use std::io::{self, Write};
use std::rc::Rc;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use serde::Deserialize;

use crate::model::Program;
use crate::time::{Instant, Moment};

/// One history line, as read back. Mirrors `eval::history::Record`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Rec {
    at: String,
    record: String,
    clause: Option<String>,
    norm: Option<usize>,
    instance: Option<u64>,
    key: Option<String>,
    from: Option<String>,
    to: Option<String>,
    due: Option<String>,
    party: Option<String>,
    currency: Option<String>,
    amount: Option<String>,
    outstanding: Option<String>,
    unapplied: Option<String>,
    undetermined: Option<bool>,
    reason: Option<String>,
    note: Option<String>,
    line: Option<usize>,
    event: Option<String>,
}

/// A state a mark is drawn in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum St {
    Inactive,
    Active,
    Suspended,
    Fulfilled,
    Violated,
    Discharged,
    Expired,
    Ended,
    Exercised,
    Lapsed,
}

impl St {
    pub const ALL: [St; 10] = [
        St::Active,
        St::Suspended,
        St::Fulfilled,
        St::Violated,
        St::Lapsed,
        St::Exercised,
        St::Discharged,
        St::Expired,
        St::Ended,
        St::Inactive,
    ];

    pub fn parse(s: &str) -> St {
        match s {
            "active" => St::Active,
            "suspended" => St::Suspended,
            "fulfilled" => St::Fulfilled,
            "violated" => St::Violated,
            "discharged" => St::Discharged,
            "expired" => St::Expired,
            "ended" => St::Ended,
            "exercised" => St::Exercised,
            "lapsed" => St::Lapsed,
            _ => St::Inactive,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            St::Inactive => "inactive",
            St::Active => "active",
            St::Suspended => "suspended",
            St::Fulfilled => "fulfilled",
            St::Violated => "violated",
            St::Discharged => "discharged",
            St::Expired => "expired",
            St::Ended => "ended",
            St::Exercised => "exercised",
            St::Lapsed => "lapsed",
        }
    }

    /// Whether an instance in this state can still change.
    pub fn is_open(self) -> bool {
        matches!(self, St::Inactive | St::Active | St::Suspended)
    }
}

/// A clause's state from a moment on.
#[derive(Debug, Clone)]
pub struct ClauseStep {
    pub at: i64,
    pub to: St,
    pub line: Option<usize>,
}

/// One instance of a norm, or one amount owed.
#[derive(Debug, Clone)]
pub struct Bar {
    pub id: u64,
    pub key: Option<String>,
    pub start: i64,
    pub start_line: Option<usize>,
    /// Each state from its moment on; the first is the state it arose in.
    pub steps: Vec<(i64, St)>,
    /// When it closed, and the line behind that.
    pub end: Option<i64>,
    pub end_line: Option<usize>,
    /// The deadline: its last instant on time (for a date, the day's end).
    pub due: Option<i64>,
    pub due_text: Option<String>,
    pub note: Option<String>,
    /// For an amount owed: what accrued to it, its ledger.
    pub amount: Option<Decimal>,
    pub undetermined: u32,
    pub ledger: Option<usize>,
    /// For an amount that fell due unpaid: when the rest was paid.
    pub paid_late: Option<i64>,
}

impl Bar {
    /// The state it is in now (at the end of the history).
    pub fn state(&self) -> St {
        self.steps.last().map_or(St::Active, |s| s.1)
    }
}

/// A norm's instances.
#[derive(Debug, Default)]
pub struct NormTrack {
    pub bars: Vec<Bar>,
    /// Instances that may still change, by id.
    open: FxHashMap<u64, usize>,
}

#[derive(Debug, Clone)]
pub struct BreachMark {
    pub at: i64,
    pub clause: Option<usize>,
    pub norm: Option<usize>,
    pub party: String,
    pub reason: String,
    /// The due date missed, when time passing caused it.
    pub due: Option<String>,
    pub line: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct IneffectiveMark {
    pub at: i64,
    pub clause: Option<usize>,
    pub event: String,
    pub reason: String,
    pub line: Option<usize>,
}

/// What a movement on a ledger was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Accrual,
    Reversal,
    Settlement,
    FellDue,
}

/// A ledger's totals just after one movement.
#[derive(Debug, Clone)]
pub struct Point {
    pub at: i64,
    pub what: Move,
    pub amount: Decimal,
    pub norm: Option<usize>,
    pub key: Option<String>,
    pub line: Option<usize>,
    pub accrued: Decimal,
    pub paid: Decimal,
    pub overdue: Decimal,
    pub unapplied: Decimal,
}

/// Who owes whom, in one currency: its movements in order.
#[derive(Debug)]
pub struct LedgerTrack {
    pub from: String,
    pub to: String,
    pub currency: String,
    pub points: Vec<Point>,
    accrued: Decimal,
    paid: Decimal,
    overdue: Decimal,
    unapplied: Decimal,
    /// Amounts that fell due unpaid, oldest first, with what is left of
    /// each: payments settle them first, in this order.
    late: VecDeque<(usize, usize, Decimal)>,
}

impl LedgerTrack {
    pub fn accrued(&self) -> Decimal {
        self.accrued
    }
    pub fn paid(&self) -> Decimal {
        self.paid
    }
    pub fn overdue(&self) -> Decimal {
        self.overdue
    }
}

/// Everything the history said, folded for drawing.
#[derive(Debug, Default)]
pub struct Timeline {
    pub clauses: Vec<Vec<ClauseStep>>,
    pub norms: Vec<NormTrack>,
    pub breaches: Vec<BreachMark>,
    pub breach_count: u64,
    pub ineffective: Vec<IneffectiveMark>,
    pub ineffective_count: u64,
    pub ledgers: Vec<LedgerTrack>,
    /// The first and last moments the history mentions.
    pub first: Option<i64>,
    pub last: Option<i64>,
    /// The first and last moments an event (or a breach) did something.
    pub first_act: Option<i64>,
    pub last_act: Option<i64>,
    /// Lines that could not be read back (never expected).
    pub unreadable: u64,
    clause_index: FxHashMap<String, usize>,
    now: i64,
}

/// Breaches and ineffective acts kept for drawing one by one; past this
/// they are only counted (the page says so, and how to list them all).
pub const MARKS_KEPT: usize = 5_000;

/// Seconds since the epoch of a history `at`, or of a due date (the end of
/// that day: the last moment on time).
pub fn seconds_of(text: &str) -> Option<i64> {
    Moment::parse(text).map(|m| m.instant.as_second())
}

fn due_seconds(text: &str) -> Option<i64> {
    let m = Moment::parse(text)?;
    if m.date_only {
        Instant::end_of(m.instant.date()).map(|i| i.as_second())
    } else {
        Some(m.instant.as_second())
    }
}

fn dec(text: &Option<String>) -> Decimal {
    text.as_deref()
        .and_then(|t| Decimal::from_str_exact(t).ok())
        .unwrap_or_default()
}

impl Timeline {
    pub fn new(program: &Program) -> Timeline {
        Timeline {
            clauses: vec![Vec::new(); program.clauses.len()],
            norms: (0..program.norms.len()).map(|_| NormTrack::default()).collect(),
            clause_index: program
                .clauses
                .values()
                .enumerate()
                .map(|(i, c)| (c.name.clone(), i))
                .collect(),
            ..Timeline::default()
        }
    }

    /// The lines of the events input that marks point at.
    pub fn lines_wanted(&self) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        for n in &self.norms {
            if n.bars.len() > super::draw::AGGREGATE_OVER {
                continue;
            }
            for b in &n.bars {
                out.extend(b.start_line);
                out.extend(b.end_line);
            }
        }
        for c in &self.clauses {
            out.extend(c.iter().filter_map(|s| s.line));
        }
        out.extend(self.breaches.iter().filter_map(|b| b.line));
        out.extend(self.ineffective.iter().filter_map(|b| b.line));
        out
    }

    /// Folds one history line in.
    pub fn take_line(&mut self, line: &[u8]) {
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        match serde_json::from_slice::<Rec>(line) {
            Ok(r) => self.take(r),
            Err(_) => self.unreadable += 1,
        }
    }

    fn clause_of(&self, r: &Rec) -> Option<usize> {
        r.clause.as_ref().and_then(|c| self.clause_index.get(c).copied())
    }

    fn take(&mut self, r: Rec) {
        let Some(at) = seconds_of(&r.at) else {
            self.unreadable += 1;
            return;
        };
        // Records are written in time order, but some carry the moment a
        // state began (a bucket violated since its due date): the clock is
        // the latest moment seen.
        self.now = self.now.max(at);
        self.first = Some(self.first.map_or(at, |f| f.min(at)));
        self.last = Some(self.last.map_or(at, |l| l.max(at)));
        if r.line.is_some() || r.record == "breach" {
            self.first_act = Some(self.first_act.map_or(at, |f| f.min(at)));
            self.last_act = Some(self.last_act.map_or(at, |l| l.max(at)));
        }
        match r.record.as_str() {
            "clause" => {
                if let Some(c) = self.clause_of(&r) {
                    let to = St::parse(r.to.as_deref().unwrap_or(""));
                    if let Some(steps) = self.clauses.get_mut(c) {
                        steps.push(ClauseStep { at, to, line: r.line });
                    }
                }
            }
            "instance" => self.instance(r, at),
            "accrual" => self.accrual(r, at),
            "reversal" => {
                let l = self.ledger(&r);
                let amount = dec(&r.amount);
                let Some(lt) = self.ledgers.get_mut(l) else {
                    return;
                };
                // The engine's own totals are checked; these follow them,
                // and saturate rather than fail on a stream edited by hand.
                lt.accrued = lt.accrued.saturating_sub(amount);
                let outstanding = lt.accrued.saturating_sub(lt.paid).max(Decimal::ZERO);
                lt.overdue = lt.overdue.min(outstanding);
                self.point(l, at, Move::Reversal, amount, &r);
            }
            "settlement" => self.settlement(r, at),
            "bucket" => self.bucket(r, at),
            "breach" => {
                self.breach_count += 1;
                if self.breaches.len() < MARKS_KEPT {
                    let clause = self.clause_of(&r);
                    self.breaches.push(BreachMark {
                        at,
                        clause,
                        norm: r.norm,
                        party: r.party.unwrap_or_default(),
                        reason: r.reason.unwrap_or_default(),
                        due: r.due,
                        line: r.line,
                    });
                }
            }
            "ineffective" => {
                self.ineffective_count += 1;
                if self.ineffective.len() < MARKS_KEPT {
                    let clause = self.clause_of(&r);
                    self.ineffective.push(IneffectiveMark {
                        at,
                        clause,
                        event: r.event.unwrap_or_default(),
                        reason: r.reason.unwrap_or_default(),
                        line: r.line,
                    });
                }
            }
            _ => self.unreadable += 1,
        }
    }

    fn instance(&mut self, r: Rec, at: i64) {
        let (Some(n), Some(id)) = (r.norm, r.instance) else {
            return;
        };
        let Some(track) = self.norms.get_mut(n) else {
            return;
        };
        let to = St::parse(r.to.as_deref().unwrap_or(""));
        let due = r.due.as_deref().and_then(due_seconds);
        let i = match track.open.get(&id) {
            Some(&i) => i,
            None => {
                track.bars.push(Bar {
                    id,
                    key: r.key.clone(),
                    start: at,
                    start_line: r.line,
                    steps: Vec::with_capacity(2),
                    end: None,
                    end_line: None,
                    due: None,
                    due_text: None,
                    note: None,
                    amount: None,
                    undetermined: 0,
                    ledger: None,
                    paid_late: None,
                });
                let i = track.bars.len() - 1;
                track.open.insert(id, i);
                i
            }
        };
        let Some(bar) = track.bars.get_mut(i) else {
            return;
        };
        if bar.steps.last().map(|s| s.1) != Some(to) {
            bar.steps.push((at, to));
        }
        if due.is_some() {
            bar.due = due;
            bar.due_text = r.due.clone();
        }
        if r.note.is_some() {
            bar.note = r.note;
        }
        if !to.is_open() {
            bar.end = Some(at);
            bar.end_line = r.line;
            // A violated obligation can still be performed late.
            if to != St::Violated {
                track.open.remove(&id);
            }
        }
    }

    fn ledger(&mut self, r: &Rec) -> usize {
        let from = r.from.as_deref().unwrap_or("");
        let to = r.to.as_deref().unwrap_or("");
        let cur = r.currency.as_deref().unwrap_or("");
        if let Some(i) = self
            .ledgers
            .iter()
            .position(|l| l.from == from && l.to == to && l.currency == cur)
        {
            return i;
        }
        self.ledgers.push(LedgerTrack {
            from: from.to_string(),
            to: to.to_string(),
            currency: cur.to_string(),
            points: Vec::new(),
            accrued: Decimal::ZERO,
            paid: Decimal::ZERO,
            overdue: Decimal::ZERO,
            unapplied: Decimal::ZERO,
            late: VecDeque::new(),
        });
        self.ledgers.len() - 1
    }

    fn point(&mut self, l: usize, at: i64, what: Move, amount: Decimal, r: &Rec) {
        let Some(lt) = self.ledgers.get_mut(l) else {
            return;
        };
        lt.points.push(Point {
            at,
            what,
            amount,
            norm: r.norm,
            key: r.key.clone(),
            line: r.line,
            accrued: lt.accrued,
            paid: lt.paid,
            overdue: lt.overdue,
            unapplied: lt.unapplied,
        });
    }

    fn accrual(&mut self, r: Rec, at: i64) {
        let l = self.ledger(&r);
        let amount = dec(&r.amount);
        if let Some(lt) = self.ledgers.get_mut(l) {
            lt.accrued = lt.accrued.saturating_add(amount);
        }
        self.point(l, at, Move::Accrual, amount, &r);
        let (Some(n), Some(id)) = (r.norm, r.instance) else {
            return;
        };
        let Some(track) = self.norms.get_mut(n) else {
            return;
        };
        let i = match track.open.get(&id) {
            Some(&i) => i,
            None => {
                track.bars.push(Bar {
                    id,
                    key: r.key.clone(),
                    start: at,
                    start_line: r.line,
                    steps: vec![(at, St::Active)],
                    end: None,
                    end_line: None,
                    due: None,
                    due_text: None,
                    note: None,
                    amount: Some(Decimal::ZERO),
                    undetermined: 0,
                    ledger: Some(l),
                    paid_late: None,
                });
                let i = track.bars.len() - 1;
                track.open.insert(id, i);
                i
            }
        };
        if let Some(bar) = track.bars.get_mut(i) {
            if r.undetermined == Some(true) {
                bar.undetermined += 1;
            } else {
                bar.amount = Some(bar.amount.unwrap_or_default() + amount);
            }
            if let Some(d) = r.due.as_deref() {
                bar.due = due_seconds(d);
                bar.due_text = Some(d.to_string());
            }
        }
    }

    fn settlement(&mut self, r: Rec, at: i64) {
        let l = self.ledger(&r);
        let applied = dec(&r.amount);
        let now = self.now;
        let Some(lt) = self.ledgers.get_mut(l) else {
            return;
        };
        lt.paid = lt.paid.saturating_add(applied);
        lt.unapplied = lt.unapplied.saturating_add(dec(&r.unapplied));
        // Payments settle what is past due first, oldest due first.
        lt.overdue = lt.overdue.saturating_sub(lt.overdue.min(applied));
        let mut left = applied;
        let mut paid_off = Vec::new();
        while left > Decimal::ZERO {
            let Some(front) = lt.late.front_mut() else { break };
            let take = left.min(front.2);
            front.2 = front.2.saturating_sub(take);
            left = left.saturating_sub(take);
            if front.2 <= Decimal::ZERO {
                paid_off.push((front.0, front.1));
                lt.late.pop_front();
            }
        }
        for (n, i) in paid_off {
            if let Some(bar) = self.norms.get_mut(n).and_then(|t| t.bars.get_mut(i)) {
                bar.paid_late = Some(now);
                bar.end = Some(now);
                bar.end_line = r.line;
            }
        }
        self.point(l, at, Move::Settlement, applied, &r);
    }

    fn bucket(&mut self, r: Rec, at: i64) {
        let to = St::parse(r.to.as_deref().unwrap_or(""));
        let outstanding = dec(&r.outstanding);
        let (Some(n), Some(id)) = (r.norm, r.instance) else {
            return;
        };
        let Some(track) = self.norms.get_mut(n) else {
            return;
        };
        let Some(&i) = track.open.get(&id) else {
            return;
        };
        // A bucket record names the payer, not the payee: the ledger is
        // the one its amount accrued on.
        let Some(l) = track.bars.get(i).and_then(|b| b.ledger) else {
            return;
        };
        let mut fell_due = false;
        if let Some(bar) = track.bars.get_mut(i) {
            if let Some(d) = r.due.as_deref() {
                bar.due = due_seconds(d);
                bar.due_text = Some(d.to_string());
            }
            if to == St::Violated && outstanding > Decimal::ZERO {
                // Fell due unpaid: it stays open until paid.
                bar.steps.push((at, St::Violated));
                fell_due = true;
            } else {
                if bar.steps.last().map(|s| s.1) != Some(to) {
                    bar.steps.push((self.now, to));
                }
                bar.end = Some(self.now.max(at));
                bar.end_line = r.line;
                track.open.remove(&id);
            }
        }
        if fell_due {
            let Some(lt) = self.ledgers.get_mut(l) else {
                return;
            };
            lt.overdue = lt.overdue.saturating_add(outstanding);
            lt.late.push_back((n, i, outstanding));
            self.point(l, at, Move::FellDue, outstanding, &r);
        }
    }
}

/// The history writer handed to the engine: it splits what the engine
/// writes into lines and folds each into the shared [`Timeline`].
pub struct Tap {
    timeline: Rc<RefCell<Timeline>>,
    partial: Vec<u8>,
    /// Also writes everything here (`--history FILE` with `--format html`).
    tee: Option<Box<dyn Write>>,
}

impl Tap {
    pub fn new(timeline: Rc<RefCell<Timeline>>, tee: Option<Box<dyn Write>>) -> Tap {
        Tap {
            timeline,
            partial: Vec::new(),
            tee,
        }
    }
}

impl Write for Tap {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(t) = self.tee.as_mut() {
            t.write_all(buf)?;
        }
        let mut rest = buf;
        while let Some(nl) = memchr::memchr(b'\n', rest) {
            let (head, tail) = rest.split_at(nl);
            let mut timeline = self.timeline.borrow_mut();
            if self.partial.is_empty() {
                timeline.take_line(head);
            } else {
                self.partial.extend_from_slice(head);
                timeline.take_line(&self.partial);
                self.partial.clear();
            }
            rest = tail.get(1..).unwrap_or(&[]);
        }
        self.partial.extend_from_slice(rest);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.partial.is_empty() {
            let line = std::mem::take(&mut self.partial);
            self.timeline.borrow_mut().take_line(&line);
        }
        match self.tee.as_mut() {
            Some(t) => t.flush(),
            None => Ok(()),
        }
    }
}

/// Picks the given lines (1-based) out of an events input, each cut to
/// `max` characters: the event lines that marks point at.
pub fn pick_lines(
    input: impl io::BufRead,
    wanted: &BTreeSet<usize>,
    max: usize,
) -> std::collections::BTreeMap<usize, String> {
    let mut out = std::collections::BTreeMap::new();
    let Some(&last) = wanted.iter().next_back() else {
        return out;
    };
    let mut input = input;
    let mut buf = Vec::new();
    let mut no = 0usize;
    while no < last {
        buf.clear();
        match input.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        no += 1;
        if wanted.contains(&no) {
            let text = String::from_utf8_lossy(&buf);
            let text = text.trim_end_matches(['\n', '\r']);
            let cut: String = text.chars().take(max).collect();
            let cut = if cut.len() < text.len() {
                format!("{cut}…")
            } else {
                cut
            };
            out.insert(no, cut);
        }
    }
    out
}

//! Evaluate: replays events against the lowered program.
//!
//! The engine holds state, not history. The work for one event is
//! proportional to the norms that listen to its kind and are open; memory
//! is proportional to open norms, open balances and the duplicate-detection
//! horizon. Each part owns one kind of state:
//!
//! - [`clock`]: every deadline, delayed start, due date, window slide and
//!   clause or deal boundary, as timers in one queue;
//! - [`instances`]: the norm instances still open or violated, by creation
//!   order and key; closed ones counted by state;
//! - [`trackers`]: running counts and sums, their windows, latest events;
//! - [`ledger`]: amounts owed, settled oldest due first;
//! - [`dedup`]: ids over a horizon of event time;
//! - [`spool`]: breaches and ineffective acts, capped in memory;
//! - [`history`]: the transitions streamed to `--history`;
//! - [`explain`]: the words of breaches and ineffective acts.
//!
//! This module coordinates them: it routes each event to its listeners and
//! each timer to its owner, and carries out what they lead to (a breach, a
//! lapse, a remedy).

mod clock;
mod dedup;
mod explain;
mod history;
mod instances;
mod ledger;
mod lifecycle;
mod money;
mod norms;
mod persist;
mod plan;
mod snapshot;
pub mod spool;
mod state;
mod ticks;
mod trackers;

use std::collections::VecDeque;
use std::io::Write;
use std::sync::Arc;

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use smol_str::SmolStr;

pub use dedup::DEFAULT_HORIZON_DAYS;
pub use history::Record;
pub use ledger::{Bucket, Label, LedgerKey, PeriodKey};
pub use persist::Saved;
pub use snapshot::{LedgerView, NormView, Snapshot};
pub use state::{Breach, ClauseState, Closed, Due, Ineffective, Instance, NState, Note, Status, Trigger};

use crate::events::Event;
use crate::model::interpret::{as_money, eval, holds, Ctx, Env, EvalError, Problem};
use crate::model::*;
use crate::time::{add_days, add_months, show_instant, Instant, Moment};
use crate::value::{exact, format_amount, Currency, Duration, Money, Value};
use clock::{BucketId, Clock, InstanceId, Timer};
use dedup::{Dedup, Verdict};
use history::History;
use instances::NormStore;
use ledger::{DueSpec, Ledger, Live};
use plan::Plan;
use spool::Spool;
use trackers::Trackers;

/// Why an event was not applied.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    /// Dated before the previous event.
    OutOfOrder { previous: Moment, previous_line: usize },
    /// Its `id` was used before, by an event that said something else.
    ReusedId { first_line: usize },
    /// It has an `id` and is dated before the duplicate-detection horizon.
    BeyondHorizon { horizon: Duration, latest: Moment },
    /// Arithmetic or comparison failed while applying it.
    Eval(EvalError),
}

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Applied,
    /// Its `id` was seen before, on the same event: ignored.
    Duplicate,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    pub applied: u64,
    pub duplicates: u64,
    pub ineffective: u64,
}

/// How long, in event time, what became of a closed instance is recalled
/// for the words of a later breach or ineffective act ("already taken up on
/// 2025-03-10"). Only words depend on it, never a decision; past it they
/// say that nothing open or recently closed covers the act.
pub const RECALL_DAYS: i64 = 92;

/// How a run is set up.
pub struct Options {
    /// How long ids are remembered, in event time.
    pub dedup_horizon: Duration,
    /// How many breaches, and ineffective acts, are held in memory.
    pub spool_cap: usize,
    /// Where `--history` goes.
    pub history: Option<Box<dyn Write>>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            dedup_horizon: Duration::days(DEFAULT_HORIZON_DAYS),
            spool_cap: spool::DEFAULT_CAP,
            history: None,
        }
    }
}

/// The deal's own lifecycle.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
struct DealState {
    started: bool,
    ended: bool,
}

pub struct Engine<'p> {
    program: &'p Program,
    plan: Plan,
    clock: Clock,
    now: Option<Instant>,
    last: Option<(Moment, usize)>,
    deal: DealState,
    clauses: Table<ClauseId, ClauseState>,
    norms: Table<NormId, NormStore>,
    ledgers: Vec<Ledger>,
    ledger_index: FxHashMap<LedgerKey, u32>,
    /// Ledgers by the pair of parties, whatever the currency.
    ledgers_between: FxHashMap<(PartyId, PartyId), SmallVec<[u32; 1]>>,
    /// Per norm: its amounts still growing, oldest first.
    growing: Table<NormId, VecDeque<(u32, BucketId)>>,
    /// Per norm: its amounts waiting for an event to fix their due date.
    awaiting: Table<NormId, Vec<(u32, BucketId)>>,
    /// Per norm: `until`/`unless` events that came with nothing to pair
    /// with; each is paired with the next instance to arise.
    banked: Table<NormId, u32>,
    trackers: Trackers,
    dedup: Dedup,
    /// Tombstones of closed instances, oldest first, forgotten after
    /// [`RECALL_DAYS`].
    tombstones: VecDeque<(Instant, NormId, u64, u64)>,
    breaches: Spool<Breach>,
    ineffective: Spool<Ineffective>,
    history: Option<History>,
    counts: Counts,
    /// The line of the event being applied.
    current: Option<usize>,
    /// When the event being applied happened.
    current_at: Option<Moment>,
    /// Breaches found but not yet reacted to, as `breach of …` events.
    pending: Vec<Event>,
    /// Creation order of instances and amounts owed.
    seq: u64,
    /// Timers left set for instances and amounts that closed before them:
    /// past a point they are swept out, so the queue follows what is open.
    stale: usize,
    /// A failure found where it cannot be returned at once (making an
    /// instance as a clause starts): returned by the event or timer that
    /// caused it.
    failed: Option<EvalError>,
    /// Time events: whether their timers are set, and the day the deal
    /// started, from which its periods are counted.
    ticks: ticks::TickState,
}

impl<'p> Engine<'p> {
    pub fn new(program: &'p Program) -> Engine<'p> {
        Engine::with_options(program, Options::default())
    }

    pub fn with_options(program: &'p Program, options: Options) -> Engine<'p> {
        let norms = program.norms.len();
        let mut e = Engine {
            program,
            plan: Plan::new(program),
            clock: Clock::default(),
            now: None,
            last: None,
            deal: DealState::default(),
            clauses: Table::filled(ClauseState::default(), program.clauses.len()),
            norms: (0..norms).map(|_| NormStore::default()).collect(),
            ledgers: Vec::new(),
            ledger_index: FxHashMap::default(),
            ledgers_between: FxHashMap::default(),
            growing: Table::filled(VecDeque::new(), norms),
            awaiting: Table::filled(Vec::new(), norms),
            banked: Table::filled(0, norms),
            trackers: Trackers::new(program),
            dedup: Dedup::new(options.dedup_horizon),
            tombstones: VecDeque::new(),
            breaches: Spool::new(options.spool_cap),
            ineffective: Spool::new(options.spool_cap),
            history: options.history.map(History::new),
            counts: Counts::default(),
            current: None,
            current_at: None,
            pending: Vec::new(),
            seq: 0,
            stale: 0,
            failed: None,
            ticks: ticks::TickState::default(),
        };
        match program.term.start {
            Bound::At(t) => e.clock.schedule(t, Timer::DealStart),
            Bound::Unbounded => e.deal.started = true,
            Bound::On(_) => {}
        }
        if let Bound::At(t) = program.term.end {
            e.clock.schedule(t, Timer::DealEnd);
        }
        for (id, c) in program.clauses.iter() {
            match c.lifetime.start {
                Bound::At(t) => e.clock.schedule(t, Timer::ClauseStart(id)),
                Bound::Unbounded => {
                    if let Some(st) = e.clauses.get_mut(id) {
                        st.started = true;
                    }
                }
                Bound::On(_) => {}
            }
            if let Bound::At(t) = c.lifetime.end {
                e.clock.schedule(t, Timer::ClauseEnd(id));
            }
        }
        for id in program.clauses.ids() {
            e.refresh(id, None);
        }
        if let Bound::At(t) = program.term.start {
            e.begin_ticks(Some(t));
        }
        e
    }

    pub fn program(&self) -> &'p Program {
        self.program
    }

    pub fn now(&self) -> Option<Instant> {
        self.now
    }

    pub fn last_event(&self) -> Option<Moment> {
        self.last.map(|(m, _)| m)
    }

    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// How many breaches were found so far.
    pub fn breach_count(&self) -> u64 {
        self.breaches.len()
    }

    /// How many ids are remembered for duplicate detection.
    pub fn ids_remembered(&self) -> usize {
        self.dedup.remembered()
    }

    /// Instances open or violated, amounts owed still kept, timers set:
    /// what the engine's memory follows.
    pub fn open_state(&self) -> (usize, usize, usize) {
        let instances = self.norms.values().map(NormStore::len).sum();
        let buckets = self.ledgers.iter().map(Ledger::len).sum();
        (instances, buckets, self.clock.pending())
    }

    /// Applies one event. `raw` is its line, copied only if it breaches.
    pub fn apply(&mut self, ev: &Event, raw: &[u8]) -> Result<Applied, Rejection> {
        let latest = self.last.map(|(m, _)| m.instant);
        // Duplicates first: a stream delivered again repeats earlier ids
        // with earlier dates, and must be ignored, not refused.
        let payload = ev.id.map(|_| crate::events::payload_hash(ev));
        if let (Some(id), Some(payload)) = (ev.id, payload) {
            match self.dedup.judge(id, payload, ev.at.instant, latest) {
                Verdict::New => {}
                Verdict::Duplicate => {
                    self.counts.duplicates += 1;
                    return Ok(Applied::Duplicate);
                }
                Verdict::Reused { first_line } => return Err(Rejection::ReusedId { first_line }),
                Verdict::BeyondHorizon => {
                    return Err(Rejection::BeyondHorizon {
                        horizon: self.dedup.horizon,
                        latest: self.last.map_or(ev.at, |(m, _)| m),
                    })
                }
            }
        }
        if let Some((prev, prev_line)) = self.last {
            if ev.at.instant < prev.instant {
                return Err(Rejection::OutOfOrder {
                    previous: prev,
                    previous_line: prev_line,
                });
            }
        }
        self.advance_to(ev.at.instant).map_err(Rejection::Eval)?;
        self.last = Some((ev.at, ev.line));
        if let (Some(id), Some(payload)) = (ev.id, payload) {
            self.dedup.remember(id, payload, ev.at.instant, ev.line);
        }
        self.forget_old(ev.at.instant);
        self.current = Some(ev.line);
        let result = self.dispatch(ev, raw);
        self.current = None;
        result.map_err(Rejection::Eval)?;
        if let Some(e) = self.failed.take() {
            return Err(Rejection::Eval(e));
        }
        self.react_to_breaches().map_err(Rejection::Eval)?;
        self.counts.applied += 1;
        Ok(Applied::Applied)
    }

    /// Forgets the tombstones of instances closed longer ago than they are
    /// recalled.
    fn forget_old(&mut self, latest: Instant) {
        if self.tombstones.is_empty() {
            return;
        }
        let Some(cutoff) = latest.plus_seconds(-RECALL_DAYS * 86_400) else {
            return;
        };
        while self.tombstones.front().is_some_and(|(at, ..)| *at < cutoff) {
            if let Some((_, norm, key, seq)) = self.tombstones.pop_front() {
                if let Some(store) = self.norms.get_mut(norm) {
                    store.forget(key, seq);
                }
            }
        }
    }

    /// Moves time to `to`, inclusive, firing every timer due by then.
    pub fn advance_to(&mut self, to: Instant) -> Result<(), EvalError> {
        if matches!(self.program.term.start, Bound::Unbounded) && !self.ticks.begun {
            self.begin_ticks(Some(to));
        }
        while let Some((at, timer)) = self.clock.next_due(to) {
            self.now = Some(at);
            self.fire(at, timer)?;
            if let Some(e) = self.failed.take() {
                return Err(e);
            }
            self.react_to_breaches()?;
        }
        if self.now.is_none_or(|n| n < to) {
            self.now = Some(to);
        }
        Ok(())
    }

    fn fire(&mut self, at: Instant, timer: Timer) -> Result<(), EvalError> {
        match timer {
            Timer::DealStart => {
                self.deal.started = true;
                self.refresh_all(Some(at));
            }
            Timer::DealEnd => {
                self.deal.ended = true;
                self.refresh_all(Some(at));
            }
            Timer::ClauseStart(c) => {
                if let Some(st) = self.clauses.get_mut(c) {
                    st.started = true;
                }
                self.refresh(c, Some(at));
            }
            Timer::ClauseEnd(c) => {
                if let Some(st) = self.clauses.get_mut(c) {
                    st.ended = true;
                }
                self.refresh(c, Some(at));
            }
            Timer::Deadline { seq, slot, norm, gen } => {
                self.deadline(norm, InstanceId { slot, seq }, gen, at)
            }
            Timer::Activate { seq, slot, norm, gen } => {
                self.activate(norm, InstanceId { slot, seq }, gen, at)
            }
            Timer::BucketDue { seq, slot, ledger } => self.bucket_due(ledger, BucketId { slot, seq })?,
            Timer::PeriodOver { seq, slot, ledger } => {
                let id = BucketId { slot, seq };
                if let Some(l) = self.ledgers.get_mut(ledger as usize) {
                    l.period_over(id);
                }
                self.collect_closed(ledger, at);
            }
            Timer::WindowSlides { tracker } => {
                if let Some(next) = self.trackers.slide(self.program, tracker, at)? {
                    self.clock.schedule(next, Timer::WindowSlides { tracker });
                }
            }
            Timer::Tick { tick, k } => self.tick(tick, k, at),
        }
        Ok(())
    }

    fn dispatch(&mut self, ev: &Event, raw: &[u8]) -> Result<(), EvalError> {
        self.current_at = Some(ev.at);
        let result = self.dispatch_listeners(ev, raw);
        self.trackers.after(self.program, ev);
        self.current_at = None;
        result
    }

    /// Counts and sums take in the event before anything else reacts to it,
    /// so that a condition such as "the fifth payment" sees this one.
    fn track(&mut self, ev: &Event) -> Result<(), EvalError> {
        let program = self.program;
        for i in 0..self.trackers.fed_by(ev.kind).len() {
            let Some(&t) = self.trackers.fed_by(ev.kind).get(i) else {
                break;
            };
            let Some(spec) = program.trackers.get(t) else {
                continue;
            };
            if let Some(c) = &spec.condition {
                if !holds(c, &self.ctx(&ev.fields, &[]))? {
                    continue;
                }
            }
            let add = match spec.field {
                None => Some(Value::Decimal(Decimal::ONE)),
                Some(f) => ev.fields.by_id(f).cloned().flatten(),
            };
            let Some(add) = add else { continue };
            if let Some(wake) = self.trackers.take_in(program, t, ev.at.instant, add)? {
                self.clock.schedule(wake, Timer::WindowSlides { tracker: t });
            }
        }
        Ok(())
    }

    fn dispatch_listeners(&mut self, ev: &Event, raw: &[u8]) -> Result<(), EvalError> {
        let at = ev.at.instant;
        let program = self.program;
        self.track(ev)?;
        let Some(listeners) = program.listeners.get(ev.kind) else {
            return Ok(());
        };
        // Every amount an event accrues is owed before any it takes back, so
        // that no figure depends on the order the clauses are written in.
        let mut reversals: SmallVec<[NormId; 2]> = SmallVec::new();
        for listener in listeners {
            if !reversals.is_empty() && !matches!(listener, Listener::Accrue(_)) {
                for n in std::mem::take(&mut reversals) {
                    self.accrue_as(n, ev, Pass::Reversals)?;
                }
            }
            match *listener {
                Listener::Act(n) => self.act(n, ev, raw)?,
                Listener::Renounce(n) => self.renounce(n, ev)?,
                Listener::Cancel(n) => self.cancel(n, ev),
                Listener::Stop(n) => self.stop(n, ev)?,
                Listener::DueOn(n) => self.due_on(n, ev),
                Listener::Accrue(n) => {
                    if self.accrue_as(n, ev, Pass::Accruals)? {
                        reversals.push(n);
                    }
                }
                Listener::Settle => self.settle(ev)?,
                Listener::DealEnd => {
                    if self.matches_bound(&program.term.end, ev)? {
                        self.deal.ended = true;
                        self.refresh_all(Some(at));
                    }
                }
                Listener::DealStart => {
                    if self.matches_bound(&program.term.start, ev)? && !self.deal.started {
                        self.deal.started = true;
                        self.refresh_all(Some(at));
                        self.begin_ticks(Some(at));
                    }
                }
                Listener::ClauseEnd(c) => {
                    let Some(spec) = program.clauses.get(c) else {
                        continue;
                    };
                    let by_term = self.matches_bound(&spec.lifetime.end, ev)?;
                    let discharged = self.any_matches(&spec.ended_on, ev)?;
                    if by_term || discharged {
                        if let Some(st) = self.clauses.get_mut(c) {
                            if !st.ended {
                                st.ended = true;
                                st.discharged = discharged && !by_term;
                                self.refresh(c, Some(at));
                            }
                        }
                    }
                }
                Listener::ClauseSuspend(c) => {
                    let Some(spec) = program.clauses.get(c) else {
                        continue;
                    };
                    if self.any_matches(&spec.suspended_on, ev)? {
                        if let Some(st) = self.clauses.get_mut(c) {
                            if !st.suspended {
                                st.suspended = true;
                                self.refresh(c, Some(at));
                            }
                        }
                    }
                }
                Listener::ClauseStart(c) => {
                    let Some(spec) = program.clauses.get(c) else {
                        continue;
                    };
                    if self.matches_bound(&spec.lifetime.start, ev)? {
                        if let Some(st) = self.clauses.get_mut(c) {
                            if !st.started {
                                st.started = true;
                                self.refresh(c, Some(at));
                            }
                        }
                    }
                }
                Listener::ClauseResume(c) => {
                    let Some(spec) = program.clauses.get(c) else {
                        continue;
                    };
                    if self.any_matches(&spec.resumed_on, ev)? {
                        if let Some(st) = self.clauses.get_mut(c) {
                            if st.suspended {
                                st.suspended = false;
                                self.refresh(c, Some(at));
                            }
                        }
                    }
                }
                Listener::Trigger(n) => self.trigger(n, ev)?,
            }
        }
        for n in reversals {
            self.accrue_as(n, ev, Pass::Reversals)?;
        }
        Ok(())
    }

    /// Records that a clause was breached, for the remedies that follow it.
    fn raise(&mut self, clause: ClauseId, party: PartyId, amount: Option<Money>, at: Instant) {
        let Some(&kind) = self.program.breach_events.get(clause) else {
            return;
        };
        let Some(name) = self.program.parties.get(party) else {
            return;
        };
        self.pending.push(Event {
            line: 0,
            at: Moment::at(at),
            kind,
            id: None,
            fields: vec![
                Some(Value::Entity(name.name.as_str().into())),
                amount.map(Value::Money),
            ],
        });
    }

    /// Lets remedies react to the breaches just found. A remedy's own breach
    /// is reacted to in turn, up to a bound that only a contract whose
    /// remedies breach each other without end could reach.
    fn react_to_breaches(&mut self) -> Result<(), EvalError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let saved = self.current.take();
        let mut rounds = 0;
        while !self.pending.is_empty() && rounds < 1000 {
            rounds += 1;
            for ev in std::mem::take(&mut self.pending) {
                self.dispatch(&ev, b"")?;
            }
        }
        self.pending.clear();
        self.current = saved;
        Ok(())
    }

    fn ctx<'a>(&'a self, fields: &'a [Option<Value>], bound: &'a [Option<Value>]) -> Ctx<'a> {
        Ctx {
            terms: &self.program.terms,
            fields,
            bound,
            open_as_zero: false,
            env: self.env(),
        }
    }

    fn env(&self) -> Env<'_> {
        Env {
            now: self.now,
            at: self.current_at,
            bound_at: None,
            elapsed: None,
            outstanding: None,
            trackers: &self.trackers.values,
            latest: &self.trackers.latest,
            keyed: Some(&self.trackers.keyed),
        }
    }

    /// A context for judging an act against an instance.
    fn inst_ctx<'a>(&'a self, fields: &'a [Option<Value>], inst: &'a Instance) -> Ctx<'a> {
        let bound: &[Option<Value>] = inst.payload.as_ref().map_or(&[], |p| &p.fields);
        let mut c = self.ctx(fields, bound);
        c.env.bound_at = inst.payload.as_ref().and_then(|p| p.at);
        c
    }

    fn matches(&self, m: &Match, ev: &Event) -> Result<bool, EvalError> {
        match &m.condition {
            None => Ok(true),
            Some(c) => holds(c, &self.ctx(&ev.fields, &[])),
        }
    }

    /// Whether any of `ms` is this event, with its condition holding.
    fn any_matches(&self, ms: &[Match], ev: &Event) -> Result<bool, EvalError> {
        for m in ms.iter().filter(|m| m.event == ev.kind) {
            if self.matches(m, ev)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn matches_bound(&self, b: &Bound, ev: &Event) -> Result<bool, EvalError> {
        match b {
            Bound::On(m) if m.event == ev.kind => self.matches(m, ev),
            _ => Ok(false),
        }
    }

    // ------------------------------------------------------------ money

    /// Brings every growing amount up to now and returns a read-only view
    /// of the state for a report.
    pub fn snapshot(&mut self) -> Result<Snapshot<'_, 'p>, EvalError> {
        for l in 0..self.ledgers.len() as u32 {
            self.refresh_ledger(l)?;
        }
        Ok(Snapshot::new(self))
    }

    /// Writes out what the history stream still holds; a failed write of
    /// it, or of the breaches past the cap, is reported here.
    /// Why breaches or ineffective acts could not be spilled to a temporary
    /// file, if they could not: they were held in memory instead.
    pub fn spill_failure(&self) -> Option<&str> {
        self.breaches
            .error
            .as_deref()
            .or(self.ineffective.error.as_deref())
    }

    /// Stops writing the history, flushing what was written.
    pub fn detach_history(&mut self) -> std::io::Result<()> {
        let flushed = self.finish();
        self.history = None;
        flushed
    }

    pub fn finish(&mut self) -> std::io::Result<()> {
        match self.history.as_mut() {
            Some(h) => h.flush(),
            None => Ok(()),
        }
    }
}

/// Which of a norm's instances a keyless act looks among.
#[derive(Clone, Copy)]
enum Among {
    Open,
    Late,
    Any,
}

/// Where an accrual goes.
struct Place<'s> {
    /// The timing that applies (and which of the two), if any.
    timing: Option<(&'s Timing, usize)>,
    label: Label,
    /// The calendar period whose accruals are one debt.
    period: Option<PeriodKey>,
    /// When the accrual happened.
    at: Instant,
}

/// The last day on time `grace` after the end of `from`, and the first
/// instant that is late.
/// Which of an event's accruals are applied: amounts owed come before the
/// negative amounts that take back what is unpaid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pass {
    All,
    Accruals,
    Reversals,
}

fn due_after_date(from: jiff::civil::Date, grace: Duration) -> Option<(jiff::civil::Date, Instant)> {
    let due = add_days(add_months(from, grace.months)?, grace.days)?;
    let late = Instant::end_of(due)?.plus_seconds(grace.seconds)?;
    Some((due, late))
}

/// An amount as the history writes it.
fn amount_text(d: Decimal) -> String {
    format_amount(d)
}

/// An instant as the history writes it.
fn at_text(i: Instant) -> String {
    show_instant(i)
}

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

    fn refresh_all(&mut self, at: Option<Instant>) {
        for c in self.program.clauses.ids() {
            self.refresh(c, at);
        }
    }

    fn clause_status(&self, c: ClauseId) -> Status {
        self.clauses.get(c).map_or(Status::Inactive, |st| st.status)
    }

    /// Recomputes a clause's status from its flags and the deal's, and moves
    /// its norm instances along if it changed.
    fn refresh(&mut self, c: ClauseId, at: Option<Instant>) {
        let Some(st) = self.clauses.get(c) else { return };
        let status = if st.ended || self.deal.ended {
            Status::Ended
        } else if !st.started || !self.deal.started {
            Status::Inactive
        } else if st.suspended {
            Status::Suspended
        } else {
            Status::Active
        };
        let old = st.status;
        if old == status {
            return;
        }
        let discharged = st.discharged;
        let suspended_at = st.suspended_at;
        if let Some(st) = self.clauses.get_mut(c) {
            st.status = status;
            st.since = at;
            if status == Status::Suspended {
                st.suspended_at = at;
            }
        }
        let program = self.program;
        let Some(spec) = program.clauses.get(c) else {
            return;
        };
        if self.history.is_some() {
            self.record_clause(c, old, status, at);
        }
        for &n in &spec.norms {
            let Some(norm) = program.norms.get(n) else {
                continue;
            };
            match (old, status) {
                (Status::Inactive, Status::Active) => {
                    if matches!(norm.instancing, Instancing::Single) {
                        self.create(n, None, None, at);
                    }
                    if matches!(norm.instancing, Instancing::Once) {
                        if let Err(e) = self.accrue_once(n, at) {
                            self.failed.get_or_insert(e);
                        }
                    }
                }
                (Status::Active, Status::Suspended) => {
                    let ids: Vec<InstanceId> = self.store(n).open().collect();
                    for id in ids {
                        self.transition(n, id, |i| {
                            if i.state == NState::Active {
                                i.state = NState::Suspended;
                                i.since = at;
                            }
                        });
                    }
                }
                (Status::Suspended, Status::Active) => {
                    let paused = match (suspended_at, at) {
                        (Some(s), Some(a)) => a.seconds_since(s),
                        _ => 0,
                    };
                    let ids: Vec<InstanceId> = self.store(n).open().collect();
                    for id in ids {
                        let mut retimed = None;
                        self.transition(n, id, |i| {
                            if i.state != NState::Suspended {
                                return;
                            }
                            i.state = NState::Active;
                            i.since = at;
                            // A suspension stops the clock: the deadline moves
                            // by as long as the clause was suspended.
                            if let Some(d) = i.due.as_mut() {
                                if let Some(later) = d.late_from.plus_seconds(paused) {
                                    d.late_from = later;
                                    i.gen += 1;
                                    retimed = Some((later, i.gen));
                                }
                            }
                        });
                        if let Some((when, gen)) = retimed {
                            self.clock.schedule(when, Timer::deadline(n, id, gen));
                        }
                    }
                }
                (_, Status::Ended) => {
                    let state = match norm.kind {
                        NormKind::Obligation if discharged => NState::Discharged,
                        NormKind::Obligation => NState::Expired,
                        NormKind::Power => NState::Lapsed,
                        _ => NState::Ended,
                    };
                    let ids: Vec<InstanceId> = self.store(n).open().collect();
                    for id in ids {
                        // A permission not yet in force stays so: it never
                        // came into force before the clause ended.
                        if self
                            .store(n)
                            .get(id)
                            .is_some_and(|i| matches!(i.state, NState::Active | NState::Suspended))
                        {
                            self.close(n, id, state, at);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn store(&self, n: NormId) -> &NormStore {
        static EMPTY: std::sync::OnceLock<NormStore> = std::sync::OnceLock::new();
        self.norms
            .get(n)
            .unwrap_or_else(|| EMPTY.get_or_init(NormStore::default))
    }

    /// Changes an instance in place (not closing it), recording the change.
    fn transition(&mut self, n: NormId, id: InstanceId, f: impl FnOnce(&mut Instance)) {
        let Some(inst) = self.norms.get_mut(n).and_then(|s| s.get_mut(id)) else {
            return;
        };
        let before = inst.state;
        f(inst);
        let after = inst.state;
        if before != after && self.history.is_some() {
            self.record_instance(n, id, before);
        }
    }

    /// Closes an instance: it is counted, and leaves a tombstone.
    fn close(&mut self, n: NormId, id: InstanceId, state: NState, at: Option<Instant>) -> Option<Instance> {
        let before = self.store(n).get(id)?.state;
        let inst = self.norms.get_mut(n)?.close(id, state, at)?;
        if let (Some(key), Some(at)) = (&inst.key, at) {
            self.tombstones
                .push_back((at, n, instances::key_print(key), inst.seq));
        }
        if self.history.is_some() {
            self.record_closed(n, &inst, before);
        }
        if inst.due.is_some_and(|d| at.is_none_or(|at| d.late_from > at)) {
            self.went_stale();
        }
        Some(inst)
    }

    /// A timer was left for something that closed first. When they are
    /// as many as the timers still to fire, the queue is swept.
    fn went_stale(&mut self) {
        self.stale += 1;
        if self.stale < 4096 || self.stale * 2 < self.clock.pending() {
            return;
        }
        self.stale = 0;
        let (norms, ledgers) = (&self.norms, &self.ledgers);
        self.clock.retain(|t| match *t {
            Timer::Deadline { seq, slot, norm, gen } | Timer::Activate { seq, slot, norm, gen } => norms
                .get(norm)
                .and_then(|s| s.get(InstanceId { slot, seq }))
                .is_some_and(|i| i.gen == gen),
            Timer::BucketDue { seq, slot, ledger } | Timer::PeriodOver { seq, slot, ledger } => ledgers
                .get(ledger as usize)
                .is_some_and(|l| l.get(BucketId { slot, seq }).is_some()),
            _ => true,
        });
    }

    fn clause_active(&self, n: NormId) -> bool {
        self.program
            .norms
            .get(n)
            .is_some_and(|spec| self.clause_status(spec.clause) == Status::Active)
    }

    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Creates an instance of norm `n` and sets its deadline; a permission
    /// with a delayed start waits for it, unless a paired event came first.
    fn create(
        &mut self,
        n: NormId,
        key: Option<SmolStr>,
        payload: Option<Arc<Trigger>>,
        at: Option<Instant>,
    ) {
        let Some(spec) = self.program.norms.get(n) else {
            return;
        };
        let due_expr = match &spec.rule {
            NormRule::Obligation { due } => Some(due.as_ref()),
            _ => None,
        };
        let window = match &spec.rule {
            NormRule::Permission { window, .. } | NormRule::Power { window, .. } => window.as_ref(),
            _ => None,
        };
        let activation = match &spec.rule {
            NormRule::Permission {
                activation: Some(a), ..
            } => Some(a),
            _ => None,
        };
        if let Some((_, trig_k)) = activation.and_then(|a| a.unless_key) {
            let key = payload
                .as_deref()
                .and_then(|p| p.fields.by_id(trig_k).cloned().flatten())
                .map(|v| v.key_text());
            if key.is_some_and(|k| self.trackers.take_banked(n, &k)) {
                // What this instance was to wait for has already happened.
                return;
            }
        } else if let Some(a) = activation {
            if let Some(banked) = self.banked.get_mut(n).filter(|b| a.unless.is_some() && **b > 0) {
                // What this instance was to wait for has already happened.
                *banked -= 1;
                return;
            }
        }
        let trigger = payload.as_deref();
        let due = match (due_expr, window, at) {
            (Some(Some(DueRule::After(d))), _, Some(at)) | (None, Some(d), Some(at)) => {
                self.due_after(d, at, trigger).map(|due| (due, true))
            }
            (Some(Some(DueRule::By(d))), _, _) => self.due_by(d, trigger).map(|due| (due, true)),
            _ => Ok((None, false)),
        };
        let starts_at = match (activation, at) {
            (Some(a), Some(at)) => match eval(&a.delay, &self.trigger_ctx(trigger)) {
                Ok(Some(Value::Duration(d))) => d
                    .exact_seconds()
                    .and_then(|s| at.plus_seconds(s))
                    .ok_or_else(|| EvalError::from(Problem::DateRange).or_at(a.delay.span))
                    .map(Some),
                Ok(_) => Ok(None),
                Err(e) => Err(e),
            },
            _ => Ok(None),
        };
        // A deadline or a delay that cannot be worked out rejects the event
        // that made the instance; it is never dropped.
        let (due, starts_at) = match (due, starts_at) {
            (Ok(due), Ok(starts_at)) => (due, starts_at),
            (Err(e), _) | (_, Err(e)) => {
                self.failed.get_or_insert(e);
                return;
            }
        };
        let (due, has_deadline) = due;
        let note = (has_deadline && due.is_none()).then(|| Box::new(Note::DueOpen));
        let pairs = activation.is_some_and(|a| a.unless.is_some());
        let keep = self.plan.keeps_payload.get(n).copied().unwrap_or(false);
        let seq = self.next_seq();
        let inst = Instance {
            seq,
            key,
            payload: if keep { payload } else { None },
            state: if starts_at.is_some() {
                NState::Inactive
            } else {
                NState::Active
            },
            since: if starts_at.is_some() { None } else { at },
            due,
            gen: 0,
            note,
        };
        let Some(store) = self.norms.get_mut(n) else {
            return;
        };
        let id = store.insert(inst);
        if pairs {
            store.push_unpaired(id);
        }
        if let Some(d) = due {
            self.clock.schedule(d.late_from, Timer::deadline(n, id, 0));
        }
        if let Some(s) = starts_at {
            self.clock.schedule(s, Timer::activate(n, id, 0));
        }
        if self.history.is_some() {
            self.record_instance(n, id, NState::Inactive);
        }
    }

    /// A delayed permission comes into force, if nothing cancelled it.
    fn activate(&mut self, n: NormId, id: InstanceId, gen: u32, at: Instant) {
        let active = self.clause_active(n);
        self.transition(n, id, |inst| {
            if inst.gen == gen && inst.state == NState::Inactive && active {
                inst.state = NState::Active;
                inst.since = Some(at);
            }
        });
    }

    /// `unless F first`: F pairs with the oldest instance not yet paired;
    /// if that one has not come into force, it never will.
    fn cancel(&mut self, n: NormId, ev: &Event) {
        let unless_key = match self.program.norms.get(n).map(|s| &s.rule) {
            Some(NormRule::Permission {
                activation: Some(a), ..
            }) => a.unless_key,
            _ => None,
        };
        let Some(store) = self.norms.get_mut(n) else {
            return;
        };
        let paired = match unless_key {
            // `unless F with the same K first`: F pairs with the oldest
            // instance of its key, or waits for the next one.
            Some((f_k, trig_k)) => {
                let Some(key) = Self::key_of(ev, Some(f_k)) else {
                    return;
                };
                let of_key = |i: &Instance| {
                    i.payload
                        .as_ref()
                        .and_then(|p| p.fields.by_id(trig_k).cloned().flatten())
                        .is_some_and(|v| v.key_text() == key)
                };
                match store.take_unpaired(of_key) {
                    Some(id) => Some(id),
                    None => {
                        self.trackers.bank(n, key);
                        return;
                    }
                }
            }
            None => store.pop_unpaired(),
        };
        match paired {
            Some(id) => {
                if let Some(i) = store.get_mut(id) {
                    if i.state == NState::Inactive {
                        i.gen += 1;
                        i.note = Some(Box::new(Note::CameFirst {
                            event: ev.kind,
                            at: ev.at,
                        }));
                    }
                }
            }
            None => {
                if let Some(b) = self.banked.get_mut(n) {
                    *b += 1;
                }
            }
        }
    }

    /// What a deadline or a delay reads: the fields and the time of the
    /// event that made the instance.
    fn trigger_ctx<'a>(&'a self, trigger: Option<&'a Trigger>) -> Ctx<'a> {
        let mut ctx = self.ctx(&[], trigger.map_or(&[], |t| &t.fields));
        ctx.env.bound_at = trigger.and_then(|t| t.at);
        ctx.env.at = ctx.env.bound_at;
        ctx
    }

    /// A deadline `D` after `at`; `None` while it waits on an open term. One
    /// past the calendar is refused, never dropped.
    fn due_after(&self, d: &CExpr, at: Instant, trigger: Option<&Trigger>) -> Result<Option<Due>, EvalError> {
        let Some(Value::Duration(dur)) = eval(d, &self.trigger_ctx(trigger))? else {
            return Ok(None);
        };
        let past = || EvalError::from(Problem::DateRange).or_at(d.span);
        if dur.is_calendar() {
            // "within 30 days after" an event on day D: on or before D + 30.
            let (_, late_from) = due_after_date(at.date(), dur).ok_or_else(past)?;
            Ok(Some(Due {
                late_from,
                date_only: true,
            }))
        } else {
            let secs = dur.exact_seconds().ok_or_else(past)?;
            Ok(Some(Due {
                late_from: at.plus_seconds(secs).ok_or_else(past)?,
                date_only: false,
            }))
        }
    }

    /// A deadline `by D`; `None` while it waits on an open term.
    fn due_by(&self, d: &CExpr, trigger: Option<&Trigger>) -> Result<Option<Due>, EvalError> {
        let Some(Value::Date(m)) = eval(d, &self.trigger_ctx(trigger))? else {
            return Ok(None);
        };
        if m.date_only {
            let late_from = Instant::end_of(m.instant.date())
                .ok_or_else(|| EvalError::from(Problem::DateRange).or_at(d.span))?;
            Ok(Some(Due {
                late_from,
                date_only: true,
            }))
        } else {
            Ok(Some(Due {
                late_from: m.instant,
                date_only: false,
            }))
        }
    }

    fn key_of(ev: &Event, field: Option<FieldId>) -> Option<SmolStr> {
        field
            .and_then(|f| ev.fields.by_id(f))
            .and_then(Option::as_ref)
            .map(Value::key_text)
    }

    fn trigger(&mut self, n: NormId, ev: &Event) -> Result<(), EvalError> {
        if !self.clause_active(n) {
            return Ok(());
        }
        let Some(Instancing::PerEvent { trigger, key }) = self.program.norms.get(n).map(|s| &s.instancing)
        else {
            return Ok(());
        };
        if !self.matches(trigger, ev)? {
            return Ok(());
        }
        let key = Self::key_of(ev, *key);
        let payload = self.plan.keeps_payload.get(n).copied().unwrap_or(false).then(|| {
            Arc::new(Trigger {
                at: Some(ev.at),
                fields: ev.fields.as_slice().into(),
            })
        });
        self.create(n, key, payload, Some(ev.at.instant));
        Ok(())
    }

    fn act_matches(&self, n: NormId, inst: &Instance, ev: &Event) -> Result<bool, EvalError> {
        match self
            .program
            .norms
            .get(n)
            .and_then(|s| s.action.condition.as_ref())
        {
            None => Ok(true),
            Some(c) => holds(c, &self.inst_ctx(&ev.fields, inst)),
        }
    }

    /// The first instance among `ids` that `pred` accepts and the act
    /// matches.
    fn first_of(
        &self,
        n: NormId,
        ids: impl IntoIterator<Item = InstanceId>,
        ev: &Event,
        pred: impl Fn(&Instance) -> bool,
    ) -> Result<Option<InstanceId>, EvalError> {
        let store = self.store(n);
        for id in ids {
            let Some(inst) = store.get(id) else { continue };
            if pred(inst) && self.act_matches(n, inst, ev)? {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// The first instance an act concerns: by key when the act is
    /// correlated, else the oldest open (or late) one. Nothing is collected:
    /// the search stops at the first that matches.
    fn first_matching(
        &self,
        n: NormId,
        key_field: Option<FieldId>,
        among: Among,
        ev: &Event,
        pred: impl Fn(&Instance) -> bool,
    ) -> Result<Option<InstanceId>, EvalError> {
        let store = self.store(n);
        if key_field.is_some() {
            let Some(k) = Self::key_of(ev, key_field) else {
                return Ok(None);
            };
            return self.first_of(n, store.with_key(&k).iter().copied(), ev, pred);
        }
        match among {
            Among::Open => self.first_of(n, store.open(), ev, pred),
            Among::Late => self.first_of(n, store.late(), ev, pred),
            Among::Any => self.first_of(n, store.open().chain(store.late()), ev, pred),
        }
    }

    fn act(&mut self, n: NormId, ev: &Event, raw: &[u8]) -> Result<(), EvalError> {
        let Some(spec) = self.program.norms.get(n) else {
            return Ok(());
        };
        let key = spec.action.key;
        match spec.kind {
            NormKind::Obligation => {
                if matches!(spec.rule, NormRule::Accrual { .. }) {
                    return Ok(());
                }
                // An act performs the oldest instance it matches; failing
                // that, it is the late performance of a violated one.
                let active = |i: &Instance| i.state == NState::Active;
                if let Some(id) = self.first_matching(n, key, Among::Open, ev, active)? {
                    self.close(n, id, NState::Fulfilled, Some(ev.at.instant));
                    return Ok(());
                }
                let late_one = |i: &Instance| i.state == NState::Violated && i.note.is_none();
                if let Some(id) = self.first_matching(n, key, Among::Late, ev, late_one)? {
                    if let Some(store) = self.norms.get_mut(n) {
                        store.performed_late(id, Note::PerformedLate { at: ev.at });
                    }
                }
            }
            NormKind::Prohibition => {
                if !self.clause_active(n) {
                    return Ok(());
                }
                let NormRule::Prohibition { excepted_by } = &spec.rule else {
                    return Ok(());
                };
                let active = |i: &Instance| i.state == NState::Active;
                if self.first_matching(n, key, Among::Any, ev, active)?.is_none() {
                    return Ok(());
                }
                let mut why_not = Vec::new();
                for &p in excepted_by {
                    match self.excuse(p, ev)? {
                        Ok(id) => {
                            let once = matches!(
                                self.program.norms.get(p).map(|s| &s.rule),
                                Some(NormRule::Permission { once: true, .. })
                            );
                            if once {
                                self.use_up(p, id, ev);
                            }
                            return Ok(());
                        }
                        Err(reason) => why_not.push(reason),
                    }
                }
                self.breach(n, ev, raw, why_not);
            }
            NormKind::Power => {
                let active = |i: &Instance| i.state == NState::Active;
                if let Some(id) = self.first_matching(n, key, Among::Any, ev, active)? {
                    self.close(n, id, NState::Exercised, Some(ev.at.instant));
                    return Ok(());
                }
                let reason = self.why_no_power(n, ev);
                self.ineffective(n, ev, reason);
            }
            NormKind::Permission => {}
        }
        Ok(())
    }

    /// A permission for one act is used up by it.
    fn use_up(&mut self, p: NormId, id: InstanceId, ev: &Event) {
        if let Some(i) = self.norms.get_mut(p).and_then(|s| s.get_mut(id)) {
            i.note = Some(Box::new(Note::UsedBy {
                event: ev.kind,
                at: ev.at,
            }));
        }
        self.close(p, id, NState::Ended, Some(ev.at.instant));
    }

    /// Whether an active instance of permission `p` covers the act: which
    /// one, or why none does, in words.
    fn excuse(&self, p: NormId, ev: &Event) -> Result<Result<InstanceId, String>, EvalError> {
        let Some(spec) = self.program.norms.get(p) else {
            return Ok(Err(String::new()));
        };
        let mut failed_terms = false;
        let store = self.store(p);
        let keyed;
        let ids: Box<dyn Iterator<Item = InstanceId>> = match spec.action.key {
            Some(_) => {
                keyed = Self::key_of(ev, spec.action.key);
                match &keyed {
                    Some(k) => Box::new(store.with_key(k).iter().copied()),
                    None => Box::new(std::iter::empty()),
                }
            }
            None => Box::new(store.open().chain(store.late())),
        };
        for id in ids {
            let Some(inst) = store.get(id) else { continue };
            if inst.state != NState::Active || !self.act_matches(p, inst, ev)? {
                continue;
            }
            let ok = match &spec.rule {
                NormRule::Permission { only_if: Some(c), .. } => holds(c, &self.inst_ctx(&ev.fields, inst))?,
                _ => true,
            };
            if ok {
                return Ok(Ok(id));
            }
            failed_terms = true;
        }
        Ok(Err(self.why_not_permitted(p, ev, failed_terms)))
    }

    fn renounce(&mut self, n: NormId, ev: &Event) -> Result<(), EvalError> {
        let Some(NormRule::Power {
            renounced_by,
            renounce_is_an_act,
            ..
        }) = self.program.norms.get(n).map(|s| &s.rule)
        else {
            return Ok(());
        };
        for r in renounced_by.iter().filter(|r| r.event == ev.kind) {
            // A refusal needs no condition of its own to match: any active
            // instance for its key (or the oldest open one) is answered.
            let store = self.store(n);
            let is_active = |id: &InstanceId| store.get(*id).is_some_and(|i| i.state == NState::Active);
            let active = match r.key {
                Some(_) => {
                    Self::key_of(ev, r.key).and_then(|k| store.with_key(&k).iter().copied().find(is_active))
                }
                None => store.open().find(is_active),
            };
            if let Some(id) = active {
                let at = ev.at.instant;
                if let Some(i) = self.norms.get_mut(n).and_then(|s| s.get_mut(id)) {
                    i.note = Some(Box::new(Note::AnsweredBy {
                        event: ev.kind,
                        at: ev.at,
                    }));
                }
                if let Some(inst) = self.close(n, id, NState::Lapsed, Some(at)) {
                    self.lapsed(n, &inst, at);
                }
                return Ok(());
            }
        }
        if *renounce_is_an_act {
            let reason = self.why_no_power(n, ev);
            self.ineffective(n, ev, reason);
        }
        Ok(())
    }

    /// An instance of power `n` lapsed: the norms waiting on that arise.
    fn lapsed(&mut self, n: NormId, inst: &Instance, at: Instant) {
        let Some(successors) = self.plan.on_lapse.get(n) else {
            return;
        };
        for m in successors.clone() {
            if self.clause_active(m) {
                self.create(m, inst.key.clone(), inst.payload.clone(), Some(at));
            }
        }
    }

    fn deadline(&mut self, n: NormId, id: InstanceId, gen: u32, at: Instant) {
        let Some(inst) = self.store(n).get(id) else { return };
        if inst.gen != gen || inst.state != NState::Active {
            return;
        }
        let Some(spec) = self.program.norms.get(n) else {
            return;
        };
        match spec.kind {
            NormKind::Obligation => {
                let shown = inst.due.map(|d| d.shown()).unwrap_or_default();
                if let Some(store) = self.norms.get_mut(n) {
                    store.violate(id, at);
                }
                if self.history.is_some() {
                    self.record_instance(n, id, NState::Active);
                }
                let what = self
                    .program
                    .events
                    .get(spec.action.event)
                    .map_or("", |e| e.name.as_str());
                let breach = Breach {
                    clause: spec.clause,
                    norm: n,
                    party: spec.bearer,
                    at: shown.clone(),
                    instant: at,
                    line: None,
                    raw: None,
                    event: None,
                    reason: format!("no {what} came by {shown}"),
                    allowed: Some(format!("{what} on or before {shown}")),
                };
                self.push_breach(breach);
                self.raise(spec.clause, spec.bearer, None, at);
            }
            NormKind::Power => {
                if let Some(inst) = self.close(n, id, NState::Lapsed, Some(at)) {
                    self.lapsed(n, &inst, at);
                }
            }
            NormKind::Permission | NormKind::Prohibition => {
                self.close(n, id, NState::Ended, Some(at));
            }
        }
    }

    fn push_breach(&mut self, breach: Breach) {
        if self.history.is_some() {
            self.record_breach(&breach);
        }
        self.breaches.push(breach);
    }

    fn breach(&mut self, n: NormId, ev: &Event, raw: &[u8], why_not: Vec<String>) {
        let Some(spec) = self.program.norms.get(n) else {
            return;
        };
        let program = self.program;
        let bearer = program.parties.get(spec.bearer).map_or("", |p| p.name.as_str());
        let mut reason = format!("{bearer} {}", explain::describe_act(program, ev));
        if !why_not.is_empty() {
            reason.push_str(", but ");
            reason.push_str(&why_not.join("; and "));
        }
        let line = self.current;
        self.push_breach(Breach {
            clause: spec.clause,
            norm: n,
            party: spec.bearer,
            at: ev.at.to_string(),
            instant: ev.at.instant,
            line,
            raw: line.map(|_| String::from_utf8_lossy(raw).into_owned()),
            event: Some(ev.kind),
            reason,
            allowed: explain::allowed_instead(program, n),
        });
        self.raise(spec.clause, spec.bearer, None, ev.at.instant);
    }

    fn ineffective(&mut self, n: NormId, ev: &Event, reason: String) {
        self.counts.ineffective += 1;
        let Some(spec) = self.program.norms.get(n) else {
            return;
        };
        let record = Ineffective {
            clause: spec.clause,
            line: ev.line,
            at: ev.at.to_string(),
            event: ev.kind,
            reason,
        };
        if self.history.is_some() {
            self.record_ineffective(&record);
        }
        self.ineffective.push(record);
    }

    // ------------------------------------------------------------ money

    fn ledger_for(&mut self, key: LedgerKey) -> u32 {
        if let Some(&i) = self.ledger_index.get(&key) {
            return i;
        }
        let i = self.ledgers.len() as u32;
        self.ledgers.push(Ledger::new(key));
        self.ledger_index.insert(key, i);
        self.ledgers_between
            .entry((key.from, key.to))
            .or_default()
            .push(i);
        i
    }

    fn accrue(&mut self, n: NormId, ev: &Event) -> Result<(), EvalError> {
        self.accrue_as(n, ev, Pass::All).map(|_| ())
    }

    /// Accrues what `ev` makes owed under norm `n`, in one pass of an
    /// event's accruals; true when the amount is a reversal left for the
    /// pass after them.
    fn accrue_as(&mut self, n: NormId, ev: &Event, pass: Pass) -> Result<bool, EvalError> {
        if !self.clause_active(n) {
            return Ok(false);
        }
        let program = self.program;
        let Some(spec) = program.norms.get(n) else {
            return Ok(false);
        };
        let NormRule::Accrual {
            amount,
            per,
            schedule,
            growing_until,
            growing_key,
            ..
        } = &spec.rule
        else {
            return Ok(false);
        };
        let once = matches!(spec.instancing, Instancing::Once);
        if !once && !self.matches(per, ev)? {
            return Ok(false);
        }
        let payee = spec.counterparty.unwrap_or(spec.bearer);
        let growing = growing_until.is_some();
        let outstanding = if self.plan.reads_outstanding.get(n).copied().unwrap_or(false) {
            self.outstanding_between(spec.bearer, payee)?
        } else {
            None
        };
        let mut ctx = self.ctx(&ev.fields, &[]);
        ctx.env.outstanding = outstanding;
        if growing {
            ctx.env.elapsed = Some(Duration::default());
            ctx.env.bound_at = Some(ev.at);
        }
        let value = eval(amount, &ctx)?;
        let owed = value
            .as_ref()
            .and_then(as_money)
            .transpose()
            .map_err(|e| e.or_at(amount.span));
        let (money, determined, rounded) = match owed? {
            Some((m, rounded)) => (m, true, rounded),
            None => {
                // The amount waits on an open term: learn its currency by
                // reading the open terms as zero, and count it undetermined.
                // An open amount written with no currency is owed all the
                // same, in a currency not yet known: never dropped.
                ctx.open_as_zero = true;
                let currency = match eval(amount, &ctx)? {
                    Some(v) => match as_money(&v).transpose()? {
                        Some((m, _)) => m.currency,
                        None => Currency::UNDETERMINED,
                    },
                    None => Currency::UNDETERMINED,
                };
                (Money::new(Decimal::ZERO, currency), false, false)
            }
        };
        let key = LedgerKey {
            from: spec.bearer,
            to: payee,
            currency: money.currency,
        };
        let l = self.ledger_for(key);
        let now = ev.at.instant;
        let reversal = determined && money.amount < Decimal::ZERO;
        match pass {
            Pass::Accruals if reversal => return Ok(true),
            Pass::Reversals if !reversal => return Ok(false),
            _ => {}
        }
        if reversal {
            // A negative amount takes back what is still unpaid.
            self.refresh_ledger(l)?;
            let ledger = self.ledger(l)?;
            let taken = ledger.reverse(-money.amount, now).ok_or(Problem::Overflow)?;
            if self.history.is_some() {
                self.record_money("reversal", n, key, taken, None);
            }
            self.collect_closed(l, now);
            return Ok(false);
        }
        let place = self.place(schedule.as_ref(), ev)?;
        let existing = match place.period {
            Some(p) => self.ledgers.get(l as usize).and_then(|ledger| ledger.find(n, p)),
            None => None,
        };
        // Only a new bucket needs its due date worked out.
        let (b, due) = match existing {
            Some(b) => (b, None),
            None => {
                let due = match place.timing {
                    Some((t, _)) if t.anchor == Anchor::Date => self.due_on_date(&t.grace, ev)?,
                    _ => self.due_spec(n, &place)?,
                };
                let seq = self.next_seq();
                let ledger = self.ledger(l)?;
                (
                    ledger.open(n, seq, place.label, place.period, due, now),
                    Some(due),
                )
            }
        };
        let ledger = self.ledger(l)?;
        if determined {
            ledger.add(b, money.amount).ok_or(Problem::Overflow)?;
            if rounded {
                ledger.mark_rounded(b);
            }
        } else {
            ledger.add_undetermined(b);
        }
        if let Some(due) = due {
            if due.awaiting.is_some() {
                if let Some(list) = self.awaiting.get_mut(n) {
                    list.push((l, b));
                }
            }
            // `growing until F with the same K`: an F of this key that came
            // first stops it before it grows.
            let stopped_early = match growing_key {
                Some((_, per_k)) => match Self::key_of(ev, Some(*per_k)) {
                    Some(k) => self.trackers.take_banked(n, &k),
                    None => false,
                },
                None => false,
            };
            if growing && (growing_key.is_some() || stopped_early) {
                if !stopped_early {
                    let live = Live {
                        started: ev.at,
                        payload: Arc::from(ev.fields.as_slice()),
                    };
                    self.ledger(l)?.start_growing(b, live);
                    if let Some(q) = self.growing.get_mut(n) {
                        q.push_back((l, b));
                    }
                }
            } else if growing {
                match self.banked.get_mut(n) {
                    // What it was to grow until has already happened.
                    Some(banked) if *banked > 0 => *banked -= 1,
                    _ => {
                        let live = Live {
                            started: ev.at,
                            payload: Arc::from(ev.fields.as_slice()),
                        };
                        self.ledger(l)?.start_growing(b, live);
                        if let Some(q) = self.growing.get_mut(n) {
                            q.push_back((l, b));
                        }
                    }
                }
            }
            if let Some(late) = due.late_from {
                self.clock.schedule(late, Timer::bucket_due(l, b));
            }
            if let Some(last) = place.period.map(|p| p.last_day()) {
                let end = last.and_then(Instant::end_of).ok_or(Problem::DateRange)?;
                self.clock.schedule(end, Timer::period_over(l, b));
            }
        }
        if self.history.is_some() {
            let label = self
                .ledgers
                .get(l as usize)
                .and_then(|x| x.get(b))
                .map(|x| (x.label, x.due_date));
            self.record_accrual(n, key, b, label, money.amount, determined);
        }
        if let Some(ledger) = self.ledgers.get_mut(l as usize) {
            ledger.close_if_done(b);
        }
        self.collect_closed(l, now);
        Ok(false)
    }

    fn ledger(&mut self, l: u32) -> Result<&mut Ledger, EvalError> {
        // Ledger indices are only ever made by `ledger_for`.
        self.ledgers
            .get_mut(l as usize)
            .ok_or_else(|| Problem::Overflow.into())
    }

    /// Counts the amounts owed that left a ledger, as closed instances.
    fn collect_closed(&mut self, l: u32, at: Instant) {
        let Some(ledger) = self.ledgers.get_mut(l as usize) else {
            return;
        };
        if ledger.closed.is_empty() {
            return;
        }
        let key = ledger.key;
        let closed = std::mem::take(&mut ledger.closed);
        for (bucket, state) in &closed {
            let (_, since) = bucket.state();
            if let Some(c) = self
                .norms
                .get_mut(bucket.norm)
                .and_then(|s| s.closed.get_mut(state.index()))
            {
                c.count += 1;
                c.last = c.last.max(since.or(Some(at)));
            }
            if self.history.is_some() {
                self.record_bucket(key, bucket, *state, since.unwrap_or(at));
            }
            if bucket.late_from.is_some_and(|l| l > at) {
                self.went_stale();
            }
        }
        // Hand the buffer back so its storage is reused.
        if let Some(ledger) = self.ledgers.get_mut(l as usize) {
            let mut closed = closed;
            closed.clear();
            ledger.closed = closed;
        }
    }

    /// Which bucket an amount accrued by `ev` goes to, under which timing.
    fn place<'s>(&self, schedule: Option<&'s Schedule>, ev: &Event) -> Result<Place<'s>, EvalError> {
        let single = Label::Accrual {
            at: ev.at,
            line: ev.line,
        };
        let Some(schedule) = schedule else {
            return Ok(Place {
                timing: None,
                label: single,
                period: None,
                at: ev.at.instant,
            });
        };
        let (timing, which) = match &schedule.alternative {
            Some((cond, t)) if holds(cond, &self.ctx(&ev.fields, &[]))? => (t, 1),
            _ => (&schedule.timing, 0),
        };
        let holding = |p| PeriodKey::holding(ev.at.instant, p).ok_or(Problem::DateRange);
        let (label, period) = match timing.anchor {
            Anchor::Accrual | Anchor::Event(_) | Anchor::Date => (single, None),
            Anchor::EachPeriod(p) => {
                let key = holding(p)?;
                (Label::Period(key), Some(key))
            }
            Anchor::ItsPeriod(p) => {
                let label = Label::PeriodAccrual {
                    period: holding(p)?,
                    at: ev.at,
                    line: ev.line,
                };
                (label, None)
            }
        };
        Ok(Place {
            timing: Some((timing, which)),
            label,
            period,
            at: ev.at.instant,
        })
    }

    /// When a new bucket falls due.
    fn due_spec(&self, n: NormId, place: &Place<'_>) -> Result<DueSpec, EvalError> {
        let Some((timing, which)) = place.timing else {
            return Ok(DueSpec::default());
        };
        let cached = self
            .plan
            .graces
            .get(n)
            .and_then(|g| g.get(which))
            .copied()
            .flatten();
        let grace = match cached {
            Some(g) => g,
            None => match eval(&timing.grace, &self.ctx(&[], &[]))? {
                Some(Value::Duration(d)) => d,
                _ => Duration::default(),
            },
        };
        if let Anchor::Event(e) = timing.anchor {
            return Ok(DueSpec {
                awaiting: Some((e, grace)),
                ..DueSpec::default()
            });
        }
        // The grace runs from the accrual's day, or from the end of its period.
        let from = match place.label {
            Label::Period(p) | Label::PeriodAccrual { period: p, .. } => p.last_day(),
            Label::Accrual { .. } => Some(place.at.date()),
        };
        let from = from.ok_or(Problem::DateRange)?;
        let (due_date, late_from) = due_after_date(from, grace).ok_or(Problem::DateRange)?;
        Ok(DueSpec {
            date: Some(due_date),
            late_from: Some(late_from),
            awaiting: None,
        })
    }

    /// `due by D`: the date, read with the fields of the event owed for; a
    /// date alone is met by the end of that day.
    fn due_on_date(&self, date: &CExpr, ev: &Event) -> Result<DueSpec, EvalError> {
        let Some(Value::Date(m)) = eval(date, &self.ctx(&ev.fields, &[]))? else {
            return Ok(DueSpec::default());
        };
        let (due_date, late_from) = if m.date_only {
            let day = m.instant.date();
            let late =
                Instant::end_of(day).ok_or_else(|| EvalError::from(Problem::DateRange).or_at(date.span))?;
            (day, late)
        } else {
            (m.instant.date(), m.instant)
        };
        Ok(DueSpec {
            date: Some(due_date),
            late_from: Some(late_from),
            awaiting: None,
        })
    }

    /// An amount owed once arises as its clause comes into force: as if an
    /// event with no fields had come, at that moment.
    fn accrue_once(&mut self, n: NormId, at: Option<Instant>) -> Result<(), EvalError> {
        let Some(at) = at else { return Ok(()) };
        let mut ev = Event::blank();
        ev.at = Moment {
            instant: at,
            date_only: Instant::start_of(at.date()) == Some(at),
        };
        ev.line = self.current.unwrap_or(0);
        if let Some(NormRule::Accrual { per, .. }) = self.program.norms.get(n).map(|s| &s.rule) {
            ev.kind = per.event;
        }
        self.accrue(n, &ev)
    }

    /// Amounts waiting for this event to fix their due date get it now.
    fn due_on(&mut self, n: NormId, ev: &Event) {
        let date = ev.at.instant.date();
        let Some(waiting) = self.awaiting.get_mut(n) else {
            return;
        };
        let mut fixed: SmallVec<[(u32, BucketId, jiff::civil::Date, Instant); 4]> = SmallVec::new();
        let ledgers = &self.ledgers;
        waiting.retain(|&(l, b)| {
            let Some(bucket) = ledgers.get(l as usize).and_then(|x| x.get(b)) else {
                return false;
            };
            let Some((e, grace)) = bucket.awaiting else {
                return false;
            };
            if e != ev.kind {
                return true;
            }
            match due_after_date(date, grace) {
                Some((due_date, late_from)) => {
                    fixed.push((l, b, due_date, late_from));
                    false
                }
                None => true,
            }
        });
        for (l, b, due_date, late_from) in fixed {
            if let Some(ledger) = self.ledgers.get_mut(l as usize) {
                ledger.set_due(b, due_date, late_from);
            }
            self.clock.schedule(late_from, Timer::bucket_due(l, b));
        }
    }

    /// `growing until F`: F stops the oldest amount still growing, at its
    /// value now; with none growing, it stops the next one as it arises.
    fn stop(&mut self, n: NormId, ev: &Event) -> Result<(), EvalError> {
        if let Some(NormRule::Accrual {
            growing_key: Some((stop_k, per_k)),
            ..
        }) = self.program.norms.get(n).map(|s| &s.rule)
        {
            return self.stop_keyed(n, ev, *stop_k, *per_k);
        }
        let oldest = self.growing.get_mut(n).and_then(VecDeque::pop_front);
        match oldest {
            Some((l, b)) => {
                self.refresh_bucket(l, b)?;
                if let Some(ledger) = self.ledgers.get_mut(l as usize) {
                    ledger.stop_growing(b);
                }
                let now = self.now.unwrap_or_default();
                self.collect_closed(l, now);
            }
            None => {
                if let Some(b) = self.banked.get_mut(n) {
                    *b += 1;
                }
            }
        }
        Ok(())
    }

    /// `growing until F with the same K`: F stops the oldest amount still
    /// growing that arose on an event of F's key; with none, the next one.
    fn stop_keyed(
        &mut self,
        n: NormId,
        ev: &Event,
        stop_k: FieldId,
        per_k: FieldId,
    ) -> Result<(), EvalError> {
        let Some(key) = Self::key_of(ev, Some(stop_k)) else {
            return Ok(());
        };
        let ledgers = &self.ledgers;
        let found = self.growing.get(n).and_then(|q| {
            q.iter().position(|&(l, b)| {
                ledgers
                    .get(l as usize)
                    .and_then(|x| x.get(b))
                    .and_then(|bucket| bucket.live.as_ref())
                    .and_then(|live| live.payload.by_id(per_k).cloned().flatten())
                    .is_some_and(|v| v.key_text() == key)
            })
        });
        let Some((l, b)) = found.and_then(|i| self.growing.get_mut(n).and_then(|q| q.remove(i))) else {
            self.trackers.bank(n, key);
            return Ok(());
        };
        self.refresh_bucket(l, b)?;
        if let Some(ledger) = self.ledgers.get_mut(l as usize) {
            ledger.stop_growing(b);
        }
        let now = self.now.unwrap_or_default();
        self.collect_closed(l, now);
        Ok(())
    }

    /// Re-evaluates one growing amount as of now.
    fn refresh_bucket(&mut self, l: u32, b: BucketId) -> Result<(), EvalError> {
        let Some(now) = self.now else { return Ok(()) };
        let Some(bucket) = self.ledgers.get(l as usize).and_then(|x| x.get(b)) else {
            return Ok(());
        };
        let Some(live) = &bucket.live else { return Ok(()) };
        let Some(NormRule::Accrual { amount, .. }) = self.program.norms.get(bucket.norm).map(|s| &s.rule)
        else {
            return Ok(());
        };
        let mut ctx = self.ctx(&live.payload, &[]);
        ctx.env.at = Some(live.started);
        ctx.env.bound_at = Some(live.started);
        ctx.env.elapsed = Some(Duration::seconds(now.seconds_since(live.started.instant).max(0)));
        let owed = eval(amount, &ctx)?.as_ref().and_then(as_money).transpose();
        if let Some((m, rounded)) = owed.map_err(|e| e.or_at(amount.span))? {
            let ledger = self.ledger(l)?;
            ledger.set(b, m.amount).ok_or(Problem::Overflow)?;
            if rounded && !ledger.get(b).is_some_and(|x| x.rounded) {
                ledger.mark_rounded(b);
            }
        }
        Ok(())
    }

    /// Re-evaluates every growing amount of a ledger as of now: before its
    /// amounts are read or paid.
    fn refresh_ledger(&mut self, l: u32) -> Result<(), EvalError> {
        let Some(ledger) = self.ledgers.get(l as usize) else {
            return Ok(());
        };
        for b in ledger.growing() {
            self.refresh_bucket(l, b)?;
        }
        Ok(())
    }

    /// What `from` still owes `to`, when it is owed in one currency.
    fn outstanding_between(&mut self, from: PartyId, to: PartyId) -> Result<Option<Money>, EvalError> {
        let Some(ids) = self.ledgers_between.get(&(from, to)).cloned() else {
            return Ok(None);
        };
        let [l] = ids.as_slice() else { return Ok(None) };
        self.refresh_ledger(*l)?;
        let Some(ledger) = self.ledgers.get(*l as usize) else {
            return Ok(None);
        };
        let owed = exact::sub(ledger.accrued(), ledger.paid_total).ok_or(Problem::Overflow)?;
        Ok(Some(Money::new(owed, ledger.key.currency)))
    }

    /// Applies a payment. The first clause settled by this kind of event
    /// whose condition holds says who pays whom and how much counts.
    fn settle(&mut self, ev: &Event) -> Result<(), EvalError> {
        let program = self.program;
        let Some(settlers) = self.plan.settlers.get(ev.kind) else {
            return Ok(());
        };
        for &(n, i) in settlers {
            let Some(spec) = program.norms.get(n) else {
                continue;
            };
            let NormRule::Accrual { settlements, .. } = &spec.rule else {
                continue;
            };
            let Some(s) = settlements.get(i) else { continue };
            if let Some(c) = &s.condition {
                if !holds(c, &self.ctx(&ev.fields, &[]))? {
                    continue;
                }
            }
            let field = |f: FieldId| ev.fields.by_id(f).and_then(Option::as_ref);
            let party = |f: FieldId| match field(f) {
                Some(Value::Entity(name)) => program.party_id(name),
                _ => None,
            };
            let (from, to) = match (s.from, s.to) {
                (Some(f), Some(t)) => (party(f), party(t)),
                _ => (Some(spec.bearer), spec.counterparty),
            };
            let mut rounded = false;
            let paid = match &s.applying {
                Some(a) => match eval(a, &self.ctx(&ev.fields, &[]))?
                    .as_ref()
                    .and_then(as_money)
                    .transpose()?
                {
                    Some((m, r)) => {
                        rounded = r;
                        Some(m)
                    }
                    None => None,
                },
                None => match field(s.amount) {
                    Some(Value::Money(m)) => Some(*m),
                    _ => None,
                },
            };
            let (Some(from), Some(to), Some(m)) = (from, to, paid) else {
                return Ok(());
            };
            let key = LedgerKey {
                from,
                to,
                currency: m.currency,
            };
            let l = self.ledger_for(key);
            if rounded {
                self.ledger(l)?.rounded += 1;
            }
            let settled = self.pay(l, m.amount.max(Decimal::ZERO), ev.at.instant)?;
            if self.history.is_some() {
                self.record_settlement(key, settled);
            }
            self.collect_closed(l, ev.at.instant);
            return Ok(());
        }
        Ok(())
    }

    /// Applies a payment, bringing each amount still growing up to now
    /// only when the payment reaches it.
    fn pay(&mut self, l: u32, amount: Decimal, now: Instant) -> Result<ledger::Settled, EvalError> {
        // What it takes of each amount is worked out before anything is
        // paid, so that a payment that cannot be held exactly pays nothing.
        let mut left = amount;
        let mut after = None;
        let mut takes: SmallVec<[(BucketId, Decimal); 4]> = SmallVec::new();
        while left > Decimal::ZERO {
            let Some((id, place)) = self.ledger(l)?.next_unpaid(after) else {
                break;
            };
            self.refresh_bucket(l, id)?;
            let taken = self.ledger(l)?.payable(id, left).ok_or(Problem::Overflow)?;
            left = exact::sub(left, taken).ok_or(Problem::Overflow)?;
            takes.push((id, taken));
            after = Some(place);
        }
        let ledger = self.ledger(l)?;
        ledger.can_record(amount, left).ok_or(Problem::Overflow)?;
        for (id, taken) in takes {
            ledger.pay_taken(id, taken, now);
        }
        ledger.paid(amount, left).ok_or_else(|| Problem::Overflow.into())
    }

    fn bucket_due(&mut self, l: u32, b: BucketId) -> Result<(), EvalError> {
        self.refresh_bucket(l, b)?;
        let Some(ledger) = self.ledgers.get_mut(l as usize) else {
            return Ok(());
        };
        let key = ledger.key;
        let Some(bucket) = ledger.get(b) else {
            return Ok(());
        };
        let outstanding = bucket.outstanding();
        if outstanding <= Decimal::ZERO {
            if bucket.undetermined > 0 && bucket.late_from.is_some() {
                ledger.mark_late_if_owed(b);
            }
            return Ok(());
        }
        let (Some(late_from), norm, label, due_date) =
            (bucket.late_from, bucket.norm, bucket.label, bucket.due_date)
        else {
            return Ok(());
        };
        ledger.mark_violated(b);
        let due = due_date.map(|d| d.to_string()).unwrap_or_default();
        let program = self.program;
        let Some(spec) = program.norms.get(norm) else {
            return Ok(());
        };
        let payee = program.parties.get(key.to).map_or("", |p| p.name.as_str());
        let payer = program.parties.get(key.from).map_or("", |p| p.name.as_str());
        if self.history.is_some() {
            if let Some(bucket) = self.ledgers.get(l as usize).and_then(|x| x.get(b)).cloned() {
                self.record_bucket(key, &bucket, NState::Violated, late_from);
            }
        }
        self.push_breach(Breach {
            clause: spec.clause,
            norm,
            party: key.from,
            at: due.clone(),
            instant: late_from,
            line: None,
            raw: None,
            event: None,
            reason: format!(
                "{} {} of what accrued for {label} was still unpaid when it fell due on {due}",
                format_amount(outstanding),
                key.currency,
            ),
            allowed: Some(format!("{payer} pays {payee} the {label} amount by {due}")),
        });
        self.raise(
            spec.clause,
            key.from,
            Some(Money::new(outstanding, key.currency)),
            late_from,
        );
        Ok(())
    }

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

//! Evaluate: replays events against the lowered program.
//!
//! The engine is incremental: it holds the current state (clause states,
//! norm instances, ledgers, pending deadlines), never the history. Time moves
//! forward only; before each event, and at the end, every deadline due by
//! then fires at its own moment.

pub mod expr;
pub mod ledger;
mod state;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::sync::Arc;

use rust_decimal::Decimal;

pub use state::{Breach, ClauseState, Ineffective, Instance, NState, Status};

use crate::events::Event;
use crate::model::*;
use crate::time::{add_days, add_months, period_of, Instant, Moment};
use crate::value::{Duration, Money, Value};
use expr::{eval, holds, Ctx, Env, EvalError, Latest};
use ledger::{Ledger, LedgerKey};

/// Why an event was not applied.
#[derive(Debug, Clone, PartialEq)]
pub enum Rejection {
    /// Dated before the previous event.
    OutOfOrder { previous: Moment, previous_line: usize },
    /// Arithmetic or comparison failed while applying it.
    Eval(EvalError),
}

/// What applying an event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    Applied,
    /// Its `id` was seen before: ignored.
    Duplicate,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub applied: u64,
    pub duplicates: u64,
    pub ineffective: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Timer {
    DealStart,
    DealEnd,
    ClauseStart(ClauseId),
    ClauseEnd(ClauseId),
    Deadline { norm: NormId, instance: usize, gen: u32 },
    Activate { norm: NormId, instance: usize, gen: u32 },
    BucketDue { ledger: usize, bucket: usize },
}

/// The deal's own lifecycle.
#[derive(Debug, Clone, Copy, Default)]
struct DealState {
    started: bool,
    ended: bool,
}

pub struct Engine<'p> {
    program: &'p Program,
    now: Option<Instant>,
    last: Option<(Moment, usize)>,
    deal: DealState,
    pub(crate) clauses: Vec<ClauseState>,
    pub(crate) instances: Vec<Vec<Instance>>,
    /// Instance indices by key, per norm.
    by_key: Vec<HashMap<String, Vec<usize>>>,
    /// Norms instantiated when an instance of the keyed norm lapses.
    on_lapse: Vec<Vec<NormId>>,
    timers: BinaryHeap<Reverse<(Instant, u64, Timer)>>,
    seq: u64,
    /// 128-bit fingerprints of the ids applied: the one thing kept per
    /// event, so that a stream delivered twice never counts twice.
    seen_ids: HashSet<u128>,
    pub(crate) ledger_keys: Vec<LedgerKey>,
    pub(crate) ledgers: Vec<Ledger>,
    ledger_index: HashMap<LedgerKey, usize>,
    pub(crate) breaches: Vec<Breach>,
    pub(crate) ineffective: Vec<Ineffective>,
    pub(crate) counts: Counts,
    /// The event being applied: its line and raw text, for breaches.
    current: Option<(usize, Arc<str>)>,
    /// When the event being applied happened.
    current_at: Option<Moment>,
    /// Values of `count(…)` and `sum(…)`; a sum is undetermined until it has a term.
    trackers: Vec<Option<Value>>,
    /// For each event kind: the trackers it adds to, and those it resets.
    tracker_on: Vec<Vec<usize>>,
    /// For trackers over a window of time: what each counted event added, and when.
    windows: Vec<std::collections::VecDeque<(Instant, Value)>>,
    tracker_reset: Vec<Vec<usize>>,
    /// The latest event of each kind.
    latest: Vec<Option<Latest>>,
    /// Per norm: `until`/`unless` events that came with nothing to pair
    /// with; each is paired with the next instance to arise.
    banked: Vec<u32>,
    /// Amounts still growing, and amounts waiting for an event to fix their
    /// due date, as (ledger, bucket): only these are revisited.
    growing: Vec<(usize, usize)>,
    awaiting: Vec<(usize, usize)>,
    /// Breaches found but not yet reacted to, as `breach of …` events.
    pending: Vec<Event>,
}

impl<'p> Engine<'p> {
    pub fn new(program: &'p Program) -> Engine<'p> {
        let mut on_lapse = vec![Vec::new(); program.norms.len()];
        for (id, n) in program.norms.iter().enumerate() {
            if let Instancing::OnLapse { norm } = n.instancing {
                on_lapse[norm].push(id);
            }
        }
        let mut e = Engine {
            program,
            now: None,
            last: None,
            deal: DealState::default(),
            clauses: vec![ClauseState::default(); program.clauses.len()],
            instances: vec![Vec::new(); program.norms.len()],
            by_key: vec![HashMap::new(); program.norms.len()],
            on_lapse,
            timers: BinaryHeap::new(),
            seq: 0,
            seen_ids: HashSet::new(),
            ledger_keys: Vec::new(),
            ledgers: Vec::new(),
            ledger_index: HashMap::new(),
            breaches: Vec::new(),
            ineffective: Vec::new(),
            counts: Counts::default(),
            current: None,
            current_at: None,
            trackers: program
                .trackers
                .iter()
                .map(|t| match t.field {
                    None => Some(Value::Decimal(Decimal::ZERO)),
                    Some(_) => None,
                })
                .collect(),
            tracker_on: vec![Vec::new(); program.events.len()],
            windows: vec![std::collections::VecDeque::new(); program.trackers.len()],
            tracker_reset: vec![Vec::new(); program.events.len()],
            latest: vec![None; program.events.len()],
            banked: vec![0; program.norms.len()],
            growing: Vec::new(),
            awaiting: Vec::new(),
            pending: Vec::new(),
        };
        for (i, t) in program.trackers.iter().enumerate() {
            e.tracker_on[t.event].push(i);
            if let Some(s) = t.since {
                e.tracker_reset[s].push(i);
            }
        }
        match program.term.start {
            Bound::At(t) => e.schedule(t, Timer::DealStart),
            Bound::Unbounded => e.deal.started = true,
            Bound::On(_) => {}
        }
        if let Bound::At(t) = program.term.end {
            e.schedule(t, Timer::DealEnd);
        }
        for (id, c) in program.clauses.iter().enumerate() {
            match c.lifetime.start {
                Bound::At(t) => e.schedule(t, Timer::ClauseStart(id)),
                Bound::Unbounded => e.clauses[id].started = true,
                Bound::On(_) => {}
            }
            if let Bound::At(t) = c.lifetime.end {
                e.schedule(t, Timer::ClauseEnd(id));
            }
        }
        for id in 0..program.clauses.len() {
            e.refresh(id, None);
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

    pub fn breaches(&self) -> &[Breach] {
        &self.breaches
    }

    fn schedule(&mut self, at: Instant, t: Timer) {
        self.seq += 1;
        self.timers.push(Reverse((at, self.seq, t)));
    }

    /// Applies one event. `raw` is its line, kept only if it breaches.
    pub fn apply(&mut self, ev: &Event, raw: &str) -> Result<Applied, Rejection> {
        // Duplicates first: a stream delivered again from its start repeats
        // earlier ids with earlier dates, and must be ignored, not refused.
        let fingerprint = ev.id.as_deref().map(fingerprint);
        if let Some(f) = fingerprint {
            if self.seen_ids.contains(&f) {
                self.counts.duplicates += 1;
                return Ok(Applied::Duplicate);
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
        if let Some(f) = fingerprint {
            self.seen_ids.insert(f);
        }
        self.current = Some((ev.line, raw.into()));
        let result = self.dispatch(ev);
        self.current = None;
        result.map_err(Rejection::Eval)?;
        self.react_to_breaches().map_err(Rejection::Eval)?;
        self.counts.applied += 1;
        Ok(Applied::Applied)
    }

    /// Moves time to `to`, inclusive, firing every deadline due by then.
    pub fn advance_to(&mut self, to: Instant) -> Result<(), EvalError> {
        while let Some(Reverse((at, _, _))) = self.timers.peek() {
            if *at > to {
                break;
            }
            let Some(Reverse((at, _, timer))) = self.timers.pop() else {
                break;
            };
            self.now = Some(at);
            self.fire(at, timer)?;
            self.react_to_breaches()?;
        }
        if self.now.is_none_or(|n| n < to) {
            self.now = Some(to);
        }
        self.refresh_live()
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
                self.clauses[c].started = true;
                self.refresh(c, Some(at));
            }
            Timer::ClauseEnd(c) => {
                self.clauses[c].ended = true;
                self.refresh(c, Some(at));
            }
            Timer::Deadline { norm, instance, gen } => self.deadline(norm, instance, gen, at)?,
            Timer::Activate { norm, instance, gen } => self.activate(norm, instance, gen, at),
            Timer::BucketDue { ledger, bucket } => {
                self.refresh_live()?;
                self.bucket_due(ledger, bucket)
            }
        }
        Ok(())
    }

    fn dispatch(&mut self, ev: &Event) -> Result<(), EvalError> {
        self.current_at = Some(ev.at);
        let result = self.dispatch_listeners(ev);
        self.latest[ev.kind] = Some(Latest {
            at: ev.at,
            fields: Arc::from(ev.fields.clone()),
        });
        // `since F` starts afresh after F: at F itself, a count still means
        // the period that F closes.
        for i in self.tracker_reset[ev.kind].clone() {
            self.trackers[i] = self.empty_tracker(i);
            self.windows[i].clear();
        }
        self.current_at = None;
        result
    }

    fn empty_tracker(&self, i: usize) -> Option<Value> {
        match self.program.trackers[i].field {
            None => Some(Value::Decimal(Decimal::ZERO)),
            Some(_) => None,
        }
    }

    /// Counts and sums take in the event before anything else reacts to it,
    /// so that a condition such as "the fifth payment" sees this one.
    fn track(&mut self, ev: &Event) -> Result<(), EvalError> {
        let program = self.program;
        for i in self.tracker_on[ev.kind].clone() {
            let t = &program.trackers[i];
            if let Some(c) = &t.condition {
                if !holds(c, &self.ctx(&ev.fields, &[]))? {
                    continue;
                }
            }
            let add = match t.field {
                None => Some(Value::Decimal(Decimal::ONE)),
                Some(f) => ev.fields.get(f).cloned().flatten(),
            };
            let Some(add) = add else { continue };
            if t.window.is_some() {
                self.windows[i].push_back((ev.at.instant, add.clone()));
            }
            self.trackers[i] = Some(match self.trackers[i].take() {
                None => add,
                Some(v) => expr::add_values(v, add)?,
            });
        }
        // Windows slide with time: what falls out of one is taken off its total.
        for (i, t) in program.trackers.iter().enumerate() {
            let Some(cutoff) = t.window.and_then(|w| expr::back(ev.at.instant, w)) else {
                continue;
            };
            while self.windows[i].front().is_some_and(|(at, _)| *at <= cutoff) {
                let Some((_, gone)) = self.windows[i].pop_front() else {
                    break;
                };
                self.trackers[i] = match self.trackers[i].take() {
                    _ if self.windows[i].is_empty() => self.empty_tracker(i),
                    Some(v) => Some(expr::sub_values(v, gone)?),
                    None => None,
                };
            }
        }
        Ok(())
    }

    fn dispatch_listeners(&mut self, ev: &Event) -> Result<(), EvalError> {
        let at = ev.at.instant;
        let program = self.program;
        self.track(ev)?;
        for listener in &program.listeners[ev.kind] {
            match *listener {
                Listener::Act(n) => self.act(n, ev)?,
                Listener::Renounce(n) => self.renounce(n, ev)?,
                Listener::Cancel(n) => self.cancel(n, ev),
                Listener::Stop(n) => self.stop(n, ev)?,
                Listener::DueOn(n) => self.due_on(n, ev),
                Listener::Accrue(n) => self.accrue(n, ev)?,
                Listener::Settle => self.settle(ev)?,
                Listener::DealEnd => {
                    if self.matches_bound(&program.term.end, ev)? {
                        self.deal.ended = true;
                        self.refresh_all(Some(at));
                    }
                }
                Listener::DealStart => {
                    if self.matches_bound(&program.term.start, ev)? {
                        self.deal.started = true;
                        self.refresh_all(Some(at));
                    }
                }
                Listener::ClauseEnd(c) => {
                    let spec = &program.clauses[c];
                    let by_term = self.matches_bound(&spec.lifetime.end, ev)?;
                    let discharged = self.any_matches(&spec.ended_on, ev)?;
                    if by_term || discharged {
                        let st = &mut self.clauses[c];
                        if !st.ended {
                            st.ended = true;
                            st.discharged = discharged && !by_term;
                            self.refresh(c, Some(at));
                        }
                    }
                }
                Listener::ClauseSuspend(c) => {
                    if self.any_matches(&program.clauses[c].suspended_on, ev)? && !self.clauses[c].suspended {
                        self.clauses[c].suspended = true;
                        self.refresh(c, Some(at));
                    }
                }
                Listener::ClauseStart(c) => {
                    if self.matches_bound(&program.clauses[c].lifetime.start, ev)? && !self.clauses[c].started
                    {
                        self.clauses[c].started = true;
                        self.refresh(c, Some(at));
                    }
                }
                Listener::ClauseResume(c) => {
                    if self.any_matches(&program.clauses[c].resumed_on, ev)? && self.clauses[c].suspended {
                        self.clauses[c].suspended = false;
                        self.refresh(c, Some(at));
                    }
                }
                Listener::Trigger(n) => self.trigger(n, ev)?,
            }
        }
        Ok(())
    }

    /// Records that a clause was breached, for the remedies that follow it.
    fn raise(&mut self, clause: ClauseId, party: PartyId, amount: Option<Money>, at: Instant) {
        let Some(&kind) = self.program.breach_events.get(clause) else {
            return;
        };
        self.pending.push(Event {
            line: 0,
            at: Moment::at(at),
            kind,
            id: None,
            fields: vec![
                Some(Value::Entity(self.program.parties[party].as_str().into())),
                amount.map(Value::Money),
            ],
        });
    }

    /// Lets remedies react to the breaches just found. A remedy's own breach
    /// is reacted to in turn, up to a bound that only a contract whose
    /// remedies breach each other without end could reach.
    fn react_to_breaches(&mut self) -> Result<(), EvalError> {
        let saved = self.current.take();
        let mut rounds = 0;
        while !self.pending.is_empty() && rounds < 1000 {
            rounds += 1;
            for ev in std::mem::take(&mut self.pending) {
                self.dispatch(&ev)?;
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
            trackers: &self.trackers,
            latest: &self.latest,
        }
    }

    /// A context for judging an act against an instance.
    fn inst_ctx<'a>(&'a self, fields: &'a [Option<Value>], inst: &'a Instance) -> Ctx<'a> {
        let mut c = self.ctx(fields, &inst.payload);
        c.env.bound_at = inst.born;
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
        for c in 0..self.clauses.len() {
            self.refresh(c, at);
        }
    }

    /// Recomputes a clause's status from its flags and the deal's, and moves
    /// its norm instances along if it changed.
    fn refresh(&mut self, c: ClauseId, at: Option<Instant>) {
        let st = &self.clauses[c];
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
        let st = &mut self.clauses[c];
        st.status = status;
        st.since = at;
        if status == Status::Suspended {
            st.suspended_at = at;
        }
        let program = self.program;
        for &n in &program.clauses[c].norms {
            match (old, status) {
                (Status::Inactive, Status::Active) => {
                    if matches!(program.norms[n].instancing, Instancing::Single) {
                        self.create(n, None, Arc::from(Vec::new()), at);
                    }
                }
                (Status::Active, Status::Suspended) => {
                    self.each_open(n, |i| {
                        if i.state == NState::Active {
                            i.state = NState::Suspended;
                            i.since = at;
                        }
                    });
                }
                (Status::Suspended, Status::Active) => {
                    let paused = match (suspended_at, at) {
                        (Some(s), Some(a)) => a.seconds_since(s),
                        _ => 0,
                    };
                    let mut retimed = Vec::new();
                    for (idx, i) in self.instances[n].iter_mut().enumerate() {
                        if i.state == NState::Suspended {
                            i.state = NState::Active;
                            i.since = at;
                            // A suspension stops the clock: the deadline moves
                            // by as long as the clause was suspended.
                            if let Some(d) = i.due.as_mut() {
                                if let Some(later) = d.late_from.plus_seconds(paused) {
                                    d.late_from = later;
                                    d.shown = if d.date_only {
                                        later
                                            .just_before()
                                            .map(|x| x.date().to_string())
                                            .unwrap_or_default()
                                    } else {
                                        later.to_string()
                                    };
                                    i.gen += 1;
                                    retimed.push((idx, later, i.gen));
                                }
                            }
                        }
                    }
                    for (idx, when, gen) in retimed {
                        self.schedule(
                            when,
                            Timer::Deadline {
                                norm: n,
                                instance: idx,
                                gen,
                            },
                        );
                    }
                }
                (_, Status::Ended) => {
                    let kind = program.norms[n].kind;
                    self.each_open(n, |i| {
                        i.state = match kind {
                            NormKind::Obligation if discharged => NState::Discharged,
                            NormKind::Obligation => NState::Expired,
                            NormKind::Power => NState::Lapsed,
                            _ => NState::Ended,
                        };
                        i.since = at;
                    });
                }
                _ => {}
            }
        }
    }

    fn each_open(&mut self, n: NormId, mut f: impl FnMut(&mut Instance)) {
        for i in self.instances[n].iter_mut() {
            if matches!(i.state, NState::Active | NState::Suspended) {
                f(i);
            }
        }
    }

    fn clause_active(&self, n: NormId) -> bool {
        self.clauses[self.program.norms[n].clause].status == Status::Active
    }

    /// Creates an instance of norm `n` and sets its deadline.
    /// Creates an instance of norm `n` and sets its deadline; a permission
    /// with a delayed start waits for it, unless a paired event came first.
    fn create(&mut self, n: NormId, key: Option<String>, payload: Arc<[Option<Value>]>, at: Option<Instant>) {
        let spec = &self.program.norms[n];
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
        if let Some(a) = activation {
            if a.unless.is_some() && self.banked[n] > 0 {
                // What this instance was to wait for has already happened.
                self.banked[n] -= 1;
                return;
            }
        }
        let due = match (due_expr, window, at) {
            (Some(Some(DueRule::After(d))), _, Some(at)) | (None, Some(d), Some(at)) => {
                self.due_after(d, at, &payload)
            }
            (Some(Some(DueRule::By(d))), _, _) => self.due_by(d, &payload),
            _ => None,
        };
        let starts_at = match (activation, at) {
            (Some(a), Some(at)) => match eval(&a.delay, &self.ctx(&[], &payload)) {
                Ok(Some(Value::Duration(d))) => d.exact_seconds().and_then(|s| at.plus_seconds(s)),
                _ => None,
            },
            _ => None,
        };
        let idx = self.instances[n].len();
        let line = self.current.as_ref().map(|(l, _)| *l);
        self.instances[n].push(Instance {
            key: key.clone(),
            payload,
            state: if starts_at.is_some() {
                NState::Inactive
            } else {
                NState::Active
            },
            since: if starts_at.is_some() { None } else { at },
            due: due.clone(),
            line,
            gen: 0,
            note: None,
            born: self.current_at,
            matched: false,
        });
        if let Some(k) = key {
            self.by_key[n].entry(k).or_default().push(idx);
        }
        if let Some(d) = due {
            self.schedule(
                d.late_from,
                Timer::Deadline {
                    norm: n,
                    instance: idx,
                    gen: 0,
                },
            );
        }
        if let Some(s) = starts_at {
            self.schedule(
                s,
                Timer::Activate {
                    norm: n,
                    instance: idx,
                    gen: 0,
                },
            );
        }
    }

    /// A delayed permission comes into force, if nothing cancelled it.
    fn activate(&mut self, n: NormId, idx: usize, gen: u32, at: Instant) {
        let active = self.clause_active(n);
        let Some(inst) = self.instances[n].get_mut(idx) else {
            return;
        };
        if inst.gen == gen && inst.state == NState::Inactive && active {
            inst.state = NState::Active;
            inst.since = Some(at);
        }
    }

    /// `unless F first`: F pairs with the oldest instance not yet paired;
    /// if that one has not come into force, it never will.
    fn cancel(&mut self, n: NormId, ev: &Event) {
        let name = &self.program.events[ev.kind].name;
        match self.instances[n].iter_mut().find(|i| !i.matched) {
            Some(i) => {
                i.matched = true;
                if i.state == NState::Inactive {
                    i.gen += 1;
                    i.note = Some(format!("{name} came first, on {}", ev.at));
                }
            }
            None => self.banked[n] += 1,
        }
    }

    fn due_after(&self, d: &CExpr, at: Instant, payload: &[Option<Value>]) -> Option<state::Due> {
        let Ok(Some(Value::Duration(dur))) = eval(d, &self.ctx(&[], payload)) else {
            return None;
        };
        if dur.is_calendar() {
            // "within 30 days after" an event on day D: on or before D + 30.
            let (last, late_from) = due_after_date(at.date(), dur)?;
            Some(state::Due {
                late_from,
                shown: last.to_string(),
                date_only: true,
            })
        } else {
            let secs = dur.exact_seconds()?;
            let late_from = at.plus_seconds(secs)?;
            Some(state::Due {
                late_from,
                shown: late_from.to_string(),
                date_only: false,
            })
        }
    }

    fn due_by(&self, d: &CExpr, payload: &[Option<Value>]) -> Option<state::Due> {
        let Ok(Some(Value::Date(m))) = eval(d, &self.ctx(&[], payload)) else {
            return None;
        };
        if m.date_only {
            Some(state::Due {
                late_from: Instant::end_of(m.instant.date())?,
                shown: m.to_string(),
                date_only: true,
            })
        } else {
            Some(state::Due {
                late_from: m.instant,
                shown: m.to_string(),
                date_only: false,
            })
        }
    }

    fn key_of(ev: &Event, field: Option<FieldId>) -> Option<String> {
        field
            .and_then(|f| ev.fields.get(f).cloned().flatten())
            .map(|v| v.key_text())
    }

    fn trigger(&mut self, n: NormId, ev: &Event) -> Result<(), EvalError> {
        if !self.clause_active(n) {
            return Ok(());
        }
        let Instancing::PerEvent { trigger, key } = &self.program.norms[n].instancing else {
            return Ok(());
        };
        if !self.matches(trigger, ev)? {
            return Ok(());
        }
        let key = Self::key_of(ev, *key);
        self.create(n, key, Arc::from(ev.fields.clone()), Some(ev.at.instant));
        Ok(())
    }

    /// Instances of `n` that an act could concern: by key when the act is
    /// correlated, otherwise all of them.
    fn candidates(&self, n: NormId, ev: &Event) -> Vec<usize> {
        let spec = &self.program.norms[n];
        match spec.action.key {
            Some(_) => match Self::key_of(ev, spec.action.key) {
                Some(k) => self.by_key[n].get(&k).cloned().unwrap_or_default(),
                None => Vec::new(),
            },
            None => (0..self.instances[n].len()).collect(),
        }
    }

    fn act_matches(&self, n: NormId, inst: &Instance, ev: &Event) -> Result<bool, EvalError> {
        match &self.program.norms[n].action.condition {
            None => Ok(true),
            Some(c) => holds(c, &self.inst_ctx(&ev.fields, inst)),
        }
    }

    fn act(&mut self, n: NormId, ev: &Event) -> Result<(), EvalError> {
        let spec = &self.program.norms[n];
        match spec.kind {
            NormKind::Obligation => {
                if matches!(spec.rule, NormRule::Accrual { .. }) {
                    return Ok(());
                }
                for idx in self.candidates(n, ev) {
                    let inst = &self.instances[n][idx];
                    if inst.state == NState::Active && self.act_matches(n, inst, ev)? {
                        let i = &mut self.instances[n][idx];
                        i.state = NState::Fulfilled;
                        i.since = Some(ev.at.instant);
                        return Ok(());
                    }
                }
                for idx in self.candidates(n, ev) {
                    let inst = &self.instances[n][idx];
                    if inst.state == NState::Violated
                        && inst.note.is_none()
                        && self.act_matches(n, inst, ev)?
                    {
                        self.instances[n][idx].note = Some(format!("performed late, on {}", ev.at));
                        return Ok(());
                    }
                }
            }
            NormKind::Prohibition => {
                if !self.clause_active(n) {
                    return Ok(());
                }
                for idx in self.candidates(n, ev) {
                    let inst = &self.instances[n][idx];
                    if inst.state != NState::Active || !self.act_matches(n, inst, ev)? {
                        continue;
                    }
                    let NormRule::Prohibition { excepted_by } = &spec.rule else {
                        continue;
                    };
                    let mut why_not = Vec::new();
                    for &p in excepted_by {
                        match self.excuse(p, ev)? {
                            Ok(()) => return Ok(()),
                            Err(reason) => why_not.push(reason),
                        }
                    }
                    self.breach(n, ev, why_not);
                    return Ok(());
                }
            }
            NormKind::Power => {
                for idx in self.candidates(n, ev) {
                    let inst = &self.instances[n][idx];
                    if inst.state == NState::Active && self.act_matches(n, inst, ev)? {
                        let i = &mut self.instances[n][idx];
                        i.state = NState::Exercised;
                        i.since = Some(ev.at.instant);
                        return Ok(());
                    }
                }
                let reason = self.why_no_power(n, ev);
                self.ineffective(n, ev, reason);
            }
            NormKind::Permission => {}
        }
        Ok(())
    }

    /// Whether an active instance of permission `p` covers the act, and if
    /// not, why not, in words.
    fn excuse(&self, p: NormId, ev: &Event) -> Result<Result<(), String>, EvalError> {
        let spec = &self.program.norms[p];
        let mut failed_terms = false;
        for idx in self.candidates(p, ev) {
            let inst = &self.instances[p][idx];
            if inst.state != NState::Active || !self.act_matches(p, inst, ev)? {
                continue;
            }
            let ok = match &spec.rule {
                NormRule::Permission { only_if: Some(c), .. } => holds(c, &self.inst_ctx(&ev.fields, inst))?,
                _ => true,
            };
            if ok {
                return Ok(Ok(()));
            }
            failed_terms = true;
        }
        let key = Self::key_of(ev, spec.action.key);
        let key_words = key.as_deref().map(|k| format!(" `{k}`")).unwrap_or_default();
        let program = self.program;
        let reason = match &spec.instancing {
            Instancing::OnLapse { norm: power } => {
                let pw = &program.norms[*power];
                let holder = &program.parties[pw.bearer];
                let offer = match &pw.instancing {
                    Instancing::PerEvent { trigger, .. } => program.events[trigger.event].name.as_str(),
                    _ => "offer",
                };
                let answer = &program.events[pw.action.event].name;
                let latest = key
                    .as_ref()
                    .and_then(|k| self.by_key[*power].get(k))
                    .and_then(|v| v.last())
                    .map(|&i| &self.instances[*power][i]);
                match latest {
                    _ if failed_terms => format!(
                        "its terms are better for the third party than those {holder} passed on{key_words}"
                    ),
                    None => format!("no {offer}{key_words} was made to {holder} first"),
                    Some(i) if i.state == NState::Active => format!(
                        "{holder}'s window to answer {offer}{key_words} is still open until {}",
                        i.due.as_ref().map_or("its end".to_string(), |d| d.shown.clone())
                    ),
                    Some(i) if i.state == NState::Exercised => format!(
                        "{holder} took up {offer}{key_words} by {answer} on {}",
                        show(i.since)
                    ),
                    Some(i) if i.state == NState::Suspended => {
                        format!("the first refusal on{key_words} is suspended")
                    }
                    Some(_) => format!("{holder}'s first refusal on{key_words} does not cover this act"),
                }
            }
            Instancing::PerEvent { trigger, .. } => {
                format!(
                    "no {}{key_words} came before it",
                    program.events[trigger.event].name
                )
            }
            _ => format!("it is not covered by: {}", spec.summary),
        };
        Ok(Err(reason))
    }

    fn why_no_power(&self, n: NormId, ev: &Event) -> String {
        let spec = &self.program.norms[n];
        let key = Self::key_of(ev, spec.action.key);
        let key_words = key.as_deref().map(|k| format!(" `{k}`")).unwrap_or_default();
        let trigger = match &spec.instancing {
            Instancing::PerEvent { trigger, .. } => self.program.events[trigger.event].name.clone(),
            _ => "event".to_string(),
        };
        if !self.clause_active(n) {
            return format!(
                "clause `{}` is {}",
                self.program.clauses[spec.clause].name,
                self.clauses[spec.clause].status.name()
            );
        }
        let latest = self.candidates(n, ev).last().map(|&i| &self.instances[n][i]);
        match latest {
            None => format!("there is no {trigger}{key_words} to answer"),
            Some(i) => match i.state {
                NState::Lapsed => match &i.note {
                    Some(note) => format!("{trigger}{key_words} was already {note}"),
                    None => format!(
                        "the window to answer {trigger}{key_words} closed at the end of {}",
                        i.due.as_ref().map_or("its term".to_string(), |d| d.shown.clone())
                    ),
                },
                NState::Exercised => {
                    format!("{trigger}{key_words} was already taken up on {}", show(i.since))
                }
                other => format!("the power is {}", other.name()),
            },
        }
    }

    fn renounce(&mut self, n: NormId, ev: &Event) -> Result<(), EvalError> {
        let NormRule::Power {
            renounced_by,
            renounce_is_an_act,
            ..
        } = &self.program.norms[n].rule
        else {
            return Ok(());
        };
        for r in renounced_by.iter().filter(|r| r.event == ev.kind) {
            let key = Self::key_of(ev, r.key);
            let idxs: Vec<usize> = match (&key, r.key) {
                (Some(k), Some(_)) => self.by_key[n].get(k).cloned().unwrap_or_default(),
                (None, Some(_)) => Vec::new(),
                (_, None) => (0..self.instances[n].len()).collect(),
            };
            for idx in idxs {
                if self.instances[n][idx].state == NState::Active {
                    let at = ev.at.instant;
                    let name = &self.program.events[ev.kind].name;
                    let i = &mut self.instances[n][idx];
                    i.state = NState::Lapsed;
                    i.since = Some(at);
                    i.note = Some(format!("answered by {name} on {}", ev.at));
                    self.lapsed(n, idx, at);
                    return Ok(());
                }
            }
        }
        if *renounce_is_an_act {
            let reason = self.why_no_power(n, ev);
            self.ineffective(n, ev, reason);
        }
        Ok(())
    }

    /// An instance of power `n` lapsed: the norms waiting on that arise.
    fn lapsed(&mut self, n: NormId, idx: usize, at: Instant) {
        let (key, payload) = {
            let i = &self.instances[n][idx];
            (i.key.clone(), i.payload.clone())
        };
        for m in self.on_lapse[n].clone() {
            if self.clause_active(m) {
                self.create(m, key.clone(), payload.clone(), Some(at));
            }
        }
    }

    fn deadline(&mut self, n: NormId, idx: usize, gen: u32, at: Instant) -> Result<(), EvalError> {
        let Some(inst) = self.instances[n].get(idx) else {
            return Ok(());
        };
        if inst.gen != gen || inst.state != NState::Active {
            return Ok(());
        }
        match self.program.norms[n].kind {
            NormKind::Obligation => {
                let shown = inst.due.as_ref().map(|d| d.shown.clone()).unwrap_or_default();
                let i = &mut self.instances[n][idx];
                i.state = NState::Violated;
                i.since = Some(at);
                let spec = &self.program.norms[n];
                let what = &self.program.events[spec.action.event].name;
                self.breaches.push(Breach {
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
                });
                let (clause, bearer) = (spec.clause, spec.bearer);
                self.raise(clause, bearer, None, at);
            }
            NormKind::Power => {
                let i = &mut self.instances[n][idx];
                i.state = NState::Lapsed;
                i.since = Some(at);
                self.lapsed(n, idx, at);
            }
            NormKind::Permission | NormKind::Prohibition => {
                let i = &mut self.instances[n][idx];
                i.state = NState::Ended;
                i.since = Some(at);
            }
        }
        Ok(())
    }

    fn breach(&mut self, n: NormId, ev: &Event, why_not: Vec<String>) {
        let spec = &self.program.norms[n];
        let program = self.program;
        let mut reason = format!("{} {}", program.parties[spec.bearer], describe_act(program, ev));
        if !why_not.is_empty() {
            reason.push_str(", but ");
            reason.push_str(&why_not.join("; and "));
        }
        let allowed = allowed_instead(program, n);
        let (line, raw) = match &self.current {
            Some((l, r)) => (Some(*l), Some(r.clone())),
            None => (None, None),
        };
        self.breaches.push(Breach {
            clause: spec.clause,
            norm: n,
            party: spec.bearer,
            at: ev.at.to_string(),
            instant: ev.at.instant,
            line,
            raw,
            event: Some(ev.kind),
            reason,
            allowed,
        });
        self.raise(spec.clause, spec.bearer, None, ev.at.instant);
    }

    fn ineffective(&mut self, n: NormId, ev: &Event, reason: String) {
        self.counts.ineffective += 1;
        self.ineffective.push(Ineffective {
            clause: self.program.norms[n].clause,
            line: ev.line,
            at: ev.at.to_string(),
            event: ev.kind,
            reason,
        });
    }

    // ------------------------------------------------------------ money

    fn ledger_for(&mut self, key: LedgerKey) -> usize {
        if let Some(&i) = self.ledger_index.get(&key) {
            return i;
        }
        self.ledger_keys.push(key);
        self.ledgers.push(Ledger::default());
        self.ledger_index.insert(key, self.ledgers.len() - 1);
        self.ledgers.len() - 1
    }

    fn accrue(&mut self, n: NormId, ev: &Event) -> Result<(), EvalError> {
        if !self.clause_active(n) {
            return Ok(());
        }
        let spec = &self.program.norms[n];
        let NormRule::Accrual {
            amount,
            per,
            schedule,
            growing_until,
            ..
        } = &spec.rule
        else {
            return Ok(());
        };
        if !self.matches(per, ev)? {
            return Ok(());
        }
        let payee = spec.counterparty.unwrap_or(spec.bearer);
        let growing = growing_until.is_some();
        let mut ctx = self.ctx(&ev.fields, &[]);
        ctx.env.outstanding = self.outstanding_between(spec.bearer, payee);
        if growing {
            ctx.env.elapsed = Some(Duration::default());
            ctx.env.bound_at = Some(ev.at);
        }
        let (money, determined) = match eval(amount, &ctx)? {
            Some(Value::Money(m)) => (m, true),
            _ => {
                // The amount waits on an open term: learn its currency by
                // reading the open terms as zero, and count it undetermined.
                ctx.open_as_zero = true;
                match eval(amount, &ctx)? {
                    Some(Value::Money(m)) => (Money::new(Decimal::ZERO, m.currency), false),
                    _ => return Ok(()),
                }
            }
        };
        let key = LedgerKey {
            from: spec.bearer,
            to: payee,
            currency: money.currency,
        };
        let l = self.ledger_for(key);
        if determined && money.amount < Decimal::ZERO {
            // A negative amount takes back what is still unpaid.
            self.ledgers[l]
                .reverse(-money.amount, ev.at.instant)
                .ok_or(EvalError::Overflow)?;
            return Ok(());
        }
        let due = self.due_of(schedule.as_ref(), ev)?;
        let now = ev.at.instant;
        let (b, opened) = self.ledgers[l].bucket(n, &due.label, due.grouped, now);
        if determined {
            self.ledgers[l].add(b, money.amount).ok_or(EvalError::Overflow)?;
        } else {
            self.ledgers[l].add_undetermined(b);
        }
        if opened {
            let bucket = &mut self.ledgers[l].buckets[b];
            bucket.due_date = due.date;
            bucket.late_from = due.late_from;
            bucket.awaiting = due.awaiting;
            if due.awaiting.is_some() {
                self.awaiting.push((l, b));
            }
            if growing {
                if self.banked[n] > 0 {
                    // What it was to grow until has already happened.
                    self.banked[n] -= 1;
                } else {
                    bucket.live = Some(ledger::Live {
                        started: ev.at,
                        payload: Arc::from(ev.fields.clone()),
                    });
                    self.growing.push((l, b));
                }
            }
            if let Some(late) = due.late_from {
                self.schedule(late, Timer::BucketDue { ledger: l, bucket: b });
            }
        }
        Ok(())
    }

    /// When an amount accrued by `ev` falls due, and which bucket holds it.
    fn due_of(&self, schedule: Option<&Schedule>, ev: &Event) -> Result<DueOf, EvalError> {
        let unique = format!("{} line {}", ev.at, ev.line);
        let Some(schedule) = schedule else {
            return Ok(DueOf {
                label: unique,
                grouped: false,
                date: None,
                late_from: None,
                awaiting: None,
            });
        };
        let timing = match &schedule.alternative {
            Some((cond, t)) if holds(cond, &self.ctx(&ev.fields, &[]))? => t,
            _ => &schedule.timing,
        };
        let grace = match eval(&timing.grace, &self.ctx(&[], &[]))? {
            Some(Value::Duration(d)) => d,
            _ => Duration::default(),
        };
        let date = ev.at.instant.date();
        let (label, grouped, from) = match timing.anchor {
            Anchor::Accrual => (unique, false, date),
            Anchor::EachPeriod(p) | Anchor::ItsPeriod(p) => {
                let (_, last, label) = period_of(date, p).ok_or(EvalError::DateRange)?;
                match timing.anchor {
                    Anchor::EachPeriod(_) => (label, true, last),
                    _ => (format!("{label}, {unique}"), false, last),
                }
            }
            Anchor::Event(e) => {
                return Ok(DueOf {
                    label: unique,
                    grouped: false,
                    date: None,
                    late_from: None,
                    awaiting: Some((e, grace)),
                })
            }
        };
        let (due_date, late_from) = due_after_date(from, grace).ok_or(EvalError::DateRange)?;
        Ok(DueOf {
            label,
            grouped,
            date: Some(due_date),
            late_from: Some(late_from),
            awaiting: None,
        })
    }

    /// Amounts waiting for this event to fix their due date get it now.
    /// Amounts waiting for this event to fix their due date get it now.
    fn due_on(&mut self, n: NormId, ev: &Event) {
        let date = ev.at.instant.date();
        let mut timers = Vec::new();
        let ledgers = &mut self.ledgers;
        self.awaiting.retain(|&(l, b)| {
            let bucket = &mut ledgers[l].buckets[b];
            let Some((e, grace)) = bucket.awaiting else {
                return false;
            };
            if bucket.norm != n || e != ev.kind {
                return true;
            }
            match due_after_date(date, grace) {
                Some((due_date, late_from)) => {
                    bucket.due_date = Some(due_date);
                    bucket.late_from = Some(late_from);
                    bucket.awaiting = None;
                    timers.push((late_from, l, b));
                    false
                }
                None => true,
            }
        });
        for (at, l, b) in timers {
            self.schedule(at, Timer::BucketDue { ledger: l, bucket: b });
        }
    }

    /// `growing until F`: F stops the oldest amount still growing, at its
    /// value now; with none growing, it stops the next one as it arises.
    /// `growing until F`: F stops the oldest amount still growing, at its
    /// value now; with none growing, it stops the next one as it arises.
    fn stop(&mut self, n: NormId, _ev: &Event) -> Result<(), EvalError> {
        self.refresh_live()?;
        let ledgers = &self.ledgers;
        let oldest = self
            .growing
            .iter()
            .enumerate()
            .filter(|(_, (l, b))| ledgers[*l].buckets[*b].norm == n)
            .min_by_key(|(_, (l, b))| ledgers[*l].buckets[*b].opened)
            .map(|(i, _)| i);
        match oldest {
            Some(i) => {
                let (l, b) = self.growing.remove(i);
                self.ledgers[l].buckets[b].live = None;
            }
            None => self.banked[n] += 1,
        }
        Ok(())
    }

    /// Re-evaluates every growing amount as of now.
    /// Re-evaluates every growing amount as of now.
    fn refresh_live(&mut self) -> Result<(), EvalError> {
        let Some(now) = self.now else { return Ok(()) };
        let mut updates = Vec::new();
        for &(l, b) in &self.growing {
            let bucket = &self.ledgers[l].buckets[b];
            let Some(live) = &bucket.live else { continue };
            let NormRule::Accrual { amount, .. } = &self.program.norms[bucket.norm].rule else {
                continue;
            };
            let mut ctx = self.ctx(&live.payload, &[]);
            ctx.env.at = Some(live.started);
            ctx.env.bound_at = Some(live.started);
            ctx.env.elapsed = Some(Duration::seconds(now.seconds_since(live.started.instant).max(0)));
            if let Some(Value::Money(m)) = eval(amount, &ctx)? {
                updates.push((l, b, m.amount));
            }
        }
        for (l, b, amount) in updates {
            self.ledgers[l].set(b, amount).ok_or(EvalError::Overflow)?;
        }
        Ok(())
    }

    /// What `from` still owes `to`, when it is owed in one currency.
    fn outstanding_between(&self, from: PartyId, to: PartyId) -> Option<Money> {
        let mut found: Option<Money> = None;
        for (key, ledger) in self.ledger_keys.iter().zip(&self.ledgers) {
            if key.from != from || key.to != to {
                continue;
            }
            let owed = ledger.accrued()?.checked_sub(ledger.paid_total)?;
            match found {
                None => found = Some(Money::new(owed, key.currency)),
                Some(_) => return None,
            }
        }
        found
    }

    /// Applies a payment. The first clause settled by this kind of event
    /// whose condition holds says who pays whom and how much counts.
    fn settle(&mut self, ev: &Event) -> Result<(), EvalError> {
        self.refresh_live()?;
        let program = self.program;
        for spec in &program.norms {
            let NormRule::Accrual { settlements, .. } = &spec.rule else {
                continue;
            };
            for s in settlements.iter().filter(|s| s.event == ev.kind) {
                if let Some(c) = &s.condition {
                    if !holds(c, &self.ctx(&ev.fields, &[]))? {
                        continue;
                    }
                }
                let field = |f: Option<FieldId>| f.and_then(|f| ev.fields.get(f).cloned().flatten());
                let party = |v: Option<Value>| match v {
                    Some(Value::Entity(name)) => program.party_id(&name),
                    _ => None,
                };
                let (from, to) = match (s.from, s.to) {
                    (Some(f), Some(t)) => (party(field(Some(f))), party(field(Some(t)))),
                    _ => (Some(spec.bearer), spec.counterparty),
                };
                let paid = match &s.applying {
                    Some(a) => eval(a, &self.ctx(&ev.fields, &[]))?,
                    None => field(Some(s.amount)),
                };
                let (Some(from), Some(to), Some(Value::Money(m))) = (from, to, paid) else {
                    return Ok(());
                };
                let key = LedgerKey {
                    from,
                    to,
                    currency: m.currency,
                };
                let l = self.ledger_for(key);
                self.ledgers[l]
                    .settle(m.amount.max(Decimal::ZERO), ev.at.instant)
                    .ok_or(EvalError::Overflow)?;
                return Ok(());
            }
        }
        Ok(())
    }

    fn bucket_due(&mut self, l: usize, b: usize) {
        let key = self.ledger_keys[l];
        let Some(bucket) = self.ledgers[l].buckets.get_mut(b) else {
            return;
        };
        let outstanding = bucket.outstanding();
        if outstanding <= Decimal::ZERO {
            return;
        }
        bucket.violated = true;
        let due = bucket.due_date.map(|d| d.to_string()).unwrap_or_default();
        let spec = &self.program.norms[bucket.norm];
        let payee = &self.program.parties[key.to];
        let payer = &self.program.parties[key.from];
        let Some(late_from) = bucket.late_from else {
            return;
        };
        self.breaches.push(Breach {
            clause: spec.clause,
            norm: bucket.norm,
            party: key.from,
            at: due.clone(),
            instant: late_from,
            line: None,
            raw: None,
            event: None,
            reason: format!(
                "{} {} of what accrued for {} was still unpaid when it fell due on {due}",
                crate::report::amount(outstanding),
                key.currency,
                bucket.label
            ),
            allowed: Some(format!(
                "{payer} pays {payee} the {} amount by {due}",
                bucket.label
            )),
        });
        let clause = spec.clause;
        self.raise(
            clause,
            key.from,
            Some(Money::new(outstanding, key.currency)),
            late_from,
        );
    }
}

/// Two independent 64-bit SipHashes of the id. At 128 bits, two different
/// ids colliding within any realistic stream is out of reach.
fn fingerprint(id: &str) -> u128 {
    use std::hash::{Hash, Hasher};
    let half = |salt: u8| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        salt.hash(&mut h);
        id.hash(&mut h);
        h.finish()
    };
    (u128::from(half(0)) << 64) | u128::from(half(1))
}

fn show(at: Option<Instant>) -> String {
    match at {
        Some(i) if i.is_midnight() => i.date().to_string(),
        Some(i) => i.to_string(),
        None => "the start".to_string(),
    }
}

/// "signed cloud_contract with provider Oracle, ref `stargate`"
fn describe_act(program: &Program, ev: &Event) -> String {
    let spec = &program.events[ev.kind];
    let fields: Vec<String> = spec
        .fields
        .iter()
        .zip(&ev.fields)
        .filter_map(|(f, v)| v.as_ref().map(|v| format!("{} {v}", f.name)))
        .collect();
    if fields.is_empty() {
        format!("did {}", spec.name)
    } else {
        format!("did {} ({})", spec.name, fields.join(", "))
    }
}

/// What the prohibition would have allowed, read off its exceptions.
fn allowed_instead(program: &Program, n: NormId) -> Option<String> {
    let NormRule::Prohibition { excepted_by } = &program.norms[n].rule else {
        return None;
    };
    let mut ways = Vec::new();
    for &p in excepted_by {
        let spec = &program.norms[p];
        match &spec.instancing {
            Instancing::OnLapse { norm } => {
                let pw = &program.norms[*norm];
                let holder = &program.parties[pw.bearer];
                let offer = match &pw.instancing {
                    Instancing::PerEvent { trigger, .. } => program.events[trigger.event].name.as_str(),
                    _ => "an offer",
                };
                let window = match &pw.rule {
                    NormRule::Power { window: Some(w), .. } => {
                        match eval(w, &Ctx::constant(&program.terms)) {
                            Ok(Some(v)) => format!(" or {v}"),
                            _ => String::new(),
                        }
                    }
                    _ => String::new(),
                };
                let renounce = match &pw.rule {
                    NormRule::Power { renounced_by, .. } => renounced_by
                        .first()
                        .map_or("a refusal", |r| program.events[r.event].name.as_str()),
                    _ => "a refusal",
                };
                let terms = match &spec.rule {
                    NormRule::Permission { only_if: Some(_), .. } => {
                        ", then deal on terms no better than offered"
                    }
                    _ => "",
                };
                ways.push(format!(
                    "make a {offer} to {holder} first and wait for {renounce}{window}{terms}"
                ));
            }
            Instancing::PerEvent { trigger, .. } => {
                ways.push(format!(
                    "obtain a {} for this very act first",
                    program.events[trigger.event].name
                ));
            }
            _ => {}
        }
    }
    if ways.is_empty() {
        None
    } else {
        Some(ways.join(", or "))
    }
}

/// Where an accrual goes and when it falls due.
struct DueOf {
    label: String,
    /// Whether accruals with the same label are one debt.
    grouped: bool,
    date: Option<jiff::civil::Date>,
    late_from: Option<Instant>,
    awaiting: Option<(EventId, Duration)>,
}

/// The last day on time `grace` after the end of `from`, and the first
/// instant that is late.
fn due_after_date(from: jiff::civil::Date, grace: Duration) -> Option<(jiff::civil::Date, Instant)> {
    let due = add_days(add_months(from, grace.months)?, grace.days)?;
    let late = Instant::end_of(due)?.plus_seconds(grace.seconds)?;
    Some((due, late))
}

//! Norm instances: created by triggers, matched by acts, closed by
//! deadlines, lapses, renunciations and cancellations; the breaches and
//! ineffective acts they give rise to.

use super::*;

impl<'p> Engine<'p> {
    pub(super) fn store(&self, n: NormId) -> &NormStore {
        static EMPTY: std::sync::OnceLock<NormStore> = std::sync::OnceLock::new();
        self.norms
            .get(n)
            .unwrap_or_else(|| EMPTY.get_or_init(NormStore::default))
    }

    /// Changes an instance in place (not closing it), recording the change.
    pub(super) fn transition(&mut self, n: NormId, id: InstanceId, f: impl FnOnce(&mut Instance)) {
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
    pub(super) fn close(
        &mut self,
        n: NormId,
        id: InstanceId,
        state: NState,
        at: Option<Instant>,
    ) -> Option<Instance> {
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
    pub(super) fn went_stale(&mut self) {
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

    pub(super) fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Creates an instance of norm `n` and sets its deadline; a permission
    /// with a delayed start waits for it, unless a paired event came first.
    pub(super) fn create(
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
    pub(super) fn activate(&mut self, n: NormId, id: InstanceId, gen: u32, at: Instant) {
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
    pub(super) fn cancel(&mut self, n: NormId, ev: &Event) {
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
    pub(super) fn trigger_ctx<'a>(&'a self, trigger: Option<&'a Trigger>) -> Ctx<'a> {
        let mut ctx = self.ctx(&[], trigger.map_or(&[], |t| &t.fields));
        ctx.env.bound_at = trigger.and_then(|t| t.at);
        ctx.env.at = ctx.env.bound_at;
        ctx
    }

    /// A deadline `D` after `at`; `None` while it waits on an open term. One
    /// past the calendar is refused, never dropped.
    pub(super) fn due_after(
        &self,
        d: &CExpr,
        at: Instant,
        trigger: Option<&Trigger>,
    ) -> Result<Option<Due>, EvalError> {
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
    pub(super) fn due_by(&self, d: &CExpr, trigger: Option<&Trigger>) -> Result<Option<Due>, EvalError> {
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

    pub(super) fn key_of(ev: &Event, field: Option<FieldId>) -> Option<SmolStr> {
        field
            .and_then(|f| ev.fields.by_id(f))
            .and_then(Option::as_ref)
            .map(Value::key_text)
    }

    pub(super) fn trigger(&mut self, n: NormId, ev: &Event) -> Result<(), EvalError> {
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

    pub(super) fn act_matches(&self, n: NormId, inst: &Instance, ev: &Event) -> Result<bool, EvalError> {
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
    pub(super) fn first_of(
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
    pub(super) fn first_matching(
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

    pub(super) fn act(&mut self, n: NormId, ev: &Event, raw: &[u8]) -> Result<(), EvalError> {
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
    pub(super) fn use_up(&mut self, p: NormId, id: InstanceId, ev: &Event) {
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
    pub(super) fn excuse(&self, p: NormId, ev: &Event) -> Result<Result<InstanceId, String>, EvalError> {
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

    pub(super) fn renounce(&mut self, n: NormId, ev: &Event) -> Result<(), EvalError> {
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
    pub(super) fn lapsed(&mut self, n: NormId, inst: &Instance, at: Instant) {
        let Some(successors) = self.plan.on_lapse.get(n) else {
            return;
        };
        for m in successors.clone() {
            if self.clause_active(m) {
                self.create(m, inst.key.clone(), inst.payload.clone(), Some(at));
            }
        }
    }

    pub(super) fn deadline(&mut self, n: NormId, id: InstanceId, gen: u32, at: Instant) {
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

    pub(super) fn push_breach(&mut self, breach: Breach) {
        if self.history.is_some() {
            self.record_breach(&breach);
        }
        self.breaches.push(breach);
    }

    pub(super) fn breach(&mut self, n: NormId, ev: &Event, raw: &[u8], why_not: Vec<String>) {
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

    pub(super) fn ineffective(&mut self, n: NormId, ev: &Event, reason: String) {
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

    /// `growing until F`: F stops the oldest amount still growing, at its
    /// value now; with none growing, it stops the next one as it arises.
    pub(super) fn stop(&mut self, n: NormId, ev: &Event) -> Result<(), EvalError> {
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
    pub(super) fn stop_keyed(
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
}

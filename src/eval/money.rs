//! Money: amounts accrued to ledgers, their due dates and periods, growing
//! amounts brought up to date, settlement by payments, amounts falling due.

use super::*;

impl<'p> Engine<'p> {
    pub(super) fn ledger_for(&mut self, key: LedgerKey) -> u32 {
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

    pub(super) fn accrue(&mut self, n: NormId, ev: &Event) -> Result<(), EvalError> {
        self.accrue_as(n, ev, Pass::All).map(|_| ())
    }

    /// Accrues what `ev` makes owed under norm `n`, in one pass of an
    /// event's accruals; true when the amount is a reversal left for the
    /// pass after them.
    pub(super) fn accrue_as(&mut self, n: NormId, ev: &Event, pass: Pass) -> Result<bool, EvalError> {
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

    /// An amount owed once arises as its clause comes into force: as if an
    /// event with no fields had come, at that moment.
    pub(super) fn accrue_once(&mut self, n: NormId, at: Option<Instant>) -> Result<(), EvalError> {
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

    pub(super) fn ledger(&mut self, l: u32) -> Result<&mut Ledger, EvalError> {
        // Ledger indices are only ever made by `ledger_for`.
        self.ledgers
            .get_mut(l as usize)
            .ok_or_else(|| Problem::Overflow.into())
    }

    /// Counts the amounts owed that left a ledger, as closed instances.
    pub(super) fn collect_closed(&mut self, l: u32, at: Instant) {
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
    pub(super) fn place<'s>(
        &self,
        schedule: Option<&'s Schedule>,
        ev: &Event,
    ) -> Result<Place<'s>, EvalError> {
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
    pub(super) fn due_spec(&self, n: NormId, place: &Place<'_>) -> Result<DueSpec, EvalError> {
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
    pub(super) fn due_on_date(&self, date: &CExpr, ev: &Event) -> Result<DueSpec, EvalError> {
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

    /// Amounts waiting for this event to fix their due date get it now.
    pub(super) fn due_on(&mut self, n: NormId, ev: &Event) {
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

    /// Re-evaluates one growing amount as of now.
    pub(super) fn refresh_bucket(&mut self, l: u32, b: BucketId) -> Result<(), EvalError> {
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
    pub(super) fn refresh_ledger(&mut self, l: u32) -> Result<(), EvalError> {
        let Some(ledger) = self.ledgers.get(l as usize) else {
            return Ok(());
        };
        for b in ledger.growing() {
            self.refresh_bucket(l, b)?;
        }
        Ok(())
    }

    /// What `from` still owes `to`, when it is owed in one currency.
    pub(super) fn outstanding_between(
        &mut self,
        from: PartyId,
        to: PartyId,
    ) -> Result<Option<Money>, EvalError> {
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
    pub(super) fn settle(&mut self, ev: &Event) -> Result<(), EvalError> {
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
    pub(super) fn pay(
        &mut self,
        l: u32,
        amount: Decimal,
        now: Instant,
    ) -> Result<ledger::Settled, EvalError> {
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

    pub(super) fn bucket_due(&mut self, l: u32, b: BucketId) -> Result<(), EvalError> {
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
}

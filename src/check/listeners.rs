//! Who reacts to each event kind, and in which order.

use crate::model::*;

/// The order in which the listeners of one event react. Acts are judged
/// under the state before the event; then amounts accrue, then payments
/// settle them, then due dates waiting on the event are fixed; then clauses
/// end or are suspended, then they start or resume; and only then do new
/// instances arise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Phase {
    Act,
    Accrue,
    Settle,
    FixDue,
    EndOrSuspend,
    StartOrResume,
    Arise,
}

const PHASES: usize = Phase::Arise as usize + 1;

/// Listeners of every kind, gathered by phase.
struct Plan {
    by_event: Table<EventId, [Vec<Listener>; PHASES]>,
}

impl Plan {
    fn add(&mut self, ev: EventId, phase: Phase, l: Listener) {
        if let Some(phases) = self.by_event.get_mut(ev) {
            if let Some(list) = phases.get_mut(phase as usize) {
                list.push(l);
            }
        }
    }

    /// Adds `l` unless it is there already: one event may name a clause's
    /// end twice (its term and its `ended on`).
    fn add_once(&mut self, ev: EventId, phase: Phase, l: Listener) {
        let there = self
            .by_event
            .get(ev)
            .and_then(|p| p.get(phase as usize))
            .is_some_and(|list| list.contains(&l));
        if !there {
            self.add(ev, phase, l);
        }
    }
}

pub(super) fn listeners(p: &Program) -> Table<EventId, Vec<Listener>> {
    let mut plan = Plan {
        by_event: p.events.values().map(|_| Default::default()).collect(),
    };
    let mut settled_by: Vec<EventId> = Vec::new();
    for (id, n) in p.norms.iter() {
        match &n.rule {
            NormRule::Accrual {
                per,
                settlements,
                growing_until,
                schedule,
                ..
            } => {
                if let Some(stop) = growing_until {
                    plan.add(*stop, Phase::Act, Listener::Stop(id));
                }
                if !matches!(n.instancing, Instancing::Once) {
                    plan.add(per.event, Phase::Accrue, Listener::Accrue(id));
                }
                for s in settlements {
                    // One listener a settling event, however many clauses it
                    // pays, so that a payment is applied once.
                    if !settled_by.contains(&s.event) {
                        settled_by.push(s.event);
                        plan.add(s.event, Phase::Settle, Listener::Settle);
                    }
                }
                let timings = schedule
                    .iter()
                    .flat_map(|s| std::iter::once(&s.timing).chain(s.alternative.as_ref().map(|(_, t)| t)));
                for t in timings {
                    if let Anchor::Event(ev) = t.anchor {
                        plan.add_once(ev, Phase::FixDue, Listener::DueOn(id));
                    }
                }
            }
            NormRule::Power { renounced_by, .. } => {
                plan.add(n.action.event, Phase::Act, Listener::Act(id));
                for r in renounced_by {
                    plan.add(r.event, Phase::Act, Listener::Renounce(id));
                }
            }
            NormRule::Permission {
                activation: Some(ActivationSpec { unless: Some(ev), .. }),
                ..
            } => {
                plan.add(n.action.event, Phase::Act, Listener::Act(id));
                plan.add(*ev, Phase::Act, Listener::Cancel(id));
            }
            _ => plan.add(n.action.event, Phase::Act, Listener::Act(id)),
        }
    }
    let on = |b: &Bound| match b {
        Bound::On(m) => Some(m.event),
        _ => None,
    };
    if let Some(ev) = on(&p.term.end) {
        plan.add(ev, Phase::EndOrSuspend, Listener::DealEnd);
    }
    for (id, c) in p.clauses.iter() {
        if let Some(ev) = on(&c.lifetime.end) {
            plan.add(ev, Phase::EndOrSuspend, Listener::ClauseEnd(id));
        }
        for m in &c.ended_on {
            plan.add_once(m.event, Phase::EndOrSuspend, Listener::ClauseEnd(id));
        }
        for m in &c.suspended_on {
            plan.add(m.event, Phase::EndOrSuspend, Listener::ClauseSuspend(id));
        }
    }
    if let Some(ev) = on(&p.term.start) {
        plan.add(ev, Phase::StartOrResume, Listener::DealStart);
    }
    for (id, c) in p.clauses.iter() {
        if let Some(ev) = on(&c.lifetime.start) {
            plan.add(ev, Phase::StartOrResume, Listener::ClauseStart(id));
        }
        for m in &c.resumed_on {
            plan.add(m.event, Phase::StartOrResume, Listener::ClauseResume(id));
        }
    }
    for (id, n) in p.norms.iter() {
        if let Instancing::PerEvent { trigger, .. } = &n.instancing {
            plan.add(trigger.event, Phase::Arise, Listener::Trigger(id));
        }
    }
    plan.by_event
        .values()
        .map(|phases| phases.iter().flatten().copied().collect())
        .collect()
}

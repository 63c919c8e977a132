//! Clause lifecycles: when each clause starts, is suspended, resumes and
//! ends, and what that does to the instances of its norms.

use super::*;

impl<'p> Engine<'p> {
    pub(super) fn refresh_all(&mut self, at: Option<Instant>) {
        for c in self.program.clauses.ids() {
            self.refresh(c, at);
        }
    }

    pub(super) fn clause_status(&self, c: ClauseId) -> Status {
        self.clauses.get(c).map_or(Status::Inactive, |st| st.status)
    }

    /// Recomputes a clause's status from its flags and the deal's, and moves
    /// its norm instances along if it changed.
    pub(super) fn refresh(&mut self, c: ClauseId, at: Option<Instant>) {
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

    pub(super) fn clause_active(&self, n: NormId) -> bool {
        self.program
            .norms
            .get(n)
            .is_some_and(|spec| self.clause_status(spec.clause) == Status::Active)
    }
}

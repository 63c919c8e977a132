//! The core norms as written: obligations, prohibitions, permissions and
//! powers.

use super::*;

impl Checker {
    pub(super) fn obligation(
        &mut self,
        common: &Common,
        bearer: PartyId,
        trigger: Option<&ast::EventMatch>,
        action: &ast::Action,
        payee: Option<&ast::Ident>,
        deadline: Option<&ast::Deadline>,
    ) {
        let after = match deadline {
            Some(ast::Deadline::Within { after, .. }) => after.as_ref(),
            _ => None,
        };
        if let (Some(t), Some(a)) = (trigger, after) {
            self.push(RepeatedPart {
                what: "the event the obligation follows".to_string(),
                span: a.span.into(),
                first: t.span.into(),
            });
            return;
        }
        let counterparty = match payee {
            Some(p) => match self.party(p) {
                Some(id) => Some(id),
                None => return,
            },
            None => None,
        };
        if action.event.name == "pay" && !self.names.events.contains_key("pay") {
            self.unknown_pay(bearer, payee, &action.event);
            return;
        }
        let Some((instancing, tev)) = self.trigger(trigger.or(after)) else {
            return;
        };
        let Some((instancing, act)) = self.keyed_action(&instancing, tev, action) else {
            return;
        };
        let due = match deadline {
            None => None,
            Some(ast::Deadline::Within { duration, .. }) => match self.duration(duration, tev) {
                Some(d) => Some(DueRule::After(d)),
                None => return,
            },
            Some(ast::Deadline::By { date, .. }) => {
                let scope = self.bound_scope(tev);
                match self.expr_of(date, &scope, Type::Date) {
                    Some(d) => Some(DueRule::By(d)),
                    None => return,
                }
            }
        };
        let summary = format!("{} must {}", self.party_name(bearer), action.event.name);
        let draft = Draft::new(
            NormKind::Obligation,
            bearer,
            act,
            instancing,
            NormRule::Obligation { due },
        )
        .with_counterparty(counterparty)
        .with_summary(summary);
        self.add(common, draft);
    }

    /// `must pay to X` where no event is named `pay`: the author most likely
    /// meant an amount owed, which needs no such event.
    fn unknown_pay(&mut self, bearer: PartyId, payee: Option<&ast::Ident>, pay: &ast::Ident) {
        let payer = self.party_name(bearer);
        let payee = payee.map_or_else(|| "Other".to_string(), |p| p.name.clone());
        self.push(UnknownName {
            what: "event",
            name: pay.name.clone(),
            span: pay.span.into(),
            help: format!(
                "`pay` is not an event of this contract: for an amount owed, write `{payer} must pay {payee} 100 USD by 2025-02-01` (or `{payer} owes {payee} 100 USD due within 30 days`), settled by `payment`; for paying as an act of its own, declare `pay` under `events`"
            ),
        });
    }

    pub(super) fn prohibition(
        &mut self,
        common: &Common,
        bearer: PartyId,
        bearer_name: &str,
        trigger: Option<&ast::EventMatch>,
        action: &ast::Action,
        exception: Option<&ast::Exception>,
    ) {
        let Some((instancing, tev)) = self.trigger(trigger) else {
            return;
        };
        let Some((instancing, act)) = self.keyed_action(&instancing, tev, action) else {
            return;
        };
        let mut excepted_by = Vec::new();
        let mut allowed = None;
        if let Some(x) = exception {
            if let Some(id) = self.consent_permission(common, bearer, &act, x) {
                excepted_by.push(id);
                allowed = Some(format!("obtain a {} for this very act first", x.event.name));
            }
        }
        let summary = format!("{bearer_name} must not {}", action.event.name);
        let words = Words {
            allowed,
            ..Words::default()
        };
        let draft = Draft::new(
            NormKind::Prohibition,
            bearer,
            act,
            instancing,
            NormRule::Prohibition { excepted_by },
        )
        .with_summary(summary)
        .with_words(words);
        self.add(common, draft);
    }

    #[allow(
        clippy::too_many_arguments,
        reason = "one argument a part of the written norm"
    )]
    pub(super) fn permission(
        &mut self,
        common: &Common,
        bearer: PartyId,
        bearer_name: &str,
        trigger: Option<&ast::EventMatch>,
        action: &ast::Action,
        activation: Option<&ast::Activation>,
        window: Option<&ast::Expr>,
    ) {
        let Some((instancing, tev)) = self.trigger(trigger) else {
            return;
        };
        let Some((instancing, act)) = self.keyed_action(&instancing, tev, action) else {
            return;
        };
        let window = match window {
            Some(w) => match self.duration(w, tev) {
                Some(c) => Some(c),
                None => return,
            },
            None => None,
        };
        let activation = match activation {
            None => None,
            Some(a) => {
                if tev.is_none() {
                    self.push(NeedsTrigger {
                        what: "`from … after`".to_string(),
                        purpose: "count from",
                        span: a.span.into(),
                        help: format!(
                            "start the norm with that event, e.g. `after each delivery_due, {bearer_name} may {} from 16 days after`",
                            action.event.name
                        ),
                    });
                    return;
                }
                let delay = self.duration(&a.delay, tev);
                let unless = match &a.unless {
                    Some(u) => self.event(u).map(Some),
                    None => Some(None),
                };
                let (Some(delay), Some(unless)) = (delay, unless) else {
                    return;
                };
                // `unless F with the same K first`: K of F, and of the event
                // that made the instance.
                let unless_key = match (&a.unless_key, unless, tev) {
                    (Some(k), Some(f), Some(t)) => match (self.field(f, k), self.field(t, k)) {
                        (Some(a), Some(b)) => Some((a, b)),
                        _ => return,
                    },
                    _ => None,
                };
                Some(ActivationSpec {
                    delay,
                    unless,
                    unless_key,
                })
            }
        };
        let summary = format!("{bearer_name} may {}", action.event.name);
        let rule = NormRule::Permission {
            once: false,
            activation,
            window,
            only_if: None,
        };
        let draft = Draft::new(NormKind::Permission, bearer, act, instancing, rule).with_summary(summary);
        self.add(common, draft);
    }

    /// Powers written together are alternatives: using one closes the others.
    pub(super) fn powers(
        &mut self,
        common: &Common,
        bearer: PartyId,
        bearer_name: &str,
        trigger: Option<&ast::EventMatch>,
        actions: &[ast::Action],
        window: Option<&ast::Expr>,
    ) {
        let Some((instancing, tev)) = self.trigger(trigger) else {
            return;
        };
        let window = match window {
            Some(w) => match self.duration(w, tev) {
                Some(c) => Some(c),
                None => return,
            },
            None => None,
        };
        let mut acts = Vec::new();
        for a in actions {
            let Some((inst, act)) = self.keyed_action(&instancing, tev, a) else {
                return;
            };
            acts.push((act, inst, a.event.name.clone()));
        }
        let occasion = tev.map_or_else(|| "event".to_string(), |t| self.event_name(t));
        for (i, (act, inst, name)) in acts.iter().enumerate() {
            let renounced_by = acts
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, (a, _, _))| a.clone())
                .collect();
            let rule = NormRule::Power {
                window: window.clone(),
                renounced_by,
                renounce_is_an_act: false,
            };
            let words = Words {
                occasion: occasion.clone(),
                ..Words::default()
            };
            let draft = Draft::new(NormKind::Power, bearer, act.clone(), inst.clone(), rule)
                .with_summary(format!("{bearer_name} has the power to {name}"))
                .with_words(words);
            self.add(common, draft);
        }
    }
}

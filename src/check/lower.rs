//! Lowering: every norm as written becomes one or more core norms. The
//! commercial forms are defined here, by the core norms they stand for.

use super::error::CheckError;
use super::{Checker, Scope};
use crate::model::*;
use crate::syntax::ast::{self, BinOp, Span};
use crate::value::{Type, Value};

/// The parts shared by every norm a written norm lowers to.
struct Common {
    clause: ClauseId,
    span: Span,
}

impl Checker {
    pub(super) fn norm(&mut self, clause: ClauseId, n: &ast::Norm) {
        let bearer = self.party(&n.bearer);
        let common = Common { clause, span: n.span };
        // An unknown bearer is reported; the rest of the norm is still
        // checked against a stand-in so that its other mistakes show too.
        // No program is built once an error was found, so the stand-in never runs.
        let Some(bearer) = bearer.or(if self.parties.is_empty() { None } else { Some(0) }) else {
            return;
        };
        let bearer_name = n.bearer.name.as_str();
        match &n.body {
            ast::NormBody::Obligation {
                action,
                payee,
                deadline,
            } => self.obligation(
                &common,
                bearer,
                n.trigger.as_ref(),
                action,
                payee.as_ref(),
                deadline.as_ref(),
            ),
            ast::NormBody::Prohibition { action, exception } => {
                let Some((instancing, tev)) = self.trigger(n.trigger.as_ref()) else {
                    return;
                };
                let Some((instancing, act)) = self.keyed_action(&instancing, tev, action) else {
                    return;
                };
                let mut excepted_by = Vec::new();
                if let Some(x) = exception {
                    if let Some(id) = self.consent_permission(&common, bearer, &act, x) {
                        excepted_by.push(id);
                    }
                }
                let summary = format!("{bearer_name} must not {}", action.event.name);
                self.add(
                    &common,
                    NormKind::Prohibition,
                    bearer,
                    None,
                    act,
                    instancing,
                    NormRule::Prohibition { excepted_by },
                    summary,
                );
            }
            ast::NormBody::Permission {
                action,
                activation,
                window,
            } => {
                let Some((instancing, tev)) = self.trigger(n.trigger.as_ref()) else {
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
                            self.push(CheckError::MissingPart {
                                what: "`from … after` needs an event to count from".to_string(),
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
                        Some(ActivationSpec { delay, unless })
                    }
                };
                let summary = format!("{bearer_name} may {}", action.event.name);
                let rule = NormRule::Permission {
                    once: false,
                    activation,
                    window,
                    only_if: None,
                };
                self.add(
                    &common,
                    NormKind::Permission,
                    bearer,
                    None,
                    act,
                    instancing,
                    rule,
                    summary,
                );
            }
            ast::NormBody::Power { actions, window } => {
                self.powers(
                    &common,
                    bearer,
                    bearer_name,
                    n.trigger.as_ref(),
                    actions,
                    window.as_ref(),
                );
            }
            ast::NormBody::Exclusive(x) => self.exclusive(&common, bearer, bearer_name, x),
            ast::NormBody::FirstRefusal(r) => self.first_refusal(&common, bearer, bearer_name, r, n.span),
            ast::NormBody::Owes(o) => self.owes(&common, bearer, bearer_name, n.trigger.as_ref(), o, n.span),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        common: &Common,
        kind: NormKind,
        bearer: PartyId,
        counterparty: Option<PartyId>,
        action: ActionSpec,
        instancing: Instancing,
        rule: NormRule,
        summary: String,
    ) -> NormId {
        self.norms.push(NormSpec {
            clause: common.clause,
            kind,
            bearer,
            counterparty,
            action,
            instancing,
            rule,
            summary,
            form: Form::Core,
            span: common.span,
        });
        self.norms.len() - 1
    }

    /// `after each E,`: how instances arise, and the trigger event, if any.
    fn trigger(&mut self, t: Option<&ast::EventMatch>) -> Option<(Instancing, Option<EventId>)> {
        match t {
            None => Some((Instancing::Single, None)),
            Some(m) => {
                let trigger = self.event_match(m)?;
                let ev = trigger.event;
                Some((Instancing::PerEvent { trigger, key: None }, Some(ev)))
            }
        }
    }

    /// Resolves an act; `with the same K` ties it to the trigger's field K,
    /// which is recorded as the instance key.
    fn action(&mut self, a: &ast::Action, trigger: Option<EventId>) -> Option<ActionSpec> {
        let ev = self.event(&a.event)?;
        let key = match &a.same_key {
            None => None,
            Some(k) => {
                let Some(tev) = trigger else {
                    self.push(CheckError::MissingPart {
                        what: format!("`with the same {}` needs an event to compare with", k.name),
                        span: k.span.into(),
                        help: format!(
                            "start the norm with the event it follows, e.g. `after each order, Seller must {} with the same {} within 30 days`",
                            a.event.name, k.name
                        ),
                    });
                    return None;
                };
                let act_field = self.field(ev, k)?;
                self.field(tev, k)?;
                Some(act_field)
            }
        };
        let condition = match &a.condition {
            None => None,
            Some(e) => {
                let scope = Scope {
                    event: Some(ev),
                    bound: trigger.map(|t| (t, vec![self.events[t].name.clone()])),
                    ..Scope::default()
                };
                Some(self.expr_of(e, &scope, Type::Bool)?)
            }
        };
        Some(ActionSpec {
            event: ev,
            key,
            condition,
        })
    }

    fn duration(&mut self, e: &ast::Expr, trigger: Option<EventId>) -> Option<CExpr> {
        let scope = Scope {
            event: None,
            bound: trigger.map(|t| (t, vec![self.events[t].name.clone()])),
            ..Scope::default()
        };
        self.expr_of(e, &scope, Type::Duration)
    }

    /// An act, and how its norm's instances arise: one per trigger, keyed by
    /// the trigger's field K when the act is `with the same K`.
    fn keyed_action(
        &mut self,
        instancing: &Instancing,
        tev: Option<EventId>,
        a: &ast::Action,
    ) -> Option<(Instancing, ActionSpec)> {
        let act = self.action(a, tev)?;
        let mut instancing = instancing.clone();
        if let (Instancing::PerEvent { trigger, key }, Some(k)) = (&mut instancing, &a.same_key) {
            *key = self.events[trigger.event].field(&k.name);
        }
        Some((instancing, act))
    }

    /// Powers written together are alternatives: using one closes the others.
    fn powers(
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
            let summary = format!("{bearer_name} has the power to {name}");
            self.add(
                common,
                NormKind::Power,
                bearer,
                None,
                act.clone(),
                inst.clone(),
                rule,
                summary,
            );
        }
    }

    fn obligation(
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
            self.push(CheckError::Repeated {
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
                let scope = Scope {
                    bound: tev.map(|t| (t, vec![self.events[t].name.clone()])),
                    ..Scope::default()
                };
                match self.expr_of(date, &scope, Type::Date) {
                    Some(d) => Some(DueRule::By(d)),
                    None => return,
                }
            }
        };
        let summary = format!("{} must {}", self.parties[bearer].0, action.event.name);
        self.add(
            common,
            NormKind::Obligation,
            bearer,
            counterparty,
            act,
            instancing,
            NormRule::Obligation { due },
            summary,
        );
    }

    /// `unless preceded by consent with the same ref`: each consent is a
    /// permission for the one act it names.
    fn consent_permission(
        &mut self,
        common: &Common,
        bearer: PartyId,
        act: &ActionSpec,
        x: &ast::Exception,
    ) -> Option<NormId> {
        let consent_ev = self.event(&x.event)?;
        let (key, trigger_key) = match &x.same_key {
            Some(k) => (Some(self.field(act.event, k)?), Some(self.field(consent_ev, k)?)),
            None => (None, None),
        };
        let summary = format!(
            "{} may {} after {}",
            self.parties[bearer].0, self.events[act.event].name, x.event.name
        );
        Some(self.add(
            common,
            NormKind::Permission,
            bearer,
            None,
            ActionSpec {
                event: act.event,
                key,
                condition: None,
            },
            Instancing::PerEvent {
                trigger: Match {
                    event: consent_ev,
                    condition: None,
                },
                key: trigger_key,
            },
            // A consent is to that very act: the act uses it up.
            NormRule::Permission {
                once: true,
                activation: None,
                window: None,
                only_if: None,
            },
            summary,
        ))
    }

    /// Exclusivity: the grantor must not do the act with anyone but the
    /// holder, save where a consent excuses that very act.
    fn exclusive(&mut self, common: &Common, holder: PartyId, holder_name: &str, x: &ast::Exclusive) {
        let grantor = self.party(&x.grantor);
        let ev = self.event(&x.event);
        let (Some(grantor), Some(ev)) = (grantor, ev) else {
            return;
        };
        let Some(role) = self.field(ev, &x.role_field) else {
            return;
        };
        let role_ty = self.events[ev].fields[role].ty;
        if !matches!(role_ty, Type::Party | Type::Entity | Type::Text) {
            self.push(CheckError::TypeMismatch {
                expected: "a party or entity field".to_string(),
                found: format!("a {role_ty} field"),
                span: x.role_field.span.into(),
                help: format!(
                    "the field after `as` names who acts with {}, e.g. `provider: entity`",
                    x.grantor.name
                ),
            });
            return;
        }
        let not_holder = CExpr::Binary(
            BinOp::Ne,
            Box::new(CExpr::Field(role)),
            Box::new(CExpr::Const(Value::Entity(holder_name.into()))),
        );
        let condition = match &x.condition {
            None => not_holder,
            Some(e) => {
                let scope = Scope {
                    event: Some(ev),
                    ..Scope::default()
                };
                let Some(c) = self.expr_of(e, &scope, Type::Bool) else {
                    return;
                };
                CExpr::Binary(BinOp::And, Box::new(not_holder), Box::new(c))
            }
        };
        let act = ActionSpec {
            event: ev,
            key: None,
            condition: Some(condition),
        };
        let mut excepted_by = Vec::new();
        if let Some(exc) = &x.exception {
            match self.consent_permission(common, grantor, &act, exc) {
                Some(id) => excepted_by.push(id),
                None => return,
            }
        }
        let subject: Vec<&str> = x.subject.iter().map(|w| w.name.as_str()).collect();
        let summary = format!(
            "{} must not {} with anyone but {holder_name}, its exclusive {}",
            x.grantor.name,
            x.event.name,
            subject.join(" ")
        );
        let form = Form::Exclusive {
            subject: subject.join(" "),
            holder,
        };
        let id = self.add(
            common,
            NormKind::Prohibition,
            grantor,
            Some(holder),
            act,
            Instancing::Single,
            NormRule::Prohibition { excepted_by },
            summary,
        );
        self.norms[id].form = form;
    }

    /// First refusal: the holder has, per offer, a power to accept within a
    /// window; when that power lapses (declined or unanswered), the grantor
    /// may deal with others on that offer, on terms no better for them; any
    /// other such deal is prohibited.
    fn first_refusal(
        &mut self,
        common: &Common,
        holder: PartyId,
        holder_name: &str,
        r: &ast::FirstRefusal,
        span: Span,
    ) {
        for (what, first, again) in &r.repeated {
            self.push(CheckError::Repeated {
                what: format!("`{what}`"),
                span: (*again).into(),
                first: (*first).into(),
            });
        }
        let example = "a first refusal reads:\n  Microsoft has a right of first refusal over cloud_contract by OpenAI\n    where provider is not Microsoft\n    offered by cloud_offer\n    accepted by cloud_offer_accepted\n    declined by cloud_offer_declined\n    matched on ref\n    open for 30 days\n    only if price >= offer.price";
        let missing = |c: &mut Self, part: &str| {
            c.push(CheckError::MissingPart {
                what: format!("the first refusal does not say `{part}`"),
                span: span.into(),
                help: example.to_string(),
            });
        };
        if r.offered_by.is_none() {
            missing(self, "offered by");
        }
        if r.accepted_by.is_none() {
            missing(self, "accepted by");
        }
        if r.matched_on.is_none() {
            missing(self, "matched on");
        }
        if r.window.is_none() {
            missing(self, "open for");
        }
        let grantor = self.party(&r.grantor);
        let deal_ev = self.event(&r.deal_event);
        let (Some(grantor), Some(deal_ev), Some(offered), Some(accepted), Some(key), Some(window)) = (
            grantor,
            deal_ev,
            &r.offered_by,
            &r.accepted_by,
            &r.matched_on,
            &r.window,
        ) else {
            return;
        };
        let offer_ev = self.event(offered);
        let accept_ev = self.event(accepted);
        let decline_ev = match &r.declined_by {
            Some(d) => self.event(d).map(Some),
            None => Some(None),
        };
        let (Some(offer_ev), Some(accept_ev), Some(decline_ev)) = (offer_ev, accept_ev, decline_ev) else {
            return;
        };
        let deal_key = self.field(deal_ev, key);
        let offer_key = self.field(offer_ev, key);
        let accept_key = self.field(accept_ev, key);
        let decline_key = match decline_ev {
            Some(d) => self.field(d, key).map(Some),
            None => Some(None),
        };
        let window = self.duration(window, Some(offer_ev));
        let condition = match &r.condition {
            None => None,
            Some(e) => {
                let scope = Scope {
                    event: Some(deal_ev),
                    ..Scope::default()
                };
                self.expr_of(e, &scope, Type::Bool).map(Some).unwrap_or(None)
            }
        };
        let only_if = match &r.only_if {
            None => None,
            Some(e) => {
                let scope = Scope {
                    event: Some(deal_ev),
                    bound: Some((offer_ev, vec!["offer".to_string(), offered.name.clone()])),
                    ..Scope::default()
                };
                let c = self.expr_of(e, &scope, Type::Bool);
                if c.is_none() {
                    return;
                }
                c
            }
        };
        let (Some(deal_key), Some(offer_key), Some(accept_key), Some(decline_key), Some(window)) =
            (deal_key, offer_key, accept_key, decline_key, window)
        else {
            return;
        };
        if r.condition.is_some() && condition.is_none() {
            return;
        }
        let grantor_name = self.parties[grantor].0.clone();
        let power = self.add(
            common,
            NormKind::Power,
            holder,
            Some(grantor),
            ActionSpec {
                event: accept_ev,
                key: Some(accept_key),
                condition: None,
            },
            Instancing::PerEvent {
                trigger: Match {
                    event: offer_ev,
                    condition: None,
                },
                key: Some(offer_key),
            },
            NormRule::Power {
                window: Some(window),
                renounced_by: decline_ev
                    .map(|d| ActionSpec {
                        event: d,
                        key: decline_key,
                        condition: None,
                    })
                    .into_iter()
                    .collect(),
                renounce_is_an_act: true,
            },
            format!(
                "{holder_name} may take up {grantor_name}'s {} first",
                offered.name
            ),
        );
        let permission = self.add(
            common,
            NormKind::Permission,
            grantor,
            Some(holder),
            ActionSpec {
                event: deal_ev,
                key: Some(deal_key),
                condition: None,
            },
            Instancing::OnLapse { norm: power },
            // Passed on for one deal: signing it uses the permission up.
            NormRule::Permission {
                once: true,
                activation: None,
                window: None,
                only_if,
            },
            format!(
                "{grantor_name} may {} with others once {holder_name} has passed",
                r.deal_event.name
            ),
        );
        self.add(
            common,
            NormKind::Prohibition,
            grantor,
            Some(holder),
            ActionSpec {
                event: deal_ev,
                key: None,
                condition,
            },
            Instancing::Single,
            NormRule::Prohibition {
                excepted_by: vec![permission],
            },
            format!(
                "{grantor_name} must not {} with others before offering it to {holder_name}",
                r.deal_event.name
            ),
        );
    }

    /// A share: each qualifying event accrues an amount owed by the bearer to
    /// the payee, due on a schedule and settled by payments.
    fn owes(
        &mut self,
        common: &Common,
        payer: PartyId,
        payer_name: &str,
        trigger: Option<&ast::EventMatch>,
        o: &ast::Owes,
        span: Span,
    ) {
        let payee = self.party(&o.payee);
        let per = match (&o.per, trigger) {
            (Some(p), None) | (None, Some(p)) => self.event_match(p),
            (Some(p), Some(t)) => {
                self.push(CheckError::Repeated {
                    what: "the event the amount is owed for".to_string(),
                    span: p.span.into(),
                    first: t.span.into(),
                });
                None
            }
            (None, None) => {
                self.push(CheckError::MissingPart {
                    what: "the amount is not owed for any event".to_string(),
                    span: span.into(),
                    help: format!(
                        "say when it arises: `{payer_name} owes {} … for each sale`, or start the norm with `after each sale,`",
                        o.payee.name
                    ),
                });
                None
            }
        };
        let (Some(payee), Some(per)) = (payee, per) else {
            return;
        };
        let growing_until = match &o.growing_until {
            Some(g) => match self.event(g) {
                Some(ev) => Some(ev),
                None => return,
            },
            None => None,
        };
        let scope = Scope {
            event: Some(per.event),
            growing: growing_until.is_some(),
            owes: true,
            ..Scope::default()
        };
        let amount = self.expr_of(&o.amount, &scope, Type::Money);
        let schedule = match &o.schedule {
            None => Some(None),
            Some(sch) => self.schedule(sch, per.event).map(Some),
        };
        let settlements = self.settlements(&o.settled_by, span);
        let (Some(amount), Some(schedule), Some(settlements)) = (amount, schedule, settlements) else {
            return;
        };
        let form = Form::Share {
            per: per.event,
            base: share_base(&amount),
            rate: share_rate(&amount),
        };
        let per_name = self.events[per.event].name.clone();
        let summary = format!(
            "{payer_name} must pay {} what accrues on each {per_name}",
            o.payee.name
        );
        let settle_event = settlements.first().map_or(per.event, |s| s.event);
        let id = self.add(
            common,
            NormKind::Obligation,
            payer,
            Some(payee),
            ActionSpec {
                event: settle_event,
                key: None,
                condition: None,
            },
            Instancing::PerAccrual,
            NormRule::Accrual {
                amount,
                per,
                growing_until,
                schedule,
                settlements,
            },
            summary,
        );
        self.norms[id].form = form;
    }

    fn schedule(&mut self, s: &ast::Schedule, per: EventId) -> Option<Schedule> {
        let timing = self.timing(&s.timing);
        let alternative = match &s.alternative {
            None => Some(None),
            Some((cond, t)) => {
                let scope = Scope {
                    event: Some(per),
                    ..Scope::default()
                };
                let c = self.expr_of(cond, &scope, Type::Bool);
                let t = self.timing(t);
                match (c, t) {
                    (Some(c), Some(t)) => Some(Some((c, t))),
                    _ => None,
                }
            }
        };
        Some(Schedule {
            timing: timing?,
            alternative: alternative?,
        })
    }

    fn timing(&mut self, t: &ast::Timing) -> Option<Timing> {
        let grace = self.expr_of(&t.grace, &Scope::default(), Type::Duration)?;
        let anchor = match &t.anchor {
            ast::Anchor::Accrual => Anchor::Accrual,
            ast::Anchor::EachPeriod(p) => Anchor::EachPeriod(*p),
            ast::Anchor::ItsPeriod(p) => Anchor::ItsPeriod(*p),
            ast::Anchor::Event(e) => Anchor::Event(self.event(e)?),
        };
        Some(Timing { grace, anchor })
    }

    fn settlements(&mut self, settled_by: &[ast::SettledBy], span: Span) -> Option<Vec<Settlement>> {
        if settled_by.is_empty() {
            let Some(ev) = self.events.iter().position(|e| e.name == "payment") else {
                self.push(CheckError::MissingPart {
                    what: "nothing settles the amounts owed".to_string(),
                    span: span.into(),
                    help: "declare `payment (from: party, to: party, amount: money)` under `events`, or add `settled by EVENT` with such an event".to_string(),
                });
                return None;
            };
            self.used_events.insert(ev);
            return self.settlement_of(ev, None, None, span).map(|s| vec![s]);
        }
        let mut out = Vec::new();
        for sb in settled_by {
            let ev = self.event(&sb.event.event)?;
            let scope = Scope {
                event: Some(ev),
                ..Scope::default()
            };
            let condition = match &sb.event.condition {
                Some(c) => Some(self.expr_of(c, &scope, Type::Bool)?),
                None => None,
            };
            let applying = match &sb.applying {
                Some(a) => Some(self.expr_of(a, &scope, Type::Money)?),
                None => None,
            };
            out.push(self.settlement_of(ev, condition, applying, sb.event.event.span)?);
        }
        Some(out)
    }

    /// A settling event has an `amount: money`, and either both `from` and
    /// `to` (party fields) or neither, when the clause's parties are meant.
    fn settlement_of(
        &mut self,
        ev: EventId,
        condition: Option<CExpr>,
        applying: Option<CExpr>,
        at: Span,
    ) -> Option<Settlement> {
        let spec = &self.events[ev];
        let find = |name: &str, ok: &[Type]| spec.field(name).filter(|f| ok.contains(&spec.fields[*f].ty));
        let from = find("from", &[Type::Party, Type::Entity]);
        let to = find("to", &[Type::Party, Type::Entity]);
        let amount = find("amount", &[Type::Money]);
        let parties_ok = from.is_some() == to.is_some()
            && spec.field("from").is_some() == from.is_some()
            && spec.field("to").is_some() == to.is_some();
        match amount {
            Some(amount) if parties_ok => Some(Settlement {
                event: ev,
                condition,
                from,
                to,
                amount,
                applying,
            }),
            _ => {
                let decl = Some(spec.span.into());
                let event = spec.name.clone();
                self.push(CheckError::BadSettlement {
                    event: event.clone(),
                    span: at.into(),
                    decl,
                    help: format!("a settling event needs `amount: money`, and `from: party` with `to: party` unless the clause's parties are meant, e.g. `{event} (from: party, to: party, amount: money)`"),
                });
                None
            }
        }
    }
}

/// The field a share is taken of, when its amount reads `rate of field`.
fn share_base(amount: &CExpr) -> Option<FieldId> {
    match amount {
        CExpr::Binary(BinOp::Of | BinOp::Mul, a, b) => match (a.as_ref(), b.as_ref()) {
            (CExpr::Field(f), _) | (_, CExpr::Field(f)) => Some(*f),
            _ => None,
        },
        _ => None,
    }
}

/// The rate of a share, when its amount reads `rate of field`.
fn share_rate(amount: &CExpr) -> Option<TermOrRate> {
    match amount {
        CExpr::Binary(BinOp::Of | BinOp::Mul, a, b) => match (a.as_ref(), b.as_ref()) {
            (CExpr::Term(t), CExpr::Field(_)) | (CExpr::Field(_), CExpr::Term(t)) => {
                Some(TermOrRate::Term(*t))
            }
            (CExpr::Const(Value::Percent(p)), CExpr::Field(_))
            | (CExpr::Field(_), CExpr::Const(Value::Percent(p))) => Some(TermOrRate::Rate(*p)),
            _ => None,
        },
        _ => None,
    }
}

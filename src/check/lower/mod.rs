//! Lowering: every norm as written becomes one or more core norms. One
//! file a form, each defining its form by the core norms it stands for and
//! writing the words its breaches are told in:
//!
//! - [`core`]: obligations, permissions, prohibitions and powers as written;
//! - [`exclusive`]: exclusivity, excused by a consent to the very act;
//! - [`first_refusal`]: a right of first refusal;
//! - [`owes`]: amounts owed — shares, fees, penalties — and their schedules.
//!
//! Adding a form: its grammar and AST, its builder, one file here with a
//! method `Checker::…` returning nothing (problems are pushed), a case in
//! [`Checker::norm`], docs and tests.

mod core;
mod exclusive;
mod first_refusal;
mod owes;

use super::error::*;
use super::{Checker, Scope};
use crate::model::*;
use crate::ops::Span;
use crate::syntax::ast;
use crate::value::Type;

/// The parts shared by every norm a written norm lowers to.
pub(super) struct Common {
    clause: ClauseId,
    span: Span,
}

/// A core norm, ready to be added.
pub(super) struct Draft {
    kind: NormKind,
    bearer: PartyId,
    counterparty: Option<PartyId>,
    action: ActionSpec,
    instancing: Instancing,
    rule: NormRule,
    summary: String,
    words: Words,
    form: Form,
}

impl Draft {
    fn new(
        kind: NormKind,
        bearer: PartyId,
        action: ActionSpec,
        instancing: Instancing,
        rule: NormRule,
    ) -> Draft {
        Draft {
            kind,
            bearer,
            counterparty: None,
            action,
            instancing,
            rule,
            summary: String::new(),
            words: Words::default(),
            form: Form::Core,
        }
    }

    fn with_counterparty(mut self, c: Option<PartyId>) -> Draft {
        self.counterparty = c;
        self
    }

    fn with_summary(mut self, summary: String) -> Draft {
        self.summary = summary;
        self
    }

    fn with_words(mut self, words: Words) -> Draft {
        self.words = words;
        self
    }

    fn with_form(mut self, form: Form) -> Draft {
        self.form = form;
        self
    }
}

impl Checker {
    pub(super) fn norm(&mut self, clause: ClauseId, n: &ast::Norm) {
        let bearer = self.party(&n.bearer);
        let common = Common { clause, span: n.span };
        // An unknown bearer is reported; the rest of the norm is still
        // checked against a stand-in so that its other mistakes show too.
        // No program is built once an error was found, so the stand-in never runs.
        let stand_in = (!self.parties.is_empty()).then(PartyId::default);
        let Some(bearer) = bearer.or(stand_in) else {
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
            ast::NormBody::Prohibition { action, exception } => self.prohibition(
                &common,
                bearer,
                bearer_name,
                n.trigger.as_ref(),
                action,
                exception.as_ref(),
            ),
            ast::NormBody::Permission {
                action,
                activation,
                window,
            } => self.permission(
                &common,
                bearer,
                bearer_name,
                n.trigger.as_ref(),
                action,
                activation.as_ref(),
                window.as_ref(),
            ),
            ast::NormBody::Power { actions, window } => self.powers(
                &common,
                bearer,
                bearer_name,
                n.trigger.as_ref(),
                actions,
                window.as_ref(),
            ),
            ast::NormBody::Exclusive(x) => self.exclusive(&common, bearer, bearer_name, x),
            ast::NormBody::FirstRefusal(r) => self.first_refusal(&common, bearer, bearer_name, r),
            ast::NormBody::Owes(o) => self.owes(&common, bearer, bearer_name, n.trigger.as_ref(), o),
        }
    }

    fn add(&mut self, common: &Common, d: Draft) -> NormId {
        self.norms.push(NormSpec {
            clause: common.clause,
            kind: d.kind,
            bearer: d.bearer,
            counterparty: d.counterparty,
            action: d.action,
            instancing: d.instancing,
            rule: d.rule,
            summary: d.summary,
            words: d.words,
            form: d.form,
            span: common.span,
        })
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

    /// The scope in which a norm's expressions read the event that made the
    /// instance, by that event's name.
    fn bound_scope(&self, trigger: Option<EventId>) -> Scope {
        Scope {
            bound: trigger.map(|t| (t, vec![self.event_name(t)])),
            ..Scope::default()
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
                    self.push(NeedsTrigger {
                        what: format!("`with the same {}`", k.name),
                        purpose: "compare with",
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
                    ..self.bound_scope(trigger)
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
        let scope = self.bound_scope(trigger);
        let c = self.expr_of(e, &scope, Type::Duration)?;
        self.guard_period(&c);
        Some(c)
    }

    /// A period known before any event is checked not to run backwards.
    pub(super) fn guard_period(&mut self, c: &CExpr) {
        if over_terms_only(c) {
            self.guards.push(Guard::Period(c.clone()));
        }
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
            *key = self.event_spec(trigger.event).and_then(|e| e.field(&k.name));
        }
        Some((instancing, act))
    }
}

//! Exclusivity: `Microsoft is the exclusive cloud provider of OpenAI as
//! provider of cloud_contract unless preceded by consent with the same ref`.
//!
//! It lowers to a prohibition — the grantor must not do the act with anyone
//! but the holder — excused by a permission that each consent gives for the
//! one act it names.

use super::*;
use crate::ops::BinOp;
use crate::value::Value;

impl Checker {
    /// `unless preceded by consent with the same ref`: each consent is a
    /// permission for the one act it names, used up by that act.
    pub(super) fn consent_permission(
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
            self.party_name(bearer),
            self.event_name(act.event),
            x.event.name
        );
        let action = ActionSpec {
            event: act.event,
            key,
            condition: None,
        };
        let instancing = Instancing::PerEvent {
            trigger: Match {
                event: consent_ev,
                condition: None,
            },
            key: trigger_key,
        };
        let rule = NormRule::Permission {
            once: true,
            activation: None,
            window: None,
            only_if: None,
        };
        let words = Words {
            uncovered: Uncovered::NoPrior,
            occasion: x.event.name.clone(),
            ..Words::default()
        };
        let draft = Draft::new(NormKind::Permission, bearer, action, instancing, rule)
            .with_summary(summary)
            .with_words(words);
        Some(self.add(common, draft))
    }

    pub(super) fn exclusive(
        &mut self,
        common: &Common,
        holder: PartyId,
        holder_name: &str,
        x: &ast::Exclusive,
    ) {
        let grantor = self.party(&x.grantor);
        let ev = self.event(&x.event);
        let (Some(grantor), Some(ev)) = (grantor, ev) else {
            return;
        };
        let Some(role) = self.field(ev, &x.role_field) else {
            return;
        };
        let Some(role_ty) = self.field_type(ev, role) else {
            return;
        };
        if !matches!(role_ty, Type::Party | Type::Entity | Type::Text) {
            self.push(TypeMismatch {
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
        // `provider is not Microsoft`, written where the role is named.
        let at = x.role_field.span;
        let not_holder = ExprNode::Binary(
            BinOp::Ne,
            Box::new(ExprNode::Field(role).at(at)),
            Box::new(ExprNode::Const(Value::Entity(holder_name.into())).at(at)),
        )
        .at(at);
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
                let span = at.join(c.span);
                ExprNode::Binary(BinOp::And, Box::new(not_holder), Box::new(c)).at(span)
            }
        };
        let act = ActionSpec {
            event: ev,
            key: None,
            condition: Some(condition),
        };
        let mut excepted_by = Vec::new();
        let mut allowed = None;
        if let Some(exc) = &x.exception {
            match self.consent_permission(common, grantor, &act, exc) {
                Some(id) => {
                    excepted_by.push(id);
                    allowed = Some(format!("obtain a {} for this very act first", exc.event.name));
                }
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
        let words = Words {
            allowed,
            ..Words::default()
        };
        let draft = Draft::new(
            NormKind::Prohibition,
            grantor,
            act,
            Instancing::Single,
            NormRule::Prohibition { excepted_by },
        )
        .with_counterparty(Some(holder))
        .with_summary(summary)
        .with_words(words)
        .with_form(form);
        self.add(common, draft);
    }
}

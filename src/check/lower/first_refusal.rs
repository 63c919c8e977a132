//! A right of first refusal: `Microsoft has a right of first refusal over
//! cloud_contract by OpenAI`, offered by, accepted by, declined by, matched
//! on a key, open for a window, on terms no better than offered.
//!
//! It lowers to three core norms: per offer, the holder's power to accept
//! within the window; when that power lapses (declined or unanswered), the
//! grantor's permission for the one deal it passed on, on terms no better
//! for the third party; and the prohibition of any other such deal.

use super::*;
use crate::model::interpret::{eval, Ctx};

const EXAMPLE: &str = "a first refusal reads:\n  Microsoft has a right of first refusal over cloud_contract by OpenAI\n    where provider is not Microsoft\n    offered by cloud_offer\n    accepted by cloud_offer_accepted\n    declined by cloud_offer_declined\n    matched on ref\n    open for 30 days\n    only if price >= offer.price";

impl Checker {
    pub(super) fn first_refusal(
        &mut self,
        common: &Common,
        holder: PartyId,
        holder_name: &str,
        r: &ast::FirstRefusal,
    ) {
        for (what, first, again) in &r.repeated {
            self.push(RepeatedPart {
                what: format!("`{what}`"),
                span: (*again).into(),
                first: (*first).into(),
            });
        }
        let parts = [
            (r.offered_by.is_none(), "offered by"),
            (r.accepted_by.is_none(), "accepted by"),
            (r.matched_on.is_none(), "matched on"),
            (r.window.is_none(), "open for"),
        ];
        for (missing, part) in parts {
            if missing {
                self.push(IncompleteForm {
                    form: "first refusal",
                    part,
                    span: common.span.into(),
                    help: EXAMPLE.to_string(),
                });
            }
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
        let grantor_name = self.party_name(grantor);
        let offer_name = offered.name.clone();
        let answer_name = accepted.name.clone();
        let renounce_name = r
            .declined_by
            .as_ref()
            .map_or("a refusal".to_string(), |d| d.name.clone());
        let window_words = match eval(&window, &Ctx::constant(&self.terms)) {
            Ok(Some(v)) => format!(" or {v}"),
            _ => String::new(),
        };
        let terms_words = if only_if.is_some() {
            ", then deal on terms no better than offered"
        } else {
            ""
        };

        let power_rule = NormRule::Power {
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
        };
        let power_act = ActionSpec {
            event: accept_ev,
            key: Some(accept_key),
            condition: None,
        };
        let per_offer = Instancing::PerEvent {
            trigger: Match {
                event: offer_ev,
                condition: None,
            },
            key: Some(offer_key),
        };
        let power = Draft::new(NormKind::Power, holder, power_act, per_offer, power_rule)
            .with_counterparty(Some(grantor))
            .with_summary(format!(
                "{holder_name} may take up {grantor_name}'s {offer_name} first"
            ))
            .with_words(Words {
                occasion: offer_name.clone(),
                ..Words::default()
            });
        let power = self.add(common, power);

        // Passed on for one deal: signing it uses the permission up.
        let permission_rule = NormRule::Permission {
            once: true,
            activation: None,
            window: None,
            only_if,
        };
        let deal_act = ActionSpec {
            event: deal_ev,
            key: Some(deal_key),
            condition: None,
        };
        let permission = Draft::new(
            NormKind::Permission,
            grantor,
            deal_act,
            Instancing::OnLapse { norm: power },
            permission_rule,
        )
        .with_counterparty(Some(holder))
        .with_summary(format!(
            "{grantor_name} may {} with others once {holder_name} has passed",
            r.deal_event.name
        ))
        .with_words(Words {
            uncovered: Uncovered::PassedOn {
                holder: holder_name.to_string(),
                offer: offer_name.clone(),
                answer: answer_name,
                power,
            },
            occasion: offer_name.clone(),
            ..Words::default()
        });
        let permission = self.add(common, permission);

        let prohibited = ActionSpec {
            event: deal_ev,
            key: None,
            condition,
        };
        let prohibition = Draft::new(
            NormKind::Prohibition,
            grantor,
            prohibited,
            Instancing::Single,
            NormRule::Prohibition {
                excepted_by: vec![permission],
            },
        )
        .with_counterparty(Some(holder))
        .with_summary(format!(
            "{grantor_name} must not {} with others before offering it to {holder_name}",
            r.deal_event.name
        ))
        .with_words(Words {
            allowed: Some(format!(
                "make a {offer_name} to {holder_name} first and wait for {renounce_name}{window_words}{terms_words}"
            )),
            ..Words::default()
        });
        self.add(common, prohibition);
    }
}

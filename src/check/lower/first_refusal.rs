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

/// A first refusal with every name resolved and every part checked.
struct Resolved {
    grantor: PartyId,
    deal: EventId,
    deal_key: FieldId,
    offer: EventId,
    offer_key: FieldId,
    accept: EventId,
    accept_key: FieldId,
    decline: Option<(EventId, FieldId)>,
    window: CExpr,
    condition: Option<CExpr>,
    only_if: Option<CExpr>,
}

/// The names its norms are worded with.
struct Wording<'a> {
    holder: &'a str,
    grantor: String,
    offer: String,
    answer: String,
    deal: &'a str,
}

impl Checker {
    pub(super) fn first_refusal(
        &mut self,
        common: &Common,
        holder: PartyId,
        holder_name: &str,
        r: &ast::FirstRefusal,
    ) {
        self.first_refusal_parts(common, r);
        let Some(x) = self.resolve_first_refusal(r) else {
            return;
        };
        let names = Wording {
            holder: holder_name,
            grantor: self.party_name(x.grantor),
            offer: r.offered_by.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
            answer: r.accepted_by.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
            deal: &r.deal_event.name,
        };
        let renounce = r
            .declined_by
            .as_ref()
            .map_or("a refusal".to_string(), |d| d.name.clone());
        let window_words = match eval(&x.window, &Ctx::constant(&self.terms)) {
            Ok(Some(v)) => format!(" or {v}"),
            _ => String::new(),
        };
        let terms_words = if x.only_if.is_some() {
            ", then deal on terms no better than offered"
        } else {
            ""
        };
        let allowed = format!(
            "make a {} to {holder_name} first and wait for {renounce}{window_words}{terms_words}",
            names.offer
        );
        let power = self.refusal_power(common, holder, &x, &names);
        let permission = self.passed_on(common, holder, &x, &names, power);
        self.refusal_prohibition(common, holder, x, &names, permission, allowed);
    }

    /// Every part it must have, once.
    fn first_refusal_parts(&mut self, common: &Common, r: &ast::FirstRefusal) {
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
    }

    /// Its names resolved and its expressions checked; every problem found
    /// is reported before giving up.
    fn resolve_first_refusal(&mut self, r: &ast::FirstRefusal) -> Option<Resolved> {
        let grantor = self.party(&r.grantor);
        let deal = self.event(&r.deal_event);
        let (Some(grantor), Some(deal), Some(offered), Some(accepted), Some(key), Some(window)) = (
            grantor,
            deal,
            &r.offered_by,
            &r.accepted_by,
            &r.matched_on,
            &r.window,
        ) else {
            return None;
        };
        let offer = self.event(offered);
        let accept = self.event(accepted);
        let decline = match &r.declined_by {
            Some(d) => self.event(d).map(Some),
            None => Some(None),
        };
        let (Some(offer), Some(accept), Some(decline)) = (offer, accept, decline) else {
            return None;
        };
        let deal_key = self.field(deal, key);
        let offer_key = self.field(offer, key);
        let accept_key = self.field(accept, key);
        let decline = match decline {
            Some(d) => self.field(d, key).map(|k| Some((d, k))),
            None => Some(None),
        };
        let window = self.duration(window, Some(offer));
        let condition = match &r.condition {
            None => Some(None),
            Some(e) => {
                let scope = Scope {
                    event: Some(deal),
                    ..Scope::default()
                };
                self.expr_of(e, &scope, Type::Bool).map(Some)
            }
        };
        let only_if = match &r.only_if {
            None => Some(None),
            Some(e) => {
                let scope = Scope {
                    event: Some(deal),
                    bound: Some((offer, vec!["offer".to_string(), offered.name.clone()])),
                    ..Scope::default()
                };
                self.expr_of(e, &scope, Type::Bool).map(Some)
            }
        };
        Some(Resolved {
            grantor,
            deal,
            deal_key: deal_key?,
            offer,
            offer_key: offer_key?,
            accept,
            accept_key: accept_key?,
            decline: decline?,
            window: window?,
            condition: condition?,
            only_if: only_if?,
        })
    }

    /// Per offer, the holder's power to take it up within the window.
    fn refusal_power(
        &mut self,
        common: &Common,
        holder: PartyId,
        x: &Resolved,
        names: &Wording<'_>,
    ) -> NormId {
        let rule = NormRule::Power {
            window: Some(x.window.clone()),
            renounced_by: x
                .decline
                .map(|(event, key)| ActionSpec {
                    event,
                    key: Some(key),
                    condition: None,
                })
                .into_iter()
                .collect(),
            renounce_is_an_act: true,
        };
        let act = ActionSpec {
            event: x.accept,
            key: Some(x.accept_key),
            condition: None,
        };
        let per_offer = Instancing::PerEvent {
            trigger: Match {
                event: x.offer,
                condition: None,
            },
            key: Some(x.offer_key),
        };
        let draft = Draft::new(NormKind::Power, holder, act, per_offer, rule)
            .with_counterparty(Some(x.grantor))
            .with_summary(format!(
                "{} may take up {}'s {} first",
                names.holder, names.grantor, names.offer
            ))
            .with_words(Words {
                occasion: names.offer.clone(),
                ..Words::default()
            });
        self.add(common, draft)
    }

    /// When the power lapses, the grantor's permission for the one deal it
    /// passed on: signing it uses the permission up.
    fn passed_on(
        &mut self,
        common: &Common,
        holder: PartyId,
        x: &Resolved,
        names: &Wording<'_>,
        power: NormId,
    ) -> NormId {
        let rule = NormRule::Permission {
            once: true,
            activation: None,
            window: None,
            only_if: x.only_if.clone(),
        };
        let act = ActionSpec {
            event: x.deal,
            key: Some(x.deal_key),
            condition: None,
        };
        let draft = Draft::new(
            NormKind::Permission,
            x.grantor,
            act,
            Instancing::OnLapse { norm: power },
            rule,
        )
        .with_counterparty(Some(holder))
        .with_summary(format!(
            "{} may {} with others once {} has passed",
            names.grantor, names.deal, names.holder
        ))
        .with_words(Words {
            uncovered: Uncovered::PassedOn {
                holder: names.holder.to_string(),
                offer: names.offer.clone(),
                answer: names.answer.clone(),
                power,
            },
            occasion: names.offer.clone(),
            ..Words::default()
        });
        self.add(common, draft)
    }

    /// Any other such deal is prohibited.
    fn refusal_prohibition(
        &mut self,
        common: &Common,
        holder: PartyId,
        x: Resolved,
        names: &Wording<'_>,
        permission: NormId,
        allowed: String,
    ) {
        let act = ActionSpec {
            event: x.deal,
            key: None,
            condition: x.condition,
        };
        let draft = Draft::new(
            NormKind::Prohibition,
            x.grantor,
            act,
            Instancing::Single,
            NormRule::Prohibition {
                excepted_by: vec![permission],
            },
        )
        .with_counterparty(Some(holder))
        .with_summary(format!(
            "{} must not {} with others before offering it to {}",
            names.grantor, names.deal, names.holder
        ))
        .with_words(Words {
            allowed: Some(allowed),
            ..Words::default()
        });
        self.add(common, draft);
    }
}

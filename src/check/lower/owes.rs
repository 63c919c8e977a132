//! Amounts owed: `OpenAI owes Microsoft 25% of amount for each revenue due
//! 30 days after each quarter settled by payment` — shares, fees and
//! penalties alike.
//!
//! It lowers to one obligation whose instances are made by the ledger, one
//! per calendar period or accrual, each due on its schedule and settled,
//! oldest due first, by the events that pay.

use super::*;
use crate::ops::BinOp;
use crate::value::Value;

impl Checker {
    /// A share: each qualifying event accrues an amount owed by the bearer to
    /// the payee, due on a schedule and settled by payments.
    pub(super) fn owes(
        &mut self,
        common: &Common,
        payer: PartyId,
        payer_name: &str,
        trigger: Option<&ast::EventMatch>,
        o: &ast::Owes,
    ) {
        let span = common.span;
        let payee = self.party(&o.payee);
        let per = match (&o.per, trigger) {
            (Some(p), None) | (None, Some(p)) => self.event_match(p).map(Some),
            (Some(p), Some(t)) => {
                self.push(RepeatedPart {
                    what: "the event the amount is owed for".to_string(),
                    span: p.span.into(),
                    first: t.span.into(),
                });
                None
            }
            // Owed once, when the clause comes into force.
            (None, None) => Some(None),
        };
        let (Some(payee), Some(per)) = (payee, per) else {
            return;
        };
        if per.is_none() && o.growing_until.is_some() {
            self.push(OwedForNothing {
                span: span.into(),
                help: format!(
                    "a growing amount grows from the event it arises on: `{payer_name} owes {} … for each loan growing until repaid`, or start the norm with `after each loan,`",
                    o.payee.name
                ),
            });
            return;
        }
        let growing_until = match &o.growing_until {
            Some(g) => match self.event(g) {
                Some(ev) => Some(ev),
                None => return,
            },
            None => None,
        };
        let per_event = per.as_ref().map(|m| m.event);
        // `with the same K`: K of the event owed for, and of the one that
        // stops it growing.
        let per_key = match (&o.per_key, per_event) {
            (Some(k), Some(ev)) => match self.field(ev, k) {
                Some(f) => Some((k.name.clone(), KeyOf::Field(f))),
                None => return,
            },
            _ => None,
        };
        let growing_key = match (&o.growing_key, growing_until, per_event) {
            (Some(k), Some(stop), Some(ev)) => match (self.field(stop, k), self.field(ev, k)) {
                (Some(a), Some(b)) => Some((a, b)),
                _ => return,
            },
            _ => None,
        };
        let scope = Scope {
            event: per_event,
            growing: growing_until.is_some(),
            owes: true,
            key: per_key,
            ..Scope::default()
        };
        let amount = self.expr_of(&o.amount, &scope, Type::Money);
        let schedule = match &o.schedule {
            None => Some(None),
            Some(sch) => self.schedule(sch, per_event).map(Some),
        };
        let settlements = self.settlements(&o.settled_by, span);
        let (Some(amount), Some(schedule), Some(settlements)) = (amount, schedule, settlements) else {
            return;
        };
        let Some(per) = per else {
            self.owes_once(common, payer, payee, &o.payee.name, amount, schedule, settlements);
            return;
        };
        let form = Form::Share {
            per: per.event,
            base: share_base(&amount),
            rate: share_rate(&amount),
        };
        let per_name = self.event_name(per.event);
        let occasion = if self.is_tick(per.event) {
            self.occasion_words(per.event)
        } else {
            format!("on each {per_name}")
        };
        let summary = format!("{payer_name} must pay {} what accrues {occasion}", o.payee.name);
        let settle_event = settlements.first().map_or(per.event, |s| s.event);
        let action = ActionSpec {
            event: settle_event,
            key: None,
            condition: None,
        };
        let rule = NormRule::Accrual {
            amount,
            per,
            growing_until,
            growing_key,
            schedule,
            settlements,
        };
        let draft = Draft::new(NormKind::Obligation, payer, action, Instancing::PerAccrual, rule)
            .with_counterparty(Some(payee))
            .with_summary(summary)
            .with_form(form);
        self.add(common, draft);
    }

    /// An amount owed once, as the clause comes into force: `Buyer must pay
    /// Seller 100 USD by 2025-01-01`.
    #[allow(clippy::too_many_arguments, reason = "the parts of one written norm")]
    fn owes_once(
        &mut self,
        common: &Common,
        payer: PartyId,
        payee: PartyId,
        payee_name: &str,
        amount: CExpr,
        schedule: Option<Schedule>,
        settlements: Vec<Settlement>,
    ) {
        // Nothing triggers it, so no event is matched: the settling event
        // stands in the place of the one it would be owed for.
        let settle_event = settlements.first().map_or_else(EventId::default, |s| s.event);
        let summary = format!(
            "{} must pay {payee_name} {}",
            self.party_name(payer),
            amount_words(&amount)
        );
        let action = ActionSpec {
            event: settle_event,
            key: None,
            condition: None,
        };
        let rule = NormRule::Accrual {
            amount,
            per: Match {
                event: settle_event,
                condition: None,
            },
            growing_until: None,
            growing_key: None,
            schedule,
            settlements,
        };
        let draft = Draft::new(NormKind::Obligation, payer, action, Instancing::Once, rule)
            .with_counterparty(Some(payee))
            .with_summary(summary);
        self.add(common, draft);
    }

    fn schedule(&mut self, s: &ast::Schedule, per: Option<EventId>) -> Option<Schedule> {
        let timing = self.timing(&s.timing, per);
        let alternative = match &s.alternative {
            None => Some(None),
            Some((cond, t)) => {
                let scope = Scope {
                    event: per,
                    ..Scope::default()
                };
                let c = self.expr_of(cond, &scope, Type::Bool);
                let t = self.timing(t, per);
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

    fn timing(&mut self, t: &ast::Timing, per: Option<EventId>) -> Option<Timing> {
        if let ast::Anchor::Date = t.anchor {
            // `due by D`: a date, which may read the event owed for.
            let scope = Scope {
                event: per,
                ..Scope::default()
            };
            let date = self.expr_of(&t.grace, &scope, Type::Date)?;
            return Some(Timing {
                grace: date,
                anchor: Anchor::Date,
            });
        }
        let grace = self.expr_of(&t.grace, &Scope::default(), Type::Duration)?;
        self.guard_period(&grace);
        let anchor = match &t.anchor {
            ast::Anchor::Date => Anchor::Date,
            ast::Anchor::Accrual => Anchor::Accrual,
            ast::Anchor::EachPeriod(p) => Anchor::EachPeriod(*p),
            ast::Anchor::ItsPeriod(p) => Anchor::ItsPeriod(*p),
            ast::Anchor::Event(e) => Anchor::Event(self.event(e)?),
        };
        Some(Timing { grace, anchor })
    }

    fn settlements(&mut self, settled_by: &[ast::SettledBy], span: Span) -> Option<Vec<Settlement>> {
        if settled_by.is_empty() {
            let Some(ev) = self.names.events.get("payment").copied() else {
                // An agreement may leave payment out of its events: what is
                // owed accrues all the same and stays outstanding.
                self.push(NothingSettles { span: span.into() });
                return Some(Vec::new());
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
        let spec = self.event_spec(ev)?;
        let find = |name: &str, ok: &[Type]| {
            spec.field_spec(name)
                .filter(|(_, f)| ok.contains(&f.ty))
                .map(|(id, _)| id)
        };
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
                self.push(BadSettlement {
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

/// An amount in words for a summary: a constant as written, else "the amount".
fn amount_words(amount: &CExpr) -> String {
    match &amount.node {
        ExprNode::Const(v) => v.to_string(),
        _ => "the amount owed".to_string(),
    }
}

/// The field a share is taken of, when its amount reads `rate of field`.
fn share_base(amount: &CExpr) -> Option<FieldId> {
    match &amount.node {
        ExprNode::Binary(BinOp::Of | BinOp::Mul, a, b) => match (&a.node, &b.node) {
            (ExprNode::Field(f), _) | (_, ExprNode::Field(f)) => Some(*f),
            _ => None,
        },
        _ => None,
    }
}

/// The rate of a share, when its amount reads `rate of field`.
fn share_rate(amount: &CExpr) -> Option<TermOrRate> {
    match &amount.node {
        ExprNode::Binary(BinOp::Of | BinOp::Mul, a, b) => match (&a.node, &b.node) {
            (ExprNode::Term(t), ExprNode::Field(_)) | (ExprNode::Field(_), ExprNode::Term(t)) => {
                Some(TermOrRate::Term(*t))
            }
            (ExprNode::Const(Value::Percent(p)), ExprNode::Field(_))
            | (ExprNode::Field(_), ExprNode::Const(Value::Percent(p))) => Some(TermOrRate::Rate(*p)),
            _ => None,
        },
        _ => None,
    }
}

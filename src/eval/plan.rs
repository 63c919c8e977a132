//! What the engine derives from the program once, before any event, so
//! that no event pays for it: who reacts to what beyond the listeners, which
//! norms need the fields of the event that made an instance, and the values
//! that cannot change during a run.

use crate::model::*;
use crate::value::{Duration, Value};

use crate::model::interpret::{eval, Ctx};

#[derive(Debug)]
pub(crate) struct Plan {
    /// Norms instantiated when an instance of the keyed norm lapses.
    pub on_lapse: Table<NormId, Vec<NormId>>,
    /// Norms whose instances must keep the fields of the event that made
    /// them (read as `offer.price`, or handed on at a lapse).
    pub keeps_payload: Table<NormId, bool>,
    /// Accruals whose amount reads what is already owed.
    pub reads_outstanding: Table<NormId, bool>,
    /// Per event kind: the settlements it may be, in the order they are tried.
    pub settlers: Table<EventId, Vec<(NormId, usize)>>,
    /// Per norm: the grace of its schedule and of its alternative, when they
    /// are constants.
    pub graces: Table<NormId, [Option<Duration>; 2]>,
}

impl Plan {
    pub fn new(program: &Program) -> Plan {
        let n = program.norms.len();
        let mut on_lapse: Table<NormId, Vec<NormId>> = Table::filled(Vec::new(), n);
        for (id, norm) in program.norms.iter() {
            if let Instancing::OnLapse { norm: from } = norm.instancing {
                if let Some(list) = on_lapse.get_mut(from) {
                    list.push(id);
                }
            }
        }
        let reads = |norm: &NormSpec, pred: &dyn Fn(&CExpr) -> bool| {
            let mut found = false;
            visit_norm(norm, &mut |e| found |= pred(e));
            found
        };
        let mut keeps_payload: Table<NormId, bool> = program
            .norms
            .values()
            .map(|norm| {
                reads(norm, &|e| {
                    matches!(
                        e.node,
                        ExprNode::Bound(_) | ExprNode::BoundAt | ExprNode::Keyed(_, _, _, KeyOf::Bound(_))
                    )
                })
            })
            .collect();
        // `unless F with the same K first` pairs F by the key of the event
        // that made the instance.
        for (id, norm) in program.norms.iter() {
            if let NormRule::Permission {
                activation:
                    Some(ActivationSpec {
                        unless_key: Some(_), ..
                    }),
                ..
            } = &norm.rule
            {
                if let Some(k) = keeps_payload.get_mut(id) {
                    *k = true;
                }
            }
        }
        // A power hands its fields on to the norms made when it lapses.
        for (from, to) in on_lapse.iter() {
            if to.iter().any(|&t| keeps_payload.get(t).copied().unwrap_or(false)) {
                if let Some(k) = keeps_payload.get_mut(from) {
                    *k = true;
                }
            }
        }
        let reads_outstanding = program
            .norms
            .values()
            .map(|norm| match &norm.rule {
                NormRule::Accrual { amount, .. } => amount.any(&|e| matches!(e, ExprNode::Outstanding)),
                _ => false,
            })
            .collect();
        let mut settlers: Table<EventId, Vec<(NormId, usize)>> =
            Table::filled(Vec::new(), program.events.len());
        for (id, norm) in program.norms.iter() {
            if let NormRule::Accrual { settlements, .. } = &norm.rule {
                for (i, s) in settlements.iter().enumerate() {
                    if let Some(list) = settlers.get_mut(s.event) {
                        list.push((id, i));
                    }
                }
            }
        }
        let constant = |e: &CExpr| -> Option<Duration> {
            let fixed = !e.any(&|x| {
                !matches!(
                    x,
                    ExprNode::Const(_)
                        | ExprNode::Term(_)
                        | ExprNode::Unary(..)
                        | ExprNode::Binary(..)
                        | ExprNode::Call(..)
                        | ExprNode::If(..)
                )
            });
            match eval(e, &Ctx::constant(&program.terms)) {
                Ok(Some(Value::Duration(d))) if fixed => Some(d),
                _ => None,
            }
        };
        let graces = program
            .norms
            .values()
            .map(|norm| match &norm.rule {
                NormRule::Accrual {
                    schedule: Some(s), ..
                } => [
                    constant(&s.timing.grace),
                    s.alternative.as_ref().and_then(|(_, t)| constant(&t.grace)),
                ],
                _ => [None, None],
            })
            .collect();
        Plan {
            on_lapse,
            keeps_payload,
            reads_outstanding,
            settlers,
            graces,
        }
    }
}

//! Analyses of a whole contract once every name and type is right: norms
//! that contradict each other, shares that over-commit one amount, deadlines
//! and clauses that cannot come to anything, declarations nothing uses.

use std::collections::{BTreeMap, HashMap, HashSet};

use miette::LabeledSpan;
use rust_decimal::Decimal;

use super::error::*;
use crate::model::*;
use crate::time::Instant;
use crate::value::{exact, Value};
use num_rational::BigRational;

/// A period known from dates alone: `None` ends are unbounded.
type Period = (Option<Instant>, Option<Instant>);

fn bound(b: &Bound) -> Option<Option<Instant>> {
    match b {
        Bound::Unbounded => Some(None),
        Bound::At(t) => Some(Some(*t)),
        Bound::On(_) => None,
    }
}

/// When a clause can be in force, if dates alone decide it.
fn period(p: &Program, c: ClauseId) -> Option<Period> {
    let clause = &p.clauses.get(c)?.lifetime;
    let start = match (bound(&p.term.start)?, bound(&clause.start)?) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let end = match (bound(&p.term.end)?, bound(&clause.end)?) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Some((start, end))
}

fn empty((start, end): Period) -> bool {
    matches!((start, end), (Some(s), Some(e)) if e <= s)
}

/// Whether two clauses may be in force at once: when dates do not decide,
/// they may.
fn may_overlap(p: &Program, a: ClauseId, b: ClauseId) -> bool {
    match (period(p, a), period(p, b)) {
        (Some((s1, e1)), Some((s2, e2))) => {
            let start = match (s1, s2) {
                (Some(x), Some(y)) => Some(x.max(y)),
                (x, y) => x.or(y),
            };
            let end = match (e1, e2) {
                (Some(x), Some(y)) => Some(x.min(y)),
                (x, y) => x.or(y),
            };
            !empty((start, end))
        }
        _ => true,
    }
}

/// Whether two clauses are certainly in force at once, by their dates.
fn surely_overlap(p: &Program, a: ClauseId, b: ClauseId) -> bool {
    period(p, a).is_some() && period(p, b).is_some() && may_overlap(p, a, b)
}

pub fn analyse(p: &Program) -> Vec<CheckError> {
    let mut out = Vec::new();
    exclusivities(p, &mut out);
    conflicts(p, &mut out);
    shares(p, &mut out);
    deadlines(p, &mut out);
    never_active(p, &mut out);
    guards(p, &mut out);
    out
}

/// Divisors and periods known before any event: zero and backwards are
/// refused here, not on every event that would meet them.
fn guards(p: &Program, out: &mut Vec<CheckError>) {
    use crate::model::interpret::{eval, Ctx};
    let ctx = Ctx::constant(&p.terms);
    for guard in &p.guards {
        let (Guard::Divisor(c) | Guard::Period(c)) = guard;
        let Ok(Some(value)) = eval(c, &ctx) else {
            // Open, or wrong in a way reported where it is worked out.
            continue;
        };
        let literal = !c.any(&|n| matches!(n, ExprNode::Term(_)));
        let shown = |what: &str| {
            if literal {
                what.to_string()
            } else {
                format!("{what}, as the terms are")
            }
        };
        match guard {
            Guard::Divisor(_) if value.is_zero() => out.push(
                DivisionByZero {
                    span: c.span.into(),
                    shown: shown("zero"),
                }
                .into(),
            ),
            Guard::Period(_) if matches!(&value, Value::Duration(d) if d.may_be_negative()) => out.push(
                NegativePeriod {
                    value: value.to_string(),
                    span: c.span.into(),
                    shown: shown("a negative duration"),
                }
                .into(),
            ),
            _ => {}
        }
    }
}

fn exclusivities(p: &Program, out: &mut Vec<CheckError>) {
    // Exclusivities that could conflict share a subject and a grantor:
    // only those are compared with each other.
    let mut groups: BTreeMap<(&str, PartyId), Vec<(NormId, PartyId)>> = BTreeMap::new();
    for (id, n) in p.norms.iter() {
        if let Form::Exclusive { subject, holder } = &n.form {
            groups
                .entry((subject.as_str(), n.bearer))
                .or_default()
                .push((id, *holder));
        }
    }
    for ((subject, grantor), list) in groups {
        for (i, (a, holder_a)) in list.iter().enumerate() {
            for (b, holder_b) in list.iter().skip(i + 1) {
                let (Some(na), Some(nb)) = (p.norms.get(*a), p.norms.get(*b)) else {
                    continue;
                };
                if holder_a != holder_b && surely_overlap(p, na.clause, nb.clause) {
                    out.push(
                        ExclusivityConflict {
                            subject: subject.to_string(),
                            grantor: p.party_name(grantor).to_string(),
                            first_holder: p.party_name(*holder_a).to_string(),
                            second_holder: p.party_name(*holder_b).to_string(),
                            span: nb.span.into(),
                            other: na.span.into(),
                        }
                        .into(),
                    );
                }
            }
        }
    }
}

fn conflicts(p: &Program, out: &mut Vec<CheckError>) {
    // An obligation and a prohibition conflict only on one party's one act.
    let mut obligations: HashMap<(PartyId, EventId), Vec<&NormSpec>> = HashMap::new();
    for n in p.norms.values() {
        if matches!(n.rule, NormRule::Obligation { .. }) {
            obligations.entry((n.bearer, n.action.event)).or_default().push(n);
        }
    }
    for pr in p.norms.values().filter(|n| n.kind == NormKind::Prohibition) {
        let Some(obs) = obligations.get(&(pr.bearer, pr.action.event)) else {
            continue;
        };
        for ob in obs {
            if may_overlap(p, ob.clause, pr.clause) {
                out.push(
                    ConflictingNorms {
                        party: p.party_name(ob.bearer).to_string(),
                        act: p.event_name(ob.action.event).to_string(),
                        span: pr.span.into(),
                        other: ob.span.into(),
                    }
                    .into(),
                );
            }
        }
    }
}

fn shares(p: &Program, out: &mut Vec<CheckError>) {
    let mut groups: BTreeMap<(EventId, FieldId), Vec<(NormId, BigRational)>> = BTreeMap::new();
    for (id, n) in p.norms.iter() {
        let (
            Form::Share {
                per,
                base: Some(base),
                rate: Some(rate),
            },
            NormRule::Accrual { per: m, .. },
        ) = (&n.form, &n.rule)
        else {
            continue;
        };
        // A condition may keep shares apart (tiers, territories): only
        // unconditional shares are added up.
        if m.condition.is_some() {
            continue;
        }
        // Added up exactly: a third and two thirds make a whole.
        let r = match rate {
            TermOrRate::Rate(r) => Some(exact::ratio(*r)),
            TermOrRate::Term(t) => match p.terms.get(*t).and_then(|t| t.value.as_ref()) {
                Some(Value::Percent(r)) => Some(exact::ratio(*r)),
                Some(Value::Exact(e)) if e.kind == exact::Kind::Percent => Some(e.value.clone()),
                _ => None,
            },
        };
        if let Some(r) = r {
            groups.entry((*per, *base)).or_default().push((id, r));
        }
    }
    for ((per, base), list) in groups {
        let total: BigRational = list.iter().map(|(_, r)| r).sum();
        if total > exact::ratio(Decimal::ONE_HUNDRED) {
            let shown = |r: &BigRational| match exact::decimal(r) {
                Some(d) => d.normalize().to_string(),
                None => format!("{}/{}", r.numer(), r.denom()),
            };
            let shares = list
                .iter()
                .filter_map(|(id, r)| {
                    let n = p.norms.get(*id)?;
                    let payee = n.counterparty.map_or("", |c| p.party_name(c));
                    Some(LabeledSpan::new_with_span(
                        Some(format!("{}% to {payee}", shown(r))),
                        n.span,
                    ))
                })
                .collect();
            let field = p
                .events
                .get(per)
                .and_then(|e| e.fields.get(base))
                .map_or("", |f| f.name.as_str());
            out.push(
                OverShared {
                    base: format!("{}.{field}", p.event_name(per)),
                    total: shown(&total),
                    shares,
                }
                .into(),
            );
        }
    }
}

fn deadlines(p: &Program, out: &mut Vec<CheckError>) {
    for n in p.norms.values() {
        let NormRule::Obligation { due } = &n.rule else {
            continue;
        };
        match due {
            Some(DueRule::By(CExpr {
                node: ExprNode::Const(Value::Date(m)),
                ..
            })) => {
                let late_from = if m.date_only {
                    Instant::end_of(m.instant.date())
                } else {
                    Some(m.instant)
                };
                let start = period(p, n.clause).and_then(|(s, _)| s);
                if let (Some(late), Some(start)) = (late_from, start) {
                    if late <= start {
                        out.push(CheckError::from(ImpossibleDeadline {
                            span: n.span.into(),
                            why: format!("due by {m}, before the clause is in force on {}", start.date()),
                            help: "move the date after the start of the clause's term, or count it from an event with `within … after`".to_string(),
                        }));
                    }
                }
            }
            Some(DueRule::After(CExpr {
                node: ExprNode::Const(Value::Duration(d)),
                ..
            })) if d.months < 0 || d.days < 0 || d.seconds < 0 => {
                out.push(CheckError::from(ImpossibleDeadline {
                    span: n.span.into(),
                    why: format!("a window of {d} ends before it begins"),
                    help: "give a window of zero or more, e.g. `within 30 days`".to_string(),
                }));
            }
            _ => {}
        }
    }
}

fn never_active(p: &Program, out: &mut Vec<CheckError>) {
    let term = match (bound(&p.term.start), bound(&p.term.end)) {
        (Some(Some(s)), Some(Some(e))) => format!(
            "from {} until {}",
            s.date(),
            e.date().yesterday().map(|d| d.to_string()).unwrap_or_default()
        ),
        _ => "as the deal's `in force` says".to_string(),
    };
    for (id, c) in p.clauses.iter() {
        let Some(per) = period(p, id) else { continue };
        if empty(per) {
            out.push(
                NeverActive {
                    name: c.name.clone(),
                    term: term.clone(),
                    span: c.span.into(),
                    why: "its term lies outside the deal's".to_string(),
                }
                .into(),
            );
        }
    }
}

pub fn unused(p: &Program, terms: &HashSet<TermId>, events: &HashSet<EventId>) -> Vec<CheckError> {
    let mut out = Vec::new();
    for (id, t) in p.terms.iter() {
        if !terms.contains(&id) {
            out.push(CheckError::from(Unused {
                what: "term",
                name: t.name.clone(),
                span: t.span.into(),
                help: "use it in a clause, or remove it".to_string(),
            }));
        }
    }
    for (id, e) in p.events.iter() {
        if !events.contains(&id) && !e.derived {
            out.push(CheckError::from(Unused {
                what: "event",
                name: e.name.clone(),
                span: e.span.into(),
                help: "no clause reacts to it: events of this kind will be accepted and change nothing; use it in a clause, or remove it".to_string(),
            }));
        }
    }
    out
}

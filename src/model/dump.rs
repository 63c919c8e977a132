//! The lowered program in words a reviewer reads: every clause's core
//! norms, with names for ids and expressions written out, fully bracketed.
//! Snapshots of it show in review what a change to lowering changes.

use std::fmt::Write as _;

use super::*;
use crate::ops::UnOp;

/// The names an expression's fields are read against: the event being
/// matched, and the one that made the instance.
#[derive(Clone, Copy, Default)]
struct Scope {
    event: Option<EventId>,
    bound: Option<EventId>,
}

/// The dump with every row of every table written out: all a run depends
/// on, and nothing of how the contract was laid out (no spans), so that it
/// can stand for the program when a saved state is matched to it.
pub fn whole(p: &Program) -> String {
    let mut out = dump(p);
    let s = Scope::default();
    let show = |e: &Option<CExpr>| e.as_ref().map_or_else(|| "-".to_string(), |e| expr(p, s, e));
    for t in p.terms.values() {
        let Some(table) = &t.table else { continue };
        for r in &table.rows {
            let _ = writeln!(
                out,
                "row {}: above {} from {} up to {} below {} otherwise {} = {}",
                t.name,
                show(&r.above),
                show(&r.from),
                show(&r.up_to),
                show(&r.below),
                r.otherwise,
                expr(p, s, &r.value)
            );
        }
    }
    out
}

/// The program, one line a fact.
pub fn dump(p: &Program) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "deal {:?}", p.title);
    let parties: Vec<&str> = p.parties.values().map(|x| x.name.as_str()).collect();
    let _ = writeln!(out, "parties {}", parties.join(", "));
    let _ = writeln!(out, "term {}", lifetime(p, &p.term));
    for t in p.terms.values() {
        let value = match (&t.value, &t.table) {
            (Some(v), _) => v.to_string(),
            (None, Some(table)) => format!(
                "{}table of {} rows",
                if table.tiered { "tiered " } else { "" },
                table.rows.len()
            ),
            (None, None) => "open".to_string(),
        };
        let _ = writeln!(out, "term {}: {} = {value}", t.name, t.ty);
    }
    for e in p.events.values() {
        let fields: Vec<String> = e
            .fields
            .values()
            .map(|f| {
                format!(
                    "{}: {}{}",
                    f.name,
                    if f.optional { "optional " } else { "" },
                    f.ty
                )
            })
            .collect();
        let derived = if e.derived { " (derived)" } else { "" };
        let _ = writeln!(out, "event {}({}){derived}", e.name, fields.join(", "));
    }
    for (id, t) in p.trackers.iter() {
        let what = match t.field {
            Some(f) => format!("sum of {}.{}", p.event_name(t.event), field(p, Some(t.event), f)),
            None => format!("count of {}", p.event_name(t.event)),
        };
        let mut line = format!("tracker {}: {what}", id.index());
        if let Some(c) = &t.condition {
            let _ = write!(
                line,
                " where {}",
                expr(
                    p,
                    Scope {
                        event: Some(t.event),
                        bound: None
                    },
                    c
                )
            );
        }
        if let Some(s) = t.since {
            let _ = write!(line, " since {}", p.event_name(s));
        }
        if let Some(w) = t.window {
            let _ = write!(line, " within {w}");
        }
        let _ = writeln!(out, "{line}");
    }
    for (cid, c) in p.clauses.iter() {
        let _ = writeln!(out, "\nclause {} ({})", c.name, lifetime(p, &c.lifetime));
        for (word, list) in [
            ("suspended on", &c.suspended_on),
            ("resumed on", &c.resumed_on),
            ("ended on", &c.ended_on),
        ] {
            for m in list {
                let _ = writeln!(out, "  {word} {}", matching(p, m));
            }
        }
        if let Some(b) = p.breach_events.get(cid) {
            let _ = writeln!(out, "  its breach is event {}", p.event_name(*b));
        }
        for &n in &c.norms {
            if let Some(spec) = p.norms.get(n) {
                norm(p, n, spec, &mut out);
            }
        }
    }
    out
}

fn norm(p: &Program, n: NormId, spec: &NormSpec, out: &mut String) {
    let _ = writeln!(
        out,
        "  norm {}: {} of {}",
        n.index(),
        spec.kind.name(),
        p.party_name(spec.bearer)
    );
    if let Some(c) = spec.counterparty {
        let _ = writeln!(out, "    towards {}", p.party_name(c));
    }
    let trigger = trigger_of(p, spec);
    let instancing = match &spec.instancing {
        Instancing::Single => "one instance".to_string(),
        Instancing::PerEvent { trigger, key } => {
            let key = key
                .map(|k| format!(", keyed by {}", field(p, Some(trigger.event), k)))
                .unwrap_or_default();
            format!("an instance per {}{key}", matching(p, trigger))
        }
        Instancing::OnLapse { norm } => format!(
            "an instance each time an instance of norm {} lapses",
            norm.index()
        ),
        Instancing::PerAccrual => "an instance per amount owed".to_string(),
        Instancing::Once => "one amount owed, when its clause comes into force".to_string(),
    };
    let _ = writeln!(out, "    {instancing}");
    let act = Scope {
        event: Some(spec.action.event),
        bound: trigger,
    };
    let mut action = format!("act {}", p.event_name(spec.action.event));
    if let Some(k) = spec.action.key {
        let _ = write!(action, " with the same {}", field(p, Some(spec.action.event), k));
    }
    if let Some(c) = &spec.action.condition {
        let _ = write!(action, " where {}", expr(p, act, c));
    }
    let _ = writeln!(out, "    {action}");
    rule(p, spec, act, trigger, out);
    let _ = writeln!(out, "    says {:?}", spec.summary);
    if let Some(a) = &spec.words.allowed {
        let _ = writeln!(out, "    allowed instead {a:?}");
    }
    match &spec.words.uncovered {
        Uncovered::Plain => {}
        Uncovered::NoPrior => {
            let _ = writeln!(out, "    uncovered when no prior {}", spec.words.occasion);
        }
        Uncovered::PassedOn {
            holder,
            offer,
            answer,
            power,
        } => {
            let _ = writeln!(
                out,
                "    uncovered as passed on by {holder}: {offer} answered by {answer}, power norm {}",
                power.index()
            );
        }
    }
    if !spec.words.occasion.is_empty() {
        let _ = writeln!(out, "    occasion {}", spec.words.occasion);
    }
    match &spec.form {
        Form::Core => {}
        Form::Exclusive { subject, holder } => {
            let _ = writeln!(out, "    form exclusive {subject}: {}", p.party_name(*holder));
        }
        Form::Share { per, base, rate } => {
            let rate = match rate {
                Some(TermOrRate::Rate(r)) => format!(" {r}%"),
                Some(TermOrRate::Term(t)) => format!(" {}", term(p, *t)),
                None => String::new(),
            };
            let base = base
                .map(|b| format!(" of {}", field(p, Some(*per), b)))
                .unwrap_or_default();
            let _ = writeln!(out, "    form share{rate}{base} per {}", p.event_name(*per));
        }
    }
}

/// The event that makes an instance, whose fields it may read: for one made
/// when another norm's instance lapses, that norm's.
fn trigger_of(p: &Program, spec: &NormSpec) -> Option<EventId> {
    match &spec.instancing {
        Instancing::PerEvent { trigger, .. } => Some(trigger.event),
        Instancing::OnLapse { norm } => match p.norms.get(*norm).map(|n| &n.instancing) {
            Some(Instancing::PerEvent { trigger, .. }) => Some(trigger.event),
            _ => None,
        },
        _ => None,
    }
}

fn rule(p: &Program, spec: &NormSpec, act: Scope, trigger: Option<EventId>, out: &mut String) {
    let made = Scope {
        event: trigger,
        bound: trigger,
    };
    match &spec.rule {
        NormRule::Obligation { due } => match due {
            Some(DueRule::After(d)) => {
                let _ = writeln!(out, "    due {} after it arises", expr(p, made, d));
            }
            Some(DueRule::By(d)) => {
                let _ = writeln!(out, "    due by {}", expr(p, made, d));
            }
            None => {}
        },
        NormRule::Permission {
            once,
            activation,
            window,
            only_if,
        } => {
            if *once {
                let _ = writeln!(out, "    used up by the act it permits");
            }
            if let Some(a) = activation {
                let unless = a
                    .unless
                    .map(|u| {
                        let same = a
                            .unless_key
                            .map(|(k, _)| format!(" with the same {}", field(p, Some(u), k)))
                            .unwrap_or_default();
                        format!(", unless {}{same} first", p.event_name(u))
                    })
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "    in force {} after it arises{unless}",
                    expr(p, made, &a.delay)
                );
            }
            if let Some(w) = window {
                let _ = writeln!(out, "    open for {}", expr(p, made, w));
            }
            if let Some(c) = only_if {
                let _ = writeln!(out, "    only if {}", expr(p, act, c));
            }
        }
        NormRule::Prohibition { excepted_by } => {
            for e in excepted_by {
                let _ = writeln!(out, "    excepted while norm {} permits", e.index());
            }
        }
        NormRule::Power {
            window,
            renounced_by,
            renounce_is_an_act,
        } => {
            if let Some(w) = window {
                let _ = writeln!(out, "    open for {}", expr(p, made, w));
            }
            for r in renounced_by {
                let own = if *renounce_is_an_act {
                    " (an act of its own)"
                } else {
                    ""
                };
                let _ = writeln!(out, "    renounced by {}{own}", p.event_name(r.event));
            }
        }
        NormRule::Accrual {
            amount,
            per,
            growing_until,
            growing_key,
            schedule,
            settlements,
        } => {
            let owed = Scope {
                event: Some(per.event),
                bound: Some(per.event),
            };
            if matches!(spec.instancing, Instancing::Once) {
                let _ = writeln!(out, "    owes {} once", expr(p, owed, amount));
            } else {
                let _ = writeln!(
                    out,
                    "    owes {} for each {}",
                    expr(p, owed, amount),
                    matching(p, per)
                );
            }
            if let Some(g) = growing_until {
                let same = growing_key
                    .map(|(k, _)| format!(" with the same {}", field(p, Some(*g), k)))
                    .unwrap_or_default();
                let _ = writeln!(out, "    growing until {}{same}", p.event_name(*g));
            }
            if let Some(s) = schedule {
                let _ = writeln!(out, "    due {}", timing(p, owed, &s.timing));
                if let Some((c, t)) = &s.alternative {
                    let _ = writeln!(
                        out,
                        "    or, when {}, due {}",
                        expr(p, owed, c),
                        timing(p, owed, t)
                    );
                }
            }
            for s in settlements {
                let payer = Scope {
                    event: Some(s.event),
                    bound: None,
                };
                let mut line = format!(
                    "    settled by {} amount {}",
                    p.event_name(s.event),
                    field(p, Some(s.event), s.amount)
                );
                if let (Some(f), Some(t)) = (s.from, s.to) {
                    let _ = write!(
                        line,
                        " from {} to {}",
                        field(p, Some(s.event), f),
                        field(p, Some(s.event), t)
                    );
                }
                if let Some(c) = &s.condition {
                    let _ = write!(line, " where {}", expr(p, payer, c));
                }
                if let Some(a) = &s.applying {
                    let _ = write!(line, " applying {}", expr(p, payer, a));
                }
                let _ = writeln!(out, "{line}");
            }
        }
    }
}

fn timing(p: &Program, scope: Scope, t: &Timing) -> String {
    if t.anchor == Anchor::Date {
        return format!("by {}", expr(p, scope, &t.grace));
    }
    let anchor = match t.anchor {
        Anchor::Date => String::new(),
        Anchor::Accrual => "it arises".to_string(),
        Anchor::EachPeriod(period) => format!("each {}", period_word(period)),
        Anchor::ItsPeriod(period) => format!("its {}", period_word(period)),
        Anchor::Event(e) => format!("each {}", p.event_name(e)),
    };
    format!("{} after {anchor}", expr(p, scope, &t.grace))
}

fn period_word(period: crate::ops::Period) -> &'static str {
    match period {
        crate::ops::Period::Month => "month",
        crate::ops::Period::Quarter => "quarter",
        crate::ops::Period::Year => "year",
    }
}

fn lifetime(p: &Program, l: &Lifetime) -> String {
    let bound = |b: &Bound| match b {
        Bound::Unbounded => None,
        Bound::At(t) => Some(t.to_string()),
        Bound::On(m) => Some(matching(p, m)),
    };
    match (bound(&l.start), bound(&l.end)) {
        (None, None) => "always".to_string(),
        (Some(s), None) => format!("from {s}"),
        (None, Some(e)) => format!("until {e}"),
        (Some(s), Some(e)) => format!("from {s} until {e}"),
    }
}

fn matching(p: &Program, m: &Match) -> String {
    match &m.condition {
        None => p.event_name(m.event).to_string(),
        Some(c) => format!(
            "{} where {}",
            p.event_name(m.event),
            expr(
                p,
                Scope {
                    event: Some(m.event),
                    bound: None
                },
                c
            )
        ),
    }
}

fn field(p: &Program, event: Option<EventId>, f: FieldId) -> &str {
    event
        .and_then(|e| p.events.get(e))
        .and_then(|e| e.fields.get(f))
        .map_or("?", |f| f.name.as_str())
}

fn term(p: &Program, t: TermId) -> &str {
    p.terms.get(t).map_or("?", |t| t.name.as_str())
}

/// An expression, every operation in brackets, so that how it was parsed
/// is plain.
fn expr(p: &Program, s: Scope, e: &CExpr) -> String {
    match &e.node {
        ExprNode::Const(v) => v.to_string(),
        ExprNode::Field(f) => field(p, s.event, *f).to_string(),
        ExprNode::Bound(f) => match s.bound {
            Some(b) => format!("{}.{}", p.event_name(b), field(p, Some(b), *f)),
            None => "?".to_string(),
        },
        ExprNode::Term(t) => term(p, *t).to_string(),
        ExprNode::Unary(UnOp::Neg, x) => format!("(-{})", expr(p, s, x)),
        ExprNode::Unary(UnOp::Not, x) => format!("(not {})", expr(p, s, x)),
        ExprNode::Binary(op, a, b) => format!("({} {} {})", expr(p, s, a), op.symbol(), expr(p, s, b)),
        ExprNode::Call(f, args) => {
            let name = Func::ALL.iter().find(|(_, g)| g == f).map_or("?", |(n, _)| *n);
            let args: Vec<String> = args.iter().map(|a| expr(p, s, a)).collect();
            format!("{name}({})", args.join(", "))
        }
        ExprNode::If(c, a, b) => format!(
            "(if {} then {} else {})",
            expr(p, s, c),
            expr(p, s, a),
            expr(p, s, b)
        ),
        ExprNode::Table(t, x) => format!("{}({})", term(p, *t), expr(p, s, x)),
        ExprNode::Round(x, step, mode) => {
            let mode = RoundMode::ALL
                .iter()
                .find(|(_, m)| m == mode)
                .map_or("?", |(n, _)| *n);
            format!("round({}, {}, {mode})", expr(p, s, x), expr(p, s, step))
        }
        ExprNode::Latest(ev, None) => format!("latest {}.at", p.event_name(*ev)),
        ExprNode::Keyed(ev, f, by, _) => format!(
            "latest {}.{} with the same {}",
            p.event_name(*ev),
            f.map_or_else(|| "at".to_string(), |f| field(p, Some(*ev), f).to_string()),
            field(p, Some(*ev), *by)
        ),
        ExprNode::Latest(ev, Some(f)) => format!("latest {}.{}", p.event_name(*ev), field(p, Some(*ev), *f)),
        ExprNode::At => "at".to_string(),
        ExprNode::BoundAt => match s.bound {
            Some(b) => format!("{}.at", p.event_name(b)),
            None => "?.at".to_string(),
        },
        ExprNode::Now => "now".to_string(),
        ExprNode::Elapsed => "elapsed".to_string(),
        ExprNode::Outstanding => "outstanding".to_string(),
        ExprNode::Tracker(t) => format!("tracker {}", t.index()),
    }
}

//! Checked expressions: names resolved to indices, types known. The
//! interpreter in [`super::interpret`] evaluates them.

use super::*;
use crate::ops::{BinOp, Spanned, UnOp};

/// A checked expression, with where it is written in the contract, so that
/// an error evaluating it can point there.
pub type CExpr = Spanned<ExprNode>;

/// A checked expression's node: names resolved, types known.
#[derive(Debug, Clone, PartialEq)]
pub enum ExprNode {
    Const(Value),
    /// A field of the event being matched.
    Field(FieldId),
    /// A field of the event that created the norm instance.
    Bound(FieldId),
    Term(TermId),
    Unary(UnOp, Box<CExpr>),
    Binary(BinOp, Box<CExpr>, Box<CExpr>),
    Call(Func, Vec<CExpr>),
    If(Box<CExpr>, Box<CExpr>, Box<CExpr>),
    /// A table term applied to a value.
    Table(TermId, Box<CExpr>),
    Round(Box<CExpr>, Box<CExpr>, RoundMode),
    /// A field of the latest event of a kind; its time when `None`.
    Latest(EventId, Option<FieldId>),
    /// `with the same K`: a field of the latest event of a kind whose field
    /// `by` holds the key read by `key`; its time when the field is `None`.
    Keyed(EventId, Option<FieldId>, FieldId, KeyOf),
    /// The time of the event being matched.
    At,
    /// The time of the event that created the norm instance.
    BoundAt,
    /// The moment of evaluation.
    Now,
    /// Time run so far by a growing amount.
    Elapsed,
    /// What the bearer still owes the counterparty.
    Outstanding,
    Tracker(TrackerId),
}

/// Where a correlation key is read: the event being matched, or the one
/// that created the norm instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOf {
    Field(FieldId),
    Bound(FieldId),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Min,
    Max,
    /// The whole part, rounded down.
    Floor,
    /// Whole days in a duration.
    Days,
    /// The currency of an amount, as text.
    Currency,
    /// The first value, or the second where the first is undetermined.
    Default,
}

impl Func {
    pub const ALL: [(&'static str, Func); 6] = [
        ("min", Func::Min),
        ("max", Func::Max),
        ("floor", Func::Floor),
        ("days", Func::Days),
        ("currency", Func::Currency),
        ("default", Func::Default),
    ];
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoundMode {
    HalfUp,
    HalfEven,
    HalfDown,
    Up,
    Down,
}

impl RoundMode {
    pub const ALL: [(&'static str, RoundMode); 5] = [
        ("half_up", RoundMode::HalfUp),
        ("half_even", RoundMode::HalfEven),
        ("half_down", RoundMode::HalfDown),
        ("up", RoundMode::Up),
        ("down", RoundMode::Down),
    ];
}

impl ExprNode {
    /// This node, written at `span`.
    pub fn at(self, span: Span) -> CExpr {
        Spanned::new(self, span)
    }
}

/// Whether an expression is worked out from literals and terms alone, so
/// its value is known before any event.
pub fn over_terms_only(e: &CExpr) -> bool {
    !e.any(&|n| {
        matches!(
            n,
            ExprNode::Field(_)
                | ExprNode::Bound(_)
                | ExprNode::Latest(..)
                | ExprNode::Keyed(..)
                | ExprNode::At
                | ExprNode::BoundAt
                | ExprNode::Now
                | ExprNode::Elapsed
                | ExprNode::Outstanding
                | ExprNode::Tracker(_)
        )
    })
}

/// Walking an expression and everything inside it.
pub trait Visit {
    /// Calls `f` on this expression and every one inside it.
    fn visit(&self, f: &mut dyn FnMut(&CExpr));

    /// Whether `pred` holds of this expression or any inside it.
    fn any(&self, pred: &dyn Fn(&ExprNode) -> bool) -> bool {
        let mut found = false;
        self.visit(&mut |e| found |= pred(&e.node));
        found
    }
}

impl Visit for CExpr {
    fn visit(&self, f: &mut dyn FnMut(&CExpr)) {
        // Trees are bounded by the checker; stacks may be small.
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
            f(self);
            match &self.node {
                ExprNode::Unary(_, a) | ExprNode::Table(_, a) => a.visit(f),
                ExprNode::Binary(_, a, b) | ExprNode::Round(a, b, _) => {
                    a.visit(f);
                    b.visit(f);
                }
                ExprNode::If(a, b, c) => {
                    a.visit(f);
                    b.visit(f);
                    c.visit(f);
                }
                ExprNode::Call(_, args) => args.iter().for_each(|a| a.visit(f)),
                _ => {}
            }
        });
    }
}

fn visit_match(m: &Match, f: &mut dyn FnMut(&CExpr)) {
    if let Some(c) = &m.condition {
        c.visit(f);
    }
}

fn visit_bound(b: &Bound, f: &mut dyn FnMut(&CExpr)) {
    if let Bound::On(m) = b {
        visit_match(m, f);
    }
}

/// Calls `f` on every expression a norm holds.
pub fn visit_norm(n: &NormSpec, f: &mut dyn FnMut(&CExpr)) {
    if let Some(c) = &n.action.condition {
        c.visit(f);
    }
    if let Instancing::PerEvent { trigger, .. } = &n.instancing {
        visit_match(trigger, f);
    }
    let timing = |t: &Timing, f: &mut dyn FnMut(&CExpr)| t.grace.visit(f);
    match &n.rule {
        NormRule::Obligation { due } => match due {
            Some(DueRule::After(e) | DueRule::By(e)) => e.visit(f),
            None => {}
        },
        NormRule::Permission {
            activation,
            window,
            only_if,
            ..
        } => {
            for e in [
                activation.as_ref().map(|a| &a.delay),
                window.as_ref(),
                only_if.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                e.visit(f);
            }
        }
        NormRule::Prohibition { .. } => {}
        NormRule::Power {
            window, renounced_by, ..
        } => {
            if let Some(w) = window {
                w.visit(f);
            }
            for r in renounced_by {
                if let Some(c) = &r.condition {
                    c.visit(f);
                }
            }
        }
        NormRule::Accrual {
            amount,
            per,
            schedule,
            settlements,
            ..
        } => {
            amount.visit(f);
            visit_match(per, f);
            if let Some(s) = schedule {
                timing(&s.timing, f);
                if let Some((c, t)) = &s.alternative {
                    c.visit(f);
                    timing(t, f);
                }
            }
            for s in settlements {
                for e in [s.condition.as_ref(), s.applying.as_ref()].into_iter().flatten() {
                    e.visit(f);
                }
            }
        }
    }
}

/// Calls `f` on every expression of the program.
pub fn visit_program(p: &Program, f: &mut dyn FnMut(&CExpr)) {
    visit_bound(&p.term.start, f);
    visit_bound(&p.term.end, f);
    for t in &p.terms {
        if let Some(table) = &t.table {
            for r in &table.rows {
                for e in [&r.above, &r.from, &r.up_to, &r.below].into_iter().flatten() {
                    e.visit(f);
                }
                r.value.visit(f);
            }
        }
    }
    for c in &p.clauses {
        visit_bound(&c.lifetime.start, f);
        visit_bound(&c.lifetime.end, f);
        for m in c.suspended_on.iter().chain(&c.resumed_on).chain(&c.ended_on) {
            visit_match(m, f);
        }
    }
    for n in &p.norms {
        visit_norm(n, f);
    }
    for t in &p.trackers {
        if let Some(c) = &t.condition {
            c.visit(f);
        }
    }
}

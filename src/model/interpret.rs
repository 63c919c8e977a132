//! Evaluating checked expressions. `Ok(None)` means undetermined: the value
//! depends on an open term or on an optional field the event left out.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;

use rust_decimal::Decimal;
use thiserror::Error;

use crate::model::{
    ById, CExpr, EventId, ExprNode, FieldId, Func, KeyOf, RoundMode, Table, TableSpec, TermId, TermSlot,
};
use crate::ops::Span;
use crate::ops::{BinOp, UnOp};
use crate::time::{add_days, add_months, Instant, Moment};
use num_rational::BigRational;
use num_traits::Zero;

use crate::value::exact::{self, Exact, Kind, Rounding};
use crate::value::{Currency, Duration, Money, Value};

/// What went wrong evaluating an expression, and where in the contract.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{problem}")]
pub struct EvalError {
    pub problem: Problem,
    /// The expression that failed, innermost first found.
    pub span: Option<Span>,
}

impl EvalError {
    /// Pointed at `span`, unless it already points somewhere inside it.
    pub fn or_at(mut self, span: Span) -> EvalError {
        self.span.get_or_insert(span);
        self
    }
}

impl From<Problem> for EvalError {
    fn from(problem: Problem) -> EvalError {
        EvalError { problem, span: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Problem {
    #[error("the result is too large to hold exactly")]
    Overflow,
    #[error("division by zero")]
    DivisionByZero,
    #[error("amounts in {0} and {1} cannot be combined")]
    Currency(String, String),
    #[error("the date falls outside the calendar")]
    DateRange,
    #[error("{0} cannot be compared or combined with {1}")]
    Types(String, String),
    #[error("no row of table `{0}` holds for {1}")]
    NoRow(String, String),
    #[error("{0} is not a whole number of seconds")]
    FractionOfSecond(String),
}

type Result<T> = std::result::Result<T, EvalError>;

/// What an expression can read.
pub struct Ctx<'a> {
    pub terms: &'a Table<TermId, TermSlot>,
    /// Fields of the event being matched.
    pub fields: &'a [Option<Value>],
    /// Fields of the event that created the norm instance.
    pub bound: &'a [Option<Value>],
    /// Read open terms as zero: used only to learn an amount's currency.
    pub open_as_zero: bool,
    pub env: Env<'a>,
}

/// The latest event of a kind: when it happened and what it said.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Latest {
    pub at: Moment,
    pub fields: Vec<Option<Value>>,
}

/// The latest event of a kind for each value of one of its fields, kept
/// for `with the same K`: (kind, field K, key) to that event.
pub type KeyedLatest = rustc_hash::FxHashMap<(EventId, FieldId, smol_str::SmolStr), Latest>;

/// What the engine knows beyond the fields at hand.
#[derive(Debug, Clone, Copy, Default)]
pub struct Env<'a> {
    pub now: Option<Instant>,
    /// The time of the event being matched.
    pub at: Option<Moment>,
    /// The time of the event that created the norm instance.
    pub bound_at: Option<Moment>,
    pub elapsed: Option<Duration>,
    pub outstanding: Option<Money>,
    pub trackers: &'a [Option<Value>],
    pub latest: &'a [Option<Latest>],
    /// The latest event of a kind by key, for `with the same K`.
    pub keyed: Option<&'a KeyedLatest>,
}

impl<'a> Ctx<'a> {
    pub fn constant(terms: &'a Table<TermId, TermSlot>) -> Ctx<'a> {
        Ctx {
            terms,
            fields: &[],
            bound: &[],
            open_as_zero: false,
            env: Env::default(),
        }
    }
}

pub fn eval(e: &CExpr, ctx: &Ctx<'_>) -> Result<Option<Value>> {
    at_depth(e, ctx, 0)
}

/// See `check::expr`: trees are bounded, stacks may be small. Checking the
/// stack costs a call, so it is checked every few levels only: far more
/// often than a few levels could use up the margin it keeps.
fn at_depth(e: &CExpr, ctx: &Ctx<'_>, depth: u32) -> Result<Option<Value>> {
    let out = if depth % 16 == 15 {
        stacker::maybe_grow(64 * 1024, 1024 * 1024, || eval_inner(e, ctx, depth))
    } else {
        eval_inner(e, ctx, depth)
    };
    // The innermost expression that failed is the one to point at.
    out.map_err(|mut err| {
        err.span.get_or_insert(e.span);
        err
    })
}

/// A value read without evaluating anything: constants, fields, terms and
/// what the engine knows. `None` for anything that needs evaluating.
#[inline]
fn leaf(e: &CExpr, ctx: &Ctx<'_>) -> Option<Option<Value>> {
    Some(match &e.node {
        ExprNode::Const(v) => Some(v.clone()),
        ExprNode::Field(f) => ctx.fields.by_id(*f).cloned().flatten(),
        ExprNode::Bound(f) => ctx.bound.by_id(*f).cloned().flatten(),
        ExprNode::Term(t) => match ctx.terms.get(*t) {
            Some(slot) => match (&slot.value, ctx.open_as_zero) {
                (Some(v), _) => Some(v.clone()),
                (None, true) => Some(zero_of(slot)),
                (None, false) => None,
            },
            None => None,
        },
        ExprNode::Latest(ev, field) => {
            ctx.env
                .latest
                .by_id(*ev)
                .and_then(Option::as_ref)
                .and_then(|l| match field {
                    None => Some(Value::Date(l.at)),
                    Some(f) => l.fields.by_id(*f).cloned().flatten(),
                })
        }
        ExprNode::Keyed(ev, field, by, key) => {
            let k = match key {
                KeyOf::Field(f) => ctx.fields.by_id(*f),
                KeyOf::Bound(f) => ctx.bound.by_id(*f),
            };
            let k = k.and_then(Option::as_ref).map(Value::key_text);
            match (k, ctx.env.keyed) {
                (Some(k), Some(map)) => map.get(&(*ev, *by, k)).and_then(|l| match field {
                    None => Some(Value::Date(l.at)),
                    Some(f) => l.fields.by_id(*f).cloned().flatten(),
                }),
                _ => None,
            }
        }
        ExprNode::At => ctx.env.at.map(Value::Date),
        ExprNode::BoundAt => ctx.env.bound_at.map(Value::Date),
        ExprNode::Now => ctx.env.now.map(|n| Value::Date(Moment::at(n))),
        ExprNode::Elapsed => ctx.env.elapsed.map(Value::Duration),
        ExprNode::Outstanding => ctx.env.outstanding.map(Value::Money),
        ExprNode::Tracker(i) => ctx.env.trackers.by_id(*i).cloned().flatten(),
        _ => return None,
    })
}

/// A leaf that is already a value somewhere: read in place, not copied.
#[inline]
fn leaf_ref<'a>(e: &'a CExpr, ctx: &'a Ctx<'a>) -> Option<Option<&'a Value>> {
    Some(match &e.node {
        ExprNode::Const(v) => Some(v),
        ExprNode::Field(f) => ctx.fields.by_id(*f).and_then(Option::as_ref),
        ExprNode::Bound(f) => ctx.bound.by_id(*f).and_then(Option::as_ref),
        ExprNode::Term(t) => match ctx.terms.get(*t).map(|slot| (slot, &slot.value)) {
            Some((_, Some(v))) => Some(v),
            Some((_, None)) if ctx.open_as_zero => return None,
            _ => None,
        },
        ExprNode::Tracker(i) => ctx.env.trackers.by_id(*i).and_then(Option::as_ref),
        _ => return None,
    })
}

/// A subexpression: a leaf in place, anything else one level deeper.
#[inline]
fn operand<'a>(e: &'a CExpr, ctx: &'a Ctx<'a>, depth: u32) -> Result<Option<Cow<'a, Value>>> {
    if let Some(v) = leaf_ref(e, ctx) {
        return Ok(v.map(Cow::Borrowed));
    }
    Ok(match leaf(e, ctx) {
        Some(v) => v,
        None => at_depth(e, ctx, depth)?,
    }
    .map(Cow::Owned))
}

fn eval_inner(e: &CExpr, ctx: &Ctx<'_>, depth: u32) -> Result<Option<Value>> {
    if let Some(v) = leaf(e, ctx) {
        return Ok(v);
    }
    let d = depth + 1;
    match &e.node {
        ExprNode::Binary(op, l, r) => {
            // `and`/`or` decide on one side when they can, so an undetermined
            // side does not hide a determined answer.
            let lv = operand(l, ctx, d)?;
            match (op, lv.as_deref()) {
                (BinOp::And, Some(Value::Bool(false))) => return Ok(Some(Value::Bool(false))),
                (BinOp::Or, Some(Value::Bool(true))) => return Ok(Some(Value::Bool(true))),
                _ => {}
            }
            let rv = operand(r, ctx, d)?;
            Ok(match (lv.as_deref(), rv.as_deref()) {
                (Some(a), Some(b)) => Some(binary(*op, a, b)?),
                (None, Some(Value::Bool(false))) if *op == BinOp::And => Some(Value::Bool(false)),
                (None, Some(Value::Bool(true))) if *op == BinOp::Or => Some(Value::Bool(true)),
                _ => None,
            })
        }
        ExprNode::Unary(op, inner) => match operand(inner, ctx, d)? {
            None => Ok(None),
            Some(v) => Ok(Some(unary(*op, v.into_owned())?)),
        },
        _ => rare(e, ctx, d),
    }
}

/// The forms evaluated seldom on the hot path, kept out of it so that it
/// stays small.
#[inline(never)]
fn rare(e: &CExpr, ctx: &Ctx<'_>, d: u32) -> Result<Option<Value>> {
    Ok(match &e.node {
        ExprNode::If(c, a, b) => match at_depth(c, ctx, d)? {
            Some(Value::Bool(true)) => at_depth(a, ctx, d)?,
            Some(Value::Bool(false)) => at_depth(b, ctx, d)?,
            _ => None,
        },
        ExprNode::Table(t, x) => match (ctx.terms.get(*t), at_depth(x, ctx, d)?) {
            (Some(slot), Some(x)) => match &slot.table {
                Some(table) => lookup(&slot.name, table, &x, ctx, d)?,
                None => None,
            },
            _ => None,
        },
        ExprNode::Round(x, step, mode) => match (at_depth(x, ctx, d)?, at_depth(step, ctx, d)?) {
            (Some(v), Some(Value::Decimal(step))) => Some(round(v, step, *mode)?),
            _ => None,
        },
        ExprNode::Call(Func::Floor, args) => {
            match args.first().map(|a| at_depth(a, ctx, d)).transpose()?.flatten() {
                Some(Value::Decimal(d)) => Some(Value::Decimal(d.floor())),
                Some(Value::Percent(d)) => Some(Value::Percent(d.floor())),
                Some(Value::Money(m)) => Some(Value::Money(Money::new(m.amount.floor(), m.currency))),
                Some(Value::Exact(e)) => {
                    let whole = BigRational::from_integer(e.value.floor().to_integer());
                    let d = exact::decimal(&whole).ok_or_else(overflow)?;
                    Some(make(Num::Dec(d), e.kind))
                }
                _ => None,
            }
        }
        ExprNode::Call(Func::Days, args) => {
            match args.first().map(|a| at_depth(a, ctx, d)).transpose()?.flatten() {
                Some(Value::Duration(d)) => {
                    let secs = d.exact_seconds().ok_or_else(|| {
                        Problem::Types("a duration in months".to_string(), "days".to_string())
                    })?;
                    Some(Value::Decimal(Decimal::from(secs.div_euclid(86_400))))
                }
                _ => None,
            }
        }
        ExprNode::Call(Func::Currency, args) => {
            match args.first().map(|a| at_depth(a, ctx, d)).transpose()?.flatten() {
                Some(Value::Money(m)) => Some(Value::Text(m.currency.as_str().into())),
                Some(Value::Exact(e)) => match e.kind {
                    Kind::Money(c) => Some(Value::Text(c.as_str().into())),
                    _ => None,
                },
                _ => None,
            }
        }
        ExprNode::Call(Func::Default, args) => {
            let mut found = None;
            for a in args {
                found = at_depth(a, ctx, d)?;
                if found.is_some() {
                    break;
                }
            }
            found
        }
        ExprNode::Call(f, args) => {
            let mut best: Option<Value> = None;
            for a in args {
                let Some(v) = at_depth(a, ctx, d)? else {
                    return Ok(None);
                };
                best = Some(match best {
                    None => v,
                    Some(b) => {
                        let less = compare(&v, &b)? == std::cmp::Ordering::Less;
                        let take = match f {
                            Func::Min => less,
                            _ => !less,
                        };
                        if take {
                            v
                        } else {
                            b
                        }
                    }
                });
            }
            best
        }
        _ => leaf(e, ctx).flatten(),
    })
}

/// Rounds to a multiple of `step` with the given rule, exactly: on
/// decimals where the quotient is exact, on fractions otherwise.
fn round(v: Value, step: Decimal, mode: RoundMode) -> Result<Value> {
    use rust_decimal::RoundingStrategy as R;
    let Some((n, kind)) = number(&v) else {
        return Ok(v);
    };
    if let Num::Dec(d) = n {
        let strategy = match mode {
            RoundMode::HalfUp => R::MidpointAwayFromZero,
            RoundMode::HalfEven => R::MidpointNearestEven,
            RoundMode::HalfDown => R::MidpointTowardZero,
            RoundMode::Up => R::AwayFromZero,
            RoundMode::Down => R::ToZero,
        };
        if !step.is_zero() {
            if let Some(r) =
                exact::div(d, step).and_then(|q| exact::mul(q.round_dp_with_strategy(0, strategy), step))
            {
                return Ok(make(Num::Dec(r), kind));
            }
        }
    }
    let how = match mode {
        RoundMode::HalfUp => Rounding::HalfUp,
        RoundMode::HalfEven => Rounding::HalfEven,
        RoundMode::HalfDown => Rounding::HalfDown,
        RoundMode::Up => Rounding::Up,
        RoundMode::Down => Rounding::Down,
    };
    let r = exact::round_to(&n.ratio(), &exact::ratio(step), how).ok_or(Problem::DivisionByZero)?;
    // A rounded figure is a decimal, or it is past what one holds.
    let d = exact::decimal(&r).ok_or_else(overflow)?;
    Ok(make(Num::Dec(d), kind))
}

/// A table applied to `x`: the first row that holds, or for a tiered table
/// the sum over bands of each rate applied to the part of `x` in its band.
fn lookup(name: &str, table: &TableSpec, x: &Value, ctx: &Ctx<'_>, d: u32) -> Result<Option<Value>> {
    use std::cmp::Ordering::*;
    let bound = |b: &Option<CExpr>| -> Result<Option<Value>> {
        match b {
            Some(e) => at_depth(e, ctx, d),
            None => Ok(None),
        }
    };
    if !table.tiered {
        for row in &table.rows {
            if row.otherwise {
                return at_depth(&row.value, ctx, d);
            }
            let mut holds = true;
            if let Some(a) = bound(&row.above)? {
                holds &= compare(x, &a)? == Greater;
            }
            if let Some(f) = bound(&row.from)? {
                holds &= compare(x, &f)? != Less;
            }
            if let Some(u) = bound(&row.up_to)? {
                holds &= compare(x, &u)? != Greater;
            }
            if let Some(b) = bound(&row.below)? {
                holds &= compare(x, &b)? == Less;
            }
            if holds {
                return at_depth(&row.value, ctx, d);
            }
        }
        return Err(Problem::NoRow(name.to_string(), x.to_string()).into());
    }
    let zero = binary(BinOp::Sub, x, x)?;
    let mut total: Option<Value> = None;
    for row in &table.rows {
        let lower = match (bound(&row.above)?, bound(&row.from)?) {
            (Some(a), _) | (None, Some(a)) => a,
            (None, None) => zero.clone(),
        };
        let upper = match (bound(&row.up_to)?, bound(&row.below)?) {
            (Some(u), _) | (None, Some(u)) => Some(u),
            (None, None) => None,
        };
        let top = match upper {
            Some(u) if compare(&u, x)? == Less => u,
            _ => x.clone(),
        };
        if compare(&top, &lower)? != Greater {
            continue;
        }
        let part = binary(BinOp::Sub, &top, &lower)?;
        let Some(rate) = at_depth(&row.value, ctx, d)? else {
            return Ok(None);
        };
        let share = binary(BinOp::Mul, &rate, &part)?;
        total = Some(match total {
            None => share,
            Some(t) => binary(BinOp::Add, &t, &share)?,
        });
    }
    match total {
        Some(t) => Ok(Some(t)),
        None => Ok(Some(binary(BinOp::Mul, &Value::Decimal(Decimal::ZERO), x)?)),
    }
}

/// Evaluates a condition: undetermined counts as not met.
pub fn holds(e: &CExpr, ctx: &Ctx<'_>) -> Result<bool> {
    Ok(matches!(eval(e, ctx)?, Some(Value::Bool(true))))
}

fn zero_of(slot: &TermSlot) -> Value {
    use crate::value::Type;
    match slot.ty {
        Type::Percent => Value::Percent(Decimal::ZERO),
        Type::Duration => Value::Duration(Duration::default()),
        Type::Bool => Value::Bool(false),
        _ => Value::Decimal(Decimal::ZERO),
    }
}

fn unary(op: UnOp, v: Value) -> Result<Value> {
    Ok(match (op, v) {
        (UnOp::Not, Value::Bool(b)) => Value::Bool(!b),
        (UnOp::Neg, Value::Decimal(d)) => Value::Decimal(-d),
        (UnOp::Neg, Value::Percent(d)) => Value::Percent(-d),
        (UnOp::Neg, Value::Money(m)) => Value::Money(Money::new(-m.amount, m.currency)),
        (UnOp::Neg, Value::Exact(e)) => Value::Exact(Box::new(Exact {
            value: -e.value,
            kind: e.kind,
        })),
        (UnOp::Neg, Value::Duration(d)) => Value::Duration(Duration {
            months: d.months.checked_neg().ok_or_else(overflow)?,
            days: d.days.checked_neg().ok_or_else(overflow)?,
            seconds: d.seconds.checked_neg().ok_or_else(overflow)?,
        }),
        (_, v) => return Err(Problem::Types(v.type_of().to_string(), "an operator".to_string()).into()),
    })
}

/// A number read from a value, with what it measures.
#[derive(Clone)]
enum Num<'a> {
    Dec(Decimal),
    Frac(std::borrow::Cow<'a, BigRational>),
}

impl Num<'_> {
    fn ratio(&self) -> BigRational {
        match self {
            Num::Dec(d) => exact::ratio(*d),
            Num::Frac(r) => r.as_ref().clone(),
        }
    }

    fn is_zero(&self) -> bool {
        match self {
            Num::Dec(d) => d.is_zero(),
            Num::Frac(r) => r.is_zero(),
        }
    }
}

fn number(v: &Value) -> Option<(Num<'_>, Kind)> {
    Some(match v {
        Value::Decimal(d) => (Num::Dec(*d), Kind::Number),
        Value::Percent(d) => (Num::Dec(*d), Kind::Percent),
        Value::Money(m) => (Num::Dec(m.amount), Kind::Money(m.currency)),
        Value::Exact(e) => (Num::Frac(std::borrow::Cow::Borrowed(&e.value)), e.kind),
        _ => return None,
    })
}

/// Money of no currency yet beside money of one: it is that currency.
fn adopt_currency(a: Kind, b: Kind) -> (Kind, Kind) {
    match (a, b) {
        (Kind::AnyMoney, Kind::Money(c)) => (Kind::Money(c), Kind::Money(c)),
        (Kind::Money(c), Kind::AnyMoney) => (Kind::Money(c), Kind::Money(c)),
        other => other,
    }
}

/// The value of a number: a decimal when one holds it exactly.
fn make(n: Num<'_>, kind: Kind) -> Value {
    if kind == Kind::AnyMoney {
        return Value::Exact(Box::new(Exact {
            value: n.ratio(),
            kind,
        }));
    }
    let d = match n {
        Num::Dec(d) => d,
        Num::Frac(r) => match exact::decimal(&r) {
            Some(d) => d,
            None => {
                return Value::Exact(Box::new(Exact {
                    value: r.into_owned(),
                    kind,
                }))
            }
        },
    };
    match kind {
        Kind::Number => Value::Decimal(d),
        Kind::Percent => Value::Percent(d),
        Kind::Money(c) => Value::Money(Money::new(d, c)),
        // Handled first.
        Kind::AnyMoney => Value::Decimal(d),
    }
}

/// An amount owed, as the ledger holds it: a decimal, and whether it had to
/// be rounded to become one (half to even, at the finest place that fits).
pub fn as_money(v: &Value) -> Option<Result<(Money, bool)>> {
    match v {
        Value::Money(m) => Some(Ok((*m, false))),
        Value::Exact(e) => match e.kind {
            Kind::Money(c) => Some(
                exact::nearest(&e.value)
                    .map(|d| (Money::new(d, c), true))
                    .ok_or_else(overflow),
            ),
            _ => None,
        },
        _ => None,
    }
}

/// `a op b` on numbers: on decimals when exact there, on fractions when
/// not. `None` when the operands are not numbers.
fn arith(op: BinOp, a: &Value, b: &Value) -> Option<Result<Value>> {
    let ((x, ka), (y, kb)) = (number(a)?, number(b)?);
    let (ka, kb) = adopt_currency(ka, kb);
    let types = || -> EvalError { Problem::Types(a.type_of().to_string(), b.type_of().to_string()).into() };
    let currencies =
        |c: Currency, d: Currency| -> EvalError { Problem::Currency(c.to_string(), d.to_string()).into() };
    use Kind::{Money as M, Number as N, Percent as P};
    // What the result measures, and whether it is a percentage of the rest.
    let (kind, hundredth) = match (op, ka, kb) {
        (BinOp::Add | BinOp::Sub, M(c), M(d)) if c != d => return Some(Err(currencies(c, d))),
        (BinOp::Add | BinOp::Sub, k, l) if k == l => (k, false),
        (BinOp::Mul | BinOp::Of, N, N) => (N, false),
        (BinOp::Mul | BinOp::Of, N, Kind::AnyMoney) | (BinOp::Mul | BinOp::Of, Kind::AnyMoney, N) => {
            (Kind::AnyMoney, false)
        }
        (BinOp::Mul | BinOp::Of, P, Kind::AnyMoney) | (BinOp::Mul | BinOp::Of, Kind::AnyMoney, P) => {
            (Kind::AnyMoney, true)
        }
        (BinOp::Div, Kind::AnyMoney, N) => (Kind::AnyMoney, false),
        (BinOp::Div, Kind::AnyMoney, Kind::AnyMoney) => (N, false),
        (BinOp::Mul | BinOp::Of, N, M(c)) | (BinOp::Mul | BinOp::Of, M(c), N) => (M(c), false),
        (BinOp::Mul | BinOp::Of, P, M(c)) | (BinOp::Mul | BinOp::Of, M(c), P) => (M(c), true),
        (BinOp::Mul | BinOp::Of, P, N) | (BinOp::Mul | BinOp::Of, N, P) => (N, true),
        (BinOp::Mul | BinOp::Of, P, P) => (P, true),
        (BinOp::Div, M(c), N) => (M(c), false),
        (BinOp::Div, M(c), M(d)) if c != d => return Some(Err(currencies(c, d))),
        (BinOp::Div, M(_), M(_)) | (BinOp::Div, N, N) | (BinOp::Div, P, P) => (N, false),
        (BinOp::Div, P, N) => (P, false),
        _ => return Some(Err(types())),
    };
    if op == BinOp::Div && y.is_zero() {
        return Some(Err(Problem::DivisionByZero.into()));
    }
    if let (Num::Dec(p), Num::Dec(q)) = (&x, &y) {
        let (p, q) = (*p, *q);
        let fast = match op {
            BinOp::Add => exact::add(p, q),
            BinOp::Sub => exact::sub(p, q),
            BinOp::Mul | BinOp::Of if hundredth => exact::percent_of(p, q),
            BinOp::Mul | BinOp::Of => exact::mul(p, q),
            BinOp::Div => exact::div(p, q),
            _ => None,
        };
        if let Some(r) = fast {
            return Some(Ok(make(Num::Dec(r), kind)));
        }
    }
    let (p, q) = (x.ratio(), y.ratio());
    let mut r = match op {
        BinOp::Add => p + q,
        BinOp::Sub => p - q,
        BinOp::Div => p / q,
        _ => p * q,
    };
    if hundredth {
        r /= BigRational::from_integer(100.into());
    }
    Some(Ok(make(Num::Frac(std::borrow::Cow::Owned(r)), kind)))
}

fn same_currency(a: &Money, b: &Money) -> Result<()> {
    if a.currency == b.currency {
        Ok(())
    } else {
        Err(Problem::Currency(a.currency.to_string(), b.currency.to_string()).into())
    }
}

fn binary(op: BinOp, a: &Value, b: &Value) -> Result<Value> {
    use Value as V;
    let type_err = |a: &Value, b: &Value| -> EvalError {
        Problem::Types(a.type_of().to_string(), b.type_of().to_string()).into()
    };
    Ok(match op {
        BinOp::And | BinOp::Or => match (a, b) {
            (V::Bool(x), V::Bool(y)) => V::Bool(if op == BinOp::And { *x && *y } else { *x || *y }),
            _ => return Err(type_err(a, b)),
        },
        BinOp::Eq => V::Bool(equal(a, b)?),
        BinOp::Ne => V::Bool(!equal(a, b)?),
        BinOp::Lt => V::Bool(compare(a, b)?.is_lt()),
        BinOp::Le => V::Bool(compare(a, b)?.is_le()),
        BinOp::Gt => V::Bool(compare(a, b)?.is_gt()),
        BinOp::Ge => V::Bool(compare(a, b)?.is_ge()),
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Of | BinOp::Div
            if number(a).is_some() && number(b).is_some() =>
        {
            return arith(op, a, b).unwrap_or_else(|| Err(type_err(a, b)));
        }
        BinOp::Add | BinOp::Sub => {
            let plus = op == BinOp::Add;
            match (a, b) {
                (V::Duration(x), V::Duration(y)) => {
                    let y = if plus { *y } else { negate(*y)? };
                    V::Duration(x.checked_add(y).ok_or_else(overflow)?)
                }
                (V::Date(m), V::Duration(d)) => {
                    let d = if plus { *d } else { negate(*d)? };
                    V::Date(shift(*m, d)?)
                }
                (V::Duration(d), V::Date(m)) if plus => V::Date(shift(*m, *d)?),
                (V::Date(x), V::Date(y)) if !plus => {
                    V::Duration(Duration::seconds(x.instant.seconds_since(y.instant)))
                }
                _ => return Err(type_err(a, b)),
            }
        }
        BinOp::Mul | BinOp::Of => match (a, b) {
            (V::Decimal(x), V::Duration(d)) | (V::Duration(d), V::Decimal(x)) => {
                let secs = d.exact_seconds().ok_or_else(|| type_err(a, b))?;
                let total = exact::mul(Decimal::from(secs), *x).ok_or_else(overflow)?;
                if !total.fract().is_zero() {
                    return Err(Problem::FractionOfSecond(format!("{x} × {d}")).into());
                }
                let secs = i64::try_from(total.trunc().mantissa()).map_err(|_| Problem::Overflow)?;
                V::Duration(Duration::seconds(secs))
            }
            _ => return Err(type_err(a, b)),
        },
        BinOp::Div => match (a, b) {
            (V::Duration(x), V::Duration(y)) => {
                let (x, y) = (
                    x.exact_seconds().ok_or_else(|| type_err(a, b))?,
                    y.exact_seconds().ok_or_else(|| type_err(a, b))?,
                );
                let num = V::Decimal(Decimal::from(x));
                let den = V::Decimal(Decimal::from(y));
                return arith(BinOp::Div, &num, &den).unwrap_or_else(|| Err(type_err(a, b)));
            }
            _ => return Err(type_err(a, b)),
        },
    })
}

fn negate(d: Duration) -> Result<Duration> {
    Ok(Duration {
        months: d.months.checked_neg().ok_or_else(overflow)?,
        days: d.days.checked_neg().ok_or_else(overflow)?,
        seconds: d.seconds.checked_neg().ok_or_else(overflow)?,
    })
}

/// The instant `d` after `at`, in calendar units and exact seconds.
pub fn ahead(at: Instant, d: Duration) -> Option<Instant> {
    shift(Moment::at(at), d).ok().map(|m| m.instant)
}

/// The instant `d` before `at`, in calendar units and exact seconds.
pub fn back(at: Instant, d: Duration) -> Option<Instant> {
    shift(Moment::at(at), negate(d).ok()?).ok().map(|m| m.instant)
}

/// A moment moved by a duration: calendar units on the date, seconds exactly.
fn shift(m: Moment, d: Duration) -> Result<Moment> {
    let secs_into_day = m.instant.as_second().rem_euclid(86_400);
    let date = add_months(m.instant.date(), d.months).ok_or(Problem::DateRange)?;
    let date = add_days(date, d.days).ok_or(Problem::DateRange)?;
    let base = Instant::start_of(date).ok_or(Problem::DateRange)?;
    let instant = base
        .plus_seconds(secs_into_day)
        .and_then(|i| i.plus_seconds(d.seconds))
        .ok_or(Problem::DateRange)?;
    Ok(Moment {
        instant,
        date_only: m.date_only && d.seconds == 0,
    })
}

/// Two numbers, one of them a fraction, compared exactly.
fn compare_numbers(a: &Value, b: &Value) -> Result<std::cmp::Ordering> {
    let types = || -> EvalError { Problem::Types(a.type_of().to_string(), b.type_of().to_string()).into() };
    let ((x, ka), (y, kb)) = (number(a).ok_or_else(types)?, number(b).ok_or_else(types)?);
    match adopt_currency(ka, kb) {
        (Kind::Money(c), Kind::Money(d)) if c != d => {
            Err(Problem::Currency(c.to_string(), d.to_string()).into())
        }
        (k, l) if k == l => Ok(x.ratio().cmp(&y.ratio())),
        _ => Err(types()),
    }
}

fn equal(a: &Value, b: &Value) -> Result<bool> {
    use Value as V;
    if matches!(a, V::Exact(_)) || matches!(b, V::Exact(_)) {
        return match compare_numbers(a, b) {
            Ok(o) => Ok(o.is_eq()),
            // Amounts in two currencies are simply not equal.
            Err(EvalError {
                problem: Problem::Currency(..),
                ..
            }) => Ok(false),
            Err(e) => Err(e),
        };
    }
    Ok(match (a, b) {
        (V::Text(x) | V::Entity(x), V::Text(y) | V::Entity(y)) => x == y,
        (V::Money(x), V::Money(y)) => x.currency == y.currency && x.amount == y.amount,
        (V::Date(x), V::Date(y)) => x.instant == y.instant,
        (V::Duration(x), V::Duration(y)) => match (x.exact_seconds(), y.exact_seconds()) {
            (Some(p), Some(q)) => p == q,
            _ => x == y,
        },
        _ if a.type_of() == b.type_of() => a == b,
        _ => return Err(Problem::Types(a.type_of().to_string(), b.type_of().to_string()).into()),
    })
}

pub fn compare(a: &Value, b: &Value) -> Result<std::cmp::Ordering> {
    use Value as V;
    if matches!(a, V::Exact(_)) || matches!(b, V::Exact(_)) {
        return compare_numbers(a, b);
    }
    match (a, b) {
        (V::Decimal(x), V::Decimal(y)) | (V::Percent(x), V::Percent(y)) => Ok(x.cmp(y)),
        (V::Money(x), V::Money(y)) => {
            same_currency(x, y)?;
            Ok(x.amount.cmp(&y.amount))
        }
        (V::Date(x), V::Date(y)) => Ok(x.instant.cmp(&y.instant)),
        (V::Duration(x), V::Duration(y)) => match (x.exact_seconds(), y.exact_seconds()) {
            (Some(p), Some(q)) => Ok(p.cmp(&q)),
            _ if x.seconds == 0 && y.seconds == 0 => Ok((x.months, x.days).cmp(&(y.months, y.days))),
            _ => Err(Problem::Types("a duration in months".to_string(), "one in seconds".to_string()).into()),
        },
        _ => Err(Problem::Types(a.type_of().to_string(), b.type_of().to_string()).into()),
    }
}

/// `a + b` for running sums.
pub fn add_values(a: Value, b: Value) -> Result<Value> {
    binary(BinOp::Add, &a, &b)
}

/// `a - b`, for what leaves a running sum.
pub fn sub_values(a: Value, b: Value) -> Result<Value> {
    binary(BinOp::Sub, &a, &b)
}

fn overflow() -> EvalError {
    Problem::Overflow.into()
}

//! Evaluating checked expressions. `Ok(None)` means undetermined: the value
//! depends on an open term or on an optional field the event left out.

use std::borrow::Cow;

use rust_decimal::Decimal;
use thiserror::Error;

use crate::model::{ById, CExpr, ExprNode, Func, RoundMode, Table, TableSpec, TermId, TermSlot};
use crate::ops::Span;
use crate::ops::{BinOp, UnOp};
use crate::time::{add_days, add_months, Instant, Moment};
use crate::value::{Duration, Money, Value};

/// What went wrong evaluating an expression, and where in the contract.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{problem}")]
pub struct EvalError {
    pub problem: Problem,
    /// The expression that failed, innermost first found.
    pub span: Option<Span>,
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
#[derive(Debug, Clone)]
pub struct Latest {
    pub at: Moment,
    pub fields: Vec<Option<Value>>,
}

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

/// Rounds to a multiple of `step` with the given rule.
fn round(v: Value, step: Decimal, mode: RoundMode) -> Result<Value> {
    use rust_decimal::RoundingStrategy as R;
    let strategy = match mode {
        RoundMode::HalfUp => R::MidpointAwayFromZero,
        RoundMode::HalfEven => R::MidpointNearestEven,
        RoundMode::HalfDown => R::MidpointTowardZero,
        RoundMode::Up => R::AwayFromZero,
        RoundMode::Down => R::ToZero,
    };
    let r = |d: Decimal| -> Result<Decimal> { mul(div(d, step)?.round_dp_with_strategy(0, strategy), step) };
    Ok(match v {
        Value::Decimal(d) => Value::Decimal(r(d)?),
        Value::Percent(d) => Value::Percent(r(d)?),
        Value::Money(m) => Value::Money(Money::new(r(m.amount)?, m.currency)),
        other => other,
    })
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
        (UnOp::Neg, Value::Duration(d)) => Value::Duration(Duration {
            months: d.months.checked_neg().ok_or_else(overflow)?,
            days: d.days.checked_neg().ok_or_else(overflow)?,
            seconds: d.seconds.checked_neg().ok_or_else(overflow)?,
        }),
        (_, v) => return Err(Problem::Types(v.type_of().to_string(), "an operator".to_string()).into()),
    })
}

fn add(a: Decimal, b: Decimal) -> Result<Decimal> {
    a.checked_add(b).ok_or_else(overflow)
}
fn sub(a: Decimal, b: Decimal) -> Result<Decimal> {
    a.checked_sub(b).ok_or_else(overflow)
}
fn mul(a: Decimal, b: Decimal) -> Result<Decimal> {
    a.checked_mul(b).ok_or_else(overflow)
}
fn div(a: Decimal, b: Decimal) -> Result<Decimal> {
    if b.is_zero() {
        return Err(Problem::DivisionByZero.into());
    }
    a.checked_div(b).ok_or_else(overflow)
}
/// p% of x, exactly: the product moved two decimal places, which is a
/// division by 100 without the division.
pub fn percent_of(p: Decimal, x: Decimal) -> Result<Decimal> {
    let product = mul(p, x)?;
    let scale = product.scale() + 2;
    if scale <= Decimal::MAX_SCALE {
        let mut shifted = product;
        if shifted.set_scale(scale).is_ok() {
            return Ok(shifted);
        }
    }
    div(product, Decimal::ONE_HUNDRED)
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
        BinOp::Add | BinOp::Sub => {
            let plus = op == BinOp::Add;
            let f = |x, y| if plus { add(x, y) } else { sub(x, y) };
            match (a, b) {
                (V::Money(x), V::Money(y)) => {
                    same_currency(x, y)?;
                    V::Money(Money::new(f(x.amount, y.amount)?, x.currency))
                }
                (V::Decimal(x), V::Decimal(y)) => V::Decimal(f(*x, *y)?),
                (V::Percent(x), V::Percent(y)) => V::Percent(f(*x, *y)?),
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
            (V::Decimal(x), V::Decimal(y)) => V::Decimal(mul(*x, *y)?),
            (V::Decimal(x), V::Money(m)) | (V::Money(m), V::Decimal(x)) => {
                V::Money(Money::new(mul(*x, m.amount)?, m.currency))
            }
            (V::Percent(p), V::Money(m)) | (V::Money(m), V::Percent(p)) => {
                V::Money(Money::new(percent_of(*p, m.amount)?, m.currency))
            }
            (V::Percent(p), V::Decimal(x)) | (V::Decimal(x), V::Percent(p)) => {
                V::Decimal(percent_of(*p, *x)?)
            }
            (V::Percent(p), V::Percent(q)) => V::Percent(percent_of(*p, *q)?),
            (V::Decimal(x), V::Duration(d)) | (V::Duration(d), V::Decimal(x)) => {
                let secs = d.exact_seconds().ok_or_else(|| type_err(a, b))?;
                let total = mul(Decimal::from(secs), *x)?.trunc();
                let secs = i64::try_from(total.mantissa()).map_err(|_| Problem::Overflow)?;
                V::Duration(Duration::seconds(secs))
            }
            _ => return Err(type_err(a, b)),
        },
        BinOp::Div => match (a, b) {
            (V::Money(m), V::Decimal(x)) => V::Money(Money::new(div(m.amount, *x)?, m.currency)),
            (V::Money(x), V::Money(y)) => {
                same_currency(x, y)?;
                V::Decimal(div(x.amount, y.amount)?)
            }
            (V::Decimal(x), V::Decimal(y)) => V::Decimal(div(*x, *y)?),
            (V::Percent(p), V::Decimal(x)) => V::Percent(div(*p, *x)?),
            (V::Percent(p), V::Percent(q)) => V::Decimal(div(*p, *q)?),
            (V::Duration(x), V::Duration(y)) => {
                let (x, y) = (
                    x.exact_seconds().ok_or_else(|| type_err(a, b))?,
                    y.exact_seconds().ok_or_else(|| type_err(a, b))?,
                );
                V::Decimal(div(Decimal::from(x), Decimal::from(y))?)
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

fn equal(a: &Value, b: &Value) -> Result<bool> {
    use Value as V;
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

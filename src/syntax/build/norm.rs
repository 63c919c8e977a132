//! Norms and the commercial forms of a clause.

use super::*;

pub(super) fn norm(pair: Pair<'_, Rule>) -> Result<Norm> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let mut trigger = None;
    if kids.peek_rule() == Some(Rule::trigger_prefix) {
        let t = kids.required("`after each`")?;
        trigger = Some(inner_event_match(t)?);
    } else if kids.peek_rule() == Some(Rule::time_prefix) {
        let t = kids.required("a time")?;
        trigger = Some(time_trigger(Children::of(t).required("a time")?)?);
    }
    let bearer = ident(&kids.required("a party")?);
    let tail = kids.required("what the party must, may or may not do")?;
    let body = match tail.as_rule() {
        Rule::obligation => obligation(tail)?,
        Rule::prohibition => prohibition(tail)?,
        Rule::permission => permission(tail)?,
        Rule::power => power(tail)?,
        Rule::exclusive => NormBody::Exclusive(Box::new(exclusive(tail)?)),
        Rule::first_refusal => NormBody::FirstRefusal(Box::new(first_refusal(tail)?)),
        Rule::owes => NormBody::Owes(Box::new(owes(tail)?)),
        Rule::pay_amount => NormBody::Owes(Box::new(pay_amount(tail)?)),
        _ => return Err(shape_error(span_of(&tail), "a norm")),
    };
    Ok(Norm {
        trigger,
        bearer,
        body,
        span,
    })
}

pub(super) fn action(pair: Pair<'_, Rule>) -> Result<Action> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let event = ident(&kids.required("an event name")?);
    let mut same_key = None;
    let mut condition = None;
    while let Some(p) = kids.next() {
        match p.as_rule() {
            Rule::same_key => same_key = Some(same_key_of(p)?),
            _ => condition = Some(expr(p)?),
        }
    }
    Ok(Action {
        event,
        same_key,
        condition,
        span,
    })
}

pub(super) fn same_key_of(pair: Pair<'_, Rule>) -> Result<Ident> {
    let mut kids = Children::of(pair);
    Ok(ident(&kids.required("a field name")?))
}

pub(super) fn exception(pair: Pair<'_, Rule>) -> Result<Exception> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let event = ident(&kids.required("an event name")?);
    let same_key = kids.next().map(same_key_of).transpose()?;
    Ok(Exception {
        event,
        same_key,
        span,
    })
}

pub(super) fn obligation(pair: Pair<'_, Rule>) -> Result<NormBody> {
    let mut kids = Children::of(pair);
    let action = action(kids.required("an action")?)?;
    let mut payee = None;
    let mut next = kids.next();
    if let Some(p) = next.clone().filter(|p| p.as_rule() == Rule::payee) {
        payee = Some(ident(&Children::of(p).required("a party")?));
        next = kids.next();
    }
    Ok(NormBody::Obligation {
        action,
        payee,
        deadline: next.map(deadline).transpose()?,
    })
}

pub(super) fn deadline(pair: Pair<'_, Rule>) -> Result<Deadline> {
    let mut kids = Children::of(pair);
    let d = kids.required("`within` or `by`")?;
    let span = span_of(&d);
    let rule = d.as_rule();
    let mut k = Children::of(d);
    match rule {
        Rule::within_after => {
            let duration = expr(k.required("a duration")?)?;
            let after = k.next().map(event_match).transpose()?;
            Ok(Deadline::Within {
                duration,
                after,
                span,
            })
        }
        _ => Ok(Deadline::By {
            date: expr(k.required("a date")?)?,
            span,
        }),
    }
}

pub(super) fn prohibition(pair: Pair<'_, Rule>) -> Result<NormBody> {
    let mut kids = Children::of(pair);
    let action = action(kids.required("an action")?)?;
    let exception = kids.next().map(exception).transpose()?;
    Ok(NormBody::Prohibition { action, exception })
}

pub(super) fn permission(pair: Pair<'_, Rule>) -> Result<NormBody> {
    let mut kids = Children::of(pair);
    let action = action(kids.required("an action")?)?;
    let mut activation = None;
    let mut window = None;
    while let Some(p) = kids.next() {
        match p.as_rule() {
            Rule::activation => {
                let span = span_of(&p);
                let mut k = Children::of(p);
                let delay = expr(k.required("a duration")?)?;
                let unless = k.next().map(|u| ident(&u));
                let unless_key = k.next().map(same_key_of).transpose()?;
                activation = Some(Activation {
                    delay,
                    unless,
                    unless_key,
                    span,
                });
            }
            _ => window = Some(expr(Children::of(p).required("a duration")?)?),
        }
    }
    Ok(NormBody::Permission {
        action,
        activation,
        window,
    })
}

pub(super) fn power(pair: Pair<'_, Rule>) -> Result<NormBody> {
    let mut kids = Children::of(pair);
    let mut actions = Vec::new();
    let mut window = None;
    while let Some(p) = kids.next() {
        match p.as_rule() {
            Rule::action => actions.push(action(p)?),
            _ => window = Some(expr(Children::of(p).required("a duration")?)?),
        }
    }
    Ok(NormBody::Power { actions, window })
}

pub(super) fn exclusive(pair: Pair<'_, Rule>) -> Result<Exclusive> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let subject_pair = kids.required("what the exclusivity is over")?;
    let subject = Children::of(subject_pair).inner.map(|w| ident(&w)).collect();
    let grantor = ident(&kids.required("a party")?);
    let role_field = ident(&kids.required("a field name")?);
    let event = ident(&kids.required("an event name")?);
    let mut condition = None;
    let mut exc = None;
    while let Some(p) = kids.next() {
        match p.as_rule() {
            Rule::exception => exc = Some(exception(p)?),
            _ => condition = Some(expr(p)?),
        }
    }
    Ok(Exclusive {
        span,
        subject,
        grantor,
        role_field,
        event,
        condition,
        exception: exc,
    })
}

pub(super) fn first_refusal(pair: Pair<'_, Rule>) -> Result<FirstRefusal> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let deal_event = ident(&kids.required("an event name")?);
    let grantor = ident(&kids.required("a party")?);
    let mut r = FirstRefusal {
        span,
        deal_event,
        grantor,
        condition: None,
        offered_by: None,
        accepted_by: None,
        declined_by: None,
        matched_on: None,
        window: None,
        only_if: None,
        repeated: Vec::new(),
    };
    let mut seen: Vec<(Rule, Span)> = Vec::new();
    while let Some(p) = kids.next() {
        let rule = p.as_rule();
        let here = span_of(&p);
        if let Some((_, first)) = seen.iter().find(|(r, _)| *r == rule) {
            r.repeated.push((refusal_part_name(rule), *first, here));
            continue;
        }
        seen.push((rule, here));
        let mut k = Children::of(p);
        let inner = k.required("a value")?;
        match rule {
            Rule::refusal_where => r.condition = Some(expr(inner)?),
            Rule::offered_by => r.offered_by = Some(ident(&inner)),
            Rule::accepted_by => r.accepted_by = Some(ident(&inner)),
            Rule::declined_by => r.declined_by = Some(ident(&inner)),
            Rule::matched_on => r.matched_on = Some(ident(&inner)),
            Rule::open_for => r.window = Some(expr(inner)?),
            Rule::only_if => r.only_if = Some(expr(inner)?),
            _ => return Err(shape_error(here, "a part of the first refusal")),
        }
    }
    Ok(r)
}

pub(super) fn refusal_part_name(rule: Rule) -> &'static str {
    match rule {
        Rule::refusal_where => "where",
        Rule::offered_by => "offered by",
        Rule::accepted_by => "accepted by",
        Rule::declined_by => "declined by",
        Rule::matched_on => "matched on",
        Rule::open_for => "open for",
        _ => "only if",
    }
}

pub(super) fn owes(pair: Pair<'_, Rule>) -> Result<Owes> {
    let (mut o, mut kids) = owed(pair)?;
    while let Some(p) = kids.next() {
        match p.as_rule() {
            Rule::event_match => o.per = Some(event_match(p)?),
            Rule::growing => {
                let mut k = Children::of(p);
                o.growing_until = Some(ident(&k.required("an event name")?));
                o.growing_key = k.next().map(same_key_of).transpose()?;
            }
            Rule::same_key => o.per_key = Some(same_key_of(p)?),
            Rule::time_trigger => o.per = Some(time_trigger(p)?),
            Rule::schedule => o.schedule = Some(schedule(p)?),
            _ => o.settled_by.push(settled_by(p)?),
        }
    }
    Ok(o)
}

/// `Buyer must pay Seller 100 USD by 2025-01-01`: the same amount owed as
/// `Buyer owes Seller 100 USD due by 2025-01-01`, its deadline the due date.
pub(super) fn pay_amount(pair: Pair<'_, Rule>) -> Result<Owes> {
    let (mut o, mut kids) = owed(pair)?;
    while let Some(p) = kids.next() {
        match p.as_rule() {
            Rule::event_match => o.per = Some(event_match(p)?),
            Rule::same_key => o.per_key = Some(same_key_of(p)?),
            Rule::pay_due => {
                let span = span_of(&p);
                let timing = due_timing(Children::of(p).required("when it is due")?)?;
                o.schedule = Some(Schedule {
                    timing,
                    alternative: None,
                    span,
                });
            }
            _ => o.settled_by.push(settled_by(p)?),
        }
    }
    Ok(o)
}

/// The payee and the amount, which every way of owing starts with; the
/// rest of the children are the caller's to read.
fn owed(pair: Pair<'_, Rule>) -> Result<(Owes, Children<'_>)> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let payee = ident(&kids.required("a party")?);
    let amount = expr(kids.required("an amount")?)?;
    let o = Owes {
        span,
        payee,
        amount,
        per: None,
        growing_until: None,
        growing_key: None,
        per_key: None,
        schedule: None,
        settled_by: Vec::new(),
    };
    Ok((o, kids))
}

fn settled_by(p: Pair<'_, Rule>) -> Result<SettledBy> {
    let span = span_of(&p);
    let mut k = Children::of(p);
    let event = event_match(k.required("an event")?)?;
    let applying = k.next().map(expr).transpose()?;
    Ok(SettledBy {
        span,
        event,
        applying,
    })
}

/// `by D` or a timing: when an amount is due.
fn due_timing(pair: Pair<'_, Rule>) -> Result<Timing> {
    if pair.as_rule() == Rule::due_by {
        let span = span_of(&pair);
        let grace = expr(Children::of(pair).required("a date")?)?;
        return Ok(Timing {
            grace,
            anchor: Anchor::Date,
            span,
        });
    }
    timing(pair)
}

pub(super) fn schedule(pair: Pair<'_, Rule>) -> Result<Schedule> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let first = due_timing(kids.required("when it is due")?)?;
    let alternative = match kids.next() {
        Some(alt) => {
            let mut k = Children::of(alt);
            let cond = expr(k.required("a condition")?)?;
            Some((cond, timing(k.required("when it is due")?)?))
        }
        None => None,
    };
    Ok(Schedule {
        timing: first,
        alternative,
        span,
    })
}

pub(super) fn timing(pair: Pair<'_, Rule>) -> Result<Timing> {
    let span = span_of(&pair);
    let mut kids = Children::of(pair);
    let grace = expr(kids.required("a duration")?)?;
    let anchor = match kids.next() {
        None => Anchor::Accrual,
        Some(a) => {
            let inner = Children::of(a).required("what it is counted from")?;
            match inner.as_rule() {
                Rule::each_period => Anchor::EachPeriod(period(inner)),
                Rule::its_period => Anchor::ItsPeriod(period(inner)),
                _ => Anchor::Event(ident(&inner)),
            }
        }
    };
    Ok(Timing { grace, anchor, span })
}

pub(super) fn period(pair: Pair<'_, Rule>) -> Period {
    let rule = pair
        .into_inner()
        .find(|p| p.as_rule() == Rule::period)
        .and_then(|p| p.into_inner().next())
        .map(|p| p.as_rule());
    match rule {
        Some(Rule::kw_month) => Period::Month,
        Some(Rule::kw_year) => Period::Year,
        _ => Period::Quarter,
    }
}

// ---------------------------------------------------------------- expressions

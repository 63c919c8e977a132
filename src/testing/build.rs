//! Test file text to [`TestFile`]: pest, then one function per rule.

use miette::SourceSpan;
use pest::iterators::Pair;
use pest::Parser as _;

use super::ast::*;
use super::error::TestError;
use super::parser::{Rule, TestParser};
use crate::diag::source::SourceFile;
use crate::diag::words::{found_at, missing_at, one_of};

/// Test files are read whole, like contracts.
pub const MAX_TEST_BYTES: usize = 1 << 20;

type P<'i> = Pair<'i, Rule>;

/// Where a rule is written: from its first word to its last, without the
/// blanks and comments pest skipped after it.
fn span(p: &P<'_>) -> SourceSpan {
    let s = p.as_span();
    let end = p
        .clone()
        .into_inner()
        .last()
        .map_or(s.end(), |q| span(&q).offset() + span(&q).len())
        .max(s.start());
    (s.start(), end - s.start()).into()
}

fn named(p: &P<'_>) -> Named {
    Named {
        text: p.as_str().to_string(),
        span: span(p),
    }
}

/// The text of a string literal, escapes read.
fn unquote(p: &P<'_>) -> String {
    let inner = p.as_str();
    let inner = inner
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(inner);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn string_named(p: &P<'_>) -> Named {
    Named {
        text: unquote(p),
        span: span(p),
    }
}

/// Parses a test file.
pub fn parse(src: &SourceFile) -> Result<TestFile, Box<TestError>> {
    let text: &str = &src.text;
    if text.len() > MAX_TEST_BYTES {
        return Err(Box::new(TestError::Syntax {
            expected: "a test file of at most 1 MiB".into(),
            found: format!("{} bytes", text.len()),
            src: src.clone(),
            span: (0, 0).into(),
            help: "split the scenarios into several test files".into(),
        }));
    }
    let mut pairs = TestParser::parse(Rule::file, text).map_err(|e| Box::new(from_pest(src, e)))?;
    let Some(file) = pairs.next() else {
        return Ok(TestFile {
            contract: None,
            scenarios: Vec::new(),
        });
    };
    let mut out = TestFile {
        contract: None,
        scenarios: Vec::new(),
    };
    for p in file.into_inner() {
        match p.as_rule() {
            Rule::header => {
                out.contract = p
                    .into_inner()
                    .find(|q| q.as_rule() == Rule::string)
                    .map(|q| string_named(&q));
            }
            Rule::scenario => out.scenarios.push(scenario(p, text)),
            _ => {}
        }
    }
    Ok(out)
}

fn scenario(p: P<'_>, text: &str) -> Scenario {
    let mut s = Scenario {
        name: Named {
            text: String::new(),
            span: span(&p),
        },
        sets: Vec::new(),
        events: Events::None,
        expects: Vec::new(),
    };
    for q in p.into_inner() {
        match q.as_rule() {
            Rule::string => s.name = string_named(&q),
            Rule::setting => {
                let whole = span(&q);
                let mut name = None;
                let mut value = String::new();
                for r in q.into_inner() {
                    match r.as_rule() {
                        Rule::ident => name = Some(named(&r)),
                        Rule::set_value => value = r.as_str().trim().to_string(),
                        _ => {}
                    }
                }
                if let Some(name) = name {
                    s.sets.push(Setting {
                        name,
                        value,
                        span: whole,
                    });
                }
            }
            Rule::events => s.events = events(q, text),
            Rule::expect => s.expects.push(expect(q)),
            _ => {}
        }
    }
    s
}

fn events(p: P<'_>, text: &str) -> Events {
    let mut inline = Vec::new();
    for q in p.into_inner() {
        match q.as_rule() {
            Rule::events_from => {
                if let Some(path) = q.into_inner().find(|r| r.as_rule() == Rule::string) {
                    return Events::File(string_named(&path));
                }
            }
            Rule::event_line => inline.push(event_line(q, text)),
            _ => {}
        }
    }
    Events::Inline(inline)
}

fn event_line(p: P<'_>, text: &str) -> InlineEvent {
    let whole = span(&p);
    let line = crate::diag::source::line_col(text, whole.offset()).0;
    let mut ev = InlineEvent {
        at: String::new(),
        kind: Named {
            text: String::new(),
            span: whole,
        },
        fields: Vec::new(),
        span: whole,
        line,
    };
    for q in p.into_inner() {
        match q.as_rule() {
            Rule::date | Rule::datetime => ev.at = q.as_str().to_string(),
            Rule::ident => ev.kind = named(&q),
            Rule::field_values => {
                for f in q.into_inner().filter(|r| r.as_rule() == Rule::field_value) {
                    let mut name = String::new();
                    let mut value = String::from("null");
                    for r in f.into_inner() {
                        match r.as_rule() {
                            Rule::name => name = r.as_str().to_string(),
                            Rule::value => value = json_value(r),
                            _ => {}
                        }
                    }
                    ev.fields.push((name, value));
                }
            }
            _ => {}
        }
    }
    ev
}

fn json_string(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

/// A value as written in a test file, as it is written in an events file.
fn json_value(p: P<'_>) -> String {
    let Some(v) = p.into_inner().next() else {
        return "null".into();
    };
    match v.as_rule() {
        Rule::quantity => {
            let text = v.as_str();
            let mut number = String::new();
            let mut suffix = None;
            for q in v.into_inner() {
                match q.as_rule() {
                    Rule::signed => number = q.as_str().replace('_', ""),
                    Rule::percent_sign => suffix = Some("%".to_string()),
                    Rule::currency | Rule::unit => suffix = Some(format!(" {}", q.as_str())),
                    _ => {}
                }
            }
            match suffix {
                Some(s) => json_string(&format!("{number}{s}")),
                // A JSON number, unless its digits are not one (`007`).
                None if serde_json::from_str::<serde_json::Number>(&number).is_ok() => number,
                None => json_string(text),
            }
        }
        Rule::string => json_string(&unquote(&v)),
        Rule::boolean => v.as_str().trim().to_string(),
        _ => json_string(v.as_str()),
    }
}

fn expect(p: P<'_>) -> Expect {
    let mut head = span(&p);
    let mut e = Expect {
        as_of: None,
        head,
        items: Vec::new(),
    };
    let start = head.offset();
    let mut head_end = start + "expect".len();
    for q in p.into_inner() {
        match q.as_rule() {
            Rule::as_of => {
                head_end = q.as_span().end();
                e.as_of = q
                    .into_inner()
                    .find(|r| matches!(r.as_rule(), Rule::date | Rule::datetime))
                    .map(|r| named(&r));
            }
            Rule::kw_expect => {}
            _ => {
                let s = span(&q);
                if let Some(what) = expectation(q) {
                    e.items.push(Item { what, span: s });
                }
            }
        }
    }
    head = (start, head_end - start).into();
    e.head = head;
    e
}

fn amount(p: &P<'_>) -> Amount {
    let mut a = Amount {
        text: String::new(),
        currency: String::new(),
    };
    for q in p.clone().into_inner() {
        match q.as_rule() {
            Rule::signed => a.text = q.as_str().replace('_', ""),
            Rule::currency => a.currency = q.as_str().to_string(),
            _ => {}
        }
    }
    a
}

fn number<T: std::str::FromStr>(p: &P<'_>) -> Option<T> {
    p.as_str().replace('_', "").parse().ok()
}

fn expectation(p: P<'_>) -> Option<Expectation> {
    Some(match p.as_rule() {
        Rule::exit_status => {
            let n = p.into_inner().find(|q| q.as_rule() == Rule::number)?;
            Expectation::Exit(number(&n).unwrap_or(u8::MAX))
        }
        Rule::clause_state => {
            let mut name = None;
            let mut state = None;
            let mut since = None;
            for q in p.into_inner() {
                match q.as_rule() {
                    Rule::ident => name = Some(named(&q)),
                    Rule::state => state = Some(named(&q)),
                    Rule::since => since = moment(q),
                    _ => {}
                }
            }
            Expectation::Clause {
                name: name?,
                state: state?,
                since,
            }
        }
        Rule::norm_state => {
            let mut n = NormExpect::default();
            for q in p.into_inner() {
                match q.as_rule() {
                    Rule::norm_kind => n.kind = Some(named(&q)),
                    Rule::in_clause => n.clause = ident(q),
                    Rule::of_party => n.bearer = ident(q),
                    Rule::to_action => n.action = ident(q),
                    Rule::for_key => {
                        n.key = q
                            .into_inner()
                            .find(|r| r.as_rule() == Rule::string)
                            .map(|r| unquote(&r))
                    }
                    Rule::state => n.state = Some(named(&q)),
                    Rule::times => {
                        n.times = q
                            .into_inner()
                            .find(|r| r.as_rule() == Rule::number)
                            .and_then(|r| number(&r))
                    }
                    Rule::since => n.since = moment(q),
                    Rule::due => n.due = moment(q),
                    Rule::outstanding => {
                        n.outstanding = q
                            .into_inner()
                            .find(|r| r.as_rule() == Rule::money)
                            .map(|r| amount(&r))
                    }
                    _ => {}
                }
            }
            Expectation::Norm(n)
        }
        Rule::balance => {
            let mut names = Vec::new();
            let mut amounts = Amounts::default();
            let mut nothing = false;
            for q in p.into_inner() {
                match q.as_rule() {
                    Rule::ident => names.push(named(&q)),
                    Rule::nothing => nothing = true,
                    Rule::money => amounts.outstanding = Some(amount(&q)),
                    Rule::amount_part => {
                        let mut word = String::new();
                        let mut money = None;
                        let mut count = None;
                        for r in q.into_inner() {
                            match r.as_rule() {
                                Rule::amount_word => word = r.as_str().to_string(),
                                Rule::money => money = Some(amount(&r)),
                                Rule::number => count = number(&r),
                                _ => {}
                            }
                        }
                        match word.as_str() {
                            "accrued" => amounts.accrued = money,
                            "paid" => amounts.paid = money,
                            "overdue" => amounts.overdue = money,
                            "unapplied" => amounts.unapplied = money,
                            _ => amounts.undetermined = count,
                        }
                    }
                    _ => {}
                }
            }
            let mut names = names.into_iter();
            Expectation::Owes {
                from: names.next()?,
                to: names.next()?,
                amounts: (!nothing).then_some(amounts),
            }
        }
        Rule::no_breaches => Expectation::NoBreaches,
        Rule::breach => {
            let mut b = BreachExpect::default();
            for q in p.into_inner() {
                match q.as_rule() {
                    Rule::ident if b.party.is_none() => b.party = Some(named(&q)),
                    Rule::ident => b.clause = Some(named(&q)),
                    Rule::date | Rule::datetime => b.on = q.as_str().to_string(),
                    Rule::by_event => b.by = ident(q),
                    Rule::by_deadline => b.deadline = true,
                    Rule::at_line => {
                        b.line = q
                            .into_inner()
                            .find(|r| r.as_rule() == Rule::number)
                            .and_then(|r| number(&r))
                    }
                    _ => {}
                }
            }
            Expectation::Breach(b)
        }
        Rule::counts => {
            let mut c = Counts::default();
            for q in p.into_inner().filter(|q| q.as_rule() == Rule::count_part) {
                let mut n = None;
                let mut word = String::new();
                for r in q.into_inner() {
                    match r.as_rule() {
                        Rule::number => n = number(&r),
                        Rule::count_word => word = r.as_str().to_string(),
                        _ => {}
                    }
                }
                match word.as_str() {
                    "applied" => c.applied = n,
                    "rejected" => c.rejected = n,
                    "ineffective" => c.ineffective = n,
                    _ => c.duplicates = n,
                }
            }
            Expectation::Counts(c)
        }
        _ => return None,
    })
}

fn ident(p: P<'_>) -> Option<Named> {
    p.into_inner()
        .find(|q| q.as_rule() == Rule::ident)
        .map(|q| named(&q))
}

fn moment(p: P<'_>) -> Option<String> {
    p.into_inner()
        .find(|q| matches!(q.as_rule(), Rule::date | Rule::datetime))
        .map(|q| q.as_str().to_string())
}

// ---------------------------------------------------------------- errors

fn from_pest(src: &SourceFile, e: pest::error::Error<Rule>) -> TestError {
    let text: &str = &src.text;
    let at = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    let positives: Vec<Rule> = match &e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => positives.clone(),
        pest::error::ErrorVariant::CustomError { .. } => Vec::new(),
    };
    let mut words: Vec<&'static str> = Vec::new();
    for r in &positives {
        let w = describe(*r);
        if !words.contains(&w) {
            words.push(w);
        }
    }
    if words.len() > 1 {
        words.retain(|w| *w != "something else");
    }
    let expected = one_of(&words);
    let (found, span) = found_at(text, at, |c| {
        c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
    });
    let span = missing_at(text, at, &found, span);
    TestError::Syntax {
        expected,
        found,
        src: src.clone(),
        span: span.into(),
        help: example(&positives).to_string(),
    }
}

fn describe(rule: Rule) -> &'static str {
    use Rule::*;
    match rule {
        header | kw_tests => "`tests of \"CONTRACT.deal\"`",
        scenario | kw_scenario => "`scenario \"its name\"`",
        string | string_inner => "text in double quotes",
        setting | kw_set => "`set`",
        events | kw_events => "`events`",
        event_line => "an event (`2025-03-01 payment (amount: 100 USD)`)",
        expect | kw_expect => "`expect`",
        as_of | kw_as => "`as of`",
        exit_status | kw_exit => "`exit`",
        clause_state | kw_clause => "`clause`",
        norm_state | kw_norm => "`norm`",
        no_breaches | kw_no => "`no breaches`",
        breach | balance | ident | name | word | norm_kind | state => "a name",
        counts => "`events` and their counts",
        date => "a date like 2025-01-21",
        datetime => "a date-time like 2025-01-21T09:30:00Z",
        quantity | number | signed => "a number",
        money => "an amount like `100.00 USD`",
        currency => "a currency like `USD`",
        value => "a value",
        field_values | lparen => "`(`",
        rparen => "`)`",
        comma => "`,`",
        colon => "`:`",
        equals => "`=`",
        kw_is => "`is`",
        kw_of => "`of`",
        kw_owes => "`owes`",
        kw_breached => "`breached`",
        kw_on => "`on`",
        kw_from | events_from => "`from`",
        kw_since | since => "`since`",
        kw_due | due => "`due`",
        kw_times | kw_time | times => "`times`",
        amount_part | amount_word => "`accrued`, `paid`, `overdue` or `unapplied`",
        count_part | count_word => "a count like `3 applied`",
        EOI => "the end of the file",
        _ => "something else",
    }
}

fn example(expected: &[Rule]) -> &'static str {
    use Rule::*;
    for r in expected {
        let ex = match r {
            header | kw_tests | scenario | kw_scenario => {
                "a test file reads `tests of \"supply.deal\"`, then `scenario \"late delivery\"`, its `events` and what to `expect`"
            }
            expect | kw_expect => "a scenario ends with what to expect: `expect as of 2025-05-01`, then `exit 1`, `clause supply is active` …",
            event_line | date | datetime => "an event reads `2025-03-01 payment (from: Buyer, to: Seller, amount: 100.00 USD)`",
            value | field_value | colon => "fields read `name: value`: `amount: 100.00 USD`, `rate: 25%`, `ref: \"po-7\"`, `party: Buyer`",
            money | currency => "amounts are written with their currency: `250.00 USD`",
            equals | setting => "a setting reads `set future_profit_rate = 10%`",
            kw_is | state => "a state reads `clause supply is active` or `norm obligation in supply is fulfilled`",
            kw_owes => "a balance reads `Buyer owes Seller 100.00 USD, overdue 100.00 USD` or `Buyer owes Seller nothing`",
            kw_breached | kw_on => "a breach reads `Seller breached supply on 2025-02-11 when the deadline passed`",
            _ => continue,
        };
        return ex;
    }
    "`deal init example` writes a contract with a test file that shows each form"
}

//! What the parser wanted where it stopped, in words a contract's author
//! reads: the rules pest expected, named; the token found; an example of the
//! construct being written.

use pest::Parser as _;

use super::error::SyntaxError;
use super::parser::{self, Rule};
use crate::diag::words::{found_at, missing_at, one_of};

pub(super) fn from_pest(source: &str, e: pest::error::Error<Rule>) -> SyntaxError {
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
    // After a complete value, pest lists every way the expression could go
    // on; a reader wants the next clause word, and "an operator" once.
    if words.contains(&OPERATOR) {
        words.retain(|w| !matches!(*w, "`(`" | "`.`" | "`is`" | "`of`"));
    }
    if words.len() > 1 {
        words.retain(|w| *w != "something else");
    }
    words.sort_by_key(|w| matches!(*w, OPERATOR | VALUE));
    let expected = one_of(&words);
    let (found, span) = found_at(source, at, |c| {
        c.is_alphanumeric() || matches!(c, '_' | '-' | '.')
    });
    let span = missing_at(source, at, &found, span);
    SyntaxError::Unexpected {
        expected,
        found,
        span: span.into(),
        help: match reserved_word(source, at, &positives) {
            Some(word) => format!("`{word}` is a word of the language and cannot be a name here; choose another, e.g. `{word}_1`"),
            None => example(source, at, &positives).to_string(),
        },
    }
}

/// The reserved word at `at`, when a name was expected there.
fn reserved_word<'s>(source: &'s str, at: usize, expected: &[Rule]) -> Option<&'s str> {
    if !expected.iter().any(|r| matches!(r, Rule::ident | Rule::name)) {
        return None;
    }
    let rest = source.get(at..)?;
    let len = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    let word = rest.get(..len)?;
    let reserved = parser::DealParser::parse(Rule::keyword, word).is_ok_and(|p| p.as_str() == word);
    (!word.is_empty() && reserved).then_some(word)
}

const OPERATOR: &str = "an operator";
const VALUE: &str = "a value";

/// What a grammar rule is called in words.
fn describe(rule: Rule) -> &'static str {
    use Rule::*;
    match rule {
        header | kw_deal => "`deal` and the contract's title",
        string | string_inner => "text in double quotes",
        parties | kw_parties => "`parties`",
        in_force | kw_in => "`in force`",
        terms | kw_terms => "`terms`",
        events | kw_events => "`events`",
        clause | kw_clause => "`clause`",
        ident | name | subject_word | operand_name => "a name",
        date => "a date like 2025-01-21",
        datetime => "a date-time like 2025-01-21T09:30:00Z",
        quantity | number => {
            "a number, an amount like `100 USD`, a percentage like `25%` or a duration like `30 days`"
        }
        expr | paren | path_or_call | boolean => VALUE,
        field_list | lparen => "`(`",
        rparen => "`)`",
        comma => "`,`",
        colon => "`:`",
        equals => "`=`",
        dot => "`.`",
        field_decl => "a field like `amount: money`",
        term_def => "a term like `rate = 25%`",
        event_decl | event_ref => "an event name",
        norm | trigger_prefix => "a norm (a party and what it must, may or may not do)",
        kw_must => "`must`",
        kw_may => "`may`",
        kw_has => "`has`",
        kw_owes => "`owes`",
        kw_is => "`is`",
        kw_from | from_bound => "`from`",
        kw_until | until_bound => "`until`",
        kw_force => "`force`",
        kw_within | within_after => "`within`",
        kw_by | by_date => "`by`",
        kw_after => "`after`",
        kw_each => "`each`",
        kw_due | schedule => "`due`",
        kw_for => "`for`",
        kw_of => "`of`",
        kw_as => "`as`",
        kw_the => "`the`",
        kw_on => "`on`",
        kw_to | payee => "`to`",
        kw_settled | settled_by => "`settled by`",
        kw_unless | exception => "`unless preceded by`",
        kw_with | same_key => "`with the same`",
        period | kw_month | kw_quarter | kw_year => "`month`, `quarter` or `year`",
        kw_power => "`power`",
        kw_right => "`right`",
        kw_refusal => "`refusal`",
        kw_over => "`over`",
        kw_exclusive => "`exclusive`",
        kw_open | open_term => "`open`",
        kw_optional | optional => "`optional`",
        deadline => "a deadline (`within 30 days` or `by 2025-05-01`)",
        time_trigger | time_prefix | time_event | period_edge | kw_at => {
            "a time (`at the end of each quarter`, `every 3 months from 2025-01-15`, `on 2025-06-30`)"
        }
        edge | kw_start | kw_end => "`start` or `end`",
        every_period | kw_every => "`every 3 months from 2025-01-15`",
        of_the_term | kw_term => "`of the term`",
        EOI => "the end of the file",
        op_add | op_sub | op_mul | op_div | op_of | op_le | op_ge | op_lt | op_gt | op_ne | op_eq
        | op_is_not | op_is | op_and | op_or => "an operator",
        op_neg | op_not => "a value",
        _ => "something else",
    }
}

/// A correct example of the construct that was being read: judged first by
/// the words just before the error, then by what was expected.
fn example(source: &str, at: usize, expected: &[Rule]) -> &'static str {
    use Rule::*;
    let before = source.get(..at).unwrap_or("");
    if expected.contains(&string) && source.get(at..).is_some_and(|r| r.starts_with('"')) {
        return "text in quotes must be closed on the same line: `deal \"Supply agreement\"`";
    }
    let statement = before.rsplit("\n\n").next().unwrap_or(before);
    let last_word = |w: &str| statement.rfind(w);
    let context = [
        ("due ", "say when the amount is due: `due 30 days after each quarter`, `due within 10 days`"),
        ("within ", "a deadline reads `within 30 days` or `within 30 days after order`"),
        ("first refusal", "a first refusal reads: `Microsoft has a right of first refusal over cloud_contract by OpenAI`, then `offered by …`, `accepted by …`, `declined by …`, `matched on ref`, `open for 30 days`"),
        ("exclusive", "an exclusivity reads `Microsoft is the exclusive cloud provider of OpenAI as provider of cloud_contract`"),
        ("in force", "a term reads `in force from 2019-07-22 until 2030-12-31`; either end may be an event"),
    ];
    if let Some((_, help)) = context
        .iter()
        .filter_map(|(w, h)| last_word(w).map(|i| (i, h)))
        .max_by_key(|(i, _)| *i)
    {
        let opens = |word: &str| statement.trim_start().starts_with(word);
        if !opens("events") && !opens("terms") {
            return help;
        }
    }
    for r in expected {
        let ex = match r {
            header | kw_deal => "a contract starts with its title: `deal \"Supply agreement\"`",
            date => "dates are written year-month-day: `in force from 2019-07-22 until 2030-12-31`",
            field_decl | colon => "fields are written `name: type`, e.g. `cloud_offer (ref: text, price: money)`",
            term_def | equals => "terms are written `name = value`, e.g. `revenue_rate = 25%` or `window = 30 days`",
            deadline | kw_within | kw_by | within_after | by_date => {
                "an obligation needs a deadline: `Seller must deliver within 30 days after order`"
            }
            kw_must | kw_may | kw_has | kw_owes | kw_is => {
                "a norm reads `Party must act within 30 days`, `Party must not act`, `Party may act`, \
                 `Party has the power to act`, `Party owes Other 25% of amount for each sale due 30 days after each quarter`"
            }
            kw_due | schedule => "say when the amount is due: `due 30 days after each quarter` or `due within 10 days`",
            kw_force => "a term reads `in force from 2019-07-22 until 2030-12-31`",
            rparen => "close the bracket with `)`",
            kw_of | kw_as => "an exclusivity reads `Microsoft is the exclusive cloud provider of OpenAI as provider of cloud_contract`",
            ident | name => "names are words of letters, digits and `_`, starting with a letter, e.g. `cloud_offer`",
            quantity | expr | paren | path_or_call => {
                "values are amounts (`100 USD`), percentages (`25%`), durations (`30 days`), dates (`2025-01-21`), \
                 text (`\"oci\"`), `true`/`false`, or names of terms and fields"
            }
            EOI => "each section starts with `parties`, `in force`, `terms`, `events` or `clause`",
            _ => continue,
        };
        return ex;
    }
    "see the language reference in the README for the form of each section"
}

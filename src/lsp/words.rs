//! The words of the language, each with a line of what it means, for hover
//! and completion.

use crate::syntax::{self, Rule};

/// What a word of the language means, in one line.
pub(super) fn meaning(word: &str) -> Option<&'static str> {
    Some(match word {
        "deal" => "opens the contract: `deal \"title\"`",
        "parties" => "the parties the deal binds: `parties Seller, Buyer`",
        "in" | "force" => "`in force from … until …`: when the contract, or a clause, applies; either end a date or an event",
        "from" => "where something starts: `in force from`, a table row `from 10%`, a permission `from 16 days after`",
        "until" => "where something stops: `in force until`, `growing until` an event",
        "terms" => "the values the parties agreed, each `name = value`",
        "open" => "`open TYPE`: a term agreed in principle, not yet fixed; `--set` fills it; `open for`: a first refusal's window",
        "table" => "a rate table: the first row whose bounds hold gives the value",
        "tiered" => "a tiered table adds up each band's rate applied to the part of the amount in it",
        "otherwise" => "the table row that holds when no other does",
        "above" | "below" | "up" => "a bound of a table row: `above` and `below` exclude the bound, `from` and `up to` include it",
        "events" => "what can happen, each with the fields it carries: `order (qty: number)`",
        "optional" => "a field the event may leave out",
        "clause" => "a named part of the deal: the norms it holds, and when they apply",
        "suspended" => "`suspended on E`: the clause stops applying when E happens",
        "resumed" => "`resumed on E`: a suspended clause applies again when E happens",
        "ended" => "`ended on E`: the clause ends for good when E happens",
        "on" => "the event that suspends, resumes or ends a clause, or that a first refusal is `matched on`",
        "where" => "narrows an event, or what is counted, by a condition on its fields",
        "after" => "`after each E,`: one instance of the norm for each E; `within 30 days after E`: counted from E",
        "each" => "one for every occurrence: `after each order`, `for each sale`, `due … after each quarter`",
        "must" => "an obligation: `must ACT within …`; `must not ACT` is a prohibition",
        "not" => "`must not`: a prohibition; in a condition, the opposite of what follows",
        "may" => "a permission: the party is free to act, `within` a window if one is given",
        "has" => "`has the power to ACT`: a power; `has a right of first refusal over …`",
        "power" => "a power: acting changes the deal; alternatives are joined by `or`",
        "owes" => "money owed: `A owes B AMOUNT for each E due …`; without `for each`, owed once as the clause comes into force",
        "to" => "the party paid or delivered to; `up to` in a table row; `the power to`",
        "within" => "a deadline or a window, counted from the norm's event or `after` another",
        "by" => "a deadline on a date: `by 2025-05-01`; `preceded by`, `settled by`, `offered by` name an event",
        "with" | "same" => "`with the same FIELD`: ties the act to the event that made the norm, by a shared field",
        "unless" => "`unless preceded by E`: the prohibition does not hold once E has happened",
        "preceded" => "`unless preceded by E`: the prohibition does not hold once E has happened",
        "is" => "`is the exclusive … of`: an exclusivity; in a condition, equality",
        "exclusive" => "an exclusivity: only this party may be the grantor's subject, as the named field of the event",
        "of" => "`25% of amount`: that part of it; `breach of C`: the breach of clause C",
        "as" => "`as FIELD of EVENT`: the event's field that names who serves the grantor",
        "the" | "a" => "part of the phrasing of a norm",
        "right" | "first" | "refusal" | "over" => "a right of first refusal: an offer must go first to the holder, who may match it",
        "offered" | "accepted" | "declined" => "the event by which a first refusal's offer is made, matched or passed",
        "matched" => "`matched on FIELD`: the field that ties the offer to its answer",
        "only" => "`only if C`: the offer counts only when C holds",
        "for" => "`for each E`: one amount owed for every E; `open for`: a first refusal's window",
        "due" => "when an amount owed is due: `due within 15 days`, `due 30 days after each quarter`, `due by 2025-06-30`",
        "pay" => "`must pay B AMOUNT by D`: an amount owed once (or `for each E`), settled by payments, breached when unpaid by D",
        "month" | "quarter" | "year" => "a calendar period: amounts due after each one are gathered into one debt",
        "its" => "`after its quarter`: each amount due after the end of its own period",
        "settled" => "`settled by E`: the payment event that pays what is owed",
        "applying" => "`applying X`: how much of a payment counts towards the debt",
        "growing" => "`growing until E`: the amount is worked out again as time passes, until E",
        "and" | "or" => "joins conditions; `or` also joins a power's alternatives and a due date's alternative",
        "if" | "then" | "else" => "`if C then A else B`: A when C holds, B otherwise",
        "count" => "`count(E where C since F)`: how many E have happened",
        "sum" => "`sum(E.field where C since F)`: the field added up over the E that happened",
        "since" => "counts only the events after the latest F",
        "breach" => "`breach of C`: the event deal raises when clause C is breached",
        "true" | "false" => "a yes/no value",
        "at" | "start" | "end" => {
            "`at the start|end of each month|quarter|year`: an occasion the clock makes, with no event needed"
        }
        "term" => "`of the term`: periods counted from the deal's first day (contract years), not the calendar's",
        "every" => "`every 3 months from 2025-01-15`: that date, and each step after it",
        _ => return None,
    })
}

/// The word of the language under `offset`, with its span, if the contract
/// parses: the concrete tree says which words are keywords there.
pub(super) fn keyword_at(text: &str, offset: usize) -> Option<(&str, (usize, usize))> {
    let file = syntax::concrete(text).ok()?;
    file.into_inner()
        .flatten()
        .filter(|p| is_keyword(p.as_rule()))
        .map(|p| p.as_span())
        .find(|s| s.start() <= offset && offset <= s.end())
        .and_then(|s| Some((text.get(s.start()..s.end())?, (s.start(), s.end()))))
}

fn is_keyword(rule: Rule) -> bool {
    format!("{rule:?}").starts_with("kw_")
}

/// The word a keyword rule stands for: `kw_must` is `must`.
pub(super) fn of_rule(rule: Rule) -> Option<String> {
    let name = format!("{rule:?}");
    let word = name.strip_prefix("kw_")?;
    syntax::words().find(|w| *w == word).map(str::to_string)
}

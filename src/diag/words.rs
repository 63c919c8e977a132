//! Words diagnostics share: the nearest name to a misspelt one, and how a
//! type is named in a sentence.

use crate::ops::Span;
use crate::value::Type;

/// How far apart two names may be for one to be suggested for the other:
/// a third of the longer, at least one edit.
fn close_enough(a: usize, b: usize) -> usize {
    (a.max(b) / 3).max(1)
}

/// "did you mean `x`?" for the closest of `candidates`, or nothing.
///
/// The work is bounded: only candidates whose length is within the allowed
/// distance are compared, and at most [`MAX_COMPARED`] of them, so that a
/// contract full of typos cannot make checking quadratic.
pub fn suggest<'c>(name: &str, candidates: impl Iterator<Item = &'c str>) -> String {
    let lower = name.to_lowercase();
    let best = candidates
        .filter(|c| c.len().abs_diff(name.len()) <= close_enough(c.len(), name.len()))
        .take(MAX_COMPARED)
        .map(|c| (strsim::damerau_levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= close_enough(c.len(), name.len()))
        .min_by_key(|(d, c)| (*d, c.len()));
    match best {
        Some((_, c)) => format!("did you mean `{c}`?"),
        None => String::new(),
    }
}

/// The most candidates a suggestion compares a name with.
pub const MAX_COMPARED: usize = 200;

/// A type named in a sentence: "a number", "money".
pub fn article(ty: Type) -> String {
    match ty {
        Type::Money => "money",
        Type::Entity => "an entity",
        Type::Party => "a party",
        Type::Decimal => "a number",
        Type::Percent => "a percentage",
        Type::Date => "a date",
        Type::Duration => "a duration",
        Type::Text => "text",
        Type::Bool => "a yes/no value",
    }
    .to_string()
}

/// What a parser expected, as one phrase: "a, b or c".
pub fn one_of(words: &[&str]) -> String {
    match words {
        [] => "something else".to_string(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

pub const END_OF_FILE: &str = "the end of the file";

/// Names the token at `at` as a reader would see it, with its span; `word`
/// says which characters go on with a word begun by a letter.
pub fn found_at(source: &str, at: usize, word: impl Fn(char) -> bool) -> (String, Span) {
    let rest = source.get(at..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return (END_OF_FILE.to_string(), Span::new(at, at));
    };
    if first.is_alphanumeric() || first == '_' {
        let len: usize = rest.chars().take_while(|c| word(*c)).map(char::len_utf8).sum();
        let text = rest.get(..len).unwrap_or(rest);
        (format!("`{text}`"), Span::new(at, at + len))
    } else if first == '"'
        && !rest
            .get(1..)
            .and_then(|r| r.lines().next())
            .unwrap_or("")
            .contains('"')
    {
        ("text that is never closed".to_string(), Span::new(at, at + 1))
    } else if first == '\n' || first == '\r' {
        ("the end of the line".to_string(), Span::new(at, at + 1))
    } else {
        (format!("`{first}`"), Span::new(at, at + first.len_utf8()))
    }
}

/// Where to point when a parser stopped at a line break or the end of the
/// file: just after the last word written, where the missing part belongs.
pub fn missing_at(source: &str, at: usize, found: &str, span: Span) -> Span {
    let before = source.get(..at).unwrap_or("");
    let written = before.trim_end().len();
    let gap = before.get(written..).unwrap_or_default();
    if found == END_OF_FILE || gap.contains('\n') || source.get(at..).is_some_and(|r| r.starts_with('\n')) {
        Span::new(written, written)
    } else {
        span
    }
}

//! Words diagnostics share: the nearest name to a misspelt one, and how a
//! type is named in a sentence.

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

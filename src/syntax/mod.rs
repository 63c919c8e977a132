//! Syntax: text to AST. Size and nesting are guarded first, then pest parses,
//! then `build` turns pairs into the AST.

pub mod ast;
mod build;
pub use build::normalised;
pub mod error;
mod expected;
pub mod limits;
mod parser;

pub use error::SyntaxError;
pub use parser::Rule;

use ast::Contract;
use expected::from_pest;
use pest::Parser as _;

/// Parses a whole `.deal` file.
pub fn parse(source: &str) -> Result<Contract, SyntaxError> {
    limits::check(source).map_err(|v| match v {
        limits::Violation::Empty => SyntaxError::Empty {
            span: (0, source.len()).into(),
        },
        limits::Violation::TooLarge { bytes } => SyntaxError::TooLarge { bytes },
        limits::Violation::TooDeep { span, .. } => SyntaxError::TooDeep { span: span.into() },
        limits::Violation::Unbalanced { span } => SyntaxError::Unbalanced { span: span.into() },
    })?;
    let mut pairs = parser::DealParser::parse(Rule::file, source).map_err(|e| from_pest(source, e))?;
    let file = pairs.next().ok_or_else(|| SyntaxError::Empty {
        span: (0, source.len()).into(),
    })?;
    build::contract(file)
}

/// Parses a lone expression; used for `--set NAME=VALUE`.
pub fn parse_expr(source: &str) -> Result<ast::Expr, SyntaxError> {
    limits::check(&format!("x {source}")).map_err(|_| SyntaxError::TooDeep {
        span: (0, source.len()).into(),
    })?;
    let mut pairs = parser::DealParser::parse(Rule::expr_only, source).map_err(|e| from_pest(source, e))?;
    let whole = pairs.next().ok_or_else(|| SyntaxError::Empty {
        span: (0, source.len()).into(),
    })?;
    let inner = whole
        .into_inner()
        .find(|p| p.as_rule() == Rule::expr)
        .ok_or_else(|| SyntaxError::Empty {
            span: (0, source.len()).into(),
        })?;
    build::expr(inner)
}

/// The concrete tree of a whole `.deal` file: every keyword, name and mark
/// with its span, for tools that must reproduce what was written (the
/// formatter). Guarded and reported exactly as [`parse`] is.
pub fn concrete(source: &str) -> Result<pest::iterators::Pair<'_, Rule>, SyntaxError> {
    parse(source)?;
    let mut pairs = parser::DealParser::parse(Rule::file, source).map_err(|e| from_pest(source, e))?;
    pairs.next().ok_or_else(|| SyntaxError::Empty {
        span: (0, source.len()).into(),
    })
}

/// The words of the language (`must`, `within`, `settled`, …), as the
/// grammar spells them: none can safely name a party, term, event or clause.
pub fn words() -> impl Iterator<Item = &'static str> {
    include_str!("../../grammar/deal.pest")
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("kw_")?;
            let (_, word) = rest.split_once('"')?;
            word.split('"').next()
        })
}

/// Whether `word` is a name as the grammar reads one: letters, digits and
/// `_`, starting with a letter or `_`.
pub fn is_name(word: &str) -> bool {
    parser::DealParser::parse(Rule::name, word)
        .is_ok_and(|mut p| p.next().is_some_and(|p| p.as_str() == word))
}

/// What the grammar would accept at the end of `prefix`, when `prefix` is
/// well formed up to its end: the rules pest tried there. Used to offer the
/// words that may come next. A mark no rule accepts is put at the end, so
/// that a prefix that is a whole contract still says what may follow it.
pub fn expected_at_end(prefix: &str) -> Option<Vec<Rule>> {
    // An unclosed bracket is what a half-typed line has; too deep a nesting
    // is refused as `parse` refuses it.
    match limits::check(prefix) {
        Ok(()) => {}
        Err(limits::Violation::Unbalanced { span }) if prefix.get(span.start..span.end) == Some("(") => {}
        Err(_) => return None,
    }
    let marked = format!("{prefix}\u{1}");
    let Err(e) = parser::DealParser::parse(Rule::file, &marked) else {
        return None;
    };
    let at = match e.location {
        pest::error::InputLocation::Pos(p) => p,
        pest::error::InputLocation::Span((s, _)) => s,
    };
    if marked.get(at..).is_none_or(|rest| rest.trim() != "\u{1}") {
        return None;
    }
    match e.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => Some(positives),
        pest::error::ErrorVariant::CustomError { .. } => None,
    }
}

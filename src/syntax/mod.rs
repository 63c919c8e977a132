//! Syntax: text to AST. Size and nesting are guarded first, then pest parses,
//! then `build` turns pairs into the AST.

pub mod ast;
mod build;
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

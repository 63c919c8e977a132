//! What can go wrong before a contract has an AST.

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

use super::limits::{MAX_DEPTH, MAX_OPERATORS, MAX_SOURCE_BYTES};

#[derive(Debug, Clone, Error, Diagnostic)]
pub enum SyntaxError {
    #[error("expected {expected}, found {found}")]
    #[diagnostic(code(deal::parse::syntax))]
    Unexpected {
        expected: String,
        found: String,
        #[label("expected {expected} here")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("the contract is empty")]
    #[diagnostic(
        code(deal::parse::empty),
        help("a contract starts with its title, e.g. `deal \"Supply agreement\"`, then its parties")
    )]
    Empty {
        #[label("nothing here")]
        span: SourceSpan,
    },

    #[error("the contract is {bytes} bytes long, more than the {MAX_SOURCE_BYTES} bytes accepted")]
    #[diagnostic(
        code(deal::parse::too_large),
        help("split the agreement into several contracts, or check that this is the right file")
    )]
    TooLarge { bytes: usize },

    #[error("brackets, prefix operators or `if`s are nested more than {MAX_DEPTH} deep")]
    #[diagnostic(
        code(deal::parse::too_deep),
        help("name the inner part as a term in the `terms` section and use its name here")
    )]
    TooDeep {
        #[label("too deep from here on")]
        span: SourceSpan,
    },

    #[error("this expression has more than {MAX_OPERATORS} operators")]
    #[diagnostic(
        code(deal::parse::expression_too_long),
        help("name parts of it as terms in the `terms` section, or add up events with `sum(…)`")
    )]
    ExpressionTooLong {
        #[label("too long from here on")]
        span: SourceSpan,
    },

    #[error("this bracket is never matched")]
    #[diagnostic(
        code(deal::parse::unbalanced),
        help("every `(` needs a `)` after it, and every `)` a `(` before it")
    )]
    Unbalanced {
        #[label("unmatched bracket")]
        span: SourceSpan,
    },

    #[error("`{text}` is not a number that can be held exactly")]
    #[diagnostic(
        code(deal::parse::bad_number),
        help("numbers have at most 28 significant digits, e.g. `1000000000.25`")
    )]
    BadNumber {
        text: String,
        #[label("this number")]
        span: SourceSpan,
    },
}

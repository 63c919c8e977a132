//! What the checker finds wrong with a contract that parsed.

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

#[derive(Debug, Clone, Error, Diagnostic)]
pub enum CheckError {
    #[error("{what} `{name}` is declared twice")]
    #[diagnostic(code(deal::check::duplicate_name))]
    Duplicate {
        what: &'static str,
        name: String,
        #[label("declared again here")]
        span: SourceSpan,
        #[label("first declared here")]
        first: SourceSpan,
        #[help]
        help: String,
    },

    #[error("unknown {what} `{name}`")]
    #[diagnostic(code(deal::check::unknown_name))]
    Unknown {
        what: &'static str,
        name: String,
        #[label("not a declared {what}")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("unknown type `{name}`")]
    #[diagnostic(code(deal::check::unknown_type))]
    UnknownType {
        name: String,
        #[label("not a type")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("expected {expected}, found {found}")]
    #[diagnostic(code(deal::check::type_mismatch))]
    TypeMismatch {
        expected: String,
        found: String,
        #[label("this is {found}")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("`{op}` cannot combine {left} and {right}")]
    #[diagnostic(code(deal::check::bad_operands))]
    BadOperands {
        op: &'static str,
        left: String,
        right: String,
        #[label("{left} {op} {right}")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("amounts in {left} and {right} cannot be combined")]
    #[diagnostic(
        code(deal::check::currency_mismatch),
        help("deal never converts currencies: state both amounts in one currency, or keep them in separate clauses")
    )]
    CurrencyMismatch {
        left: String,
        right: String,
        #[label("{left} and {right} here")]
        span: SourceSpan,
    },

    #[error("the term ends before it starts")]
    #[diagnostic(
        code(deal::check::ends_before_start),
        help("swap the dates, or correct the one that was mistyped")
    )]
    EndsBeforeStart {
        #[label("starts {start}")]
        start_span: SourceSpan,
        #[label("ends {end}")]
        end_span: SourceSpan,
        start: String,
        end: String,
    },

    #[error("term `{name}` is open: amounts that depend on it will be undetermined")]
    #[diagnostic(
        code(deal::check::open_term),
        severity(Warning),
        help("fix the value when it is agreed, or try one out with `deal run … --set {name}=VALUE`")
    )]
    OpenTerm {
        name: String,
        #[label("agreed in principle, value not fixed")]
        span: SourceSpan,
    },

    #[error("{what}")]
    #[diagnostic(code(deal::check::missing_part))]
    MissingPart {
        what: String,
        #[label("here")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("{what} is written twice")]
    #[diagnostic(code(deal::check::repeated_part), help("keep one of them"))]
    Repeated {
        what: String,
        #[label("again here")]
        span: SourceSpan,
        #[label("first here")]
        first: SourceSpan,
    },

    #[error("the value of term `{name}` must be known before any event")]
    #[diagnostic(
        code(deal::check::not_constant),
        help("a term's value may use literals and terms declared above it, not event fields")
    )]
    NotConstant {
        name: String,
        #[label("depends on something that is only known when events arrive")]
        span: SourceSpan,
    },

    #[error("`{event}` cannot settle amounts owed")]
    #[diagnostic(code(deal::check::bad_settlement))]
    BadSettlement {
        event: String,
        #[label("used to settle here")]
        span: SourceSpan,
        #[label("declared here")]
        decl: Option<SourceSpan>,
        #[help]
        help: String,
    },

    #[error("`{text}` is not a valid {what}")]
    #[diagnostic(code(deal::check::bad_literal))]
    BadLiteral {
        text: String,
        what: &'static str,
        #[label("invalid {what}")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("`{name}` takes {expected}")]
    #[diagnostic(code(deal::check::bad_call))]
    BadCall {
        name: String,
        expected: String,
        #[label("called here")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("`{name}` is not one of the deal's parties")]
    #[diagnostic(code(deal::check::not_a_party))]
    NotAParty {
        name: String,
        #[label("not a party")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("the deal has no parties")]
    #[diagnostic(
        code(deal::check::no_parties),
        help("name the parties after the title: `parties Microsoft, OpenAI`")
    )]
    NoParties {
        #[label("after this title")]
        span: SourceSpan,
    },
}

impl CheckError {
    pub fn is_warning(&self) -> bool {
        matches!(self, CheckError::OpenTerm { .. })
    }
}

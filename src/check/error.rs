//! What the checker finds wrong with a contract that parsed.

use miette::{Diagnostic, LabeledSpan, SourceSpan};
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

    #[error("`{name}` is a field of an event, unknown until events arrive")]
    #[diagnostic(
        code(deal::check::not_constant),
        help("a term's value may use literals and terms declared above it, not event fields; compute with the field in the clause that reads the event")
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

    #[error(
        "{first_holder} and {second_holder} are both the exclusive {subject} of {grantor} at the same time"
    )]
    #[diagnostic(
        code(deal::check::exclusivity_conflict),
        help("only one party can be exclusive at a time: end one exclusivity before the other starts, or name different subjects")
    )]
    ExclusivityConflict {
        subject: String,
        grantor: String,
        first_holder: String,
        second_holder: String,
        #[label("{second_holder} is exclusive here")]
        span: SourceSpan,
        #[label("{first_holder} is exclusive here")]
        other: SourceSpan,
    },

    #[error("{party} may be obliged to {act} and forbidden to at the same time")]
    #[diagnostic(
        code(deal::check::conflicting_norms),
        severity(Warning),
        help("narrow one of them with `where` or give the clauses periods that do not overlap")
    )]
    ConflictingNorms {
        party: String,
        act: String,
        #[label("forbidden here")]
        span: SourceSpan,
        #[label("obliged here")]
        other: SourceSpan,
    },

    #[error("shares of each `{base}` add up to {total}%, more than all of it")]
    #[diagnostic(
        code(deal::check::over_shared),
        help("the shares of one amount cannot exceed 100%; lower a rate or narrow a share with `where`")
    )]
    OverShared {
        base: String,
        total: String,
        #[label(collection)]
        shares: Vec<LabeledSpan>,
    },

    #[error("this deadline can never be met")]
    #[diagnostic(code(deal::check::impossible_deadline))]
    ImpossibleDeadline {
        #[label("{why}")]
        span: SourceSpan,
        why: String,
        #[help]
        help: String,
    },

    #[error("clause `{name}` can never be in force")]
    #[diagnostic(
        code(deal::check::never_active),
        severity(Warning),
        help("give the clause a period inside the deal's term, {term}")
    )]
    NeverActive {
        name: String,
        term: String,
        #[label("{why}")]
        span: SourceSpan,
        why: String,
    },

    #[error("{what} `{name}` is declared but never used")]
    #[diagnostic(code(deal::check::unused), severity(Warning))]
    Unused {
        what: &'static str,
        name: String,
        #[label("declared here")]
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
        matches!(
            self,
            CheckError::OpenTerm { .. }
                | CheckError::ConflictingNorms { .. }
                | CheckError::NeverActive { .. }
                | CheckError::Unused { .. }
        )
    }
}

//! What the checker finds wrong with a contract that parsed: one small
//! struct a problem, each with its code, its spans and its help, gathered
//! in [`CheckError`]. Severity is the diagnostic's own: warnings say so in
//! their attributes, and nothing restates it.

use miette::{Diagnostic, LabeledSpan, Severity, SourceSpan};
use thiserror::Error;

use crate::diag::source::SourceFile;

macro_rules! check_errors {
    ($($variant:ident),* $(,)?) => {
        /// Every problem the checker can find.
        #[derive(Debug, Clone, Error, Diagnostic)]
        pub enum CheckError {
            $(
                #[error(transparent)]
                #[diagnostic(transparent)]
                $variant($variant),
            )*
        }

        $(
            impl From<$variant> for CheckError {
                fn from(e: $variant) -> CheckError {
                    CheckError::$variant(e)
                }
            }
        )*
    };
}

check_errors!(
    DuplicateName,
    UnknownName,
    UnknownType,
    TypeMismatch,
    BadOperands,
    CurrencyMismatch,
    EndsBeforeStart,
    OpenTerm,
    RepeatedPart,
    NotConstant,
    BadSettlement,
    BadLiteral,
    UnknownCurrency,
    MixedScript,
    DivisionByZero,
    NegativePeriod,
    BadCall,
    NotAParty,
    NoParties,
    TieredOtherwise,
    NeedsTrigger,
    IncompleteForm,
    OwedForNothing,
    SumWithoutField,
    NothingSettles,
    ExclusivityConflict,
    ConflictingNorms,
    OverShared,
    ImpossibleDeadline,
    NeverActive,
    Unused,
    NoTermStart,
);

impl CheckError {
    pub fn is_warning(&self) -> bool {
        self.severity() == Some(Severity::Warning)
    }

    /// The term a warning says is open, if that is what it says.
    pub fn open_term(&self) -> Option<&str> {
        match self {
            CheckError::OpenTerm(e) => Some(&e.name),
            _ => None,
        }
    }
}

/// Every problem found in one contract, held with its text once.
#[derive(Debug, Clone, Error)]
#[error("`{}` has {} error(s)", .src.name, self.count())]
pub struct CheckFailure {
    pub src: SourceFile,
    pub problems: Vec<CheckError>,
}

impl CheckFailure {
    fn count(&self) -> usize {
        self.problems.iter().filter(|p| !p.is_warning()).count()
    }
}

impl Diagnostic for CheckFailure {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new("deal::check"))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.src)
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.problems.iter().map(|p| p as &dyn Diagnostic)))
    }
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("{what} `{name}` is declared twice")]
#[diagnostic(code(deal::check::duplicate_name))]
pub struct DuplicateName {
    pub(crate) what: &'static str,
    pub(crate) name: String,
    #[label("declared again here")]
    pub(crate) span: SourceSpan,
    #[label("first declared here")]
    pub(crate) first: SourceSpan,
    #[help]
    pub(crate) help: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("unknown {what} `{name}`")]
#[diagnostic(code(deal::check::unknown_name))]
pub struct UnknownName {
    pub(crate) what: &'static str,
    pub(crate) name: String,
    #[label("not a declared {what}")]
    pub(crate) span: SourceSpan,
    #[help]
    pub(crate) help: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("unknown type `{name}`")]
#[diagnostic(code(deal::check::unknown_type))]
pub struct UnknownType {
    pub(crate) name: String,
    #[label("not a type")]
    pub(crate) span: SourceSpan,
    #[help]
    pub(crate) help: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("expected {expected}, found {found}")]
#[diagnostic(code(deal::check::type_mismatch))]
pub struct TypeMismatch {
    pub(crate) expected: String,
    pub(crate) found: String,
    #[label("this is {found}")]
    pub(crate) span: SourceSpan,
    #[help]
    pub(crate) help: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("`{op}` cannot combine {left} and {right}")]
#[diagnostic(code(deal::check::bad_operands))]
pub struct BadOperands {
    pub(crate) op: &'static str,
    pub(crate) left: String,
    pub(crate) right: String,
    #[label("{left} {op} {right}")]
    pub(crate) span: SourceSpan,
    #[help]
    pub(crate) help: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("amounts in {left} and {right} cannot be combined")]
#[diagnostic(
    code(deal::check::currency_mismatch),
    help("deal never converts currencies: state both amounts in one currency, or keep them in separate clauses")
)]
pub struct CurrencyMismatch {
    pub(crate) left: String,
    pub(crate) right: String,
    #[label("{left} and {right} here")]
    pub(crate) span: SourceSpan,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("the term ends before it starts")]
#[diagnostic(
    code(deal::check::ends_before_start),
    help("swap the dates, or correct the one that was mistyped")
)]
pub struct EndsBeforeStart {
    #[label("starts {start}")]
    pub(crate) start_span: SourceSpan,
    #[label("ends {end}")]
    pub(crate) end_span: SourceSpan,
    pub(crate) start: String,
    pub(crate) end: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("term `{name}` is open: amounts that depend on it will be undetermined")]
#[diagnostic(
    code(deal::check::open_term),
    severity(Warning),
    help("fix the value when it is agreed, or try one out with `deal run … --set {name}=VALUE`")
)]
pub struct OpenTerm {
    pub(crate) name: String,
    #[label("agreed in principle, value not fixed")]
    pub(crate) span: SourceSpan,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("{what} is written twice")]
#[diagnostic(code(deal::check::repeated_part), help("keep one of them"))]
pub struct RepeatedPart {
    pub(crate) what: String,
    #[label("again here")]
    pub(crate) span: SourceSpan,
    #[label("first here")]
    pub(crate) first: SourceSpan,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("`{name}` is a field of an event, unknown until events arrive")]
#[diagnostic(
    code(deal::check::not_constant),
    help("a term's value may use literals and terms declared above it, not event fields; compute with the field in the clause that reads the event")
)]
pub struct NotConstant {
    pub(crate) name: String,
    #[label("depends on something that is only known when events arrive")]
    pub(crate) span: SourceSpan,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("`{event}` cannot settle amounts owed")]
#[diagnostic(code(deal::check::bad_settlement))]
pub struct BadSettlement {
    pub(crate) event: String,
    #[label("used to settle here")]
    pub(crate) span: SourceSpan,
    #[label("declared here")]
    pub(crate) decl: Option<SourceSpan>,
    #[help]
    pub(crate) help: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("`{text}` is not a valid {what}")]
#[diagnostic(code(deal::check::bad_literal))]
pub struct BadLiteral {
    pub(crate) text: String,
    pub(crate) what: &'static str,
    #[label("invalid {what}")]
    pub(crate) span: SourceSpan,
    #[help]
    pub(crate) help: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("`{name}` mixes {scripts} letters")]
#[diagnostic(
    code(deal::check::mixed_script),
    severity(Warning),
    help("a name that mixes writing systems can look like another name it is not; write it in one script")
)]
pub struct MixedScript {
    pub(crate) name: String,
    pub(crate) scripts: String,
    #[label("letters of more than one script")]
    pub(crate) span: SourceSpan,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("`{code}` is not an ISO 4217 currency")]
#[diagnostic(code(deal::check::unknown_currency))]
pub struct UnknownCurrency {
    pub(crate) code: String,
    #[label("not a currency code")]
    pub(crate) span: SourceSpan,
    #[help]
    pub(crate) help: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("this divides by zero")]
#[diagnostic(
    code(deal::check::division_by_zero),
    help("the divisor is worked out from terms alone, so every event would be refused; give it a value other than zero")
)]
pub struct DivisionByZero {
    #[label("{shown}")]
    pub(crate) span: SourceSpan,
    /// How the divisor came to be zero, e.g. "zero, with the values given by `--set`".
    pub(crate) shown: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("a period of `{value}` runs backwards")]
#[diagnostic(
    code(deal::check::negative_period),
    help("periods and delays count forward from the moment they start: write them as positive durations, e.g. `30 days`")
)]
pub struct NegativePeriod {
    pub(crate) value: String,
    #[label("{shown}")]
    pub(crate) span: SourceSpan,
    pub(crate) shown: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("`{name}` takes {expected}")]
#[diagnostic(code(deal::check::bad_call))]
pub struct BadCall {
    pub(crate) name: String,
    pub(crate) expected: String,
    #[label("called here")]
    pub(crate) span: SourceSpan,
    #[help]
    pub(crate) help: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("`{name}` is not one of the deal's parties")]
#[diagnostic(code(deal::check::not_a_party))]
pub struct NotAParty {
    pub(crate) name: String,
    #[label("not a party")]
    pub(crate) span: SourceSpan,
    #[help]
    pub(crate) help: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("the deal has no parties")]
#[diagnostic(
    code(deal::check::no_parties),
    help("name the parties after the title: `parties Microsoft, OpenAI`")
)]
pub struct NoParties {
    #[label("after this title")]
    pub(crate) span: SourceSpan,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("a tiered table cannot have an `otherwise` row")]
#[diagnostic(
    code(deal::check::tiered_otherwise),
    help("each band of a tiered table says where it starts and ends, e.g. `above 1000000 USD up to 5000000 USD: 8%`")
)]
pub struct TieredOtherwise {
    #[label("an `otherwise` row in a tiered table")]
    pub(crate) span: SourceSpan,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("{what} needs an event to {purpose}")]
#[diagnostic(code(deal::check::needs_trigger))]
pub struct NeedsTrigger {
    pub(crate) what: String,
    pub(crate) purpose: &'static str,
    #[label("here")]
    pub(crate) span: SourceSpan,
    #[help]
    pub(crate) help: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("the {form} does not say `{part}`")]
#[diagnostic(code(deal::check::incomplete_form))]
pub struct IncompleteForm {
    pub(crate) form: &'static str,
    pub(crate) part: &'static str,
    #[label("here")]
    pub(crate) span: SourceSpan,
    #[help]
    pub(crate) help: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("the amount is not owed for any event")]
#[diagnostic(code(deal::check::owed_for_nothing))]
pub struct OwedForNothing {
    #[label("here")]
    pub(crate) span: SourceSpan,
    #[help]
    pub(crate) help: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("`sum` needs a field to add up")]
#[diagnostic(code(deal::check::sum_without_field))]
pub struct SumWithoutField {
    #[label("here")]
    pub(crate) span: SourceSpan,
    #[help]
    pub(crate) help: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("nothing settles the amounts owed: they accrue and stay outstanding")]
#[diagnostic(
    code(deal::check::nothing_settles),
    severity(Warning),
    help("if they are paid, declare `payment (from: party, to: party, amount: money)` under `events`, or add `settled by EVENT` with such an event")
)]
pub struct NothingSettles {
    #[label("here")]
    pub(crate) span: SourceSpan,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("{first_holder} and {second_holder} are both the exclusive {subject} of {grantor} at the same time")]
#[diagnostic(
    code(deal::check::exclusivity_conflict),
    help("only one party can be exclusive at a time: end one exclusivity before the other starts, or name different subjects")
)]
pub struct ExclusivityConflict {
    pub(crate) subject: String,
    pub(crate) grantor: String,
    pub(crate) first_holder: String,
    pub(crate) second_holder: String,
    #[label("{second_holder} is exclusive here")]
    pub(crate) span: SourceSpan,
    #[label("{first_holder} is exclusive here")]
    pub(crate) other: SourceSpan,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("{party} may be obliged to {act} and forbidden to at the same time")]
#[diagnostic(
    code(deal::check::conflicting_norms),
    severity(Warning),
    help("narrow one of them with `where` or give the clauses periods that do not overlap")
)]
pub struct ConflictingNorms {
    pub(crate) party: String,
    pub(crate) act: String,
    #[label("forbidden here")]
    pub(crate) span: SourceSpan,
    #[label("obliged here")]
    pub(crate) other: SourceSpan,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("shares of each `{base}` add up to {total}%, more than all of it")]
#[diagnostic(
    code(deal::check::over_shared),
    help("the shares of one amount cannot exceed 100%; lower a rate or narrow a share with `where`")
)]
pub struct OverShared {
    pub(crate) base: String,
    pub(crate) total: String,
    #[label(collection)]
    pub(crate) shares: Vec<LabeledSpan>,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("this deadline can never be met")]
#[diagnostic(code(deal::check::impossible_deadline))]
pub struct ImpossibleDeadline {
    #[label("{why}")]
    pub(crate) span: SourceSpan,
    pub(crate) why: String,
    #[help]
    pub(crate) help: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("clause `{name}` can never be in force")]
#[diagnostic(
    code(deal::check::never_active),
    severity(Warning),
    help("give the clause a period inside the deal's term, {term}")
)]
pub struct NeverActive {
    pub(crate) name: String,
    pub(crate) term: String,
    #[label("{why}")]
    pub(crate) span: SourceSpan,
    pub(crate) why: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("{what} `{name}` is declared but never used")]
#[diagnostic(code(deal::check::unused), severity(Warning))]
pub struct Unused {
    pub(crate) what: &'static str,
    pub(crate) name: String,
    #[label("declared here")]
    pub(crate) span: SourceSpan,
    #[help]
    pub(crate) help: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
#[error("periods of the term need the deal to start somewhere")]
#[diagnostic(
    code(deal::check::no_term_start),
    help("give the deal its first day, `in force from 2025-04-01`, or count calendar periods: `the start of each year`")
)]
pub struct NoTermStart {
    #[label("counted from the deal's start")]
    pub(crate) span: SourceSpan,
}

//! A test file as written: scenarios, their events and expectations, each
//! with the span it was written at, so that a failure can point at it and
//! `--update` can rewrite it in place.

use miette::SourceSpan;

/// A word of the test file and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub text: String,
    pub span: SourceSpan,
}

#[derive(Debug, Clone)]
pub struct TestFile {
    /// `tests of "PATH"`: the contract, relative to the test file.
    pub contract: Option<Named>,
    pub scenarios: Vec<Scenario>,
}

#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: Named,
    pub sets: Vec<Setting>,
    pub events: Events,
    pub expects: Vec<Expect>,
}

/// `set NAME = VALUE`.
#[derive(Debug, Clone)]
pub struct Setting {
    pub name: Named,
    pub value: String,
    pub span: SourceSpan,
}

#[derive(Debug, Clone)]
pub enum Events {
    None,
    /// `events from "PATH"`, relative to the test file.
    File(Named),
    Inline(Vec<InlineEvent>),
}

/// `2025-03-01 cloud_contract (provider: Google, ref: "gcp")`.
#[derive(Debug, Clone)]
pub struct InlineEvent {
    pub at: String,
    pub kind: Named,
    /// Field names and their values, as JSON.
    pub fields: Vec<(String, String)>,
    pub span: SourceSpan,
    /// 1-based line in the test file.
    pub line: usize,
}

/// `expect [as of MOMENT]` and what follows it.
#[derive(Debug, Clone)]
pub struct Expect {
    pub as_of: Option<Named>,
    /// The `expect …` words.
    pub head: SourceSpan,
    pub items: Vec<Item>,
}

#[derive(Debug, Clone)]
pub struct Item {
    pub what: Expectation,
    pub span: SourceSpan,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amount {
    pub text: String,
    pub currency: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Amounts {
    pub outstanding: Option<Amount>,
    pub accrued: Option<Amount>,
    pub paid: Option<Amount>,
    pub overdue: Option<Amount>,
    pub unapplied: Option<Amount>,
    pub undetermined: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NormExpect {
    pub kind: Option<Named>,
    pub clause: Option<Named>,
    pub bearer: Option<Named>,
    pub action: Option<Named>,
    pub key: Option<String>,
    pub state: Option<Named>,
    pub times: Option<u64>,
    pub since: Option<String>,
    pub due: Option<String>,
    pub outstanding: Option<Amount>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BreachExpect {
    pub party: Option<Named>,
    pub clause: Option<Named>,
    pub on: String,
    pub by: Option<Named>,
    pub deadline: bool,
    pub line: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub applied: Option<u64>,
    pub rejected: Option<u64>,
    pub ineffective: Option<u64>,
    pub duplicates: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    Exit(u8),
    Clause {
        name: Named,
        state: Named,
        since: Option<String>,
    },
    Norm(NormExpect),
    /// `A owes B …`; `None` for `nothing`.
    Owes {
        from: Named,
        to: Named,
        amounts: Option<Amounts>,
    },
    NoBreaches,
    Breach(BreachExpect),
    Counts(Counts),
}

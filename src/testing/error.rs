//! What `deal test` reports: a failed expectation, or a test file that
//! cannot be run. Every one points into the test file.

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

use crate::diag::source::SourceFile;

/// A diagnostic from elsewhere (the contract, an events file), shown with
/// the test diagnostic it explains.
pub struct Related(pub Box<dyn Diagnostic + Send + Sync>);

impl std::fmt::Debug for Related {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

impl std::fmt::Display for Related {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for Related {}

impl Diagnostic for Related {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.0.code()
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.0.severity()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.0.help()
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.0.source_code()
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.0.labels()
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        self.0.related()
    }
}

#[derive(Debug, Error, Diagnostic)]
pub enum TestError {
    #[error("{message}")]
    #[diagnostic(code(deal::test::mismatch))]
    Mismatch {
        message: String,
        #[source_code]
        src: SourceFile,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        #[help]
        help: String,
    },

    #[error("expected {expected}, found {found}")]
    #[diagnostic(code(deal::test::syntax))]
    Syntax {
        expected: String,
        found: String,
        #[source_code]
        src: SourceFile,
        #[label("expected {expected} here")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("{message}")]
    #[diagnostic(code(deal::test::unknown_name))]
    UnknownName {
        message: String,
        #[source_code]
        src: SourceFile,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        #[help]
        help: String,
    },

    #[error("cannot read the contract `{path}`: {reason}")]
    #[diagnostic(code(deal::test::no_contract))]
    NoContract {
        path: String,
        reason: String,
        #[source_code]
        src: SourceFile,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        #[help]
        help: String,
    },

    #[error("the contract `{path}` has errors, so its tests cannot run")]
    #[diagnostic(
        code(deal::test::bad_contract),
        help("run `deal check {path}` and fix what it reports")
    )]
    BadContract {
        path: String,
        #[source_code]
        src: SourceFile,
        #[label("this contract")]
        span: SourceSpan,
        #[related]
        errors: Vec<Related>,
    },

    #[error("cannot read the events file `{path}`: {reason}")]
    #[diagnostic(
        code(deal::test::unreadable),
        help("the path is relative to the test file's folder")
    )]
    Unreadable {
        path: String,
        reason: String,
        #[source_code]
        src: SourceFile,
        #[label("this file")]
        span: SourceSpan,
    },

    #[error("{message}")]
    #[diagnostic(code(deal::test::rejected_event))]
    RejectedEvent {
        message: String,
        #[source_code]
        src: SourceFile,
        #[label("{label}")]
        span: SourceSpan,
        label: String,
        #[help]
        help: String,
        #[related]
        related: Vec<Related>,
    },

    #[error("{message}")]
    #[diagnostic(code(deal::test::bad_set))]
    BadSet {
        message: String,
        #[source_code]
        src: SourceFile,
        #[label("this setting")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("this expectation block states nothing")]
    #[diagnostic(code(deal::test::empty))]
    Empty {
        #[source_code]
        src: SourceFile,
        #[label("nothing expected here")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("two scenarios are called `{name}`")]
    #[diagnostic(
        code(deal::test::duplicate_name),
        help("give each scenario of a file its own name, so that a failure says which one")
    )]
    DuplicateName {
        name: String,
        #[source_code]
        src: SourceFile,
        #[label("first here")]
        first: SourceSpan,
        #[label("again here")]
        again: SourceSpan,
    },

    #[error("no tests for `{path}`")]
    #[diagnostic(code(deal::test::no_tests))]
    NoTests {
        path: String,
        #[help]
        help: String,
    },

    #[error("cannot read `{path}`: {reason}")]
    #[diagnostic(code(deal::test::unreadable_file), help("check the path"))]
    UnreadableFile { path: String, reason: String },
}

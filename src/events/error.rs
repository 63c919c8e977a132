//! What can be wrong with an events line, as diagnostics.

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

use super::MAX_LINE_BYTES;
use crate::diag::source::{LineSource, SourceFile};

/// Where a contract declaration lives, shown beside an event error.
#[derive(Debug, Clone, Error, Diagnostic)]
#[error("{what}")]
#[diagnostic(severity(Advice))]
pub struct Declared {
    pub what: String,
    #[source_code]
    pub src: SourceFile,
    #[label("{label}")]
    pub span: SourceSpan,
    pub label: String,
}

#[derive(Debug, Clone, Error, Diagnostic)]
pub enum EventError {
    #[error("line {line} is not a JSON object: {message}")]
    #[diagnostic(
        code(deal::event::not_json),
        help("each line holds one event, e.g. {{\"at\":\"2025-01-21\",\"event\":\"cloud_offer\",\"ref\":\"stargate\",\"price\":\"100 USD\"}}")
    )]
    NotJson {
        line: usize,
        message: String,
        #[source_code]
        src: LineSource,
        #[label("{message}")]
        span: SourceSpan,
    },

    #[error("line {line} has no `{what}`")]
    #[diagnostic(code(deal::event::missing_key))]
    MissingKey {
        line: usize,
        what: &'static str,
        #[source_code]
        src: LineSource,
        #[label("this event has no `{what}`")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("`{text}` is not a date or an RFC 3339 date-time")]
    #[diagnostic(
        code(deal::event::bad_at),
        help("write `at` as a date, \"2025-01-21\", or a date-time, \"2025-01-21T09:30:00Z\"")
    )]
    BadAt {
        text: String,
        #[source_code]
        src: LineSource,
        #[label("not a valid moment")]
        span: SourceSpan,
    },

    #[error("this event is dated {at}, earlier than line {previous_line} ({previous})")]
    #[diagnostic(
        code(deal::event::out_of_order),
        help("events must come in order of `at`; move this line up, or correct its date")
    )]
    OutOfOrder {
        at: String,
        previous: String,
        #[source_code]
        src: LineSource,
        #[label("earlier than the event before it")]
        span: SourceSpan,
        previous_line: usize,
    },

    #[error("unknown event kind `{kind}`")]
    #[diagnostic(code(deal::event::unknown_kind))]
    UnknownKind {
        kind: String,
        #[source_code]
        src: LineSource,
        #[label("not declared in the contract")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("`{event}` event lacks the field `{field}`")]
    #[diagnostic(code(deal::event::missing_field))]
    MissingField {
        event: String,
        field: String,
        #[source_code]
        src: LineSource,
        #[label("`{field}` missing from this event")]
        span: SourceSpan,
        #[help]
        help: String,
        #[related]
        declared: Vec<Declared>,
    },

    #[error("field `{field}` of `{event}` should be {expected}")]
    #[diagnostic(code(deal::event::bad_field))]
    BadField {
        event: String,
        field: String,
        expected: String,
        #[source_code]
        src: LineSource,
        #[label("not {expected}")]
        span: SourceSpan,
        #[help]
        help: String,
        #[related]
        declared: Vec<Declared>,
    },

    #[error("`{event}` events have no field `{field}`")]
    #[diagnostic(code(deal::event::unknown_field))]
    UnknownField {
        event: String,
        field: String,
        #[source_code]
        src: LineSource,
        #[label("not a field of `{event}`")]
        span: SourceSpan,
        #[help]
        help: String,
        #[related]
        declared: Vec<Declared>,
    },

    #[error("`{name}` in field `{field}` is not one of the deal's parties")]
    #[diagnostic(code(deal::event::not_a_party))]
    NotAParty {
        name: String,
        field: String,
        #[source_code]
        src: LineSource,
        #[label("not a party")]
        span: SourceSpan,
        #[help]
        help: String,
        #[related]
        declared: Vec<Declared>,
    },

    #[error("line {line} holds a carriage return that ends no line")]
    #[diagnostic(
        code(deal::event::carriage_return),
        help("lines of an events file end with a line feed (`\\n`, or `\\r\\n`); a file whose lines end with a carriage return alone comes from an old Mac convention: convert it, e.g. `tr '\\r' '\\n'`")
    )]
    CarriageReturn {
        line: usize,
        #[source_code]
        src: LineSource,
        #[label("a carriage return alone")]
        span: SourceSpan,
    },

    #[error("line {line} gives `{key}` twice")]
    #[diagnostic(
        code(deal::event::repeated_key),
        help("an event gives each key once; remove one of them (which one was meant cannot be told)")
    )]
    RepeatedKey {
        line: usize,
        key: String,
        #[source_code]
        src: LineSource,
        #[label("first given here")]
        first: SourceSpan,
        #[label("and again here")]
        again: SourceSpan,
    },

    #[error("`{code}` in field `{field}` is not an ISO 4217 currency")]
    #[diagnostic(code(deal::event::unknown_currency))]
    UnknownCurrency {
        code: String,
        field: String,
        #[source_code]
        src: LineSource,
        #[label("not a currency code")]
        span: SourceSpan,
        #[help]
        help: String,
    },

    #[error("`id` must be a string or a whole number")]
    #[diagnostic(code(deal::event::bad_id), help("e.g. \"id\": \"evt-0042\""))]
    BadId {
        #[source_code]
        src: LineSource,
        #[label("not an id")]
        span: SourceSpan,
    },

    #[error("line {line} is {bytes} bytes long, more than the {MAX_LINE_BYTES} accepted")]
    #[diagnostic(
        code(deal::event::too_long),
        help("an event is one short JSON object; check that the file is JSON Lines, one event per line")
    )]
    TooLong { line: usize, bytes: usize },

    #[error("line {line} is not valid UTF-8")]
    #[diagnostic(code(deal::event::not_utf8), help("save the events file as UTF-8 text"))]
    NotUtf8 { line: usize },

    #[error("this event reuses the id of line {first_line}, which said something else")]
    #[diagnostic(
        code(deal::event::reused_id),
        help("an id names one event: a redelivered event must say exactly what it said the first time; give this event an id of its own")
    )]
    ReusedId {
        first_line: usize,
        #[source_code]
        src: LineSource,
        #[label("used on line {first_line} by another event")]
        span: SourceSpan,
    },

    #[error(
        "this event has an id and is dated {at}, more than {horizon} before the latest event ({latest})"
    )]
    #[diagnostic(
        code(deal::event::beyond_dedup_horizon),
        help("ids are remembered for {horizon} of event time, so whether this event was already applied can no longer be told; if it is new, send it in time order, or raise the horizon with --dedup-horizon")
    )]
    BeyondHorizon {
        at: String,
        horizon: String,
        latest: String,
        #[source_code]
        src: LineSource,
        #[label("too old to tell whether it is a duplicate")]
        span: SourceSpan,
    },

    #[error("cannot read the events: {message}")]
    #[diagnostic(
        code(deal::event::unreadable),
        help("check the path and the file's permissions")
    )]
    Unreadable { message: String },

    #[error("this event cannot be applied: {reason}")]
    #[diagnostic(code(deal::event::cannot_apply))]
    CannotApply {
        reason: String,
        #[source_code]
        src: LineSource,
        #[label("applying this event failed")]
        span: SourceSpan,
        #[help]
        help: String,
        #[related]
        declared: Vec<Declared>,
    },
}

impl EventError {
    /// The 1-based line the error is about, if it is about one.
    pub fn line(&self) -> Option<usize> {
        match self {
            EventError::NotJson { line, .. }
            | EventError::MissingKey { line, .. }
            | EventError::TooLong { line, .. }
            | EventError::NotUtf8 { line } => Some(*line),
            EventError::BadAt { src, .. }
            | EventError::OutOfOrder { src, .. }
            | EventError::UnknownKind { src, .. }
            | EventError::MissingField { src, .. }
            | EventError::BadField { src, .. }
            | EventError::UnknownField { src, .. }
            | EventError::NotAParty { src, .. }
            | EventError::BadId { src, .. }
            | EventError::RepeatedKey { src, .. }
            | EventError::CarriageReturn { src, .. }
            | EventError::UnknownCurrency { src, .. }
            | EventError::ReusedId { src, .. }
            | EventError::BeyondHorizon { src, .. }
            | EventError::CannotApply { src, .. } => Some(src.line),
            EventError::Unreadable { .. } => None,
        }
    }
}

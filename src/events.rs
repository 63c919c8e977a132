//! Events in: one JSON object a line, read exactly (numbers keep their text)
//! and typed against the contract's declarations. serde_json does the
//! reading; the grammar of `.deal` files is never used here.

use std::sync::Arc;

use miette::{Diagnostic, SourceSpan};
use serde_json::{Map, Value as Json};
use thiserror::Error;

use crate::check::suggest;
use crate::model::{EventId, FieldSpec, Program};
use crate::source::{LineSource, SourceFile};
use crate::time::Moment;
use crate::value::{parse_decimal, parse_percent, Duration, Money, Type, Value};

/// The longest events line accepted, in bytes.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// A well-formed event, typed against its declaration.
#[derive(Debug, Clone)]
pub struct Event {
    /// 1-based line in the events file.
    pub line: usize,
    pub at: Moment,
    pub kind: EventId,
    pub id: Option<String>,
    /// One slot per declared field, in declaration order; `None` if absent.
    pub fields: Vec<Option<Value>>,
}

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
            | EventError::CannotApply { src, .. } => Some(src.line),
            EventError::Unreadable { .. } => None,
        }
    }
}

/// Reads lines of an events file against a program.
pub struct EventReader<'p> {
    program: &'p Program,
    contract: &'p SourceFile,
    events_name: Arc<str>,
}

impl<'p> EventReader<'p> {
    pub fn new(program: &'p Program, contract: &'p SourceFile, events_name: &str) -> Self {
        EventReader {
            program,
            contract,
            events_name: events_name.into(),
        }
    }

    /// Parses one line (without its newline). Blank lines are skipped.
    pub fn parse(&self, line_no: usize, text: &str) -> Result<Option<Event>, Box<EventError>> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        if text.len() > MAX_LINE_BYTES {
            return Err(Box::new(EventError::TooLong {
                line: line_no,
                bytes: text.len(),
            }));
        }
        let src = LineSource {
            name: self.events_name.clone(),
            line: line_no,
            text: text.into(),
        };
        let whole: SourceSpan = (0, text.len()).into();
        let obj: Map<String, Json> = match serde_json::from_str::<Json>(text) {
            Ok(Json::Object(m)) => m,
            Ok(_) => {
                return Err(Box::new(EventError::NotJson {
                    line: line_no,
                    message: "expected an object in braces".to_string(),
                    src,
                    span: whole,
                }))
            }
            Err(e) => {
                let col = e.column().saturating_sub(1).min(text.len());
                let message = strip_position(&e.to_string());
                return Err(Box::new(EventError::NotJson {
                    line: line_no,
                    message,
                    src,
                    span: (col, 0).into(),
                }));
            }
        };
        let at_text = match obj.get("at") {
            Some(Json::String(s)) => s.clone(),
            Some(other) => {
                return Err(Box::new(EventError::BadAt {
                    text: other.to_string(),
                    span: value_span(text, "at"),
                    src,
                }))
            }
            None => {
                return Err(Box::new(EventError::MissingKey {
                    line: line_no,
                    what: "at",
                    src,
                    span: whole,
                    help: "every event says when it happened: \"at\":\"2025-01-21\"".to_string(),
                }))
            }
        };
        let Some(at) = Moment::parse(&at_text) else {
            return Err(Box::new(EventError::BadAt {
                text: at_text,
                span: value_span(text, "at"),
                src,
            }));
        };
        let kind_text = match obj.get("event") {
            Some(Json::String(s)) => s.clone(),
            _ => {
                return Err(Box::new(EventError::MissingKey {
                    line: line_no,
                    what: "event",
                    span: if obj.contains_key("event") {
                        value_span(text, "event")
                    } else {
                        whole
                    },
                    src,
                    help: "every event names its kind as a string: \"event\":\"payment\"".to_string(),
                }))
            }
        };
        let kind = self
            .program
            .event_id(&kind_text)
            .filter(|k| !self.program.events[*k].derived);
        let Some(kind) = kind else {
            let declared = || {
                self.program
                    .events
                    .iter()
                    .filter(|e| !e.derived)
                    .map(|e| e.name.as_str())
            };
            let mut help = suggest(&kind_text, declared());
            if kind_text.starts_with("breach of ") {
                help = "deal finds breaches itself; they are not sent as events".to_string();
            } else if help.is_empty() {
                let names: Vec<&str> = declared().collect();
                help = format!("the contract declares: {}", names.join(", "));
            }
            return Err(Box::new(EventError::UnknownKind {
                kind: kind_text,
                span: value_span(text, "event"),
                src,
                help,
            }));
        };
        let id = match obj.get("id") {
            None | Some(Json::Null) => None,
            Some(Json::String(s)) => Some(s.clone()),
            Some(Json::Number(n)) if n.is_u64() || n.is_i64() => Some(n.to_string()),
            Some(_) => {
                return Err(Box::new(EventError::BadId {
                    span: value_span(text, "id"),
                    src,
                }))
            }
        };
        let spec = &self.program.events[kind];
        for key in obj.keys() {
            if matches!(key.as_str(), "at" | "event" | "id") || spec.field(key).is_some() {
                continue;
            }
            let mut help = suggest(key, spec.fields.iter().map(|f| f.name.as_str()));
            if help.is_empty() {
                help = if spec.fields.is_empty() {
                    format!(
                        "`{}` events carry no fields besides `at`, `event` and `id`",
                        spec.name
                    )
                } else {
                    let names: Vec<&str> = spec.fields.iter().map(|f| f.name.as_str()).collect();
                    format!("the fields of `{}` are: {}", spec.name, names.join(", "))
                };
            }
            return Err(Box::new(EventError::UnknownField {
                event: spec.name.clone(),
                field: key.clone(),
                span: key_span(text, key),
                src,
                help,
                declared: vec![self.declared_event(kind)],
            }));
        }
        let mut fields = Vec::with_capacity(spec.fields.len());
        for f in &spec.fields {
            match obj.get(&f.name) {
                None | Some(Json::Null) if f.optional => fields.push(None),
                None | Some(Json::Null) => {
                    return Err(Box::new(EventError::MissingField {
                        event: spec.name.clone(),
                        field: f.name.clone(),
                        src,
                        span: whole,
                        help: format!("add `\"{}\": …` with {}", f.name, f.ty.example()),
                        declared: vec![self.declared_field(f)],
                    }));
                }
                Some(json) => match self.typed(f, json) {
                    Ok(v) => fields.push(Some(v)),
                    Err(FieldProblem::NotAParty(name)) => {
                        let names = self.program.parties.join(", ");
                        let mut help = suggest(&name, self.program.parties.iter().map(String::as_str));
                        if help.is_empty() {
                            help = format!("a `party` field names one of the deal's parties: {names}");
                        }
                        return Err(Box::new(EventError::NotAParty {
                            name,
                            field: f.name.clone(),
                            span: value_span(text, &f.name),
                            src,
                            help,
                            declared: vec![self.declared_field(f)],
                        }));
                    }
                    Err(FieldProblem::Mistyped) => {
                        return Err(Box::new(EventError::BadField {
                            event: spec.name.clone(),
                            field: f.name.clone(),
                            expected: crate::check::article(f.ty),
                            span: value_span(text, &f.name),
                            src,
                            help: format!("write it as {}", f.ty.example()),
                            declared: vec![self.declared_field(f)],
                        }));
                    }
                },
            }
        }
        Ok(Some(Event {
            line: line_no,
            at,
            kind,
            id,
            fields,
        }))
    }

    fn typed(&self, f: &FieldSpec, json: &Json) -> Result<Value, FieldProblem> {
        let s = json.as_str();
        let v = match f.ty {
            Type::Party => {
                let name = s.ok_or(FieldProblem::Mistyped)?;
                if self.program.party_id(name).is_none() {
                    return Err(FieldProblem::NotAParty(name.to_string()));
                }
                Value::Entity(name.into())
            }
            Type::Entity => {
                let name = s.filter(|n| !n.trim().is_empty()).ok_or(FieldProblem::Mistyped)?;
                Value::Entity(name.into())
            }
            Type::Text => Value::Text(s.ok_or(FieldProblem::Mistyped)?.into()),
            Type::Bool => Value::Bool(json.as_bool().ok_or(FieldProblem::Mistyped)?),
            Type::Money => Value::Money(s.and_then(Money::parse).ok_or(FieldProblem::Mistyped)?),
            Type::Percent => Value::Percent(s.and_then(parse_percent).ok_or(FieldProblem::Mistyped)?),
            Type::Duration => Value::Duration(s.and_then(Duration::parse).ok_or(FieldProblem::Mistyped)?),
            Type::Date => Value::Date(s.and_then(Moment::parse).ok_or(FieldProblem::Mistyped)?),
            Type::Decimal => {
                let d = match json {
                    Json::String(t) => parse_decimal(t),
                    Json::Number(n) => number_exact(&n.to_string()),
                    _ => None,
                };
                Value::Decimal(d.ok_or(FieldProblem::Mistyped)?)
            }
        };
        Ok(v)
    }

    fn declared_field(&self, f: &FieldSpec) -> Declared {
        Declared {
            what: format!("the contract declares `{}` here", f.name),
            src: self.contract.clone(),
            span: f.span.into(),
            label: if f.optional {
                format!("optional {}", f.ty)
            } else {
                format!("{}, required", f.ty)
            },
        }
    }

    fn declared_event(&self, kind: EventId) -> Declared {
        let spec = &self.program.events[kind];
        Declared {
            what: format!("the contract declares `{}` here", spec.name),
            src: self.contract.clone(),
            span: spec.span.into(),
            label: "declared here".to_string(),
        }
    }

    pub fn declared_of(&self, kind: EventId) -> Declared {
        self.declared_event(kind)
    }
}

enum FieldProblem {
    Mistyped,
    NotAParty(String),
}

/// A JSON number's text read as an exact decimal (exponents allowed).
fn number_exact(text: &str) -> Option<rust_decimal::Decimal> {
    if text.contains(['e', 'E']) {
        rust_decimal::Decimal::from_scientific(text).ok()
    } else {
        parse_decimal(text)
    }
}

/// serde_json appends " at line 1 column 7"; the label already says where.
fn strip_position(message: &str) -> String {
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// The span of `"key"` in the raw line.
fn key_span(text: &str, key: &str) -> SourceSpan {
    let quoted = format!("\"{key}\"");
    match text.find(&quoted) {
        Some(i) => (i, quoted.len()).into(),
        None => (0, text.len()).into(),
    }
}

/// The span of the value after `"key":` in the raw line.
fn value_span(text: &str, key: &str) -> SourceSpan {
    let quoted = format!("\"{key}\"");
    let Some(i) = text.find(&quoted) else {
        return (0, text.len()).into();
    };
    let rest = &text[i + quoted.len()..];
    let Some(colon) = rest.find(':') else {
        return (i, quoted.len()).into();
    };
    let after = &rest[colon + 1..];
    let lead = after.len() - after.trim_start().len();
    let start = i + quoted.len() + colon + 1 + lead;
    let value = &text[start..];
    let len = json_value_len(value);
    (start, len.max(1)).into()
}

/// Length of the JSON value at the start of `s`.
fn json_value_len(s: &str) -> usize {
    let b = s.as_bytes();
    if b.first() == Some(&b'"') {
        let mut i = 1;
        while i < b.len() {
            match b[i] {
                b'\\' => i += 2,
                b'"' => return i + 1,
                _ => i += 1,
            }
        }
        return b.len();
    }
    let mut depth = 0i32;
    for (i, c) in b.iter().enumerate() {
        match c {
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth > 0 => depth -= 1,
            b',' | b'}' | b']' if depth == 0 => return i,
            _ => {}
        }
    }
    b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_point_at_values() {
        let line = r#"{"at":"2025-01-21","event":"payment","amount": "12 USD"}"#;
        let s = value_span(line, "amount");
        assert_eq!(&line[s.offset()..s.offset() + s.len()], "\"12 USD\"");
        let s = value_span(line, "event");
        assert_eq!(&line[s.offset()..s.offset() + s.len()], "\"payment\"");
    }

    #[test]
    fn numbers_keep_their_digits() {
        let n: Json = serde_json::from_str("0.1000000000000000000000001").unwrap_or(Json::Null);
        let d = match n {
            Json::Number(n) => number_exact(&n.to_string()),
            _ => None,
        };
        assert_eq!(
            d.map(|d| d.to_string()),
            Some("0.1000000000000000000000001".to_string())
        );
    }
}

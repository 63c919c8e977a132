//! Events in: one JSON object a line, read exactly (numbers keep their text)
//! and typed against the contract's declarations.
//!
//! Two paths read a line. The fast one ([`scan`]) borrows the line, finds
//! keys and values by hand, resolves names by index and types each value
//! straight into a reused [`Event`]: no allocation for the lines nearly
//! every stream is made of. Anything it does not take — a bad line above
//! all — goes to the precise one, `serde_json`, which decides and words
//! the diagnostic with the file, line, column and field. Both type values
//! with the same functions, so they cannot disagree on a line both take.
//! The grammar of `.deal` files is never used here.

mod error;
mod scan;
mod spans;
pub mod stream;

use std::hash::Hasher;
use std::sync::Arc;

use miette::SourceSpan;
use rustc_hash::FxHashMap;
use serde_json::{Map, Value as Json};

pub use error::{Declared, EventError};
pub use spans::value_span;

use crate::diag::source::{LineSource, SourceFile};
use crate::diag::words::suggest;
use crate::model::{EventId, EventSpec, FieldId, FieldSpec, Id, Program};
use crate::time::{LastDay, Moment};
use crate::value::{parse_decimal, parse_percent, Currency, Duration, Money, Type, Value};
use scan::{Scanner, Token};
use spans::key_span;

/// The longest events line accepted, in bytes.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// A 128-bit fingerprint of an event's `id`: what is kept of it.
pub type IdPrint = u128;

/// A well-formed event, typed against its declaration.
#[derive(Debug, Clone)]
pub struct Event {
    /// 1-based line in the events file.
    pub line: usize,
    pub at: Moment,
    pub kind: EventId,
    /// The fingerprint of its `id`, if it has one.
    pub id: Option<IdPrint>,
    /// One slot per declared field, in declaration order; `None` if absent.
    pub fields: Vec<Option<Value>>,
}

impl Event {
    /// An event to decode into, reused line after line.
    pub fn blank() -> Event {
        Event {
            line: 0,
            at: Moment::at(crate::time::Instant::default()),
            kind: EventId::default(),
            id: None,
            fields: Vec::new(),
        }
    }
}

/// The fingerprint of an id's text: XXH3's 128 bits, so that two different
/// ids colliding within any realistic stream is out of reach.
pub fn fingerprint(id: &str) -> IdPrint {
    xxhash_rust::xxh3::xxh3_128(id.as_bytes())
}

/// What an id'd event says, for telling a redelivery from a reused id:
/// its kind, moment and field values, numbers as written (`1.50` is not
/// `1.5`), so that nothing is normalised on the hot path.
/// Computed by the engine, only for events with an id: the reading thread
/// is the busier of the two.
pub fn payload_hash(ev: &Event) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write_usize(ev.kind.index());
    let (secs, nanos) = ev.at.instant.parts();
    h.write_i64(secs);
    h.write_i32(nanos);
    h.write_u8(u8::from(ev.at.date_only));
    for f in &ev.fields {
        match f {
            None => h.write_u8(0),
            Some(Value::Bool(b)) => h.write_u8(2 + u8::from(*b)),
            Some(Value::Text(t)) => {
                h.write_u8(4);
                h.write(t.as_bytes());
                h.write_u8(0xff);
            }
            Some(Value::Entity(t)) => {
                h.write_u8(5);
                h.write(t.as_bytes());
                h.write_u8(0xff);
            }
            Some(Value::Decimal(d)) => {
                h.write_u8(6);
                h.write(&d.serialize());
            }
            Some(Value::Percent(d)) => {
                h.write_u8(7);
                h.write(&d.serialize());
            }
            Some(Value::Money(m)) => {
                h.write_u8(8);
                h.write(&m.amount.serialize());
                h.write(m.currency.as_str().as_bytes());
            }
            Some(Value::Date(m)) => {
                h.write_u8(9);
                let (s, n) = m.instant.parts();
                h.write_i64(s);
                h.write_i32(n);
                h.write_u8(u8::from(m.date_only));
            }
            Some(Value::Duration(d)) => {
                h.write_u8(10);
                h.write_i64(d.months);
                h.write_i64(d.days);
                h.write_i64(d.seconds);
            }
            // Events carry decimals as written: a fraction is never read from one.
            Some(Value::Exact(e)) => {
                h.write_u8(11);
                std::hash::Hash::hash(e, &mut h);
            }
        }
    }
    h.finish()
}

/// A JSON value as the typing rules see it.
#[derive(Debug, Clone, Copy)]
enum Scalar<'a> {
    Str(&'a str),
    /// A number, as written.
    Num(&'a str),
    Bool(bool),
    Null,
    /// An array or an object.
    Other,
}

enum FieldProblem {
    Mistyped,
    NotAParty(String),
    UnknownCurrency(String),
}

/// Reads lines of an events file against a program.
pub struct EventReader<'p> {
    program: &'p Program,
    contract: &'p SourceFile,
    events_name: Arc<str>,
    /// Event kinds that can be sent, by name.
    kinds: FxHashMap<Box<str>, (EventId, &'p EventSpec)>,
}

impl<'p> EventReader<'p> {
    pub fn new(program: &'p Program, contract: &'p SourceFile, events_name: &str) -> Self {
        let kinds = program
            .events
            .iter()
            .filter(|(_, e)| !e.derived)
            .map(|(i, e)| (e.name.as_str().into(), (i, e)))
            .collect();
        EventReader {
            program,
            contract,
            events_name: events_name.into(),
            kinds,
        }
    }

    pub fn events_name(&self) -> &str {
        &self.events_name
    }

    /// Parses one line (without its newline). Blank lines are skipped.
    pub fn parse(&self, line_no: usize, text: &str) -> Result<Option<Event>, Box<EventError>> {
        let mut ev = Event::blank();
        Ok(self.decode(line_no, text, &mut ev)?.then_some(ev))
    }

    /// Parses one line into `out`, reusing its storage. `Ok(false)` for a
    /// blank line, which leaves `out` as it was.
    pub fn decode(&self, line_no: usize, text: &str, out: &mut Event) -> Result<bool, Box<EventError>> {
        self.decode_after(line_no, text, out, &mut LastDay::default())
    }

    /// As [`EventReader::decode`], for the next line of a stream: `last`
    /// keeps the day of the line before.
    pub fn decode_after(
        &self,
        line_no: usize,
        text: &str,
        out: &mut Event,
        last: &mut LastDay,
    ) -> Result<bool, Box<EventError>> {
        if self.fast(line_no, text, out, last).is_some() {
            return Ok(true);
        }
        match self.precise(line_no, text)? {
            Some(ev) => {
                *out = ev;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// The fast path, one pass over the line: `None` hands it to the
    /// precise one.
    fn fast(&self, line_no: usize, text: &str, out: &mut Event, last: &mut LastDay) -> Option<()> {
        if text.len() > MAX_LINE_BYTES {
            return None;
        }
        let mut scanner = Scanner::new(text)?;
        let (mut at, mut kind, mut id) = (None, None, None);
        // Fields before `event` wait for it, which names their declaration.
        let mut early: [Option<(&str, Token<'_>)>; 8] = [None; 8];
        let mut waiting = 0;
        // Fields seen, so that a repeated one goes the precise way.
        let mut seen = 0u64;
        while let Some((key, value)) = scanner.next_member()? {
            match key.as_bytes() {
                b"at" => {
                    let Token::Str(s) = value else { return None };
                    once(&mut at, Moment::parse_after(s, last)?)?;
                }
                b"event" => {
                    let Token::Str(s) = value else { return None };
                    let (k, spec) = *self.kinds.get(s)?;
                    once(&mut kind, (k, spec))?;
                    if spec.fields.len() > 64 {
                        return None;
                    }
                    out.fields.clear();
                    out.fields.resize(spec.fields.len(), None);
                    for (key, value) in early.iter().take(waiting).flatten() {
                        self.put(spec, key, *value, out, &mut seen)?;
                    }
                }
                b"id" => {
                    let print = match value {
                        Token::Null => None,
                        Token::Str(s) => Some(fingerprint(s)),
                        // Whole numbers as ids are rare: the precise path reads them.
                        _ => return None,
                    };
                    once(&mut id, print)?;
                }
                _ => match kind {
                    Some((_, spec)) => self.put(spec, key, value, out, &mut seen)?,
                    None => {
                        *early.get_mut(waiting)? = Some((key, value));
                        waiting += 1;
                    }
                },
            }
        }
        let (kind, spec) = kind?;
        let missing = spec
            .fields
            .values()
            .zip(&out.fields)
            .any(|(f, v)| !f.optional && v.is_none());
        if missing {
            return None;
        }
        out.line = line_no;
        out.at = at?;
        out.kind = kind;
        out.id = id.flatten();
        Some(())
    }

    /// Types one field into its slot.
    fn put(
        &self,
        spec: &EventSpec,
        key: &str,
        value: Token<'_>,
        out: &mut Event,
        seen: &mut u64,
    ) -> Option<()> {
        // Names are short: compared inline, not through memcmp.
        let f = spec
            .fields
            .values()
            .position(|f| same(f.name.as_bytes(), key.as_bytes()))?;
        let bit = 1u64 << f;
        if *seen & bit != 0 {
            return None;
        }
        *seen |= bit;
        let field = spec.fields.get(FieldId::from_index(f))?;
        let scalar = match value {
            Token::Str(s) => Scalar::Str(s),
            Token::Num(n) => Scalar::Num(n),
            Token::Bool(b) => Scalar::Bool(b),
            Token::Null if field.optional => return Some(()),
            Token::Null => return None,
        };
        *out.fields.get_mut(f)? = Some(self.typed(field, scalar).ok()?);
        Some(())
    }

    /// The precise path: every line can be judged here, and every bad line
    /// gets its diagnostic here.
    fn precise(&self, line_no: usize, text: &str) -> Result<Option<Event>, Box<EventError>> {
        if text.trim().is_empty() {
            return Ok(None);
        }
        if text.len() > MAX_LINE_BYTES {
            return Err(Box::new(EventError::TooLong {
                line: line_no,
                bytes: text.len(),
            }));
        }
        let src = LineSource::new(self.events_name.clone(), line_no, text);
        let obj = members(line_no, text, &src)?;
        let at = at_of(line_no, text, &obj, &src)?;
        let (kind, spec) = self.kind_of(line_no, text, &obj, &src)?;
        let id = id_of(text, &obj, &src)?;
        self.no_unknown_keys(text, &obj, spec, &src)?;
        let fields = self.fields_of(text, &obj, spec, &src)?;
        Ok(Some(Event {
            line: line_no,
            at,
            kind,
            id,
            fields,
        }))
    }

    /// The event's kind, by its `event` key.
    fn kind_of(
        &self,
        line_no: usize,
        text: &str,
        obj: &Map<String, Json>,
        src: &LineSource,
    ) -> Result<(EventId, &'p EventSpec), Box<EventError>> {
        let whole: SourceSpan = (0, text.len()).into();
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
                    src: src.clone(),
                    help: "every event names its kind as a string: \"event\":\"payment\"".to_string(),
                }))
            }
        };
        let kind_text = if kind_text.is_ascii() {
            kind_text
        } else {
            crate::syntax::normalised(&kind_text)
        };
        let Some(&(kind, spec)) = self.kinds.get(kind_text.as_str()) else {
            let declared = || {
                self.program
                    .events
                    .values()
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
                src: src.clone(),
                help,
            }));
        };
        Ok((kind, spec))
    }

    /// Every key is `at`, `event`, `id` or a field of the kind.
    fn no_unknown_keys(
        &self,
        text: &str,
        obj: &Map<String, Json>,
        spec: &EventSpec,
        src: &LineSource,
    ) -> Result<(), Box<EventError>> {
        for key in obj.keys() {
            if matches!(key.as_str(), "at" | "event" | "id") || spec.field(key).is_some() {
                continue;
            }
            let mut help = suggest(key, spec.fields.values().map(|f| f.name.as_str()));
            if help.is_empty() {
                help = if spec.fields.is_empty() {
                    format!(
                        "`{}` events carry no fields besides `at`, `event` and `id`",
                        spec.name
                    )
                } else {
                    let names: Vec<&str> = spec.fields.values().map(|f| f.name.as_str()).collect();
                    format!("the fields of `{}` are: {}", spec.name, names.join(", "))
                };
            }
            return Err(Box::new(EventError::UnknownField {
                event: spec.name.clone(),
                field: key.clone(),
                span: key_span(text, key),
                src: src.clone(),
                help,
                declared: vec![self.declared_event(spec)],
            }));
        }
        Ok(())
    }

    /// The declared fields, each typed, in declaration order.
    fn fields_of(
        &self,
        text: &str,
        obj: &Map<String, Json>,
        spec: &EventSpec,
        src: &LineSource,
    ) -> Result<Vec<Option<Value>>, Box<EventError>> {
        let whole: SourceSpan = (0, text.len()).into();
        let mut fields = Vec::with_capacity(spec.fields.len());
        for f in &spec.fields {
            match obj.get(&f.name) {
                None | Some(Json::Null) if f.optional => fields.push(None),
                None | Some(Json::Null) => {
                    return Err(Box::new(EventError::MissingField {
                        event: spec.name.clone(),
                        field: f.name.clone(),
                        src: src.clone(),
                        span: whole,
                        help: format!("add `\"{}\": …` with {}", f.name, f.ty.example()),
                        declared: vec![self.declared_field(f)],
                    }));
                }
                Some(json) => {
                    let number;
                    let scalar = match json {
                        Json::String(s) => Scalar::Str(s),
                        Json::Number(n) => {
                            number = n.to_string();
                            Scalar::Num(&number)
                        }
                        Json::Bool(b) => Scalar::Bool(*b),
                        Json::Null => Scalar::Null,
                        Json::Array(_) | Json::Object(_) => Scalar::Other,
                    };
                    match self.typed(f, scalar) {
                        Ok(v) => fields.push(Some(v)),
                        Err(FieldProblem::NotAParty(name)) => {
                            let names: Vec<&str> =
                                self.program.parties.values().map(|p| p.name.as_str()).collect();
                            let names = names.join(", ");
                            let mut help =
                                suggest(&name, self.program.parties.values().map(|p| p.name.as_str()));
                            if help.is_empty() {
                                help = format!("a `party` field names one of the deal's parties: {names}");
                            }
                            return Err(Box::new(EventError::NotAParty {
                                name,
                                field: f.name.clone(),
                                span: value_span(text, &f.name),
                                src: src.clone(),
                                help,
                                declared: vec![self.declared_field(f)],
                            }));
                        }
                        Err(FieldProblem::UnknownCurrency(code)) => {
                            let help = match suggest(&code, Currency::iso_codes()) {
                                h if h.is_empty() => {
                                    "amounts are in ISO 4217 currencies, e.g. `USD`, `EUR`".to_string()
                                }
                                h => h,
                            };
                            return Err(Box::new(EventError::UnknownCurrency {
                                code,
                                field: f.name.clone(),
                                span: value_span(text, &f.name),
                                src: src.clone(),
                                help,
                            }));
                        }
                        Err(FieldProblem::Mistyped) => {
                            return Err(Box::new(EventError::BadField {
                                event: spec.name.clone(),
                                field: f.name.clone(),
                                expected: crate::diag::words::article(f.ty),
                                span: value_span(text, &f.name),
                                src: src.clone(),
                                help: format!("write it as {}", f.ty.example()),
                                declared: vec![self.declared_field(f)],
                            }));
                        }
                    }
                }
            }
        }
        Ok(fields)
    }

    /// A field's value, typed by its declaration. Both paths use this.
    fn typed(&self, f: &FieldSpec, json: Scalar<'_>) -> Result<Value, FieldProblem> {
        let s = match json {
            Scalar::Str(s) => Some(s),
            _ => None,
        };
        let v = match f.ty {
            Type::Party => {
                let name = s.ok_or(FieldProblem::Mistyped)?;
                if self.program.party_id(name).is_none() {
                    let composed = crate::syntax::normalised(name);
                    if name.is_ascii() || self.program.party_id(&composed).is_none() {
                        return Err(FieldProblem::NotAParty(name.to_string()));
                    }
                    return Ok(Value::Entity(composed.into()));
                }
                Value::Entity(name.into())
            }
            Type::Entity => {
                let name = s.filter(|n| !n.trim().is_empty()).ok_or(FieldProblem::Mistyped)?;
                Value::Entity(name.into())
            }
            Type::Text => Value::Text(s.ok_or(FieldProblem::Mistyped)?.into()),
            Type::Bool => match json {
                Scalar::Bool(b) => Value::Bool(b),
                _ => return Err(FieldProblem::Mistyped),
            },
            Type::Money => {
                let money = s.and_then(Money::parse).ok_or(FieldProblem::Mistyped)?;
                if !money.currency.is_iso() {
                    return Err(FieldProblem::UnknownCurrency(money.currency.to_string()));
                }
                Value::Money(money)
            }
            Type::Percent => Value::Percent(s.and_then(parse_percent).ok_or(FieldProblem::Mistyped)?),
            Type::Duration => Value::Duration(s.and_then(Duration::parse).ok_or(FieldProblem::Mistyped)?),
            Type::Date => Value::Date(s.and_then(Moment::parse).ok_or(FieldProblem::Mistyped)?),
            Type::Decimal => {
                let d = match json {
                    Scalar::Str(t) => parse_decimal(t),
                    Scalar::Num(n) => number_exact(n),
                    _ => None,
                };
                Value::Decimal(d.ok_or(FieldProblem::Mistyped)?)
            }
        };
        Ok(v)
    }

    /// The part of the contract an event failed on, for a diagnostic.
    pub fn failed_at(&self, span: crate::ops::Span, label: String) -> Declared {
        Declared {
            what: "applying it failed in the contract here".to_string(),
            src: self.contract.clone(),
            span: span.into(),
            label,
        }
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

    fn declared_event(&self, spec: &EventSpec) -> Declared {
        Declared {
            what: format!("the contract declares `{}` here", spec.name),
            src: self.contract.clone(),
            span: spec.span.into(),
            label: "declared here".to_string(),
        }
    }

    /// Where the contract declares an event kind, for a diagnostic.
    pub fn declared_of(&self, kind: EventId) -> Vec<Declared> {
        self.program
            .events
            .get(kind)
            .map(|spec| self.declared_event(spec))
            .into_iter()
            .collect()
    }
}

/// Fills a slot that must be filled once: a repeated key is the precise
/// path's to judge.
fn once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    match slot {
        Some(_) => None,
        None => {
            *slot = Some(value);
            Some(())
        }
    }
}

fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
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
    message
        .split_once(" at line ")
        .map_or(message, |(m, _)| m)
        .to_string()
}

/// The line's members, each key given once.
fn members(line_no: usize, text: &str, src: &LineSource) -> Result<Map<String, Json>, Box<EventError>> {
    let whole: SourceSpan = (0, text.len()).into();
    let obj: Map<String, Json> = match serde_json::from_str::<Members>(text) {
        Ok(Members::Object {
            members,
            repeated: None,
        }) => members,
        Ok(Members::Object {
            repeated: Some(key), ..
        }) => {
            let (first, again) = spans::repeated_key_spans(text, &key);
            return Err(Box::new(EventError::RepeatedKey {
                line: line_no,
                key,
                src: src.clone(),
                first,
                again,
            }));
        }
        Ok(Members::Other) => {
            return Err(Box::new(EventError::NotJson {
                line: line_no,
                message: "expected an object in braces".to_string(),
                src: src.clone(),
                span: whole,
            }))
        }
        Err(_) if text.contains('\r') => {
            let at = text.find('\r').unwrap_or(0);
            return Err(Box::new(EventError::CarriageReturn {
                line: line_no,
                src: src.clone(),
                span: (at, 1).into(),
            }));
        }
        Err(e) => {
            let col = e.column().saturating_sub(1).min(text.len());
            let message = strip_position(&e.to_string());
            return Err(Box::new(EventError::NotJson {
                line: line_no,
                message,
                src: src.clone(),
                span: (col, 0).into(),
            }));
        }
    };
    Ok(obj)
}

/// When the event happened, by its `at` key.
fn at_of(
    line_no: usize,
    text: &str,
    obj: &Map<String, Json>,
    src: &LineSource,
) -> Result<Moment, Box<EventError>> {
    let whole: SourceSpan = (0, text.len()).into();
    let at_text = match obj.get("at") {
        Some(Json::String(s)) => s.clone(),
        Some(other) => {
            return Err(Box::new(EventError::BadAt {
                text: other.to_string(),
                span: value_span(text, "at"),
                src: src.clone(),
            }))
        }
        None => {
            return Err(Box::new(EventError::MissingKey {
                line: line_no,
                what: "at",
                src: src.clone(),
                span: whole,
                help: "every event says when it happened: \"at\":\"2025-01-21\"".to_string(),
            }))
        }
    };
    let Some(at) = Moment::parse(&at_text) else {
        return Err(Box::new(EventError::BadAt {
            text: at_text,
            span: value_span(text, "at"),
            src: src.clone(),
        }));
    };
    Ok(at)
}

/// The fingerprint of the event's `id`, if it has one.
fn id_of(text: &str, obj: &Map<String, Json>, src: &LineSource) -> Result<Option<IdPrint>, Box<EventError>> {
    let id = match obj.get("id") {
        None | Some(Json::Null) => None,
        Some(Json::String(s)) => Some(fingerprint(s)),
        Some(Json::Number(n)) if n.is_u64() || n.is_i64() => Some(fingerprint(&n.to_string())),
        Some(_) => {
            return Err(Box::new(EventError::BadId {
                span: value_span(text, "id"),
                src: src.clone(),
            }))
        }
    };
    Ok(id)
}

/// A line's top-level value as the precise path reads it: an object keeps
/// its members and the first key it gives twice, which `serde_json`'s own
/// map would silently resolve to the last.
enum Members {
    Object {
        members: Map<String, Json>,
        repeated: Option<String>,
    },
    Other,
}

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Members, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Members;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object in braces")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut members = Map::new();
                let mut repeated = None;
                while let Some((key, value)) = map.next_entry::<String, Json>()? {
                    // Names in the contract are in NFC; so are keys, once read.
                    let key = if key.is_ascii() {
                        key
                    } else {
                        crate::syntax::normalised(&key)
                    };
                    if members.contains_key(&key) {
                        repeated.get_or_insert_with(|| key.clone());
                    }
                    members.insert(key, value);
                }
                Ok(Members::Object { members, repeated })
            }

            fn visit_bool<E>(self, _: bool) -> Result<Members, E> {
                Ok(Members::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Members, E> {
                Ok(Members::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Members, E> {
                Ok(Members::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Members, E> {
                Ok(Members::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<Members, E> {
                Ok(Members::Other)
            }
            fn visit_unit<E>(self) -> Result<Members, E> {
                Ok(Members::Other)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Members, A::Error> {
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(Members::Other)
            }
        }
        d.deserialize_any(Visit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CONTRACT: &str = include_str!("../../contracts/microsoft_openai.deal");

    fn program() -> &'static (Program, SourceFile) {
        static LOADED: std::sync::OnceLock<(Program, SourceFile)> = std::sync::OnceLock::new();
        LOADED.get_or_init(|| {
            let source = SourceFile::new("c.deal", CONTRACT);
            let ast = crate::syntax::parse(CONTRACT).unwrap();
            (crate::check::check(&ast).program.unwrap(), source)
        })
    }

    /// Pieces of lines, good and bad, put together at random.
    fn member() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(r#""at":"2025-03-01""#.to_string()),
            Just(r#""at":"2025-03-01T10:00:00Z""#.to_string()),
            Just(r#""at":"2025-03-01T10:00:00+02:00""#.to_string()),
            Just(r#""at":"2025-02-30""#.to_string()),
            Just(r#""at":20250301"#.to_string()),
            Just(r#""event":"revenue""#.to_string()),
            Just(r#""event":"payment""#.to_string()),
            Just(r#""event":"cloud_offer""#.to_string()),
            Just(r#""event":"revenu""#.to_string()),
            Just(r#""id":"e1""#.to_string()),
            Just(r#""id":7"#.to_string()),
            Just(r#""id":null"#.to_string()),
            Just(r#""amount":"100.00 USD""#.to_string()),
            Just(r#""amount":"1e3 USD""#.to_string()),
            Just(r#""amount":"100  USD""#.to_string()),
            Just(r#""amount":"100 usd""#.to_string()),
            Just(r#""amount":100"#.to_string()),
            Just(r#""amount":null"#.to_string()),
            Just(r#""from":"OpenAI""#.to_string()),
            Just(r#""to":"Microsoft""#.to_string()),
            Just(r#""to":"Oracle""#.to_string()),
            Just(r#""ref":"x\"y""#.to_string()),
            Just(r#""ref":"caf\u00e9""#.to_string()),
            Just(r#""ref":"r1""#.to_string()),
            Just(r#""price":"5 USD""#.to_string()),
            Just(r#""price":{"a":1}"#.to_string()),
            Just(r#""extra":true"#.to_string()),
            "[a-z\\\" ]{0,6}".prop_map(|k| format!(r#""{k}":"v""#)),
        ]
    }

    /// Mostly a valid event in any order, with something added or changed.
    fn members() -> impl Strategy<Value = Vec<String>> {
        let valid = Just(vec![
            r#""at":"2025-03-01""#.to_string(),
            r#""event":"payment""#.to_string(),
            r#""from":"OpenAI""#.to_string(),
            r#""to":"Microsoft""#.to_string(),
            r#""amount":"100.00 USD""#.to_string(),
        ]);
        prop_oneof![
            prop::collection::vec(member(), 0..7),
            (
                valid,
                prop::collection::vec(member(), 0..3),
                any::<prop::sample::Index>()
            )
                .prop_map(|(mut v, extra, cut)| {
                    if !extra.is_empty() {
                        let i = cut.index(v.len());
                        v.splice(i..=i, extra);
                    }
                    v
                }),
        ]
        .prop_shuffle()
    }

    fn line() -> impl Strategy<Value = String> {
        (
            members(),
            prop_oneof![Just(","), Just(" , "), Just(",\t")],
            prop_oneof![Just(""), Just(" "), Just("\t")],
            prop_oneof![Just("}"), Just("} x"), Just(""), Just("},")],
        )
            .prop_map(|(members, sep, pad, close)| format!("{pad}{{{}{close}{pad}", members.join(sep)))
    }

    /// The lines of a real stream all take the fast path.
    #[test]
    fn ordinary_lines_take_the_fast_path() {
        let (program, source) = program();
        let reader = EventReader::new(program, source, "e.jsonl");
        let text = include_str!("../../contracts/microsoft_openai.events.jsonl");
        for (i, line) in text.lines().enumerate() {
            let mut ev = Event::blank();
            assert!(
                reader
                    .fast(i + 1, line, &mut ev, &mut LastDay::default())
                    .is_some(),
                "{line}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// The fast path takes a line only when the precise path takes it
        /// too, and then decodes the very same event.
        #[test]
        fn the_fast_path_agrees_with_the_precise_one(text in line()) {
            let (program, source) = program();
            let reader = EventReader::new(program, source, "e.jsonl");
            let mut fast = Event::blank();
            if reader.fast(1, &text, &mut fast, &mut LastDay::default()).is_some() {
                let precise = reader.precise(1, &text);
                let Ok(Some(ev)) = precise else {
                    return Err(TestCaseError::fail(format!("fast took what precise refused: {text}")));
                };
                prop_assert_eq!(format!("{:?}", ev), format!("{:?}", fast), "{}", text);
            }
        }
    }

    #[test]
    fn spans_point_at_values() {
        let line = r#"{"at":"2025-01-21","event":"payment","amount": "12 USD"}"#;
        let s = value_span(line, "amount");
        assert_eq!(line.get(s.offset()..s.offset() + s.len()).unwrap(), "\"12 USD\"");
        let s = value_span(line, "event");
        assert_eq!(line.get(s.offset()..s.offset() + s.len()).unwrap(), "\"payment\"");
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

//! `deal schema`: a JSON Schema (draft 2020-12) of one line of a contract's
//! events file, made from its event declarations, for producers of events
//! and for validating them outside `deal`.
//!
//! Built by hand rather than derived: the schema depends on the contract,
//! not on a Rust type. It states what `deal run` reads: `at`, `event`, an
//! optional `id`, and each declared field with its type; derived events
//! (`breach of …`) are left out, since they cannot be sent.

use serde_json::{json, Map, Value};

use crate::model::Program;
use crate::value::Type;

const MOMENT: &str = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$";

fn definitions(program: &Program) -> Value {
    json!({
        "moment": {
            "description": "A date (2025-01-21) or an RFC 3339 date-time (2025-01-21T09:30:00Z); offsets are converted to UTC.",
            "type": "string",
            "pattern": MOMENT,
        },
        "money": {
            "description": "An exact decimal amount and a three-letter currency code, e.g. \"1200.00 USD\".",
            "type": "string",
            "pattern": r"^[+-]?\d+(\.\d+)? [A-Z]{3}$",
        },
        "percent": {
            "description": "A percentage, e.g. \"99.7%\".",
            "type": "string",
            "pattern": r"^[+-]?\d+(\.\d+)?%$",
        },
        "decimal": {
            "description": "An exact decimal: a JSON number, read from its text, or the same digits as a string.",
            "anyOf": [
                {"type": "number"},
                {"type": "string", "pattern": r"^[+-]?\d+(\.\d+)?$"},
            ],
        },
        "duration": {
            "description": "A whole number and a unit, e.g. \"30 days\".",
            "type": "string",
            "pattern": r"^-?\d+ (second|minute|hour|day|week|month|year)s?$",
        },
        "party": {
            "description": "One of the deal's parties.",
            "enum": program.parties.values().map(|p| p.name.as_str()).collect::<Vec<_>>(),
        },
        "entity": {
            "description": "Anyone, a party or not.",
            "type": "string",
            "pattern": r"\S",
        },
        "text": {"type": "string"},
        "bool": {"type": "boolean"},
    })
}

fn type_ref(ty: Type) -> Value {
    let name = Type::ALL
        .iter()
        .find(|(_, t)| *t == ty)
        .map_or("text", |(n, _)| *n);
    let name = if name == "date" { "moment" } else { name };
    json!({"$ref": format!("#/$defs/{name}")})
}

/// The schema of one events line for `program`.
pub fn events_schema(program: &Program, contract_name: &str) -> Value {
    let mut branches = Vec::new();
    let mut kinds = Vec::new();
    for ev in program.events.values().filter(|e| !e.derived) {
        kinds.push(Value::String(ev.name.clone()));
        let mut properties = Map::new();
        properties.insert(
            "at".into(),
            json!({"$ref": "#/$defs/moment", "description": "When the event happened. Lines are in non-decreasing order of `at`."}),
        );
        properties.insert("event".into(), json!({"const": ev.name}));
        properties.insert(
            "id".into(),
            json!({"type": "string", "description": "Optional; a redelivered event with the same id is ignored."}),
        );
        let mut required = vec![json!("at"), json!("event")];
        for f in &ev.fields {
            let mut t = type_ref(f.ty);
            if f.optional {
                t = json!({"anyOf": [t, {"type": "null"}]});
            } else {
                required.push(Value::String(f.name.clone()));
            }
            properties.insert(f.name.clone(), t);
        }
        branches.push(json!({
            "title": ev.name,
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        }));
    }
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": format!("An event of \"{}\"", program.title),
        "description": format!(
            "One line of a JSON Lines events file for {contract_name}, as `deal run` reads it."
        ),
        "type": "object",
        "required": ["at", "event"],
        "properties": {"event": {"enum": kinds}},
        "oneOf": branches,
        "$defs": definitions(program),
    })
}

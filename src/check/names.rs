//! Parties, events and their fields: declaring them, and looking names up.
//! Lookups are by hash: checking is linear in the size of the contract.

use std::collections::HashMap;

use super::error::*;
use super::Checker;
use crate::model::*;
use crate::ops::Span;
use crate::syntax::ast;
use crate::value::Type;

impl Checker {
    pub(super) fn parties(&mut self, contract: &ast::Contract) {
        for (what, first, again) in &contract.repeated_sections {
            self.push(RepeatedPart {
                what: format!("`{what}`"),
                span: (*again).into(),
                first: (*first).into(),
            });
        }
        if contract.parties.is_empty() {
            self.push(NoParties {
                span: contract.title_span.into(),
            });
        }
        for p in &contract.parties {
            if let Some(first) = self
                .names
                .parties
                .get(&p.name)
                .and_then(|id| self.parties.get(*id))
            {
                let first = first.span;
                self.push(DuplicateName {
                    what: "party",
                    name: p.name.clone(),
                    span: p.span.into(),
                    first: first.into(),
                    help: "list each party once".to_string(),
                });
                continue;
            }
            let id = self.parties.push(Party {
                name: p.name.clone(),
                span: p.span,
            });
            self.names.parties.insert(p.name.clone(), id);
        }
    }

    pub(crate) fn party(&mut self, id: &ast::Ident) -> Option<PartyId> {
        if let Some(p) = self.names.parties.get(&id.name) {
            return Some(*p);
        }
        let names: Vec<String> = self.parties.values().map(|p| p.name.clone()).collect();
        let mut help = self.suggest(&id.name, names.iter().map(String::as_str));
        if help.is_empty() {
            help = format!(
                "the parties are {}; add `{}` to `parties` if it is bound by the deal",
                names.join(", "),
                id.name
            );
        }
        self.push(NotAParty {
            name: id.name.clone(),
            span: id.span.into(),
            help,
        });
        None
    }

    pub(super) fn events(&mut self, contract: &ast::Contract) {
        for decl in &contract.events {
            if let Some(first) = self
                .names
                .events
                .get(&decl.name.name)
                .and_then(|e| self.events.get(*e))
            {
                let first = first.span;
                self.push(DuplicateName {
                    what: "event",
                    name: decl.name.name.clone(),
                    span: decl.name.span.into(),
                    first: first.into(),
                    help: "declare each event once, with all its fields".to_string(),
                });
                continue;
            }
            let mut fields: Table<FieldId, FieldSpec> = Table::new();
            let mut seen: HashMap<&str, Span> = HashMap::new();
            for f in &decl.fields {
                if let Some(first) = seen.get(f.name.name.as_str()) {
                    let first = *first;
                    self.push(DuplicateName {
                        what: "field",
                        name: f.name.name.clone(),
                        span: f.name.span.into(),
                        first: first.into(),
                        help: format!("give each field of `{}` its own name", decl.name.name),
                    });
                    continue;
                }
                if matches!(f.name.name.as_str(), "at" | "event" | "id") {
                    self.push(BadLiteral {
                        text: f.name.name.clone(),
                        what: "field name",
                        span: f.name.span.into(),
                        help: "`at`, `event` and `id` are part of every event already; choose another name"
                            .to_string(),
                    });
                    continue;
                }
                let Some(ty) = self.type_name(&f.ty) else {
                    continue;
                };
                seen.insert(&f.name.name, f.span);
                self.field_names.insert(f.name.name.clone());
                fields.push(FieldSpec {
                    name: f.name.name.clone(),
                    ty,
                    optional: f.optional,
                    span: f.span,
                });
            }
            let id = self.events.push(EventSpec {
                name: decl.name.name.clone(),
                fields,
                span: decl.name.span,
                derived: false,
            });
            self.names.events.insert(decl.name.name.clone(), id);
        }
        // Each clause's breach is an event too, found by deal itself, so
        // that remedies can follow it.
        for clause in &contract.clauses {
            let name = format!("breach of {}", clause.name.name);
            if self.names.events.contains_key(&name) {
                continue;
            }
            let field = |n: &str, ty: Type, optional: bool| FieldSpec {
                name: n.to_string(),
                ty,
                optional,
                span: clause.name.span,
            };
            let id = self.events.push(EventSpec {
                name: name.clone(),
                fields: [
                    field("party", Type::Party, false),
                    field("amount", Type::Money, true),
                ]
                .into_iter()
                .collect(),
                span: clause.name.span,
                derived: true,
            });
            self.names.events.insert(name, id);
        }
    }

    pub(super) fn type_name(&mut self, id: &ast::Ident) -> Option<Type> {
        if let Some(t) = Type::from_name(&id.name) {
            return Some(t);
        }
        let mut help = self.suggest(&id.name, Type::ALL.iter().map(|(n, _)| *n));
        if help.is_empty() {
            let names: Vec<&str> = Type::ALL.iter().map(|(n, _)| *n).collect();
            help = format!("the types are {}", names.join(", "));
        }
        self.push(UnknownType {
            name: id.name.clone(),
            span: id.span.into(),
            help,
        });
        None
    }

    pub(crate) fn event(&mut self, id: &ast::Ident) -> Option<EventId> {
        if let Some(e) = self.names.events.get(&id.name) {
            self.used_events.insert(*e);
            return Some(*e);
        }
        if let Some(e) = self.time_event(id) {
            return e;
        }
        let names: Vec<String> = self.events.values().map(|e| e.name.clone()).collect();
        let mut help = self.suggest(&id.name, names.iter().map(String::as_str));
        if matches!(id.name.as_str(), "day" | "week" | "month" | "quarter" | "year") {
            help = format!(
                "a period is not an event: for what arises by time alone, write `at the end of each {0}` or `at the start of each {0}` (after `owes … `, or as `at the end of each {0}, …` before a norm)",
                id.name
            );
        }
        if help.is_empty() {
            help = format!("declare it under `events`, e.g. `{} (ref: text)`", id.name);
        }
        self.push(UnknownName {
            what: "event",
            name: id.name.clone(),
            span: id.span.into(),
            help,
        });
        None
    }

    pub(crate) fn field(&mut self, ev: EventId, id: &ast::Ident) -> Option<FieldId> {
        if let Some(f) = self.event_spec(ev).and_then(|e| e.field(&id.name)) {
            return Some(f);
        }
        let help = self.field_help(ev, &id.name);
        self.push(UnknownName {
            what: "field",
            name: id.name.clone(),
            span: id.span.into(),
            help,
        });
        None
    }

    /// The field `name` of `ev` and its type.
    pub(super) fn field_of(&self, ev: EventId, name: &str) -> Option<(FieldId, Type)> {
        self.event_spec(ev)?.field_spec(name).map(|(id, f)| (id, f.ty))
    }

    pub(super) fn field_help(&mut self, ev: EventId, field: &str) -> String {
        let Some(spec) = self.events.get(ev) else {
            return String::new();
        };
        let names: Vec<String> = spec.fields.values().map(|f| f.name.clone()).collect();
        let event = spec.name.clone();
        let s = self.suggest(field, names.iter().map(String::as_str));
        if !s.is_empty() {
            return s;
        }
        if names.is_empty() {
            format!("`{event}` has no fields")
        } else {
            format!("the fields of `{event}` are: {}", names.join(", "))
        }
    }
}

impl Checker {
    /// Names that mix writing systems (a Cyrillic `е` in `Sеller`) look
    /// like names they are not: each draws a warning.
    pub(super) fn scripts(&mut self, contract: &ast::Contract) {
        let names = contract
            .parties
            .iter()
            .chain(contract.terms.iter().map(|t| &t.name))
            .chain(
                contract
                    .events
                    .iter()
                    .flat_map(|e| std::iter::once(&e.name).chain(e.fields.iter().map(|f| &f.name))),
            )
            .chain(contract.clauses.iter().map(|c| &c.name));
        let mixed: Vec<(String, Span, String)> = names
            .filter(|n| !n.name.is_ascii())
            .filter_map(|n| mixed_scripts(&n.name).map(|s| (n.name.clone(), n.span, s)))
            .collect();
        for (name, span, scripts) in mixed {
            self.push(MixedScript {
                name,
                scripts,
                span: span.into(),
            });
        }
    }
}

/// The scripts a name mixes, when it mixes any: digits, `_` and marks
/// belong to every script, and Han with kana (Japanese) or with Hangul
/// (Korean) is one way of writing, not two.
fn mixed_scripts(name: &str) -> Option<String> {
    use unicode_script::{Script, UnicodeScript as _};
    let mut scripts: Vec<Script> = Vec::new();
    for c in name.chars() {
        let s = c.script();
        if matches!(s, Script::Common | Script::Inherited | Script::Unknown) || scripts.contains(&s) {
            continue;
        }
        scripts.push(s);
    }
    let east_asian = [
        Script::Han,
        Script::Hiragana,
        Script::Katakana,
        Script::Hangul,
        Script::Bopomofo,
    ];
    let one_way = scripts.len() <= 1
        || (scripts.iter().all(|s| east_asian.contains(s))
            && !(scripts.contains(&Script::Hangul)
                && (scripts.contains(&Script::Hiragana) || scripts.contains(&Script::Katakana))));
    if one_way {
        return None;
    }
    Some(
        scripts
            .iter()
            .map(|s| s.full_name())
            .collect::<Vec<_>>()
            .join(" and "),
    )
}

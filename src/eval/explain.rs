//! The words of breaches and ineffective acts: what the act was, why no
//! permission covered it, why no power answered it, and what would have
//! been allowed instead. Only breaches and ineffective acts pay for them.

use super::instances::Recent;
use super::state::{show, NState, Note};
use super::Engine;
use crate::events::Event;
use crate::model::*;

impl Note {
    /// The note as the report words it.
    pub fn describe(&self, program: &Program) -> String {
        let name = |e: EventId| program.events.get(e).map_or("", |s| s.name.as_str());
        match self {
            Note::AnsweredBy { event, at } => format!("answered by {} on {at}", name(*event)),
            Note::PerformedLate { at } => format!("performed late, on {at}"),
            Note::CameFirst { event, at } => format!("{} came first, on {at}", name(*event)),
            Note::UsedBy { event, at } => format!("used by {} on {at}", name(*event)),
            Note::DueOpen => {
                "its deadline waits on an open term: set it to know whether it is met".to_string()
            }
        }
    }
}

fn event_name(program: &Program, e: EventId) -> &str {
    program.events.get(e).map_or("", |s| s.name.as_str())
}

fn key_words(key: Option<&str>) -> String {
    key.map(|k| format!(" `{k}`")).unwrap_or_default()
}

/// "did cloud_contract (provider Oracle, ref "stargate")"
pub(crate) fn describe_act(program: &Program, ev: &Event) -> String {
    let Some(spec) = program.events.get(ev.kind) else {
        return String::new();
    };
    let fields: Vec<String> = spec
        .fields
        .values()
        .zip(&ev.fields)
        .filter_map(|(f, v)| v.as_ref().map(|v| format!("{} {v}", f.name)))
        .collect();
    if fields.is_empty() {
        format!("did {}", spec.name)
    } else {
        format!("did {} ({})", spec.name, fields.join(", "))
    }
}

/// What the prohibition would have allowed, as its lowering worded it.
pub(crate) fn allowed_instead(program: &Program, n: NormId) -> Option<String> {
    program.norms.get(n).and_then(|s| s.words.allowed.clone())
}

impl Engine<'_> {
    /// Why no instance of permission `p` covers the act.
    pub(super) fn why_not_permitted(&self, p: NormId, ev: &Event, failed_terms: bool) -> String {
        let program = self.program;
        let Some(spec) = program.norms.get(p) else {
            return String::new();
        };
        let key = Self::key_of(ev, spec.action.key);
        let words = key_words(key.as_deref());
        match &spec.words.uncovered {
            Uncovered::PassedOn {
                holder,
                offer,
                answer,
                power,
            } => {
                if failed_terms {
                    return format!(
                        "its terms are better for the third party than those {holder} passed on{words}"
                    );
                }
                // The deal passed on may already have been done.
                if let Some(Recent {
                    state: NState::Ended,
                    note: Some(Note::UsedBy { event, at }),
                    ..
                }) = self.store(p).latest(key.as_deref())
                {
                    return format!(
                        "{holder} passed on{words}, and that deal was already done by {} on {at}",
                        event_name(program, event)
                    );
                }
                let store = self.store(*power);
                match store.latest(key.as_deref()) {
                    None if store.forgot => format!(
                        "no {offer}{words} to {holder} is open or closed in the last {} days (older ones are not recalled)",
                        super::RECALL_DAYS
                    ),
                    None => format!("no {offer}{words} was made to {holder} first"),
                    Some(i) if i.state == NState::Active => format!(
                        "{holder}'s window to answer {offer}{words} is still open until {}",
                        i.due.map_or("its end".to_string(), |d| d.shown())
                    ),
                    Some(i) if i.state == NState::Exercised => {
                        format!("{holder} took up {offer}{words} by {answer} on {}", show(i.since))
                    }
                    Some(i) if i.state == NState::Suspended => {
                        format!("the first refusal on{words} is suspended")
                    }
                    Some(_) => format!("{holder}'s first refusal on{words} does not cover this act"),
                }
            }
            Uncovered::NoPrior => {
                let occasion = &spec.words.occasion;
                if let Some(Recent {
                    state: NState::Ended,
                    note: Some(Note::UsedBy { event, at }),
                    ..
                }) = self.store(p).latest(key.as_deref())
                {
                    return format!(
                        "the {occasion}{words} before it was already used by {} on {at}",
                        event_name(program, event)
                    );
                }
                format!("no {occasion}{words} came before it")
            }
            Uncovered::Plain => format!("it is not covered by: {}", spec.summary),
        }
    }

    /// Why no instance of power `n` answers the act.
    pub(super) fn why_no_power(&self, n: NormId, ev: &Event) -> String {
        let program = self.program;
        let Some(spec) = program.norms.get(n) else {
            return String::new();
        };
        let key = Self::key_of(ev, spec.action.key);
        let words = key_words(key.as_deref());
        let trigger = match spec.words.occasion.as_str() {
            "" => "event",
            occasion => occasion,
        };
        if !self.clause_active(n) {
            return format!(
                "clause `{}` is {}",
                program.clauses.get(spec.clause).map_or("", |c| c.name.as_str()),
                self.clause_status(spec.clause).name()
            );
        }
        let latest = match spec.action.key {
            Some(_) => key.as_deref().and_then(|k| self.store(n).latest(Some(k))),
            None => self.store(n).latest(None),
        };
        match latest {
            None if self.store(n).forgot => format!(
                "there is no {trigger}{words} open to answer, nor one closed in the last {} days (older ones are not recalled)",
                super::RECALL_DAYS
            ),
            None => format!("there is no {trigger}{words} to answer"),
            Some(i) => match i.state {
                NState::Lapsed => match &i.note {
                    Some(note) => format!("{trigger}{words} was already {}", note.describe(program)),
                    None => format!(
                        "the window to answer {trigger}{words} closed at the end of {}",
                        i.due.map_or("its term".to_string(), |d| d.shown())
                    ),
                },
                NState::Exercised => format!("{trigger}{words} was already taken up on {}", show(i.since)),
                other => format!("the power is {}", other.name()),
            },
        }
    }
}

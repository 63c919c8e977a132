//! Time events: `the end of each quarter`, `every 3 months from …`, `on
//! 2025-06-30`. Each is made, the first time the contract names it, into a
//! derived event that the engine's clock raises when its moment comes; from
//! then on it is an event like any other, so that it can start an amount,
//! a norm's instances, a clause's term or a deadline.

use super::error::{BadLiteral, NoTermStart};
use super::*;
use crate::time::TimeEvent;

impl Checker {
    /// The derived event of a time event, made if this is its first use;
    /// `None` when the name is not a time event at all, `Some(None)` when it
    /// is written as one but cannot be (a date that does not exist).
    pub(super) fn time_event(&mut self, id: &ast::Ident) -> Option<Option<EventId>> {
        let Some(when) = TimeEvent::from_name(&id.name) else {
            let looks_like = id.name.starts_with("every ")
                || id.name.starts_with(|c: char| c.is_ascii_digit())
                || id.name.starts_with("the ");
            if !looks_like {
                return None;
            }
            self.push(BadLiteral {
                text: id.name.clone(),
                what: "time",
                span: id.span.into(),
                help: "a time reads `the start of each month`, `the end of each quarter of the term`, \
                       `every 3 months from 2025-01-15` (in days, weeks, months or years, more than zero) \
                       or, after `on`, a date that exists, like `2025-06-30`"
                    .to_string(),
            });
            return Some(None);
        };
        let name = when.name();
        if let Some(e) = self.names.events.get(&name).copied() {
            self.used_events.insert(e);
            return Some(Some(e));
        }
        let field = |n: &str| FieldSpec {
            name: n.to_string(),
            ty: Type::Date,
            optional: false,
            span: id.span,
        };
        let e = self.events.push(EventSpec {
            name: name.clone(),
            fields: [field("start"), field("end")].into_iter().collect(),
            span: id.span,
            derived: true,
        });
        self.names.events.insert(name, e);
        self.used_events.insert(e);
        self.ticks.push(Tick {
            event: e,
            when,
            span: id.span,
        });
        Some(Some(e))
    }

    /// Periods of the term are counted from the deal's first day, so the
    /// deal must have one.
    pub(super) fn ticks_need_a_start(&mut self, term: &Lifetime) {
        if !matches!(term.start, Bound::Unbounded) {
            return;
        }
        let spans: Vec<crate::ops::Span> = self
            .ticks
            .iter()
            .filter(|t| t.when.of_term())
            .map(|t| t.span)
            .collect();
        for span in spans {
            self.push(NoTermStart { span: span.into() });
        }
    }

    pub(super) fn is_tick(&self, ev: EventId) -> bool {
        self.ticks.iter().any(|t| t.event == ev)
    }

    /// When a time event comes, in words: `at the end of each quarter`,
    /// `on 2025-06-30`, `every 3 months from 2025-01-15`.
    pub(super) fn occasion_words(&self, ev: EventId) -> String {
        let name = self.event_name(ev);
        match self.ticks.iter().find(|t| t.event == ev).map(|t| t.when) {
            Some(TimeEvent::Edge { .. }) => format!("at {name}"),
            Some(TimeEvent::On(_)) => format!("on {name}"),
            _ => name,
        }
    }
}

//! Time events: the clock raises each occurrence of `the end of each
//! quarter` (or any other) as its derived event, at its instant, and sets
//! the timer of the next one. Only the next occurrence of each is ever in
//! the queue, so a deal of many years costs one timer a time event.

use serde::{Deserialize, Serialize};

use super::clock::Timer;
use super::Engine;
use crate::events::Event;
use crate::time::{Instant, Moment, Occurrence};
use crate::value::Value;

/// What the engine keeps of time events between events.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub(super) struct TickState {
    /// Whether their first timers are set.
    pub begun: bool,
    /// When the deal started: calendar periods are counted from the one
    /// holding that day, periods of the term from that day itself.
    pub origin: Option<Instant>,
}

impl Engine<'_> {
    /// Sets the timer of each time event's first occurrence at or after
    /// `from`, once: as the deal starts, or, for a deal with no start of its
    /// own, as time first moves. An occurrence before the deal started
    /// never comes; one on a date of its own before the first event does,
    /// for a deal with no start.
    pub(super) fn begin_ticks(&mut self, from: Option<Instant>) {
        if self.ticks.begun {
            return;
        }
        self.ticks.begun = true;
        self.ticks.origin = from;
        let Some(origin) = from else { return };
        let bounded = !matches!(self.program.term.start, crate::model::Bound::Unbounded);
        for (i, t) in self.program.ticks.iter().enumerate() {
            let Ok(tick) = u32::try_from(i) else { continue };
            // A date of its own, in a deal with no start: every occurrence.
            let own_date = !matches!(t.when, crate::time::TimeEvent::Edge { .. });
            let after = if own_date && !bounded { None } else { Some(origin) };
            let first = if t.when.of_term() {
                // The first period of the term begins as the deal does, at
                // whatever hour that was.
                t.when.occurrence(origin.date(), 0).map(|o| (0, o))
            } else {
                t.when.first_from(origin.date(), after)
            };
            let Some((k, o)) = first else { continue };
            let Ok(k) = u32::try_from(k) else { continue };
            let at = if t.when.of_term() && !t.when.closes() && k == 0 {
                origin.max(o.at)
            } else {
                o.at
            };
            self.schedule_tick(tick, k, at);
        }
    }

    fn schedule_tick(&mut self, tick: u32, k: u32, at: Instant) {
        let closes = self
            .program
            .ticks
            .get(tick as usize)
            .is_some_and(|t| t.when.closes());
        if closes {
            self.clock.schedule_first(at, Timer::Tick { tick, k });
        } else {
            self.clock.schedule(at, Timer::Tick { tick, k });
        }
    }

    /// An occurrence comes: raised as its event, to be reacted to as a
    /// breach is, and the next one's timer set. Nothing comes once the deal
    /// has ended.
    pub(super) fn tick(&mut self, tick: u32, k: u32, at: Instant) {
        if self.deal.ended {
            return;
        }
        let Some(spec) = self.program.ticks.get(tick as usize) else {
            return;
        };
        let origin = self.ticks.origin.unwrap_or(at).date();
        let Some(Occurrence { first, last, .. }) = spec.when.occurrence(origin, i64::from(k)) else {
            return;
        };
        let day = |d| {
            Instant::start_of(d).map(|instant| {
                Value::Date(Moment {
                    instant,
                    date_only: true,
                })
            })
        };
        self.pending.push(Event {
            line: 0,
            at: Moment {
                instant: at,
                date_only: at.is_midnight(),
            },
            kind: spec.event,
            id: None,
            fields: vec![day(first), day(last)],
        });
        let Some(next) = k.checked_add(1) else { return };
        if let Some(o) = spec.when.occurrence(origin, i64::from(next)) {
            self.schedule_tick(tick, next, o.at);
        }
    }
}

//! Instants, calendar dates and calendar periods, all in UTC.
//!
//! `until D` includes all of day D, so the instant a date-bounded period ends
//! is the start of the following day. Deadlines counted in days follow the
//! same rule: "within 30 days after an event on 2025-01-21" is met by
//! anything on or before 2025-02-20 and missed from 2025-02-21T00:00:00Z.

use std::fmt;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span as JSpan, Timestamp};

use crate::syntax::ast::Period;

pub use jiff::civil::Date as CivilDate;

/// A point in time, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(Timestamp);

/// An instant together with how it was written: a plain date prints as a
/// date, a date-time as a date-time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Moment {
    pub instant: Instant,
    pub date_only: bool,
}

impl Instant {
    pub fn start_of(date: Date) -> Option<Instant> {
        date.to_zoned_datetime(TimeZone::UTC)
            .ok()
            .map(|z| Instant(z.timestamp()))
    }

    /// The first instant after all of `date`.
    pub fn end_of(date: Date) -> Option<Instant> {
        Instant::start_of(date.tomorrow().ok()?)
    }

    pub fn date(self) -> Date {
        self.0.to_zoned_datetime(TimeZone::UTC).date()
    }

    pub fn as_second(self) -> i64 {
        self.0.as_second()
    }

    pub fn plus_seconds(self, secs: i64) -> Option<Instant> {
        self.0.checked_add(JSpan::new().seconds(secs)).ok().map(Instant)
    }

    /// Whole seconds from `earlier` to `self`, negative if `self` is earlier.
    pub fn seconds_since(self, earlier: Instant) -> i64 {
        self.0.as_second() - earlier.0.as_second()
    }

    /// The instant just before the next one: used for `--at DATE`, which
    /// includes all of that day.
    pub fn just_before(self) -> Option<Instant> {
        self.0.checked_sub(JSpan::new().nanoseconds(1)).ok().map(Instant)
    }

    pub fn is_midnight(self) -> bool {
        self.0.as_second().rem_euclid(86_400) == 0 && self.0.subsec_nanosecond() == 0
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.subsec_nanosecond() == 0 {
            write!(f, "{}", self.0.strftime("%Y-%m-%dT%H:%M:%SZ"))
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl Moment {
    pub fn at(instant: Instant) -> Moment {
        Moment {
            instant,
            date_only: false,
        }
    }

    /// Parses a plain date (`2025-01-21`) or an RFC 3339 date-time
    /// (`2025-01-21T09:30:00Z`, offsets converted to UTC).
    pub fn parse(text: &str) -> Option<Moment> {
        if text.len() == 10 {
            let date: Date = text.parse().ok()?;
            return Some(Moment {
                instant: Instant::start_of(date)?,
                date_only: true,
            });
        }
        if !text.contains('T') && !text.contains('t') {
            return None;
        }
        let ts: Timestamp = text.parse().ok()?;
        Some(Moment::at(Instant(ts)))
    }
}

impl fmt::Display for Moment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.date_only {
            write!(f, "{}", self.instant.date())
        } else {
            write!(f, "{}", self.instant)
        }
    }
}

pub fn parse_date(text: &str) -> Option<Date> {
    if text.len() != 10 {
        return None;
    }
    text.parse().ok()
}

pub fn add_days(date: Date, days: i64) -> Option<Date> {
    date.checked_add(JSpan::new().try_days(days).ok()?).ok()
}

pub fn add_months(date: Date, months: i64) -> Option<Date> {
    date.checked_add(JSpan::new().try_months(months).ok()?).ok()
}

/// The calendar period holding `date`: its first and last day, and a label
/// such as `2025-Q1`, `2025-03` or `2025`.
pub fn period_of(date: Date, period: Period) -> Option<(Date, Date, String)> {
    let year = date.year();
    match period {
        Period::Month => {
            let first = date.first_of_month();
            Some((first, date.last_of_month(), format!("{year}-{:02}", date.month())))
        }
        Period::Quarter => {
            let q = (date.month() - 1) / 3;
            let first = Date::new(year, q * 3 + 1, 1).ok()?;
            let last = Date::new(year, q * 3 + 3, 1).ok()?.last_of_month();
            Some((first, last, format!("{year}-Q{}", q + 1)))
        }
        Period::Year => Some((date.first_of_year(), date.last_of_year(), format!("{year}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    #[test]
    fn quarters_are_calendar_quarters() {
        let (first, last, label) = period_of(d("2024-02-29"), Period::Quarter).unwrap();
        assert_eq!(
            (first, last, label.as_str()),
            (d("2024-01-01"), d("2024-03-31"), "2024-Q1")
        );
        let (first, last, label) = period_of(d("2025-12-31"), Period::Quarter).unwrap();
        assert_eq!(
            (first, last, label.as_str()),
            (d("2025-10-01"), d("2025-12-31"), "2025-Q4")
        );
        let (_, last, _) = period_of(d("2025-05-03"), Period::Quarter).unwrap();
        assert_eq!(last, d("2025-06-30"));
    }

    #[test]
    fn months_and_years() {
        let (first, last, label) = period_of(d("2024-02-10"), Period::Month).unwrap();
        assert_eq!(
            (first, last, label.as_str()),
            (d("2024-02-01"), d("2024-02-29"), "2024-02")
        );
        let (first, last, label) = period_of(d("2024-02-10"), Period::Year).unwrap();
        assert_eq!(
            (first, last, label.as_str()),
            (d("2024-01-01"), d("2024-12-31"), "2024")
        );
    }

    #[test]
    fn thirty_days_after_a_quarter() {
        assert_eq!(add_days(d("2025-03-31"), 30), Some(d("2025-04-30")));
        assert_eq!(add_days(d("2025-01-21"), 30), Some(d("2025-02-20")));
    }

    #[test]
    fn moments_keep_their_form() {
        let m = Moment::parse("2025-01-21").unwrap();
        assert!(m.date_only);
        assert_eq!(m.to_string(), "2025-01-21");
        let m = Moment::parse("2019-01-11T03:24:00-05:00").unwrap();
        assert_eq!(m.to_string(), "2019-01-11T08:24:00Z");
        assert!(Moment::parse("2019-13-01").is_none());
        assert!(Moment::parse("yesterday").is_none());
    }

    #[test]
    fn a_day_ends_at_the_next_midnight() {
        let end = Instant::end_of(d("2030-12-31"));
        assert_eq!(
            end.map(|e| e.to_string()),
            Some("2031-01-01T00:00:00Z".to_string())
        );
    }
}

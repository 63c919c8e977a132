//! Instants, calendar dates and calendar periods, all in UTC.
//!
//! `until D` includes all of day D, so the instant a date-bounded period ends
//! is the start of the following day. Deadlines counted in days follow the
//! same rule: "within 30 days after an event on 2025-01-21" is met by
//! anything on or before 2025-02-20 and missed from 2025-02-21T00:00:00Z.

use serde::{Deserialize, Serialize};
use std::fmt;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span as JSpan, Timestamp};

use crate::ops::Period;

pub use jiff::civil::Date as CivilDate;

/// A point in time, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(Timestamp);

/// Saved as its seconds and nanoseconds since the Unix epoch, as
/// `[seconds, nanoseconds]`: exact, and read back without parsing text.
impl Serialize for Instant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.parts().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Instant {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Instant, D::Error> {
        let (secs, nanos) = <(i64, i32)>::deserialize(d)?;
        Instant::from_parts(secs, nanos).ok_or_else(|| serde::de::Error::custom("instant out of range"))
    }
}

/// An instant together with how it was written: a plain date prints as a
/// date, a date-time as a date-time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Moment {
    pub instant: Instant,
    pub date_only: bool,
}

const DAY: i64 = 86_400;

impl Instant {
    pub fn start_of(date: Date) -> Option<Instant> {
        let days = days_from_civil(
            i64::from(date.year()),
            i64::from(date.month()),
            i64::from(date.day()),
        );
        Timestamp::new(days.checked_mul(DAY)?, 0).ok().map(Instant)
    }

    /// The first instant after all of `date`.
    pub fn end_of(date: Date) -> Option<Instant> {
        Instant::start_of(date.tomorrow().ok()?)
    }

    /// Year, month and day, in UTC, without building a date.
    pub fn civil(self) -> (i64, i64, i64) {
        civil_from_days(self.0.as_second().div_euclid(DAY))
    }

    pub fn date(self) -> Date {
        let (y, m, d) = civil_from_days(self.0.as_second().div_euclid(DAY));
        // Every instant jiff can hold has a civil date it can hold too.
        match (i16::try_from(y), i8::try_from(m), i8::try_from(d)) {
            (Ok(y), Ok(m), Ok(d)) => {
                Date::new(y, m, d).unwrap_or_else(|_| self.0.to_zoned_datetime(TimeZone::UTC).date())
            }
            _ => self.0.to_zoned_datetime(TimeZone::UTC).date(),
        }
    }

    /// Seconds since the Unix epoch and the nanoseconds within that second.
    pub fn parts(self) -> (i64, i32) {
        (self.0.as_second(), self.0.subsec_nanosecond())
    }

    pub fn from_parts(seconds: i64, nanos: i32) -> Option<Instant> {
        Timestamp::new(seconds, nanos).ok().map(Instant)
    }

    pub fn as_second(self) -> i64 {
        self.0.as_second()
    }

    pub fn plus_seconds(self, secs: i64) -> Option<Instant> {
        let s = self.0.as_second().checked_add(secs)?;
        Timestamp::new(s, self.0.subsec_nanosecond()).ok().map(Instant)
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
        Moment::parse_after(text, &mut LastDay::default())
    }

    /// As [`Moment::parse`], reusing the day worked out for the date read
    /// before when this one falls on it: consecutive events mostly do.
    pub fn parse_after(text: &str, last: &mut LastDay) -> Option<Moment> {
        // Events are dated in these two forms almost always; reading them
        // by hand is several times faster than the general parser, which
        // takes everything else.
        if let Some(m) = parse_common(text.as_bytes(), last) {
            return Some(m);
        }
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

/// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ`, validated as the general parser
/// would; `None` leaves the text to it.
/// The last `YYYY-MM-DD` read and its first second.
#[derive(Debug, Clone, Copy, Default)]
pub struct LastDay {
    text: [u8; 10],
    midnight: Option<i64>,
}

impl LastDay {
    fn midnight_of(&mut self, date: &[u8]) -> Option<i64> {
        if let Some(m) = self.midnight.filter(|_| self.text == date) {
            return Some(m);
        }
        let m = midnight_of(date)?;
        self.text.copy_from_slice(date);
        self.midnight = Some(m);
        Some(m)
    }
}

fn parse_common(b: &[u8], last: &mut LastDay) -> Option<Moment> {
    if b.len() == 10 {
        return Some(Moment {
            instant: Instant(Timestamp::new(last.midnight_of(b)?, 0).ok()?),
            date_only: true,
        });
    }
    let (date, time) = b.split_at_checked(10)?;
    let [b'T', h1, h2, b':', n1, n2, b':', s1, s2, b'Z'] = *time else {
        return None;
    };
    let (h, mi, sec) = (two(h1, h2)?, two(n1, n2)?, two(s1, s2)?);
    // A leap second (`:60`) is the general parser's to judge.
    if h > 23 || mi > 59 || sec > 59 {
        return None;
    }
    let instant = Instant(Timestamp::new(last.midnight_of(date)? + h * 3600 + mi * 60 + sec, 0).ok()?);
    Some(Moment::at(instant))
}

/// Two ASCII digits as a number.
fn two(hi: u8, lo: u8) -> Option<i64> {
    let (hi, lo) = (hi.wrapping_sub(b'0'), lo.wrapping_sub(b'0'));
    (hi < 10 && lo < 10).then(|| i64::from(hi * 10 + lo))
}

/// The first second of a `YYYY-MM-DD` date, since the epoch.
fn midnight_of(b: &[u8]) -> Option<i64> {
    let [y1, y2, y3, y4, b'-', m1, m2, b'-', d1, d2] = *b else {
        return None;
    };
    let (y, m, d) = (two(y1, y2)? * 100 + two(y3, y4)?, two(m1, m2)?, two(d1, d2)?);
    if !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    Some(days_from_civil(y, m, d) * DAY)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
/// algorithm: exact for every date, no tables).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of `days_from_civil`.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Shows an instant as a date when it is a midnight, else as a date-time.
pub fn show_instant(i: Instant) -> String {
    if i.is_midnight() {
        i.date().to_string()
    } else {
        i.to_string()
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

/// The calendar period holding `date`: its first and last day.
pub fn period_of(date: Date, period: Period) -> Option<(Date, Date)> {
    match period {
        Period::Month => Some((date.first_of_month(), date.last_of_month())),
        Period::Quarter => {
            let q = (date.month() - 1) / 3;
            let first = Date::new(date.year(), q * 3 + 1, 1).ok()?;
            let last = Date::new(date.year(), q * 3 + 3, 1).ok()?.last_of_month();
            Some((first, last))
        }
        Period::Year => Some((date.first_of_year(), date.last_of_year())),
    }
}

/// A moment the clock makes an occasion of, with no event needed. Its name
/// is its definition: the contract writes `the end of each quarter`, and
/// the checker reads the same words back with [`TimeEvent::from_name`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeEvent {
    /// `the start|end of each month|quarter|year [of the term]`: calendar
    /// periods, or, of the term, periods counted from the day the deal
    /// starts (contract years).
    Edge {
        end: bool,
        period: Period,
        of_term: bool,
    },
    /// `every N days|weeks|months|years from DATE`: DATE and each step after.
    Every { months: i64, days: i64, from: Date },
    /// `on DATE`: once, as the day begins.
    On(Date),
}

/// One occurrence of a time event: when it fires, and the first and last
/// day of the period it opens or closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub at: Instant,
    pub first: Date,
    pub last: Date,
}

impl TimeEvent {
    /// Reads the words [`TimeEvent::name`] writes; whitespace and `_` in
    /// numbers are as the author pleased.
    pub fn from_name(name: &str) -> Option<TimeEvent> {
        let words: Vec<&str> = name.split_whitespace().collect();
        match words.as_slice() {
            ["the", edge, "of", "each", period, rest @ ..] => {
                let end = match *edge {
                    "start" => false,
                    "end" => true,
                    _ => return None,
                };
                let period = period_word(period)?;
                let of_term = match rest {
                    [] => false,
                    ["of", "the", "term"] => true,
                    _ => return None,
                };
                Some(TimeEvent::Edge { end, period, of_term })
            }
            ["every", n, unit, "from", date] => {
                let n: i64 = n.replace('_', "").parse().ok()?;
                let (months, days) = match unit.trim_end_matches('s') {
                    "day" => (0, n),
                    "week" => (0, n.checked_mul(7)?),
                    "month" => (n, 0),
                    "year" => (n.checked_mul(12)?, 0),
                    _ => return None,
                };
                if months <= 0 && days <= 0 {
                    return None;
                }
                Some(TimeEvent::Every {
                    months,
                    days,
                    from: parse_date(date)?,
                })
            }
            [date] => parse_date(date).map(TimeEvent::On),
            _ => None,
        }
    }

    /// The words that name it, as an event's name.
    pub fn name(&self) -> String {
        match self {
            TimeEvent::Edge { end, period, of_term } => format!(
                "the {} of each {}{}",
                if *end { "end" } else { "start" },
                period_name(*period),
                if *of_term { " of the term" } else { "" }
            ),
            TimeEvent::Every { months, days, from } => {
                let (n, unit) = if *months == 0 {
                    (*days, "days")
                } else {
                    (*months, "months")
                };
                format!("every {n} {unit} from {from}")
            }
            TimeEvent::On(d) => d.to_string(),
        }
    }

    /// Whether it fires as a period ends: it must then come before
    /// anything else that happens at that instant (the next period, the
    /// end of the deal), since it belongs to the period that closes.
    pub fn closes(&self) -> bool {
        matches!(self, TimeEvent::Edge { end: true, .. })
    }

    /// Whether it counts from the deal's first day rather than from a date
    /// of its own or the calendar.
    pub fn of_term(&self) -> bool {
        matches!(self, TimeEvent::Edge { of_term: true, .. })
    }

    /// The `k`-th occurrence counted from `origin`: the day the deal
    /// starts, for a calendar or contract period; ignored otherwise.
    /// Each is worked out from the origin, not from the one before, so
    /// that month ends do not drift (31 January, 28 February, 31 March).
    pub fn occurrence(&self, origin: Date, k: i64) -> Option<Occurrence> {
        let (first, next) = match *self {
            TimeEvent::On(d) => {
                if k != 0 {
                    return None;
                }
                (d, d.tomorrow().ok()?)
            }
            TimeEvent::Every { months, days, from } => {
                let at = |k: i64| -> Option<Date> {
                    add_days(add_months(from, months.checked_mul(k)?)?, days.checked_mul(k)?)
                };
                (at(k)?, at(k.checked_add(1)?)?)
            }
            TimeEvent::Edge { period, of_term, .. } => {
                let step = period_months(period);
                let base = if of_term {
                    origin
                } else {
                    period_of(origin, period)?.0
                };
                (
                    add_months(base, step.checked_mul(k)?)?,
                    add_months(base, step.checked_mul(k.checked_add(1)?)?)?,
                )
            }
        };
        let last = next.yesterday().ok()?;
        let at = if self.closes() {
            Instant::start_of(next)?
        } else {
            Instant::start_of(first)?
        };
        Some(Occurrence { at, first, last })
    }

    /// The first occurrence at or after `from`, with its number; `None`
    /// when there is none (a date already past).
    pub fn first_from(&self, origin: Date, from: Option<Instant>) -> Option<(i64, Occurrence)> {
        let Some(from) = from else {
            return Some((0, self.occurrence(origin, 0)?));
        };
        // A step is at most 31 days a month: start from an occurrence that
        // cannot be past `from` and walk on, a few steps at most.
        let mut k = match *self {
            TimeEvent::Every {
                months,
                days,
                from: start,
            } => {
                let step = months.saturating_mul(31).saturating_add(days).max(1);
                let elapsed = from.seconds_since(Instant::start_of(start)?).div_euclid(DAY);
                (elapsed / step - 1).max(0)
            }
            _ => 0,
        };
        for _ in 0..10_000 {
            let o = self.occurrence(origin, k)?;
            if o.at >= from {
                return Some((k, o));
            }
            k = k.checked_add(1)?;
        }
        None
    }
}

fn period_word(word: &str) -> Option<Period> {
    match word {
        "month" => Some(Period::Month),
        "quarter" => Some(Period::Quarter),
        "year" => Some(Period::Year),
        _ => None,
    }
}

fn period_name(p: Period) -> &'static str {
    match p {
        Period::Month => "month",
        Period::Quarter => "quarter",
        Period::Year => "year",
    }
}

fn period_months(p: Period) -> i64 {
    match p {
        Period::Month => 1,
        Period::Quarter => 3,
        Period::Year => 12,
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
        let (first, last) = period_of(d("2024-02-29"), Period::Quarter).unwrap();
        assert_eq!((first, last), (d("2024-01-01"), d("2024-03-31")));
        let (first, last) = period_of(d("2025-12-31"), Period::Quarter).unwrap();
        assert_eq!((first, last), (d("2025-10-01"), d("2025-12-31")));
        let (_, last) = period_of(d("2025-05-03"), Period::Quarter).unwrap();
        assert_eq!(last, d("2025-06-30"));
    }

    #[test]
    fn months_and_years() {
        let (first, last) = period_of(d("2024-02-10"), Period::Month).unwrap();
        assert_eq!((first, last), (d("2024-02-01"), d("2024-02-29")));
        let (first, last) = period_of(d("2024-02-10"), Period::Year).unwrap();
        assert_eq!((first, last), (d("2024-01-01"), d("2024-12-31")));
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

    /// The hand-read forms agree with the general parser on every day of
    /// four centuries and on malformed near misses.
    #[test]
    fn the_fast_path_agrees_with_jiff() {
        let mut date = d("1900-01-01");
        while date < d("2300-01-01") {
            let text = date.to_string();
            let fast = parse_common(text.as_bytes(), &mut LastDay::default()).unwrap();
            let slow = Instant(date.to_zoned_datetime(TimeZone::UTC).unwrap().timestamp());
            assert_eq!(fast.instant, slow, "{text}");
            assert_eq!(fast.instant.date(), date);
            date = date.tomorrow().unwrap();
        }
        for bad in [
            "2025-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-01-32",
            "2025-04-31",
            "2025-01-01T24:00:00Z",
        ] {
            assert!(
                parse_common(bad.as_bytes(), &mut LastDay::default()).is_none(),
                "{bad}"
            );
        }
        let t = "2024-02-29T23:59:59Z";
        let slow: Timestamp = t.parse().unwrap();
        let mut last = LastDay::default();
        assert_eq!(
            parse_common(t.as_bytes(), &mut last).unwrap().instant,
            Instant(slow)
        );
        // The same day again, from what was kept, and another day after it.
        let again = parse_common(b"2024-02-29T00:00:01Z", &mut last).unwrap().instant;
        assert_eq!(again.to_string(), "2024-02-29T00:00:01Z");
        let next = parse_common(b"2024-03-01", &mut last).unwrap().instant;
        assert_eq!(next.to_string(), "2024-03-01T00:00:00Z");
    }

    #[test]
    fn a_day_ends_at_the_next_midnight() {
        let end = Instant::end_of(d("2030-12-31"));
        assert_eq!(
            end.map(|e| e.to_string()),
            Some("2031-01-01T00:00:00Z".to_string())
        );
    }

    #[test]
    fn time_events_read_back_their_names() {
        for name in [
            "the start of each month",
            "the end of each quarter",
            "the start of each year of the term",
            "every 3 months from 2025-01-15",
            "every 10 days from 2025-01-15",
            "2025-06-30",
        ] {
            let t = TimeEvent::from_name(name).unwrap();
            assert_eq!(t.name(), name);
        }
        assert!(TimeEvent::from_name("the middle of each month").is_none());
        assert!(TimeEvent::from_name("every 0 months from 2025-01-01").is_none());
        assert!(TimeEvent::from_name("2025-02-30").is_none());
    }

    #[test]
    fn occurrences_do_not_drift() {
        let t = TimeEvent::from_name("every 1 month from 2025-01-31").unwrap();
        let days: Vec<String> = (0..3)
            .map(|k| t.occurrence(d("2000-01-01"), k).unwrap().first.to_string())
            .collect();
        assert_eq!(days, ["2025-01-31", "2025-02-28", "2025-03-31"]);
        let q = TimeEvent::from_name("the end of each quarter").unwrap();
        let o = q.occurrence(d("2025-02-10"), 0).unwrap();
        assert_eq!((o.first, o.last), (d("2025-01-01"), d("2025-03-31")));
        assert_eq!(o.at.to_string(), "2025-04-01T00:00:00Z");
        let y = TimeEvent::from_name("the start of each year of the term").unwrap();
        let o = y.occurrence(d("2025-04-01"), 1).unwrap();
        assert_eq!((o.first, o.last), (d("2026-04-01"), d("2027-03-31")));
        let (k, o) = t
            .first_from(d("2000-01-01"), Instant::start_of(d("2026-03-01")))
            .unwrap();
        assert_eq!((k, o.first), (14, d("2026-03-31")));
        let s = TimeEvent::from_name("the start of each month").unwrap();
        let (k, o) = s
            .first_from(d("2025-01-15"), Instant::start_of(d("2025-01-15")))
            .unwrap();
        assert_eq!((k, o.first), (1, d("2025-02-01")));
    }
}

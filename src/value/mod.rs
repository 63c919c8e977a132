//! Values and their types. Every number is a `rust_decimal::Decimal`; every
//! operation on one is checked.

pub mod exact;

use serde::{Deserialize, Serialize};
use std::fmt;

use rust_decimal::Decimal;
use smol_str::SmolStr;

use crate::time::Moment;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Type {
    /// One of the deal's parties.
    Party,
    /// Any named organisation or person, a party or not.
    Entity,
    Money,
    Decimal,
    Percent,
    Date,
    Duration,
    Text,
    Bool,
}

impl Type {
    pub const ALL: [(&'static str, Type); 9] = [
        ("party", Type::Party),
        ("entity", Type::Entity),
        ("money", Type::Money),
        ("decimal", Type::Decimal),
        ("percent", Type::Percent),
        ("date", Type::Date),
        ("duration", Type::Duration),
        ("text", Type::Text),
        ("bool", Type::Bool),
    ];

    pub fn from_name(name: &str) -> Option<Type> {
        Type::ALL.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    pub fn name(self) -> &'static str {
        Type::ALL
            .iter()
            .find(|(_, t)| *t == self)
            .map(|(n, _)| *n)
            .unwrap_or("value")
    }

    /// Whether a value of type `self` may stand where `want` is expected.
    pub fn fits(self, want: Type) -> bool {
        self == want || (self == Type::Party && want == Type::Entity)
    }

    /// How a value of this type is written in an events file.
    pub fn example(self) -> &'static str {
        match self {
            Type::Party => "the name of one of the deal's parties, e.g. \"OpenAI\"",
            Type::Entity => "a name in quotes, e.g. \"Oracle\"",
            Type::Money => "an amount and a currency in quotes, e.g. \"1500.00 USD\"",
            Type::Decimal => "a number, e.g. 12.5 or \"12.5\"",
            Type::Percent => "a percentage in quotes, e.g. \"99.7%\"",
            Type::Date => "a date in quotes, e.g. \"2025-01-21\"",
            Type::Duration => "a duration in quotes, e.g. \"30 days\"",
            Type::Text => "text in quotes, e.g. \"stargate\"",
            Type::Bool => "true or false, without quotes",
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A currency code as written: three upper-case letters. Whether ISO 4217
/// lists it is [`Currency::is_iso`], asked where a code is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Currency([u8; 3]);

impl Currency {
    /// The currency of an amount that waits on an open `money` term written
    /// without one: it is owed, in a currency not yet known. No amount
    /// read from a contract or an event is ever in it.
    pub const UNDETERMINED: Currency = Currency(*b"???");

    pub fn parse(code: &str) -> Option<Currency> {
        let b: [u8; 3] = code.as_bytes().try_into().ok()?;
        b.iter().all(u8::is_ascii_uppercase).then_some(Currency(b))
    }

    pub fn as_str(&self) -> &str {
        if *self == Currency::UNDETERMINED {
            return "undetermined";
        }
        std::str::from_utf8(&self.0).unwrap_or("???")
    }

    /// Whether ISO 4217 lists the code. Asked of every amount an event
    /// carries, so it is a bit lookup, not a search of the list.
    pub fn is_iso(self) -> bool {
        if !self.0.iter().all(u8::is_ascii_uppercase) {
            return false;
        }
        let [a, b, c] = self.0.map(|x| usize::from(x - b'A'));
        let i = (a * 26 + b) * 26 + c;
        iso_table()
            .get(i / 64)
            .is_some_and(|word| word & (1 << (i % 64)) != 0)
    }

    /// Every ISO 4217 code, for suggestions: the most traded first, so that
    /// a near miss like `USX` is taken for `USD` rather than `UGX`.
    pub fn iso_codes() -> impl Iterator<Item = &'static str> {
        use iso_currency::IntoEnumIterator as _;
        const MAJOR: [&str; 10] = [
            "USD", "EUR", "JPY", "GBP", "CNY", "CHF", "CAD", "AUD", "HKD", "SGD",
        ];
        let rest = iso_currency::Currency::iter()
            .map(|c| c.code())
            .filter(|c| !MAJOR.contains(c));
        MAJOR.into_iter().chain(rest)
    }
}

/// One bit for each of the 26³ three-letter codes.
fn iso_table() -> &'static [u64; 275] {
    static TABLE: std::sync::OnceLock<[u64; 275]> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = [0u64; 275];
        for code in Currency::iso_codes() {
            if let Some(Currency([a, b, c])) = Currency::parse(code) {
                let i = (usize::from(a - b'A') * 26 + usize::from(b - b'A')) * 26 + usize::from(c - b'A');
                if let Some(word) = table.get_mut(i / 64) {
                    *word |= 1 << (i % 64);
                }
            }
        }
        table
    })
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Money {
        Money { amount, currency }
    }

    /// `"1500.25 USD"`
    pub fn parse(text: &str) -> Option<Money> {
        // Nearly every amount is written `<decimal> <CUR>` with one space.
        let b = text.as_bytes();
        if b.len() > 4 && b.get(b.len() - 4) == Some(&b' ') {
            let (amount, code) = (text.get(..b.len() - 4), text.get(b.len() - 3..));
            if let (Some(amount), Some(code)) = (amount, code) {
                if let (Some(currency), Some(amount)) = (Currency::parse(code), parse_decimal(amount)) {
                    return Some(Money { amount, currency });
                }
            }
        }
        let mut parts = text.split_whitespace();
        let amount = parse_decimal(parts.next()?)?;
        let currency = Currency::parse(parts.next()?)?;
        if parts.next().is_some() {
            return None;
        }
        Some(Money { amount, currency })
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// A span of time. Months and days are calendar units; seconds are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Duration {
    pub months: i64,
    pub days: i64,
    pub seconds: i64,
}

impl Duration {
    pub fn days(days: i64) -> Duration {
        Duration {
            days,
            ..Duration::default()
        }
    }

    pub fn seconds(seconds: i64) -> Duration {
        Duration {
            seconds,
            ..Duration::default()
        }
    }

    /// Whether it can run backwards from some date: months count at their
    /// shortest when added and at their longest when taken away.
    pub fn may_be_negative(&self) -> bool {
        let month_days: i128 = if self.months > 0 { 28 } else { 31 };
        let seconds = (i128::from(self.months) * month_days + i128::from(self.days)) * 86_400
            + i128::from(self.seconds);
        seconds < 0
    }

    /// Length in seconds when it has no calendar months.
    pub fn exact_seconds(&self) -> Option<i64> {
        if self.months != 0 {
            return None;
        }
        self.days.checked_mul(86_400)?.checked_add(self.seconds)
    }

    /// Whether it counts calendar days only, so deadlines fall at day ends.
    pub fn is_calendar(&self) -> bool {
        self.seconds == 0
    }

    pub fn checked_add(self, o: Duration) -> Option<Duration> {
        Some(Duration {
            months: self.months.checked_add(o.months)?,
            days: self.days.checked_add(o.days)?,
            seconds: self.seconds.checked_add(o.seconds)?,
        })
    }

    /// `30 days`, `2 months`, `36 hours`, as written in an events file.
    pub fn parse(text: &str) -> Option<Duration> {
        let mut parts = text.split_whitespace();
        let n: i64 = parts.next()?.parse().ok()?;
        let unit = parts.next()?;
        if parts.next().is_some() {
            return None;
        }
        Duration::of(n, unit.trim_end_matches('s'))
    }

    pub fn of(n: i64, unit: &str) -> Option<Duration> {
        Some(match unit {
            "second" => Duration::seconds(n),
            "minute" => Duration::seconds(n.checked_mul(60)?),
            "hour" => Duration::seconds(n.checked_mul(3600)?),
            "day" => Duration::days(n),
            "week" => Duration::days(n.checked_mul(7)?),
            "month" => Duration {
                months: n,
                ..Duration::default()
            },
            "year" => Duration {
                months: n.checked_mul(12)?,
                ..Duration::default()
            },
            _ => return None,
        })
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        let plural = |n: i64, unit: &str| {
            if n == 1 {
                format!("1 {unit}")
            } else {
                format!("{n} {unit}s")
            }
        };
        if self.months != 0 {
            parts.push(plural(self.months, "month"));
        }
        if self.days != 0 {
            parts.push(plural(self.days, "day"));
        }
        if self.seconds != 0 {
            parts.push(plural(self.seconds, "second"));
        }
        if parts.is_empty() {
            parts.push("0 days".to_string());
        }
        f.write_str(&parts.join(" "))
    }
}

/// Text is held inline up to 23 bytes, so the names and references that
/// events carry cost no allocation.
#[derive(Debug, Clone, PartialEq, Hash, Serialize, Deserialize)]
pub enum Value {
    Bool(bool),
    Text(SmolStr),
    /// A party or any other named entity.
    Entity(SmolStr),
    Decimal(Decimal),
    /// The number written before the `%`: 25% is `Percent(25)`.
    Percent(Decimal),
    Money(Money),
    Date(Moment),
    Duration(Duration),
    /// A number, percentage or amount that no decimal of 28 digits holds:
    /// a third, or a product past 28 significant digits. Kept exact until
    /// a rounding the contract writes.
    Exact(Box<exact::Exact>),
}

impl Value {
    /// Whether it is a number, a percentage, an amount or a duration of zero.
    pub fn is_zero(&self) -> bool {
        use num_traits::Zero as _;
        match self {
            Value::Decimal(d) | Value::Percent(d) => d.is_zero(),
            Value::Money(m) => m.amount.is_zero(),
            Value::Exact(e) => e.value.is_zero(),
            Value::Duration(d) => *d == Duration::default(),
            _ => false,
        }
    }

    pub fn type_of(&self) -> Type {
        match self {
            Value::Bool(_) => Type::Bool,
            Value::Text(_) => Type::Text,
            Value::Entity(_) => Type::Entity,
            Value::Decimal(_) => Type::Decimal,
            Value::Percent(_) => Type::Percent,
            Value::Money(_) => Type::Money,
            Value::Date(_) => Type::Date,
            Value::Duration(_) => Type::Duration,
            Value::Exact(e) => match e.kind {
                exact::Kind::Number => Type::Decimal,
                exact::Kind::Percent => Type::Percent,
                exact::Kind::Money(_) | exact::Kind::AnyMoney => Type::Money,
            },
        }
    }

    /// The text used to correlate events by a key (`ref`).
    pub fn key_text(&self) -> SmolStr {
        match self {
            Value::Text(s) | Value::Entity(s) => s.clone(),
            other => SmolStr::new(other.to_string()),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Text(s) => write!(f, "\"{s}\""),
            Value::Entity(s) => write!(f, "{s}"),
            Value::Decimal(d) => write!(f, "{d}"),
            Value::Percent(p) => write!(f, "{p}%"),
            Value::Money(m) => write!(f, "{m}"),
            Value::Date(m) => write!(f, "{m}"),
            Value::Duration(d) => write!(f, "{d}"),
            Value::Exact(e) => write!(f, "{e}"),
        }
    }
}

/// An exact amount, with at least two decimals and no trailing noise.
pub fn format_amount(d: Decimal) -> String {
    let mut n = d.normalize();
    if n.scale() < 2 {
        n.rescale(2);
    }
    n.to_string()
}

/// Reads a decimal exactly from its text: `12`, `-3.25`, `1e3` is refused.
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let padded =
        |c: Option<&u8>| c.is_some_and(|c| !c.is_ascii_digit() && *c != b'-' && *c != b'+' && *c != b'.');
    let t = if padded(text.as_bytes().first()) || padded(text.as_bytes().last()) {
        text.trim()
    } else {
        text
    };
    if t.is_empty()
        || !t
            .bytes()
            .all(|c| c.is_ascii_digit() || c == b'.' || c == b'-' || c == b'+')
    {
        return None;
    }
    Decimal::from_str_exact(t.strip_prefix('+').unwrap_or(t)).ok()
}

/// `"99.7%"`
pub fn parse_percent(text: &str) -> Option<Decimal> {
    parse_decimal(text.trim().strip_suffix('%')?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_exactly() {
        let m = Money::parse("100000000000.000000001 USD");
        assert_eq!(
            m.map(|m| m.to_string()),
            Some("100000000000.000000001 USD".to_string())
        );
        assert!(Money::parse("100 usd").is_none());
        assert!(Money::parse("1e3 USD").is_none());
        assert!(Money::parse("100").is_none());
    }

    #[test]
    fn percents_and_durations() {
        assert_eq!(parse_percent("99.7%"), Decimal::from_str_exact("99.7").ok());
        assert_eq!(parse_percent("99.7"), None);
        assert_eq!(Duration::parse("30 days"), Some(Duration::days(30)));
        assert_eq!(Duration::parse("1 week"), Some(Duration::days(7)));
        assert_eq!(
            Duration::parse("36 hours").and_then(|d| d.exact_seconds()),
            Some(129_600)
        );
    }
}

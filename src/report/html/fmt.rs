//! Escaping and the words and figures of the page: dates as people read
//! them, amounts with thousands separators.

use std::fmt;

use rust_decimal::Decimal;

use crate::time::{Instant, Moment};

/// Text escaped for HTML content and attribute values. Every string that
/// comes from a contract or an event goes through this.
pub struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut last = 0;
        let s = self.0;
        for (i, c) in s.char_indices() {
            let rep = match c {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&#39;",
                _ => continue,
            };
            f.write_str(s.get(last..i).unwrap_or(""))?;
            f.write_str(rep)?;
            last = i + c.len_utf8();
        }
        f.write_str(s.get(last..).unwrap_or(""))
    }
}

pub fn esc(s: &str) -> Esc<'_> {
    Esc(s)
}

/// JSON for a `<script type="application/json">`: nothing in it can close
/// the element.
pub fn script_json(v: &serde_json::Value) -> String {
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

const MONTHS_LONG: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

pub fn month_name(m: i64) -> &'static str {
    MONTHS
        .get(usize::try_from(m - 1).unwrap_or(0))
        .copied()
        .unwrap_or("")
}

pub fn month_long(m: i64) -> &'static str {
    MONTHS_LONG
        .get(usize::try_from(m - 1).unwrap_or(0))
        .copied()
        .unwrap_or("")
}

/// `21 Jan 2025`, or `21 Jan 2025, 09:30 UTC` off midnight.
pub fn date(secs: i64) -> String {
    let Some(i) = Instant::from_parts(secs, 0) else {
        return secs.to_string();
    };
    let (y, m, d) = i.civil();
    let day = format!("{d} {} {y}", month_name(m));
    let in_day = secs.rem_euclid(86_400);
    if in_day == 0 {
        day
    } else {
        format!(
            "{day}, {:02}:{:02}{} UTC",
            in_day / 3600,
            in_day % 3600 / 60,
            if in_day % 60 == 0 {
                String::new()
            } else {
                format!(":{:02}", in_day % 60)
            }
        )
    }
}

/// The day an exclusive end falls on: a term `until 2030-12-31` ends at
/// the start of 2031-01-01 and is shown as 31 Dec 2030.
pub fn last_day(end_exclusive: i64) -> String {
    if end_exclusive.rem_euclid(86_400) == 0 {
        date(end_exclusive - 86_400)
    } else {
        date(end_exclusive)
    }
}

/// A date or date-time as the engine writes it (`2025-04-30`), for people.
pub fn shown(text: &str) -> String {
    match Moment::parse(text) {
        Some(m) => date(m.instant.as_second()),
        None => text.to_string(),
    }
}

/// The `datetime` attribute of a `<time>`.
pub fn iso(secs: i64) -> String {
    match Instant::from_parts(secs, 0) {
        Some(i) if i.is_midnight() => i.date().to_string(),
        Some(i) => i.to_string(),
        None => String::new(),
    }
}

/// `6400000000.00` → `6,400,000,000.00`.
pub fn grouped(text: &str) -> String {
    let (sign, body) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let mut out = String::with_capacity(text.len() + int.len() / 3);
    out.push_str(sign);
    let digits: Vec<char> = int.chars().collect();
    for (i, c) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(*c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// An exact amount for people: grouped, with at least two decimals.
pub fn amount(d: Decimal) -> String {
    let mut d = d.normalize();
    if d.scale() < 2 {
        d.rescale(2);
    }
    grouped(&d.to_string())
}

/// A short amount for an axis: `6.4 bn`, `250 k`, `12.5`.
pub fn compact(d: Decimal) -> String {
    let abs = d.abs();
    let (div, unit) = if abs >= Decimal::from(1_000_000_000_000i64) {
        (Decimal::from(1_000_000_000_000i64), " tn")
    } else if abs >= Decimal::from(1_000_000_000) {
        (Decimal::from(1_000_000_000), " bn")
    } else if abs >= Decimal::from(1_000_000) {
        (Decimal::from(1_000_000), " m")
    } else if abs >= Decimal::from(10_000) {
        (Decimal::from(1_000), " k")
    } else {
        (Decimal::ONE, "")
    };
    let v = (d / div).round_dp(2).normalize();
    format!("{}{unit}", grouped(&v.to_string()))
}

/// `revenue_share` → `Revenue share`.
pub fn title_of(name: &str) -> String {
    let spaced = name.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `1 thing`, `2 things`.
pub fn count(n: u64, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{} {many}", grouped(&n.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"y\"").to_string(),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
        let v = serde_json::json!({"a": "</script><b>"});
        assert!(!script_json(&v).contains('<'));
    }

    #[test]
    fn dates_and_amounts_read_well() {
        let s = crate::time::Instant::start_of(crate::time::parse_date("2025-01-21").unwrap_or_default())
            .map(|i| i.as_second())
            .unwrap_or_default();
        assert_eq!(date(s), "21 Jan 2025");
        assert_eq!(date(s + 9 * 3600 + 30 * 60), "21 Jan 2025, 09:30 UTC");
        assert_eq!(last_day(s), "20 Jan 2025");
        assert_eq!(grouped("6400000000.00"), "6,400,000,000.00");
        assert_eq!(grouped("-1234.5"), "-1,234.5");
        assert_eq!(grouped("123"), "123");
        assert_eq!(amount(Decimal::new(25, 0)), "25.00");
        assert_eq!(compact(Decimal::new(6_400_000_000, 0)), "6.4 bn");
        assert_eq!(compact(Decimal::new(250, 0)), "250");
        assert_eq!(title_of("revenue_share"), "Revenue share");
    }
}

//! A flat scanner for the events lines that nearly every stream is made
//! of: one JSON object whose values are strings without escapes, numbers,
//! booleans or null. It finds where each key and value is, borrowing the
//! line, and gives up on anything else (nesting, escapes, more keys than it
//! holds, any syntax error) so that the precise path can judge the line and
//! word its diagnostic. It never accepts a line that `serde_json` rejects.

/// What a value is, once scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A string, without its quotes.
    Str,
    /// A number, as written.
    Num,
    True,
    False,
    Null,
}

/// One `"key": value` of the object, as byte ranges of the line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Member {
    pub key: (u32, u32),
    pub kind: Kind,
    pub value: (u32, u32),
}

/// The most members the fast path takes; longer objects go the precise way.
pub(crate) const MAX_MEMBERS: usize = 24;

pub(crate) struct Members {
    pub items: [Member; MAX_MEMBERS],
    pub len: usize,
}

impl Members {
    pub fn new() -> Members {
        Members {
            items: [Member {
                key: (0, 0),
                kind: Kind::Null,
                value: (0, 0),
            }; MAX_MEMBERS],
            len: 0,
        }
    }

    pub fn as_slice(&self) -> &[Member] {
        self.items.get(..self.len).unwrap_or(&[])
    }
}

pub(crate) fn slice(text: &str, (start, end): (u32, u32)) -> &str {
    text.get(start as usize..end as usize).unwrap_or("")
}

/// Scans `text` as one flat JSON object into `out`. `None` means "not in
/// the fast subset", never "invalid": the caller then asks the precise path.
pub(crate) fn scan(text: &str, out: &mut Members) -> Option<()> {
    let b = text.as_bytes();
    if b.len() >= u32::MAX as usize {
        return None;
    }
    out.len = 0;
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        return end(b, i + 1);
    }
    loop {
        let (key, after) = string(b, i)?;
        i = skip_ws(b, after);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        let (kind, value, after) = value(b, i)?;
        let slot = out.items.get_mut(out.len)?;
        *slot = Member { key, kind, value };
        out.len += 1;
        i = skip_ws(b, after);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => return end(b, i + 1),
            _ => return None,
        }
    }
}

/// Only whitespace may follow the closing brace.
fn end(b: &[u8], i: usize) -> Option<()> {
    (skip_ws(b, i) == b.len()).then_some(())
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

/// A string without escapes or control characters starting at `i` (its
/// opening quote): the range inside the quotes and the index after it.
fn string(b: &[u8], i: usize) -> Option<((u32, u32), usize)> {
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    let rest = b.get(start..)?;
    let len = string_end(rest)?;
    let j = start + len;
    (b.get(j) == Some(&b'"')).then_some(((start as u32, j as u32), j + 1))
}

/// Where the first quote, backslash or control character is. Strings in
/// events are short: a plain search beats any word-at-a-time trick here.
fn string_end(rest: &[u8]) -> Option<usize> {
    rest.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20)
}

fn value(b: &[u8], i: usize) -> Option<(Kind, (u32, u32), usize)> {
    match *b.get(i)? {
        b'"' => {
            let (range, after) = string(b, i)?;
            Some((Kind::Str, range, after))
        }
        b't' => literal(b, i, b"true", Kind::True),
        b'f' => literal(b, i, b"false", Kind::False),
        b'n' => literal(b, i, b"null", Kind::Null),
        b'-' | b'0'..=b'9' => {
            let after = number(b, i)?;
            Some((Kind::Num, (i as u32, after as u32), after))
        }
        _ => None,
    }
}

fn literal(b: &[u8], i: usize, word: &[u8], kind: Kind) -> Option<(Kind, (u32, u32), usize)> {
    let after = i + word.len();
    (b.get(i..after)? == word).then_some((kind, (i as u32, after as u32), after))
}

/// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn number(b: &[u8], mut i: usize) -> Option<usize> {
    let digits = |mut j: usize| {
        let from = j;
        while b.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        (j > from).then_some(j)
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    i = match b.get(i)? {
        b'0' => i + 1,
        b'1'..=b'9' => digits(i)?,
        _ => return None,
    };
    if b.get(i) == Some(&b'.') {
        i = digits(i + 1)?;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        i = digits(i)?;
    }
    Some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(text: &str) -> Option<Vec<(String, Kind, String)>> {
        let mut m = Members::new();
        scan(text, &mut m)?;
        Some(
            m.as_slice()
                .iter()
                .map(|x| {
                    (
                        slice(text, x.key).to_string(),
                        x.kind,
                        slice(text, x.value).to_string(),
                    )
                })
                .collect(),
        )
    }

    #[test]
    fn flat_objects_are_scanned() {
        let got = members(r#" { "at" : "2025-01-21", "n":-1.5e3, "b":true, "z":null } "#).unwrap();
        assert_eq!(got[0], ("at".into(), Kind::Str, "2025-01-21".into()));
        assert_eq!(got[1], ("n".into(), Kind::Num, "-1.5e3".into()));
        assert_eq!(got[2].1, Kind::True);
        assert_eq!(got[3].1, Kind::Null);
        assert_eq!(members("{}").unwrap().len(), 0);
    }

    /// Everything outside the subset is left to serde_json, which must
    /// also reject what is invalid.
    #[test]
    fn anything_else_is_left_to_the_precise_path() {
        for text in [
            r#"{"a":"x\"y"}"#,
            r#"{"a":{"b":1}}"#,
            r#"{"a":[1]}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":-}"#,
            r#"{"a":1,}"#,
            r#"{"a":1} x"#,
            "\u{feff}{}",
            "{\"a\":\"\t\"}",
            r#"{"a" 1}"#,
            r#"{a:1}"#,
            r#"{"a":tru}"#,
            "",
        ] {
            assert!(members(text).is_none(), "{text}");
        }
    }

    /// The search finds the byte that ends a string at any offset.
    #[test]
    fn the_end_of_a_string_is_found_at_any_offset() {
        for len in 0..40 {
            for stop in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
                let mut text = vec![b'a'; len];
                text.push(stop);
                text.extend_from_slice(b"zz\"");
                assert_eq!(string_end(&text), Some(len), "len {len} stop {stop}");
            }
            // Bytes just above the control range and non-ASCII are content.
            let mut text: Vec<u8> = (0..len).map(|i| [0x20, 0x7f, 0xc3, 0xa9, b'!'][i % 5]).collect();
            text.push(b'"');
            assert_eq!(string_end(&text), Some(len));
        }
        assert_eq!(string_end(b"no end"), None);
    }

    #[test]
    fn the_fast_subset_is_valid_json() {
        for text in [r#"{"a":0.5,"b":"x","c":false,"d":null,"e":1E+2}"#, "{ }"] {
            assert!(members(text).is_some(), "{text}");
            assert!(serde_json::from_str::<serde_json::Value>(text).is_ok(), "{text}");
        }
    }
}

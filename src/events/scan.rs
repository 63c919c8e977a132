//! A flat scanner for the events lines that nearly every stream is made
//! of: one JSON object whose values are strings without escapes, numbers,
//! booleans or null. It hands out each key and value in turn, borrowing the
//! line, and gives up on anything else (nesting, escapes, any syntax error)
//! so that the precise path can judge the line and word its diagnostic. It
//! never accepts a line that `serde_json` rejects.

/// A value, as scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    /// A string, without its quotes.
    Str(&'a str),
    /// A number, as written.
    Num(&'a str),
    Bool(bool),
    Null,
}

/// The members of one object, one at a time.
pub(crate) struct Scanner<'a> {
    text: &'a str,
    i: usize,
    /// Whether the closing brace was reached.
    closed: bool,
}

impl<'a> Scanner<'a> {
    /// `None` if the line is outside the fast subset from the start.
    pub fn new(text: &'a str) -> Option<Scanner<'a>> {
        let b = text.as_bytes();
        // One pass over the whole line, which the compiler turns into vector
        // code: no escape, no control character (tabs and line breaks between
        // tokens included, rare enough to leave to serde). After it, a string
        // ends at the next quote, found by `memchr`.
        if has_control_or_escape(b) {
            return None;
        }
        let i = skip_ws(b, 0);
        if b.get(i) != Some(&b'{') {
            return None;
        }
        let i = skip_ws(b, i + 1);
        let closed = b.get(i) == Some(&b'}');
        if closed {
            end(b, i + 1)?;
        }
        Some(Scanner { text, i, closed })
    }

    /// The next member; `Some(None)` once the object is closed (and nothing
    /// but spaces follows it), `None` if the line leaves the fast subset.
    #[allow(
        clippy::option_option,
        reason = "outer: the fast path gives up; inner: the object ends"
    )]
    pub fn next_member(&mut self) -> Option<Option<(&'a str, Token<'a>)>> {
        if self.closed {
            return Some(None);
        }
        let b = self.text.as_bytes();
        let (key, after) = self.string(self.i)?;
        let mut i = skip_ws(b, after);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        let (value, after) = match *b.get(i)? {
            b'"' => {
                let ((start, end), after) = self.string(i)?;
                (Token::Str(self.text.get(start..end)?), after)
            }
            _ => value(self.text, i)?,
        };
        i = skip_ws(b, after);
        match b.get(i) {
            Some(b',') => self.i = skip_ws(b, i + 1),
            Some(b'}') => {
                end(b, i + 1)?;
                self.closed = true;
            }
            _ => return None,
        }
        Some(Some((self.text.get(key.0..key.1)?, value)))
    }

    /// The string whose opening quote is at `i` in a line without escapes
    /// or control characters: the range inside the quotes and the index
    /// after it.
    fn string(&self, i: usize) -> Option<((usize, usize), usize)> {
        let b = self.text.as_bytes();
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let start = i + 1;
        let end = start + memchr::memchr(b'"', b.get(start..)?)?;
        Some(((start, end), end + 1))
    }
}

/// Whether any byte is a control character or a backslash. Written over
/// fixed chunks without early exit, so that it compiles to vector code.
fn has_control_or_escape(b: &[u8]) -> bool {
    let odd = |c: u8| u8::from(c < 0x20) | u8::from(c == b'\\');
    let mut chunks = b.chunks_exact(32);
    for chunk in &mut chunks {
        let mut any = 0u8;
        for &c in chunk {
            any |= odd(c);
        }
        if any != 0 {
            return true;
        }
    }
    chunks.remainder().iter().any(|&c| odd(c) != 0)
}

/// Only whitespace may follow the closing brace.
fn end(b: &[u8], i: usize) -> Option<()> {
    (skip_ws(b, i) == b.len()).then_some(())
}

/// Spaces only: the line holds no other whitespace by now.
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i) == Some(&b' ') {
        i += 1;
    }
    i
}

/// A value other than a string.
fn value(text: &str, i: usize) -> Option<(Token<'_>, usize)> {
    let b = text.as_bytes();
    match *b.get(i)? {
        b't' => literal(b, i, b"true", Token::Bool(true)),
        b'f' => literal(b, i, b"false", Token::Bool(false)),
        b'n' => literal(b, i, b"null", Token::Null),
        b'-' | b'0'..=b'9' => {
            let after = number(b, i)?;
            Some((Token::Num(text.get(i..after)?), after))
        }
        _ => None,
    }
}

fn literal<'a>(b: &[u8], i: usize, word: &[u8], token: Token<'a>) -> Option<(Token<'a>, usize)> {
    let after = i + word.len();
    (b.get(i..after)? == word).then_some((token, after))
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

    fn members(text: &str) -> Option<Vec<(String, Token<'_>)>> {
        let mut sc = Scanner::new(text)?;
        let mut out = Vec::new();
        while let Some((k, v)) = sc.next_member()? {
            out.push((k.to_string(), v));
        }
        Some(out)
    }

    #[test]
    fn flat_objects_are_scanned() {
        let got = members(r#" { "at" : "2025-01-21", "n":-1.5e3, "b":true, "z":null } "#).unwrap();
        assert_eq!(got[0], ("at".into(), Token::Str("2025-01-21")));
        assert_eq!(got[1], ("n".into(), Token::Num("-1.5e3")));
        assert_eq!(got[2].1, Token::Bool(true));
        assert_eq!(got[3].1, Token::Null);
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
            "{\"a\":\t1}",
            "{\"a\":\"\\u0041\"}",
            r#"{"a" 1}"#,
            r#"{a:1}"#,
            r#"{"a":tru}"#,
            "{} x",
            "",
        ] {
            assert!(members(text).is_none(), "{text}");
        }
    }

    #[test]
    fn the_fast_subset_is_valid_json() {
        for text in [r#"{"a":0.5,"b":"x","c":false,"d":null,"e":1E+2}"#, "{ }"] {
            assert!(members(text).is_some(), "{text}");
            assert!(serde_json::from_str::<serde_json::Value>(text).is_ok(), "{text}");
        }
    }
}

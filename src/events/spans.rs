//! Where in a raw events line a key or its value is, for labels. The line
//! is walked as JSON, member by member, so that a key is found only where a
//! key can be: never inside a value that happens to hold the same text.

use miette::SourceSpan;

/// The span of `"key"` in the raw line.
pub(crate) fn key_span(text: &str, key: &str) -> SourceSpan {
    match Members::new(text).find(|m| m.key == key) {
        Some(m) => m.key_span.into(),
        None => (0, text.len()).into(),
    }
}

/// The spans of the first two members named `key`, as written; the whole
/// line for one that cannot be found (a key written with escapes).
pub(crate) fn repeated_key_spans(text: &str, key: &str) -> (SourceSpan, SourceSpan) {
    let mut found = Members::new(text)
        .filter(|m| m.key == key)
        .map(|m| m.key_span.into());
    let whole: SourceSpan = (0, text.len()).into();
    let first = found.next().unwrap_or(whole);
    (first, found.next().unwrap_or(whole))
}

/// The span of the value after `"key":` in the raw line.
pub fn value_span(text: &str, key: &str) -> SourceSpan {
    match Members::new(text).find(|m| m.key == key) {
        Some(m) => (m.value.0, (m.value.1 - m.value.0).max(1)).into(),
        None => (0, text.len()).into(),
    }
}

/// One member of the line's top-level object.
struct Member<'t> {
    /// As written, between its quotes.
    key: &'t str,
    key_span: (usize, usize),
    /// Start and end of the value.
    value: (usize, usize),
}

struct Members<'t> {
    text: &'t str,
    at: usize,
    done: bool,
}

impl<'t> Members<'t> {
    fn new(text: &'t str) -> Members<'t> {
        let b = text.as_bytes();
        let open = skip_ws(b, 0);
        let ok = b.get(open) == Some(&b'{');
        Members {
            text,
            at: open + 1,
            done: !ok,
        }
    }
}

impl<'t> Iterator for Members<'t> {
    type Item = Member<'t>;

    fn next(&mut self) -> Option<Member<'t>> {
        if self.done {
            return None;
        }
        let b = self.text.as_bytes();
        let member = (|| {
            let k = skip_ws(b, self.at);
            if b.get(k) != Some(&b'"') {
                return None;
            }
            let k_end = string_end(b, k);
            let colon = skip_ws(b, k_end);
            if b.get(colon) != Some(&b':') {
                return None;
            }
            let v = skip_ws(b, colon + 1);
            let v_end = value_end(b, v);
            let after = skip_ws(b, v_end);
            self.at = after + 1;
            if b.get(after) != Some(&b',') {
                self.done = true;
            }
            Some(Member {
                key: self.text.get(k + 1..k_end.saturating_sub(1).max(k + 1))?,
                key_span: (k, k_end - k),
                value: (v, v_end),
            })
        })();
        if member.is_none() {
            self.done = true;
        }
        member
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// The end (past the closing quote) of the string opening at `i`; the end
/// of the line if it never closes.
fn string_end(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while let Some(c) = b.get(j) {
        match c {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    b.len()
}

/// The end of the JSON value starting at `i`.
fn value_end(b: &[u8], i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => string_end(b, i),
        Some(b'{' | b'[') => {
            let mut depth = 0usize;
            let mut j = i;
            while let Some(c) = b.get(j) {
                match c {
                    b'"' => {
                        j = string_end(b, j);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            b.len()
        }
        _ => {
            let mut j = i;
            while b
                .get(j)
                .is_some_and(|c| !matches!(c, b',' | b'}' | b']') && !c.is_ascii_whitespace())
            {
                j += 1;
            }
            j
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(text: &str, span: SourceSpan) -> &str {
        text.get(span.offset()..span.offset() + span.len()).unwrap()
    }

    #[test]
    fn a_value_holding_a_key_s_name_is_not_taken_for_the_key() {
        let line = r#"{"ref":"amount","note":{"amount":"x"},"amount":"12 USD"}"#;
        assert_eq!(shown(line, value_span(line, "amount")), "\"12 USD\"");
        assert_eq!(shown(line, key_span(line, "amount")), "\"amount\"");
        assert_eq!(shown(line, value_span(line, "note")), r#"{"amount":"x"}"#);
    }

    #[test]
    fn values_of_every_kind_are_spanned() {
        let line = r#" { "n" : -1.5e3 , "b":true, "z":null, "a":[1,"]",2], "s":"a\"b" } "#;
        assert_eq!(shown(line, value_span(line, "n")), "-1.5e3");
        assert_eq!(shown(line, value_span(line, "b")), "true");
        assert_eq!(shown(line, value_span(line, "z")), "null");
        assert_eq!(shown(line, value_span(line, "a")), r#"[1,"]",2]"#);
        assert_eq!(shown(line, value_span(line, "s")), r#""a\"b""#);
    }

    #[test]
    fn a_missing_key_or_a_broken_line_spans_the_line() {
        for line in ["{\"a\":1}", "not json", "{\"a\"", "{\"a\":", ""] {
            let s = value_span(line, "b");
            assert_eq!((s.offset(), s.len()), (0, line.len()));
        }
    }
}

//! Where in a raw events line a key or its value is, for labels.

use miette::SourceSpan;

/// The span of `"key"` in the raw line.
pub(crate) fn key_span(text: &str, key: &str) -> SourceSpan {
    let quoted = format!("\"{key}\"");
    match text.find(&quoted) {
        Some(i) => (i, quoted.len()).into(),
        None => (0, text.len()).into(),
    }
}

/// The span of the value after `"key":` in the raw line.
pub fn value_span(text: &str, key: &str) -> SourceSpan {
    let quoted = format!("\"{key}\"");
    let Some(i) = text.find(&quoted) else {
        return (0, text.len()).into();
    };
    let rest = text.get(i + quoted.len()..).unwrap_or_default();
    let Some(colon) = rest.find(':') else {
        return (i, quoted.len()).into();
    };
    let after = rest.get(colon + 1..).unwrap_or_default();
    let lead = after.len() - after.trim_start().len();
    let start = i + quoted.len() + colon + 1 + lead;
    let value = text.get(start..).unwrap_or_default();
    let len = json_value_len(value);
    (start, len.max(1)).into()
}

/// Length of the JSON value at the start of `s`.
fn json_value_len(s: &str) -> usize {
    let b = s.as_bytes();
    if b.first() == Some(&b'"') {
        let mut i = 1;
        while let Some(c) = b.get(i) {
            match c {
                b'\\' => i += 2,
                b'"' => return i + 1,
                _ => i += 1,
            }
        }
        return b.len();
    }
    let mut depth = 0i32;
    for (i, c) in b.iter().enumerate() {
        match c {
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth > 0 => depth -= 1,
            b',' | b'}' | b']' if depth == 0 => return i,
            _ => {}
        }
    }
    b.len()
}

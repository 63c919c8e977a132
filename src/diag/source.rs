//! Source texts that diagnostics point into: a whole `.deal` file, or one line
//! of an events file shown with its real line number.

use std::sync::{Arc, OnceLock};

use miette::{MietteSpanContents, SourceCode, SourceSpan, SpanContents};

/// Why a text file could not be read as a contract or a test.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    /// More than the limit: reading stopped there.
    TooLarge {
        limit: usize,
    },
    /// The first byte that is not UTF-8.
    NotUtf8 {
        offset: usize,
    },
}

/// Reads a text of at most `limit` bytes from `from`, and never more, so
/// that `/dev/zero` or a runaway pipe is refused rather than held. A
/// byte-order mark at the start is dropped: some editors write one, and it
/// is not part of the text.
pub fn read_text(from: impl std::io::Read, limit: usize) -> Result<String, ReadError> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    from.take(u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let mut text = String::from_utf8(bytes).map_err(|e| ReadError::NotUtf8 {
        offset: e.utf8_error().valid_up_to(),
    })?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// [`read_text`] of a file by its path.
pub fn read_file(path: impl AsRef<std::path::Path>, limit: usize) -> Result<String, ReadError> {
    read_text(std::fs::File::open(path).map_err(ReadError::Io)?, limit)
}

/// A named text held once and shared by every diagnostic that points into it.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: Arc<str>,
    pub text: Arc<str>,
    /// Where each line starts, found the first time a diagnostic needs it:
    /// with it each diagnostic reads only the lines it shows, so that
    /// rendering many diagnostics of a large contract stays linear.
    lines: Arc<OnceLock<Box<[usize]>>>,
}

impl SourceFile {
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> SourceFile {
        SourceFile {
            name: name.into(),
            text: text.into(),
            lines: Arc::default(),
        }
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let line = self.line_of(offset);
        let start = self.line_start(line);
        let col = self.text.get(start..offset).map_or(0, |l| l.chars().count()) + 1;
        (line + 1, col)
    }

    fn line_starts(&self) -> &[usize] {
        self.lines.get_or_init(|| line_starts(self.text.as_bytes()))
    }

    /// The 0-based line holding `offset`.
    fn line_of(&self, offset: usize) -> usize {
        self.line_starts()
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    fn line_start(&self, line: usize) -> usize {
        self.line_starts().get(line).copied().unwrap_or(self.text.len())
    }
}

/// Where each line starts. A line ends as miette ends one: at `\n`,
/// `\r\n` or a lone `\r`.
fn line_starts(text: &[u8]) -> Box<[usize]> {
    let mut starts = vec![0];
    let mut i = 0;
    while let Some(&b) = text.get(i) {
        i += 1;
        if b == b'\r' && text.get(i) == Some(&b'\n') {
            i += 1;
        }
        if matches!(b, b'\n' | b'\r') {
            starts.push(i);
        }
    }
    starts.into_boxed_slice()
}

pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

impl SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, miette::MietteError> {
        // miette reads a text from its start to the span; it is given only
        // the lines around the span, and what it finds is moved back to
        // where those lines are in the whole text.
        let end = span.offset().saturating_add(span.len());
        // One line more than shown: miette decides where an empty span at
        // the start of a line ends by the line break before it.
        let first = self
            .line_of(span.offset())
            .saturating_sub(context_lines_before.saturating_add(1));
        let last = self
            .line_of(end)
            .saturating_add(context_lines_after)
            .saturating_add(2);
        let from = self.line_start(first);
        let to = self.line_start(last);
        let window = match self.text.get(from..to) {
            Some(w) if end <= to && span.offset() >= from => w,
            _ => return self.whole(span, context_lines_before, context_lines_after),
        };
        let local = SourceSpan::new((span.offset() - from).into(), span.len());
        let inner = window.read_span(&local, context_lines_before, context_lines_after)?;
        let data_span = SourceSpan::new((inner.span().offset() + from).into(), inner.span().len());
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            data_span,
            inner.line() + first,
            inner.column(),
            inner.line_count() + first,
        )))
    }
}

impl SourceFile {
    /// The span read from the whole text, as miette reads it.
    fn whole<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self.text.read_span(span, before, after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// One line of a larger file, numbered as in that file. Events are read as a
/// stream, so only the offending line is kept.
#[derive(Debug, Clone)]
pub struct LineSource {
    pub name: Arc<str>,
    /// 1-based.
    pub line: usize,
    pub text: Arc<str>,
}

/// A control character, or a mark that reorders the text around it: what
/// text from outside must not send to a terminal as it is.
pub fn unprintable(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

impl LineSource {
    /// Line `line` of `name`, ready to print on a terminal: each control
    /// character or mark that reorders text becomes as many `?` as it has
    /// bytes, so a broken line cannot send the terminal a command and every
    /// span into the line still falls where it did.
    pub fn new(name: Arc<str>, line: usize, text: &str) -> LineSource {
        let unsafe_char = |c: char| c != '\t' && unprintable(c);
        let text: Arc<str> = if text.chars().any(unsafe_char) {
            text.chars()
                .map(|c| {
                    if unsafe_char(c) {
                        "?".repeat(c.len_utf8())
                    } else {
                        c.to_string()
                    }
                })
                .collect::<String>()
                .into()
        } else {
            text.into()
        };
        LineSource { name, line, text }
    }
}

impl SourceCode for LineSource {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self.text.read_span(span, before, after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            *inner.span(),
            inner.line() + self.line - 1,
            inner.column(),
            inner.line_count(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("\n".to_string()),
                Just("\r\n".to_string()),
                Just("\r".to_string()),
                Just("é".to_string()),
                "[a-z ]{0,6}",
            ],
            0..40,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        /// Reading through the line index shows exactly what miette shows
        /// reading the whole text.
        #[test]
        fn the_line_index_reads_as_miette_does(
            text in text(),
            at in 0usize..200,
            len in 0usize..30,
            before in 0usize..4,
            after in 0usize..4,
        ) {
            let file = SourceFile::new("f", text.as_str());
            let span = SourceSpan::new(at.min(text.len()).into(), len.min(text.len() - at.min(text.len())));
            let ours = file.read_span(&span, before, after);
            let theirs = text.as_str().read_span(&span, before, after);
            match (ours, theirs) {
                (Ok(o), Ok(t)) => {
                    prop_assert_eq!(o.data(), t.data());
                    prop_assert_eq!(o.span(), t.span());
                    prop_assert_eq!(o.line(), t.line());
                    prop_assert_eq!(o.column(), t.column());
                    prop_assert_eq!(o.line_count(), t.line_count());
                }
                (Err(_), Err(_)) => {}
                (o, t) => prop_assert!(false, "ours {:?}, miette's {:?}", o.is_ok(), t.is_ok()),
            };
        }

        #[test]
        fn line_and_column_agree_with_counting(text in text(), at in 0usize..200) {
            let text = text.replace('\r', "");
            let at = at.min(text.len());
            let at = (0..=at).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
            let file = SourceFile::new("f", text.as_str());
            prop_assert_eq!(file.line_col(at), line_col(&text, at));
        }
    }
}

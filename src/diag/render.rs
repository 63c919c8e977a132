//! Turning diagnostics into text: graphical (with or without colour), or
//! narrated in plain sentences for screen readers.

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, NarratableReportHandler};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Boxes and arrows; colour only when asked for.
    Graphical { color: bool, width: usize },
    /// Plain sentences, one fact a line.
    Narrated,
    /// One JSON object a line, for editors and CI.
    Json,
}

impl Style {
    /// Colourless, 80 columns: what tests and pipes see.
    pub const PLAIN: Style = Style::Graphical {
        color: false,
        width: 80,
    };
}

pub fn render(diag: &dyn Diagnostic, style: Style) -> String {
    let mut out = String::new();
    let result = match style {
        Style::Graphical { color, width } => {
            let theme = if color {
                GraphicalTheme::unicode()
            } else {
                GraphicalTheme::unicode_nocolor()
            };
            // Lines break at spaces only: never inside a date, a code, a
            // path, `code` or a quoted JSON example, however long.
            GraphicalReportHandler::new_themed(theme)
                .with_width(width)
                .with_word_separator(textwrap::WordSeparator::Custom(words))
                .with_word_splitter(textwrap::WordSplitter::NoHyphenation)
                .with_break_words(false)
                .with_links(false)
                .render_report(&mut out, diag)
        }
        Style::Narrated => NarratableReportHandler::new().render_report(&mut out, diag),
        Style::Json => {
            let mut line = to_json(diag).to_string();
            line.push('\n');
            return line;
        }
    };
    if result.is_err() {
        // Rendering only fails if a span is out of bounds; the message alone
        // still says what happened.
        out = format!("{diag}\n");
    }
    out
}

/// The words a line may break between: runs ending in ASCII spaces, where
/// the spaces are outside double quotes and backticks. A quoted string or a
/// code span is one word, kept whole even when longer than the line.
fn words(line: &str) -> Box<dyn Iterator<Item = textwrap::core::Word<'_>> + '_> {
    let mut out = Vec::new();
    let (mut start, mut quoted, mut code) = (0, false, false);
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes.get(i) {
            Some(b'"') if !code => quoted = !quoted,
            Some(b'`') if !quoted => code = !code,
            Some(b' ') if !quoted && !code => {
                while bytes.get(i + 1) == Some(&b' ') {
                    i += 1;
                }
                if let Some(w) = line.get(start..=i) {
                    out.push(textwrap::core::Word::from(w));
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if let Some(w) = line.get(start..).filter(|w| !w.is_empty()) {
        out.push(textwrap::core::Word::from(w));
    }
    Box::new(out.into_iter())
}

/// A diagnostic as data: code, severity, message, where (file, 1-based line
/// and column, byte span), help, every label, and related diagnostics.
pub fn to_json(diag: &dyn Diagnostic) -> serde_json::Value {
    use serde_json::json;
    let severity = match diag.severity().unwrap_or(miette::Severity::Error) {
        miette::Severity::Error => "error",
        miette::Severity::Warning => "warning",
        miette::Severity::Advice => "advice",
    };
    let source = diag.source_code();
    let labels: Vec<serde_json::Value> = diag
        .labels()
        .map(|ls| {
            ls.map(|l| {
                let (file, line, column) = locate(source, l.inner());
                json!({
                    "label": l.label(),
                    "file": file,
                    "line": line,
                    "column": column,
                    "offset": l.offset(),
                    "length": l.len(),
                })
            })
            .collect()
        })
        .unwrap_or_default();
    let first = labels.first().cloned().unwrap_or(serde_json::Value::Null);
    let related: Vec<serde_json::Value> = diag
        .related()
        .map(|r| r.map(to_json).collect())
        .unwrap_or_default();
    json!({
        "code": diag.code().map(|c| c.to_string()),
        "severity": severity,
        "message": diag.to_string(),
        "file": first.get("file").cloned().unwrap_or(serde_json::Value::Null),
        "line": first.get("line").cloned().unwrap_or(serde_json::Value::Null),
        "column": first.get("column").cloned().unwrap_or(serde_json::Value::Null),
        "span": if first.is_null() { serde_json::Value::Null } else { json!({"offset": first.get("offset"), "length": first.get("length")}) },
        "help": diag.help().map(|h| h.to_string()),
        "labels": labels,
        "related": related,
    })
}

fn locate(
    source: Option<&dyn miette::SourceCode>,
    span: &miette::SourceSpan,
) -> (Option<String>, Option<usize>, Option<usize>) {
    let Some(src) = source else {
        return (None, None, None);
    };
    match src.read_span(span, 0, 0) {
        Ok(c) => (
            c.name().map(str::to_string),
            Some(c.line() + 1),
            Some(c.column() + 1),
        ),
        Err(_) => (None, None, None),
    }
}

/// A diagnostic shown against a source it does not hold itself. Unlike
/// `miette::Report::with_source_code`, it builds no report handler, so
/// that rendering many diagnostics costs no lookup of the terminal or the
/// environment for each.
pub struct WithSource<'a> {
    pub diag: &'a dyn Diagnostic,
    pub source: &'a dyn miette::SourceCode,
}

impl std::fmt::Debug for WithSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.diag, f)
    }
}

impl std::fmt::Display for WithSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self.diag, f)
    }
}

impl std::error::Error for WithSource<'_> {}

impl Diagnostic for WithSource<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.diag.code()
    }
    fn severity(&self) -> Option<miette::Severity> {
        self.diag.severity()
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.diag.help()
    }
    fn url<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.diag.url()
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(self.diag.source_code().unwrap_or(self.source))
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        self.diag.labels()
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        self.diag.related()
    }
    fn diagnostic_source(&self) -> Option<&dyn Diagnostic> {
        self.diag.diagnostic_source()
    }
}

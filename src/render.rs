//! Turning diagnostics into text: graphical (with or without colour), or
//! narrated in plain sentences for screen readers.

use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, NarratableReportHandler};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Boxes and arrows; colour only when asked for.
    Graphical { color: bool, width: usize },
    /// Plain sentences, one fact a line.
    Narrated,
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
            GraphicalReportHandler::new_themed(theme)
                .with_width(width)
                .with_links(false)
                .render_report(&mut out, diag)
        }
        Style::Narrated => NarratableReportHandler::new().render_report(&mut out, diag),
    };
    if result.is_err() {
        // Rendering only fails if a span is out of bounds; the message alone
        // still says what happened.
        out = format!("{diag}\n");
    }
    out
}

//! `--format html`: one self-contained page that draws the deal's life —
//! every clause's term, every norm instance from activation to its end
//! state, deadlines, breaches, and the balances over time — from the
//! engine's history stream.
//!
//! The page needs no network: its styles and its one script are inline,
//! and everything it says is in its HTML, so it reads without the script
//! (which only adds the rich tooltips and zoom) and as a list to a screen
//! reader. Every text that comes from the contract or the events is
//! escaped.

mod draw;
pub mod fmt;
pub mod timeline;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{self, Write};
use std::rc::Rc;

pub use draw::{Page, AGGREGATE_OVER, LINE_CHARS};
pub use timeline::{pick_lines, Tap, Timeline};

use super::Report;
use crate::diag::source::SourceFile;
use crate::model::Program;

/// The page's styles.
pub const CSS: &str = include_str!("assets/report.css");
/// The page's script: tooltips, bands that open on focus, zoom.
pub const JS: &str = include_str!("assets/report.js");

/// A timeline to be filled by the engine's history, and the writer to hand
/// the engine (`Options::history`). `tee` also receives every byte, for
/// `--history FILE` alongside the page.
pub fn tap(program: &Program, tee: Option<Box<dyn Write>>) -> (Rc<RefCell<Timeline>>, Box<dyn Write>) {
    let timeline = Rc::new(RefCell::new(Timeline::new(program)));
    let writer = Box::new(Tap::new(Rc::clone(&timeline), tee));
    (timeline, writer)
}

impl<'a> Page<'a> {
    /// The page for a report: the summary figures come from the report,
    /// everything drawn from the timeline.
    pub fn new(
        report: &Report<'_>,
        program: &'a Program,
        contract: &'a SourceFile,
        events_name: &'a str,
        timeline: &'a Timeline,
        lines: &'a BTreeMap<usize, String>,
        as_of: Option<i64>,
    ) -> Page<'a> {
        Page {
            program,
            contract,
            events_name,
            timeline,
            lines,
            as_of,
            as_of_shown: report.as_of.clone(),
            counts: report.events,
            open_terms: report.open_terms.clone(),
            balances: report.balances.clone(),
            clause_states: report.clauses.clone(),
            stopped: report.stopped.clone(),
            line_base: 0,
        }
    }

    /// For a run carried on from a state: `base` lines came before this file.
    pub fn after_lines(mut self, base: usize) -> Page<'a> {
        self.line_base = base;
        self
    }

    /// The content of the page, without `<html>` around it: for the
    /// playground, which has the styles and script already.
    pub fn fragment(&self) -> String {
        draw::body(self)
    }

    /// The whole page.
    pub fn write(&self, out: &mut dyn Write) -> io::Result<()> {
        let title = format!("{} — timeline", self.program.title);
        write!(
            out,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\
             <title>{}</title><style>{}</style></head><body><main class=\"deal-report\">",
            fmt::esc(&title),
            CSS
        )?;
        out.write_all(draw::body(self).as_bytes())?;
        writeln!(
            out,
            "</main><div id=\"tip\" role=\"tooltip\" hidden></div><script>{JS}</script></body></html>"
        )
    }
}

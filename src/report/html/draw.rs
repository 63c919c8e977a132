//! The page: a summary, the timeline (one lane per clause, grouped by the
//! party each clause binds), the money, the breaches and ineffective acts,
//! and the contract's text. Every mark is a link with its meaning in words,
//! so the timeline reads as a list without styles or scripts.
//!
//! Positions are integers: thousandths of a percent of the axis. No
//! floating point is used anywhere on this page, amounts least of all.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use super::fmt::{self as f, esc};
use super::timeline::{Bar, BreachMark, LedgerTrack, Move, St, Timeline};
use crate::diag::source::SourceFile;
use crate::model::{Bound, Id, NormKind, NormRule, Program};
use crate::report::{BalanceRow, ClauseRow, EventCounts};

/// Past this many instances in a lane, bars are drawn as counted bands.
pub const AGGREGATE_OVER: usize = 300;
/// Overlapping bars stack into at most this many rows before aggregating.
const MAX_TRACKS: usize = 4;
/// Instances listed inside one band.
const BAND_LISTED: usize = 8;
/// Rows of the breaches and ineffective lists.
const LISTED: usize = 500;
/// The longest event line quoted.
pub const LINE_CHARS: usize = 240;

/// What the page is drawn from.
pub struct Page<'a> {
    pub program: &'a Program,
    pub contract: &'a SourceFile,
    pub events_name: &'a str,
    pub timeline: &'a Timeline,
    /// The event lines marks point at, by line number.
    pub lines: &'a BTreeMap<usize, String>,
    /// The moment the report is for, in seconds, and as asked for.
    pub as_of: Option<i64>,
    pub as_of_shown: Option<String>,
    pub counts: EventCounts,
    pub open_terms: Vec<String>,
    /// The report's own figures as of its moment.
    pub balances: Vec<BalanceRow>,
    pub clause_states: Vec<ClauseRow>,
    /// Where the run stopped at a bad line, if it did.
    pub stopped: Option<crate::report::Stopped>,
    /// Lines fed through a state before this file: marks are numbered in
    /// the whole stream, and named in this file by their place in it.
    pub line_base: usize,
}

/// The axis: thousandths of a percent of `[t0, t1]`.
#[derive(Clone, Copy)]
struct Axis {
    t0: i64,
    t1: i64,
}

const FULL: i64 = 100_000;

impl Axis {
    fn pos(&self, t: i64) -> i64 {
        let span = i128::from((self.t1 - self.t0).max(1));
        let v = i128::from(t - self.t0) * i128::from(FULL) / span;
        i64::try_from(v.clamp(0, i128::from(FULL))).unwrap_or(0)
    }
}

fn pct(v: i64) -> String {
    format!("{}.{:03}%", v / 1000, v % 1000)
}

fn st_class(s: St) -> &'static str {
    match s {
        St::Inactive => "st-inactive",
        St::Active => "st-active",
        St::Suspended => "st-suspended",
        St::Fulfilled => "st-fulfilled",
        St::Violated => "st-violated",
        St::Discharged => "st-discharged",
        St::Expired => "st-expired",
        St::Ended => "st-ended",
        St::Exercised => "st-exercised",
        St::Lapsed => "st-lapsed",
    }
}

/// What each state means, for the legend.
fn st_meaning(s: St) -> &'static str {
    match s {
        St::Active => "in force and open",
        St::Suspended => "on hold: its clock is stopped",
        St::Fulfilled => "performed, or paid in full",
        St::Violated => "breached, or unpaid when due",
        St::Lapsed => "a right not taken up in time",
        St::Exercised => "a right or power used",
        St::Discharged => "released without performance",
        St::Expired => "ran out",
        St::Ended => "came to an end with its clause, or used up",
        St::Inactive => "not yet in force",
    }
}

fn kind_word(program: &Program, n: usize) -> &'static str {
    match program.norms.at(n) {
        Some(spec) if matches!(spec.rule, NormRule::Accrual { .. }) => "Amount owed",
        Some(spec) => match spec.kind {
            NormKind::Obligation => "Obligation",
            NormKind::Permission => "Permission",
            NormKind::Prohibition => "Prohibition",
            NormKind::Power => "Power",
        },
        None => "Norm",
    }
}

fn is_accrual(program: &Program, n: usize) -> bool {
    program
        .norms
        .at(n)
        .is_some_and(|s| matches!(s.rule, NormRule::Accrual { .. }))
}

/// The party a clause is filed under: whoever bears its duties
/// (obligations, prohibitions), or else whoever holds its rights.
fn party_of(program: &Program, c: usize) -> usize {
    let Some(clause) = program.clauses.at(c) else {
        return 0;
    };
    let mut duties = vec![0usize; program.parties.len()];
    let mut rights = vec![0usize; program.parties.len()];
    for n in clause.norms.iter().map(|n| n.index()) {
        let Some(spec) = program.norms.at(n) else {
            continue;
        };
        let tally = match spec.kind {
            NormKind::Obligation | NormKind::Prohibition => &mut duties,
            NormKind::Permission | NormKind::Power => &mut rights,
        };
        if let Some(t) = tally.get_mut(spec.bearer.index()) {
            *t += 1;
        }
    }
    let best = |t: &[usize]| {
        t.iter()
            .enumerate()
            .filter(|(_, v)| **v > 0)
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)))
            .map(|(i, _)| i)
    };
    best(&duties).or_else(|| best(&rights)).unwrap_or(0)
}

struct Ctx<'a> {
    page: &'a Page<'a>,
    axis: Axis,
    /// The end of what is known: the as-of moment.
    now: i64,
    out: String,
    next_id: u64,
    /// Where each breach is drawn: the id of its mark.
    breach_ids: Vec<String>,
    ineffective_ids: Vec<String>,
}

impl Ctx<'_> {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{}", self.next_id)
    }

    fn line_text(&self, line: Option<usize>) -> String {
        let Some(l) = line else {
            return String::new();
        };
        let place = match l.checked_sub(self.page.line_base).filter(|own| *own > 0) {
            Some(own) => format!("{} line {own}", esc(self.page.events_name)),
            None => format!("line {l} of the events fed before"),
        };
        match self.page.lines.get(&l) {
            Some(text) => format!(
                "<span class=\"ev\"><span class=\"evl\">{place}</span> <code>{}</code></span>",
                esc(text)
            ),
            None => format!("<span class=\"ev\"><span class=\"evl\">{place}</span></span>"),
        }
    }
}

fn cause(line: Option<usize>) -> String {
    match line {
        Some(l) => format!(" (event on line {l})"),
        None => " (time passing)".to_string(),
    }
}

/// Writes the page's content: everything inside `<body>`.
pub fn body(page: &Page<'_>) -> String {
    let tl = page.timeline;
    let p = page.program;
    let (term_start, term_end) = term_bounds(p);
    let now = page.as_of.or(tl.last).or(term_start).unwrap_or(0);
    let mut t0 = term_start.or(tl.first).unwrap_or(now);
    if let Some(first) = tl.first {
        t0 = t0.min(first);
    }
    t0 = t0.min(now);
    let mut t1 = term_end.unwrap_or(now).max(now);
    if let Some(last) = tl.last {
        t1 = t1.max(last);
    }
    for n in &tl.norms {
        if n.bars.len() <= AGGREGATE_OVER {
            for b in &n.bars {
                if let Some(d) = b.due {
                    t1 = t1.max(d);
                }
            }
        }
    }
    if term_end.is_none() || t1 > term_end.unwrap_or(t1) {
        // No end of its own: leave a little room after the last mark.
        t1 += ((t1 - t0) / 20).max(86_400);
    }
    if t1 <= t0 {
        t1 = t0 + 86_400 * 30;
    }
    let mut cx = Ctx {
        page,
        axis: Axis { t0, t1 },
        now,
        out: String::with_capacity(64 * 1024),
        next_id: 0,
        breach_ids: vec![String::new(); tl.breaches.len()],
        ineffective_ids: vec![String::new(); tl.ineffective.len()],
    };
    header(&mut cx, term_start, term_end);
    timeline(&mut cx);
    money(&mut cx);
    breaches(&mut cx);
    ineffective(&mut cx);
    contract(&mut cx);
    templates(&mut cx);
    let _ = write!(
        cx.out,
        "<footer><p>Drawn by <code>deal</code> from <code>{}</code> and <code>{}</code>, \
         from the history of every transition and ledger movement. The JSON report \
         (<code>--format json</code>) holds the same figures.</p></footer>",
        esc(&page.contract.name),
        esc(page.events_name)
    );
    cx.out
}

/// The deal's own term, in seconds: its start and its exclusive end.
fn term_bounds(p: &Program) -> (Option<i64>, Option<i64>) {
    let at = |b: &Bound| match b {
        Bound::At(i) => Some(i.as_second()),
        _ => None,
    };
    (at(&p.term.start), at(&p.term.end))
}

fn header(cx: &mut Ctx<'_>, term_start: Option<i64>, term_end: Option<i64>) {
    let page = cx.page;
    let p = page.program;
    let tl = page.timeline;
    let as_of = match (cx.page.as_of, &page.as_of_shown) {
        (Some(t), _) => f::date(t),
        (None, Some(s)) => f::shown(s),
        (None, None) => "the start (no events)".to_string(),
    };
    let term = match (term_start, term_end) {
        (Some(a), Some(b)) => format!("in force from {} until {}", f::date(a), f::last_day(b)),
        (Some(a), None) => format!("in force from {}", f::date(a)),
        (None, Some(b)) => format!("in force until {}", f::last_day(b)),
        (None, None) => "in force from and until events".to_string(),
    };
    let _ = write!(
        cx.out,
        "<header class=\"top\"><h1>{}</h1><p class=\"sub\">Between {} · {} · \
         <strong>as of <time datetime=\"{}\">{}</time></strong></p></header>",
        esc(&p.title),
        esc(&join_and(
            &p.parties.values().map(|p| p.name.clone()).collect::<Vec<_>>()
        )),
        esc(&term),
        cx.page.as_of.map(f::iso).unwrap_or_default(),
        esc(&as_of)
    );
    if let Some(st) = &page.stopped {
        let at = st.line.map(|l| format!("line {l} of ")).unwrap_or_default();
        let _ = write!(
            cx.out,
            "<p class=\"stopped\" role=\"alert\"><strong>Stopped at {}{}</strong> ({}): nothing after it \
             was read; this is the state as of the last event applied.</p>",
            esc(&at),
            esc(&st.file),
            esc(&st.code)
        );
    }
    // Key facts.
    let mut by_state: BTreeMap<&str, usize> = BTreeMap::new();
    for c in &page.clause_states {
        *by_state.entry(c.state.as_str()).or_default() += 1;
    }
    let states: Vec<String> = ["active", "suspended", "ended", "inactive"]
        .iter()
        .filter_map(|s| by_state.get(s).map(|n| format!("{n} {s}")))
        .collect();
    let e = &page.counts;
    cx.out
        .push_str("<section class=\"facts\" aria-label=\"Key facts\"><ul>");
    let _ = write!(
        cx.out,
        "<li><span class=\"fact-n\">{}</span><span class=\"fact-t\">{}</span></li>",
        page.clause_states.len(),
        esc(&format!(
            "clause{}: {}",
            if page.clause_states.len() == 1 { "" } else { "s" },
            states.join(", ")
        ))
    );
    let b = tl.breach_count;
    let _ = write!(
        cx.out,
        "<li class=\"{}\"><span class=\"fact-n\">{}</span><span class=\"fact-t\">{}</span></li>",
        if b > 0 { "fact-bad" } else { "fact-good" },
        f::grouped(&b.to_string()),
        if b > 0 {
            format!(
                "breach{} — <a href=\"#breaches\">see the list</a>",
                if b == 1 { "" } else { "es" }
            )
        } else {
            "breaches".to_string()
        }
    );
    for row in &page.balances {
        let outstanding = Decimal::from_str_exact(&row.outstanding).unwrap_or_default();
        let overdue = Decimal::from_str_exact(&row.overdue).unwrap_or_default();
        let text = if outstanding.is_zero() {
            format!(
                "{} owes {} nothing ({} {} accrued, all paid)",
                row.from,
                row.to,
                f::compact(Decimal::from_str_exact(&row.accrued).unwrap_or_default()),
                row.currency
            )
        } else if overdue.is_zero() {
            format!(
                "{} owes {} {} {}, none of it overdue",
                row.from,
                row.to,
                f::amount(outstanding),
                row.currency
            )
        } else {
            format!(
                "{} owes {} {} {}, of which {} overdue",
                row.from,
                row.to,
                f::amount(outstanding),
                row.currency,
                f::amount(overdue)
            )
        };
        let _ = write!(
            cx.out,
            "<li class=\"{}\"><span class=\"fact-n\">{} {}</span><span class=\"fact-t\">outstanding: {}</span></li>",
            if overdue.is_zero() { "" } else { "fact-bad" },
            esc(&f::compact(outstanding)),
            esc(&row.currency),
            esc(&text)
        );
    }
    let _ = write!(
        cx.out,
        "<li><span class=\"fact-n\">{}</span><span class=\"fact-t\">events applied · {} rejected · \
         {} ineffective · {} duplicate{}</span></li>",
        f::grouped(&e.applied.to_string()),
        e.rejected,
        e.ineffective,
        e.duplicates,
        if e.duplicates == 1 { "" } else { "s" }
    );
    cx.out.push_str("</ul>");
    if !page.open_terms.is_empty() {
        let _ = write!(
            cx.out,
            "<p class=\"note\"><strong>Open term{}:</strong> {}: agreed in principle, value not fixed. \
             Amounts that depend on {} are <em>undetermined</em>; \
             <code>deal run … --set NAME=VALUE</code> tries a value.</p>",
            if page.open_terms.len() == 1 { "" } else { "s" },
            page.open_terms
                .iter()
                .map(|t| format!("<code>{}</code>", esc(t)))
                .collect::<Vec<_>>()
                .join(", "),
            if page.open_terms.len() == 1 { "it" } else { "them" }
        );
    }
    cx.out.push_str("</section>");
}

fn join_and(list: &[String]) -> String {
    match list {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn legend(cx: &mut Ctx<'_>) {
    cx.out.push_str(
        "<div class=\"legend\" role=\"group\" aria-labelledby=\"legend-h\"><h3 id=\"legend-h\">How to read it</h3><ul>",
    );
    for s in St::ALL {
        if s == St::Inactive {
            continue;
        }
        let _ = write!(
            cx.out,
            "<li><span class=\"sw {}\" aria-hidden=\"true\"></span><b>{}</b> — {}</li>",
            st_class(s),
            f::title_of(s.name()),
            st_meaning(s)
        );
    }
    cx.out.push_str(
        "<li><span class=\"sw sw-term\" aria-hidden=\"true\"></span><b>Clause in force</b> — the thin bar above each clause's norms; dashed where it is only scheduled</li>\
         <li><span class=\"sw sw-tick\" aria-hidden=\"true\"></span><b>Deadline</b> — the last moment on time</li>\
         <li><span class=\"sw sw-breach\" aria-hidden=\"true\"></span><b>Breach</b></li>\
         <li><span class=\"sw sw-ineff\" aria-hidden=\"true\"></span><b>Ineffective act</b> — an act that changed nothing</li>\
         <li><span class=\"sw sw-band\" aria-hidden=\"true\"></span><b>Band</b> — many instances, counted; open it for the detail</li>\
         <li><span class=\"sw sw-asof\" aria-hidden=\"true\"></span><b>As of</b> — the moment of this report; what lies after it has not happened yet</li>\
         </ul><p class=\"hint\">Hover over or tab to any mark for what it is, its clause's text and the event behind it.</p></div>",
    );
}

/// Year (or month, or day) lines across the timeline.
fn ticks(axis: Axis) -> Vec<(i64, String, bool)> {
    let span = axis.t1 - axis.t0;
    let years = span / (365 * 86_400);
    let (step_months, minor_months) = if years > 40 {
        (120, 12)
    } else if years > 15 {
        (60, 12)
    } else if years >= 3 {
        (12, 3)
    } else if span > 300 * 86_400 {
        (3, 1)
    } else if span > 60 * 86_400 {
        (1, 0)
    } else {
        (0, 0)
    };
    let mut out = Vec::new();
    if step_months == 0 {
        // Days or weeks.
        let step = if span > 20 * 86_400 { 7 * 86_400 } else { 86_400 };
        let mut t = axis.t0 - axis.t0.rem_euclid(86_400) + 86_400;
        while t < axis.t1 && out.len() < 200 {
            out.push((t, f::date(t), true));
            t += step;
        }
        return out;
    }
    let Some(start) = crate::time::Instant::from_parts(axis.t0, 0) else {
        return out;
    };
    let (y, m, _) = start.civil();
    let mut month = y * 12 + (m - 1) + 1;
    let minor = if minor_months == 0 {
        step_months
    } else {
        minor_months
    };
    month += (minor - month.rem_euclid(minor)) % minor;
    while out.len() < 400 {
        let (yy, mm) = (month.div_euclid(12), month.rem_euclid(12) + 1);
        let Some(t) = month_start(yy, mm) else { break };
        if t >= axis.t1 {
            break;
        }
        let major = month.rem_euclid(step_months) == 0;
        // Minor ticks show only when zoomed in, where the year is needed.
        let label = if step_months >= 12 && major {
            yy.to_string()
        } else {
            format!("{} {yy}", f::month_name(mm))
        };
        out.push((t, label, major));
        month += minor;
    }
    out
}

fn month_start(y: i64, m: i64) -> Option<i64> {
    let date = jiff::civil::Date::new(i16::try_from(y).ok()?, i8::try_from(m).ok()?, 1).ok()?;
    crate::time::Instant::start_of(date).map(|i| i.as_second())
}

fn timeline(cx: &mut Ctx<'_>) {
    let p = cx.page.program;
    let axis = cx.axis;
    let activity = activity_span(cx);
    let _ = write!(
        cx.out,
        "<section class=\"tl-sec\" aria-labelledby=\"timeline-h\"><h2 id=\"timeline-h\">Timeline</h2>"
    );
    let _ = write!(
        cx.out,
        "<div class=\"tl-tools\" hidden><span>Zoom:</span>\
         <button type=\"button\" data-zoom=\"term\">Whole term</button>\
         <button type=\"button\" data-zoom=\"activity\">Events only</button>\
         <button type=\"button\" data-zoom=\"out\" aria-label=\"Zoom out\">−</button>\
         <button type=\"button\" data-zoom=\"in\" aria-label=\"Zoom in\">+</button></div>\
         <div class=\"tl\" id=\"tl\" data-t0=\"{}\" data-t1=\"{}\" data-a0=\"{}\" data-a1=\"{}\" data-now=\"{}\">\
         <div class=\"tl-inner\">",
        axis.t0, axis.t1, activity.0, activity.1, cx.now
    );
    // Gridlines, the as-of line and what lies after it.
    cx.out.push_str("<div class=\"grid\" aria-hidden=\"true\">");
    let ticks = ticks(axis);
    for (t, _, major) in &ticks {
        let _ = write!(
            cx.out,
            "<span class=\"gl{}\" style=\"left:{}\"></span>",
            if *major { "" } else { " minor" },
            pct(axis.pos(*t))
        );
    }
    let now = axis.pos(cx.now);
    let _ = write!(
        cx.out,
        "<span class=\"future\" style=\"left:{}\"></span><span class=\"asof\" style=\"left:{}\"></span>",
        pct(now),
        pct(now)
    );
    cx.out.push_str("</div>");
    // The axis.
    cx.out
        .push_str("<div class=\"row axis-row\" aria-hidden=\"true\"><div class=\"lane-label axis-label\">");
    let _ = write!(
        cx.out,
        "{} – {}",
        esc(&f::date(axis.t0)),
        esc(&f::last_day(axis.t1))
    );
    cx.out.push_str("</div><div class=\"track axis\">");
    for (t, label, major) in &ticks {
        let _ = write!(
            cx.out,
            "<span class=\"tk{}\" style=\"left:{}\">{}</span>",
            if *major { "" } else { " minor" },
            pct(axis.pos(*t)),
            esc(label)
        );
    }
    let _ = write!(
        cx.out,
        "<span class=\"asof-flag\" style=\"left:{}\">As of {}</span>",
        pct(now),
        esc(&f::date(cx.now))
    );
    cx.out.push_str("</div></div>");

    // Lanes, grouped by party.
    let mut groups: Vec<Vec<usize>> = vec![Vec::new(); p.parties.len().max(1)];
    for c in 0..p.clauses.len() {
        let party = party_of(p, c).min(groups.len() - 1);
        if let Some(g) = groups.get_mut(party) {
            g.push(c);
        }
    }
    cx.out
        .push_str("<ul class=\"groups\" aria-label=\"Clauses, grouped by the party they bind\">");
    for (party, clauses) in groups.iter().enumerate() {
        if clauses.is_empty() {
            continue;
        }
        let name = p.parties.at(party).map(|p| p.name.clone()).unwrap_or_default();
        let _ = write!(
            cx.out,
            "<li class=\"group\"><h3 class=\"group-h\"><span class=\"gh\">{} <small>{}</small></span></h3><ul class=\"lanes\">",
            esc(&name),
            esc(&if clauses.len() == 1 {
                format!("1 clause that binds {name} or gives {name} rights")
            } else {
                format!("{} clauses that bind {name} or give {name} rights", clauses.len())
            })
        );
        for &c in clauses {
            lane(cx, c);
        }
        cx.out.push_str("</ul></li>");
    }
    cx.out.push_str("</ul></div></div>");
    legend(cx);
    cx.out.push_str("</section>");
}

/// From the first to the last thing that happened (for "Events only").
fn activity_span(cx: &Ctx<'_>) -> (i64, i64) {
    let tl = cx.page.timeline;
    let mut a0 = tl.first_act.unwrap_or(cx.now).min(cx.now);
    let mut a1 = tl.last_act.unwrap_or(cx.now).max(cx.now);
    // Deadlines still to come are part of what is happening.
    for n in &tl.norms {
        if n.bars.len() <= AGGREGATE_OVER {
            for b in n.bars.iter().filter(|b| b.end.is_none()) {
                if let Some(d) = b.due {
                    a1 = a1.max(d);
                }
            }
        }
    }
    let pad = ((a1 - a0) / 12).max(86_400 * 10);
    a0 = (a0 - pad).max(cx.axis.t0);
    a1 = (a1 + pad).min(cx.axis.t1);
    if a0 >= a1 {
        return (cx.axis.t0, cx.axis.t1);
    }
    (a0, a1)
}

fn lane(cx: &mut Ctx<'_>, c: usize) {
    let page = cx.page;
    let p = page.program;
    let Some(clause) = p.clauses.at(c) else { return };
    let state = page.clause_states.get(c);
    let badge = match state {
        Some(s) => {
            let since = s.since.as_deref().map(f::shown);
            let st = St::parse(&s.state);
            let words = match (st, since) {
                (St::Inactive, _) => "not yet in force".to_string(),
                (_, Some(d)) => format!("{} since {d}", s.state),
                (_, None) => s.state.clone(),
            };
            format!("<span class=\"badge {}\">{}</span>", st_class(st), esc(&words))
        }
        None => String::new(),
    };
    let (a, b) = clause_extent(
        &page.contract.text,
        clause.span.start.min(page.contract.text.len()),
    );
    let (l1, l2) = (
        page.contract.line_col(a).0,
        page.contract.line_col(b.saturating_sub(1)).0,
    );
    let _ = write!(
        cx.out,
        "<li class=\"lane\" id=\"c-{}\"><div class=\"row clause-row\"><div class=\"lane-label\">\
         <h4>{}</h4><div class=\"meta\"><a class=\"src\" href=\"#L{l1}\" title=\"The clause's text, lines {l1}–{l2}\"><code>{}</code></a> {badge}</div></div>",
        esc(&clause.name),
        esc(&f::title_of(&clause.name)),
        esc(&clause.name)
    );
    let label = format!("{}: its term", f::title_of(&clause.name));
    let _ = write!(
        cx.out,
        "<div class=\"track\"><ul class=\"marks\" aria-label=\"{}\">",
        esc(&label)
    );
    clause_term(cx, c);
    // Ineffective acts sit on the clause's row.
    let tl = page.timeline;
    for (i, ie) in tl.ineffective.iter().enumerate() {
        if ie.clause != Some(c) {
            continue;
        }
        let id = cx.id("m");
        if let Some(slot) = cx.ineffective_ids.get_mut(i) {
            *slot = id.clone();
        }
        let text = format!(
            "<b>Ineffective act on {}</b> under {}: {} — <code>{}</code>{}. It changed nothing.{}",
            esc(&f::date(ie.at)),
            esc(&f::title_of(&clause.name)),
            esc(&ie.reason),
            esc(&ie.event),
            esc(&cause(ie.line)),
            cx.line_text(ie.line)
        );
        let _ = write!(
            cx.out,
            "<li class=\"pt\" style=\"left:{}\"><a class=\"mk ineff\" id=\"{id}\" href=\"#{id}\" data-c=\"{c}\"><span class=\"tip\">{text}</span></a></li>",
            pct(cx.axis.pos(ie.at))
        );
    }
    cx.out.push_str("</ul></div></div>");
    for n in clause.norms.iter().map(|n| n.index()) {
        norm_row(cx, c, n);
    }
    cx.out.push_str("</li>");
}

/// A period a clause was in force: start, end, its suspensions (start,
/// end, line), and the lines that started and ended it.
type InForce = (
    i64,
    Option<i64>,
    Vec<(i64, Option<i64>, Option<usize>)>,
    Option<usize>,
    Option<usize>,
);

/// The clause's term: in force, suspended, ended; dashed where only scheduled.
fn clause_term(cx: &mut Ctx<'_>, c: usize) {
    let page = cx.page;
    let p = page.program;
    let Some(clause) = p.clauses.at(c) else { return };
    let Some(steps) = page.timeline.clauses.get(c) else {
        return;
    };
    let name = f::title_of(&clause.name);
    // Periods in force: (start, end, suspended spans, start line, end line).
    let mut periods: Vec<InForce> = Vec::new();
    for s in steps {
        match s.to {
            St::Active => match periods.last_mut() {
                Some(last) if last.1.is_none() => {
                    if let Some(susp) = last.2.last_mut() {
                        if susp.1.is_none() {
                            susp.1 = Some(s.at);
                        }
                    }
                }
                _ => periods.push((s.at, None, Vec::new(), s.line, None)),
            },
            St::Suspended => match periods.last_mut() {
                Some(last) if last.1.is_none() => last.2.push((s.at, None, s.line)),
                _ => periods.push((s.at, None, vec![(s.at, None, s.line)], s.line, None)),
            },
            _ => {
                if let Some(last) = periods.last_mut() {
                    if last.1.is_none() {
                        last.1 = Some(s.at);
                        last.4 = s.line;
                        if let Some(susp) = last.2.last_mut() {
                            if susp.1.is_none() {
                                susp.1 = Some(s.at);
                            }
                        }
                    }
                }
            }
        }
    }
    let scheduled_end = match &clause.lifetime.end {
        Bound::At(i) => Some(i.as_second()),
        Bound::Unbounded => term_bounds(p).1,
        Bound::On(_) => None,
    };
    if periods.is_empty() {
        let _ = write!(
            cx.out,
            "<li class=\"pt none\" style=\"left:0\"><span class=\"quiet\">{} — not in force at any time so far</span></li>",
            esc(&name)
        );
        return;
    }
    for (start, end, susp, l_start, l_end) in periods {
        let shown_end = end.unwrap_or(cx.now).max(start);
        let (a, b) = (cx.axis.pos(start), cx.axis.pos(shown_end));
        let id = cx.id("m");
        let mut text = format!(
            "<b>{} in force</b> from {}{}",
            esc(&name),
            esc(&f::date(start)),
            esc(&cause_opt(l_start))
        );
        match end {
            Some(e) => {
                let _ = write!(text, "; ended on {}{}", esc(&f::date(e)), esc(&cause(l_end)));
            }
            None => {
                let _ = write!(text, "; still in force as of {}", esc(&f::date(cx.now)));
                if let Some(se) = scheduled_end.filter(|se| *se > cx.now) {
                    let _ = write!(text, ", until {} as scheduled", esc(&f::last_day(se)));
                }
            }
        }
        let _ = write!(text, ".");
        for (s0, s1, sl) in &susp {
            let _ = write!(
                text,
                " Suspended from {}{}{}.",
                esc(&f::date(*s0)),
                esc(&cause(*sl)),
                match s1 {
                    Some(e) => format!(" until {}", esc(&f::date(*e))),
                    None => " and still suspended".to_string(),
                }
            );
        }
        text.push_str(&cx.line_text(l_start));
        if end.is_some() {
            text.push_str(&cx.line_text(l_end));
        }
        for (_, _, sl) in &susp {
            text.push_str(&cx.line_text(*sl));
        }
        let mut segs = String::new();
        for (s0, s1, _) in &susp {
            let (x0, x1) = (cx.axis.pos(*s0), cx.axis.pos(s1.unwrap_or(cx.now)));
            let w = (b - a).max(1);
            let _ = write!(
                segs,
                "<span class=\"seg st-suspended\" style=\"left:{};width:{}\"></span>",
                pct((x0 - a) * FULL / w),
                pct(((x1 - x0) * FULL / w).max(0))
            );
        }
        let state = if end.is_some() {
            "ended"
        } else if susp.last().is_some_and(|s| s.1.is_none()) {
            "suspended"
        } else {
            "active"
        };
        let _ = write!(
            cx.out,
            "<li class=\"bar-li\" style=\"left:{};width:{}\"><a class=\"mk term term-{state}\" id=\"{id}\" href=\"#{id}\" data-c=\"{c}\">{segs}<span class=\"tip\">{text}</span></a></li>",
            pct(a),
            pct(b - a)
        );
        if end.is_none() {
            if let Some(se) = scheduled_end.filter(|se| *se > cx.now) {
                let (x0, x1) = (cx.axis.pos(cx.now), cx.axis.pos(se));
                let _ = write!(
                    cx.out,
                    "<li class=\"bar-li\" style=\"left:{};width:{}\" aria-hidden=\"true\"><span class=\"sched\" data-tip=\"{}\"></span></li>",
                    pct(x0),
                    pct(x1 - x0),
                    esc(&format!("{name}: scheduled to be in force until {}", f::last_day(se)))
                );
            }
        }
    }
}

fn cause_opt(line: Option<usize>) -> String {
    match line {
        Some(l) => format!(" (event on line {l})"),
        None => String::new(),
    }
}

/// Greedy packing of bars into rows: the row of each bar, and how many.
fn pack(axis: Axis, bars: &[Bar], now: i64) -> (Vec<usize>, usize) {
    // A bar takes at least half a percent of the axis, so that marks never
    // sit on each other unseen.
    const MIN: i64 = 500;
    let mut ends: Vec<i64> = Vec::new();
    let mut rows = Vec::with_capacity(bars.len());
    for b in bars {
        let a = axis.pos(b.start);
        let e = axis.pos(b.end.unwrap_or(now).max(b.start)).max(a + MIN);
        let row = match ends.iter().position(|&end| end <= a) {
            Some(r) => r,
            None => {
                ends.push(0);
                ends.len() - 1
            }
        };
        if let Some(slot) = ends.get_mut(row) {
            *slot = e;
        }
        rows.push(row);
    }
    let n = ends.len().max(1);
    (rows, n)
}

fn norm_row(cx: &mut Ctx<'_>, c: usize, n: usize) {
    let page = cx.page;
    let p = page.program;
    let Some(spec) = p.norms.at(n) else { return };
    let Some(track) = page.timeline.norms.get(n) else {
        return;
    };
    let kind = kind_word(p, n);
    let bars = &track.bars;
    let (rows, tracks) = pack(cx.axis, bars, cx.now);
    let aggregate = bars.len() > AGGREGATE_OVER || tracks > MAX_TRACKS;
    let tracks = if aggregate { 1 } else { tracks };
    let count = bars.len();
    let summary = if count == 0 {
        "no instance so far".to_string()
    } else {
        f::count(count as u64, "instance", "instances")
    };
    let _ = write!(
        cx.out,
        "<div class=\"row norm-row\" style=\"--tracks:{tracks}\"><div class=\"lane-label norm-label\">\
         <span class=\"kind k-{}\">{kind}</span> <span class=\"summary\">{}</span> <span class=\"count\">· {}</span></div>\
         <div class=\"track\"><ul class=\"marks\" aria-label=\"{}\">",
        kind.to_ascii_lowercase().replace(' ', "-"),
        esc(&spec.summary),
        esc(&summary),
        esc(&format!("{kind}: {} — {summary}", spec.summary))
    );
    let mut deco = String::new();
    if aggregate {
        bands(cx, c, n, bars);
    } else {
        for (b, row) in bars.iter().zip(rows) {
            bar(cx, c, n, b, row, &mut deco);
        }
    }
    // Breaches of this norm.
    let tl = page.timeline;
    let mine: Vec<usize> = tl
        .breaches
        .iter()
        .enumerate()
        .filter(|(_, b)| b.norm == Some(n) || (b.norm.is_none() && b.clause == Some(c)))
        .map(|(i, _)| i)
        .collect();
    if mine.len() > AGGREGATE_OVER {
        breach_bands(cx, c, n, &mine);
    } else {
        for i in mine {
            if let Some(b) = tl.breaches.get(i) {
                breach(cx, c, n, i, b);
            }
        }
    }
    cx.out.push_str("</ul>");
    if !deco.is_empty() {
        let _ = write!(cx.out, "<div class=\"deco\" aria-hidden=\"true\">{deco}</div>");
    }
    cx.out.push_str("</div></div>");
}

/// The words of one instance.
fn describe(cx: &Ctx<'_>, c: usize, n: usize, b: &Bar) -> String {
    let p = cx.page.program;
    let spec = p.norms.at(n);
    let clause = p.clauses.at(c).map(|c| f::title_of(&c.name)).unwrap_or_default();
    let kind = kind_word(p, n);
    let accrual = is_accrual(p, n);
    let mut t = String::new();
    if accrual {
        let ledger = b.ledger.and_then(|l| cx.page.timeline.ledgers.get(l));
        let (from, to, cur) = ledger
            .map(|l| (l.from.as_str(), l.to.as_str(), l.currency.as_str()))
            .unwrap_or_default();
        let _ = write!(
            t,
            "<b>{} {}</b> — {}: {} owes {}",
            kind,
            b.key
                .as_deref()
                .map(|k| format!("for {}", esc(k)))
                .unwrap_or_default(),
            esc(&clause),
            esc(from),
            esc(to)
        );
        if let Some(a) = b.amount {
            let _ = write!(t, " {} {}", esc(&f::amount(a)), esc(cur));
        }
        if b.undetermined > 0 {
            let _ = write!(
                t,
                "{} ({} undetermined until an open term is set)",
                if b.amount.is_some_and(|a| !a.is_zero()) {
                    " plus amounts"
                } else {
                    " an amount"
                },
                f::count(u64::from(b.undetermined), "accrual", "accruals")
            );
        }
        let _ = write!(
            t,
            ". First accrued on {}{}",
            esc(&f::date(b.start)),
            esc(&cause(b.start_line))
        );
        if let Some(d) = &b.due_text {
            let _ = write!(t, "; due by {}", esc(&f::shown(d)));
        }
        let violated = b.steps.iter().find(|s| s.1 == St::Violated);
        match (violated, b.paid_late, b.end) {
            (Some(v), Some(paid), _) => {
                let _ = write!(
                    t,
                    "; <strong>fell due unpaid</strong> on {}, and was paid late, on {}{}",
                    esc(&f::date(v.0)),
                    esc(&f::date(paid)),
                    esc(&cause(b.end_line))
                );
            }
            (Some(v), None, _) => {
                let _ = write!(
                    t,
                    "; <strong>fell due unpaid</strong> on {}, and is still unpaid as of {}",
                    esc(&f::date(v.0)),
                    esc(&f::date(cx.now))
                );
            }
            (None, _, Some(e)) => {
                let st = b.state();
                let word = if st == St::Discharged {
                    "taken back"
                } else {
                    "paid in full"
                };
                let _ = write!(t, "; {word} on {}{}", esc(&f::date(e)), esc(&cause(b.end_line)));
            }
            (None, _, None) => {
                let _ = write!(t, "; open as of {}", esc(&f::date(cx.now)));
            }
        }
        t.push('.');
    } else {
        let _ = write!(
            t,
            "<b>{kind}</b> — {}: {}",
            esc(&clause),
            esc(spec.map(|s| s.summary.as_str()).unwrap_or(""))
        );
        if let Some(k) = &b.key {
            let _ = write!(t, ", for <q>{}</q>", esc(k));
        }
        let first = b.steps.first().map_or(St::Active, |s| s.1);
        let _ = write!(
            t,
            ". {} from {}{}",
            if first == St::Suspended {
                "Arose suspended"
            } else {
                "Active"
            },
            esc(&f::date(b.start)),
            esc(&cause(b.start_line))
        );
        for w in b.steps.windows(2) {
            if let [_, (at, st)] = w {
                if st.is_open() {
                    let _ = write!(
                        t,
                        "; {} on {}",
                        if *st == St::Suspended {
                            "suspended"
                        } else {
                            "resumed"
                        },
                        esc(&f::date(*at))
                    );
                } else {
                    let _ = write!(t, "; <strong>{}</strong> on {}", st.name(), esc(&f::date(*at)));
                }
            }
        }
        if b.end.is_some() {
            t.push_str(&esc(&cause(b.end_line)).to_string());
        } else {
            let _ = write!(t, "; still {} as of {}", b.state().name(), esc(&f::date(cx.now)));
        }
        if let Some(d) = &b.due_text {
            let _ = write!(t, ". Deadline: {}", esc(&f::shown(d)));
        }
        if let Some(note) = &b.note {
            let _ = write!(t, ". {}", esc(&capitalise(note)));
        }
        t.push('.');
    }
    t.push_str(&cx.line_text(b.start_line));
    if b.end_line != b.start_line {
        t.push_str(&cx.line_text(b.end_line));
    }
    t
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn bar(cx: &mut Ctx<'_>, c: usize, n: usize, b: &Bar, row: usize, deco: &mut String) {
    let axis = cx.axis;
    let end = b.end.unwrap_or(cx.now).max(b.start);
    let (a, e) = (axis.pos(b.start), axis.pos(end));
    let w = (e - a).max(1);
    let state = b.state();
    // An amount paid in full is fulfilled even if it was late: the red
    // stretch says it was.
    let shown_state = if b.paid_late.is_some() {
        St::Fulfilled
    } else {
        state
    };
    let mut segs = String::new();
    let mut i = 0;
    while let Some((s_at, s_st)) = b.steps.get(i) {
        let next = b.steps.get(i + 1).map_or(end, |n| n.0).min(end);
        if matches!(s_st, St::Suspended | St::Violated) && next >= *s_at {
            let (x0, x1) = (axis.pos(*s_at), axis.pos(next));
            let _ = write!(
                segs,
                "<span class=\"seg {}\" style=\"left:{};width:{}\"></span>",
                st_class(*s_st),
                pct(((x0 - a) * FULL / w).clamp(0, FULL)),
                pct(((x1 - x0) * FULL / w).clamp(0, FULL))
            );
        }
        i += 1;
    }
    let id = cx.id("m");
    let text = describe(cx, c, n, b);
    let open = if b.end.is_none() { " open" } else { "" };
    let _ = write!(
        cx.out,
        "<li class=\"bar-li\" style=\"left:{};width:{};--row:{row}\"><a class=\"mk bar {}{open}\" id=\"{id}\" href=\"#{id}\" data-c=\"{c}\" data-n=\"{n}\">{segs}<span class=\"tip\">{text}</span></a></li>",
        pct(a),
        pct(e - a),
        st_class(shown_state)
    );
    if let Some(due) = b.due {
        if b.end.is_none() && due > cx.now {
            let (x0, x1) = (axis.pos(cx.now), axis.pos(due));
            let _ = write!(
                deco,
                "<span class=\"pending\" style=\"left:{};width:{};--row:{row}\"></span>",
                pct(x0),
                pct(x1 - x0)
            );
        }
        let _ = write!(
            deco,
            "<span class=\"tick\" style=\"left:{};--row:{row}\" data-tip=\"{}\"></span>",
            pct(axis.pos(due)),
            esc(&format!(
                "Deadline{}: {}",
                b.key.as_deref().map(|k| format!(" for {k}")).unwrap_or_default(),
                b.due_text.as_deref().map(f::shown).unwrap_or_default()
            ))
        );
    }
}

/// Calendar bins for bands: (start, end, label) covering the axis.
fn bins(axis: Axis) -> Vec<(i64, i64, String)> {
    let span = axis.t1 - axis.t0;
    let days = span / 86_400;
    let mut out = Vec::new();
    if days <= 120 {
        let mut t = axis.t0 - axis.t0.rem_euclid(86_400);
        while t < axis.t1 && out.len() < 200 {
            out.push((t, t + 86_400, f::date(t)));
            t += 86_400;
        }
        return out;
    }
    let months = if days <= 3_650 {
        1
    } else if days <= 10_950 {
        3
    } else {
        12
    };
    let Some(start) = crate::time::Instant::from_parts(axis.t0, 0) else {
        return out;
    };
    let (y, m, _) = start.civil();
    let mut month = y * 12 + (m - 1);
    month -= month.rem_euclid(months);
    while out.len() < 400 {
        let (yy, mm) = (month.div_euclid(12), month.rem_euclid(12) + 1);
        let next = month + months;
        let (ny, nm) = (next.div_euclid(12), next.rem_euclid(12) + 1);
        let (Some(a), Some(b)) = (month_start(yy, mm), month_start(ny, nm)) else {
            break;
        };
        if a >= axis.t1 {
            break;
        }
        let label = match months {
            1 => format!("{} {yy}", f::month_long(mm)),
            3 => format!("Q{} {yy}", (mm - 1) / 3 + 1),
            _ => yy.to_string(),
        };
        out.push((a, b, label));
        month = next;
    }
    out
}

fn bands(cx: &mut Ctx<'_>, c: usize, n: usize, bars: &[Bar]) {
    let p = cx.page.program;
    let kind = kind_word(p, n).to_lowercase();
    let bins = bins(cx.axis);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); bins.len()];
    for (i, b) in bars.iter().enumerate() {
        let k = bins.partition_point(|(_, end, _)| *end <= b.start);
        let k = k.min(bins.len().saturating_sub(1));
        if let Some(m) = members.get_mut(k) {
            m.push(i);
        }
    }
    let max = members.iter().map(Vec::len).max().unwrap_or(1).max(1);
    for ((a, b, label), m) in bins.iter().zip(&members) {
        if m.is_empty() {
            continue;
        }
        let mut by: BTreeMap<St, usize> = BTreeMap::new();
        let mut late = 0usize;
        for &i in m {
            if let Some(bar) = bars.get(i) {
                let st = if bar.paid_late.is_some() {
                    St::Fulfilled
                } else {
                    bar.state()
                };
                *by.entry(st).or_default() += 1;
                if bar.steps.iter().any(|s| s.1 == St::Violated) {
                    late += 1;
                }
            }
        }
        // A stack of the states, bottom up, in whole thousandths.
        let mut stops = Vec::new();
        let mut acc = 0i64;
        let total = m.len() as i64;
        for (st, k) in &by {
            let from = acc * FULL / total;
            acc += *k as i64;
            let to = acc * FULL / total;
            stops.push(format!("var(--{}) {} {}", st.name(), pct(from), pct(to)));
        }
        let states: Vec<String> = by
            .iter()
            .map(|(st, k)| format!("{} {}", f::grouped(&k.to_string()), st.name()))
            .collect();
        let id = cx.id("m");
        let words = format!(
            "{} {} that arose in {label}: {}{}",
            f::grouped(&m.len().to_string()),
            if m.len() == 1 {
                kind.clone()
            } else {
                plural_of(&kind)
            },
            states.join(", "),
            if late > 0 {
                format!(
                    "; {} of them violated at some point",
                    f::grouped(&late.to_string())
                )
            } else {
                String::new()
            }
        );
        // The band's height says how many, against the fullest band.
        let height = 35 + (m.len() * 65 / max);
        let _ = write!(
            cx.out,
            "<li class=\"bar-li band-li\" style=\"left:{};width:{}\"><details class=\"band\" id=\"{id}\">\
             <summary class=\"mk band-s\" data-c=\"{c}\" data-n=\"{n}\" style=\"--h:{height}%;background:linear-gradient(to top,{})\">\
             <span class=\"band-n\" aria-hidden=\"true\">{}</span><span class=\"tip\">{}</span></summary><div class=\"band-pop\"><p>{}</p><ol>",
            pct(cx.axis.pos(*a)),
            pct((cx.axis.pos(*b) - cx.axis.pos(*a)).max(1)),
            stops.join(","),
            compact_count(m.len()),
            esc(&words),
            esc(&words)
        );
        for &i in m.iter().take(BAND_LISTED) {
            if let Some(bar) = bars.get(i) {
                let _ = write!(cx.out, "<li>{}</li>", describe_short(cx, bar));
            }
        }
        cx.out.push_str("</ol>");
        if m.len() > BAND_LISTED {
            let _ = write!(
                cx.out,
                "<p class=\"more\">and {} more: <code>deal run … --history FILE</code> lists every one.</p>",
                f::grouped(&(m.len() - BAND_LISTED).to_string())
            );
        }
        cx.out.push_str("</div></details></li>");
    }
}

fn plural_of(word: &str) -> String {
    match word {
        "amount owed" => "amounts owed".to_string(),
        w => format!("{w}s"),
    }
}

fn compact_count(n: usize) -> String {
    if n >= 10_000 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

/// One line for an instance inside a band.
fn describe_short(cx: &Ctx<'_>, b: &Bar) -> String {
    let mut t = String::new();
    if let Some(k) = &b.key {
        let _ = write!(t, "<q>{}</q>: ", esc(k));
    }
    let _ = write!(t, "from {}", esc(&f::date(b.start)));
    if let Some(a) = b.amount {
        let cur = b
            .ledger
            .and_then(|l| cx.page.timeline.ledgers.get(l))
            .map(|l| l.currency.as_str())
            .unwrap_or("");
        let _ = write!(t, ", {} {}", esc(&f::amount(a)), esc(cur));
    }
    match b.end {
        Some(e) => {
            let st = if b.paid_late.is_some() {
                "paid late"
            } else {
                b.state().name()
            };
            let _ = write!(t, ", {st} on {}", esc(&f::date(e)));
        }
        None => {
            let _ = write!(t, ", still {}", b.state().name());
        }
    }
    if let Some(l) = b.start_line {
        let _ = write!(t, " (line {l})");
    }
    t
}

fn breach_words(cx: &Ctx<'_>, b: &BreachMark) -> String {
    let p = cx.page.program;
    let clause = b
        .clause
        .and_then(|c| p.clauses.at(c))
        .map(|c| c.name.as_str())
        .unwrap_or("");
    let mut t = format!(
        "<b>Breach of {} by {} on {}</b>: {}",
        esc(&f::title_of(clause)),
        esc(&b.party),
        esc(&f::date(b.at)),
        esc(&b.reason)
    );
    match b.line {
        Some(l) => {
            let _ = write!(t, " (the event on line {l}).");
        }
        None => {
            let _ = write!(
                t,
                " (found as time passed{}).",
                b.due
                    .as_deref()
                    .map(|d| format!(": the deadline was {}", esc(&f::shown(d))))
                    .unwrap_or_default()
            );
        }
    }
    t.push_str(&cx.line_text(b.line));
    t
}

fn breach(cx: &mut Ctx<'_>, c: usize, n: usize, i: usize, b: &BreachMark) {
    let id = cx.id("m");
    if let Some(slot) = cx.breach_ids.get_mut(i) {
        *slot = id.clone();
    }
    let text = breach_words(cx, b);
    let _ = write!(
        cx.out,
        "<li class=\"pt\" style=\"left:{}\"><a class=\"mk breach\" id=\"{id}\" href=\"#{id}\" data-c=\"{c}\" data-n=\"{n}\"><span class=\"tip\">{text}</span></a></li>",
        pct(cx.axis.pos(b.at))
    );
}

fn breach_bands(cx: &mut Ctx<'_>, c: usize, n: usize, mine: &[usize]) {
    let tl = cx.page.timeline;
    let bins = bins(cx.axis);
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); bins.len()];
    for &i in mine {
        let Some(b) = tl.breaches.get(i) else { continue };
        let k = bins
            .partition_point(|(_, end, _)| *end <= b.at)
            .min(bins.len().saturating_sub(1));
        if let Some(m) = members.get_mut(k) {
            m.push(i);
        }
    }
    for ((a, b, label), m) in bins.iter().zip(&members) {
        if m.is_empty() {
            continue;
        }
        let id = cx.id("m");
        for &i in m {
            if let Some(slot) = cx.breach_ids.get_mut(i) {
                *slot = id.clone();
            }
        }
        let words = format!("{} in {label}", f::count(m.len() as u64, "breach", "breaches"));
        let mid = (cx.axis.pos(*a) + cx.axis.pos(*b)) / 2;
        let _ = write!(
            cx.out,
            "<li class=\"pt\" style=\"left:{}\"><details class=\"band bband\" id=\"{id}\"><summary class=\"mk breach many\" data-c=\"{c}\" data-n=\"{n}\">\
             <span class=\"band-n\" aria-hidden=\"true\">{}</span><span class=\"tip\">{}</span></summary><div class=\"band-pop\"><p>{}</p><ol>",
            pct(mid),
            compact_count(m.len()),
            esc(&words),
            esc(&words)
        );
        for &i in m.iter().take(BAND_LISTED) {
            if let Some(b) = tl.breaches.get(i) {
                let _ = write!(
                    cx.out,
                    "<li>{} — {}{}</li>",
                    esc(&f::date(b.at)),
                    esc(&b.reason),
                    b.line.map(|l| format!(" (line {l})")).unwrap_or_default()
                );
            }
        }
        cx.out.push_str("</ol></div></details></li>");
    }
}

fn money(cx: &mut Ctx<'_>) {
    let tl = cx.page.timeline;
    if tl.ledgers.is_empty() {
        return;
    }
    cx.out.push_str(
        "<section class=\"money\" aria-labelledby=\"money-h\"><h2 id=\"money-h\">Money</h2>\
         <p class=\"hint\">What accrued under the sharing and payment clauses, what was paid, what is \
         outstanding and what is overdue, over time. Figures are exact.</p>",
    );
    for (i, l) in tl.ledgers.iter().enumerate() {
        ledger(cx, i, l);
    }
    cx.out.push_str("</section>");
}

fn ledger(cx: &mut Ctx<'_>, i: usize, l: &LedgerTrack) {
    let _ = write!(
        cx.out,
        "<article class=\"ledger\" aria-labelledby=\"ledger-{i}\"><h3 id=\"ledger-{i}\">{} owes {} <small>in {}</small></h3><div class=\"ledger-body\">",
        esc(&l.from),
        esc(&l.to),
        esc(&l.currency)
    );
    charts(cx, l);
    ledger_table(cx, l);
    cx.out.push_str("</div></article>");
}

fn charts(cx: &mut Ctx<'_>, l: &LedgerTrack) {
    let (Some(first), Some(last)) = (l.points.first(), l.points.last()) else {
        return;
    };
    let x0 = first.at;
    let x1 = cx.now.max(last.at).max(x0 + 86_400);
    let xs = |t: i64| -> i64 {
        i64::try_from(i128::from(t - x0) * 1000 / i128::from((x1 - x0).max(1))).unwrap_or(0)
    };
    let cumulative_max = l
        .points
        .iter()
        .map(|p| p.accrued.max(p.paid))
        .max()
        .unwrap_or_default();
    let owed_max = l
        .points
        .iter()
        .map(|p| p.accrued.saturating_sub(p.paid).max(p.overdue))
        .max()
        .unwrap_or_default();
    cx.out.push_str("<div class=\"charts\" aria-hidden=\"true\">");
    let series_cum: [Series<'_>; 2] = [
        ("accrued", "Accrued (owed so far)", |p| p.accrued),
        ("paid", "Paid", |p| p.paid),
    ];
    chart(
        cx,
        "Accrued and paid, to date",
        &series_cum,
        l,
        cumulative_max,
        &xs,
        (x0, x1),
        false,
    );
    let series_owed: [Series<'_>; 2] = [
        ("outstanding", "Outstanding", |p| {
            p.accrued.saturating_sub(p.paid).max(Decimal::ZERO)
        }),
        ("overdue", "Overdue", |p| p.overdue),
    ];
    chart(
        cx,
        "Outstanding and overdue",
        &series_owed,
        l,
        owed_max,
        &xs,
        (x0, x1),
        true,
    );
    cx.out.push_str("</div>");
}

type Series<'a> = (&'a str, &'a str, fn(&super::timeline::Point) -> Decimal);

#[allow(clippy::too_many_arguments, reason = "one argument a part of the chart")]
fn chart(
    cx: &mut Ctx<'_>,
    title: &str,
    series: &[Series<'_>],
    l: &LedgerTrack,
    max: Decimal,
    xs: &dyn Fn(i64) -> i64,
    (x0, x1): (i64, i64),
    filled: bool,
) {
    const H: i64 = 200;
    let ys = |v: Decimal| -> i64 {
        if max <= Decimal::ZERO {
            return H;
        }
        let y = (v * Decimal::from(H - 10) / max).round();
        H - y.to_i64().unwrap_or(0).clamp(0, H)
    };
    let _ = write!(
        cx.out,
        "<figure class=\"chart\"><figcaption>{}</figcaption><div class=\"plot\"><span class=\"ymax\">{}</span><span class=\"ymin\">0</span>\
         <svg viewBox=\"0 0 1000 {H}\" preserveAspectRatio=\"none\" role=\"presentation\">",
        esc(title),
        esc(&f::compact(max))
    );
    let now_x = xs(cx.now);
    let _ = write!(
        cx.out,
        "<line class=\"c-asof\" x1=\"{now_x}\" x2=\"{now_x}\" y1=\"0\" y2=\"{H}\"/>"
    );
    for (key, _, value) in series {
        // A step line; many points in one pixel keep their last and their
        // highest value.
        let mut d = format!("M0 {H}");
        let mut cur_y = H;
        let mut last_x = -1i64;
        let mut pending: Option<(i64, i64, i64)> = None;
        for p in &l.points {
            let x = xs(p.at);
            let y = ys(value(p));
            match pending {
                Some((px, top, _)) if px == x => pending = Some((px, top.min(y), y)),
                _ => {
                    if let Some((px, top, last)) = pending.take() {
                        let _ = write!(d, " H{px} V{top} V{last}");
                        cur_y = last;
                        last_x = px;
                    }
                    pending = Some((x, y.min(cur_y), y));
                }
            }
        }
        if let Some((px, top, last)) = pending {
            let _ = write!(d, " H{px} V{top} V{last}");
            last_x = px;
        }
        let _ = last_x;
        let _ = write!(d, " H{now_x}");
        if filled {
            let _ = write!(
                cx.out,
                "<path class=\"a-{key}\" d=\"{d} V{H} Z\"/><path class=\"s-{key}\" d=\"{d}\"/>"
            );
        } else {
            let _ = write!(cx.out, "<path class=\"s-{key}\" d=\"{d}\"/>");
        }
    }
    cx.out.push_str("</svg></div><div class=\"xaxis\">");
    let _ = write!(
        cx.out,
        "<span>{}</span><span>as of {}</span></div><ul class=\"keys\">",
        esc(&f::date(x0)),
        esc(&f::date(x1))
    );
    for (key, label, _) in series {
        let _ = write!(
            cx.out,
            "<li><span class=\"key k-{key}\"></span>{}</li>",
            esc(label)
        );
    }
    cx.out.push_str("</ul></figure>");
}

fn ledger_table(cx: &mut Ctx<'_>, l: &LedgerTrack) {
    let p = cx.page.program;
    let _ = write!(
        cx.out,
        "<div class=\"table-wrap\" tabindex=\"0\" role=\"region\" aria-label=\"{}\"><table class=\"figures\"><caption>{}</caption>\
         <thead><tr><th scope=\"col\">Date</th><th scope=\"col\">What happened</th><th scope=\"col\" class=\"num\">Amount</th><th scope=\"col\" class=\"num\">Accrued</th>\
         <th scope=\"col\" class=\"num\">Paid</th><th scope=\"col\" class=\"num\">Outstanding</th><th scope=\"col\" class=\"num\">Overdue</th></tr></thead><tbody>",
        esc(&format!("Figures: {} owes {} in {}", l.from, l.to, l.currency)),
        esc(&format!("Running totals, {}", l.currency))
    );
    let row = |out: &mut String,
               at: i64,
               what: &str,
               amount: Option<Decimal>,
               acc: Decimal,
               paid: Decimal,
               overdue: Decimal,
               cls: &str| {
        let _ = write!(
            out,
            "<tr class=\"{cls}\"><td class=\"date\"><time datetime=\"{}\">{}</time></td><td>{what}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num{}\">{}</td></tr>",
            f::iso(at),
            esc(&f::date(at)),
            amount.map(|a| esc(&f::amount(a)).to_string()).unwrap_or_default(),
            esc(&f::amount(acc)),
            esc(&f::amount(paid)),
            esc(&f::amount(acc - paid)),
            if overdue.is_zero() { "" } else { " bad" },
            esc(&f::amount(overdue))
        );
    };
    let clause_of = |n: Option<usize>| {
        n.and_then(|n| p.norms.at(n))
            .and_then(|s| p.clauses.get(s.clause))
            .map(|c| f::title_of(&c.name))
            .unwrap_or_default()
    };
    if l.points.len() <= 60 {
        for pt in &l.points {
            let key = pt
                .key
                .as_deref()
                .map(|k| format!(" for {}", esc(k)))
                .unwrap_or_default();
            let what = match pt.what {
                Move::Accrual => format!("Accrued{key} · {}", esc(&clause_of(pt.norm))),
                Move::Reversal => format!("Taken back · {}", esc(&clause_of(pt.norm))),
                Move::Settlement => "Paid".to_string(),
                Move::FellDue => format!("<strong>Fell due unpaid</strong>{key}"),
            };
            let what = match pt.line {
                Some(n) => format!("{what} <span class=\"line\">line {n}</span>"),
                None => what,
            };
            row(
                &mut cx.out,
                pt.at,
                &what,
                Some(pt.amount),
                pt.accrued,
                pt.paid,
                pt.overdue,
                if pt.what == Move::FellDue { "late" } else { "" },
            );
        }
    } else {
        // One row per period: the totals at its end.
        let axis = Axis {
            t0: l.points.first().map_or(0, |p| p.at),
            t1: cx.now.max(l.points.last().map_or(0, |p| p.at)) + 1,
        };
        let mut bins = bins(axis);
        while bins.len() > 60 {
            // Coarser: merge pairs.
            bins = bins
                .chunks(2)
                .map(|c| {
                    let a = c.first().cloned().unwrap_or_default();
                    let b = c.last().cloned().unwrap_or_default();
                    (a.0, b.1, format!("{} – {}", a.2, b.2))
                })
                .collect();
        }
        let mut k = 0usize;
        for (_, end, label) in &bins {
            let [mut accruals, mut reversals, mut payments, mut fell_due] = [0u64; 4];
            let mut last = None;
            while let Some(pt) = l.points.get(k) {
                if pt.at >= *end {
                    break;
                }
                *match pt.what {
                    Move::Accrual => &mut accruals,
                    Move::Reversal => &mut reversals,
                    Move::Settlement => &mut payments,
                    Move::FellDue => &mut fell_due,
                } += 1;
                last = Some(pt);
                k += 1;
            }
            let Some(pt) = last else { continue };
            let mut parts = Vec::new();
            for (n, one, many) in [
                (accruals, "accrual", "accruals"),
                (reversals, "reversal", "reversals"),
                (payments, "payment", "payments"),
                (fell_due, "amount fell due unpaid", "amounts fell due unpaid"),
            ] {
                if n > 0 {
                    parts.push(f::count(n, one, many));
                }
            }
            let what = format!("{}: {}", esc(label), esc(&parts.join(", ")));
            row(
                &mut cx.out,
                pt.at,
                &what,
                None,
                pt.accrued,
                pt.paid,
                pt.overdue,
                if fell_due > 0 { "late" } else { "" },
            );
        }
    }
    // The report's own figures as of its moment.
    if let Some(b) = cx
        .page
        .balances
        .iter()
        .find(|b| b.from == l.from && b.to == l.to && b.currency == l.currency)
    {
        let d = |s: &str| Decimal::from_str_exact(s).unwrap_or_default();
        let unapplied = d(&b.unapplied);
        let what = if unapplied.is_zero() {
            "<strong>As of this report</strong>".to_string()
        } else {
            format!(
                "<strong>As of this report</strong>; paid beyond what is owed, held unapplied: {}",
                esc(&f::amount(unapplied))
            )
        };
        row(
            &mut cx.out,
            cx.now,
            &what,
            None,
            d(&b.accrued),
            d(&b.paid),
            d(&b.overdue),
            "asof-row",
        );
    }
    cx.out.push_str("</tbody></table></div>");
}

fn breaches(cx: &mut Ctx<'_>) {
    let tl = cx.page.timeline;
    let p = cx.page.program;
    let _ = write!(
        cx.out,
        "<section class=\"list\" id=\"breaches\" aria-labelledby=\"breaches-h\"><h2 id=\"breaches-h\">Breaches <small>{}</small></h2>",
        f::grouped(&tl.breach_count.to_string())
    );
    if tl.breach_count == 0 {
        cx.out.push_str("<p class=\"quiet\">None.</p></section>");
        return;
    }
    cx.out.push_str(
        "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"Breaches\"><table><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Clause</th><th scope=\"col\">By</th>\
         <th scope=\"col\">What happened</th><th scope=\"col\">Cause</th></tr></thead><tbody>",
    );
    for (i, b) in tl.breaches.iter().enumerate().take(LISTED) {
        let clause = b
            .clause
            .and_then(|c| p.clauses.at(c))
            .map(|c| c.name.as_str())
            .unwrap_or("");
        let id = cx.breach_ids.get(i).cloned().unwrap_or_default();
        let _ = write!(
            cx.out,
            "<tr><td><a href=\"#{id}\"><time datetime=\"{}\">{}</time></a></td><td><a href=\"#c-{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td></tr>",
            f::iso(b.at),
            esc(&f::date(b.at)),
            esc(clause),
            esc(&f::title_of(clause)),
            esc(&b.party),
            esc(&b.reason),
            match b.line {
                Some(l) => format!("event on line {l}"),
                None => "time passing".to_string(),
            }
        );
    }
    cx.out.push_str("</tbody></table></div>");
    let listed = tl.breaches.len().min(LISTED) as u64;
    if tl.breach_count > listed {
        let _ = write!(
            cx.out,
            "<p class=\"more\">The first {} are listed; {} more are in <code>deal run … --format json</code>.</p>",
            f::grouped(&listed.to_string()),
            f::grouped(&(tl.breach_count - listed).to_string())
        );
    }
    cx.out.push_str("</section>");
}

fn ineffective(cx: &mut Ctx<'_>) {
    let tl = cx.page.timeline;
    let p = cx.page.program;
    if tl.ineffective_count == 0 {
        return;
    }
    let _ = write!(
        cx.out,
        "<section class=\"list\" id=\"ineffective\" aria-labelledby=\"ineffective-h\"><h2 id=\"ineffective-h\">Ineffective acts <small>{}</small></h2>\
         <p class=\"hint\">Acts that changed nothing, such as an acceptance after its window closed.</p>\
         <table><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Clause</th><th scope=\"col\">Act</th><th scope=\"col\">Why it changed nothing</th><th scope=\"col\">Line</th></tr></thead><tbody>",
        f::grouped(&tl.ineffective_count.to_string())
    );
    for (i, ie) in tl.ineffective.iter().enumerate().take(LISTED) {
        let clause = ie
            .clause
            .and_then(|c| p.clauses.at(c))
            .map(|c| c.name.as_str())
            .unwrap_or("");
        let id = cx.ineffective_ids.get(i).cloned().unwrap_or_default();
        let _ = write!(
            cx.out,
            "<tr><td><a href=\"#{id}\"><time datetime=\"{}\">{}</time></a></td><td><a href=\"#c-{}\">{}</a></td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            f::iso(ie.at),
            esc(&f::date(ie.at)),
            esc(clause),
            esc(&f::title_of(clause)),
            esc(&ie.event),
            esc(&ie.reason),
            ie.line.map(|l| l.to_string()).unwrap_or_default()
        );
    }
    cx.out.push_str("</tbody></table>");
    let listed = tl.ineffective.len().min(LISTED) as u64;
    if tl.ineffective_count > listed {
        let _ = write!(
            cx.out,
            "<p class=\"more\">The first {} are listed; the rest are in <code>deal run … --format json</code>.</p>",
            f::grouped(&listed.to_string())
        );
    }
    cx.out.push_str("</section>");
}

fn contract(cx: &mut Ctx<'_>) {
    let src = cx.page.contract;
    let _ = write!(
        cx.out,
        "<section class=\"contract\" aria-labelledby=\"contract-h\"><details><summary><h2 id=\"contract-h\">The contract <small><code>{}</code></small></h2></summary><pre class=\"code\"><code>",
        esc(&src.name)
    );
    for (i, line) in src.text.lines().enumerate() {
        let _ = writeln!(
            cx.out,
            "<span class=\"cl\" id=\"L{}\"><span class=\"ln\" aria-hidden=\"true\">{}</span>{}</span>",
            i + 1,
            i + 1,
            esc(line)
        );
    }
    cx.out.push_str("</code></pre></details></section>");
}

/// Where a clause's text lies: from its header's line to the last
/// indented line under it (a clause's span names only its header).
pub fn clause_extent(text: &str, header: usize) -> (usize, usize) {
    let start = text
        .get(..header)
        .and_then(|t| t.rfind('\n'))
        .map_or(0, |i| i + 1);
    let mut end = text
        .get(header..)
        .and_then(|t| t.find('\n'))
        .map_or(text.len(), |i| header + i);
    let mut pos = end;
    while pos < text.len() {
        let rest = text.get(pos + 1..).unwrap_or("");
        let line_end = rest.find('\n').map_or(text.len(), |i| pos + 1 + i);
        let line = text.get(pos + 1..line_end).unwrap_or("");
        let trimmed = line.trim();
        if !trimmed.is_empty() && !line.starts_with([' ', '\t']) {
            break;
        }
        if !trimmed.is_empty() && !trimmed.starts_with('#') {
            end = line_end;
        }
        pos = line_end;
    }
    (start, end)
}

/// The text of each clause, with the norm's own words marked, for the
/// tooltips: one template per norm and per clause.
fn templates(cx: &mut Ctx<'_>) {
    let p = cx.page.program;
    let text = &cx.page.contract.text;
    let snippet = |a: usize, b: usize| text.get(a..b).unwrap_or("");
    for (c, clause) in p.clauses.values().enumerate() {
        let (a, b) = clause_extent(text, clause.span.start.min(text.len()));
        let (l1, l2) = (
            cx.page.contract.line_col(a).0,
            cx.page.contract.line_col(b.saturating_sub(1)).0,
        );
        let head = format!(
            "<span class=\"tsrc-h\">{} lines {l1}–{l2}</span>",
            esc(&cx.page.contract.name)
        );
        let _ = write!(
            cx.out,
            "<template id=\"ct-{c}\"><div class=\"tsrc\">{head}<pre>{}</pre></div></template>",
            esc(snippet(a, b))
        );
        for n in clause.norms.iter().map(|n| n.index()) {
            let Some(spec) = p.norms.at(n) else { continue };
            let (na, nb) = (spec.span.start.clamp(a, b), spec.span.end.clamp(a, b));
            let _ = write!(
                cx.out,
                "<template id=\"nt-{n}\"><div class=\"tsrc\">{head}<pre>{}<mark>{}</mark>{}</pre></div></template>",
                esc(snippet(a, na)),
                esc(snippet(na, nb)),
                esc(snippet(nb, b))
            );
        }
    }
}

//! `deal fmt`: one layout for every contract.
//!
//! Sections start at the margin after a blank line; the items of a block
//! (terms, events, a clause's norms and lifetimes) start a line each, two
//! spaces in, a table's rows four; one space between words, none inside
//! brackets or before a comma. The `=` of consecutive one-line terms, the
//! `(` of consecutive events and the values of a table's rows line up.
//!
//! Where the author broke a line inside an item, the break is kept: a part
//! of a norm (`where`, `due`, `settled by`, …) goes two spaces deeper than
//! its item, anything else at least four, keeping how much deeper than its
//! item the author put it. No line is broken or joined otherwise: a long
//! expression is laid out by its author. Comments stay where they were, on
//! their own line or after a token; one blank line is kept where the author
//! left one or more between items.

mod tokens;

use miette::{Diagnostic, SourceSpan};
use thiserror::Error;

use crate::diag::source::SourceFile;
use crate::syntax::{self, SyntaxError};
use tokens::{gap, Align, Between, Place, Token};

/// `text`, formatted. A text that does not parse is not formatted: its
/// syntax error is returned instead.
pub fn format(text: &str) -> Result<String, SyntaxError> {
    let file = syntax::concrete(text)?;
    let tree = tokens::tree(text, file);
    let out = layout(text, &tree);
    // The layout only moves whitespace and comments; should it ever lose or
    // reorder a token, leaving the text as it is keeps its meaning.
    if words(text) == words(&out) {
        Ok(out)
    } else {
        Ok(text.to_string())
    }
}

/// The tokens and comments of a text, in order, as the formatter reads
/// them: what formatting must keep.
fn words(text: &str) -> Option<Vec<String>> {
    let file = syntax::concrete(text).ok()?;
    let tree = tokens::tree(text, file);
    let mut out = Vec::new();
    let mut from = 0;
    for t in &tree.tokens {
        push_comments(&mut out, text, from, t.start);
        out.push(t.text.to_string());
        from = t.end;
    }
    push_comments(&mut out, text, from, text.len());
    Some(out)
}

fn push_comments(out: &mut Vec<String>, text: &str, from: usize, to: usize) {
    for b in gap(text, from, to, false).between {
        if let Between::Comment { text, .. } = b {
            out.push(text.to_string());
        }
    }
}

/// A contract whose layout is not `deal fmt`'s, for `deal fmt --check`.
#[derive(Debug, Clone, Error, Diagnostic)]
#[error("`{path}` is not formatted")]
#[diagnostic(
    code(deal::fmt::unformatted),
    help("`deal fmt {path}` rewrites it; formatted, this line reads:\n{formatted}")
)]
pub struct Unformatted {
    pub path: String,
    pub formatted: String,
    #[label("the first line that differs")]
    pub span: SourceSpan,
}

/// Whether `source` is formatted as `formatted`; if not, where they differ first.
pub fn unformatted(source: &SourceFile, formatted: &str) -> Option<Unformatted> {
    let text: &str = &source.text;
    if text == formatted {
        return None;
    }
    let mut offset = 0;
    let mut a = text.split_inclusive('\n');
    let mut b = formatted.split_inclusive('\n');
    loop {
        match (a.next(), b.next()) {
            (Some(x), Some(y)) if x.trim_end_matches(['\n', '\r']) == y.trim_end_matches('\n') => {
                offset += x.len();
            }
            (x, y) => {
                let len = x.map_or(0, |l| l.trim_end_matches(['\n', '\r']).len());
                let shown = y.map_or("(nothing: the file ends before it)", |l| l.trim_end_matches('\n'));
                return Some(Unformatted {
                    path: source.name.to_string(),
                    formatted: if shown.trim().is_empty() {
                        "(an empty line)".to_string()
                    } else {
                        format!("`{shown}`")
                    },
                    span: (offset.min(text.len()), len).into(),
                });
            }
        }
    }
}

/// A line being written: its indent, its text, and where a token that
/// lines up with its neighbours starts in it.
struct Line {
    indent: usize,
    text: String,
    align: Vec<(usize, usize)>,
}

struct Writer {
    lines: Vec<Line>,
    /// The indent of the item being written, and its token's column as written.
    item: (usize, usize),
}

impl Writer {
    fn blank(&mut self) {
        if self.lines.last().is_some_and(|l| !l.text.is_empty()) {
            self.lines.push(Line {
                indent: 0,
                text: String::new(),
                align: Vec::new(),
            });
        }
    }

    fn line(&mut self, indent: usize) {
        self.lines.push(Line {
            indent,
            text: String::new(),
            align: Vec::new(),
        });
    }

    fn push(&mut self, text: &str, space: bool, group: Option<usize>) {
        if self.lines.is_empty() {
            self.line(0);
        }
        if let Some(line) = self.lines.last_mut() {
            if space && !line.text.is_empty() {
                line.text.push(' ');
            }
            if let Some(g) = group {
                line.align.push((g, line.text.len()));
            }
            line.text.push_str(text);
        }
    }
}

fn column(text: &str, offset: usize) -> usize {
    let start = text
        .get(..offset)
        .and_then(|s| s.rfind('\n'))
        .map_or(0, |i| i + 1);
    text.get(start..offset).map_or(0, |s| s.chars().count())
}

fn layout(text: &str, tree: &tokens::Tree<'_>) -> String {
    let toks = &tree.tokens;
    let gaps: Vec<tokens::Gap<'_>> = toks
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let from = if i == 0 {
                0
            } else {
                toks.get(i - 1).map_or(0, |p| p.end)
            };
            gap(text, from, t.start, i == 0)
        })
        .collect();
    let starts_line = |i: usize, t: &Token<'_>| {
        matches!(t.place, Place::Section | Place::Item { .. }) || gaps.get(i).is_some_and(|g| g.broken)
    };
    let groups = align_groups(tree, &gaps, &starts_line);
    let mut w = Writer {
        lines: Vec::new(),
        item: (0, 0),
    };
    for (i, t) in toks.iter().enumerate() {
        let g = gaps.get(i);
        let own_column = column(text, t.start);
        let indent = match t.place {
            Place::Section => 0,
            Place::Item { indent, .. } => indent,
            Place::Part => w.item.0 + 2,
            Place::Inline => {
                let deeper = own_column as i64 - w.item.1 as i64;
                w.item.0 + deeper.max(4) as usize
            }
        };
        // Blank lines: always one before a section (and its comments);
        // where the author left one before an item but its block's first;
        // never inside an item.
        let keep = match t.place {
            Place::Section => true,
            Place::Item { first, .. } => !first,
            Place::Part | Place::Inline => false,
        };
        let mut owed = t.place == Place::Section && i > 0;
        for b in g.map(|g| g.between.as_slice()).unwrap_or(&[]) {
            let Between::Comment {
                text: c,
                own_line,
                blank,
                ..
            } = b
            else {
                continue;
            };
            if *own_line {
                if owed || (*blank && keep) {
                    w.blank();
                }
                owed = false;
                w.line(indent);
                w.push(c, false, None);
            } else if let Some(line) = w.lines.last_mut() {
                line.text.push_str("  ");
                line.text.push_str(c);
            }
        }
        if starts_line(i, t) {
            if owed || (g.is_some_and(|g| g.blank) && keep) {
                w.blank();
            }
            if matches!(t.place, Place::Section | Place::Item { .. }) {
                w.item = (indent, own_column);
            }
            w.line(indent);
            let group = if t.align.is_some() {
                groups.get(i).copied().flatten()
            } else {
                None
            };
            w.push(&t.text, false, group);
        } else {
            let prev_glue = i > 0 && toks.get(i - 1).is_some_and(|p| p.glue_right);
            let group = groups.get(i).copied().flatten();
            w.push(&t.text, !(t.glue_left || prev_glue), group);
        }
    }
    let from = toks.last().map_or(0, |t| t.end);
    let tail = gap(text, from, text.len(), false);
    for b in &tail.between {
        if let Between::Comment {
            text: c,
            own_line,
            blank,
            column,
        } = b
        {
            if *own_line {
                if *blank {
                    w.blank();
                }
                let indent = if *column == 0 { 0 } else { w.item.0 };
                w.line(indent);
                w.push(c, false, None);
            } else if let Some(line) = w.lines.last_mut() {
                line.text.push_str("  ");
                line.text.push_str(c);
            }
        }
    }
    finish(w.lines)
}

/// Which tokens line up with which: the `=` of a run of one-line terms,
/// the `(` of a run of one-line events, the bounds and values of a table's
/// one-line rows. A blank line before a term or an event, or an item of
/// more than one line, ends a run. Groups are numbered from left to right.
fn align_groups(
    tree: &tokens::Tree<'_>,
    gaps: &[tokens::Gap<'_>],
    starts_line: &dyn Fn(usize, &Token<'_>) -> bool,
) -> Vec<Option<usize>> {
    let toks = &tree.tokens;
    let mut groups = vec![None; toks.len()];
    let mut numbered: std::collections::HashMap<(usize, Align), usize> = std::collections::HashMap::new();
    let mut runs = 0;
    // The run each block is in, if its last item was on one line.
    let mut run_of: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for item in &tree.items {
        let one_line = (item.first + 1..=item.last).all(|i| toks.get(i).is_some_and(|t| !starts_line(i, t)));
        let is_row = toks
            .get(item.first..=item.last)
            .is_some_and(|ts| ts.iter().any(|t| t.align == Some(Align::RowValue)));
        let blank = gaps.get(item.first).is_some_and(|g| g.blank) && !is_row;
        if !one_line || blank {
            run_of.remove(&item.block);
        }
        if !one_line {
            continue;
        }
        let run = *run_of.entry(item.block).or_insert_with(|| {
            runs += 1;
            runs
        });
        for i in item.first..=item.last {
            let Some(align) = toks.get(i).and_then(|t| t.align) else {
                continue;
            };
            let next = numbered.len();
            let group = *numbered.entry((run, align)).or_insert(next);
            if let Some(slot) = groups.get_mut(i) {
                *slot = Some(group);
            }
        }
    }
    groups
}

/// The lines, with the tokens of each group padded to one column, the
/// groups further left first.
fn finish(mut lines: Vec<Line>) -> String {
    let mut ids: Vec<usize> = lines.iter().flat_map(|l| l.align.iter().map(|a| a.0)).collect();
    ids.sort_unstable();
    ids.dedup();
    let col = |l: &Line, at: usize| l.indent + l.text.get(..at).map_or(0, |s| s.chars().count());
    for g in ids {
        let widest = lines
            .iter()
            .flat_map(|l| l.align.iter().filter(|a| a.0 == g).map(|a| col(l, a.1)))
            .max()
            .unwrap_or(0);
        for l in &mut lines {
            let Some(k) = l.align.iter().position(|a| a.0 == g) else {
                continue;
            };
            let at = l.align.get(k).map_or(0, |a| a.1);
            let pad = widest.saturating_sub(col(l, at));
            if pad == 0 || !l.text.is_char_boundary(at) {
                continue;
            }
            l.text.insert_str(at, &" ".repeat(pad));
            for a in l.align.iter_mut().filter(|a| a.1 >= at) {
                a.1 += pad;
            }
        }
    }
    let mut out = String::new();
    for l in &lines {
        if !l.text.is_empty() {
            out.push_str(&" ".repeat(l.indent));
            out.push_str(&l.text);
        }
        out.push('\n');
    }
    out
}

/// The contracts a `deal fmt` of these paths reads: each file as given, and
/// every `.deal` file under each folder (hidden folders and `target` left
/// out), in order. No path means the current folder.
pub fn discover(paths: &[String]) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let paths: Vec<String> = if paths.is_empty() {
        vec![".".to_string()]
    } else {
        paths.to_vec()
    };
    for p in &paths {
        let path = std::path::Path::new(p);
        if path.is_dir() {
            walk(path, &mut out);
        } else {
            out.push(path.to_path_buf());
        }
    }
    out
}

fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<std::path::PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        let skipped = p
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.') || n == "target");
        if skipped {
            continue;
        }
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|e| e == "deal") {
            out.push(p);
        }
    }
}

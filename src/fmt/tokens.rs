//! A contract as the formatter sees it: its words and marks in order, each
//! with the place the layout gives it, and the comments between them.

use std::borrow::Cow;

use pest::iterators::Pair;

use crate::syntax::Rule;

/// Where a token may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// On the line before it, unless the author broke the line there.
    Inline,
    /// Opens a section: a line of its own, at the margin, after a blank line.
    Section,
    /// Opens an item of a block: a line of its own at this indent. `first`
    /// says it is the block's first item, which a blank line never precedes.
    Item { indent: usize, first: bool },
    /// Opens a part of an item (`where …`, `due …`, `settled by …`): where
    /// the author broke the line before it, two deeper than its item.
    Part,
}

/// What a token lines up with in the lines around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Align {
    /// The `=` of a term.
    Equals,
    /// The `(` of an event's fields.
    Fields,
    /// A bound of a table's row after its first (`up to …` after `above …`).
    RowBound(usize),
    /// The value of a table's row, after its `:`.
    RowValue,
}

#[derive(Debug, Clone)]
pub(super) struct Token<'a> {
    pub text: Cow<'a, str>,
    pub start: usize,
    pub end: usize,
    pub place: Place,
    /// No space between this token and the one before it.
    pub glue_left: bool,
    /// No space between this token and the one after it.
    pub glue_right: bool,
    pub align: Option<Align>,
}

/// An item of a block (a term, an event, a clause's norm, a table's row):
/// the tokens it spans, and the block it is in.
#[derive(Debug, Clone)]
pub(super) struct Item {
    pub first: usize,
    pub last: usize,
    pub block: usize,
}

#[derive(Debug, Default)]
pub(super) struct Tree<'a> {
    pub tokens: Vec<Token<'a>>,
    /// In the order they start.
    pub items: Vec<Item>,
    /// For each block, whether an item of it has begun.
    blocks: Vec<bool>,
    pending: Option<Place>,
    pending_align: Option<Align>,
}

/// The tokens of a file, from its concrete tree.
pub(super) fn tree<'a>(source: &'a str, file: Pair<'a, Rule>) -> Tree<'a> {
    let mut t = Tree::default();
    t.walk(source, file, Rule::file, None);
    t.items.sort_by_key(|i| i.first);
    t
}

fn is_part(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::exception
            | Rule::payee
            | Rule::deadline
            | Rule::activation
            | Rule::window
            | Rule::refusal_where
            | Rule::offered_by
            | Rule::accepted_by
            | Rule::declined_by
            | Rule::matched_on
            | Rule::open_for
            | Rule::only_if
            | Rule::growing
            | Rule::schedule
            | Rule::pay_due
            | Rule::settled_by
            | Rule::until_bound
            | Rule::same_key
            | Rule::time_trigger
    )
}

/// Keywords that open a part of the rule they are written in.
fn is_part_word(rule: Rule, parent: Rule) -> bool {
    matches!(
        (rule, parent),
        (Rule::kw_where, Rule::event_match | Rule::exclusive | Rule::action)
            | (Rule::kw_for, Rule::owes | Rule::pay_amount)
            | (Rule::kw_as, Rule::exclusive)
            | (Rule::kw_or, Rule::power)
    )
}

fn is_clause_item(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::in_force | Rule::suspended_on | Rule::resumed_on | Rule::ended_on | Rule::norm
    )
}

impl<'a> Tree<'a> {
    fn place(&mut self, place: Place) {
        let strength = |p: Place| match p {
            Place::Inline => 0,
            Place::Part => 1,
            Place::Item { .. } => 2,
            Place::Section => 3,
        };
        if self.pending.is_none_or(|p| strength(place) > strength(p)) {
            self.pending = Some(place);
        }
    }

    fn walk(&mut self, source: &'a str, pair: Pair<'a, Rule>, parent: Rule, block: Option<usize>) {
        let rule = pair.as_rule();
        let item = match (parent, rule) {
            (Rule::file, _) => {
                self.place(Place::Section);
                None
            }
            (Rule::terms, Rule::term_def) | (Rule::events, Rule::event_decl) => Some(2),
            (Rule::clause, r) if is_clause_item(r) => Some(2),
            (Rule::table, Rule::table_row) => Some(4),
            _ => {
                if is_part(rule) {
                    self.place(Place::Part);
                }
                None
            }
        };
        if let (Some(indent), Some(block)) = (item, block) {
            let first = !self.blocks.get(block).copied().unwrap_or(false);
            if let Some(seen) = self.blocks.get_mut(block) {
                *seen = true;
            }
            self.place(Place::Item { indent, first });
        }
        let first_token = self.tokens.len();
        match rule {
            Rule::EOI => {}
            Rule::string | Rule::date | Rule::datetime => {
                self.leaf(source, pair.as_str().into(), &pair, parent)
            }
            Rule::quantity => {
                let mut text = String::new();
                for p in pair.clone().into_inner() {
                    match p.as_rule() {
                        Rule::percent_sign => {}
                        Rule::number => {}
                        _ => text.push(' '),
                    }
                    text.push_str(p.as_str());
                }
                self.leaf(source, text.into(), &pair, parent);
            }
            Rule::event_ref if pair.clone().into_inner().any(|p| p.as_rule() == Rule::time_event) => {
                for p in pair.clone().into_inner() {
                    self.walk(source, p, rule, None);
                }
            }
            Rule::event_ref => {
                let words: Vec<&str> = pair.clone().into_inner().map(|p| p.as_str()).collect();
                let text = if words.is_empty() {
                    pair.as_str().into()
                } else {
                    words.join(" ").into()
                };
                self.leaf(source, text, &pair, parent);
            }
            _ => {
                let mut inner = pair.clone().into_inner().peekable();
                if inner.peek().is_none() {
                    if is_part_word(rule, parent) {
                        self.place(Place::Part);
                    }
                    self.leaf(source, pair.as_str().into(), &pair, parent);
                } else {
                    let inner_block =
                        if matches!(rule, Rule::terms | Rule::events | Rule::table | Rule::clause) {
                            self.blocks.push(false);
                            Some(self.blocks.len() - 1)
                        } else {
                            None
                        };
                    let mut bounds = 0;
                    for p in inner {
                        if rule == Rule::table_row {
                            match p.as_rule() {
                                Rule::expr => self.pending_align = Some(Align::RowValue),
                                Rule::row_above | Rule::row_from | Rule::row_upto | Rule::row_below => {
                                    if bounds > 0 {
                                        self.pending_align = Some(Align::RowBound(bounds));
                                    }
                                    bounds += 1;
                                }
                                _ => {}
                            }
                        }
                        self.walk(source, p, rule, inner_block);
                    }
                }
            }
        }
        if let (Some(_), Some(block)) = (item, block) {
            if self.tokens.len() > first_token {
                self.items.push(Item {
                    first: first_token,
                    last: self.tokens.len() - 1,
                    block,
                });
            }
        }
    }

    fn leaf(&mut self, source: &'a str, text: Cow<'a, str>, pair: &Pair<'a, Rule>, parent: Rule) {
        if text.is_empty() {
            return;
        }
        let rule = pair.as_rule();
        let span = pair.as_span();
        // Marks the grammar writes as bare text make no pair: they are found
        // in the gap before the token, and go where they were, inline.
        let from = self.tokens.last().map_or(0, |t| t.end);
        for b in gap(source, from, span.start(), false).between {
            if let Between::Mark { text, start } = b {
                self.tokens.push(Token {
                    text: text.into(),
                    start,
                    end: start + text.len(),
                    place: Place::Inline,
                    glue_left: matches!(text, ")" | "," | ":" | "."),
                    glue_right: matches!(text, "(" | "."),
                    align: None,
                });
            }
        }
        let mut align = self.pending_align.take();
        match (rule, parent) {
            (Rule::equals, Rule::term_def) => align = Some(Align::Equals),
            (Rule::lparen, Rule::field_list) => align = Some(Align::Fields),
            _ => {}
        }
        let glue_left = matches!(&*text, ")" | "," | ":" | ".")
            || (rule == Rule::lparen && matches!(parent, Rule::call_args | Rule::aggregate));
        let glue_right = matches!(&*text, "(" | ".") || rule == Rule::op_neg;
        self.tokens.push(Token {
            text,
            start: span.start(),
            end: span.end(),
            place: self.pending.take().unwrap_or(Place::Inline),
            glue_left,
            glue_right,
            align,
        });
    }
}

/// What lies between two tokens: comments, and marks the grammar writes as
/// bare text (the commas between parties).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Between<'a> {
    Comment {
        text: &'a str,
        /// On a line of its own, not after a token.
        own_line: bool,
        /// After a blank line.
        blank: bool,
        /// Its column in the text as written, from 0.
        column: usize,
    },
    Mark {
        text: &'a str,
        start: usize,
    },
}

/// The gap between two tokens, read: what it holds, and whether the author
/// broke the line (and left a blank one) before the next token.
#[derive(Debug, Default)]
pub(super) struct Gap<'a> {
    pub between: Vec<Between<'a>>,
    pub broken: bool,
    pub blank: bool,
}

pub(super) fn gap(source: &str, from: usize, to: usize, at_start: bool) -> Gap<'_> {
    let text = source.get(from..to).unwrap_or("");
    let mut g = Gap::default();
    let mut newlines = usize::from(at_start);
    let mut line_start = source
        .get(..from)
        .and_then(|s| s.rfind('\n'))
        .map_or(0, |i| i + 1);
    let mut i = 0;
    let bytes = text.as_bytes();
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\n' => {
                newlines += 1;
                i += 1;
                line_start = from + i;
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'#' => {
                let end = text
                    .get(i..)
                    .and_then(|r| r.find('\n'))
                    .map_or(text.len(), |j| i + j);
                let comment = text.get(i..end).unwrap_or("").trim_end();
                let column = source.get(line_start..from + i).map_or(0, |s| s.chars().count());
                g.between.push(Between::Comment {
                    text: comment,
                    own_line: newlines > 0,
                    blank: newlines > 1,
                    column,
                });
                newlines = 0;
                i = end;
            }
            _ => {
                let end = text
                    .get(i..)
                    .and_then(|r| r.find(|c: char| c.is_whitespace() || c == '#'))
                    .map_or(text.len(), |j| i + j);
                g.between.push(Between::Mark {
                    text: text.get(i..end).unwrap_or(""),
                    start: from + i,
                });
                newlines = 0;
                i = end.max(i + 1);
            }
        }
    }
    g.broken = newlines > 0 || g.between.iter().any(|b| matches!(b, Between::Comment { .. }));
    g.blank = newlines > 1;
    g
}

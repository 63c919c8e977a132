//! Completion: what the grammar accepts at the cursor, as the parser says
//! when the text before the cursor is parsed and stops there, filled in with
//! the contract's own names of the kind that fits.

use lsp_types as lsp;

use super::text::offset;
use super::{words, Server};
use crate::model::Func;
use crate::syntax::{self, ast, Rule};

/// The kinds of name a spot can take.
#[derive(Default)]
struct Wanted {
    parties: bool,
    terms: bool,
    events: bool,
    clauses: bool,
    fields: bool,
    values: bool,
}

impl Server {
    pub(super) fn complete(&self, uri: &lsp::Uri, at: lsp::Position) -> Option<lsp::CompletionResponse> {
        let doc = self.docs.get(uri).filter(|d| d.kind == super::Kind::Contract)?;
        let text = doc.text.as_str();
        let contract = syntax::parse(text)
            .ok()
            .or_else(|| self.parsed.get(uri).cloned())?;
        let cursor = offset(text, at);
        let prefix = text.get(..cursor)?;
        let typed = prefix.len()
            - prefix
                .chars()
                .rev()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .map(char::len_utf8)
                .sum::<usize>();
        let before = prefix.get(..typed)?;
        let mut items = Items::default();
        if let Some(head) = before.strip_suffix('.') {
            // `name.field`: the fields of the event so named.
            let head = last_word(head);
            let event = contract.events.iter().find(|e| e.name.name == head)?;
            items.fields(event);
            return Some(lsp::CompletionResponse::Array(items.0));
        }
        let expected = syntax::expected_at_end(before)?;
        let mut wanted = Wanted::default();
        for rule in &expected {
            items.rule(*rule, &mut wanted, before);
        }
        if wanted.parties {
            for p in &contract.parties {
                items.push(&p.name, lsp::CompletionItemKind::STRUCT, "party");
            }
        }
        if wanted.events {
            for e in &contract.events {
                items.push(&e.name.name, lsp::CompletionItemKind::EVENT, "event");
            }
        }
        if wanted.clauses {
            for c in &contract.clauses {
                items.push(&c.name.name, lsp::CompletionItemKind::MODULE, "clause");
            }
        }
        if wanted.fields || wanted.values {
            if let Some(name) = in_scope(before) {
                if let Some(event) = contract.events.iter().find(|e| e.name.name == name) {
                    items.fields(event);
                }
            }
        }
        if wanted.values || wanted.terms {
            for t in &contract.terms {
                items.push(&t.name.name, lsp::CompletionItemKind::CONSTANT, "term");
            }
        }
        if wanted.values {
            for p in &contract.parties {
                items.push(&p.name, lsp::CompletionItemKind::STRUCT, "party");
            }
            for e in &contract.events {
                items.push(
                    &e.name.name,
                    lsp::CompletionItemKind::EVENT,
                    "event: `name.field` reads its latest",
                );
            }
            for (name, _) in Func::ALL {
                items.push(name, lsp::CompletionItemKind::FUNCTION, "function");
            }
            items.push("round", lsp::CompletionItemKind::FUNCTION, "function");
            items.push(
                "now",
                lsp::CompletionItemKind::VARIABLE,
                "the moment being judged",
            );
            for word in ["count", "sum", "if", "not", "true", "false"] {
                items.keyword(word);
            }
        }
        Some(lsp::CompletionResponse::Array(items.0))
    }
}

#[derive(Default)]
struct Items(Vec<lsp::CompletionItem>);

impl Items {
    fn push(&mut self, label: &str, kind: lsp::CompletionItemKind, detail: &str) {
        if self.0.iter().any(|i| i.label == label) {
            return;
        }
        self.0.push(lsp::CompletionItem {
            label: label.to_string(),
            kind: Some(kind),
            detail: (!detail.is_empty()).then(|| detail.to_string()),
            ..Default::default()
        });
    }

    fn keyword(&mut self, phrase: &str) {
        let first = phrase.split(' ').next().unwrap_or(phrase);
        let meaning = words::meaning(first).unwrap_or("");
        self.push(phrase, lsp::CompletionItemKind::KEYWORD, meaning);
    }

    fn fields(&mut self, event: &ast::EventDecl) {
        for f in &event.fields {
            let detail = format!("{}, a field of `{}`", f.ty.name, event.name.name);
            self.push(&f.name.name, lsp::CompletionItemKind::FIELD, &detail);
        }
    }

    /// What one rule the parser wanted adds: its words, or a kind of name.
    fn rule(&mut self, rule: Rule, wanted: &mut Wanted, before: &str) {
        use Rule::*;
        let phrase = match rule {
            header => "deal",
            parties => "parties",
            in_force => "in force",
            terms => "terms",
            events => "events",
            clause => "clause",
            suspended_on => "suspended on",
            resumed_on => "resumed on",
            ended_on => "ended on",
            trigger_prefix => "after each",
            time_prefix | time_trigger => {
                self.keyword("on");
                self.keyword("every");
                "at the end of each"
            }
            time_event | period_edge => {
                self.keyword("every");
                "the end of each"
            }
            prohibition => "not",
            power => "the power to",
            first_refusal => "a right of first refusal over",
            exclusive => "is the exclusive",
            payee => "to",
            within_after | window | within_last => "within",
            by_date => "by",
            deadline => {
                self.keyword("within");
                "by"
            }
            activation => "from",
            exception => "unless preceded by",
            same_key => "with the same",
            schedule => "due",
            pay_amount => "pay",
            due_by => "by",
            settled_by => "settled by",
            growing => "growing until",
            open_term => "open",
            table => "table",
            tiered => "tiered",
            otherwise => "otherwise",
            row_above => "above",
            row_from => "from",
            row_upto => "up to",
            row_below => "below",
            optional => "optional",
            refusal_where => "where",
            offered_by => "offered by",
            accepted_by => "accepted by",
            declined_by => "declined by",
            matched_on => "matched on",
            open_for => "open for",
            only_if => "only if",
            alternative => "or where",
            since => "since",
            if_expr => "if",
            aggregate => {
                self.keyword("count");
                "sum"
            }
            boolean => {
                self.keyword("true");
                "false"
            }
            op_and => "and",
            op_or => "or",
            op_is => "is",
            op_is_not => "is not",
            op_of => "of",
            op_not => "not",
            kw_in => "in force",
            kw_suspended => "suspended on",
            kw_resumed => "resumed on",
            kw_ended => "ended on",
            kw_with => "with the same",
            kw_preceded => "preceded by",
            norm => {
                wanted.parties = true;
                "after each"
            }
            event_ref | event_match | action => {
                wanted.events = true;
                return;
            }
            expr | operand_name | path_or_call | paren => {
                wanted.values = true;
                return;
            }
            ident => {
                name_after(last_word(before), wanted);
                return;
            }
            name => {
                wanted.fields = true;
                return;
            }
            other => match words::of_rule(other) {
                Some(word) => {
                    self.keyword(&word);
                    return;
                }
                None => return,
            },
        };
        self.keyword(phrase);
    }
}

/// The kind of name that follows a word.
fn name_after(word: &str, wanted: &mut Wanted) {
    match word {
        "owes" | "to" | "by" => wanted.parties = true,
        "of" => {
            wanted.events = true;
            wanted.parties = true;
            wanted.clauses = true;
        }
        "must" | "not" | "may" | "or" | "each" | "on" | "until" | "over" | "unless" | "after" | "since" => {
            wanted.events = true;
        }
        // A new name, or a party at the head of a norm.
        _ if word.is_empty() => {}
        _ => {}
    }
}

/// The last word of a text, without the spaces after it.
fn last_word(text: &str) -> &str {
    let text = text.trim_end();
    let start = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
        .last()
        .map_or(text.len(), |(i, _)| i);
    text.get(start..).unwrap_or("")
}

/// The event whose fields the cursor's norm can read by bare name: the one
/// just matched (`E where …`), else the one it follows (`for each E`), read
/// off the norm's text up to the cursor.
fn in_scope(before: &str) -> Option<&str> {
    let norm = current_norm(before);
    let words: Vec<&str> = norm
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    let last = |word: &str| words.iter().rposition(|w| *w == word);
    match (last("where"), last("each")) {
        (Some(w), each) if each.is_none_or(|e| e < w) => w.checked_sub(1).and_then(|i| words.get(i)).copied(),
        (_, Some(e)) => words.get(e + 1).copied(),
        _ => None,
    }
}

/// The text of the norm, or clause item, being written: from the last line
/// that starts one.
fn current_norm(before: &str) -> &str {
    let mut start = before.len();
    let mut rest = before;
    while let Some(i) = rest.rfind('\n') {
        let line = rest.get(i + 1..).unwrap_or("");
        start = i + 1;
        let indented = line.starts_with(' ') || line.starts_with('\t');
        let words: Vec<&str> = line.split_whitespace().take(2).collect();
        let opens = match words.as_slice() {
            ["after", "each", ..] | ["in", "force", ..] | ["clause", ..] => true,
            [_, second, ..] => ["must", "may", "has", "owes", "is"].contains(second),
            _ => false,
        };
        rest = rest.get(..i).unwrap_or("");
        // `after each E,` on a line of its own belongs to the norm below it.
        let follows_trigger = rest.trim_end().ends_with(',');
        if (opens && !follows_trigger) || !indented {
            break;
        }
    }
    before.get(start..).unwrap_or(before)
}

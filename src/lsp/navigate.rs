//! Finding every use of a name, and renaming it everywhere at once.

use std::collections::HashMap;

use lsp_types as lsp;

use super::index::{self, Occurrence, Symbol};
use super::text::{offset, range};
use super::Server;
use crate::diag::source::SourceFile;
use crate::driver::{self, LoadError};
use crate::model::Func;

impl Server {
    /// The symbol under the cursor, and every occurrence of the contract's.
    pub(super) fn symbol_at(
        &self,
        uri: &lsp::Uri,
        at: lsp::Position,
    ) -> Option<(&str, Symbol, Vec<Occurrence>)> {
        let (text, contract) = self.contract(uri)?;
        let all = index::index(&contract);
        let symbol = index::at(&all, offset(text, at)).first()?.symbol.clone();
        Some((text, symbol, all))
    }

    pub(super) fn references(
        &self,
        uri: &lsp::Uri,
        at: lsp::Position,
        with_declaration: bool,
    ) -> Option<Vec<lsp::Location>> {
        let (text, symbol, all) = self.symbol_at(uri, at)?;
        Some(
            all.iter()
                .filter(|o| o.symbol == symbol && (with_declaration || !o.declaration))
                .map(|o| lsp::Location {
                    uri: uri.clone(),
                    range: range(text, o.start, o.end),
                })
                .collect(),
        )
    }

    pub(super) fn prepare_rename(
        &self,
        uri: &lsp::Uri,
        at: lsp::Position,
    ) -> Result<Option<lsp::PrepareRenameResponse>, String> {
        let Some((text, contract)) = self.contract(uri) else {
            return Ok(None);
        };
        let all = index::index(&contract);
        let Some(here) = index::at(&all, offset(text, at)).first().copied().cloned() else {
            return Ok(None);
        };
        renamable(&here.symbol)?;
        Ok(Some(lsp::PrepareRenameResponse::RangeWithPlaceholder {
            range: range(text, here.start, here.end),
            placeholder: here.symbol.name().to_string(),
        }))
    }

    /// Renames the symbol under the cursor: its declaration and every use.
    /// A name that would not parse, that the language keeps, or that would
    /// change what another name means is refused, and nothing is changed.
    pub(super) fn rename(
        &self,
        uri: &lsp::Uri,
        at: lsp::Position,
        to: &str,
    ) -> Result<Option<lsp::WorkspaceEdit>, String> {
        let Some((text, symbol, all)) = self.symbol_at(uri, at) else {
            return Err("there is no party, term, event or clause here to rename".to_string());
        };
        renamable(&symbol)?;
        let from = symbol.name();
        if to == from {
            return Ok(Some(lsp::WorkspaceEdit::default()));
        }
        refuse_name(to, &all)?;
        let mut spans: Vec<(usize, usize)> = all
            .iter()
            .filter(|o| o.symbol == symbol)
            .map(|o| (o.start, o.end))
            .collect();
        spans.dedup();
        let renamed = apply(text, &spans, to);
        same_meaning(text, &renamed, &symbol, to, &all)?;
        let edits = spans
            .iter()
            .map(|(s, e)| lsp::TextEdit {
                range: range(text, *s, *e),
                new_text: to.to_string(),
            })
            .collect();
        Ok(Some(lsp::WorkspaceEdit {
            changes: Some(HashMap::from([(uri.clone(), edits)])),
            ..Default::default()
        }))
    }
}

fn renamable(symbol: &Symbol) -> Result<(), String> {
    match symbol {
        Symbol::Field(event, field) => Err(format!(
            "`{field}` is a field of `{event}`: the events given to `deal run` name it too, so it is renamed by hand"
        )),
        _ => Ok(()),
    }
}

/// Names the rename cannot give, with the reason in words.
fn refuse_name(to: &str, all: &[Occurrence]) -> Result<(), String> {
    if !crate::syntax::is_name(to) {
        return Err(format!(
            "`{to}` is not a name: names are letters, digits and `_`, starting with a letter or `_`"
        ));
    }
    if crate::syntax::words().any(|w| w == to) {
        return Err(format!(
            "`{to}` is a word of the language and cannot be a name; choose another, e.g. `{to}_1`"
        ));
    }
    let builtin = ["now", "at", "elapsed", "outstanding", "event", "id", "round"];
    if builtin.contains(&to) || Func::ALL.iter().any(|(n, _)| *n == to) {
        return Err(format!(
            "`{to}` already means something in every contract; choose another name"
        ));
    }
    if let Some(o) = all.iter().find(|o| o.declaration && o.symbol.name() == to) {
        let what = match &o.symbol {
            Symbol::Party(_) => "a party".to_string(),
            Symbol::Term(_) => "a term".to_string(),
            Symbol::Event(_) => "an event".to_string(),
            Symbol::Clause(_) => "a clause".to_string(),
            Symbol::Field(e, _) => format!("a field of `{e}`"),
        };
        return Err(format!(
            "`{to}` already names {what}; choose a name not yet in use"
        ));
    }
    Ok(())
}

/// The text with each span replaced by `to`; spans in order, apart.
fn apply(text: &str, spans: &[(usize, usize)], to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (s, e) in spans {
        out.push_str(text.get(last..*s).unwrap_or(""));
        out.push_str(to);
        last = *e;
    }
    out.push_str(text.get(last..).unwrap_or(""));
    out
}

/// The renamed contract must read as the old one did: every name resolved
/// to the same thing, and the same problems found by the checker.
fn same_meaning(
    old: &str,
    new: &str,
    symbol: &Symbol,
    to: &str,
    before: &[Occurrence],
) -> Result<(), String> {
    let changed = || {
        format!(
            "renaming `{}` to `{to}` would change how the contract reads; choose another name",
            symbol.name()
        )
    };
    let contract = crate::syntax::parse(new).map_err(|_| changed())?;
    let after = index::index(&contract);
    let expect = before.iter().map(|o| match (&o.symbol, symbol) {
        (s, _) if s == symbol => symbol.renamed(to),
        // An event's fields are known by the event's name.
        (Symbol::Field(e, f), Symbol::Event(old)) if e == old => Symbol::Field(to.to_string(), f.clone()),
        (s, _) => s.clone(),
    });
    if !expect.eq(after.iter().map(|o| o.symbol.clone())) {
        return Err(changed());
    }
    if codes(old) != codes(new) {
        return Err(changed());
    }
    Ok(())
}

/// The codes of the problems the checker finds, in order.
fn codes(text: &str) -> Vec<String> {
    let source = SourceFile::new("", text);
    let mut out = Vec::new();
    match driver::load(&source) {
        Ok(loaded) => loaded.warnings.iter().for_each(|w| code(w, &mut out)),
        Err(LoadError::Syntax(e)) => code(e.as_ref(), &mut out),
        Err(LoadError::Check(es)) => es.iter().for_each(|e| code(e, &mut out)),
    }
    out
}

fn code(d: &dyn miette::Diagnostic, out: &mut Vec<String>) {
    out.push(d.code().map(|c| c.to_string()).unwrap_or_default());
    if let Some(related) = d.related() {
        related.for_each(|r| code(r, out));
    }
}

//! The outline of a contract: its parties, terms, events with their fields,
//! and clauses with their norms, each norm named in words.

use std::collections::HashMap;

use lsp_types as lsp;

use super::text::range;
use super::Server;
use crate::diag::source::SourceFile;
use crate::driver;
use crate::syntax::ast;

impl Server {
    pub(super) fn outline(&self, uri: &lsp::Uri) -> Option<lsp::DocumentSymbolResponse> {
        let (text, contract) = self.contract(uri)?;
        let said = summaries(text);
        let mut out = Vec::new();
        for p in &contract.parties {
            out.push(symbol(
                text,
                &p.name,
                "party",
                lsp::SymbolKind::OBJECT,
                p.span,
                p.span,
                None,
            ));
        }
        for t in &contract.terms {
            let (kind, detail) = match &t.value {
                ast::TermValue::Open { ty } => (lsp::SymbolKind::VARIABLE, format!("open {}", ty.name)),
                ast::TermValue::Table(_) => (lsp::SymbolKind::CONSTANT, "table".to_string()),
                ast::TermValue::Expr(e) => (lsp::SymbolKind::CONSTANT, condensed(text, e.span)),
            };
            out.push(symbol(
                text,
                &t.name.name,
                &detail,
                kind,
                t.span,
                t.name.span,
                None,
            ));
        }
        for e in &contract.events {
            let fields = e
                .fields
                .iter()
                .map(|f| {
                    let ty = if f.optional {
                        format!("optional {}", f.ty.name)
                    } else {
                        f.ty.name.clone()
                    };
                    symbol(
                        text,
                        &f.name.name,
                        &ty,
                        lsp::SymbolKind::FIELD,
                        f.span,
                        f.name.span,
                        None,
                    )
                })
                .collect();
            let kind = lsp::SymbolKind::EVENT;
            out.push(symbol(
                text,
                &e.name.name,
                "event",
                kind,
                e.span,
                e.name.span,
                Some(fields),
            ));
        }
        for c in &contract.clauses {
            let norms = c
                .norms
                .iter()
                .map(|n| {
                    let name = summary(&said, text, n);
                    let kind = lsp::SymbolKind::FUNCTION;
                    symbol(text, &name, norm_kind(&n.body), kind, n.span, n.bearer.span, None)
                })
                .collect();
            let kind = lsp::SymbolKind::MODULE;
            out.push(symbol(
                text,
                &c.name.name,
                "clause",
                kind,
                c.span,
                c.name.span,
                Some(norms),
            ));
        }
        Some(lsp::DocumentSymbolResponse::Nested(out))
    }
}

#[allow(deprecated, reason = "the protocol's `deprecated` field must still be given")]
fn symbol(
    text: &str,
    name: &str,
    detail: &str,
    kind: lsp::SymbolKind,
    whole: ast::Span,
    selection: ast::Span,
    children: Option<Vec<lsp::DocumentSymbol>>,
) -> lsp::DocumentSymbol {
    lsp::DocumentSymbol {
        name: name.to_string(),
        detail: (!detail.is_empty()).then(|| detail.to_string()),
        kind,
        tags: None,
        deprecated: None,
        range: range(text, whole.start, whole.end),
        selection_range: range(text, selection.start, selection.end),
        children,
    }
}

fn norm_kind(body: &ast::NormBody) -> &'static str {
    match body {
        ast::NormBody::Obligation { .. } => "obligation",
        ast::NormBody::Prohibition { .. } => "prohibition",
        ast::NormBody::Permission { .. } => "permission",
        ast::NormBody::Power { .. } => "power",
        ast::NormBody::Exclusive(_) => "exclusivity",
        ast::NormBody::FirstRefusal(_) => "right of first refusal",
        ast::NormBody::Owes(_) => "payment owed",
    }
}

/// What the checker says each norm means, by where the norm is written;
/// empty when the contract does not check.
fn summaries(text: &str) -> HashMap<(usize, usize), Vec<String>> {
    let mut out: HashMap<(usize, usize), Vec<String>> = HashMap::new();
    if let Ok(loaded) = driver::load(&SourceFile::new("", text)) {
        for n in loaded.program.norms.values() {
            let said = out.entry((n.span.start, n.span.end)).or_default();
            if !said.contains(&n.summary) {
                said.push(n.summary.clone());
            }
        }
    }
    out
}

/// A norm in words: as the checker says it, or else as it is written.
fn summary(said: &HashMap<(usize, usize), Vec<String>>, text: &str, n: &ast::Norm) -> String {
    match said.get(&(n.span.start, n.span.end)) {
        Some(s) if !s.is_empty() => s.join("; "),
        _ => condensed(text, n.span),
    }
}

/// The norms of a clause in words, in the order written.
pub(super) fn norm_summaries(text: &str, clause: &ast::Clause) -> Vec<String> {
    let said = summaries(text);
    clause.norms.iter().map(|n| summary(&said, text, n)).collect()
}

/// Written text on one line, comments left out.
fn condensed(text: &str, span: ast::Span) -> String {
    let body = text.get(span.start..span.end).unwrap_or("");
    let words: Vec<&str> = body
        .lines()
        .map(|l| l.split('#').next().unwrap_or(""))
        .flat_map(str::split_whitespace)
        .collect();
    words.join(" ")
}

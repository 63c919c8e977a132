//! `deal lsp`: a language server over standard input and output, for
//! editors. Contracts get their diagnostics as they are typed; hover on a
//! name (what it is, as declared; for a clause, its norms in words; for a
//! field, its type and event) and on a word of the language; the way to
//! where a name is declared, and to every use of it; rename; an outline;
//! completion from what the grammar accepts at the cursor; and `deal fmt`
//! as the document's formatting. Test files get their syntax checked as
//! they are typed, and their scenarios run when they are opened and saved.

mod complete;
mod index;
mod navigate;
mod outline;
mod text;
mod words;

use std::collections::HashMap;

use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use lsp_types as lsp;
use miette::Diagnostic;
use serde_json::Value;

use crate::diag::source::SourceFile;
use crate::driver::{self, LoadError};
use crate::syntax::{self, ast};
use index::Symbol;
use text::{offset, range};

/// Serves one editor on standard input and output until it says `exit`.
pub fn serve_stdio() -> Result<(), String> {
    let (connection, threads) = Connection::stdio();
    let result = serve(&connection);
    drop(connection);
    threads.join().map_err(|e| e.to_string())?;
    result
}

fn capabilities() -> lsp::ServerCapabilities {
    lsp::ServerCapabilities {
        text_document_sync: Some(lsp::TextDocumentSyncCapability::Options(
            lsp::TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(lsp::TextDocumentSyncKind::FULL),
                save: Some(lsp::TextDocumentSyncSaveOptions::Supported(true)),
                ..Default::default()
            },
        )),
        hover_provider: Some(lsp::HoverProviderCapability::Simple(true)),
        definition_provider: Some(lsp::OneOf::Left(true)),
        document_formatting_provider: Some(lsp::OneOf::Left(true)),
        references_provider: Some(lsp::OneOf::Left(true)),
        rename_provider: Some(lsp::OneOf::Right(lsp::RenameOptions {
            prepare_provider: Some(true),
            work_done_progress_options: lsp::WorkDoneProgressOptions::default(),
        })),
        document_symbol_provider: Some(lsp::OneOf::Left(true)),
        completion_provider: Some(lsp::CompletionOptions {
            trigger_characters: Some(vec![".".to_string(), " ".to_string()]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Serves one editor on a connection.
pub fn serve(connection: &Connection) -> Result<(), String> {
    let caps = serde_json::to_value(capabilities()).map_err(|e| e.to_string())?;
    connection.initialize(caps).map_err(|e| e.to_string())?;
    let mut server = Server::default();
    for msg in &connection.receiver {
        match msg {
            Message::Request(req) => {
                if connection.handle_shutdown(&req).map_err(|e| e.to_string())? {
                    return Ok(());
                }
                let response = server.request(req);
                connection
                    .sender
                    .send(Message::Response(response))
                    .map_err(|e| e.to_string())?;
            }
            Message::Notification(n) => {
                for out in server.notification(&n) {
                    connection
                        .sender
                        .send(Message::Notification(out))
                        .map_err(|e| e.to_string())?;
                }
            }
            Message::Response(_) => {}
        }
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Contract,
    Test,
}

struct Document {
    kind: Kind,
    text: String,
}

/// What the server holds: the open documents, as the editor last sent them.
#[derive(Default)]
pub struct Server {
    docs: HashMap<lsp::Uri, Document>,
    /// Each contract as it last parsed, for completing names while the
    /// text around the cursor does not.
    parsed: HashMap<lsp::Uri, ast::Contract>,
}

fn params<T: serde::de::DeserializeOwned>(value: Value) -> Option<T> {
    serde_json::from_value(value).ok()
}

impl Server {
    /// Answers a request; an unknown method is answered as the protocol says.
    pub fn request(&mut self, req: Request) -> Response {
        let Request {
            id,
            method,
            params: p,
        } = req;
        let result = match method.as_str() {
            "textDocument/hover" => params::<lsp::HoverParams>(p).map(|h| {
                let pos = h.text_document_position_params;
                answer(self.hover(&pos.text_document.uri, pos.position))
            }),
            "textDocument/definition" => params::<lsp::GotoDefinitionParams>(p).map(|d| {
                let pos = d.text_document_position_params;
                answer(self.definition(&pos.text_document.uri, pos.position))
            }),
            "textDocument/references" => params::<lsp::ReferenceParams>(p).map(|r| {
                let pos = r.text_document_position;
                let with_declaration = r.context.include_declaration;
                answer(self.references(&pos.text_document.uri, pos.position, with_declaration))
            }),
            "textDocument/prepareRename" => params::<lsp::TextDocumentPositionParams>(p).map(|pos| {
                self.prepare_rename(&pos.text_document.uri, pos.position)
                    .and_then(answer)
            }),
            "textDocument/rename" => params::<lsp::RenameParams>(p).map(|r| {
                let pos = r.text_document_position;
                self.rename(&pos.text_document.uri, pos.position, &r.new_name)
                    .and_then(answer)
            }),
            "textDocument/documentSymbol" => {
                params::<lsp::DocumentSymbolParams>(p).map(|d| answer(self.outline(&d.text_document.uri)))
            }
            "textDocument/completion" => params::<lsp::CompletionParams>(p).map(|c| {
                let pos = c.text_document_position;
                answer(self.complete(&pos.text_document.uri, pos.position))
            }),
            "textDocument/formatting" => {
                params::<lsp::DocumentFormattingParams>(p).map(|f| answer(self.format(&f.text_document.uri)))
            }
            _ => return not_found(id, &method),
        };
        match result {
            Some(Ok(value)) => Response::new_ok(id, value),
            Some(Err(message)) => Response::new_err(id, lsp_server::ErrorCode::RequestFailed as i32, message),
            None => Response::new_err(
                id,
                lsp_server::ErrorCode::InvalidParams as i32,
                format!("the parameters of `{method}` could not be read"),
            ),
        }
    }

    /// Takes in a notification; gives back what to tell the editor.
    pub fn notification(&mut self, n: &Notification) -> Vec<Notification> {
        let p = n.params.clone();
        match n.method.as_str() {
            "textDocument/didOpen" => {
                let Some(open) = params::<lsp::DidOpenTextDocumentParams>(p) else {
                    return Vec::new();
                };
                let doc = open.text_document;
                let kind = if doc.language_id == "deal-test" || doc.uri.path().as_str().ends_with(".test") {
                    Kind::Test
                } else {
                    Kind::Contract
                };
                self.docs
                    .insert(doc.uri.clone(), Document { kind, text: doc.text });
                self.publish(&doc.uri, true)
            }
            "textDocument/didChange" => {
                let Some(change) = params::<lsp::DidChangeTextDocumentParams>(p) else {
                    return Vec::new();
                };
                let uri = change.text_document.uri;
                // The server asks for whole documents: the last change is the text.
                if let (Some(doc), Some(last)) =
                    (self.docs.get_mut(&uri), change.content_changes.into_iter().last())
                {
                    doc.text = last.text;
                }
                self.publish(&uri, false)
            }
            "textDocument/didSave" => {
                let Some(save) = params::<lsp::DidSaveTextDocumentParams>(p) else {
                    return Vec::new();
                };
                self.publish(&save.text_document.uri, true)
            }
            "textDocument/didClose" => {
                let Some(close) = params::<lsp::DidCloseTextDocumentParams>(p) else {
                    return Vec::new();
                };
                let uri = close.text_document.uri;
                self.docs.remove(&uri);
                self.parsed.remove(&uri);
                vec![publish(uri, Vec::new())]
            }
            _ => Vec::new(),
        }
    }

    /// The diagnostics of a document; with `run`, a test file's scenarios
    /// are run too (they read the saved files).
    fn publish(&mut self, uri: &lsp::Uri, run: bool) -> Vec<Notification> {
        let Some(doc) = self.docs.get(uri) else {
            return Vec::new();
        };
        if doc.kind == Kind::Contract {
            if let Ok(contract) = syntax::parse(&doc.text) {
                self.parsed.insert(uri.clone(), contract);
            }
        }
        let name = file_name(uri);
        let source = SourceFile::new(name.as_str(), doc.text.as_str());
        let mut out = Vec::new();
        match doc.kind {
            Kind::Contract => match driver::load(&source) {
                Ok(loaded) => {
                    for w in &loaded.warnings {
                        push(&mut out, uri, &doc.text, w);
                    }
                }
                Err(LoadError::Syntax(e)) => push(&mut out, uri, &doc.text, e.as_ref()),
                Err(LoadError::Check(es)) => {
                    for e in &es {
                        push(&mut out, uri, &doc.text, e);
                    }
                }
            },
            Kind::Test => match crate::testing::parse(&source) {
                Err(e) => push(&mut out, uri, &doc.text, e.as_ref()),
                Ok(_) if run => self.run_tests(uri, &doc.text, &mut out),
                Ok(_) => {}
            },
        }
        vec![publish(uri.clone(), out)]
    }

    /// Runs a saved test file, keeping the problems found in it.
    fn run_tests(&self, uri: &lsp::Uri, text: &str, out: &mut Vec<lsp::Diagnostic>) {
        let path = std::path::PathBuf::from(uri.path().as_str());
        if !path.is_file() || std::fs::read_to_string(&path).ok().as_deref() != Some(text) {
            return;
        }
        let report = crate::testing::run_file(&path, &crate::testing::Options::default());
        let problems = report
            .errors
            .iter()
            .chain(report.tests.iter().flat_map(|t| t.problems.iter()));
        let own = path.file_name().map(|n| n.to_string_lossy().into_owned());
        for p in problems {
            if source_name(p).is_some_and(|n| own.as_deref().is_some_and(|o| n.ends_with(o))) {
                push(out, uri, text, p);
            }
        }
    }

    fn contract(&self, uri: &lsp::Uri) -> Option<(&str, ast::Contract)> {
        let doc = self.docs.get(uri).filter(|d| d.kind == Kind::Contract)?;
        let contract = syntax::parse(&doc.text).ok()?;
        Some((&doc.text, contract))
    }

    fn hover(&self, uri: &lsp::Uri, at: lsp::Position) -> Option<lsp::Hover> {
        let (text, contract) = self.contract(uri)?;
        let all = index::index(&contract);
        let here = offset(text, at);
        let Some(found) = index::at(&all, here).first().copied().cloned() else {
            let (word, span) = words::keyword_at(text, here)?;
            let meaning = words::meaning(word)?;
            return Some(markdown(format!("**`{word}`**: {meaning}"), text, span));
        };
        let word = found.symbol.name();
        let mut value = String::new();
        match found.symbol {
            Symbol::Field(ref event, ref field) => {
                let decl = contract.events.iter().find(|e| e.name.name == *event)?;
                let f = decl.fields.iter().find(|f| f.name.name == *field)?;
                let optional = if f.optional { ", optional" } else { "" };
                value.push_str(&format!(
                    "**field** `{field}`: {}{optional}, of the event `{event}`\n{}",
                    f.ty.name,
                    code(text, decl.span)
                ));
            }
            _ => match declared(&contract, word)? {
                Declared::Party => value.push_str(&format!("**party** `{word}`: one of the deal's parties")),
                Declared::Term(t) => {
                    let open = matches!(t.value, ast::TermValue::Open { .. });
                    value.push_str(if open {
                        "**open term**: agreed in principle, not yet fixed; `--set` fills it for a what-if run\n"
                    } else {
                        "**term**\n"
                    });
                    value.push_str(&code(text, t.span));
                }
                Declared::Event(e) => {
                    value.push_str("**event**\n");
                    value.push_str(&code(text, e.span));
                }
                Declared::Clause(c) => {
                    value.push_str(&format!("**clause** `{word}`"));
                    for summary in outline::norm_summaries(text, c) {
                        value.push_str(&format!("\n- {summary}"));
                    }
                }
            },
        }
        Some(markdown(value, text, (found.start, found.end)))
    }

    fn definition(&self, uri: &lsp::Uri, at: lsp::Position) -> Option<lsp::GotoDefinitionResponse> {
        let (text, symbol, all) = self.symbol_at(uri, at)?;
        let decl = all.iter().find(|o| o.declaration && o.symbol == symbol)?;
        Some(lsp::GotoDefinitionResponse::Scalar(lsp::Location {
            uri: uri.clone(),
            range: range(text, decl.start, decl.end),
        }))
    }

    fn format(&self, uri: &lsp::Uri) -> Option<Vec<lsp::TextEdit>> {
        let doc = self.docs.get(uri).filter(|d| d.kind == Kind::Contract)?;
        let formatted = crate::fmt::format(&doc.text).ok()?;
        if formatted == doc.text {
            return Some(Vec::new());
        }
        Some(vec![lsp::TextEdit {
            range: range(&doc.text, 0, doc.text.len()),
            new_text: formatted,
        }])
    }
}

/// An answer as the protocol's JSON; what cannot be said is `null`.
fn answer<T: serde::Serialize>(value: T) -> Result<Value, String> {
    serde_json::to_value(value).map_err(|e| e.to_string())
}

fn not_found(id: RequestId, method: &str) -> Response {
    Response::new_err(
        id,
        lsp_server::ErrorCode::MethodNotFound as i32,
        format!("`deal lsp` does not answer `{method}`"),
    )
}

fn publish(uri: lsp::Uri, diagnostics: Vec<lsp::Diagnostic>) -> Notification {
    let params = lsp::PublishDiagnosticsParams {
        uri,
        diagnostics,
        version: None,
    };
    Notification::new("textDocument/publishDiagnostics".to_string(), params)
}

fn file_name(uri: &lsp::Uri) -> String {
    let path = uri.path().as_str();
    path.rsplit('/').next().unwrap_or(path).to_string()
}

/// The name of the text a diagnostic points into, if it holds one.
fn source_name(d: &dyn Diagnostic) -> Option<String> {
    let src = d.source_code()?;
    let label = d.labels()?.next()?;
    let contents = src.read_span(label.inner(), 0, 0).ok()?;
    contents.name().map(str::to_string)
}

fn markdown(value: String, text: &str, span: (usize, usize)) -> lsp::Hover {
    lsp::Hover {
        contents: lsp::HoverContents::Markup(lsp::MarkupContent {
            kind: lsp::MarkupKind::Markdown,
            value,
        }),
        range: Some(range(text, span.0, span.1)),
    }
}

/// A declaration's text, as a fenced block.
fn code(text: &str, span: ast::Span) -> String {
    let body = text.get(span.start..span.end).unwrap_or("");
    format!("```deal\n{}\n```", body.trim_end())
}

enum Declared<'c> {
    Party,
    Term(&'c ast::TermDef),
    Event(&'c ast::EventDecl),
    Clause(&'c ast::Clause),
}

fn declared<'c>(contract: &'c ast::Contract, word: &str) -> Option<Declared<'c>> {
    if contract.parties.iter().any(|p| p.name == word) {
        return Some(Declared::Party);
    }
    if let Some(t) = contract.terms.iter().find(|t| t.name.name == word) {
        return Some(Declared::Term(t));
    }
    if let Some(e) = contract.events.iter().find(|e| e.name.name == word) {
        return Some(Declared::Event(e));
    }
    contract
        .clauses
        .iter()
        .find(|c| c.name.name == word)
        .map(Declared::Clause)
}

/// A diagnostic for the editor: its first label's range, its code, its
/// message with its help, its other labels as related places; the
/// diagnostics related to it follow as diagnostics of their own.
fn push(out: &mut Vec<lsp::Diagnostic>, uri: &lsp::Uri, text: &str, d: &dyn Diagnostic) {
    let labels: Vec<miette::LabeledSpan> = d.labels().map(|l| l.collect()).unwrap_or_default();
    let primary = labels.iter().position(|l| l.primary()).unwrap_or(0);
    let at = |l: &miette::LabeledSpan| range(text, l.offset(), l.offset() + l.len());
    let main = labels.get(primary);
    let mut message = d.to_string();
    if let Some(label) = main.and_then(|l| l.label()) {
        message.push_str(&format!(" ({label})"));
    }
    if let Some(help) = d.help() {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<lsp::DiagnosticRelatedInformation> = labels
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != primary)
        .map(|(_, l)| lsp::DiagnosticRelatedInformation {
            location: lsp::Location {
                uri: uri.clone(),
                range: at(l),
            },
            message: l.label().unwrap_or("here").to_string(),
        })
        .collect();
    let severity = match d.severity().unwrap_or(miette::Severity::Error) {
        miette::Severity::Error => lsp::DiagnosticSeverity::ERROR,
        miette::Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        miette::Severity::Advice => lsp::DiagnosticSeverity::HINT,
    };
    out.push(lsp::Diagnostic {
        range: main.map_or_else(|| range(text, 0, 0), at),
        severity: Some(severity),
        code: d.code().map(|c| lsp::NumberOrString::String(c.to_string())),
        source: Some("deal".to_string()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        ..Default::default()
    });
    if let Some(rel) = d.related() {
        for r in rel {
            push(out, uri, text, r);
        }
    }
}

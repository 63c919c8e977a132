//! `deal lsp` through the real binary, spoken to as an editor speaks to it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "a test fails by panicking"
)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use common::{root, REFERENCE};
use serde_json::{json, Value};

struct Editor {
    child: Child,
    stdin: ChildStdin,
    inbox: Receiver<Value>,
    next_id: i64,
}

impl Editor {
    fn start() -> Editor {
        let mut child = Command::new(env!("CARGO_BIN_EXE_deal"))
            .arg("lsp")
            .current_dir(root())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, inbox) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut len = 0usize;
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line).unwrap_or(0) == 0 {
                        return;
                    }
                    let line = line.trim_end();
                    if line.is_empty() {
                        break;
                    }
                    if let Some(n) = line.strip_prefix("Content-Length: ") {
                        len = n.parse().unwrap();
                    }
                }
                let mut body = vec![0; len];
                r.read_exact(&mut body).unwrap();
                if tx.send(serde_json::from_slice(&body).unwrap()).is_err() {
                    return;
                }
            }
        });
        let mut e = Editor {
            child,
            stdin,
            inbox,
            next_id: 0,
        };
        let init = e.request(
            "initialize",
            json!({"capabilities": {}, "processId": null, "rootUri": null}),
        );
        assert_eq!(init["capabilities"]["hoverProvider"], json!(true), "{init}");
        assert_eq!(
            init["capabilities"]["documentFormattingProvider"],
            json!(true),
            "{init}"
        );
        e.notify("initialized", json!({}));
        e
    }

    fn send(&mut self, msg: &Value) {
        let body = msg.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    fn receive(&mut self) -> Value {
        self.inbox
            .recv_timeout(Duration::from_secs(20))
            .expect("the server answers within 20 seconds")
    }

    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let msg = self.receive();
            if msg["id"] == json!(id) {
                return msg["result"].clone();
            }
        }
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        loop {
            let msg = self.receive();
            if msg["method"] == "textDocument/publishDiagnostics" && msg["params"]["uri"] == uri {
                return msg["params"]["diagnostics"].as_array().unwrap().clone();
            }
        }
    }

    fn open(&mut self, uri: &str, text: &str) -> Vec<Value> {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "deal", "version": 1, "text": text}}),
        );
        self.diagnostics(uri)
    }

    fn stop(mut self) -> i32 {
        let r = self.request("shutdown", Value::Null);
        assert_eq!(r, Value::Null);
        self.notify("exit", Value::Null);
        self.child.wait().unwrap().code().unwrap_or(-1)
    }
}

fn at(line: u32, character: u32, uri: &str) -> Value {
    json!({"textDocument": {"uri": uri}, "position": {"line": line, "character": character}})
}

fn uri(name: &str) -> String {
    format!("file:///deal-lsp-test/{name}")
}

#[test]
fn diagnostics_follow_the_text_as_it_is_typed() {
    let mut ed = Editor::start();
    let doc = uri("typed.deal");
    let good = "deal \"x\"\nparties A, B\nevents\n  ping\nclause c\n  A may ping\n";
    assert_eq!(ed.open(&doc, good), Vec::<Value>::new());

    let bad = good.replace("A may ping", "A may pong");
    ed.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": doc, "version": 2}, "contentChanges": [{"text": bad}]}),
    );
    let ds = ed.diagnostics(&doc);
    assert_eq!(ds.len(), 1, "{ds:?}");
    assert_eq!(ds[0]["code"], "deal::check::unknown_name");
    assert_eq!(ds[0]["severity"], 1);
    assert_eq!(ds[0]["range"]["start"], json!({"line": 5, "character": 8}));
    assert_eq!(ds[0]["range"]["end"], json!({"line": 5, "character": 12}));
    assert!(ds[0]["message"].as_str().unwrap().contains("help:"), "{ds:?}");

    let broken = "deal \"x\"\nparties\n";
    ed.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": doc, "version": 3}, "contentChanges": [{"text": broken}]}),
    );
    let ds = ed.diagnostics(&doc);
    assert_eq!(ds.len(), 1, "{ds:?}");
    assert!(
        ds[0]["code"].as_str().unwrap().starts_with("deal::parse::"),
        "{ds:?}"
    );

    ed.notify("textDocument/didClose", json!({"textDocument": {"uri": doc}}));
    assert_eq!(ed.diagnostics(&doc), Vec::<Value>::new());
    assert_eq!(ed.stop(), 0);
}

#[test]
fn hover_and_definition_say_what_a_name_is_and_where() {
    let text = std::fs::read_to_string(root().join(REFERENCE)).unwrap();
    let mut ed = Editor::start();
    let doc = uri("microsoft_openai.deal");
    let warnings = ed.open(&doc, &text);
    assert!(warnings.iter().all(|d| d["severity"] == 2), "{warnings:?}");
    assert!(!warnings.is_empty(), "the open term is warned about");

    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() as u32;
    // `revenue_rate` where the revenue share uses it.
    let use_line = line_of("OpenAI owes Microsoft revenue_rate");
    let hover = ed.request("textDocument/hover", at(use_line, 25, &doc));
    let shown = hover["contents"]["value"].as_str().unwrap();
    assert!(shown.contains("revenue_rate       = 25%"), "{shown}");

    let hover = ed.request("textDocument/hover", at(line_of("clause revenue_share"), 9, &doc));
    let shown = hover["contents"]["value"].as_str().unwrap();
    assert!(shown.starts_with("**clause** `revenue_share`"), "{shown}");
    assert!(shown.contains("\n- "), "the clause's norms in words: {shown}");

    let hover = ed.request("textDocument/hover", at(line_of("parties"), 9, &doc));
    assert!(
        hover["contents"]["value"].as_str().unwrap().contains("party"),
        "{hover}"
    );

    let def = ed.request("textDocument/definition", at(use_line, 25, &doc));
    assert_eq!(def["uri"], doc);
    assert_eq!(def["range"]["start"]["line"], line_of("revenue_rate       ="));
    assert_eq!(def["range"]["start"]["character"], 2);

    // A comment's words and the keywords name nothing.
    assert_eq!(ed.request("textDocument/hover", at(0, 10, &doc)), Value::Null);
    assert_eq!(ed.stop(), 0);
}

#[test]
fn formatting_is_deal_fmt() {
    let text = std::fs::read_to_string(root().join("tests/fixtures/fmt/unformatted.deal")).unwrap();
    let mut ed = Editor::start();
    let doc = uri("unformatted.deal");
    ed.open(&doc, &text);
    let edits = ed.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": doc}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    let edits = edits.as_array().unwrap();
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0]["range"]["start"], json!({"line": 0, "character": 0}));
    assert_eq!(
        edits[0]["newText"].as_str().unwrap(),
        deal::fmt::format(&text).unwrap()
    );

    let formatted = deal::fmt::format(&text).unwrap();
    ed.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": doc, "version": 2}, "contentChanges": [{"text": formatted}]}),
    );
    ed.diagnostics(&doc);
    let edits = ed.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": doc}, "options": {"tabSize": 2, "insertSpaces": true}}),
    );
    assert_eq!(edits, json!([]));
    assert_eq!(ed.stop(), 0);
}

#[test]
fn a_test_file_is_checked_as_typed_and_run_when_opened() {
    let mut ed = Editor::start();
    let dir = tempfile::tempdir().unwrap();
    let contract = std::fs::read_to_string(root().join("contracts/saas.deal")).unwrap();
    std::fs::write(dir.path().join("saas.deal"), contract).unwrap();
    let test = "scenario \"nothing happens\"\n  events\n  expect as of 2025-02-01\n    exit 1\n";
    let path = dir.path().join("saas.test");
    std::fs::write(&path, test).unwrap();
    let doc = format!("file://{}", path.display());
    ed.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": doc, "languageId": "deal-test", "version": 1, "text": test}}),
    );
    let ds = ed.diagnostics(&doc);
    assert_eq!(ds.len(), 1, "{ds:?}");
    assert_eq!(ds[0]["code"], "deal::test::mismatch");
    assert_eq!(ds[0]["range"]["start"]["line"], 3);

    ed.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": doc, "version": 2}, "contentChanges": [{"text": "scenario\n"}]}),
    );
    let ds = ed.diagnostics(&doc);
    assert_eq!(ds.len(), 1, "{ds:?}");
    assert_eq!(ds[0]["code"], "deal::test::syntax");
    assert_eq!(ed.stop(), 0);
}

#[test]
fn an_unknown_request_is_refused_not_fatal() {
    let mut ed = Editor::start();
    ed.send(&json!({"jsonrpc": "2.0", "id": 99, "method": "textDocument/rename", "params": {}}));
    let msg = ed.receive();
    assert_eq!(msg["id"], 99);
    assert_eq!(msg["error"]["code"], -32601);
    assert_eq!(ed.stop(), 0);
}

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
        let caps = &init["capabilities"];
        assert_eq!(caps["documentFormattingProvider"], json!(true), "{init}");
        assert_eq!(caps["referencesProvider"], json!(true), "{init}");
        assert_eq!(caps["renameProvider"], json!({"prepareProvider": true}), "{init}");
        assert_eq!(caps["documentSymbolProvider"], json!(true), "{init}");
        assert!(caps["completionProvider"].is_object(), "{init}");
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
        let msg = self.call(method, params);
        assert!(msg.get("error").is_none(), "{msg}");
        msg["result"].clone()
    }

    /// The whole answer to a request: its result or its error.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let msg = self.receive();
            if msg["id"] == json!(id) {
                return msg;
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

    // A comment's words name nothing.
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
    ed.send(&json!({"jsonrpc": "2.0", "id": 99, "method": "textDocument/codeLens", "params": {}}));
    let msg = ed.receive();
    assert_eq!(msg["id"], 99);
    assert_eq!(msg["error"]["code"], -32601);
    assert_eq!(ed.stop(), 0);
}

const SUPPLY: &str = "tests/fixtures/lsp/supply.deal";

/// The (line, character) of the `n`th (from 0) `word` standing alone,
/// outside comments.
fn find(text: &str, word: &str, n: usize) -> (u32, u32) {
    let is_word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut seen = 0;
    for (line_no, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap();
        for (i, _) in line.match_indices(word) {
            let before = line[..i].chars().next_back();
            let after = line[i + word.len()..].chars().next();
            if before.is_some_and(is_word) || after.is_some_and(is_word) {
                continue;
            }
            if seen == n {
                return (line_no as u32, i as u32);
            }
            seen += 1;
        }
    }
    panic!("no {n}th `{word}`");
}

fn lines_of(locations: &Value) -> Vec<u64> {
    let mut out: Vec<u64> = locations
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    out.sort_unstable();
    out
}

fn references(ed: &mut Editor, doc: &str, (line, ch): (u32, u32), declaration: bool) -> Value {
    let mut p = at(line, ch, doc);
    p["context"] = json!({"includeDeclaration": declaration});
    ed.request("textDocument/references", p)
}

#[test]
fn references_are_every_use_of_a_name_and_only_of_it() {
    let text = std::fs::read_to_string(root().join(REFERENCE)).unwrap();
    let mut ed = Editor::start();
    let doc = uri("microsoft_openai.deal");
    ed.open(&doc, &text);
    let line = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() as u64;

    // An event, asked at its declaration.
    let decl = find(&text, "payment", 0);
    assert_eq!(decl.0 as u64, line("payment               (from"));
    let all = references(&mut ed, &doc, decl, true);
    let settled: Vec<u64> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "settled by payment")
        .map(|(i, _)| i as u64)
        .collect();
    let mut expected = vec![decl.0 as u64];
    expected.extend(&settled);
    assert_eq!(lines_of(&all), expected, "{all}");
    let uses = references(&mut ed, &doc, decl, false);
    assert_eq!(lines_of(&uses), settled, "{uses}");
    // The range is the name itself.
    assert_eq!(
        uses[0]["range"]["end"]["character"].as_u64().unwrap()
            - uses[0]["range"]["start"]["character"].as_u64().unwrap(),
        7
    );

    // A term, asked at a use.
    let term = references(&mut ed, &doc, find(&text, "offer_window", 1), true);
    assert_eq!(
        lines_of(&term),
        vec![line("offer_window       ="), line("open for offer_window")]
    );

    // A party: its declaration and every norm that names it.
    let party = references(&mut ed, &doc, find(&text, "OpenAI", 1), true);
    let naming = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#') && !l.starts_with("deal "))
        .filter(|l| {
            l.split(|c: char| !c.is_ascii_alphanumeric())
                .any(|w| w == "OpenAI")
        })
        .count();
    assert_eq!(party.as_array().unwrap().len(), naming, "{party}");

    // A clause is named only where it is declared.
    let clause = references(&mut ed, &doc, find(&text, "ip_reuse", 0), true);
    assert_eq!(lines_of(&clause), vec![line("clause ip_reuse")]);

    // A field: `ref` of `consent` where it is declared and where the
    // exclusivity ties it to the contract's `ref`; not other events' `ref`.
    let consent_ref = find(&text, "ref", 4);
    assert_eq!(consent_ref.0 as u64, line("consent               (ref"));
    let refs = references(&mut ed, &doc, consent_ref, true);
    assert_eq!(
        lines_of(&refs),
        vec![consent_ref.0 as u64, line("with the same ref")]
    );

    // Nothing is named in a comment or a keyword.
    assert_eq!(references(&mut ed, &doc, (0, 4), true), Value::Null);
    assert_eq!(
        references(&mut ed, &doc, find(&text, "settled", 0), true),
        Value::Null
    );
    assert_eq!(ed.stop(), 0);
}

/// Applies a workspace edit's changes to one document's text.
fn apply(text: &str, edit: &Value, doc: &str) -> String {
    let offset = |pos: &Value| {
        let (line, ch) = (
            pos["line"].as_u64().unwrap() as usize,
            pos["character"].as_u64().unwrap() as usize,
        );
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        start + ch
    };
    let mut edits: Vec<(usize, usize, String)> = edit["changes"][doc]
        .as_array()
        .unwrap_or_else(|| panic!("no edits: {edit}"))
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (s, e, new) in edits {
        out.replace_range(s..e, &new);
    }
    out
}

fn rename(ed: &mut Editor, doc: &str, (line, ch): (u32, u32), to: &str) -> Value {
    let mut p = at(line, ch, doc);
    p["newName"] = json!(to);
    ed.call("textDocument/rename", p)
}

fn rename_to(ed: &mut Editor, doc: &str, text: &str, at: (u32, u32), to: &str) -> String {
    let answer = rename(ed, doc, at, to);
    assert!(answer.get("error").is_none(), "{answer}");
    apply(text, &answer["result"], doc)
}

/// `deal check` on a contract, and its JSON report on `events`.
fn check_and_run(contract: &str, events: &str) -> (common::Output, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("renamed.deal");
    std::fs::write(&path, contract).unwrap();
    let path = path.to_str().unwrap();
    let check = common::deal(&["check", path], "");
    let out = common::deal(&["run", path, "--events", "-", "--format", "json"], events);
    // A breach is found: the run says so by its exit code.
    assert_eq!(out.code, 1, "{}", out.stderr);
    (check, out.stdout)
}

#[test]
fn rename_changes_every_use_and_keeps_the_meaning() {
    let text = std::fs::read_to_string(root().join(SUPPLY)).unwrap();
    let events = std::fs::read_to_string(root().join("tests/fixtures/lsp/supply.events.jsonl")).unwrap();
    let mut ed = Editor::start();
    let doc = uri("supply.deal");
    assert_eq!(ed.open(&doc, &text), Vec::<Value>::new());

    let prepared = ed.request(
        "textDocument/prepareRename",
        at(find(&text, "order", 1).0, find(&text, "order", 1).1 + 2, &doc),
    );
    assert_eq!(prepared["placeholder"], "order", "{prepared}");
    assert_eq!(prepared["range"]["start"]["character"], find(&text, "order", 1).1);

    // An event, renamed from one of its uses.
    let renamed = rename_to(&mut ed, &doc, &text, find(&text, "order", 2), "purchase");
    assert_eq!(renamed, text.replace("order", "purchase"));
    let (check, after) = check_and_run(&renamed, &events.replace("\"order\"", "\"purchase\""));
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert!(check.stdout.contains("0 errors, 0 warnings"), "{}", check.stdout);
    let (_, before) = check_and_run(&text, &events);
    assert_eq!(after, before.replace("order", "purchase"));

    // A term, and a party.
    let to = rename_to(&mut ed, &doc, &text, find(&text, "limit", 0), "max_qty");
    assert_eq!(to, text.replace("limit", "max_qty"));
    let to = rename_to(&mut ed, &doc, &text, find(&text, "Seller", 1), "Supplier");
    assert_eq!(to, text.replace("Seller", "Supplier"));

    // Refused, each with a reason, and nothing changed.
    for (to, why) in [
        ("2nd", "is not a name"),
        ("pur-chase", "is not a name"),
        ("within", "word of the language"),
        ("settled", "word of the language"),
        ("delivery", "already names an event"),
        ("window", "already names a term"),
        ("qty", "already names a field"),
        ("now", "already means something"),
    ] {
        let answer = rename(&mut ed, &doc, find(&text, "order", 0), to);
        let message = answer["error"]["message"]
            .as_str()
            .unwrap_or_else(|| panic!("{to}: {answer}"));
        assert!(message.contains(why), "{to}: {message}");
    }
    // A field is renamed by hand: the events name it too.
    let answer = rename(&mut ed, &doc, find(&text, "qty", 1), "quantity");
    assert!(
        answer["error"]["message"].as_str().unwrap().contains("field"),
        "{answer}"
    );
    assert_eq!(ed.stop(), 0);
}

#[test]
fn the_outline_is_parties_terms_events_and_clauses_with_their_parts() {
    let text = std::fs::read_to_string(root().join(REFERENCE)).unwrap();
    let mut ed = Editor::start();
    let doc = uri("microsoft_openai.deal");
    ed.open(&doc, &text);
    let outline = ed.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": doc}}),
    );
    let symbols = outline.as_array().unwrap();
    let named = |name: &str| {
        symbols
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no `{name}` in {outline}"))
    };
    assert_eq!(named("OpenAI")["detail"], "party");
    assert_eq!(named("revenue_rate")["detail"], "25%");
    assert_eq!(named("future_profit_rate")["detail"], "open percent");

    let event = named("cloud_contract");
    assert_eq!(event["kind"], 24, "an event");
    let fields: Vec<&str> = event["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["provider", "ref", "price"]);
    assert_eq!(event["children"][2]["detail"], "optional money");

    let clause = named("revenue_share");
    let norms = clause["children"].as_array().unwrap();
    assert_eq!(norms.len(), 1);
    assert!(
        norms[0]["name"]
            .as_str()
            .unwrap()
            .starts_with("OpenAI must pay Microsoft"),
        "{clause}"
    );
    assert_eq!(norms[0]["detail"], "payment owed");
    // The whole clause, and its name to select.
    let line = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() as u64;
    assert_eq!(clause["range"]["start"]["line"], line("clause revenue_share"));
    assert_eq!(
        clause["range"]["end"]["line"].as_u64().unwrap(),
        line("clause revenue_share") + 3
    );
    assert_eq!(clause["selectionRange"]["start"]["character"], 7);
    assert_eq!(
        clause["selectionRange"]["end"]["character"],
        7 + "revenue_share".len()
    );
    for s in symbols.iter().chain(
        symbols
            .iter()
            .flat_map(|s| s["children"].as_array().into_iter().flatten()),
    ) {
        let (r, sel) = (&s["range"], &s["selectionRange"]);
        let key = |p: &Value| (p["line"].as_u64().unwrap(), p["character"].as_u64().unwrap());
        assert!(
            key(&r["start"]) <= key(&sel["start"]) && key(&sel["end"]) <= key(&r["end"]),
            "{s}"
        );
    }
    let kinds: Vec<&str> = symbols
        .iter()
        .map(|s| s["detail"].as_str().unwrap_or(""))
        .filter(|d| *d == "clause")
        .collect();
    assert_eq!(kinds.len(), 6);
    assert_eq!(ed.stop(), 0);
}

/// The labels offered at the end of `before`, in a document holding
/// `before` then `after`.
fn completions(ed: &mut Editor, before: &str, after: &str) -> Vec<String> {
    let doc = uri("completing.deal");
    let text = format!("{before}{after}");
    ed.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": doc, "version": 2}, "contentChanges": [{"text": text}]}),
    );
    ed.diagnostics(&doc);
    let line = before.matches('\n').count() as u32;
    let ch = before.rsplit('\n').next().unwrap().len() as u32;
    let answer = ed.request("textDocument/completion", at(line, ch, &doc));
    answer
        .as_array()
        .unwrap_or_else(|| panic!("no list: {answer}"))
        .iter()
        .map(|i| i["label"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn completion_offers_the_names_and_words_that_fit_the_cursor() {
    let text = std::fs::read_to_string(root().join(SUPPLY)).unwrap();
    let mut ed = Editor::start();
    let doc = uri("completing.deal");
    ed.open(&doc, &text);
    let has = |got: &[String], want: &[&str]| {
        for w in want {
            assert!(got.iter().any(|g| g == w), "`{w}` missing from {got:?}");
        }
    };
    let lacks = |got: &[String], unwanted: &[&str]| {
        for w in unwanted {
            assert!(!got.iter().any(|g| g == w), "`{w}` offered in {got:?}");
        }
    };

    // The start of a norm: a party, or the event it follows.
    let start = format!("{text}\nclause more\n  ");
    let got = completions(&mut ed, &start, "");
    has(
        &got,
        &[
            "Seller",
            "Buyer",
            "after each",
            "in force",
            "suspended on",
            "clause",
        ],
    );
    lacks(&got, &["order", "limit", "qty"]);

    // After a party: what it must, may or owes.
    let got = completions(&mut ed, &format!("{start}Seller "), "");
    has(&got, &["must", "may", "has", "owes"]);
    lacks(&got, &["Seller", "order"]);

    // After `must`, an act; after `owes`, a party; after `after each` and `on`, an event.
    let got = completions(&mut ed, &format!("{start}Seller must "), "");
    has(&got, &["order", "delivery", "not"]);
    lacks(&got, &["Buyer"]);
    let got = completions(&mut ed, &format!("{start}Seller owes "), "");
    has(&got, &["Buyer", "Seller"]);
    lacks(&got, &["order"]);
    let got = completions(&mut ed, &format!("{start}after each "), "");
    has(&got, &["order", "delivery"]);
    lacks(&got, &["Seller", "limit"]);
    let got = completions(&mut ed, &format!("{start}suspended on "), "");
    has(&got, &["order", "delivery"]);

    // In a condition: the matched event's fields, the terms, the functions.
    let got = completions(&mut ed, &format!("{start}after each order where "), "");
    has(&got, &["qty", "ref", "limit", "window", "min", "count"]);
    let got = completions(&mut ed, &format!("{start}after each order where qty > l"), "");
    has(&got, &["limit"]);
    // In the act's condition, the act's fields by bare name.
    let got = completions(
        &mut ed,
        &format!("{start}after each order where qty > 1,\n    Seller must delivery where "),
        "",
    );
    has(&got, &["ref", "limit"]);
    lacks(&got, &["qty"]);
    // The fields of the event that made the norm, by its name.
    let got = completions(
        &mut ed,
        &format!("{start}after each order,\n    Seller must delivery where ref == order."),
        "",
    );
    has(&got, &["qty", "ref"]);
    lacks(&got, &["limit"]);

    // After a complete act: how the norm may go on.
    let got = completions(&mut ed, &format!("{start}Seller must delivery "), "");
    has(&got, &["within", "by", "where", "to", "with the same"]);

    // Half a word is completed as if it were not there; the editor filters.
    let got = completions(&mut ed, &format!("{start}Sel"), "ler must delivery\n");
    has(&got, &["Seller", "Buyer"]);
    assert_eq!(ed.stop(), 0);
}

#[test]
fn hover_shows_a_fields_type_and_event_and_what_a_keyword_means() {
    let text = std::fs::read_to_string(root().join(SUPPLY)).unwrap();
    let mut ed = Editor::start();
    let doc = uri("supply.deal");
    ed.open(&doc, &text);
    let shown = |ed: &mut Editor, (line, ch): (u32, u32)| {
        let hover = ed.request("textDocument/hover", at(line, ch + 1, &doc));
        hover["contents"]["value"]
            .as_str()
            .unwrap_or_else(|| panic!("no hover: {hover}"))
            .to_string()
    };
    // `qty` in `after each order where qty > 1`.
    let qty = shown(&mut ed, find(&text, "qty", 1));
    assert!(
        qty.starts_with("**field** `qty`: decimal, of the event `order`"),
        "{qty}"
    );
    assert!(qty.contains("order    (qty: decimal, ref: text)"), "{qty}");
    let must = shown(&mut ed, find(&text, "must", 0));
    assert!(must.starts_with("**`must`**: an obligation"), "{must}");
    let within = shown(&mut ed, find(&text, "within", 0));
    assert!(within.contains("deadline"), "{within}");
    // The title's words are not keywords.
    assert_eq!(ed.request("textDocument/hover", at(0, 7, &doc)), Value::Null);
    assert_eq!(ed.stop(), 0);
}

#[test]
fn a_clause_is_referred_to_and_renamed_in_the_breach_of_it() {
    let text = std::fs::read_to_string(root().join("tests/fixtures/fmt/unformatted.deal")).unwrap();
    let mut ed = Editor::start();
    let doc = uri("breach.deal");
    ed.open(&doc, &text);
    let decl = find(&text, "supply", 0);
    let refs = references(&mut ed, &doc, decl, true);
    let refs = refs.as_array().unwrap();
    assert_eq!(refs.len(), 2, "{refs:?}");
    let (line, ch) = find(&text, "supply", 1);
    assert_eq!(refs[1]["range"]["start"], json!({"line": line, "character": ch}));
    assert_eq!(
        refs[1]["range"]["end"],
        json!({"line": line, "character": ch + 6})
    );
    let renamed = rename_to(&mut ed, &doc, &text, decl, "deliveries");
    assert_eq!(renamed, text.replace("supply", "deliveries"));
    assert_eq!(ed.stop(), 0);
}

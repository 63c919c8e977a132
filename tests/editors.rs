//! The editor grammars under `editors/` against the pest grammars they
//! highlight: the reserved words are the same words, and every keyword of
//! the language is highlighted somewhere.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "a test fails by panicking"
)]

mod common;

use std::collections::BTreeSet;

use common::root;

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The words between `\b(` and `)\b` in a TextMate pattern.
fn alternatives(pattern: &str) -> BTreeSet<String> {
    let inner = pattern
        .strip_prefix("\\b(")
        .and_then(|p| p.strip_suffix(")\\b"))
        .unwrap_or_else(|| panic!("not a word list: {pattern}"));
    inner.split('|').map(str::to_string).collect()
}

/// The quoted words of the pest rule `name = @{ ( "a" | "b" … ) … }`.
fn pest_words(grammar: &str, rule: &str) -> BTreeSet<String> {
    let start = grammar
        .find(&format!("\n{rule} "))
        .unwrap_or_else(|| panic!("no rule {rule}"));
    let body = &grammar[start..];
    let end = body.find("~ !ident_char").unwrap();
    body[..end]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

/// Every `kw_x = @{ "x" … }` of a pest grammar.
fn pest_keywords(grammar: &str) -> BTreeSet<String> {
    grammar
        .lines()
        .filter(|l| l.starts_with("kw_"))
        .filter_map(|l| l.split('"').nth(1).map(str::to_string))
        .collect()
}

fn tm(rel: &str) -> serde_json::Value {
    serde_json::from_str(&read(rel)).unwrap()
}

fn pattern(g: &serde_json::Value, key: &str) -> BTreeSet<String> {
    alternatives(g["repository"][key]["match"].as_str().unwrap())
}

#[test]
fn the_textmate_reserved_words_are_the_pest_grammars() {
    let pest = read("grammar/deal.pest");
    let g = tm("editors/vscode/syntaxes/deal.tmLanguage.json");
    let reserved = pest_words(&pest, "keyword");
    assert!(reserved.len() > 20, "{reserved:?}");
    assert_eq!(
        pattern(&g, "reserved"),
        reserved,
        "editors/ and grammar/deal.pest differ"
    );

    // Every other keyword is highlighted as a contextual one, and nothing
    // else is.
    let contextual: BTreeSet<String> = pest_keywords(&pest).difference(&reserved).cloned().collect();
    assert_eq!(pattern(&g, "contextual"), contextual);
}

#[test]
fn the_test_file_grammar_highlights_every_keyword_of_test_pest() {
    let pest = read("grammar/test.pest");
    let g = tm("editors/vscode/syntaxes/deal-test.tmLanguage.json");
    assert_eq!(pattern(&g, "keyword"), pest_keywords(&pest));
}

#[test]
fn the_vscode_extension_names_files_that_exist_and_starts_deal_lsp() {
    let manifest = tm("editors/vscode/package.json");
    for grammar in manifest["contributes"]["grammars"].as_array().unwrap() {
        let path = grammar["path"].as_str().unwrap().trim_start_matches("./");
        let g = tm(&format!("editors/vscode/{path}"));
        assert_eq!(g["scopeName"], grammar["scopeName"]);
    }
    let main = manifest["main"].as_str().unwrap().trim_start_matches("./");
    let js = read(&format!("editors/vscode/{main}"));
    assert!(js.contains("args: [\"lsp\"]"), "{js}");
    let langs: Vec<&str> = manifest["contributes"]["languages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|l| {
            l["extensions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap())
        })
        .collect();
    assert_eq!(langs, [".deal", ".test"]);
}

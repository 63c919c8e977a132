//! `deal fmt` through the real command line, and its laws: formatting keeps
//! every word and comment in order, formats its own output to itself, and
//! does not care how the author spaced the words of a line.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "a test fails by panicking"
)]

mod common;

use common::{deal, root};
use proptest::prelude::*;

const UNFORMATTED: &str = "tests/fixtures/fmt/unformatted.deal";

#[test]
fn a_contract_laid_out_by_hand_is_put_right() {
    let text = std::fs::read_to_string(root().join(UNFORMATTED)).unwrap();
    let out = deal(&["fmt", "-"], &text);
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("fmt_unformatted", out.stdout);
    let again = deal(&["fmt", "-"], &out.stdout);
    assert_eq!(again.stdout, out.stdout, "formatting is idempotent");
}

#[test]
fn the_contracts_in_the_repository_are_formatted() {
    let out = deal(&["fmt", "--check", "contracts"], "");
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.starts_with("checked the layout of ") && out.stdout.ends_with(": 0 not formatted\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn check_changes_nothing_and_fails_on_an_unformatted_contract() {
    let before = std::fs::read_to_string(root().join(UNFORMATTED)).unwrap();
    let out = deal(&["fmt", "--check", UNFORMATTED], "");
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("deal::fmt::unformatted"), "{}", out.stderr);
    assert!(out.stderr.contains("unformatted.deal:2:1"), "{}", out.stderr);
    assert_eq!(out.stdout, "checked the layout of 1 contract: 1 not formatted\n");
    assert_eq!(std::fs::read_to_string(root().join(UNFORMATTED)).unwrap(), before);
}

#[test]
fn a_folder_is_formatted_in_place_and_then_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("deals");
    std::fs::create_dir(&nested).unwrap();
    let file = nested.join("layout.deal");
    std::fs::copy(root().join(UNFORMATTED), &file).unwrap();
    std::fs::write(nested.join("notes.txt"), "not a contract").unwrap();
    let path = dir.path().to_str().unwrap();
    let first = deal(&["fmt", path], "");
    assert_eq!(first.code, 0, "{}", first.stderr);
    assert_eq!(first.stdout, "formatted 1 contract: 1 rewritten\n");
    let formatted = std::fs::read_to_string(&file).unwrap();
    let expected = deal(
        &["fmt", "-"],
        &std::fs::read_to_string(root().join(UNFORMATTED)).unwrap(),
    );
    assert_eq!(formatted, expected.stdout);
    let second = deal(&["fmt", path], "");
    assert_eq!(second.stdout, "formatted 1 contract: 0 rewritten\n");
    assert_eq!(deal(&["check", file.to_str().unwrap()], "").code, 0);
}

#[test]
fn a_contract_that_does_not_parse_is_not_formatted() {
    let out = deal(&["fmt", "-"], "deal \"x\"\nparties A\nterms\n  t = \n");
    assert_eq!(out.code, 2);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert!(out.stderr.contains("deal::parse::"), "{}", out.stderr);
}

// ---------------------------------------------------------------- laws

/// Every `.deal` file of the repository that parses.
fn corpus() -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![root().join("contracts"), root().join("tests")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "deal") {
                let text = std::fs::read_to_string(&path).unwrap();
                if deal::syntax::parse(&text).is_ok() {
                    out.push(text);
                }
            }
        }
    }
    out.sort();
    assert!(out.len() >= 20, "only {} contracts", out.len());
    out
}

/// Words, marks, strings and comments, in order: what formatting keeps.
/// Written apart from the formatter, so as not to share its mistakes.
fn words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        let end = match c {
            '#' => text[i..].find('\n').map_or(text.len(), |j| i + j),
            '"' => {
                let mut j = i + 1;
                let bytes = text.as_bytes();
                while j < bytes.len() && bytes[j] != b'"' {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                (j + 1).min(text.len())
            }
            c if c.is_ascii_alphanumeric() || c == '_' => {
                let rest = &text[i..];
                i + rest
                    .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len())
            }
            '<' | '>' | '!' | '=' => {
                if text[i + 1..].starts_with('=') {
                    i + 2
                } else {
                    i + 1
                }
            }
            c => i + c.len_utf8(),
        };
        out.push(text[i..end].trim_end().to_string());
        while chars.peek().is_some_and(|(j, _)| *j < end) {
            chars.next();
        }
    }
    out
}

/// The text with its spacing redone: each run of spaces inside a line
/// becomes `inline` spaces; each line break keeps its place, with
/// `blank` extra empty lines and an indent of `indent` spaces.
fn respace(text: &str, inline: &[usize], indents: &[usize], blanks: &[bool]) -> String {
    let mut out = String::new();
    let (mut k, mut quoted) = (0usize, false);
    let mut lines = text.lines().enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        let body = line.trim_start();
        let indent = if line.len() == body.len() && n == 0 {
            0
        } else {
            indents[n % indents.len()]
        };
        out.push_str(&" ".repeat(indent));
        let mut chars = body.chars().peekable();
        let mut comment = false;
        while let Some(c) = chars.next() {
            if c == '"' && !comment {
                quoted = !quoted;
            }
            if c == '#' && !quoted {
                comment = true;
            }
            if c == ' ' && !quoted && !comment {
                while chars.peek() == Some(&' ') {
                    chars.next();
                }
                // `30 days` and `breach of` must keep their single spaces
                // on one line; any run of spaces may grow.
                out.push_str(&" ".repeat(inline[k % inline.len()].max(1)));
                k += 1;
            } else {
                out.push(c);
            }
        }
        out.push('\n');
        if lines.peek().is_some() && blanks[n % blanks.len()] {
            out.push('\n');
        }
    }
    out
}

fn format(text: &str) -> String {
    deal::fmt::format(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn formatting_keeps_every_word_and_is_its_own_fixed_point(
        which in 0usize..64,
        inline in prop::collection::vec(1usize..4, 1..8),
        indents in prop::collection::vec(0usize..9, 1..8),
        blanks in prop::collection::vec(prop::bool::weighted(0.2), 1..8),
    ) {
        let all = corpus();
        let text = respace(&all[which % all.len()], &inline, &indents, &blanks);
        prop_assume!(deal::syntax::parse(&text).is_ok());
        let once = format(&text);
        prop_assert_eq!(words(&once), words(&text));
        prop_assert_eq!(format(&once), once.clone());
        prop_assert!(deal::syntax::parse(&once).is_ok());
    }

    #[test]
    fn the_spaces_inside_a_line_do_not_matter(
        which in 0usize..64,
        inline in prop::collection::vec(1usize..4, 1..8),
    ) {
        let all = corpus();
        let text = &all[which % all.len()];
        let respaced = respace(text, &inline, &[0], &[false]);
        let plain = respace(text, &[1], &[0], &[false]);
        prop_assert_eq!(format(&respaced), format(&plain));
    }
}

//! `deal fmt` through the real command line, and its laws: formatting keeps
//! every word and comment in order, formats its own output to itself, and
//! does not care how the author spaced the words of a line, indented the
//! sections and items, or how many blank lines they left; two layouts with
//! the same line breaks format byte for byte alike (the author's breaks are
//! kept by design); and a contract formatted checks as before and reports
//! byte for byte as before on its events.
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
fn corpus() -> &'static [String] {
    static CORPUS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    CORPUS.get_or_init(read_corpus)
}

fn read_corpus() -> Vec<String> {
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

// ------------------------------------------------- layouts of one contract

/// Where a line may be broken after `words[i]`: not inside an amount or a
/// duration (`30 days`), nor inside `breach of C`, which the grammar reads
/// on one line.
fn breakable(before: &str, after: &str, before_that: &str) -> bool {
    // The last word of `min(250_000`, the first of `EUR)`.
    let last = |w: &str| {
        w.rsplit(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .next()
            .unwrap_or("")
            .to_string()
    };
    let number = |w: &str| last(w).chars().next().is_some_and(|c| c.is_ascii_digit());
    let word = |w: &str| w.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    !(number(before) && word(after))
        && last(before) != "breach"
        && !(before == "of" && last(before_that) == "breach")
}

/// A formatted contract with comments and line breaks added: a comment at
/// the end of a line or on a line of its own before it, where `comments`
/// says; a break between two words of a line, where `breaks` says, the
/// rest of the line four spaces deeper.
fn annotate(formatted: &str, comments: &[u8], breaks: &[bool]) -> String {
    let mut out = String::new();
    let (mut c, mut b) = (0usize, 0usize);
    for line in formatted.lines() {
        let indent = line.len() - line.trim_start().len();
        let body = line.trim_start();
        if body.is_empty() {
            out.push('\n');
            continue;
        }
        c += 1;
        let note = comments[c % comments.len()];
        if note == 1 {
            out.push_str(&format!("{}# note {c} before\n", " ".repeat(indent)));
        }
        out.push_str(&" ".repeat(indent));
        // Split the code of the line at spaces outside quotes.
        let (code, comment) = split_comment(body);
        let mut pieces: Vec<String> = Vec::new();
        let mut quoted = false;
        let mut piece = String::new();
        for ch in code.chars() {
            if ch == '"' {
                quoted = !quoted;
            }
            if ch == ' ' && !quoted {
                if !piece.is_empty() {
                    pieces.push(std::mem::take(&mut piece));
                }
            } else {
                piece.push(ch);
            }
        }
        if !piece.is_empty() {
            pieces.push(piece);
        }
        for (i, p) in pieces.iter().enumerate() {
            if i > 0 {
                let cut = breakable(&pieces[i - 1], p, if i > 1 { &pieces[i - 2] } else { "" });
                b += 1;
                if cut && breaks[b % breaks.len()] {
                    out.push('\n');
                    out.push_str(&" ".repeat(indent + 4));
                } else {
                    out.push(' ');
                }
            }
            out.push_str(p);
        }
        if let Some(comment) = comment {
            out.push_str("  ");
            out.push_str(comment);
        } else if note == 2 {
            out.push_str(&format!("  # note {c} after"));
        }
        out.push('\n');
    }
    out
}

/// A line's code and its comment, if it has one.
fn split_comment(body: &str) -> (&str, Option<&str>) {
    let mut quoted = false;
    for (i, ch) in body.char_indices() {
        match ch {
            '"' => quoted = !quoted,
            '#' if !quoted => return (body[..i].trim_end(), Some(&body[i..])),
            _ => {}
        }
    }
    (body, None)
}

/// Another layout of the same contract, as `deal fmt` sees it: each
/// section and each item of a block moved to another indent, its lines
/// moved with it; each run of spaces inside a line `inline` long; each
/// blank line made `blanks` long, and blank lines added inside items
/// (where `deal fmt` drops them); trailing spaces after code.
fn layout(text: &str, shifts: &[usize], inline: &[usize], blanks: &[usize]) -> String {
    let mut out = String::new();
    let (mut g, mut k, mut n) = (0usize, 0usize, 0usize);
    let mut shift: i64 = 0;
    let mut section = String::new();
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        n += 1;
        let indent = line.len() - line.trim_start().len();
        let body = line.trim_start();
        if body.is_empty() {
            out.push_str(&"\n".repeat(blanks[n % blanks.len()].max(1)));
            continue;
        }
        let comment_line = body.starts_with('#');
        let has_items = ["terms", "events", "clause"].contains(&section.as_str());
        if !comment_line && (indent == 0 || (indent == 2 && has_items)) {
            if indent == 0 {
                section = body.split(' ').next().unwrap().to_string();
            }
            g += 1;
            let to = shifts[g % shifts.len()] + usize::from(indent > 0);
            shift = to as i64 - indent as i64;
        }
        // The next line of code: a blank line before it is dropped when it
        // is inside an item, and kept before an item.
        let next_code = lines[i..]
            .iter()
            .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
            .map(|l| l.len() - l.trim_start().len());
        let inside = i > 0 && section != "terms" && next_code.is_some_and(|d| d >= 4);
        if inside && blanks[n % blanks.len()] >= 2 {
            out.push('\n');
        }
        // A comment at the margin after the last word stays there; one
        // indented stays indented.
        let new_indent = match (comment_line, indent) {
            (true, 0) => 0,
            (true, _) => (indent as i64 + shift).max(1) as usize,
            _ => (indent as i64 + shift).max(0) as usize,
        };
        out.push_str(&" ".repeat(new_indent));
        let mut quoted = false;
        let mut comment = false;
        let mut chars = body.chars().peekable();
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
                k += 1;
                out.push_str(&" ".repeat(inline[k % inline.len()].max(1)));
            } else {
                out.push(c);
            }
        }
        if !comment && inline[k % inline.len()] == 3 {
            out.push_str("  ");
        }
        out.push('\n');
    }
    out
}

/// The contracts of `contracts/` and `contracts/conformance/`, formatted.
fn shipped() -> Vec<(std::path::PathBuf, String)> {
    let mut out = Vec::new();
    for dir in ["contracts", "contracts/conformance"] {
        for entry in std::fs::read_dir(root().join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "deal") {
                let text = std::fs::read_to_string(&path).unwrap();
                out.push((path, text));
            }
        }
    }
    out.sort();
    assert!(out.len() >= 10, "only {} contracts", out.len());
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn two_layouts_of_one_contract_format_alike_keeping_the_comments(
        which in 0usize..64,
        comments in prop::collection::vec(0u8..6, 1..9),
        breaks in prop::collection::vec(prop::bool::weighted(0.15), 1..9),
        first in (prop::collection::vec(0usize..6, 1..7), prop::collection::vec(1usize..4, 1..7), prop::collection::vec(1usize..4, 1..7)),
        second in (prop::collection::vec(0usize..6, 1..7), prop::collection::vec(1usize..4, 1..7), prop::collection::vec(1usize..4, 1..7)),
    ) {
        let all = corpus();
        let base = annotate(&format(&all[which % all.len()]), &comments, &breaks);
        let a = layout(&base, &first.0, &first.1, &first.2);
        let b = layout(&base, &second.0, &second.1, &second.2);
        let (fa, fb) = (format(&a), format(&b));
        prop_assert_eq!(&fa, &fb, "\n--- one layout:\n{}\n--- another:\n{}", a, b);
        prop_assert_eq!(fa, format(&base));
        prop_assert_eq!(words(&fb), words(&base), "every word and comment kept, in order");
    }
}

// ------------------------------------------- formatting keeps the meaning

/// What `deal check` finds in a contract, by code, in order.
fn codes(path: &std::path::Path) -> Vec<String> {
    let out = deal(&["check", path.to_str().unwrap(), "--error-format", "json"], "");
    out.stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

/// The JSON report of a contract on its events.
fn report(path: &std::path::Path, events: &std::path::Path) -> String {
    let out = deal(
        &[
            "run",
            path.to_str().unwrap(),
            "--events",
            events.to_str().unwrap(),
            "--format",
            "json",
        ],
        "",
    );
    assert!(out.stdout.starts_with('{'), "{}", out.stderr);
    out.stdout
}

/// The same contract in two layouts checks alike and, where the repository
/// has events for it, reports alike on them, byte for byte.
fn same_meaning(path: &std::path::Path, one: &str, other: &str) -> Result<(), TestCaseError> {
    let dirs = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let name = path.file_name().unwrap();
    let (a, b) = (dirs.0.path().join(name), dirs.1.path().join(name));
    std::fs::write(&a, one).unwrap();
    std::fs::write(&b, other).unwrap();
    let found = codes(&a);
    prop_assert_eq!(&found, &codes(&b), "{}", path.display());
    let events = path.with_extension("events.jsonl");
    if events.is_file() {
        prop_assert!(
            found.iter().all(|c| c.ends_with("open_term")),
            "{}: {found:?}",
            path.display()
        );
        prop_assert_eq!(report(&a, &events), report(&b, &events), "{}", path.display());
    }
    Ok(())
}

#[test]
fn each_shipped_contract_spread_out_and_formatted_checks_and_reports_as_before() {
    let reference = root().join("contracts/microsoft_openai.deal");
    assert_eq!(codes(&reference), ["deal::check::open_term"]);
    for (path, text) in shipped() {
        // Every break the grammar allows taken, comments everywhere.
        let spread = layout(
            &annotate(&text, &[1, 2], &[true]),
            &[5, 0, 3],
            &[3, 1, 2],
            &[3, 1],
        );
        let formatted = deal(&["fmt", "-"], &spread);
        assert_eq!(formatted.code, 0, "{}: {}", path.display(), formatted.stderr);
        assert_ne!(formatted.stdout, text, "{}", path.display());
        same_meaning(&path, &text, &spread).unwrap();
        same_meaning(&path, &spread, &formatted.stdout).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn a_shipped_contract_laid_out_anew_and_formatted_checks_and_reports_as_before(
        which in 0usize..64,
        comments in prop::collection::vec(0u8..6, 1..9),
        breaks in prop::collection::vec(prop::bool::weighted(0.15), 1..9),
        shifts in prop::collection::vec(0usize..6, 1..7),
        inline in prop::collection::vec(1usize..4, 1..7),
        blanks in prop::collection::vec(1usize..4, 1..7),
    ) {
        let all = shipped();
        let (path, text) = &all[which % all.len()];
        let mutated = layout(&annotate(text, &comments, &breaks), &shifts, &inline, &blanks);
        prop_assume!(deal::syntax::parse(&mutated).is_ok());
        same_meaning(path, &mutated, &format(&mutated))?;
        same_meaning(path, text, &mutated)?;
    }
}

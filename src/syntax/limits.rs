//! Guards that run on the raw text before pest sees it.
//!
//! pest's generated parser recurses once per nested bracket and is not
//! packrat, so hostile nesting would overflow the stack long before any error
//! could be reported. These checks scan the text once, without recursion.

use super::ast::Span;

/// Deepest nesting of parentheses and prefix operators accepted.
pub const MAX_DEPTH: usize = 64;
/// Most operators in one expression: a flat chain builds a tree as deep as
/// it is long, which checking and evaluating would recurse through.
pub const MAX_OPERATORS: usize = 256;
/// Largest `.deal` file accepted, in bytes.
pub const MAX_SOURCE_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    Empty,
    TooLarge { bytes: usize },
    TooDeep { span: Span, depth: usize },
    Unbalanced { span: Span },
}

/// Checks size and bracket nesting, skipping strings and comments.
pub fn check(source: &str) -> Result<(), Violation> {
    if source.trim().is_empty() {
        return Err(Violation::Empty);
    }
    if source.len() > MAX_SOURCE_BYTES {
        return Err(Violation::TooLarge { bytes: source.len() });
    }
    let bytes = source.as_bytes();
    let mut depth = 0usize;
    let mut prefix_run = 0usize;
    // Each `if` may open a nested `else if`: the parser recurses once per
    // `if`, so their number is bounded like the depth of brackets.
    let mut ifs = 0usize;
    let mut opened: Vec<usize> = Vec::new();
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        match byte {
            b'#' => {
                while bytes.get(i).is_some_and(|b| *b != b'\n') {
                    i += 1;
                }
                continue;
            }
            b'"' => {
                i += 1;
                while let Some(&b) = bytes.get(i).filter(|b| **b != b'"' && **b != b'\n') {
                    if b == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                // An escape at the very end leaves `i` past the text.
                if i >= bytes.len() {
                    break;
                }
            }
            b'(' => {
                depth += 1;
                opened.push(i);
                if depth > MAX_DEPTH {
                    return Err(Violation::TooDeep {
                        span: Span::new(i, i + 1),
                        depth: MAX_DEPTH,
                    });
                }
            }
            b')' => {
                if depth == 0 {
                    return Err(Violation::Unbalanced {
                        span: Span::new(i, i + 1),
                    });
                }
                depth -= 1;
                opened.pop();
            }
            _ => {}
        }
        // Runs of prefix operators (`- - - x`, `not not not x`) recurse in
        // the Pratt parser just as brackets do.
        let rest = bytes.get(i..).unwrap_or_default();
        if byte == b'-' {
            prefix_run += 1;
        } else if rest.starts_with(b"not") && word_boundary(bytes, i, 3) {
            prefix_run += 1;
            i += 2;
        } else if rest.starts_with(b"if") && word_boundary(bytes, i, 2) {
            ifs += 1;
            if ifs > MAX_DEPTH {
                return Err(Violation::TooDeep {
                    span: Span::new(i, i + 2),
                    depth: MAX_DEPTH,
                });
            }
            prefix_run = 0;
            i += 1;
        } else if !byte.is_ascii_whitespace() {
            prefix_run = 0;
        }
        if prefix_run > MAX_DEPTH {
            return Err(Violation::TooDeep {
                span: Span::new(i, i + 1),
                depth: MAX_DEPTH,
            });
        }
        i += 1;
    }
    if let Some(&at) = opened.last() {
        return Err(Violation::Unbalanced {
            span: Span::new(at, at + 1),
        });
    }
    Ok(())
}

fn word_boundary(bytes: &[u8], at: usize, len: usize) -> bool {
    // Bytes of a non-ASCII character are parts of a word: names are Unicode.
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
    let before = at
        .checked_sub(1)
        .and_then(|b| bytes.get(b))
        .is_none_or(|b| !is_word(*b));
    let after = bytes.get(at + len).is_none_or(|b| !is_word(*b));
    before && after
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_brackets_are_refused_without_recursion() {
        let text = format!(
            "deal \"x\" terms a = {}1{}",
            "(".repeat(100_000),
            ")".repeat(100_000)
        );
        assert!(matches!(check(&text), Err(Violation::TooDeep { .. })));
    }

    #[test]
    fn brackets_in_strings_and_comments_do_not_count() {
        let text = format!("deal \"{}\" # {}\n", "(".repeat(100), "(".repeat(100));
        assert_eq!(check(&text), Ok(()));
    }

    #[test]
    fn long_runs_of_not_are_refused() {
        let text = format!("deal \"x\" terms a = {} true", "not ".repeat(1000));
        assert!(matches!(check(&text), Err(Violation::TooDeep { .. })));
    }

    #[test]
    fn long_else_if_chains_are_refused() {
        let text = format!("deal \"x\" terms a = {} 1", "if true then 1 else ".repeat(10_000));
        assert!(matches!(check(&text), Err(Violation::TooDeep { .. })));
    }

    #[test]
    fn an_unclosed_bracket_is_pointed_at() {
        assert_eq!(
            check("deal \"x\" terms a = (1"),
            Err(Violation::Unbalanced {
                span: Span::new(19, 20)
            })
        );
    }

    #[test]
    fn an_escape_at_the_end_of_the_text_is_safe() {
        assert!(check("deal \"x\\").is_ok());
        assert!(check("\"\\").is_ok());
    }

    #[test]
    fn empty_text_is_refused() {
        assert_eq!(check("  \n\t"), Err(Violation::Empty));
    }
}

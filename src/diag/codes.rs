//! The reference of diagnostic codes, `docs/diagnostics.md`, compiled in so
//! that `deal explain CODE` works anywhere.

const REFERENCE: &str = include_str!("../../docs/diagnostics.md");

/// Every documented code, in the order of the reference.
pub fn all() -> Vec<&'static str> {
    REFERENCE
        .lines()
        .filter_map(|l| l.strip_prefix("## `"))
        .map(|l| l.trim_end_matches('`'))
        .collect()
}

/// The entry for `code` (with or without the `deal::` prefix).
pub fn explain(code: &str) -> Option<&'static str> {
    let code = code.trim();
    let full = if code.starts_with("deal::") {
        code.to_string()
    } else {
        format!("deal::{code}")
    };
    let heading = format!("## `{full}`");
    let start = REFERENCE.find(&format!("{heading}\n"))?;
    let rest = REFERENCE.get(start..)?;
    let end = rest
        .get(heading.len()..)?
        .find("\n## ")
        .map_or(rest.len(), |i| i + heading.len() + 1);
    Some(rest.get(..end)?.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_found_with_or_without_the_prefix() {
        let a = explain("deal::check::unknown_name");
        assert!(a.is_some_and(|t| t.starts_with("## `deal::check::unknown_name`")));
        assert_eq!(a, explain("check::unknown_name"));
        assert!(explain("deal::check::unknown").is_none());
        assert!(!a.unwrap_or_default().contains("## `deal::check::unknown_type`"));
    }
}

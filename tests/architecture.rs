//! The pipeline's layers import only down: each module of the library may
//! use those before it in this order, never one after it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "a test fails by panicking"
)]

/// The pipeline, then the tools built on it.
const ORDER: [&str; 18] = [
    "ops", "time", "value", "diag", "syntax", "fmt", "model", "check", "events", "eval", "report", "driver",
    "resume", "schema", "testing", "scaffold", "serve", "lsp",
];

fn sources(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn imports_run_down_the_pipeline_only() {
    let src = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut wrong = Vec::new();
    for file in files {
        let rel = file
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel.starts_with("bin/") || rel == "lib.rs" {
            continue;
        }
        let top = rel.split('/').next().unwrap().trim_end_matches(".rs").to_string();
        let rank = ORDER.iter().position(|m| *m == top);
        assert!(
            rank.is_some(),
            "{rel}: module `{top}` has no place in the pipeline's order"
        );
        let text = std::fs::read_to_string(&file).unwrap();
        // Tests of a module may use anything.
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let tail = &rest[i + 7..];
            let name: String = tail
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            rest = tail;
            if name == top {
                continue;
            }
            match ORDER.iter().position(|m| *m == name) {
                Some(r) if Some(r) < rank => {}
                _ => wrong.push(format!("{rel} uses crate::{name}")),
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "imports that run up the pipeline:\n{}",
        wrong.join("\n")
    );
}

//! What each written form lowers to, as a readable dump of the checked
//! program: a change to lowering shows here, in review.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::string_slice,
    reason = "a test fails by panicking"
)]

use deal::diag::source::SourceFile;
use deal::driver;
use deal::model::dump::dump;

fn lowered(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/lowering")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    let source = SourceFile::new(name, text);
    let loaded = driver::load(&source).unwrap_or_else(|_| panic!("{name} checks"));
    assert!(loaded.warnings.is_empty(), "{name} has warnings");
    dump(&loaded.program)
}

macro_rules! form {
    ($test:ident, $file:literal) => {
        #[test]
        fn $test() {
            insta::assert_snapshot!(stringify!($test), lowered($file));
        }
    };
}

form!(core_norms, "core_norms.deal");
form!(permissions_and_powers, "permissions_and_powers.deal");
form!(exclusivity, "exclusivity.deal");
form!(first_refusal, "first_refusal.deal");
form!(amounts_owed, "amounts_owed.deal");
form!(remedies, "remedies.deal");
form!(payments, "payments.deal");
form!(correlation, "correlation.deal");

/// Every contract shipped lowers without a gap in the dump: no id the
/// program did not give, no field read against the wrong event.
#[test]
fn every_contract_dumps_without_a_gap() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for dir in ["contracts", "contracts/conformance", "tests/lowering"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "deal") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let source = SourceFile::new(path.display().to_string(), text);
            let Ok(loaded) = driver::load(&source) else {
                continue;
            };
            let out = dump(&loaded.program);
            assert!(!out.contains('?'), "{}:\n{out}", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 15, "{seen}");
}

//! Every example body under `examples/requests/` answers what it promises: files in
//! `valid/` are accepted by the endpoint their name starts with, files in `invalid/` are
//! rejected with exactly the body listed in `invalid/expected.json`. Also: the matrix in
//! `docs/api-validation.md` is the one the validator runs.

use std::path::{Path, PathBuf};

use samvideo_core::request::Endpoint;
use samvideo_core::validate::{matrix_markdown, parse_create};
use serde_json::Value;

fn dir(sub: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/requests").join(sub)
}

/// `(file name, endpoint, bytes)` of every `*.json` body in `sub` (not `expected.json`).
fn bodies(sub: &str) -> Vec<(String, Endpoint, Vec<u8>)> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir(sub)).unwrap_or_else(|e| panic!("examples/requests/{sub}: {e}"));
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".json") || name == "expected.json" {
            continue;
        }
        let prefix = name.split('.').next().unwrap_or_default();
        let endpoint: Endpoint = prefix.parse().unwrap_or_else(|e| panic!("{name}: {e}"));
        let bytes = std::fs::read(entry.path()).unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push((name, endpoint, bytes));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn valid_examples_are_accepted() {
    let all = bodies("valid");
    assert!(all.len() >= 12, "expected the valid examples, found {}", all.len());
    for endpoint in Endpoint::ALL {
        assert!(all.iter().any(|(_, e, _)| *e == endpoint), "no valid example for {endpoint}");
    }
    for (name, endpoint, bytes) in all {
        if let Err(e) = parse_create(endpoint, &bytes) {
            panic!("{name} rejected: {}", e.body);
        }
    }
}

#[test]
fn invalid_examples_answer_the_expected_body() {
    let expected: Value = serde_json::from_slice(&std::fs::read(dir("invalid/expected.json")).expect("expected.json"))
        .expect("expected.json is JSON");
    let all = bodies("invalid");
    assert_eq!(all.len(), expected.as_object().map_or(0, |o| o.len()), "every invalid file needs one expectation");
    for (name, endpoint, bytes) in all {
        let want = expected.get(&name).unwrap_or_else(|| panic!("{name} has no entry in expected.json"));
        match parse_create(endpoint, &bytes) {
            Ok(r) => panic!("{name} accepted: {r:?}"),
            Err(e) => {
                assert_eq!(e.status, 400);
                assert_eq!(&e.body, want, "{name}");
            }
        }
    }
}

#[test]
fn docs_embed_the_generated_matrix() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/api-validation.md");
    let docs = std::fs::read_to_string(&path).expect("docs/api-validation.md");
    let generated = matrix_markdown();
    assert!(
        docs.contains(&generated),
        "docs/api-validation.md is out of date; replace its generated section with:\n\n{generated}"
    );
}

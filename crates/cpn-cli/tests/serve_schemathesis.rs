//! The API fuzzed against its own OpenAPI document by schemathesis (PyPI): generated requests,
//! valid and not, and stateful sequences of calls. No reply may be a 5xx, and every reply must
//! match the documented status codes, content types and schemas. Without `st` it says SKIPPED
//! and passes, except under CI, where it fails (`.ci/run` installs it).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{ADMIN, Server, have};

/// Where pip puts the `st` command.
fn st() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join("st"))
            .find(|p| p.exists())
    });
    found.unwrap_or_else(|| PathBuf::from("/usr/local/bin/st"))
}

#[test]
fn the_api_keeps_its_openapi_document_under_fuzzing() {
    let st = st();
    if !have(
        "schemathesis",
        &st,
        "pip install -r crates/cpn-cli/tests/requirements.txt",
    ) {
        return;
    }
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::national(data.path());
    server.wait_ready();
    let base = server.api().base().to_string();
    // schemathesis keeps its example database in the working directory: a temporary one.
    let work = tempfile::tempdir().expect("tempdir");
    let output = Command::new(&st)
        .current_dir(work.path())
        .args(["run", &format!("{base}/openapi.json"), "--url", &base])
        .args(["-H", &format!("Authorization: Bearer {ADMIN}")])
        .args([
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance",
        ])
        .args(["--max-examples", "15", "--seed", "1"])
        .env("NO_COLOR", "1")
        .output()
        .expect("run schemathesis");
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{report}\n{}\nserver log:\n{}",
        String::from_utf8_lossy(&output.stderr),
        server.log()
    );
    assert!(report.contains("passed"), "{report}");
}

//! Test support for the cpn crates, used only as a dev-dependency. It owns two conventions:
//! where the third-party data sets are (`CPN_DATA_DIR`, default `../shared/data` beside the
//! repository), and how data-driven tests compare output with expected files
//! (`CPN_UPDATE_EXPECT=1` rewrites them). Tests that need data skip loudly when it is absent,
//! and fail instead when the `CI` variable is set, so that CI never passes by skipping.

pub mod bench;
pub mod etcd;

use std::path::{Path, PathBuf};

/// The data set folder `name` (such as `topology-zoo/graphml`) under the data directory, or
/// `None` after printing a loud `SKIPPED` line when it is absent outside CI.
///
/// # Panics
/// When the folder is absent and `CI` is set: on CI the data must be there.
pub fn data_dir(name: &str) -> Option<PathBuf> {
    let root = std::env::var_os("CPN_DATA_DIR")
        .map_or_else(|| workspace_root().join("../shared/data"), PathBuf::from);
    let dir = root.join(name);
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "data set `{name}` not found at {}; set CPN_DATA_DIR to the folder holding it",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED: data set `{name}` not found at {}; set CPN_DATA_DIR to run this test",
        dir.display()
    );
    None
}

/// Whether a test that needs root (network namespaces, veth, nftables) can run: as root it
/// can; otherwise it prints a loud `SKIPPED` line and returns false.
///
/// # Panics
/// When not root and `CI` is set: on CI the root tests must run.
pub fn root(test: &str) -> bool {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .unwrap_or_default();
    if uid == "0" {
        return true;
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "{test}: needs root (network namespaces), and CI is set: failing instead of skipping"
        );
    }
    eprintln!(
        "SKIPPED {test}: needs root (network namespaces, veth, nftables); run the tests as root"
    );
    false
}

/// The root of this repository.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Compares `actual` with the contents of `expected_file`. With `CPN_UPDATE_EXPECT=1` it
/// writes `actual` there instead, so that expectations are regenerated and reviewed as a diff.
///
/// # Panics
/// When they differ (that is the test failing), or when the file cannot be read or written.
pub fn check_expect(expected_file: &Path, actual: &str) {
    if std::env::var_os("CPN_UPDATE_EXPECT").is_some_and(|v| v == "1") {
        if let Err(e) = std::fs::write(expected_file, actual) {
            panic!("cannot write {}: {e}", expected_file.display());
        }
        return;
    }
    let expected = std::fs::read_to_string(expected_file).unwrap_or_else(|e| {
        panic!(
            "cannot read {}: {e} (run with CPN_UPDATE_EXPECT=1 to create it)",
            expected_file.display()
        )
    });
    assert!(
        expected == actual,
        "output differs from {}\n--- expected\n{expected}\n--- actual\n{actual}\n(run with CPN_UPDATE_EXPECT=1 to accept)",
        expected_file.display()
    );
}

/// The files in `dir` with extension `ext`, sorted by name.
///
/// # Panics
/// When `dir` cannot be read.
pub fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    files.sort();
    files
}

//! Where the tests find the shared data sets.

use std::path::PathBuf;

/// The Topology Zoo GraphML directory, or `None` (after saying so loudly) when it is absent.
///
/// On CI the data must be there, so absence is a failure rather than a skip.
pub(crate) fn zoo_dir() -> Option<PathBuf> {
    let root = std::env::var_os("CPN_DATA_DIR").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data")),
        PathBuf::from,
    );
    let dir = root.join("topology-zoo/graphml");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CI").is_some() {
        panic!(
            "topology zoo data not found at {}; set CPN_DATA_DIR to the directory holding topology-zoo/",
            dir.display()
        );
    }
    eprintln!(
        "SKIPPED: topology zoo data not found at {}, set CPN_DATA_DIR",
        dir.display()
    );
    None
}

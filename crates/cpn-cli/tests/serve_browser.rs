//! The dashboard in a real browser: `web/test/map.test.mjs` (Playwright driving Chromium)
//! against `cpn serve --scenario national`. Without the browser driver (`npm ci` in
//! crates/cpn-server/web) or `/usr/bin/chromium` it says SKIPPED and passes, except under CI.

mod common;

use std::path::Path;
use std::process::Command;

use common::{ADMIN, Server, have, workspace};

#[test]
fn the_map_works_in_chromium() {
    let web = workspace().join("crates/cpn-server/web");
    let driver = web.join("node_modules/playwright-core");
    if !have(
        "the browser driver",
        &driver,
        "cd crates/cpn-server/web && npm ci",
    ) || !have(
        "Chromium",
        Path::new("/usr/bin/chromium"),
        "apt-get install chromium",
    ) || !have("node", Path::new("/usr/bin/node"), "apt-get install nodejs")
    {
        return;
    }
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::national(data.path());
    server.wait_ready();
    let out = Command::new("node")
        .arg("test/map.test.mjs")
        .current_dir(&web)
        .env("CPN_URL", &server.url)
        .env("CPN_TOKEN", ADMIN)
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "map.test.mjs failed ({}):\n{}{}\nthe controller's log:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    eprint!("{}", String::from_utf8_lossy(&out.stdout));
}

//! Conformance suite runner: drives the real third-party OpenIM JS client
//! (`@openim/client-sdk` 0.0.14, pinned in `tests/conformance/package-lock.json`)
//! against the `openim-sandbox` binary built by this very `cargo test`.
//!
//! The suite itself is the Node project in `tests/conformance/` (one
//! `node --test` test per scenario; see its README). This test installs its
//! pinned dependencies with `npm ci` when `node_modules` is missing, runs
//! `node --test` there with `SANDBOX_BIN` pointing at the freshly built
//! binary, streams the output, and fails when Node reports a failure.
//!
//! Needs `node` (20 or newer) and `npm` on `PATH`. Setting
//! `OPENIM_SKIP_CONFORMANCE=1` skips it explicitly (the skip is printed).

use std::process::{Command, Stdio};

#[path = "../../tests/conformance/node_suite.rs"]
mod node_suite;
use node_suite::{
    ensure_dependencies, node_test_args, node_version, skipped, suite_dir, test_files, tool_version,
};

#[test]
fn js_client_conformance_suite() {
    if skipped("conformance") {
        return;
    }
    let dir = suite_dir();
    assert!(
        dir.join("package-lock.json").is_file(),
        "conformance suite not found at {}",
        dir.display()
    );

    let node = tool_version("node").unwrap_or_else(|e| panic!("{e}"));
    let version = node_version(&node).unwrap_or((0, 0));
    assert!(
        version >= (20, 0),
        "the conformance suite needs Node.js 20 or newer, found {node}"
    );

    ensure_dependencies(&dir, "conformance");

    let sandbox_bin = env!("CARGO_BIN_EXE_openim-sandbox");
    eprintln!("conformance: node {node}, sandbox {sandbox_bin}");
    // stdout/stderr are inherited: the TAP report streams as it runs.
    let status = Command::new("node")
        .args(node_test_args(version))
        .args(test_files(&dir, "test"))
        .current_dir(&dir)
        .env("SANDBOX_BIN", sandbox_bin)
        .stdin(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run node in {}: {e}", dir.display()));
    assert!(
        status.success(),
        "conformance suite failed ({status}): see the `not ok` entries above; \
         rerun with `cd tests/conformance && SANDBOX_BIN={sandbox_bin} npm test`"
    );
}

#[test]
fn node_version_parses_node_output() {
    assert_eq!(node_version("v20.20.2"), Some((20, 20)));
    assert_eq!(node_version("v22.1.0\n"), Some((22, 1)));
    assert_eq!(node_version("garbage"), None);
    assert!(node_version("v20.9.0").unwrap() < (20, 14));
    assert_eq!(node_test_args((20, 9)), vec!["--test"]);
    assert_eq!(node_test_args((22, 1)), vec!["--test", "--test-force-exit"]);
}

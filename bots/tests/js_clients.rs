//! The ready-made bots against the real OpenIM JS client.
//!
//! Runs the Node scenarios in `tests/conformance/bots/*.test.mjs`: each starts a sandbox with
//! `openim-bots sandbox`, runs `openim-bots run --config <file>` against it as a user would, and
//! drives `@openim/client-sdk` 0.0.14 (pinned in `tests/conformance/package-lock.json`) for the
//! people who talk to the bot: friend applications, keyword replies, moderation, support
//! tickets, crashes and restarts of the bot process.
//!
//! The binary under test is the `openim-bots` that this very `cargo test` built
//! (`BOTS_BIN`); the sandbox is its `sandbox` subcommand, so no other crate's binary is needed.
//! `npm ci` runs first when `tests/conformance/node_modules` is missing. Needs `node` (20 or
//! newer) and `npm` on `PATH`; `OPENIM_SKIP_CONFORMANCE=1` skips it (the skip is printed).
//! On failure the message carries Node's report: for each failing scenario the events every
//! JS client saw, its last HTTP/WebSocket traffic and the tail of the bot's log.

use std::process::{Command, Stdio};

#[path = "../../tests/conformance/node_suite.rs"]
mod node_suite;
use node_suite::{
    ensure_dependencies, failures, node_test_args, node_version, skipped, suite_dir, test_files,
    tool_version,
};

#[test]
fn bots_against_the_real_js_client() {
    if skipped("js_clients") {
        return;
    }
    let dir = suite_dir();
    assert!(
        dir.join("package-lock.json").is_file(),
        "the Node suite was not found at {}",
        dir.display()
    );
    let node = tool_version("node").unwrap_or_else(|e| panic!("{e}"));
    let version = node_version(&node).unwrap_or((0, 0));
    assert!(
        version >= (20, 0),
        "the JS client scenarios need Node.js 20 or newer, found {node}"
    );
    ensure_dependencies(&dir, "js_clients");

    let bots_bin = env!("CARGO_BIN_EXE_openim-bots");
    let files = test_files(&dir, "bots");
    eprintln!("js_clients: node {node}, openim-bots {bots_bin}, {files:?}");
    let out = Command::new("node")
        .args(node_test_args(version))
        .args(&files)
        .current_dir(&dir)
        .env("BOTS_BIN", bots_bin)
        // The sandbox is `openim-bots sandbox`, built right here, not a possibly stale binary.
        .env_remove("SANDBOX_BIN")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run node in {}: {e}", dir.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Shown by the test harness when this test fails (or with --nocapture).
    println!("{stdout}");
    if !out.status.success() {
        println!("--- node stderr ---\n{stderr}");
    }
    assert!(
        out.status.success(),
        "bot scenarios failed ({}):\n{}\n\nrerun one with `cd tests/conformance && BOTS_BIN={bots_bin} \
         node --test --test-name-pattern='<name>' bots/*.test.mjs` (BOTS_ECHO=1 shows the bot's log)",
        out.status,
        failures(&stdout)
    );
    let summary: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("# tests") || l.starts_with("# pass"))
        .collect();
    eprintln!("js_clients: {}", summary.join(", "));
}

#[test]
fn helpers() {
    assert_eq!(node_version("v20.20.2"), Some((20, 20)));
    assert_eq!(node_version("garbage"), None);
    assert_eq!(node_test_args((20, 9)), vec!["--test"]);
    assert_eq!(node_test_args((22, 1)), vec!["--test", "--test-force-exit"]);
    let tap = "ok 1 - a\n  ---\nnot ok 2 - b\n  error: boom\n  ...\n# Subtest: c\nok 3 - c\n";
    assert_eq!(failures(tap), "not ok 2 - b\n  error: boom\n  ...");
}

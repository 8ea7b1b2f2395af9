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

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Files that exist once `npm ci` has installed the pinned dependencies.
const INSTALLED_MARKERS: &[&str] = &[
    "node_modules/@openim/client-sdk/package.json",
    "node_modules/@openim/protocol/package.json",
    "node_modules/ws/package.json",
];

fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("tests")
        .join("conformance")
}

/// The bot scenarios, `bots/*.test.mjs`, sorted.
fn scenario_files(dir: &Path) -> Vec<String> {
    let bots = dir.join("bots");
    let entries =
        std::fs::read_dir(&bots).unwrap_or_else(|e| panic!("cannot list {}: {e}", bots.display()));
    let mut files: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.ends_with(".test.mjs"))
        .map(|name| format!("bots/{name}"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no bots/*.test.mjs files in {}",
        dir.display()
    );
    files
}

fn tool_version(tool: &str) -> Result<String, String> {
    let out = Command::new(tool).arg("--version").output().map_err(|e| {
        format!("cannot run `{tool} --version`: {e} (is {tool} installed and on PATH?)")
    })?;
    if !out.status.success() {
        return Err(format!("`{tool} --version` failed with {}", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// (major, minor) from `node --version` output such as `v20.20.2`.
fn node_version(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().trim_start_matches('v').split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// `--test`, plus `--test-force-exit` where Node has it (20.14+) as a safety net: the
/// scenarios stop every SDK timer, socket and child process themselves.
fn node_test_args(version: (u32, u32)) -> Vec<&'static str> {
    let mut args = vec!["--test"];
    if version >= (20, 14) {
        args.push("--test-force-exit");
    }
    args
}

fn ensure_dependencies(dir: &Path) {
    if INSTALLED_MARKERS.iter().all(|m| dir.join(m).is_file()) {
        return;
    }
    let npm = tool_version("npm").unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "js_clients: node_modules missing; running `npm ci` (npm {npm}) in {}",
        dir.display()
    );
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run `npm ci` in {}: {e}", dir.display()));
    assert!(
        status.success(),
        "`npm ci` in {} failed with {status}",
        dir.display()
    );
    for m in INSTALLED_MARKERS {
        assert!(
            dir.join(m).is_file(),
            "`npm ci` succeeded but {m} is missing"
        );
    }
}

/// The `not ok` blocks of a TAP report (what failed and why), for the panic message.
fn failures(tap: &str) -> String {
    let mut out = Vec::new();
    let mut inside = false;
    for line in tap.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("not ok") {
            inside = true;
        } else if trimmed.starts_with("ok ") || trimmed.starts_with("# Subtest") {
            inside = false;
        }
        if inside {
            out.push(line);
        }
    }
    out.join("\n")
}

#[test]
fn bots_against_the_real_js_client() {
    if std::env::var_os("OPENIM_SKIP_CONFORMANCE").is_some_and(|v| v != "0" && !v.is_empty()) {
        eprintln!("js_clients: SKIPPED because OPENIM_SKIP_CONFORMANCE is set");
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
    ensure_dependencies(&dir);

    let bots_bin = env!("CARGO_BIN_EXE_openim-bots");
    let files = scenario_files(&dir);
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

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

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Arguments for `node` before the test files: `--test`, plus
/// `--test-force-exit` where available (20.14+) as a safety net; the suite
/// itself stops every SDK timer and socket, and every scenario carries its
/// own timeout, so nothing else depends on the Node version's CLI flags.
fn node_test_args(version: (u32, u32)) -> Vec<&'static str> {
    let mut args = vec!["--test"];
    if version >= (20, 14) {
        args.push("--test-force-exit");
    }
    args
}

/// The suite's test files, `test/*.test.mjs`, sorted.
fn test_files(dir: &Path) -> Vec<String> {
    let test_dir = dir.join("test");
    let entries = std::fs::read_dir(&test_dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", test_dir.display()));
    let mut files: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.ends_with(".test.mjs"))
        .map(|name| format!("test/{name}"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no test/*.test.mjs files in {}",
        dir.display()
    );
    files
}

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

fn ensure_dependencies(dir: &Path) {
    if INSTALLED_MARKERS.iter().all(|m| dir.join(m).is_file()) {
        return;
    }
    let npm = tool_version("npm").unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "conformance: node_modules missing; running `npm ci` (npm {npm}) in {}",
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

#[test]
fn js_client_conformance_suite() {
    if std::env::var_os("OPENIM_SKIP_CONFORMANCE").is_some_and(|v| v != "0" && !v.is_empty()) {
        eprintln!("conformance: SKIPPED because OPENIM_SKIP_CONFORMANCE is set");
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

    ensure_dependencies(&dir);

    let sandbox_bin = env!("CARGO_BIN_EXE_openim-sandbox");
    eprintln!("conformance: node {node}, sandbox {sandbox_bin}");
    // stdout/stderr are inherited: the TAP report streams as it runs.
    let status = Command::new("node")
        .args(node_test_args(version))
        .args(test_files(&dir))
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

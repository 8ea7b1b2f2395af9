//! Rust-side support for the Node suites in `tests/conformance`, shared by the cargo tests that
//! run them (`sandbox/tests/conformance.rs`, `sandbox/tests/js_tls.rs`,
//! `bots/tests/js_clients.rs`; each includes this file with `#[path]`): finding the suite,
//! checking Node, installing the pinned packages, listing scenario files, reading TAP output.
#![allow(dead_code)] // each runner uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Files that exist once `npm ci` has installed the pinned dependencies.
pub const INSTALLED_MARKERS: &[&str] = &[
    "node_modules/@openim/client-sdk/package.json",
    "node_modules/@openim/protocol/package.json",
    "node_modules/ws/package.json",
];

/// `tests/conformance`, seen from the including crate (every crate sits one level below the root).
pub fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("tests")
        .join("conformance")
}

/// True (and says so) when `OPENIM_SKIP_CONFORMANCE` asks to skip the Node suites.
pub fn skipped(label: &str) -> bool {
    let skip =
        std::env::var_os("OPENIM_SKIP_CONFORMANCE").is_some_and(|v| v != "0" && !v.is_empty());
    if skip {
        eprintln!("{label}: SKIPPED because OPENIM_SKIP_CONFORMANCE is set");
    }
    skip
}

/// `<tool> --version`, trimmed.
pub fn tool_version(tool: &str) -> Result<String, String> {
    let out = Command::new(tool).arg("--version").output().map_err(|e| {
        format!("cannot run `{tool} --version`: {e} (is {tool} installed and on PATH?)")
    })?;
    if !out.status.success() {
        return Err(format!("`{tool} --version` failed with {}", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// (major, minor) from `node --version` output such as `v20.20.2`.
pub fn node_version(version: &str) -> Option<(u32, u32)> {
    let mut parts = version.trim().trim_start_matches('v').split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

/// Arguments for `node` before the test files: `--test`, plus `--test-force-exit` where
/// available (20.14+) as a safety net; the suites stop every SDK timer, socket and child
/// process themselves, and every scenario carries its own timeout.
pub fn node_test_args(version: (u32, u32)) -> Vec<&'static str> {
    let mut args = vec!["--test"];
    if version >= (20, 14) {
        args.push("--test-force-exit");
    }
    args
}

/// Runs `npm ci` in `dir` unless the pinned packages are installed already.
pub fn ensure_dependencies(dir: &Path, label: &str) {
    if INSTALLED_MARKERS.iter().all(|m| dir.join(m).is_file()) {
        return;
    }
    let npm = tool_version("npm").unwrap_or_else(|e| panic!("{e}"));
    eprintln!(
        "{label}: node_modules missing; running `npm ci` (npm {npm}) in {}",
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

/// The scenario files `<sub>/*.test.mjs` of the suite in `dir`, sorted, as paths relative to it.
pub fn test_files(dir: &Path, sub: &str) -> Vec<String> {
    let test_dir = dir.join(sub);
    let entries = std::fs::read_dir(&test_dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", test_dir.display()));
    let mut files: Vec<String> = entries
        .filter_map(|entry| entry.ok())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.ends_with(".test.mjs"))
        .map(|name| format!("{sub}/{name}"))
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no {sub}/*.test.mjs files in {}",
        dir.display()
    );
    files
}

/// The `not ok` blocks of a TAP report (what failed and why), for a panic message.
pub fn failures(tap: &str) -> String {
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

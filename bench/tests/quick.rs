//! Functional check of the benchmark binary: the quick path at tiny sizes, twice (`--runs 2`), runs
//! every row, prints both runs and the medians table, and ends with a parseable summary line of
//! positive numbers. No timing assertions.

use std::collections::HashMap;
use std::process::Command;

#[test]
fn tiny_run_prints_every_row_and_a_summary() {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_openim-bench"));
    cmd.args(["--quick", "--tiny", "--runs", "2"]);
    if !node {
        eprintln!("node is not installed: the JS SDK rows are skipped (--no-js)");
        cmd.arg("--no-js");
    }
    let out = cmd.output().expect("run openim-bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "openim-bench failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    for row in [
        "inbound (openim-bot session)",
        "inbound (JS SDK 0.0.14)",
        "echo (",
        "catch-up ",
        "catch-up (JS SDK 0.0.14",
        "peak RSS, bot process",
        "per-event cost, 10 conversations",
        "scaling ratio",
        "inbound ratio",
        "catch-up ratio",
    ] {
        assert!(stdout.contains(row), "row {row:?} missing:\n{stdout}");
    }
    for marker in ["run 1/2", "run 2/2", "medians of 2 runs", "cpu per item"] {
        assert!(stdout.contains(marker), "{marker:?} missing:\n{stdout}");
    }
    assert_eq!(
        stdout.matches("inbound (openim-bot session)").count(),
        2,
        "one inbound row per run:\n{stdout}"
    );
    let last = stdout.lines().last().unwrap_or_default();
    let fields: HashMap<&str, &str> = last
        .strip_prefix("summary ")
        .unwrap_or_else(|| panic!("last line is not the summary: {last:?}"))
        .split_whitespace()
        .map(|kv| kv.split_once('=').expect("key=value"))
        .collect();
    let js_keys = [
        "inbound_js",
        "inbound_ratio",
        "catchup_js_s",
        "catchup_ratio",
    ];
    for key in [
        "inbound",
        "inbound_js",
        "inbound_ratio",
        "echo_p99_ms",
        "catchup_s",
        "catchup_js_s",
        "catchup_ratio",
        "rss_mb",
        "scaling_ratio",
    ] {
        let value = fields
            .get(key)
            .unwrap_or_else(|| panic!("{key} missing in {last:?}"));
        if !node && js_keys.contains(&key) {
            assert_eq!(*value, "na", "{key} without node");
            continue;
        }
        let x: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("{key}={value} is not a number"));
        assert!(x > 0.0 && x.is_finite(), "{key}={value} must be positive");
    }
}

//! The real third-party JS client (`@openim/client-sdk`, installed by the conformance suite in
//! `tests/conformance`) against the `openim-sandbox` binary serving TLS (`--tls-cert/--tls-key`
//! with a freshly generated self-signed certificate, trusted by Node through
//! `NODE_EXTRA_CA_CERTS`): login over https, a message each way over wss.
//!
//! Needs `node` ≥ 20 and `npm` (runs `npm ci` in `tests/conformance` when `node_modules` is
//! missing); `OPENIM_SKIP_CONFORMANCE=1` skips it, as it skips the conformance suite.

use std::path::Path;
use std::process::{Command, Stdio};

#[path = "../../tests/conformance/node_suite.rs"]
mod node_suite;
use node_suite::{ensure_dependencies, skipped, suite_dir};

#[test]
fn js_client_over_https_and_wss() {
    if skipped("js_tls") {
        return;
    }
    let dir = suite_dir();
    ensure_dependencies(&dir, "js_tls");
    let tmp = tempfile::tempdir().expect("tempdir");
    let (cert_pem, key_pem) =
        openim_sandbox::tls::generate_self_signed().expect("self-signed certificate");
    let (cert, key) = (tmp.path().join("cert.pem"), tmp.path().join("key.pem"));
    std::fs::write(&cert, cert_pem).expect("write cert");
    std::fs::write(&key, key_pem).expect("write key");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/js/tls.test.mjs");
    let status = Command::new("node")
        .arg("--test")
        .arg(&script)
        .current_dir(&dir)
        .env("SANDBOX_BIN", env!("CARGO_BIN_EXE_openim-sandbox"))
        .env("TLS_CERT", &cert)
        .env("TLS_KEY", &key)
        .env("NODE_EXTRA_CA_CERTS", &cert)
        .stdin(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("cannot run node (is Node.js ≥ 20 installed?): {e}"));
    assert!(
        status.success(),
        "the JS client over TLS failed ({status}); see the TAP output above"
    );
}

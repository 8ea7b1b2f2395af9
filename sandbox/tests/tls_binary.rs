//! The `openim-sandbox` binary serving TLS (`--tls`, `--tls-cert/--tls-key`, `--tls-cert-out`)
//! and warning when bound to a non-loopback address.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A running binary and its ready line.
struct Running {
    child: Child,
    api: String,
    ws: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(args: &[&str]) -> Running {
    let mut child = Command::new(env!("CARGO_BIN_EXE_openim-sandbox"))
        .args(["--api-addr", "127.0.0.1:0", "--ws-addr", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn binary");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("ready line");
    let mut words = line.split_whitespace();
    assert_eq!(words.next(), Some("ready"), "{line}");
    let api = words
        .next()
        .and_then(|w| w.strip_prefix("api="))
        .expect("api");
    let ws = words
        .next()
        .and_then(|w| w.strip_prefix("ws="))
        .expect("ws");
    assert_eq!(words.next(), None, "the ready line keeps its shape: {line}");
    Running {
        api: api.to_owned(),
        ws: ws.to_owned(),
        child,
    }
}

/// `/auth/get_admin_token` over https trusting `ca_pem`: the errCode, or the error text.
fn admin_token_call(api: &str, ca_pem: &str) -> Result<i64, String> {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let cert = reqwest::Certificate::from_pem(ca_pem.as_bytes()).map_err(|e| e.to_string())?;
        let client = reqwest::Client::builder()
            .add_root_certificate(cert)
            .build()
            .map_err(|e| e.to_string())?;
        let v: serde_json::Value = client
            .post(format!("{api}/auth/get_admin_token"))
            .header("operationID", "1")
            .body(r#"{"secret":"openIM123","userID":"imAdmin"}"#)
            .send()
            .await
            .map_err(|e| format!("{e:?}"))?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        Ok(v["errCode"].as_i64().unwrap_or(-1))
    })
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn tls_flag_serves_https_and_wss_with_a_generated_certificate_kept_in_the_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().to_str().expect("utf-8 path");
    let first = start(&["--tls", "--data-dir", data]);
    assert!(first.api.starts_with("https://127.0.0.1:"), "{}", first.api);
    assert!(first.ws.starts_with("wss://127.0.0.1:"), "{}", first.ws);
    let cert = read(&dir.path().join("tls-cert.pem"));
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"), "{cert}");
    assert_eq!(admin_token_call(&first.api, &cert), Ok(0));
    drop(first);
    // A restart on the same data dir keeps the certificate clients already trust.
    let second = start(&["--tls", "--data-dir", data]);
    assert_eq!(read(&dir.path().join("tls-cert.pem")), cert);
    assert_eq!(admin_token_call(&second.api, &cert), Ok(0));
    // A certificate the client does not trust is refused.
    let (other, _) = openim_sandbox::tls::generate_self_signed().expect("another certificate");
    let refused = admin_token_call(&second.api, &other).expect_err("untrusted");
    assert!(refused.contains("UnknownIssuer"), "{refused}");
}

#[test]
fn tls_cert_and_key_files_and_cert_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert_pem, key_pem) = openim_sandbox::tls::generate_self_signed().expect("certificate");
    let (cert, key, out) = (
        dir.path().join("c.pem"),
        dir.path().join("k.pem"),
        dir.path().join("out.pem"),
    );
    std::fs::write(&cert, &cert_pem).expect("write cert");
    std::fs::write(&key, &key_pem).expect("write key");
    let running = start(&[
        "--tls-cert",
        cert.to_str().expect("utf-8"),
        "--tls-key",
        key.to_str().expect("utf-8"),
        "--tls-cert-out",
        out.to_str().expect("utf-8"),
    ]);
    assert!(running.api.starts_with("https://"), "{}", running.api);
    assert_eq!(read(&out).trim(), cert_pem.trim(), "the given certificate");
    assert_eq!(admin_token_call(&running.api, &read(&out)), Ok(0));
}

#[test]
fn bad_tls_files_fail_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert_pem, _) = openim_sandbox::tls::generate_self_signed().expect("certificate");
    let (_, other_key) = openim_sandbox::tls::generate_self_signed().expect("certificate");
    let (cert, key) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
    std::fs::write(&cert, &cert_pem).expect("write cert");
    for (key_text, expect) in [
        ("not a key", "private key"),
        (other_key.as_str(), "do not fit"),
    ] {
        std::fs::write(&key, key_text).expect("write key");
        let out = Command::new(env!("CARGO_BIN_EXE_openim-sandbox"))
            .args(["--api-addr", "127.0.0.1:0", "--ws-addr", "127.0.0.1:0"])
            .args(["--tls-cert", cert.to_str().expect("utf-8")])
            .args(["--tls-key", key.to_str().expect("utf-8")])
            .output()
            .expect("run binary");
        let stderr = String::from_utf8_lossy(&out.stderr);
        println!(
            "bad TLS key ({key_text:.12}…) -> exit {:?}: {stderr}",
            out.status.code()
        );
        assert!(!out.status.success());
        assert!(stderr.contains("TLS setup failed"), "{stderr}");
        assert!(stderr.contains(expect), "{stderr}");
    }
    // --tls-cert without --tls-key is a usage error.
    let out = Command::new(env!("CARGO_BIN_EXE_openim-sandbox"))
        .args(["--tls-cert", cert.to_str().expect("utf-8")])
        .output()
        .expect("run binary");
    assert!(!out.status.success());
}

#[test]
fn non_loopback_bind_warns_loudly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_openim-sandbox"))
        .args(["--api-addr", "0.0.0.0:0", "--ws-addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn binary");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("ready line");
    assert!(line.starts_with("ready "), "{line}");
    let _ = child.kill();
    let _ = child.wait();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr text");
    println!("non-loopback bind -> {stderr}");
    assert!(
        stderr.contains("WARNING") && stderr.contains("0.0.0.0"),
        "{stderr}"
    );
}

//! The `openim-sandbox` binary: ready line with the real ports, serves, stops on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn binary_prints_ready_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_openim-sandbox"))
        .args([
            "--api-addr",
            "127.0.0.1:0",
            "--ws-addr",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn binary");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("ready line");
    assert!(line.starts_with("ready api=http://127.0.0.1:"), "{line}");
    let api = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.strip_prefix("api="))
        .expect("api")
        .to_string();
    assert!(!api.ends_with(":0"), "real port printed: {line}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let v: serde_json::Value = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("{api}/auth/get_admin_token"))
            .header("operationID", "1")
            .body(r#"{"secret":"openIM123","userID":"imAdmin"}"#)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(v["errCode"], 0);
    // idle open connections must not keep the process alive
    let ws_addr = line
        .split_whitespace()
        .nth(2)
        .and_then(|s| s.strip_prefix("ws=ws://"))
        .expect("ws")
        .to_string();
    let api_addr = api.trim_start_matches("http://").to_string();
    let _idle_ws = std::net::TcpStream::connect(&ws_addr).expect("tcp to ws port");
    let _idle_api = std::net::TcpStream::connect(&api_addr).expect("tcp to api port");
    #[cfg(unix)]
    {
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let code = child.wait().unwrap();
        assert!(code.success(), "clean exit on SIGTERM: {code:?}");
    }
    #[cfg(not(unix))]
    {
        let _ = child.kill();
    }
}

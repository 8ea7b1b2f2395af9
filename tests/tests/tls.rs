//! TLS (issue 7 §4): the client over https/wss with rustls, against the sandbox serving TLS
//! itself (`SandboxConfig::tls_self_signed`: a self-signed certificate generated with rcgen at
//! start, exposed as `Sandbox::tls_cert_pem`).
//!
//! The client must refuse an untrusted certificate with a typed error — never fall back to
//! plaintext, never panic, never storm — and work end to end once the certificate is trusted
//! through `SessionConfig::tls_root_ca`. Plaintext and garbage sent to the TLS ports fail
//! cleanly on both sides and leave the sandbox serving.

mod common;

use std::sync::Arc;

use common::*;
use openim_bot::event::Event;
use openim_bot::{Session, SessionConfig, SessionError};
use openim_sandbox::{Sandbox, SandboxConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A sandbox serving https and wss with a fresh self-signed certificate.
async fn tls_sandbox() -> Arc<Sandbox> {
    init_logs();
    let sb = Sandbox::start(SandboxConfig::default().tls_self_signed())
        .await
        .expect("TLS sandbox starts");
    assert!(sb.api_url().starts_with("https://"), "{}", sb.api_url());
    assert!(sb.ws_url().starts_with("wss://"), "{}", sb.ws_url());
    Arc::new(sb)
}

/// Writes the sandbox's certificate where `tls_root_ca` can read it.
fn write_ca(sb: &Sandbox, dir: &std::path::Path) -> std::path::PathBuf {
    let pem = sb
        .tls_cert_pem()
        .expect("a TLS sandbox exposes its certificate");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    let path = dir.join("sandbox-ca.pem");
    std::fs::write(&path, pem).expect("write CA");
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_over_https_and_wss_trusting_the_sandbox_certificate() {
    let sb = tls_sandbox().await;
    // The sandbox's own helpers already go through https (they trust the certificate).
    let admin = sb.admin_token().await.expect("admin token over https");
    register(&sb, &admin, &["tlsok".to_owned(), "tlspeer".to_owned()]).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = SessionConfig::with_secret(
        sb.api_url(),
        sb.ws_url(),
        dir.path().join("data"),
        "tlsok",
        sb.secret(),
    );
    cfg.tls_root_ca = Some(write_ca(&sb, dir.path()));
    let mut s = start_session(cfg).await;
    assert_eq!(sb.connection_count("tlsok"), 1, "connected over wss");
    send(&sb, &admin, "tlspeer", "tlsok", "over tls").await;
    let got = wait_for(
        &mut s,
        "message over wss",
        |e| matches!(e, Event::NewMessage(m) if m.text() == Some("over tls")),
    )
    .await;
    let sent = s
        .client()
        .send_text(openim_bot::Target::user("tlspeer"), "reply over wss")
        .await;
    println!(
        "TLS sandbox (self-signed, generated): https login ok, received over wss {:?}, sent ok={}, \
         failed handshakes={}",
        matches!(got, Event::NewMessage(_)),
        sent.is_ok(),
        sb.tls_handshake_failures(),
    );
    assert!(sent.is_ok(), "{sent:?}");
    assert_eq!(sb.tls_handshake_failures(), 0, "every handshake succeeded");
    assert_eq!(sb.faults().ws_connect_attempts("tlsok"), 1, "one dial");
    s.shutdown().await.expect("shutdown");
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusting_client_gets_a_typed_certificate_error_and_no_retry_storm() {
    let sb = tls_sandbox().await;
    sb.register_user("tlsbot", "tlsbot")
        .await
        .expect("register");
    let dir = tempfile::tempdir().expect("tempdir");

    // HTTPS (login with the secret): a typed error naming the certificate problem.
    let cfg = SessionConfig::with_secret(
        sb.api_url(),
        sb.ws_url(),
        dir.path().join("a"),
        "tlsbot",
        sb.secret(),
    );
    let err = tokio::time::timeout(WAIT, Session::start(cfg))
        .await
        .expect("fails in time")
        .expect_err("untrusted certificate refused");
    println!("TLS https with the untrusted sandbox certificate -> {err}");
    assert!(matches!(err, SessionError::Login(_)), "{err:?}");
    assert!(
        err.to_string().contains("certificate"),
        "names the cause: {err}"
    );

    // WSS (token login skips HTTP): each dial fails with ConnectFailed naming the certificate;
    // dials are spaced by a growing backoff and never fall back to plaintext.
    let token = sb.user_token("tlsbot", 7).await.expect("token");
    let cfg = SessionConfig::with_token(
        sb.api_url(),
        sb.ws_url(),
        dir.path().join("b"),
        "tlsbot",
        token,
    );
    let mut s = Session::start(cfg).await.expect("token sessions start");
    let mut failures = Vec::new();
    while failures.len() < 3 {
        let Event::ConnectFailed(f) = wait_for(&mut s, "ConnectFailed", |e| {
            matches!(e, Event::ConnectFailed(_))
        })
        .await
        else {
            unreachable!()
        };
        failures.push(f);
    }
    s.shutdown().await.expect("shutdown");
    let handshakes_failed = sb.tls_handshake_failures();
    for f in &failures {
        println!(
            "TLS wss with the untrusted sandbox certificate -> ConnectFailed {} {} (retry in {} ms)",
            f.err_code, f.err_msg, f.retry_in_ms
        );
        assert!(
            f.err_msg.to_lowercase().contains("certificate"),
            "names the certificate problem: {}",
            f.err_msg
        );
    }
    println!(
        "TLS untrusted: ConnectFailed events={} server-side failed handshakes={handshakes_failed} \
         (1 https + the wss dials) gateway attempts={}",
        failures.len(),
        sb.faults().ws_connect_attempts("tlsbot")
    );
    assert!(
        failures
            .windows(2)
            .all(|w| w[1].retry_in_ms >= w[0].retry_in_ms)
            && failures[0].retry_in_ms > 0,
        "backoff grows: {:?}",
        failures.iter().map(|f| f.retry_in_ms).collect::<Vec<_>>()
    );
    // Every failed handshake is a dial the client reported (at most one more was in progress
    // at shutdown): no hidden retries.
    assert!(
        handshakes_failed <= 1 + failures.len() as u64 + 1,
        "{handshakes_failed} failed handshakes for {} reported failures",
        failures.len()
    );
    assert_eq!(
        sb.faults().ws_connect_attempts("tlsbot"),
        0,
        "nothing reached the gateway"
    );
    assert_eq!(sb.connection_count("tlsbot"), 0);
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_to_the_tls_ports_fails_cleanly() {
    let sb = tls_sandbox().await;
    sb.register_user("plainbot", "plainbot")
        .await
        .expect("register");
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = write_ca(&sb, dir.path());
    let plain_api = format!("http://{}", sb.api_addr());
    let plain_ws = format!("ws://{}", sb.ws_addr());

    // http:// to the https port: the login fails with a transport error.
    let mut cfg = SessionConfig::with_secret(
        &plain_api,
        &plain_ws,
        dir.path().join("a"),
        "plainbot",
        sb.secret(),
    );
    cfg.tls_root_ca = Some(ca.clone());
    let err = tokio::time::timeout(WAIT, Session::start(cfg))
        .await
        .expect("fails in time")
        .expect_err("plaintext HTTP to a TLS port fails");
    println!("TLS port, plain http:// login -> {err}");
    assert!(matches!(err, SessionError::Login(_)), "{err:?}");

    // ws:// to the wss port: the dial fails (ConnectFailed), no panic, nothing reaches the
    // gateway.
    let token = sb.user_token("plainbot", 7).await.expect("token");
    let mut cfg = SessionConfig::with_token(
        sb.api_url(),
        &plain_ws,
        dir.path().join("b"),
        "plainbot",
        token,
    );
    cfg.tls_root_ca = Some(ca);
    let mut s = Session::start(cfg).await.expect("token sessions start");
    let Event::ConnectFailed(f) = wait_for(&mut s, "ConnectFailed", |e| {
        matches!(e, Event::ConnectFailed(_))
    })
    .await
    else {
        unreachable!()
    };
    s.shutdown().await.expect("shutdown");
    println!(
        "TLS port, plain ws:// dial -> ConnectFailed {} {} (retry in {} ms); failed handshakes={}",
        f.err_code,
        f.err_msg,
        f.retry_in_ms,
        sb.tls_handshake_failures()
    );
    assert_eq!(f.err_code, 10000, "a network-level failure");
    assert!(sb.tls_handshake_failures() >= 2, "both refused by TLS");
    assert_eq!(sb.faults().ws_connect_attempts("plainbot"), 0);
    // The sandbox keeps serving TLS.
    sb.admin_token().await.expect("https still works");
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_handshakes_are_dropped_and_counted() {
    let sb = tls_sandbox().await;
    for (port, what) in [(sb.api_addr(), "api"), (sb.ws_addr(), "ws")] {
        for garbage in [
            vec![0u8; 1024],
            b"\x16\x03\x01\xff\xff garbage after a TLS record header".to_vec(),
            (0..=255u8).cycle().take(4096).collect::<Vec<u8>>(),
        ] {
            let before = sb.tls_handshake_failures();
            let mut tcp = tokio::net::TcpStream::connect(port).await.expect("connect");
            // The server may close while we are still writing: that is a clean refusal too.
            let _ = tcp.write_all(&garbage).await;
            let mut answer = Vec::new();
            let closed = tokio::time::timeout(WAIT, tcp.read_to_end(&mut answer)).await;
            let closed = closed.expect("the sandbox closes the connection in time");
            println!(
                "TLS {what} port, {} garbage bytes -> closed ({}), {} bytes answered (TLS alert), \
                 failed handshakes {} -> {}",
                garbage.len(),
                match &closed {
                    Ok(_) => "EOF".to_owned(),
                    Err(e) => e.kind().to_string(),
                },
                answer.len(),
                before,
                sb.tls_handshake_failures()
            );
            assert!(answer.len() < 64, "at most an alert comes back");
            assert!(sb.tls_handshake_failures() > before, "counted");
        }
    }
    // Still serving.
    sb.admin_token().await.expect("https still works");
    shutdown(sb).await;
}

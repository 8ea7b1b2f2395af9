//! TLS (issue 7 §4): the client over https/wss with rustls, against the sandbox behind a TLS
//! endpoint with a freshly generated self-signed certificate (rcgen).
//!
//! The TLS endpoint is a test-side terminator in front of the sandbox's two listeners (the
//! sandbox has no TLS option yet). The client must refuse the untrusted certificate with a
//! typed error — never fall back to plaintext, never panic — and work end to end once the
//! certificate is trusted through `SessionConfig::tls_root_ca`.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::*;
use openim_bot::event::Event;
use openim_bot::{Session, SessionConfig, SessionError};
use tokio::net::{TcpListener, TcpStream};

/// A TLS terminator on loopback forwarding plaintext to `upstream`.
struct TlsFront {
    addr: SocketAddr,
    handshakes: Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn server_config() -> Arc<rustls::ServerConfig> {
    server_config_and_pem().0
}

/// A server config with a fresh self-signed certificate, and that certificate as PEM.
fn server_config_and_pem() -> (Arc<rustls::ServerConfig>, String) {
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .expect("self-signed certificate");
    let pem = certified.cert.pem();
    let cert = certified.cert.der().clone();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(certified.key_pair.serialize_der().into());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .expect("server config");
    (Arc::new(config), pem)
}

async fn tls_front(upstream: SocketAddr, config: Arc<rustls::ServerConfig>) -> TlsFront {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let handshakes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = handshakes.clone();
    let task = tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            let count = count.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let Ok(mut plain) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    TlsFront {
        addr,
        handshakes,
        task,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_refuses_an_untrusted_self_signed_certificate() {
    let sb = sandbox().await;
    sb.register_user("tlsbot", "tlsbot")
        .await
        .expect("register");
    let config = server_config();
    let api = tls_front(sb.api_addr(), config.clone()).await;
    let ws = tls_front(sb.ws_addr(), config).await;
    let api_url = format!("https://127.0.0.1:{}", api.addr.port());
    let ws_url = format!("wss://127.0.0.1:{}", ws.addr.port());
    let dir = tempfile::tempdir().expect("tempdir");

    // HTTPS (login with the secret): a typed error naming the certificate problem.
    let cfg = SessionConfig::with_secret(
        &api_url,
        &ws_url,
        dir.path().join("a"),
        "tlsbot",
        sb.secret(),
    );
    let err = tokio::time::timeout(WAIT, Session::start(cfg))
        .await
        .expect("fails in time")
        .expect_err("untrusted certificate refused");
    println!("TLS https with an untrusted self-signed certificate -> {err}");
    assert!(matches!(err, SessionError::Login(_)), "{err:?}");
    assert!(
        err.to_string().contains("certificate"),
        "names the cause: {err}"
    );
    assert_eq!(
        api.handshakes.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "no TLS session was established"
    );

    // WSS (token login skips HTTP): the dial fails, reported as ConnectFailed, retried with
    // backoff; no plaintext fallback.
    let token = sb.user_token("tlsbot", 7).await.expect("token");
    let cfg = SessionConfig::with_token(&api_url, &ws_url, dir.path().join("b"), "tlsbot", token);
    let mut s = Session::start(cfg).await.expect("token sessions start");
    let failed = wait_for(&mut s, "ConnectFailed", |e| {
        matches!(e, Event::ConnectFailed(_))
    })
    .await;
    let Event::ConnectFailed(f) = failed else {
        unreachable!()
    };
    println!(
        "TLS wss with an untrusted self-signed certificate -> ConnectFailed {} {} (retry in {} ms)",
        f.err_code, f.err_msg, f.retry_in_ms
    );
    assert!(
        f.err_msg.to_lowercase().contains("certificate"),
        "names the certificate problem: {}",
        f.err_msg
    );
    assert_eq!(ws.handshakes.load(std::sync::atomic::Ordering::SeqCst), 0);
    assert_eq!(
        sb.connection_count("tlsbot"),
        0,
        "nothing reached the gateway"
    );
    s.shutdown().await.expect("shutdown");
    drop(api);
    drop(ws);
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_works_over_https_and_wss_when_the_certificate_is_trusted() {
    let sb = sandbox().await;
    let admin = sb.admin_token().await.expect("admin");
    register(&sb, &admin, &["tlsok".to_owned(), "tlspeer".to_owned()]).await;
    let (config, pem) = server_config_and_pem();
    let api = tls_front(sb.api_addr(), config.clone()).await;
    let ws = tls_front(sb.ws_addr(), config).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pem).expect("write CA");
    let mut cfg = SessionConfig::with_secret(
        format!("https://127.0.0.1:{}", api.addr.port()),
        format!("wss://127.0.0.1:{}", ws.addr.port()),
        dir.path().join("data"),
        "tlsok",
        sb.secret(),
    );
    cfg.tls_root_ca = Some(ca);
    let mut s = start_session(cfg).await;
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
        "TLS https+wss with the self-signed certificate trusted (tls_root_ca): login ok, \
         received {:?}, sent ok={}, TLS sessions api={} ws={}",
        matches!(got, Event::NewMessage(_)),
        sent.is_ok(),
        api.handshakes.load(std::sync::atomic::Ordering::SeqCst),
        ws.handshakes.load(std::sync::atomic::Ordering::SeqCst)
    );
    assert!(sent.is_ok(), "{sent:?}");
    assert!(api.handshakes.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    assert!(ws.handshakes.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    s.shutdown().await.expect("shutdown");
    drop(api);
    drop(ws);
    shutdown(sb).await;
}

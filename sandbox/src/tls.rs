//! TLS for the sandbox's two listeners: https on the API port and wss on the gateway port.
//!
//! The certificate is either generated (a self-signed certificate for `localhost`, `127.0.0.1`
//! and `::1`, made with rcgen; kept in the data directory when there is one, so a restarted
//! sandbox keeps its identity) or loaded from PEM files. Clients trust it through its PEM
//! ([`crate::Sandbox::tls_cert_pem`]), e.g. the framework's `SessionConfig::tls_root_ca` /
//! `OPENIM_TLS_CA`.
//!
//! Handshakes run in their own tasks, bounded by [`HANDSHAKE_TIMEOUT`], so a client that
//! sends garbage, plaintext or nothing never holds up the accept loop; failed handshakes are
//! counted ([`crate::Sandbox::tls_handshake_failures`]) and logged at debug level.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::either::Either;
use tokio_util::sync::CancellationToken;

use crate::error::SandboxError;

/// Longest time a client may take to complete the TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// File names of a generated certificate and its key inside the data directory.
pub const CERT_FILE: &str = "tls-cert.pem";
/// See [`CERT_FILE`].
pub const KEY_FILE: &str = "tls-key.pem";

/// Where the sandbox's TLS certificate comes from (see `SandboxConfig::tls`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TlsSource {
    /// A self-signed certificate for `localhost`, `127.0.0.1` and `::1`, generated at start
    /// (or reused from the data directory's [`CERT_FILE`]/[`KEY_FILE`] when both exist).
    SelfSigned,
    /// A certificate chain and a private key from PEM files.
    Files {
        /// The certificate chain (PEM, leaf first).
        cert: PathBuf,
        /// The private key (PEM: PKCS#8, PKCS#1 or SEC1).
        key: PathBuf,
    },
}

/// The server-side TLS material: the acceptor and the certificate clients must trust.
pub(crate) struct TlsMaterial {
    pub(crate) acceptor: TlsAcceptor,
    /// The leaf certificate (PEM).
    pub(crate) cert_pem: String,
}

/// Builds the TLS material for `source`; `data_dir` keeps a generated certificate.
pub(crate) fn material(
    source: &TlsSource,
    data_dir: Option<&Path>,
) -> Result<TlsMaterial, SandboxError> {
    let (cert_pem, key_pem) = match source {
        TlsSource::SelfSigned => self_signed_in(data_dir)?,
        TlsSource::Files { cert, key } => (read_pem(cert, "certificate")?, read_pem(key, "key")?),
    };
    let certs = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| SandboxError::Tls(format!("bad certificate PEM: {e}")))?;
    if certs.is_empty() {
        return Err(SandboxError::Tls(
            "no CERTIFICATE section in the certificate PEM".into(),
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|e| SandboxError::Tls(format!("bad private key PEM: {e}")))?;
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| SandboxError::Tls(format!("protocol versions: {e}")))?
    .with_no_client_auth()
    .with_single_cert(certs.clone(), key)
    .map_err(|e| SandboxError::Tls(format!("certificate and key do not fit: {e}")))?;
    // Clients trust the leaf (self-signed) certificate, whatever file it came from.
    let leaf = pem_of(&certs[0]);
    Ok(TlsMaterial {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        cert_pem: leaf,
    })
}

fn read_pem(path: &Path, what: &str) -> Result<String, SandboxError> {
    std::fs::read_to_string(path)
        .map_err(|e| SandboxError::Tls(format!("cannot read TLS {what} {}: {e}", path.display())))
}

/// PEM text of one DER certificate.
fn pem_of(cert: &CertificateDer<'_>) -> String {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----\n");
    out
}

/// A fresh self-signed certificate and its private key (both PEM) for `localhost`,
/// `127.0.0.1` and `::1`.
pub fn generate_self_signed() -> Result<(String, String), SandboxError> {
    let names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let fail = |e: rcgen::Error| SandboxError::Tls(format!("generating a certificate: {e}"));
    let mut params = rcgen::CertificateParams::new(names).map_err(fail)?;
    // A distinct subject per certificate: a client trusting an older one gets "unknown
    // issuer" rather than a confusing signature error.
    let mut name = rcgen::DistinguishedName::new();
    name.push(
        rcgen::DnType::CommonName,
        format!("openim-sandbox {}", uuid::Uuid::new_v4().simple()),
    );
    params.distinguished_name = name;
    let key = rcgen::KeyPair::generate().map_err(fail)?;
    let cert = params.self_signed(&key).map_err(fail)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// A generated certificate, reused from (or saved to) `data_dir` when given.
fn self_signed_in(data_dir: Option<&Path>) -> Result<(String, String), SandboxError> {
    let Some(dir) = data_dir else {
        return generate_self_signed();
    };
    let (cert_path, key_path) = (dir.join(CERT_FILE), dir.join(KEY_FILE));
    if cert_path.is_file() && key_path.is_file() {
        tracing::info!(cert = %cert_path.display(), "reusing the sandbox's TLS certificate");
        return Ok((
            read_pem(&cert_path, "certificate")?,
            read_pem(&key_path, "key")?,
        ));
    }
    let (cert, key) = generate_self_signed()?;
    let io = |path: &Path, e: std::io::Error| {
        SandboxError::Tls(format!("cannot write {}: {e}", path.display()))
    };
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    write_private(&key_path, &key).map_err(|e| io(&key_path, e))?;
    std::fs::write(&cert_path, &cert).map_err(|e| io(&cert_path, e))?;
    tracing::info!(cert = %cert_path.display(), "generated a self-signed TLS certificate");
    Ok((cert, key))
}

/// Writes a private key readable by its owner only.
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    std::io::Write::write_all(&mut options.open(path)?, text.as_bytes())
}

/// A connection accepted by a sandbox listener: plain TCP or TLS over TCP.
pub(crate) type SandboxStream = Either<TcpStream, TlsStream<TcpStream>>;

/// One of the sandbox's listeners, plain or TLS, as an axum [`axum::serve::Listener`].
pub(crate) struct SandboxListener {
    kind: Kind,
    local: SocketAddr,
}

enum Kind {
    Plain(TcpListener),
    /// Completed handshakes, fed by the accept task.
    Tls(mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>),
}

impl SandboxListener {
    /// Serves `listener` as is.
    pub(crate) fn plain(listener: TcpListener, local: SocketAddr) -> SandboxListener {
        SandboxListener {
            kind: Kind::Plain(listener),
            local,
        }
    }

    /// Serves `listener` through TLS: an accept task (stopped by `shutdown`) hands every TCP
    /// connection to its own handshake task; failures are counted in `failures`.
    pub(crate) fn tls(
        listener: TcpListener,
        local: SocketAddr,
        acceptor: TlsAcceptor,
        failures: Arc<AtomicU64>,
        shutdown: CancellationToken,
    ) -> SandboxListener {
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                let (tcp, peer) = tokio::select! {
                    _ = shutdown.cancelled() => break,
                    accepted = accept_tcp(&listener) => accepted,
                };
                let (acceptor, tx, failures) = (acceptor.clone(), tx.clone(), failures.clone());
                tokio::spawn(async move {
                    let handshake = acceptor.accept(tcp).into_fallible();
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, handshake).await {
                        Ok(Ok(tls)) => {
                            // The server stopped if nobody receives: drop the connection.
                            let _ = tx.send((tls, peer)).await;
                        }
                        Ok(Err((e, tcp))) => {
                            // Counted before the connection closes, so a client that sees
                            // the close also sees the count.
                            failures.fetch_add(1, Ordering::SeqCst);
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            drop(tcp);
                        }
                        Err(_) => {
                            failures.fetch_add(1, Ordering::SeqCst);
                            tracing::debug!(%peer, "TLS handshake timed out");
                        }
                    }
                });
            }
        });
        SandboxListener {
            kind: Kind::Tls(rx),
            local,
        }
    }
}

/// Accepts one TCP connection (retrying on errors as axum's own listener does) and sets
/// `TCP_NODELAY`.
async fn accept_tcp(listener: &TcpListener) -> (TcpStream, SocketAddr) {
    loop {
        match listener.accept().await {
            Ok((tcp, peer)) => {
                let _ = tcp.set_nodelay(true);
                return (tcp, peer);
            }
            Err(e) if is_connection_error(&e) => {}
            Err(e) => {
                // e.g. too many open files: back off instead of spinning
                tracing::error!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

impl axum::serve::Listener for SandboxListener {
    type Io = SandboxStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match &mut self.kind {
            Kind::Plain(listener) => {
                let (tcp, peer) = accept_tcp(listener).await;
                (Either::Left(tcp), peer)
            }
            Kind::Tls(rx) => match rx.recv().await {
                Some((tls, peer)) => (Either::Right(tls), peer),
                // The accept task stopped (shutdown): nothing more will come.
                None => std::future::pending().await,
            },
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

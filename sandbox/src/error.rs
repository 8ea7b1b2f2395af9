//! Errors: the coded errors the sandbox answers with (as OpenIM does) and the library's own errors.

use std::fmt;

/// A coded OpenIM error as carried in the HTTP envelope, the gateway envelope or the connect answer.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeError {
    /// The numeric OpenIM error code (e.g. 1002).
    pub code: i32,
    /// The short error name (e.g. `NoPermissionError`).
    pub msg: String,
    /// Free-form detail.
    pub dlt: String,
}

impl fmt::Debug for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ({})", self.code, self.msg, self.dlt)
    }
}

impl fmt::Display for CodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for CodeError {}

/// The upstream short name (errMsg) of an error code, from [`openim_protocol::error::ErrorCode`].
pub fn code_name(code: i32) -> &'static str {
    openim_protocol::error::ErrorCode::from_i32(code).server_err_msg()
}

impl CodeError {
    /// An error with the upstream name for `code` and the given detail.
    pub fn new(code: i32, dlt: impl Into<String>) -> Self {
        CodeError {
            code,
            msg: code_name(code).to_string(),
            dlt: dlt.into(),
        }
    }
    /// An error with an explicit message.
    pub fn with_msg(code: i32, msg: impl Into<String>, dlt: impl Into<String>) -> Self {
        CodeError {
            code,
            msg: msg.into(),
            dlt: dlt.into(),
        }
    }
    /// 1001 ArgsError.
    pub fn args(dlt: impl Into<String>) -> Self {
        Self::new(1001, dlt)
    }
    /// 1002 NoPermissionError.
    pub fn no_permission(dlt: impl Into<String>) -> Self {
        Self::new(1002, dlt)
    }
    /// 1004 RecordNotFoundError.
    pub fn not_found(dlt: impl Into<String>) -> Self {
        Self::new(1004, dlt)
    }
    /// 500 ServerInternalError.
    pub fn internal(dlt: impl Into<String>) -> Self {
        Self::new(500, dlt)
    }
}

/// Errors of the sandbox library itself (starting, stopping, persisting).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// Binding a listener failed.
    #[error("cannot bind {what} listener on {addr}: {source}")]
    Bind {
        /// Which listener ("api" or "ws").
        what: &'static str,
        /// The requested address.
        addr: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The persistent store could not be opened or written.
    #[error("data store error at {path}: {message}")]
    Store {
        /// The data directory.
        path: String,
        /// What failed.
        message: String,
    },
    /// TLS setup failed.
    #[error("TLS setup failed: {0}")]
    Tls(String),
    /// A server task failed.
    #[error("server task failed: {0}")]
    Task(String),
    /// A test-helper HTTP call failed.
    #[error("sandbox API call {route} failed: {error}")]
    Api {
        /// The route that was called.
        route: String,
        /// The coded error or transport error text.
        error: String,
    },
}

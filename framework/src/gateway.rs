//! The WebSocket gateway connection (internal).

/// Handle to send requests over the current gateway connection.
#[derive(Debug, Clone)]
pub(crate) struct GatewayHandle {}

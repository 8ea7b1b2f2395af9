//! Wires gateway, sync, store and ledger together (internal).

use tokio::sync::mpsc;

use crate::client::Client;
use crate::config::SessionConfig;
use crate::delivery::Delivery;
use crate::session::SessionError;

/// Stops the background tasks of a session.
#[derive(Debug)]
pub(crate) struct ShutdownHandle {}

impl ShutdownHandle {
    pub(crate) async fn shutdown(self) -> Result<(), SessionError> {
        Ok(())
    }
}

pub(crate) async fn start(
    _config: SessionConfig,
) -> Result<(Client, mpsc::Receiver<Delivery>, ShutdownHandle), SessionError> {
    Err(SessionError::Closed)
}

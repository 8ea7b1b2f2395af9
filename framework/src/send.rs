//! Sending messages over the gateway (1003).

use crate::client::{Client, ClientError, SentMessage, Target};
use crate::content::Content;
use crate::gateway::GatewayHandle;

pub(crate) async fn send(
    _client: &Client,
    _gateway: &GatewayHandle,
    _target: Target,
    _content: Content,
) -> Result<SentMessage, ClientError> {
    Err(ClientError::NotConnected)
}

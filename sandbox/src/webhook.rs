//! Webhooks: `POST <url>/<command>` with the upstream bodies; before-callbacks can reject or modify.

use std::time::Duration;

use serde_json::Value;

use crate::error::CodeError;

/// Largest webhook answer read (1 MiB): a broken or hostile webhook cannot make the sandbox
/// buffer more; a larger answer is a format error (90007).
pub(crate) const MAX_WEBHOOK_ANSWER: usize = 1024 * 1024;

/// Webhook client (disabled without a URL).
pub(crate) struct Webhooks {
    url: Option<String>,
    timeout: Duration,
    client: reqwest::Client,
}

impl Webhooks {
    pub(crate) fn new(url: Option<String>, timeout: Duration) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap_or_default();
        Webhooks {
            url: url.map(|u| u.trim_end_matches('/').to_string()),
            timeout,
            client,
        }
    }

    pub(crate) fn enabled(&self) -> bool {
        self.url.is_some()
    }

    /// A before-callback: `Ok(None)` when disabled, `Ok(Some(reply))` to proceed (apply modifications),
    /// `Err` when rejected (the webhook's code), unreachable (90004) or unparsable (90007).
    pub(crate) async fn before(
        &self,
        command: &str,
        operation_id: &str,
        mut body: Value,
    ) -> Result<Option<Value>, CodeError> {
        let Some(url) = &self.url else {
            return Ok(None);
        };
        if let Some(obj) = body.as_object_mut() {
            obj.insert(
                "callbackCommand".to_string(),
                Value::String(command.to_string()),
            );
        }
        let target = format!("{url}/{command}");
        let resp = self
            .client
            .post(&target)
            .header("operationID", operation_id)
            .header("Content-Type", "application/json; charset=utf-8")
            .timeout(self.timeout)
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| CodeError::new(90004, format!("{target}: {e}")))?;
        let text = read_limited(resp, &target).await?;
        let reply: Value = serde_json::from_slice(&text)
            .ok()
            .filter(Value::is_object)
            .ok_or_else(|| CodeError::new(90007, format!("{command} response format error")))?;
        for key in ["actionCode", "errCode", "nextCode"] {
            if let Some(v) = reply.get(key)
                && !v.is_null()
                && !v.is_number()
            {
                return Err(CodeError::new(
                    90007,
                    format!("{command} response format error"),
                ));
            }
        }
        let action = reply.get("actionCode").and_then(Value::as_i64).unwrap_or(0);
        let next = reply.get("nextCode").and_then(Value::as_i64).unwrap_or(0);
        if action == 0 && next == 1 {
            let mut code = reply.get("errCode").and_then(Value::as_i64).unwrap_or(0) as i32;
            if code <= 0 {
                code = 500;
            }
            let msg = reply
                .get("errMsg")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let dlt = reply
                .get("errDlt")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            return Err(CodeError::with_msg(code, msg, dlt));
        }
        Ok(Some(reply))
    }

    /// An after-callback, fire and forget (its answer is not read).
    pub(crate) fn after(&self, command: &str, operation_id: &str, mut body: Value) {
        let Some(url) = &self.url else { return };
        if let Some(obj) = body.as_object_mut() {
            obj.insert(
                "callbackCommand".to_string(),
                Value::String(command.to_string()),
            );
        }
        let target = format!("{url}/{command}");
        let client = self.client.clone();
        let op = operation_id.to_string();
        let timeout = self.timeout;
        tokio::spawn(async move {
            let r = client
                .post(&target)
                .header("operationID", op)
                .header("Content-Type", "application/json; charset=utf-8")
                .timeout(timeout)
                .body(body.to_string())
                .send()
                .await;
            if let Err(e) = r {
                tracing::debug!(error = %e, "after-webhook failed");
            }
        });
    }
}

/// Reads a webhook answer, refusing it (90007) past [`MAX_WEBHOOK_ANSWER`] bytes.
async fn read_limited(mut resp: reqwest::Response, target: &str) -> Result<Vec<u8>, CodeError> {
    let too_large = || {
        tracing::warn!(
            target,
            limit = MAX_WEBHOOK_ANSWER,
            "webhook answer too large"
        );
        CodeError::new(
            90007,
            format!("{target}: answer larger than {MAX_WEBHOOK_ANSWER} bytes"),
        )
    };
    if resp.content_length().unwrap_or(0) > MAX_WEBHOOK_ANSWER as u64 {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| CodeError::new(90004, format!("{target}: {e}")))?
    {
        if body.len() + chunk.len() > MAX_WEBHOOK_ANSWER {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

//! The WebSocket connect URL's query parameters (ws-gateway §1.2): building them (client)
//! and parsing/validating them like the gateway does (server).
//!
//! ```
//! use openim_protocol::connect::{ConnectParams, ConnectRules, SdkType};
//!
//! let params = ConnectParams::new("u1", "tok", 7, "op-1");
//! let query = params.to_query();
//! assert_eq!(query, "sendID=u1&token=tok&platformID=7&operationID=op-1&isBackground=false&isMsgResp=true&sdkType=js");
//! let parsed = ConnectParams::parse(&query, ConnectRules::Patch).unwrap();
//! assert_eq!(parsed.sdk_type, SdkType::Js);
//! assert!(parsed.is_msg_resp);
//! ```

use base64::Engine as _;

use crate::constants::PlatformId;

/// Envelope codec chosen by `sdkType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SdkType {
    /// `go` or absent: gob envelopes (the native Go SDK).
    #[default]
    Go,
    /// `js`: JSON envelopes (`@openim/client-sdk`, recommended).
    Js,
}

/// Which server version's validation to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectRules {
    /// v3.8.3 .. patch.13: sendID, token, numeric platformID required; lenient otherwise.
    V383,
    /// patch.14+ / main: also operationID and a parseable isBackground required, platformID must be
    /// a known platform, invalid isMsgResp rejected, the `v` parameter accepted.
    Patch,
}

/// Why connect parameters were rejected (the server answers 1602 `ConnArgsErr`, or 500 for
/// a bad `isBackground` on patch servers).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid connect parameters: {reason}")]
pub struct ConnectArgsError {
    /// What is wrong (e.g. `token is empty`).
    pub reason: String,
    /// True when a patch server reports it as a non-coded 500 (bad `isBackground`).
    pub internal: bool,
}

fn args_err(reason: impl Into<String>) -> ConnectArgsError {
    ConnectArgsError {
        reason: reason.into(),
        internal: false,
    }
}

/// The connect query parameters. `Debug` redacts the token.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnectParams {
    /// `sendID`: the user logging in (must equal the token's `UserID`).
    pub send_id: String,
    /// `token`: the IM token.
    pub token: String,
    /// `platformID` (must equal the token's `PlatformID`).
    pub platform_id: i32,
    /// `operationID`: trace ID of the connect operation.
    pub operation_id: String,
    /// `isBackground` (has no effect on the server; send false).
    pub is_background: bool,
    /// `compression=gzip`: gzip every binary frame.
    pub gzip: bool,
    /// `isMsgResp=true`: the server answers with a connect-result text frame.
    pub is_msg_resp: bool,
    /// `sdkType`.
    pub sdk_type: SdkType,
    /// `sdkVersion` (main only, informational).
    pub sdk_version: Option<String>,
}

impl std::fmt::Debug for ConnectParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectParams")
            .field("send_id", &self.send_id)
            .field("token", &"<redacted>")
            .field("platform_id", &self.platform_id)
            .field("operation_id", &self.operation_id)
            .field("is_background", &self.is_background)
            .field("gzip", &self.gzip)
            .field("is_msg_resp", &self.is_msg_resp)
            .field("sdk_type", &self.sdk_type)
            .field("sdk_version", &self.sdk_version)
            .finish()
    }
}

/// Go `strconv.ParseBool`.
pub fn parse_go_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn percent_decode(text: &str) -> Result<String, ConnectArgsError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| args_err("invalid percent-encoding in query"))?;
                out.push(hex);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| args_err("query is not UTF-8"))
}

/// `v` parameter JSON (base64url without padding), patch servers only.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct VParam {
    token: String,
    #[serde(rename = "userID")]
    user_id: String,
    #[serde(rename = "platformID")]
    platform_id: i32,
    #[serde(rename = "operationID")]
    operation_id: String,
    compression: String,
    #[serde(rename = "sdkType")]
    sdk_type: String,
    #[serde(rename = "sendResponse")]
    send_response: bool,
    background: bool,
    #[serde(rename = "sdkVersion")]
    sdk_version: String,
}

impl ConnectParams {
    /// Parameters as the recommended Rust client sends them: `isBackground=false`,
    /// `isMsgResp=true`, `sdkType=js`, no compression.
    pub fn new(
        send_id: impl Into<String>,
        token: impl Into<String>,
        platform_id: i32,
        operation_id: impl Into<String>,
    ) -> Self {
        ConnectParams {
            send_id: send_id.into(),
            token: token.into(),
            platform_id,
            operation_id: operation_id.into(),
            is_background: false,
            gzip: false,
            is_msg_resp: true,
            sdk_type: SdkType::Js,
            sdk_version: None,
        }
    }

    /// The query string (without `?`), in the JS SDK's parameter order, values percent-encoded.
    pub fn to_query(&self) -> String {
        let mut q = format!(
            "sendID={}&token={}&platformID={}&operationID={}&isBackground={}&isMsgResp={}",
            percent_encode(&self.send_id),
            percent_encode(&self.token),
            self.platform_id,
            percent_encode(&self.operation_id),
            self.is_background,
            self.is_msg_resp,
        );
        q.push_str(match self.sdk_type {
            SdkType::Js => "&sdkType=js",
            SdkType::Go => "&sdkType=go",
        });
        if self.gzip {
            q.push_str("&compression=gzip");
        }
        if let Some(v) = &self.sdk_version {
            q.push_str("&sdkVersion=");
            q.push_str(&percent_encode(v));
        }
        q
    }

    /// Parses and validates a query string (with or without a leading `?`) as the gateway
    /// does under `rules`. `compression_header` is the value of the HTTP `compression`
    /// header, if any.
    pub fn parse_with_header(
        query: &str,
        rules: ConnectRules,
        compression_header: Option<&str>,
    ) -> Result<ConnectParams, ConnectArgsError> {
        let query = query.strip_prefix('?').unwrap_or(query);
        let mut fields: Vec<(String, String)> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            fields.push((percent_decode(k)?, percent_decode(v)?));
        }
        // Go's url.Values.Get returns the first value.
        let get = |key: &str| {
            fields
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };

        if let (ConnectRules::Patch, Some(v)) = (rules, get("v").filter(|v| !v.is_empty())) {
            return Self::parse_v(v);
        }

        let send_id = get("sendID").unwrap_or("");
        let token = get("token").unwrap_or("");
        if token.is_empty() {
            return Err(args_err("token is empty"));
        }
        if send_id.is_empty() {
            return Err(args_err("sendID is empty"));
        }
        let platform_id: i32 = get("platformID")
            .unwrap_or("")
            .parse()
            .map_err(|_| args_err("platformID is not a number"))?;
        let operation_id = get("operationID").unwrap_or("").to_string();
        let sdk_type = match get("sdkType").unwrap_or("") {
            "" | "go" => SdkType::Go,
            "js" => SdkType::Js,
            other => return Err(args_err(format!("sdkType {other:?} is not supported"))),
        };
        let query_compression = get("compression").unwrap_or("");
        let header_gzip = compression_header == Some("gzip");
        let gzip = match rules {
            ConnectRules::V383 => query_compression == "gzip" || header_gzip,
            ConnectRules::Patch => {
                query_compression == "gzip" || (query_compression.is_empty() && header_gzip)
            }
        };
        let is_background;
        let is_msg_resp;
        match rules {
            ConnectRules::V383 => {
                is_background = get("isBackground").and_then(parse_go_bool).unwrap_or(false);
                is_msg_resp = get("isMsgResp").and_then(parse_go_bool).unwrap_or(false);
            }
            ConnectRules::Patch => {
                if PlatformId::from_i32(platform_id).name().is_none() {
                    return Err(args_err(format!("platformID {platform_id} is invalid")));
                }
                if operation_id.is_empty() {
                    return Err(args_err("operationID is empty"));
                }
                is_background = match get("isBackground").map(parse_go_bool) {
                    Some(Some(b)) => b,
                    _ => {
                        return Err(ConnectArgsError {
                            reason: format!(
                                "strconv.ParseBool: parsing {:?}: invalid syntax",
                                get("isBackground").unwrap_or("")
                            ),
                            internal: true,
                        });
                    }
                };
                is_msg_resp = match get("isMsgResp") {
                    None | Some("") => false,
                    Some(v) => parse_go_bool(v)
                        .ok_or_else(|| args_err(format!("isMsgResp {v:?} is invalid")))?,
                };
            }
        }
        Ok(ConnectParams {
            send_id: send_id.to_string(),
            token: token.to_string(),
            platform_id,
            operation_id,
            is_background,
            gzip,
            is_msg_resp,
            sdk_type,
            sdk_version: get("sdkVersion")
                .filter(|v| !v.is_empty())
                .map(str::to_string),
        })
    }

    /// [`ConnectParams::parse_with_header`] without a `compression` header.
    pub fn parse(query: &str, rules: ConnectRules) -> Result<ConnectParams, ConnectArgsError> {
        Self::parse_with_header(query, rules, None)
    }

    fn parse_v(v: &str) -> Result<ConnectParams, ConnectArgsError> {
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(v.as_bytes())
            .map_err(|e| args_err(format!("v is not base64url: {e}")))?;
        let p: VParam = serde_json::from_slice(&json)
            .map_err(|e| args_err(format!("v is not valid JSON: {e}")))?;
        if p.token.is_empty() {
            return Err(args_err("token is empty"));
        }
        if p.user_id.is_empty() {
            return Err(args_err("sendID is empty"));
        }
        if PlatformId::from_i32(p.platform_id).name().is_none() {
            return Err(args_err(format!("platformID {} is invalid", p.platform_id)));
        }
        if p.operation_id.is_empty() {
            return Err(args_err("operationID is empty"));
        }
        let sdk_type = match p.sdk_type.as_str() {
            "" | "go" => SdkType::Go,
            "js" => SdkType::Js,
            other => return Err(args_err(format!("sdkType {other:?} is not supported"))),
        };
        Ok(ConnectParams {
            send_id: p.user_id,
            token: p.token,
            platform_id: p.platform_id,
            operation_id: p.operation_id,
            is_background: p.background,
            gzip: p.compression == "gzip",
            is_msg_resp: p.send_response,
            sdk_type,
            sdk_version: Some(p.sdk_version).filter(|v| !v.is_empty()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_special_characters() {
        let mut p = ConnectParams::new("user 1&x", "a.b+c/=", 5, "op?1");
        p.gzip = true;
        p.sdk_version = Some("v3.8.3".into());
        let q = p.to_query();
        assert!(q.contains("sendID=user%201%26x"), "{q}");
        assert_eq!(ConnectParams::parse(&q, ConnectRules::Patch).unwrap(), p);
        assert_eq!(
            ConnectParams::parse(&format!("?{q}"), ConnectRules::V383).unwrap(),
            p
        );
    }

    #[test]
    fn the_js_sdk_url_parses() {
        let q = "sendID=u1&token=eyJ.x.y&platformID=5&operationID=op&isBackground=false&isMsgResp=true&sdkType=js";
        let p = ConnectParams::parse(q, ConnectRules::Patch).unwrap();
        assert_eq!(
            (p.platform_id, p.sdk_type, p.is_msg_resp, p.gzip),
            (5, SdkType::Js, true, false)
        );
        assert!(!format!("{p:?}").contains("eyJ"));
    }

    #[test]
    fn v383_is_lenient_patch_is_strict() {
        let q = "sendID=u1&token=t&platformID=99";
        let p = ConnectParams::parse(q, ConnectRules::V383).unwrap();
        assert_eq!(
            (p.sdk_type, p.is_msg_resp, p.is_background),
            (SdkType::Go, false, false)
        );
        assert!(ConnectParams::parse(q, ConnectRules::Patch).is_err());
        let q = "sendID=u1&token=t&platformID=5&operationID=o";
        let err = ConnectParams::parse(q, ConnectRules::Patch).unwrap_err();
        assert!(err.internal, "{err}");
        let q = "sendID=u1&token=t&platformID=5&operationID=o&isBackground=false&isMsgResp=maybe";
        assert!(ConnectParams::parse(q, ConnectRules::Patch).is_err());
        assert!(
            !ConnectParams::parse(q, ConnectRules::V383)
                .unwrap()
                .is_msg_resp
        );
    }

    #[test]
    fn missing_or_bad_arguments() {
        for (q, reason) in [
            ("sendID=u1&platformID=1", "token is empty"),
            ("token=t&platformID=1", "sendID is empty"),
            (
                "sendID=u&token=t&platformID=x",
                "platformID is not a number",
            ),
            (
                "sendID=u&token=t&platformID=1&sdkType=py",
                "sdkType \"py\" is not supported",
            ),
            (
                "sendID=%zz&token=t&platformID=1",
                "invalid percent-encoding in query",
            ),
        ] {
            assert_eq!(
                ConnectParams::parse(q, ConnectRules::V383)
                    .unwrap_err()
                    .reason,
                reason
            );
        }
    }

    #[test]
    fn compression_header_rules() {
        let q = "sendID=u&token=t&platformID=1&operationID=o&isBackground=0&compression=none";
        assert!(
            ConnectParams::parse_with_header(q, ConnectRules::V383, Some("gzip"))
                .unwrap()
                .gzip
        );
        assert!(
            !ConnectParams::parse_with_header(q, ConnectRules::Patch, Some("gzip"))
                .unwrap()
                .gzip
        );
        let q = "sendID=u&token=t&platformID=1&operationID=o&isBackground=0";
        assert!(
            ConnectParams::parse_with_header(q, ConnectRules::Patch, Some("gzip"))
                .unwrap()
                .gzip
        );
    }

    #[test]
    fn v_parameter() {
        let json = r#"{"token":"t","userID":"u1","platformID":7,"operationID":"o","compression":"gzip","sdkType":"js","sendResponse":true,"background":false}"#;
        let v = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json);
        let p =
            ConnectParams::parse(&format!("v={v}&sendID=ignored"), ConnectRules::Patch).unwrap();
        assert_eq!(p.send_id, "u1");
        assert!(p.gzip && p.is_msg_resp);
        assert!(ConnectParams::parse("v=!!!", ConnectRules::Patch).is_err());
        // v3.8.3 ignores `v`.
        assert!(ConnectParams::parse(&format!("v={v}"), ConnectRules::V383).is_err());
    }
}

//! HS256 JWT tokens with the OpenIM claims (`UserID`, `PlatformID`, `exp`, `iat`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::error::CodeError;

/// The claims of an OpenIM token.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    /// The user the token belongs to.
    #[serde(rename = "UserID")]
    pub user_id: String,
    /// The platform the token was issued for.
    #[serde(rename = "PlatformID")]
    pub platform_id: i32,
    /// Expiry, Unix seconds.
    pub exp: i64,
    /// Issue time, Unix seconds.
    pub iat: i64,
}

type HmacSha256 = Hmac<Sha256>;

fn sign(secret: &str, input: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return Vec::new(),
    };
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

/// Mints a token for `user_id`/`platform_id` valid for `expire_secs` from `now_secs`.
pub fn mint(
    secret: &str,
    user_id: &str,
    platform_id: i32,
    now_secs: i64,
    expire_secs: i64,
) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = Claims {
        user_id: user_id.to_string(),
        platform_id,
        exp: now_secs + expire_secs,
        iat: now_secs - 5,
    };
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    let sig = URL_SAFE_NO_PAD.encode(sign(secret, signing_input.as_bytes()));
    format!("{signing_input}.{sig}")
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

/// Parses and verifies a token: 1503 malformed, 1505 bad signature/algorithm, 1501 expired.
pub fn parse(secret: &str, token: &str, now_secs: i64) -> Result<Claims, CodeError> {
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return Err(CodeError::new(
            1503,
            "token contains an invalid number of segments",
        ));
    }
    let malformed = |what: &str| CodeError::new(1503, what.to_string());
    let header_bytes = URL_SAFE_NO_PAD
        .decode(parts[0].trim_end_matches('='))
        .map_err(|_| malformed("illegal base64 data in header"))?;
    let header: Header =
        serde_json::from_slice(&header_bytes).map_err(|_| malformed("invalid header json"))?;
    let payload_bytes = URL_SAFE_NO_PAD
        .decode(parts[1].trim_end_matches('='))
        .map_err(|_| malformed("illegal base64 data in claims"))?;
    let claims: Claims =
        serde_json::from_slice(&payload_bytes).map_err(|_| malformed("invalid claims json"))?;
    if header.alg != "HS256" {
        return Err(CodeError::with_msg(
            1505,
            "signing method (alg) is unavailable.",
            "",
        ));
    }
    let sig = URL_SAFE_NO_PAD
        .decode(parts[2].trim_end_matches('='))
        .map_err(|_| malformed("illegal base64 data in signature"))?;
    let expected = sign(secret, format!("{}.{}", parts[0], parts[1]).as_bytes());
    if sig.len() != expected.len() || !constant_eq(&sig, &expected) {
        return Err(CodeError::with_msg(1505, "signature is invalid", ""));
    }
    if claims.exp < now_secs {
        return Err(CodeError::new(1501, "token is expired"));
    }
    if claims.iat > now_secs + 5 {
        return Err(CodeError::with_msg(1505, "Token used before issued", ""));
    }
    Ok(claims)
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_errors() {
        let t = mint("s", "u1", 5, 1000, 100);
        let c = parse("s", &t, 1000).expect("valid");
        assert_eq!(c.user_id, "u1");
        assert_eq!(c.platform_id, 5);
        assert_eq!(parse("other", &t, 1000).unwrap_err().code, 1505);
        assert_eq!(parse("s", &t, 2000).unwrap_err().code, 1501);
        assert_eq!(parse("s", "abc", 1000).unwrap_err().code, 1503);
        assert_eq!(parse("s", "a.b.c", 1000).unwrap_err().code, 1503);
    }
}

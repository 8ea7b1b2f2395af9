//! `/auth/*` routes and token validation.

use std::sync::Arc;

use openim_protocol::api::auth::{
    ForceLogoutReq, GetAdminTokenReq, GetUserTokenReq, ParseTokenReq, ParseTokenResp, UserTokenResp,
};

use super::{Ctx, HResult, Reply, data, not_found, parse};
use crate::Inner;
use crate::error::CodeError;
use crate::state::now_ms;
use crate::token::{self, Claims};

/// Validates a token: signature/format/expiry, then (non-admins) its registered status.
pub(crate) fn check_token(inner: &Inner, token: &str) -> Result<Claims, CodeError> {
    let claims = token::parse(&inner.config.secret, token, now_ms() / 1000)?;
    if inner.faults.is_expired(token) {
        return Err(CodeError::new(1501, "token is expired"));
    }
    if inner.is_admin(&claims.user_id) {
        return Ok(claims);
    }
    let st = inner.state.lock();
    let status = st
        .tokens
        .get(&claims.user_id)
        .and_then(|p| p.get(&claims.platform_id))
        .and_then(|t| t.get(token))
        .copied();
    match status {
        None => Err(CodeError::new(1507, "token not exist")),
        Some(0) => Ok(claims),
        Some(2) => Err(CodeError::new(1506, "token kicked")),
        Some(_) => Err(CodeError::new(1505, "token status invalid")),
    }
}

/// Marks a user's tokens on a platform kicked and kicks the connections (force logout).
pub(crate) fn kick_platform(inner: &Arc<Inner>, user_id: &str, platform_id: i32) {
    {
        let mut st = inner.state.lock();
        if let Some(tokens) = st
            .tokens
            .get_mut(user_id)
            .and_then(|p| p.get_mut(&platform_id))
        {
            for status in tokens.values_mut() {
                *status = 2;
            }
        }
    }
    inner.mark_dirty();
    inner.registry.kick(user_id, platform_id);
}

pub(crate) async fn dispatch(ctx: &Ctx, path: &str, body: &[u8]) -> HResult {
    let inner = &ctx.inner;
    let expire = inner.config.token_expire_secs;
    match path {
        "/auth/get_admin_token" => {
            let r: GetAdminTokenReq = parse(body)?;
            if r.user_id.is_empty() {
                return Err(CodeError::args("userID is empty"));
            }
            if r.secret != inner.config.secret {
                return Err(CodeError::no_permission("secret invalid"));
            }
            if !inner.is_admin(&r.user_id) {
                return Err(CodeError::args("userID is not admin"));
            }
            let tok = token::mint(
                &inner.config.secret,
                &r.user_id,
                10,
                now_ms() / 1000,
                expire,
            );
            data(super::to_value(&UserTokenResp {
                token: tok,
                expire_time_seconds: expire,
            }))
        }
        "/auth/get_user_token" => {
            ctx.admin_only()?;
            let r: GetUserTokenReq = parse(body)?;
            if r.platform_id == 10 {
                return Err(CodeError::no_permission("platformID 10 is admin"));
            }
            if inner.is_admin(&r.user_id) {
                return Err(CodeError::no_permission("don't get Admin token"));
            }
            let mut st = inner.state.lock();
            let Some(user) = st.users.get(&r.user_id) else {
                return Err(CodeError::not_found(format!(
                    "user {} not found",
                    r.user_id
                )));
            };
            if user.app_manger_level >= 3 {
                return Err(CodeError::args(
                    "notification accounts cannot get user tokens",
                ));
            }
            // tokens minted within the same second would be identical; shift exp so a re-issue always
            // yields a new token (and so really supersedes the old one)
            let issued: std::collections::HashSet<String> = st
                .tokens
                .get(&r.user_id)
                .map(|p| p.values().flat_map(|t| t.keys().cloned()).collect())
                .unwrap_or_default();
            let mut extra = 0;
            let tok = loop {
                let t = token::mint(
                    &inner.config.secret,
                    &r.user_id,
                    r.platform_id,
                    now_ms() / 1000,
                    expire + extra,
                );
                if !issued.contains(&t) {
                    break t;
                }
                extra += 1;
            };
            let tokens = st
                .tokens
                .entry(r.user_id.clone())
                .or_default()
                .entry(r.platform_id)
                .or_default();
            // policy 1: previous normal tokens of this platform are kicked; non-normal ones are deleted
            tokens.retain(|_, status| *status == 0);
            for status in tokens.values_mut() {
                *status = 2;
            }
            tokens.insert(tok.clone(), 0);
            data(super::to_value(&UserTokenResp {
                token: tok,
                expire_time_seconds: expire,
            }))
        }
        "/auth/parse_token" => {
            let r: ParseTokenReq = parse(body)?;
            if r.token.is_empty() {
                return Err(CodeError::args("token is empty"));
            }
            let c = check_token(inner, &r.token)?;
            data(super::to_value(&ParseTokenResp {
                user_id: c.user_id,
                platform_id: c.platform_id,
                expire_time_seconds: c.exp,
            }))
        }
        "/auth/force_logout" => {
            ctx.admin_only()?;
            let r: ForceLogoutReq = parse(body)?;
            if r.user_id.is_empty() || !(1..=10).contains(&r.platform_id) {
                return Err(CodeError::args("userID or platformID invalid"));
            }
            kick_platform(inner, &r.user_id, r.platform_id);
            Ok(Reply::Empty)
        }
        _ => not_found(),
    }
}

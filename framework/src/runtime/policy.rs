//! Route policy written in the route attribute: chat kind, sender role, allow-lists and
//! per-user cooldowns. Checked by the generated router before a route runs.

use std::time::Duration;

use tokio::time::Instant;

use dashmap::DashMap;

use crate::message::Message;
use crate::model::role_level;
use crate::runtime::context::Context;
use crate::runtime::error::{Denied, FrameworkError};

/// The group role a route requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequiredRole {
    /// Group owner or administrator.
    Admin,
    /// Group owner.
    Owner,
}

impl RequiredRole {
    fn min_level(self) -> i32 {
        match self {
            RequiredRole::Admin => role_level::ADMIN,
            RequiredRole::Owner => role_level::OWNER,
        }
    }

    fn name(self) -> &'static str {
        match self {
            RequiredRole::Admin => "admin",
            RequiredRole::Owner => "owner",
        }
    }
}

/// The policy of one route (built by `#[handler]` from the attribute).
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Route method name (the cooldown key).
    pub route: &'static str,
    /// Only in groups.
    pub group_only: bool,
    /// Only in private chats.
    pub private_only: bool,
    /// Required sender role in the group.
    pub role: Option<RequiredRole>,
    /// Allowed senders (empty = everybody).
    pub users: &'static [&'static str],
    /// Allowed groups (empty = every group; private chats are unaffected).
    pub groups: &'static [&'static str],
    /// Per-user cooldown.
    pub cooldown: Option<Duration>,
    /// Also match messages sent by the bot itself.
    pub allow_self: bool,
}

/// Per (route, user) cooldown clock.
#[derive(Debug, Default)]
pub(crate) struct Cooldowns {
    until: DashMap<(usize, &'static str, String), Instant>,
}

impl Cooldowns {
    /// Starts the cooldown, or returns the time left if it is running.
    pub(crate) fn hit(
        &self,
        policy: &'static Policy,
        user: &str,
        period: Duration,
        now: Instant,
    ) -> Result<(), Duration> {
        let key = (
            policy as *const Policy as usize,
            policy.route,
            user.to_string(),
        );
        if self.until.len() > 10_000 {
            self.until.retain(|_, t| *t > now);
        }
        let mut entry = self.until.entry(key).or_insert(now);
        if *entry > now {
            return Err(*entry - now);
        }
        *entry = now + period;
        Ok(())
    }
}

fn group_of(msg: &Message) -> Option<&str> {
    msg.group_id.as_deref().filter(|g| !g.is_empty())
}

/// Checks everything but the cooldown; `Ok(Some(denied))` when refused.
async fn evaluate(
    ctx: &Context,
    msg: &Message,
    policy: &Policy,
) -> Result<Option<Denied>, FrameworkError> {
    let group = group_of(msg);
    if policy.group_only && group.is_none() {
        return Ok(Some(Denied::GroupOnly));
    }
    if policy.private_only && group.is_some() {
        return Ok(Some(Denied::PrivateOnly));
    }
    if !policy.users.is_empty() && !policy.users.contains(&msg.send_id.as_str()) {
        return Ok(Some(Denied::User));
    }
    if let Some(g) = group
        && !policy.groups.is_empty()
        && !policy.groups.contains(&g)
    {
        return Ok(Some(Denied::Group));
    }
    if let Some(role) = policy.role {
        let level = match group {
            Some(g) => ctx.client().group_member_role(g, &msg.send_id).await?,
            None => None,
        };
        if level.unwrap_or(0) < role.min_level() {
            return Ok(Some(Denied::Role {
                required: role.name(),
            }));
        }
    }
    Ok(None)
}

/// Command policy but for the cooldown: refusals are errors (answered to the user by default).
/// The cooldown is taken once the command's arguments parsed ([`take_cooldown`]): a typo
/// answered with the usage does not lock its sender out for the cooldown.
pub async fn check_permission(
    ctx: &Context,
    msg: &Message,
    policy: &'static Policy,
    route_label: &str,
) -> Result<(), FrameworkError> {
    match evaluate(ctx, msg, policy).await? {
        Some(denied) => Err(FrameworkError::Permission {
            route: route_label.to_string(),
            denied,
        }),
        None => Ok(()),
    }
}

/// Starts the policy's cooldown for the sender, or fails with the time left.
pub fn take_cooldown(
    ctx: &Context,
    msg: &Message,
    policy: &'static Policy,
    route_label: &str,
) -> Result<(), FrameworkError> {
    if let Some(period) = policy.cooldown
        && let Err(remaining) =
            ctx.shared()
                .cooldowns
                .hit(policy, &msg.send_id, period, Instant::now())
    {
        return Err(FrameworkError::Cooldown {
            route: route_label.to_string(),
            remaining,
        });
    }
    Ok(())
}

/// Matcher policy but for the cooldown: a refusal silently skips the route (`Ok(false)`).
pub async fn policy_permits(
    ctx: &Context,
    msg: &Message,
    policy: &'static Policy,
) -> Result<bool, FrameworkError> {
    Ok(evaluate(ctx, msg, policy).await?.is_none())
}

/// Starts the matcher's cooldown for the sender; `false` (the route skipped) while it runs.
pub fn cooldown_allows(ctx: &Context, msg: &Message, policy: &'static Policy) -> bool {
    match policy.cooldown {
        Some(period) => ctx
            .shared()
            .cooldowns
            .hit(policy, &msg.send_id, period, Instant::now())
            .is_ok(),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    static P: Policy = Policy {
        route: "r",
        group_only: false,
        private_only: false,
        role: None,
        users: &[],
        groups: &[],
        cooldown: Some(Duration::from_secs(10)),
        allow_self: false,
    };

    #[test]
    fn cooldown_per_user() {
        let c = Cooldowns::default();
        let t0 = Instant::now();
        assert!(c.hit(&P, "a", Duration::from_secs(10), t0).is_ok());
        assert!(c.hit(&P, "b", Duration::from_secs(10), t0).is_ok());
        let left = c
            .hit(
                &P,
                "a",
                Duration::from_secs(10),
                t0 + Duration::from_secs(4),
            )
            .unwrap_err();
        assert_eq!(left, Duration::from_secs(6));
        assert!(
            c.hit(
                &P,
                "a",
                Duration::from_secs(10),
                t0 + Duration::from_secs(10)
            )
            .is_ok()
        );
    }
}

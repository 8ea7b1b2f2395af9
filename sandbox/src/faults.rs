//! Fault-injection state consulted by the push path, the token checks and the HTTP router.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use parking_lot::Mutex;

use crate::push::PushFrame;

#[derive(Default)]
struct FaultState {
    stalled: HashMap<String, Vec<(String, PushFrame)>>,
    delays: HashMap<String, Duration>,
    duplicate: HashMap<String, u32>,
    skip_seq: HashMap<String, u32>,
    fail_routes: HashMap<String, (u32, i32)>,
    expired_tokens: HashSet<String>,
}

/// What the push path must do with one push to one user.
pub(crate) enum PushAction {
    /// Send it `n` times after an optional delay.
    Send { times: u32, delay: Option<Duration> },
    /// Held (stalled) or dropped.
    Hold,
}

/// Injected faults (see `Sandbox::faults`).
#[derive(Default)]
pub struct Faults {
    inner: Mutex<FaultState>,
}

impl std::fmt::Debug for Faults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Faults")
    }
}

impl Faults {
    pub(crate) fn stall(&self, user: &str) {
        self.inner
            .lock()
            .stalled
            .entry(user.to_string())
            .or_default();
    }
    pub(crate) fn release(&self, user: &str) -> Vec<(String, PushFrame)> {
        self.inner.lock().stalled.remove(user).unwrap_or_default()
    }
    pub(crate) fn set_delay(&self, user: &str, d: Duration) {
        let mut g = self.inner.lock();
        if d.is_zero() {
            g.delays.remove(user);
        } else {
            g.delays.insert(user.to_string(), d);
        }
    }
    pub(crate) fn duplicate_next(&self, user: &str) {
        *self
            .inner
            .lock()
            .duplicate
            .entry(user.to_string())
            .or_default() += 1;
    }
    pub(crate) fn skip_next_seq(&self, user: &str) {
        *self
            .inner
            .lock()
            .skip_seq
            .entry(user.to_string())
            .or_default() += 1;
    }
    pub(crate) fn fail_route(&self, route: &str, n: u32, code: i32) {
        self.inner
            .lock()
            .fail_routes
            .insert(route.to_string(), (n, code));
    }
    pub(crate) fn expire_token(&self, token: &str) {
        self.inner.lock().expired_tokens.insert(token.to_string());
    }
    pub(crate) fn is_expired(&self, token: &str) -> bool {
        self.inner.lock().expired_tokens.contains(token)
    }
    /// Consumes one injected failure of a route, if any.
    pub(crate) fn take_route_failure(&self, route: &str) -> Option<i32> {
        let mut g = self.inner.lock();
        let (n, code) = g.fail_routes.get_mut(route)?;
        if *n == 0 {
            return None;
        }
        *n -= 1;
        Some(*code)
    }
    /// Decides the fate of a push to `user`.
    pub(crate) fn on_push(&self, user: &str, frame: &PushFrame) -> PushAction {
        let mut g = self.inner.lock();
        if let Some(q) = g.stalled.get_mut(user) {
            q.push((user.to_string(), frame.clone()));
            return PushAction::Hold;
        }
        if frame.seq > 0
            && let Some(n) = g.skip_seq.get_mut(user)
            && *n > 0
        {
            *n -= 1;
            return PushAction::Hold;
        }
        let mut times = 1;
        if let Some(n) = g.duplicate.get_mut(user)
            && *n > 0
        {
            *n -= 1;
            times = 2;
        }
        PushAction::Send {
            times,
            delay: g.delays.get(user).copied(),
        }
    }
}

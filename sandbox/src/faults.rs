//! Fault-injection state consulted by the push path, the token checks and the HTTP router,
//! and the counters tests read (gateway connection attempts per user).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use parking_lot::Mutex;

use crate::push::PushFrame;

#[derive(Default)]
struct FaultState {
    stalled: HashMap<String, Vec<PushFrame>>,
    delays: HashMap<String, Duration>,
    duplicate: HashMap<String, u32>,
    skip_seq: HashMap<String, u32>,
    /// HTTP routes to fail, by path.
    fail_routes: Failures<String>,
    /// Gateway requests to fail, by `reqIdentifier`.
    fail_requests: Failures<i32>,
    expired_tokens: HashSet<String>,
    /// Users whose gateway answers are withheld.
    answers_stalled: HashSet<String>,
    /// Users whose HTTP requests (by token user) hang.
    http_stalled: HashSet<String>,
    /// Gateway connection attempts per `sendID` (counted at the upgrade request, before any
    /// check).
    ws_attempts: HashMap<String, u64>,
}

/// Injected failures by key: how many more calls fail, and with which error code.
struct Failures<K>(HashMap<K, (u32, i32)>);

impl<K> Default for Failures<K> {
    fn default() -> Self {
        Failures(HashMap::new())
    }
}

impl<K: std::hash::Hash + Eq> Failures<K> {
    /// Fails the next `n` calls of `key` with `code` (replacing what was armed for it).
    fn arm(&mut self, key: K, n: u32, code: i32) {
        self.0.insert(key, (n, code));
    }
    /// Calls still to fail, all keys together.
    fn armed(&self) -> usize {
        self.0.values().map(|&(n, _)| n as usize).sum()
    }
    /// Consumes one failure of `key`, if one is armed: its code.
    fn take<Q>(&mut self, key: &Q) -> Option<i32>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        let (n, code) = self.0.get_mut(key)?;
        *n = n.checked_sub(1)?;
        Some(*code)
    }
}

/// A point where a stalled server holds a request (see [`Faults::pass`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Gate {
    /// Before the gateway writes the answer to a request.
    Answers,
    /// Before the HTTP API handles a request.
    Http,
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
    /// Stalled (gate, user) pairs; 0 keeps the request paths free of the lock.
    gates_closed: AtomicUsize,
    /// Woken whenever a gate opens.
    gate_opened: tokio::sync::Notify,
    /// Gateway request failures still armed; 0 keeps the request path free of the lock.
    requests_failing: AtomicUsize,
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
    pub(crate) fn release(&self, user: &str) -> Vec<PushFrame> {
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
            .arm(route.to_string(), n, code);
    }
    pub(crate) fn expire_token(&self, token: &str) {
        self.inner.lock().expired_tokens.insert(token.to_string());
    }
    pub(crate) fn is_expired(&self, token: &str) -> bool {
        self.inner.lock().expired_tokens.contains(token)
    }
    pub(crate) fn fail_requests(&self, req_identifier: i32, n: u32, code: i32) {
        let mut g = self.inner.lock();
        g.fail_requests.arm(req_identifier, n, code);
        self.requests_failing
            .store(g.fail_requests.armed(), Ordering::Release);
    }
    /// Consumes one injected failure of a gateway request, if any.
    pub(crate) fn take_request_failure(&self, req_identifier: i32) -> Option<i32> {
        if self.requests_failing.load(Ordering::Acquire) == 0 {
            return None;
        }
        let code = self.inner.lock().fail_requests.take(&req_identifier)?;
        self.requests_failing.fetch_sub(1, Ordering::AcqRel);
        Some(code)
    }
    /// Consumes one injected failure of a route, if any.
    pub(crate) fn take_route_failure(&self, route: &str) -> Option<i32> {
        self.inner.lock().fail_routes.take(route)
    }
    /// Counts one gateway connection attempt of `user`.
    pub(crate) fn count_ws_attempt(&self, user: &str) {
        *self
            .inner
            .lock()
            .ws_attempts
            .entry(user.to_string())
            .or_default() += 1;
    }
    /// Gateway connection attempts of `user` so far.
    pub(crate) fn ws_attempts(&self, user: &str) -> u64 {
        self.inner
            .lock()
            .ws_attempts
            .get(user)
            .copied()
            .unwrap_or(0)
    }
    /// Closes (`stalled = true`) or opens a gate for `user`.
    pub(crate) fn set_gate(&self, gate: Gate, user: &str, stalled: bool) {
        let mut g = self.inner.lock();
        let set = match gate {
            Gate::Answers => &mut g.answers_stalled,
            Gate::Http => &mut g.http_stalled,
        };
        if stalled {
            if set.insert(user.to_string()) {
                self.gates_closed.fetch_add(1, Ordering::SeqCst);
            }
        } else if set.remove(user) {
            self.gates_closed.fetch_sub(1, Ordering::SeqCst);
            drop(g);
            self.gate_opened.notify_waiters();
        }
    }
    /// Opens every gate (server shutdown: nothing may stay blocked).
    pub(crate) fn open_all_gates(&self) {
        let mut g = self.inner.lock();
        g.answers_stalled.clear();
        g.http_stalled.clear();
        self.gates_closed.store(0, Ordering::SeqCst);
        drop(g);
        self.gate_opened.notify_waiters();
    }
    /// Waits while `gate` is closed for `user` (returns at once when no gate is closed).
    pub(crate) async fn pass(&self, gate: Gate, user: &str) {
        if self.gates_closed.load(Ordering::SeqCst) == 0 {
            return;
        }
        loop {
            // Registered before the check, so an opening in between is not missed.
            let opened = self.gate_opened.notified();
            tokio::pin!(opened);
            opened.as_mut().enable();
            let closed = {
                let g = self.inner.lock();
                match gate {
                    Gate::Answers => g.answers_stalled.contains(user),
                    Gate::Http => g.http_stalled.contains(user),
                }
            };
            if !closed {
                return;
            }
            tracing::debug!(?gate, user, "request held by a stall fault");
            opened.await;
        }
    }
    /// Decides the fate of a push to `user`.
    pub(crate) fn on_push(&self, user: &str, frame: &PushFrame) -> PushAction {
        let mut g = self.inner.lock();
        if let Some(q) = g.stalled.get_mut(user) {
            q.push(frame.clone());
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

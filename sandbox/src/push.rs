//! Connection registry and push delivery (2001 pushes, 2002 kicks, 2005 status changes).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine;
use parking_lot::Mutex;
use prost::Message;
use serde::Serialize;
use tokio::sync::mpsc::UnboundedSender;

use crate::Inner;
use crate::faults::PushAction;
use crate::state::Delivery;
use crate::wire::{PullMsgs, PushMessages, SubUserOnlineStatusElem, SubUserOnlineStatusTips};

/// The gateway response/push envelope (JSON keys in upstream order).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WsResp {
    #[serde(rename = "reqIdentifier")]
    pub req_identifier: i32,
    #[serde(rename = "msgIncr")]
    pub msg_incr: String,
    #[serde(rename = "operationID")]
    pub operation_id: String,
    #[serde(rename = "errCode")]
    pub err_code: i32,
    #[serde(rename = "errMsg")]
    pub err_msg: String,
    pub data: Option<String>,
}

impl WsResp {
    pub(crate) fn new(
        req_identifier: i32,
        msg_incr: &str,
        operation_id: &str,
        data: Option<Vec<u8>>,
    ) -> Self {
        WsResp {
            req_identifier,
            msg_incr: msg_incr.to_string(),
            operation_id: operation_id.to_string(),
            err_code: 0,
            err_msg: String::new(),
            data: data.map(|d| base64::engine::general_purpose::STANDARD.encode(d)),
        }
    }
}

/// A push ready to be written: the envelope and the seq it carries (for fault decisions).
#[derive(Debug, Clone)]
pub(crate) struct PushFrame {
    pub seq: i64,
    pub resp: WsResp,
}

/// What a connection's writer task is asked to do.
#[derive(Debug)]
pub(crate) enum Out {
    /// Write a binary envelope.
    Frame(WsResp),
    /// Write a text frame.
    Text(String),
    /// Write a 2002 kick frame, then close.
    Kick,
    /// Write a binary envelope, but not before the instant (later frames wait behind it).
    Delayed(WsResp, tokio::time::Instant),
    /// Close without a frame.
    Close,
}

pub(crate) struct Conn {
    pub id: u64,
    pub platform_id: i32,
    pub token: String,
    pub tx: UnboundedSender<Out>,
    pub subs: HashSet<String>,
}

/// All open gateway connections, by user.
#[derive(Default)]
pub(crate) struct Registry {
    conns: Mutex<HashMap<String, Vec<Conn>>>,
    next_id: AtomicU64,
}

impl Registry {
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Registers a connection, applying multi-login policy 1 (same user + platform, other token → kicked).
    pub(crate) fn register(&self, user_id: &str, conn: Conn) {
        let mut g = self.conns.lock();
        let list = g.entry(user_id.to_string()).or_default();
        list.retain(|c| {
            if c.platform_id == conn.platform_id && c.token != conn.token {
                let _ = c.tx.send(Out::Kick);
                false
            } else {
                true
            }
        });
        list.push(conn);
        drop(g);
        self.status_changed(user_id);
    }

    pub(crate) fn unregister(&self, user_id: &str, id: u64) {
        let mut g = self.conns.lock();
        let mut removed = false;
        if let Some(list) = g.get_mut(user_id) {
            let before = list.len();
            list.retain(|c| c.id != id);
            removed = list.len() != before;
            if list.is_empty() {
                g.remove(user_id);
            }
        }
        drop(g);
        if removed {
            self.status_changed(user_id);
        }
    }

    pub(crate) fn count(&self, user_id: &str) -> usize {
        self.conns.lock().get(user_id).map(Vec::len).unwrap_or(0)
    }

    pub(crate) fn platforms(&self, user_id: &str) -> Vec<i32> {
        let mut v: Vec<i32> = self
            .conns
            .lock()
            .get(user_id)
            .map(|l| l.iter().map(|c| c.platform_id).collect())
            .unwrap_or_default();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Kicks (2002 + close) a user's connections on a platform.
    pub(crate) fn kick(&self, user_id: &str, platform_id: i32) -> usize {
        let mut g = self.conns.lock();
        let mut n = 0;
        if let Some(list) = g.get_mut(user_id) {
            list.retain(|c| {
                if c.platform_id == platform_id {
                    let _ = c.tx.send(Out::Kick);
                    n += 1;
                    false
                } else {
                    true
                }
            });
        }
        drop(g);
        if n > 0 {
            self.status_changed(user_id);
        }
        n
    }

    /// Closes every connection of a user without a kick frame.
    pub(crate) fn drop_user(&self, user_id: &str) -> usize {
        let list = self.conns.lock().remove(user_id).unwrap_or_default();
        for c in &list {
            let _ = c.tx.send(Out::Close);
        }
        if !list.is_empty() {
            self.status_changed(user_id);
        }
        list.len()
    }

    pub(crate) fn close_all(&self) {
        let all: Vec<Conn> = self.conns.lock().drain().flat_map(|(_, v)| v).collect();
        for c in all {
            let _ = c.tx.send(Out::Close);
        }
    }

    /// Writes a push to every connection of a user (no fault handling).
    pub(crate) fn send_push(&self, user_id: &str, frame: PushFrame) {
        let g = self.conns.lock();
        if let Some(list) = g.get(user_id) {
            for c in list {
                let _ = c.tx.send(Out::Frame(frame.resp.clone()));
            }
        }
    }

    /// Writes a push to every connection of a user; the originator's copies are delayed until `due`.
    pub(crate) fn send_push_from(
        &self,
        user_id: &str,
        frame: PushFrame,
        origin: &Origin,
        due: Option<tokio::time::Instant>,
    ) {
        let g = self.conns.lock();
        if let Some(list) = g.get(user_id) {
            for c in list {
                let delayed = match origin {
                    Origin::Conn(id) => c.id == *id,
                    Origin::User(u) => u == user_id,
                };
                let out = match (delayed, due) {
                    (true, Some(due)) => Out::Delayed(frame.resp.clone(), due),
                    _ => Out::Frame(frame.resp.clone()),
                };
                let _ = c.tx.send(out);
            }
        }
    }

    /// Updates a connection's online-status subscriptions; returns the current status of the subscribed users.
    pub(crate) fn subscribe(
        &self,
        user_id: &str,
        conn_id: u64,
        sub: &[String],
        unsub: &[String],
    ) -> Vec<SubUserOnlineStatusElem> {
        {
            let mut g = self.conns.lock();
            if let Some(c) = g
                .get_mut(user_id)
                .and_then(|l| l.iter_mut().find(|c| c.id == conn_id))
            {
                for u in unsub {
                    c.subs.remove(u);
                }
                for u in sub {
                    c.subs.insert(u.clone());
                }
            }
        }
        sub.iter()
            .map(|u| SubUserOnlineStatusElem {
                user_id: u.clone(),
                online_platform_ids: self.platforms(u),
            })
            .collect()
    }

    /// Sends an unsolicited 2005 to every connection subscribed to `user_id`.
    fn status_changed(&self, user_id: &str) {
        let platforms = self.platforms(user_id);
        let tips = SubUserOnlineStatusTips {
            subscribers: vec![SubUserOnlineStatusElem {
                user_id: user_id.to_string(),
                online_platform_ids: platforms,
            }],
        };
        let resp = WsResp::new(2005, "", "", Some(tips.encode_to_vec()));
        let g = self.conns.lock();
        for list in g.values() {
            for c in list {
                if c.subs.contains(user_id) {
                    let _ = c.tx.send(Out::Frame(resp.clone()));
                }
            }
        }
    }
}

/// Builds the 2001 frame of a delivery.
pub(crate) fn push_frame(d: &Delivery) -> PushFrame {
    let mut pm = PushMessages::default();
    let entry = PullMsgs {
        msgs: vec![d.msg.clone()],
        is_end: false,
        end_seq: 0,
    };
    crate::wire::PushMessagesExt::insert_conversation(
        &mut pm,
        d.conversation_id.starts_with("n_"),
        d.conversation_id.clone(),
        entry,
    );
    PushFrame {
        seq: d.msg.seq,
        resp: WsResp::new(2001, "", &d.operation_id, Some(pm.encode_to_vec())),
    }
}

/// Who caused a batch of pushes: their copies to the originator are held back by the push latency.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// A gateway connection (WS 1003): its own echo is delayed.
    Conn(u64),
    /// An HTTP caller: pushes to that user's connections are delayed.
    User(String),
}

/// Delivers pushes to every connection of their recipients, honouring injected faults.
///
/// The copies going back to the originator are written only after `push_latency`: on the real
/// server pushes pass through a queue and never overtake the answer to the request that caused
/// them, and the JS SDK relies on that to suppress its own echo. Everyone else gets them at once.
pub(crate) fn deliver(inner: &std::sync::Arc<Inner>, deliveries: Vec<Delivery>, origin: &Origin) {
    for d in deliveries {
        let frame = push_frame(&d);
        for user in &d.user_ids {
            match inner.faults.on_push(user, &frame) {
                PushAction::Hold => {}
                PushAction::Send { times, delay } => match delay {
                    None => {
                        let due = (!inner.config.push_latency.is_zero())
                            .then(|| tokio::time::Instant::now() + inner.config.push_latency);
                        for _ in 0..times {
                            inner
                                .registry
                                .send_push_from(user, frame.clone(), origin, due);
                        }
                    }
                    Some(delay) => {
                        let inner = inner.clone();
                        let user = user.clone();
                        let frame = frame.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(delay).await;
                            for _ in 0..times {
                                inner.registry.send_push(&user, frame.clone());
                            }
                        });
                    }
                },
            }
        }
    }
}

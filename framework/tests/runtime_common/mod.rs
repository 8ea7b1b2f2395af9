//! Shared helpers for the runtime tests: an in-memory event source, a recording sender and
//! message builders. No network.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use openim_bot::content::Content;
use openim_bot::runtime::{BotBuilder, MemoryDialogueStorage, MessageSender};
use openim_bot::{Client, ClientError, Delivery, Event, Message, SentMessage, Store, Target};
use parking_lot::Mutex;
use tokio::sync::{Notify, mpsc};

pub const BOT: &str = "bot";

/// Records every message the bot sends.
#[derive(Clone, Default)]
pub struct Recorder {
    sent: Arc<Mutex<Vec<(Target, Content)>>>,
    notify: Arc<Notify>,
}

impl Recorder {
    pub fn texts(&self) -> Vec<String> {
        self.sent
            .lock()
            .iter()
            .map(|(_, c)| c.as_text().unwrap_or("").to_string())
            .collect()
    }

    pub fn sent(&self) -> Vec<(Target, Content)> {
        self.sent.lock().clone()
    }

    /// Waits (with a timeout) until at least `n` messages were sent.
    pub async fn wait_for(&self, n: usize) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let notified = self.notify.notified();
            if self.sent.lock().len() >= n {
                return self.texts();
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                panic!(
                    "timed out waiting for {n} sent messages; got {:?}",
                    self.texts()
                );
            }
        }
    }
}

#[openim_bot::runtime::async_trait]
impl MessageSender for Recorder {
    async fn send(&self, target: Target, content: Content) -> Result<SentMessage, ClientError> {
        let n = {
            let mut sent = self.sent.lock();
            sent.push((target.clone(), content));
            sent.len()
        };
        self.notify.notify_waiters();
        Ok(SentMessage {
            conversation_id: format!("{target:?}"),
            client_msg_id: format!("c{n}"),
            server_msg_id: format!("s{n}"),
            send_time: n as i64,
        })
    }
}

/// A bot builder on an in-memory source, with a recorder and memory dialogues.
pub fn builder() -> (BotBuilder, mpsc::Sender<Delivery>, Recorder) {
    let (tx, rx) = mpsc::channel(16);
    let store = Store::temporary().expect("temporary store");
    let client = Client::detached(BOT, store);
    let recorder = Recorder::default();
    let b = BotBuilder::from_source(rx, client)
        .sender(recorder.clone())
        .dialogue_storage(MemoryDialogueStorage::new())
        .handle_ctrl_c(false)
        .tracing(false);
    (b, tx, recorder)
}

fn base(conversation_id: &str, from: &str, text: &str) -> Message {
    Message {
        conversation_id: conversation_id.into(),
        seq: 1,
        client_msg_id: "cm".into(),
        server_msg_id: "sm".into(),
        send_id: from.into(),
        recv_id: BOT.into(),
        group_id: None,
        session_type: 1,
        msg_from: 100,
        content_type: 101,
        content: Content::text(text),
        sender_platform_id: 5,
        sender_nickname: from.into(),
        sender_face_url: Default::default(),
        send_time: 1,
        create_time: 1,
        at_user_ids: Vec::new(),
        ex: String::new(),
        is_self: from == BOT,
    }
}

/// A private text from `from` to the bot.
pub fn private(from: &str, text: &str) -> Message {
    base(&format!("si_{BOT}_{from}"), from, text)
}

/// A group text from `from` in `group`, mentioning `at`.
pub fn group(group_id: &str, from: &str, text: &str, at: &[&str]) -> Message {
    let mut m = base(&format!("sg_{group_id}"), from, text);
    m.group_id = Some(group_id.into());
    m.recv_id = Default::default();
    m.session_type = 3;
    if !at.is_empty() {
        m.content_type = 106;
        m.content = Content::at_text(text, at.iter().map(|s| s.to_string()).collect());
        m.at_user_ids = at.iter().map(|s| s.to_string()).collect();
    }
    m
}

pub fn ev(m: Message) -> Event {
    Event::NewMessage(m)
}

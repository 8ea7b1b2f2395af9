//! [`Context`]: what a handler gets with every event.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::api::ApiClient;
use crate::client::{Client, SentMessage, Target};
use crate::content::Content;
use crate::event::Event;
use crate::message::Message;
use crate::runtime::dialogue::{Dialogue, DialogueKey, DialogueStorage};
use crate::runtime::error::FrameworkError;
use crate::runtime::handler::CommandInfo;
use crate::runtime::outbox::MessageSender;
use crate::runtime::policy::Cooldowns;
use crate::store::Store;

/// State shared by every event of one running bot.
pub(crate) struct Shared {
    pub(crate) client: Client,
    pub(crate) sender: Arc<dyn MessageSender>,
    pub(crate) dialogues: Arc<dyn DialogueStorage>,
    pub(crate) dialogue_timeout: Option<Duration>,
    pub(crate) cooldowns: Cooldowns,
    pub(crate) shutdown: CancellationToken,
    pub(crate) commands: Vec<CommandInfo>,
}

/// What a handler gets with every event: the event, the bot's identity, sending, the API
/// client, the store, dialogue state and shutdown. Cheap to clone.
///
/// Replies go to the conversation of the current event ([`conversation`](Context::conversation)):
/// the group for group messages, the other user for single chats.
#[derive(Clone)]
pub struct Context {
    shared: Arc<Shared>,
    event: Arc<Event>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("me", &self.me())
            .field("event", &self.event.name())
            .finish_non_exhaustive()
    }
}

impl Context {
    pub(crate) fn new(shared: Arc<Shared>, event: Arc<Event>) -> Context {
        Context { shared, event }
    }

    /// The event being handled.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The message being handled (new and online-only messages), if any.
    pub fn message(&self) -> Option<&Message> {
        match &*self.event {
            Event::NewMessage(m) | Event::OnlineOnlyMessage(m) => Some(m),
            _ => None,
        }
    }

    /// The bot's own user ID.
    pub fn me(&self) -> &str {
        self.shared.client.user_id()
    }

    /// The session's client (all actions: groups, friends, revoke …).
    pub fn client(&self) -> &Client {
        &self.shared.client
    }

    /// The HTTP API client, authenticated as the bot.
    pub fn api(&self) -> &ApiClient {
        self.shared.client.api()
    }

    /// The local store (conversations, friends, groups, members, applications).
    pub fn store(&self) -> &Store {
        self.shared.client.store()
    }

    /// Where a reply goes: the group of a group message, the other party of a single chat.
    pub fn conversation(&self) -> Option<Target> {
        let m = self.message()?;
        if let Some(group) = m.group_id.as_deref().filter(|g| !g.is_empty()) {
            return Some(Target::Group(group.to_string()));
        }
        let peer = if m.send_id == self.me() {
            &m.recv_id
        } else {
            &m.send_id
        };
        (!peer.is_empty()).then(|| Target::User(peer.to_string()))
    }

    /// Replies with text in the current conversation.
    pub async fn reply(&self, text: impl Into<String>) -> Result<SentMessage, FrameworkError> {
        let target = self.conversation().ok_or(FrameworkError::NoConversation)?;
        self.send(target, text).await
    }

    /// Replies quoting the current message.
    pub async fn reply_quote(
        &self,
        text: impl Into<String>,
    ) -> Result<SentMessage, FrameworkError> {
        let target = self.conversation().ok_or(FrameworkError::NoConversation)?;
        let message = self.message().ok_or(FrameworkError::NoConversation)?;
        self.send_content(target, Content::quote(text, &message.to_msg_data()))
            .await
    }

    /// Replies in a group with an @-mention of the sender (plain reply in single chats).
    pub async fn reply_mention(
        &self,
        text: impl Into<String>,
    ) -> Result<SentMessage, FrameworkError> {
        let target = self.conversation().ok_or(FrameworkError::NoConversation)?;
        let message = self.message().ok_or(FrameworkError::NoConversation)?;
        match target {
            Target::Group(_) => {
                let text = format!("@{} {}", message.send_id, text.into());
                self.send_content(
                    target,
                    Content::at_text(text, vec![message.send_id.to_string()]),
                )
                .await
            }
            _ => self.send(target, text).await,
        }
    }

    /// Sends text anywhere.
    pub async fn send(
        &self,
        target: Target,
        text: impl Into<String>,
    ) -> Result<SentMessage, FrameworkError> {
        self.send_content(target, Content::text(text)).await
    }

    /// Sends any content anywhere (through the bot's throttle, if any).
    pub async fn send_content(
        &self,
        target: Target,
        content: Content,
    ) -> Result<SentMessage, FrameworkError> {
        self.shared
            .sender
            .send(target.clone(), content)
            .await
            .map_err(|source| FrameworkError::Send { target, source })
    }

    /// The sender's role in the current group (100 owner, 60 admin, 20 member), `None` outside
    /// groups or if not a member.
    pub async fn sender_role(&self) -> Result<Option<i32>, FrameworkError> {
        let Some(m) = self.message() else {
            return Ok(None);
        };
        let Some(group) = m.group_id.as_deref().filter(|g| !g.is_empty()) else {
            return Ok(None);
        };
        Ok(self
            .shared
            .client
            .group_member_role(group, &m.send_id)
            .await?)
    }

    /// The dialogue of the sender in the current conversation.
    pub fn dialogue(&self) -> Result<Dialogue, FrameworkError> {
        let m = self.message().ok_or(FrameworkError::NoConversation)?;
        Ok(self.dialogue_for(DialogueKey::new(&m.conversation_id, &m.send_id)))
    }

    /// The dialogue of any user in any conversation.
    pub fn dialogue_for(&self, key: DialogueKey) -> Dialogue {
        Dialogue::new(
            key,
            self.shared.dialogues.clone(),
            self.shared.dialogue_timeout,
        )
    }

    /// Every command of every handler of this bot (for custom help).
    pub fn commands(&self) -> &[CommandInfo] {
        &self.shared.commands
    }

    /// Asks the bot to stop: no new events are started, running handlers finish.
    pub fn shutdown(&self) {
        self.shared.shutdown.cancel();
    }

    /// True once shutdown was requested.
    pub fn is_shutting_down(&self) -> bool {
        self.shared.shutdown.is_cancelled()
    }

    pub(crate) fn shared(&self) -> &Shared {
        &self.shared
    }
}

//! Dialogues: per (user, conversation) state machines, persisted behind [`DialogueStorage`]
//! (aiogram's FSM storage, keyed by user-in-chat).
//!
//! The state is any `Serialize + DeserializeOwned` type, usually an enum of steps. It is stored
//! as a versioned JSON record with an expiry time: a dialogue that sees no activity for its
//! timeout is forgotten (reading it returns `None`). The default storage is the bot's sled
//! store ([`SledDialogueStorage`]), so dialogues survive a restart; [`MemoryDialogueStorage`]
//! keeps them in memory.
//!
//! ```no_run
//! use openim_bot::prelude::*;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! enum Order { AskSize, AskAddress { size: String } }
//!
//! # async fn step(ctx: &Context, msg: &Message) -> Result<(), FrameworkError> {
//! let dialogue = ctx.dialogue()?;
//! match dialogue.get::<Order>().await? {
//!     None => { dialogue.set(&Order::AskSize).await?; ctx.reply("Which size?").await?; }
//!     Some(Order::AskSize) => {
//!         let size = msg.text().unwrap_or_default().to_string();
//!         dialogue.set(&Order::AskAddress { size }).await?;
//!         ctx.reply("Where to?").await?;
//!     }
//!     Some(Order::AskAddress { size }) => {
//!         dialogue.finish().await?;
//!         ctx.reply(format!("Sending {size}.")).await?;
//!     }
//! }
//! # Ok(()) }
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use parking_lot::Mutex;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Version of the stored record format.
pub const DIALOGUE_RECORD_VERSION: u32 = 1;

/// Errors of dialogue storage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DialogueError {
    /// The backend failed.
    #[error("dialogue storage: {0}")]
    Storage(String),
    /// A stored state does not decode as the requested type.
    #[error("dialogue state for {key} does not decode: {source}")]
    Decode {
        /// The key.
        key: String,
        /// JSON error.
        source: serde_json::Error,
    },
    /// The record was written by an unknown format version.
    #[error("dialogue record for {key} has unsupported version {version}")]
    Version {
        /// The key.
        key: String,
        /// Version found.
        version: u32,
    },
}

/// Whose dialogue: a user in a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DialogueKey {
    /// Conversation ID.
    pub conversation_id: String,
    /// User ID.
    pub user_id: String,
}

impl DialogueKey {
    /// The key of `user_id` in `conversation_id`.
    pub fn new(conversation_id: impl Into<String>, user_id: impl Into<String>) -> DialogueKey {
        DialogueKey {
            conversation_id: conversation_id.into(),
            user_id: user_id.into(),
        }
    }

    /// The storage key: `v1/<conversation>/<user>`.
    pub fn storage_key(&self) -> String {
        format!(
            "v{DIALOGUE_RECORD_VERSION}/{}/{}",
            self.conversation_id, self.user_id
        )
    }
}

/// One stored dialogue state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DialogueRecord {
    /// Record format version ([`DIALOGUE_RECORD_VERSION`]).
    pub v: u32,
    /// The state as JSON.
    pub state: serde_json::Value,
    /// Last update (ms since the Unix epoch).
    pub updated_at_ms: u64,
    /// Forgotten after this time (ms since the Unix epoch); `None` = never.
    pub expires_at_ms: Option<u64>,
}

impl DialogueRecord {
    /// True if expired at `now_ms`.
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expires_at_ms.is_some_and(|t| t <= now_ms)
    }
}

/// Where dialogue states live. Implementations only store records; expiry is applied by
/// [`Dialogue`].
#[async_trait]
pub trait DialogueStorage: Send + Sync + 'static {
    /// Reads a record.
    async fn load(&self, key: &DialogueKey) -> Result<Option<DialogueRecord>, DialogueError>;
    /// Writes a record.
    async fn save(&self, key: &DialogueKey, record: DialogueRecord) -> Result<(), DialogueError>;
    /// Deletes a record.
    async fn remove(&self, key: &DialogueKey) -> Result<(), DialogueError>;
    /// Name for the routing table.
    fn name(&self) -> &'static str;
}

/// Dialogue states in memory (lost on restart).
#[derive(Debug, Default, Clone)]
pub struct MemoryDialogueStorage {
    records: Arc<Mutex<HashMap<DialogueKey, DialogueRecord>>>,
}

impl MemoryDialogueStorage {
    /// An empty storage.
    pub fn new() -> MemoryDialogueStorage {
        MemoryDialogueStorage::default()
    }
}

#[async_trait]
impl DialogueStorage for MemoryDialogueStorage {
    async fn load(&self, key: &DialogueKey) -> Result<Option<DialogueRecord>, DialogueError> {
        Ok(self.records.lock().get(key).cloned())
    }
    async fn save(&self, key: &DialogueKey, record: DialogueRecord) -> Result<(), DialogueError> {
        self.records.lock().insert(key.clone(), record);
        Ok(())
    }
    async fn remove(&self, key: &DialogueKey) -> Result<(), DialogueError> {
        self.records.lock().remove(key);
        Ok(())
    }
    fn name(&self) -> &'static str {
        "memory"
    }
}

/// Dialogue states in a sled tree (by default the `dialogues` tree of the bot's [`Store`]);
/// they survive a restart.
///
/// [`Store`]: crate::store::Store
#[derive(Debug, Clone)]
pub struct SledDialogueStorage {
    tree: sled::Tree,
}

impl SledDialogueStorage {
    /// Uses `tree`.
    pub fn new(tree: sled::Tree) -> SledDialogueStorage {
        SledDialogueStorage { tree }
    }

    /// Uses the `dialogues` tree of `store`.
    pub fn from_store(store: &crate::store::Store) -> Result<SledDialogueStorage, DialogueError> {
        let tree = store
            .tree("dialogues")
            .map_err(|e| DialogueError::Storage(e.to_string()))?;
        Ok(SledDialogueStorage { tree })
    }
}

fn sled_error(e: sled::Error) -> DialogueError {
    DialogueError::Storage(e.to_string())
}

#[async_trait]
impl DialogueStorage for SledDialogueStorage {
    async fn load(&self, key: &DialogueKey) -> Result<Option<DialogueRecord>, DialogueError> {
        let k = key.storage_key();
        match self.tree.get(&k).map_err(sled_error)? {
            None => Ok(None),
            Some(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|source| DialogueError::Decode { key: k, source }),
        }
    }
    async fn save(&self, key: &DialogueKey, record: DialogueRecord) -> Result<(), DialogueError> {
        let k = key.storage_key();
        let bytes = serde_json::to_vec(&record).map_err(|source| DialogueError::Decode {
            key: k.clone(),
            source,
        })?;
        self.tree.insert(k, bytes).map_err(sled_error)?;
        self.tree.flush_async().await.map_err(sled_error)?;
        Ok(())
    }
    async fn remove(&self, key: &DialogueKey) -> Result<(), DialogueError> {
        self.tree.remove(key.storage_key()).map_err(sled_error)?;
        self.tree.flush_async().await.map_err(sled_error)?;
        Ok(())
    }
    fn name(&self) -> &'static str {
        "sled"
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// What [`Dialogue::state`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DialogueState<S> {
    /// No dialogue (never started, or finished).
    None,
    /// A dialogue in progress.
    Active(S),
    /// The dialogue's state timed out (reported once: it is deleted now).
    Expired(S),
}

/// The dialogue of one user in one conversation ([`Context::dialogue`]).
///
/// [`Context::dialogue`]: crate::runtime::Context::dialogue
#[derive(Clone)]
pub struct Dialogue {
    key: DialogueKey,
    storage: Arc<dyn DialogueStorage>,
    timeout: Option<Duration>,
}

impl std::fmt::Debug for Dialogue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dialogue")
            .field("key", &self.key)
            .field("storage", &self.storage.name())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Dialogue {
    /// A dialogue handle on `storage`; states expire `timeout` after their last update.
    pub fn new(
        key: DialogueKey,
        storage: Arc<dyn DialogueStorage>,
        timeout: Option<Duration>,
    ) -> Dialogue {
        Dialogue {
            key,
            storage,
            timeout,
        }
    }

    /// Whose dialogue this is.
    pub fn key(&self) -> &DialogueKey {
        &self.key
    }

    /// The current state, `None` if there is none or it timed out (then it is also deleted).
    /// [`Dialogue::state`] tells the two apart.
    pub async fn get<S: DeserializeOwned>(&self) -> Result<Option<S>, DialogueError> {
        match self.record().await? {
            Some((record, false)) => self.decode(record).map(Some),
            _ => Ok(None),
        }
    }

    /// The current state, or the one that just timed out: [`DialogueState::Expired`] is
    /// reported once (the state is deleted), so that a bot can tell the user their form timed
    /// out instead of taking a late answer for a new start.
    pub async fn state<S: DeserializeOwned>(&self) -> Result<DialogueState<S>, DialogueError> {
        Ok(match self.record().await? {
            None => DialogueState::None,
            Some((record, false)) => DialogueState::Active(self.decode(record)?),
            Some((record, true)) => DialogueState::Expired(self.decode(record)?),
        })
    }

    /// The stored record and whether it expired (an expired one is deleted).
    async fn record(&self) -> Result<Option<(DialogueRecord, bool)>, DialogueError> {
        let Some(record) = self.storage.load(&self.key).await? else {
            return Ok(None);
        };
        if record.v != DIALOGUE_RECORD_VERSION {
            return Err(DialogueError::Version {
                key: self.key.storage_key(),
                version: record.v,
            });
        }
        let expired = record.is_expired(now_ms());
        if expired {
            self.storage.remove(&self.key).await?;
        }
        Ok(Some((record, expired)))
    }

    fn decode<S: DeserializeOwned>(&self, record: DialogueRecord) -> Result<S, DialogueError> {
        serde_json::from_value(record.state).map_err(|source| DialogueError::Decode {
            key: self.key.storage_key(),
            source,
        })
    }

    /// Sets the state (restarts the timeout).
    pub async fn set<S: Serialize>(&self, state: &S) -> Result<(), DialogueError> {
        self.set_with_timeout(state, self.timeout).await
    }

    /// Sets the state with its own timeout (`None` = never expires).
    pub async fn set_with_timeout<S: Serialize>(
        &self,
        state: &S,
        timeout: Option<Duration>,
    ) -> Result<(), DialogueError> {
        let state = serde_json::to_value(state).map_err(|source| DialogueError::Decode {
            key: self.key.storage_key(),
            source,
        })?;
        let now = now_ms();
        let record = DialogueRecord {
            v: DIALOGUE_RECORD_VERSION,
            state,
            updated_at_ms: now,
            expires_at_ms: timeout.map(|t| now.saturating_add(t.as_millis() as u64)),
        };
        self.storage.save(&self.key, record).await
    }

    /// Ends the dialogue (deletes the state).
    pub async fn finish(&self) -> Result<(), DialogueError> {
        self.storage.remove(&self.key).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    enum Step {
        AskName,
        AskAge { name: String },
    }

    #[tokio::test]
    async fn memory_roundtrip_and_finish() {
        let storage: Arc<dyn DialogueStorage> = Arc::new(MemoryDialogueStorage::new());
        let d = Dialogue::new(DialogueKey::new("si_a_b", "a"), storage.clone(), None);
        assert_eq!(d.get::<Step>().await.unwrap(), None);
        d.set(&Step::AskName).await.unwrap();
        assert_eq!(d.get::<Step>().await.unwrap(), Some(Step::AskName));
        // another user in the same conversation is independent
        let other = Dialogue::new(DialogueKey::new("si_a_b", "b"), storage, None);
        assert_eq!(other.get::<Step>().await.unwrap(), None);
        d.finish().await.unwrap();
        assert_eq!(d.get::<Step>().await.unwrap(), None);
    }

    #[tokio::test]
    async fn expired_state_is_forgotten() {
        let storage: Arc<dyn DialogueStorage> = Arc::new(MemoryDialogueStorage::new());
        let d = Dialogue::new(DialogueKey::new("c", "u"), storage.clone(), None);
        d.set_with_timeout(&Step::AskName, Some(Duration::ZERO))
            .await
            .unwrap();
        assert_eq!(d.get::<Step>().await.unwrap(), None);
        assert!(storage.load(d.key()).await.unwrap().is_none());
        // `state` says it timed out, once.
        d.set_with_timeout(&Step::AskName, Some(Duration::ZERO))
            .await
            .unwrap();
        assert_eq!(
            d.state::<Step>().await.unwrap(),
            DialogueState::Expired(Step::AskName)
        );
        assert_eq!(d.state::<Step>().await.unwrap(), DialogueState::None);
        d.set(&Step::AskName).await.unwrap();
        assert_eq!(
            d.state::<Step>().await.unwrap(),
            DialogueState::Active(Step::AskName)
        );
    }

    #[tokio::test]
    async fn sled_state_survives_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let key = DialogueKey::new("sg_g1", "u1");
        {
            let store = crate::store::Store::open(dir.path()).unwrap();
            let storage = Arc::new(SledDialogueStorage::from_store(&store).unwrap());
            let d = Dialogue::new(key.clone(), storage, Some(Duration::from_secs(3600)));
            d.set(&Step::AskAge { name: "Ann".into() }).await.unwrap();
        }
        // sled's I/O threads may hold the directory's lock a moment after the last handle
        // went: reopen as a restarting bot does.
        let store = crate::store::Store::open_waiting(dir.path()).await.unwrap();
        let storage = Arc::new(SledDialogueStorage::from_store(&store).unwrap());
        let d = Dialogue::new(key, storage, None);
        assert_eq!(
            d.get::<Step>().await.unwrap(),
            Some(Step::AskAge { name: "Ann".into() })
        );
    }

    #[tokio::test]
    async fn wrong_type_is_a_decode_error() {
        let storage: Arc<dyn DialogueStorage> = Arc::new(MemoryDialogueStorage::new());
        let d = Dialogue::new(DialogueKey::new("c", "u"), storage, None);
        d.set(&42u32).await.unwrap();
        assert!(matches!(
            d.get::<Step>().await,
            Err(DialogueError::Decode { .. })
        ));
    }
}

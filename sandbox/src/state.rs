//! The server state (users, tokens, relations, groups, conversations, messages, version logs) and
//! the message engine: seq allocation, storage, routing and notifications.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use bytes::{Bytes, BytesMut};
use prost::Message;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::model::{
    Black, Conversation, Friend, FriendRequest, GroupInfo, GroupMember, GroupRequestRow, UserInfo,
};
use crate::wire::MsgData;

/// Version-log element states.
pub const LOG_INSERT: u8 = 1;
/// Deleted element.
pub const LOG_DELETE: u8 = 2;
/// Updated element.
pub const LOG_UPDATE: u8 = 3;
/// The sort marker element of friend and member logs.
pub const SORT_MARKER: &str = "____S_O_R_T_I_D____";
/// More changed entries than this force a full resync.
pub const VERSION_SYNC_LIMIT: usize = 200;

/// Current time in Unix milliseconds.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A random 32-hex-char ID (client/server message IDs).
///
/// From the thread-local generator: one per sent message, and a system call each (as
/// `Uuid::new_v4` makes) showed in the send path's profile.
pub fn random_hex32() -> String {
    format!("{:032x}", rand::random::<u128>())
}

fn random_hex24() -> String {
    let s = uuid::Uuid::new_v4().simple().to_string();
    s[..24].to_string()
}

/// Value of a message option (absent = true).
pub fn opt(msg: &MsgData, key: &str) -> bool {
    msg.options.get(key).copied().unwrap_or(true)
}

/// Sorted single-chat pair joined with `_`.
fn sorted_pair(a: &str, b: &str) -> String {
    if a <= b {
        format!("{a}_{b}")
    } else {
        format!("{b}_{a}")
    }
}

/// Conversation ID of a message as the server computes it.
pub fn conversation_id_of(msg: &MsgData) -> String {
    let notification = msg.options.get("isNotNotification") == Some(&false);
    match msg.session_type {
        3 | 2 => {
            if notification {
                format!("n_{}", msg.group_id)
            } else if msg.session_type == 2 {
                format!("g_{}", msg.group_id)
            } else {
                format!("sg_{}", msg.group_id)
            }
        }
        4 => {
            if notification {
                format!("n_{}", sorted_pair(&msg.send_id, &msg.recv_id))
            } else {
                format!("sn_{}", sorted_pair(&msg.send_id, &msg.recv_id))
            }
        }
        _ => {
            if notification {
                format!("n_{}", sorted_pair(&msg.send_id, &msg.recv_id))
            } else {
                format!("si_{}", sorted_pair(&msg.send_id, &msg.recv_id))
            }
        }
    }
}

/// Single-chat conversation ID of two users.
pub fn single_conversation_id(a: &str, b: &str) -> String {
    format!("si_{}", sorted_pair(a, b))
}

/// The notification twin of a conversation ID (`si_a_b` → `n_a_b`).
pub fn notification_twin(conversation_id: &str) -> String {
    match conversation_id.split_once('_') {
        Some((_, rest)) => format!("n_{rest}"),
        None => format!("n_{conversation_id}"),
    }
}

/// One stored message.
///
/// Kept as its protobuf encoding (seq and status set), made once when the message is stored:
/// a pull or a push copies these bytes into its answer, where a decoded message had to be
/// cloned and encoded again for every reader (a third of the gateway's pull CPU). It is also a
/// fraction of a decoded message's memory. The few readers of other fields decode it
/// ([`StoredMsg::msg`]).
#[derive(Debug, Clone)]
pub struct StoredMsg {
    encoded: Bytes,
    send_time: i64,
    session_type: i32,
    /// [`fingerprint`] of the sender: whether a reader sent the message is known without
    /// touching the encoded bytes (a cache miss per message served, the largest cost left in
    /// a pull).
    sender: u64,
    /// Revocation and deletions, rare: boxed, so the fields every pull reads fill one cache
    /// line (64 bytes instead of 112).
    marks: Option<Box<Marks>>,
}

/// What happened to a stored message after it was sent.
#[derive(Debug, Clone, Default)]
struct Marks {
    /// Revocation details (`MessageRevokedContent` JSON) once revoked.
    revoked: Option<Value>,
    /// Users who deleted the message for themselves.
    deleted_for: BTreeSet<String>,
}

impl StoredMsg {
    /// Stores a message (encoding it once).
    pub fn new(msg: &MsgData) -> StoredMsg {
        StoredMsg::with_encoding(msg, Bytes::from(msg.encode_to_vec()))
    }

    /// Stores a message with its encoding `encoded` (`msg.encode_to_vec()`), shared with the
    /// message's push.
    fn with_encoding(msg: &MsgData, encoded: Bytes) -> StoredMsg {
        StoredMsg {
            encoded,
            send_time: msg.send_time,
            session_type: msg.session_type,
            sender: fingerprint(&msg.send_id),
            marks: None,
        }
    }

    /// A stored encoding (from a snapshot): decoded once to check it and read its fields.
    fn from_encoded(encoded: Bytes) -> Result<StoredMsg, prost::DecodeError> {
        let msg = MsgData::decode(&encoded[..])?;
        Ok(StoredMsg::with_encoding(&msg, encoded))
    }

    /// The message as stored (decoded).
    pub fn msg(&self) -> MsgData {
        // the bytes were encoded here, or checked when the snapshot was read
        MsgData::decode(&self.encoded[..]).unwrap_or_else(|e| {
            tracing::error!(error = %e, "a stored message does not decode");
            MsgData::default()
        })
    }

    /// The protobuf encoding of the message as stored.
    pub fn encoded(&self) -> &Bytes {
        &self.encoded
    }

    /// Send time (ms).
    pub fn send_time(&self) -> i64 {
        self.send_time
    }

    /// Session type (1 single, 3 group, 4 notification).
    pub fn session_type(&self) -> i32 {
        self.session_type
    }

    /// Revocation details (`MessageRevokedContent` JSON) once revoked.
    pub fn revoked(&self) -> Option<&Value> {
        self.marks.as_ref().and_then(|m| m.revoked.as_ref())
    }

    /// Records the revocation.
    pub fn set_revoked(&mut self, details: Value) {
        self.marks.get_or_insert_default().revoked = Some(details);
    }

    /// Whether `user` deleted the message for themselves.
    pub fn deleted_for(&self, user: &str) -> bool {
        self.marks
            .as_ref()
            .is_some_and(|m| m.deleted_for.contains(user))
    }

    /// Records that `user` deleted the message for themselves.
    pub fn delete_for(&mut self, user: String) {
        self.marks.get_or_insert_default().deleted_for.insert(user);
    }

    /// Whether `user` sent it (`None` if the stored bytes do not parse).
    fn sent_by(&self, user: &str) -> Option<bool> {
        if fingerprint(user) != self.sender {
            return Some(false);
        }
        crate::wire::bytes_field(&self.encoded, 1).map(|s| s == user.as_bytes())
    }
}

/// A 64-bit FNV-1a hash of a user ID: different hashes mean different IDs (equal ones are
/// compared in full).
fn fingerprint(user_id: &str) -> u64 {
    user_id.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The snapshot form: `msg` is the base64 of the protobuf encoding (as before messages were
/// kept encoded, so snapshots read both ways).
impl Serialize for StoredMsg {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine;
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("StoredMsg", 3)?;
        st.serialize_field(
            "msg",
            &base64::engine::general_purpose::STANDARD.encode(&self.encoded),
        )?;
        let marks = self.marks.as_deref();
        st.serialize_field("revoked", &marks.and_then(|m| m.revoked.as_ref()))?;
        st.serialize_field(
            "deleted_for",
            marks.map_or(&BTreeSet::new(), |m| &m.deleted_for),
        )?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for StoredMsg {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use base64::Engine;
        #[derive(Deserialize)]
        struct Snapshot {
            msg: String,
            revoked: Option<Value>,
            #[serde(default)]
            deleted_for: BTreeSet<String>,
        }
        let snap = Snapshot::deserialize(d)?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(snap.msg)
            .map_err(serde::de::Error::custom)?;
        let mut stored =
            StoredMsg::from_encoded(Bytes::from(bytes)).map_err(serde::de::Error::custom)?;
        if snap.revoked.is_some() || !snap.deleted_for.is_empty() {
            stored.marks = Some(Box::new(Marks {
                revoked: snap.revoked,
                deleted_for: snap.deleted_for,
            }));
        }
        Ok(stored)
    }
}

/// Messages and seq counter of one conversation.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ConvSeqs {
    /// Highest allocated seq.
    pub max_seq: i64,
    /// Time (ms) the max seq was allocated.
    pub max_seq_time: i64,
    /// Global min seq (cleared for everyone).
    pub min_seq: i64,
    /// Stored messages by seq.
    pub msgs: BTreeMap<i64, StoredMsg>,
    /// Room for the encodings of the next messages (see [`ConvSeqs::store`]).
    #[serde(skip)]
    arena: BytesMut,
    /// Capacity of the arena's current chunk.
    #[serde(skip)]
    arena_chunk: usize,
}

impl ConvSeqs {
    /// Largest arena chunk (a few dozen messages).
    const ARENA_CHUNK_MAX: usize = 16 * 1024;

    /// Stores `msg` under its seq, encoded next to the conversation's previous messages;
    /// returns the encoding (shared with the stored copy).
    ///
    /// A pull serves consecutive seqs of one conversation, and copying their bytes was the
    /// largest cost left in it while each had its own allocation, scattered among every other
    /// conversation's messages (one cache miss per message). Chunks double from the first
    /// message's size up to `ARENA_CHUNK_MAX`, so a conversation of one message
    /// costs no more than before; a chunk is freed with its last message.
    pub fn store(&mut self, msg: &MsgData) -> Bytes {
        let len = msg.encoded_len();
        if self.arena.capacity() - self.arena.len() < len {
            let chunk = (self.arena_chunk * 2).clamp(len, Self::ARENA_CHUNK_MAX.max(len));
            self.arena = BytesMut::with_capacity(chunk);
            self.arena_chunk = chunk;
        }
        // the room is reserved above, so this neither fails nor reallocates (a BytesMut
        // grows rather than run out of room)
        let encoded = match msg.encode(&mut self.arena) {
            Ok(()) => self.arena.split().freeze(),
            Err(_) => {
                self.arena.clear();
                Bytes::from(msg.encode_to_vec())
            }
        };
        self.msgs
            .insert(msg.seq, StoredMsg::with_encoding(msg, encoded.clone()));
        encoded
    }
}

/// A user's conversation record plus read pointer.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UserConv {
    /// The API object.
    pub conv: Conversation,
    /// Read pointer.
    pub has_read_seq: i64,
    /// Creation order.
    pub order: u64,
}

/// A group with its members.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Group {
    /// Stored info (owner and member count are computed on output).
    pub info: GroupInfo,
    /// Members by user ID.
    pub members: BTreeMap<String, GroupMember>,
    /// Join order of members.
    pub orders: BTreeMap<String, u64>,
}

impl Group {
    /// The owner's user ID.
    pub fn owner(&self) -> String {
        self.members
            .values()
            .find(|m| m.role_level == 100)
            .map(|m| m.user_id.clone())
            .unwrap_or_default()
    }
    /// Member IDs.
    pub fn member_ids(&self) -> Vec<String> {
        self.members.keys().cloned().collect()
    }
    /// Owner and admins.
    pub fn managers(&self) -> Vec<String> {
        self.members
            .values()
            .filter(|m| m.role_level >= 60)
            .map(|m| m.user_id.clone())
            .collect()
    }
    /// Member IDs sorted by role desc, then join order.
    pub fn sorted_member_ids(&self) -> Vec<String> {
        let mut v: Vec<&GroupMember> = self.members.values().collect();
        v.sort_by_key(|m| {
            (
                -m.role_level,
                self.orders.get(&m.user_id).copied().unwrap_or(0),
            )
        });
        v.into_iter().map(|m| m.user_id.clone()).collect()
    }
}

/// A version log for incremental sync.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct VersionLog {
    /// 24-hex version ID.
    pub id: String,
    /// Current version.
    pub version: u64,
    /// Latest change per element: (state, version).
    pub entries: BTreeMap<String, (u8, u64)>,
}

/// Result of an incremental-sync comparison.
#[derive(Debug, Clone, Default)]
pub struct Incremental {
    /// Current head version.
    pub version: u64,
    /// Current version ID.
    pub version_id: String,
    /// Client must resync fully.
    pub full: bool,
    /// Deleted element IDs.
    pub delete: Vec<String>,
    /// Inserted element IDs.
    pub insert: Vec<String>,
    /// Updated element IDs.
    pub update: Vec<String>,
    /// Version of the sort marker, if changed.
    pub sort_version: u64,
    /// The `""` group-changed marker was present.
    pub group_marker: bool,
}

/// A push to deliver: one message to every connection of each listed user.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Recipients.
    pub user_ids: Vec<String>,
    /// Conversation the message belongs to.
    pub conversation_id: String,
    /// The message.
    pub msg: MsgData,
    /// `msg`, protobuf-encoded (the stored copy's bytes when it was stored).
    pub encoded: Bytes,
    /// Originating operationID.
    pub operation_id: String,
}

/// A server-generated notification.
#[derive(Debug, Clone)]
pub struct Notif {
    /// Content type (e.g. 1501).
    pub content_type: i32,
    /// 1 single, 3 group.
    pub session_type: i32,
    /// Operator.
    pub send_id: String,
    /// Target user or group.
    pub recv_id: String,
    /// Tips object (serialised into `detail`).
    pub tips: Value,
    /// Also store a chat-visible copy.
    pub is_send_msg: bool,
    /// Store in the `n_` conversation with a seq.
    pub reliable: bool,
    /// Additional recipients (leaving members).
    pub extra: Vec<String>,
}

/// The whole server state.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct State {
    /// Users by ID.
    pub users: BTreeMap<String, UserInfo>,
    /// user → platform → token → status (0 normal, 2 kicked).
    pub tokens: BTreeMap<String, BTreeMap<i32, BTreeMap<String, i32>>>,
    /// owner → friend → row.
    pub friends: BTreeMap<String, BTreeMap<String, Friend>>,
    /// "from\tto" → request.
    pub friend_requests: BTreeMap<String, FriendRequest>,
    /// owner → blocked → row.
    pub blacks: BTreeMap<String, BTreeMap<String, Black>>,
    /// Groups by ID.
    pub groups: BTreeMap<String, Group>,
    /// "group\tuser" → request.
    pub group_requests: BTreeMap<String, GroupRequestRow>,
    /// Conversation ID → messages.
    pub seqs: BTreeMap<String, ConvSeqs>,
    /// user → conversation ID → record.
    pub user_convs: BTreeMap<String, BTreeMap<String, UserConv>>,
    /// Version logs by key.
    pub logs: BTreeMap<String, VersionLog>,
    /// Monotonic counter for orders and generated IDs.
    pub counter: u64,
    /// Send status per operationID (check_msg_is_send_success), most recent ones only.
    #[serde(default)]
    pub send_status: SendStatus,
    /// user → stored commands (`/user/process_user_command_*`), in insertion order.
    #[serde(default)]
    pub user_commands: BTreeMap<String, Vec<openim_protocol::api::user::CommandInfo>>,
    /// Uploaded client log records (`/third/logs/*`), oldest first.
    #[serde(default)]
    pub client_logs: Vec<openim_protocol::api::third::LogInfo>,
    /// With a data dir: every message stored in a history is appended here before its send is
    /// answered (see [`crate::msglog`]).
    #[serde(skip)]
    pub(crate) msg_log: Option<crate::msglog::MsgLog>,
}

/// Send status per operationID (`/msg/check_msg_is_send_success`), bounded like upstream's
/// expiring cache entries: at most [`SendStatus::CAPACITY`] are kept, the oldest forgotten
/// first, a generation ([`SendStatus::GENERATION`] entries) at a time.
///
/// One entry per sent message, so the structure must cost the same at every send. An ordered
/// map of every operationID ever seen made each send slower as traffic grew; one hash map with
/// the oldest entry removed at each insert (at 100,000 entries) filled up with tombstones and
/// was rebuilt every ~15,000 sends, a 10-25 ms stall of every send (the echo benchmark's tail,
/// seen with perf). Generations are filled and dropped whole: a map that is never removed from
/// is never rehashed, and dropping one costs a free per entry of one generation.
/// Serialised as a JSON object in insertion order (older snapshots, sorted maps, load as is).
#[derive(Debug, Default, Clone)]
pub struct SendStatus {
    /// Oldest first; new entries go to the last one.
    generations: std::collections::VecDeque<SendGeneration>,
}

/// A full-size generation's entries, sized up front (it only ever grows to
/// [`SendStatus::GENERATION`] entries, so it never rehashes).
#[derive(Debug, Default, Clone)]
struct SendGeneration {
    status: std::collections::HashMap<String, i32>,
    /// Insertion order (for serialising).
    order: Vec<String>,
}

impl SendStatus {
    /// Most entries kept; at least `CAPACITY - GENERATION` of the latest are.
    pub const CAPACITY: usize = 100_000;

    /// Entries per generation (those forgotten together).
    pub const GENERATION: usize = Self::CAPACITY / 16;

    /// Records the status of an operation. An operation seen again is updated in place if it
    /// is in the newest generation, else recorded anew there (lookups read the newest first):
    /// a send looks up one map, not one per generation.
    pub fn insert(&mut self, operation_id: &str, status: i32) {
        if let Some(v) = self
            .generations
            .back_mut()
            .and_then(|g| g.status.get_mut(operation_id))
        {
            *v = status;
            return;
        }
        if self
            .generations
            .back()
            .is_none_or(|g| g.order.len() >= Self::GENERATION)
        {
            if self.len() + 1 > Self::CAPACITY {
                self.generations.pop_front();
            }
            self.generations.push_back(SendGeneration {
                status: std::collections::HashMap::with_capacity(Self::GENERATION),
                order: Vec::with_capacity(Self::GENERATION),
            });
        }
        if let Some(g) = self.generations.back_mut() {
            g.status.insert(operation_id.to_string(), status);
            g.order.push(operation_id.to_string());
        }
    }

    /// The status of an operation, if still known.
    pub fn get(&self, operation_id: &str) -> Option<i32> {
        self.generations
            .iter()
            .rev()
            .find_map(|g| g.status.get(operation_id).copied())
    }

    /// Number of entries kept.
    pub fn len(&self) -> usize {
        self.generations.iter().map(|g| g.order.len()).sum()
    }

    /// Whether no status is kept.
    pub fn is_empty(&self) -> bool {
        self.generations.iter().all(|g| g.order.is_empty())
    }
}

impl Serialize for SendStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.len()))?;
        for g in &self.generations {
            for op in &g.order {
                if let Some(v) = g.status.get(op) {
                    map.serialize_entry(op, v)?;
                }
            }
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for SendStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = SendStatus;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map of operationID to send status")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<SendStatus, A::Error> {
                let mut out = SendStatus::default();
                while let Some((k, v)) = map.next_entry::<String, i32>()? {
                    out.insert(&k, v);
                }
                Ok(out)
            }
        }
        d.deserialize_map(Visitor)
    }
}

impl State {
    /// Next value of the monotonic counter.
    pub fn next_order(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    // ---------- version logs ----------

    /// Current head of a log, creating an empty log if missing.
    pub fn log_head(&mut self, key: &str) -> (u64, String) {
        let log = self
            .logs
            .entry(key.to_string())
            .or_insert_with(|| VersionLog {
                id: random_hex24(),
                version: 1,
                entries: BTreeMap::new(),
            });
        (log.version, log.id.clone())
    }

    /// Records one write operation touching `changes`; returns the new head.
    pub fn log_write(&mut self, key: &str, changes: &[(String, u8)]) -> (u64, String) {
        let log = self
            .logs
            .entry(key.to_string())
            .or_insert_with(|| VersionLog {
                id: random_hex24(),
                version: 0,
                entries: BTreeMap::new(),
            });
        log.version += 1;
        let v = log.version;
        // only the latest change of an element is kept (insert→update reads as update)
        for (id, st) in changes {
            log.entries.insert(id.clone(), (*st, v));
        }
        (log.version, log.id.clone())
    }

    /// Deletes a log outright (all members removed).
    pub fn log_drop(&mut self, key: &str) {
        self.logs.remove(key);
    }

    /// Compares a client's (versionID, version) with a log.
    pub fn incremental(&mut self, key: &str, version_id: &str, version: u64) -> Incremental {
        let (head, id) = self.log_head(key);
        let mut out = Incremental {
            version: head,
            version_id: id.clone(),
            ..Default::default()
        };
        let valid_id = version_id.len() == 24 && version_id.chars().all(|c| c.is_ascii_hexdigit());
        if !valid_id || version == 0 || version_id != id || version > head {
            out.full = true;
            return out;
        }
        if version == head {
            return out;
        }
        let Some(log) = self.logs.get(key) else {
            out.full = true;
            return out;
        };
        let changed: Vec<(&String, &(u8, u64))> = log
            .entries
            .iter()
            .filter(|(_, (_, v))| *v > version)
            .collect();
        if changed.len() > VERSION_SYNC_LIMIT {
            out.full = true;
            return out;
        }
        for (eid, (st, v)) in changed {
            if eid == SORT_MARKER {
                out.sort_version = *v;
                continue;
            }
            if eid.is_empty() {
                out.group_marker = true;
                continue;
            }
            match *st {
                LOG_INSERT => out.insert.push(eid.clone()),
                LOG_DELETE => out.delete.push(eid.clone()),
                _ => out.update.push(eid.clone()),
            }
        }
        out
    }

    // ---------- users ----------

    /// Nickname of a user ("" if unknown).
    pub fn nickname(&self, user_id: &str) -> String {
        self.users
            .get(user_id)
            .map(|u| u.nickname.clone())
            .unwrap_or_default()
    }

    /// Face URL of a user.
    pub fn face(&self, user_id: &str) -> String {
        self.users
            .get(user_id)
            .map(|u| u.face_url.clone())
            .unwrap_or_default()
    }

    /// Whether `a` has `b` as a friend.
    pub fn is_friend(&self, a: &str, b: &str) -> bool {
        self.friends.get(a).is_some_and(|m| m.contains_key(b))
    }

    /// Whether `owner` blocked `other`.
    pub fn is_black(&self, owner: &str, other: &str) -> bool {
        self.blacks
            .get(owner)
            .is_some_and(|m| m.contains_key(other))
    }

    // ---------- groups ----------

    /// Group info with computed owner and member count.
    pub fn group_info(&self, group_id: &str) -> Option<GroupInfo> {
        self.groups.get(group_id).map(|g| {
            let mut info = g.info.clone();
            info.owner_user_id = g.owner();
            info.member_count = g.members.len() as u32;
            info
        })
    }

    /// Member info with nickname/face fallback to the user's profile.
    pub fn member_view(&self, m: &GroupMember) -> GroupMember {
        let mut out = m.clone();
        if out.nickname.is_empty() {
            out.nickname = self.nickname(&m.user_id);
        }
        if out.face_url.is_empty() {
            out.face_url = self.face(&m.user_id);
        }
        out
    }

    /// A member of a group, with fallbacks.
    pub fn member(&self, group_id: &str, user_id: &str) -> Option<GroupMember> {
        self.groups
            .get(group_id)
            .and_then(|g| g.members.get(user_id))
            .map(|m| self.member_view(m))
    }

    // ---------- conversations ----------

    /// Ensures a conversation record exists for `owner`; returns true if created.
    pub fn ensure_conversation(
        &mut self,
        owner: &str,
        conversation_id: &str,
        conv_type: i32,
        peer: &str,
        group: &str,
    ) -> bool {
        if self
            .user_convs
            .get(owner)
            .is_some_and(|m| m.contains_key(conversation_id))
        {
            return false;
        }
        let order = self.next_order();
        let conv = Conversation {
            owner_user_id: owner.to_string(),
            conversation_id: conversation_id.to_string(),
            conversation_type: conv_type,
            user_id: peer.to_string(),
            group_id: group.to_string(),
            latest_msg_destruct_time: -62135596800000,
            ..Default::default()
        };
        self.user_convs
            .entry(owner.to_string())
            .or_default()
            .insert(
                conversation_id.to_string(),
                UserConv {
                    conv,
                    has_read_seq: 0,
                    order,
                },
            );
        self.log_write(
            &format!("conv:{owner}"),
            &[(conversation_id.to_string(), LOG_INSERT)],
        );
        true
    }

    /// The user's record of a conversation.
    pub fn user_conv(&self, owner: &str, conversation_id: &str) -> Option<&UserConv> {
        self.user_convs
            .get(owner)
            .and_then(|m| m.get(conversation_id))
    }

    /// Effective max seq of a conversation for a user (cap or global).
    pub fn user_max_seq(&self, owner: &str, conversation_id: &str) -> i64 {
        user_seq_bounds(
            self.seqs.get(conversation_id),
            self.user_conv(owner, conversation_id),
        )
        .1
    }

    /// Effective min seq of a conversation for a user.
    pub fn user_min_seq(&self, owner: &str, conversation_id: &str) -> i64 {
        user_seq_bounds(
            self.seqs.get(conversation_id),
            self.user_conv(owner, conversation_id),
        )
        .0
    }

    /// Sets the read pointer (never beyond max); returns the new value.
    pub fn set_has_read(&mut self, owner: &str, conversation_id: &str, seq: i64) -> i64 {
        if let Some(uc) = self
            .user_convs
            .get_mut(owner)
            .and_then(|m| m.get_mut(conversation_id))
        {
            uc.has_read_seq = seq;
            return seq;
        }
        0
    }

    /// A stored message as a user sees it (deleted → status 4 placeholder, revoked → 2101).
    pub fn view_msg(&self, owner: &str, conversation_id: &str, seq: i64) -> MsgData {
        self.view_in(owner, conversation_id, self.seqs.get(conversation_id), seq)
    }

    /// [`State::view_msg`] with the conversation's messages already looked up (`conv`, the
    /// entry of `conversation_id` in [`State::seqs`]).
    pub fn view_in(
        &self,
        owner: &str,
        conversation_id: &str,
        conv: Option<&ConvSeqs>,
        seq: i64,
    ) -> MsgData {
        let Some(stored) = conv.and_then(|c| c.msgs.get(&seq)) else {
            return MsgData {
                seq,
                status: 4,
                ..Default::default()
            };
        };
        let mut msg = stored.msg();
        if stored.deleted_for(owner) {
            msg.content.clear();
            msg.status = 4;
            return msg;
        }
        if let Some(rev) = stored.revoked() {
            msg.content_type = 2101;
            msg.content = detail_content(rev);
        }
        if msg.session_type == 1 && msg.send_id == owner {
            // single-chat read flag: set once the peer has read it
            let peer = &msg.recv_id;
            if let Some(uc) = self.user_conv(peer, conversation_id) {
                msg.is_read = uc.has_read_seq >= seq;
            }
        }
        msg
    }

    /// [`State::view_in`], encoded: the stored bytes themselves (borrowed, not copied) unless
    /// this user's view differs from the stored message (deleted or revoked, or the read flag
    /// of the user's own single-chat message).
    pub fn view_encoded_in<'a>(
        &'a self,
        owner: &str,
        conversation_id: &str,
        conv: Option<&'a ConvSeqs>,
        seq: i64,
    ) -> Cow<'a, [u8]> {
        if let Some(stored) = conv.and_then(|c| c.msgs.get(&seq)) {
            let as_stored = stored.marks.is_none()
                && (stored.session_type != 1 || stored.sent_by(owner) == Some(false));
            if as_stored {
                return Cow::Borrowed(&stored.encoded);
            }
        }
        Cow::Owned(
            self.view_in(owner, conversation_id, conv, seq)
                .encode_to_vec(),
        )
    }

    // ---------- message engine ----------

    /// Stores (if `history`) and routes a message. `extra` adds recipients (leaving members).
    pub fn route_message(
        &mut self,
        mut msg: MsgData,
        operation_id: &str,
        extra: &[String],
    ) -> Vec<Delivery> {
        let now = now_ms();
        if msg.status == 1 || msg.status == 0 {
            msg.status = 2;
        }
        if msg.send_time == 0 {
            msg.send_time = now;
        }
        let conversation_id = conversation_id_of(&msg);
        // the message's encoding, shared by its stored copy and its push
        let mut encoded = None;
        if opt(&msg, "history") {
            let seqs = self.seqs.entry(conversation_id.clone()).or_default();
            // Saturating: only a fault (`FaultControl::jump_seq`) brings a counter near the
            // end; past `i64::MAX` messages share it (a real server's counter would fail).
            seqs.max_seq = seqs.max_seq.saturating_add(1);
            seqs.max_seq_time = now;
            msg.seq = seqs.max_seq;
            let stored = seqs.store(&msg);
            if let Some(log) = &mut self.msg_log {
                log.append(&conversation_id, &stored);
            }
            encoded = Some(stored);
            self.open_conversations_of(&conversation_id, &msg);
        } else {
            msg.seq = 0;
        }
        let mut recipients: Vec<String> = Vec::new();
        match msg.session_type {
            3 | 2 => {
                if let Some(g) = self.groups.get(&msg.group_id) {
                    recipients.extend(g.member_ids());
                }
            }
            _ => {
                recipients.push(msg.recv_id.clone());
                if opt(&msg, "senderSync") && msg.send_id != msg.recv_id {
                    recipients.push(msg.send_id.clone());
                }
            }
        }
        for e in extra {
            if !recipients.contains(e) {
                recipients.push(e.clone());
            }
        }
        let encoded = encoded.unwrap_or_else(|| Bytes::from(msg.encode_to_vec()));
        vec![Delivery {
            user_ids: recipients,
            conversation_id,
            msg,
            encoded,
            operation_id: operation_id.to_string(),
        }]
    }

    /// The users' conversation records a message stored in `conversation_id` opens (if
    /// missing), and the sender's read pointer moved to it.
    fn open_conversations_of(&mut self, conversation_id: &str, msg: &MsgData) {
        if conversation_id.starts_with("n_") {
            return;
        }
        match msg.session_type {
            3 => {
                let members = self
                    .groups
                    .get(&msg.group_id)
                    .map(|g| g.member_ids())
                    .unwrap_or_default();
                for m in members {
                    self.ensure_conversation(&m, conversation_id, 3, "", &msg.group_id);
                }
            }
            4 => {
                self.ensure_conversation(&msg.recv_id, conversation_id, 4, &msg.send_id, "");
            }
            _ => {
                let (s, r) = (&msg.send_id, &msg.recv_id);
                self.ensure_conversation(s, conversation_id, 1, r, "");
                self.ensure_conversation(r, conversation_id, 1, s, "");
            }
        }
        if msg.msg_from != 200 || msg.session_type != 3 {
            // set_has_read changes an existing record only
            self.set_has_read(&msg.send_id, conversation_id, msg.seq);
        }
    }

    /// Stores again the messages of the message log that the snapshot lacks (the log's records
    /// newer than a conversation's max seq), after a hard kill; returns how many.
    pub(crate) fn replay_logged(&mut self, logged: Vec<crate::msglog::Logged>) -> usize {
        let mut replayed = 0;
        for crate::msglog::Logged {
            conversation_id,
            msg,
        } in logged
        {
            let seqs = self.seqs.entry(conversation_id.clone()).or_default();
            if msg.seq <= seqs.max_seq {
                continue;
            }
            seqs.max_seq = msg.seq;
            seqs.max_seq_time = msg.send_time;
            seqs.store(&msg);
            self.open_conversations_of(&conversation_id, &msg);
            replayed += 1;
        }
        replayed
    }

    /// The 1300 (ConversationChanged) notification to `user` about `conversation_id`: tells a
    /// live client to resync that conversation from its version log.
    pub fn notify_conversation_changed(
        &mut self,
        user: &str,
        conversation_id: &str,
        operation_id: &str,
    ) -> Vec<Delivery> {
        self.notify(
            Notif {
                content_type: 1300,
                session_type: 1,
                send_id: user.to_owned(),
                recv_id: user.to_owned(),
                tips: json!({"userID": user, "conversationIDList": [conversation_id]}),
                is_send_msg: false,
                reliable: false,
                extra: vec![],
            },
            operation_id,
        )
    }

    /// Builds, stores (per reliability) and routes a notification, plus its chat copy when `is_send_msg`.
    pub fn notify(&mut self, n: Notif, operation_id: &str) -> Vec<Delivery> {
        let now = now_ms();
        let detail = serde_json::to_string(&n.tips).unwrap_or_default();
        let content = serde_json::to_vec(&json!({ "detail": detail })).unwrap_or_default();
        let mut options = BTreeMap::new();
        options.insert("isNotNotification".to_string(), false);
        options.insert("isSendMsg".to_string(), n.is_send_msg);
        options.insert("history".to_string(), n.reliable);
        options.insert("persistent".to_string(), n.reliable);
        options.insert("offlinePush".to_string(), false);
        options.insert("unreadCount".to_string(), n.is_send_msg);
        options.insert("senderSync".to_string(), true);
        options.insert("conversationUpdate".to_string(), false);
        options.insert("senderConversationUpdate".to_string(), false);
        options.insert("notPrivate".to_string(), false);
        options.insert("reactionFromCache".to_string(), false);
        let group_id = if n.session_type == 3 {
            n.recv_id.clone()
        } else {
            String::new()
        };
        let msg = MsgData {
            send_id: n.send_id.clone(),
            recv_id: n.recv_id.clone(),
            group_id,
            client_msg_id: random_hex32(),
            server_msg_id: random_hex32(),
            session_type: n.session_type,
            msg_from: 200,
            content_type: n.content_type,
            content,
            send_time: now,
            create_time: now,
            status: 2,
            options,
            ..Default::default()
        };
        let mut out = self.route_message(msg.clone(), operation_id, &n.extra);
        if n.is_send_msg {
            let mut copy = msg;
            let mut o = BTreeMap::new();
            o.insert("offlinePush".to_string(), false);
            o.insert("unreadCount".to_string(), true);
            copy.options = o;
            out.extend(self.route_message(copy, operation_id, &n.extra));
        }
        out
    }
}

/// A user's effective (min, max) seq of a conversation, from its global seqs and the user's
/// row (looked up once by the caller: with many conversations each lookup in these maps is a
/// walk of cold tree nodes). The min is at least 1; a user's max seq caps the global one;
/// without a user row (a notification stream) they are the global ones.
pub(crate) fn user_seq_bounds(global: Option<&ConvSeqs>, user: Option<&UserConv>) -> (i64, i64) {
    let (global_min, global_max) = global.map_or((0, 0), |s| (s.min_seq, s.max_seq));
    let min = global_min.max(user.map_or(0, |u| u.conv.min_seq)).max(1);
    let max = match user {
        Some(uc) if uc.conv.max_seq > 0 => uc.conv.max_seq.min(global_max),
        _ => global_max,
    };
    (min, max)
}

/// `{"detail": "<json>"}` bytes for a notification element.
pub fn detail_content(v: &Value) -> Vec<u8> {
    let detail = serde_json::to_string(v).unwrap_or_default();
    serde_json::to_vec(&json!({ "detail": detail })).unwrap_or_default()
}

#[cfg(test)]
mod version_log_tests {
    use super::*;

    fn ids(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }

    #[test]
    fn incremental_answers_like_v3_8_3() {
        let mut st = State::default();
        // A new log: `full` for ""/0, a stable 24-hex ID, version 1.
        let first = st.incremental("friend:a", "", 0);
        assert!(first.full);
        assert_eq!(first.version, 1);
        assert_eq!(first.version_id.len(), 24);
        let id = first.version_id.clone();
        // Nothing changed.
        let same = st.incremental("friend:a", &id, 1);
        assert!(!same.full && same.insert.is_empty() && same.version == 1);
        // One operation touching two elements shares one version; the latest state wins.
        st.log_write(
            "friend:a",
            &[("b".into(), LOG_INSERT), ("c".into(), LOG_INSERT)],
        );
        st.log_write("friend:a", &[("c".into(), LOG_DELETE)]);
        st.log_write(
            "friend:a",
            &[("b".into(), LOG_UPDATE), (SORT_MARKER.into(), LOG_UPDATE)],
        );
        let d = st.incremental("friend:a", &id, 1);
        assert!(!d.full);
        assert_eq!(d.version, 4);
        assert_eq!(d.version_id, id, "versionID stable");
        assert_eq!(ids(&d.update), ["b"]);
        assert_eq!(ids(&d.delete), ["c"]);
        assert!(d.insert.is_empty());
        assert_eq!(d.sort_version, 4);
        // Only the changes after the given version.
        let d = st.incremental("friend:a", &id, 3);
        assert_eq!(ids(&d.update), ["b"]);
        assert!(d.delete.is_empty());
        // Another log ID, a version ahead of the head, or an invalid ID: `full`.
        assert!(st.incremental("friend:a", &"0".repeat(24), 1).full);
        assert!(st.incremental("friend:a", &id, 9).full);
        assert!(st.incremental("friend:a", "nothex", 1).full);
        // The group marker is reported apart, not as an element.
        let (v, gid) = st.log_head("member:g");
        st.log_write("member:g", &[(String::new(), LOG_UPDATE)]);
        let d = st.incremental("member:g", &gid, v);
        assert!(d.group_marker && d.update.is_empty() && !d.full);
        // A dropped log starts over with a new ID (clients resync in full).
        st.log_drop("member:g");
        let d = st.incremental("member:g", &gid, v);
        assert!(d.full);
        assert_ne!(d.version_id, gid);
    }

    #[test]
    fn more_than_200_changes_force_a_full_resync() {
        let mut st = State::default();
        let (v, id) = st.log_head("member:g");
        let many: Vec<(String, u8)> = (0..VERSION_SYNC_LIMIT)
            .map(|i| (format!("u{i}"), LOG_INSERT))
            .collect();
        st.log_write("member:g", &many);
        let d = st.incremental("member:g", &id, v);
        assert!(!d.full, "exactly 200 changes are still served");
        assert_eq!(d.insert.len(), VERSION_SYNC_LIMIT);
        st.log_write("member:g", &[(String::new(), LOG_UPDATE)]);
        let d = st.incremental("member:g", &id, v);
        assert!(d.full, "201 entries (markers count) → full");
        assert!(d.insert.is_empty());
    }
}

#[cfg(test)]
mod send_status_tests {
    use super::*;

    #[test]
    fn keeps_the_most_recent_statuses_only() {
        let mut s = SendStatus::default();
        for i in 0..SendStatus::CAPACITY {
            s.insert(&format!("op{i}"), 2);
        }
        assert_eq!(s.len(), SendStatus::CAPACITY, "all kept up to the capacity");
        assert_eq!(s.get("op0"), Some(2));
        s.insert("op100000", 2);
        let first_kept = SendStatus::GENERATION;
        assert_eq!(s.len(), SendStatus::CAPACITY - SendStatus::GENERATION + 1);
        assert_eq!(
            s.get(&format!("op{}", first_kept - 1)),
            None,
            "oldest generation forgotten"
        );
        assert_eq!(s.get(&format!("op{first_kept}")), Some(2));
        s.insert("op100000", 4);
        assert_eq!(s.get("op100000"), Some(4), "updated in place");
        assert_eq!(s.len(), SendStatus::CAPACITY - SendStatus::GENERATION + 1);
        s.insert(&format!("op{first_kept}"), 3);
        assert_eq!(
            s.get(&format!("op{first_kept}")),
            Some(3),
            "the newest wins"
        );
        for i in 0..10 * SendStatus::CAPACITY {
            s.insert(&format!("more{i}"), 2);
            assert!(s.len() <= SendStatus::CAPACITY);
        }
        assert_eq!(
            s.get(&format!("more{}", 10 * SendStatus::CAPACITY - 1)),
            Some(2)
        );
        let latest_kept =
            10 * SendStatus::CAPACITY - (SendStatus::CAPACITY - SendStatus::GENERATION);
        assert_eq!(
            s.get(&format!("more{latest_kept}")),
            Some(2),
            "the latest CAPACITY - GENERATION are kept"
        );
    }

    #[test]
    fn serialises_as_a_map_and_reads_older_snapshots() {
        let mut s = SendStatus::default();
        s.insert("b", 2);
        s.insert("a", 3);
        let json = serde_json::to_string(&s).expect("serialise");
        assert_eq!(json, r#"{"b":2,"a":3}"#, "insertion order");
        let back: SendStatus = serde_json::from_str(&json).expect("deserialise");
        assert_eq!(
            (back.get("a"), back.get("b"), back.len()),
            (Some(3), Some(2), 2)
        );
        // Across generations, with an operation recorded again in a newer one.
        let mut s = SendStatus::default();
        for i in 0..=SendStatus::GENERATION {
            s.insert(&format!("op{i}"), 2);
        }
        s.insert("op0", 3);
        let back: SendStatus =
            serde_json::from_str(&serde_json::to_string(&s).expect("serialise")).expect("load");
        assert_eq!(back.get("op0"), Some(3), "the newer record wins on load");
        assert_eq!(back.get(&format!("op{}", SendStatus::GENERATION)), Some(2));
        let state: State = serde_json::from_str(r#"{"users":{},"tokens":{},"friends":{},"friend_requests":{},"blacks":{},"groups":{},"group_requests":{},"seqs":{},"user_convs":{},"logs":{},"counter":0,"send_status":{"x":2}}"#)
            .expect("older snapshot");
        assert_eq!(state.send_status.get("x"), Some(2));
    }

    #[test]
    fn random_ids_are_32_lowercase_hex_digits() {
        let a = random_hex32();
        assert_eq!(a.len(), 32);
        assert!(
            a.chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
        assert_ne!(a, random_hex32());
    }
}

#[cfg(test)]
mod stored_msg_tests {
    use super::*;

    /// A text message from `from` to `to` (also used by `replay_tests`).
    pub(super) fn text(from: &str, to: &str, text: &str) -> MsgData {
        MsgData {
            send_id: from.into(),
            recv_id: to.into(),
            client_msg_id: random_hex32(),
            session_type: 1,
            content_type: 101,
            content: text.as_bytes().to_vec(),
            ..Default::default()
        }
    }

    /// Every view of every stored seq (and a missing one), encoded, equals the decoded view.
    fn assert_views_agree(st: &State, cid: &str, users: &[&str]) {
        let max = st.seqs.get(cid).map_or(0, |c| c.max_seq);
        for user in users {
            for seq in 1..=max + 1 {
                assert_eq!(
                    st.view_encoded_in(user, cid, st.seqs.get(cid), seq)
                        .into_owned(),
                    st.view_msg(user, cid, seq).encode_to_vec(),
                    "{user} seq {seq}"
                );
            }
        }
    }

    #[test]
    fn the_encoded_view_is_the_decoded_view_encoded() {
        let mut st = State::default();
        let cid = single_conversation_id("alice", "bob");
        for i in 0..4 {
            st.route_message(text("alice", "bob", &format!("a{i}")), "op", &[]);
            st.route_message(text("bob", "alice", &format!("b{i}")), "op", &[]);
        }
        // stored as sent: the stored bytes, not a copy
        let stored = st.seqs[&cid].msgs[&2].encoded().clone();
        let view = st.view_encoded_in("alice", &cid, st.seqs.get(&cid), 2);
        assert!(matches!(view, Cow::Borrowed(b) if b.as_ptr() == stored.as_ptr()));
        assert_views_agree(&st, &cid, &["alice", "bob", "carol"]);
        // the peer read up to 3: alice's own messages up to 3 read as read
        st.set_has_read("bob", &cid, 3);
        assert!(st.view_msg("alice", &cid, 3).is_read);
        assert!(!st.view_msg("alice", &cid, 5).is_read);
        // deleted for bob only; revoked for everyone
        let c = st.seqs.get_mut(&cid).expect("conversation");
        c.msgs.get_mut(&4).expect("seq 4").delete_for("bob".into());
        c.msgs
            .get_mut(&6)
            .expect("seq 6")
            .set_revoked(json!({"revokerID": "bob"}));
        c.msgs.remove(&7);
        assert_views_agree(&st, &cid, &["alice", "bob", "carol"]);
        assert_eq!(st.view_msg("bob", &cid, 4).status, 4);
        assert_eq!(st.view_msg("alice", &cid, 6).content_type, 2101);
    }

    #[test]
    fn a_stored_message_fills_one_cache_line() {
        assert!(std::mem::size_of::<StoredMsg>() <= 64);
    }

    #[test]
    fn a_push_carries_the_stored_bytes() {
        let mut st = State::default();
        let d = st.route_message(text("alice", "bob", "hi"), "op", &[]);
        let cid = single_conversation_id("alice", "bob");
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].encoded, d[0].msg.encode_to_vec());
        assert_eq!(
            d[0].encoded.as_ptr(),
            st.seqs[&cid].msgs[&1].encoded().as_ptr()
        );
        assert_eq!(st.seqs[&cid].msgs[&1].msg(), d[0].msg);
        // not stored (history off): encoded for its push all the same
        let mut once = text("alice", "bob", "typing");
        once.options.insert("history".into(), false);
        let d = st.route_message(once, "op", &[]);
        assert_eq!(d[0].msg.seq, 0);
        assert_eq!(d[0].encoded, d[0].msg.encode_to_vec());
    }

    #[test]
    fn a_conversation_stores_its_messages_side_by_side() {
        let mut c = ConvSeqs::default();
        let big = "x".repeat(ConvSeqs::ARENA_CHUNK_MAX * 2);
        let mut last_end = None;
        let mut adjacent = 0;
        for seq in 1..=300 {
            let body = if seq == 150 {
                big.clone()
            } else {
                format!("m{seq}")
            };
            let mut msg = text("alice", "bob", &body);
            msg.seq = seq;
            let encoded = c.store(&msg);
            assert_eq!(encoded, msg.encode_to_vec(), "seq {seq}");
            assert_eq!(c.msgs[&seq].msg(), msg);
            if last_end == Some(encoded.as_ptr() as usize) {
                adjacent += 1;
            }
            last_end = Some(encoded.as_ptr() as usize + encoded.len());
            assert!(c.arena_chunk <= ConvSeqs::ARENA_CHUNK_MAX.max(encoded.len()));
        }
        // all but the first message of each chunk follow the previous one
        assert!(adjacent > 280, "{adjacent} of 300 adjacent");
        // a message outlives the chunk's other messages
        let kept = c.msgs[&2].encoded().clone();
        c.msgs.clear();
        assert_eq!(
            StoredMsg::from_encoded(kept).map(|m| m.msg().seq).ok(),
            Some(2)
        );
    }

    #[test]
    fn snapshots_keep_the_format_of_decoded_messages() {
        let mut st = State::default();
        st.route_message(text("alice", "bob", "hi"), "op", &[]);
        let cid = single_conversation_id("alice", "bob");
        st.seqs
            .get_mut(&cid)
            .and_then(|c| c.msgs.get_mut(&1))
            .expect("stored")
            .delete_for("bob".into());
        let msg = st.seqs[&cid].msgs[&1].msg();
        let json = serde_json::to_value(&st.seqs[&cid].msgs[&1]).expect("serialise");
        use base64::Engine;
        // what the decoded message serialised as, before messages were kept encoded
        let before = json!({
            "msg": base64::engine::general_purpose::STANDARD.encode(msg.encode_to_vec()),
            "revoked": null,
            "deleted_for": ["bob"],
        });
        assert_eq!(json, before);
        let back: StoredMsg = serde_json::from_value(before).expect("reads back");
        assert_eq!(back.msg(), msg);
        assert_eq!((back.send_time(), back.session_type()), (msg.send_time, 1));
        assert!(back.deleted_for("bob") && !back.deleted_for("alice"));
        assert!(back.revoked().is_none());
        let mut revoked = back.clone();
        revoked.set_revoked(json!({"revokerID": "alice"}));
        let json = serde_json::to_value(&revoked).expect("serialise");
        assert_eq!(json["revoked"], json!({"revokerID": "alice"}));
        assert_eq!(json["deleted_for"], json!(["bob"]));
        let back: StoredMsg = serde_json::from_value(json).expect("reads back");
        assert_eq!(back.revoked(), Some(&json!({"revokerID": "alice"})));
        // deleted_for may be absent; a message that does not decode is an error, not a panic
        let old: StoredMsg = serde_json::from_value(json!({"msg": "", "revoked": null}))
            .expect("an empty message decodes");
        assert_eq!(old.msg(), MsgData::default());
        assert!(
            serde_json::from_value::<StoredMsg>(json!({"msg": "Cg==", "revoked": null})).is_err()
        );
        assert!(
            serde_json::from_value::<StoredMsg>(json!({"msg": "!!", "revoked": null})).is_err()
        );
    }
}

#[cfg(test)]
mod replay_tests {
    use super::stored_msg_tests::text;
    use super::*;
    use crate::msglog::MsgLog;

    /// A snapshot taken after the first message, two more logged, then the process is gone:
    /// the replay stores the two the snapshot lacks (seqs, both users' conversations, the
    /// senders' read pointers), once.
    #[test]
    fn replaying_the_message_log_restores_what_the_snapshot_lacks_once() {
        let dir = tempfile::tempdir().unwrap();
        let (log, logged) = MsgLog::open(dir.path()).unwrap();
        assert!(logged.is_empty());
        let mut live = State {
            msg_log: Some(log),
            ..Default::default()
        };
        live.route_message(text("alice", "bob", "one"), "op", &[]);
        let snapshot = serde_json::to_vec(&live).unwrap();
        live.route_message(text("alice", "bob", "two"), "op", &[]);
        live.route_message(text("bob", "alice", "three"), "op", &[]);
        drop(live);

        let mut st: State = serde_json::from_slice(&snapshot).unwrap();
        let cid = single_conversation_id("alice", "bob");
        assert_eq!(st.seqs[&cid].max_seq, 1);
        let (_log, logged) = MsgLog::open(dir.path()).unwrap();
        assert_eq!(st.replay_logged(logged), 2);
        let seqs = &st.seqs[&cid];
        assert_eq!(seqs.max_seq, 3);
        let texts: Vec<(i64, Vec<u8>)> = seqs
            .msgs
            .iter()
            .map(|(seq, m)| (*seq, m.msg().content))
            .collect();
        assert_eq!(
            texts,
            [
                (1, b"one".to_vec()),
                (2, b"two".to_vec()),
                (3, b"three".to_vec())
            ]
        );
        let read = |u: &str| st.user_conv(u, &cid).map(|c| c.has_read_seq);
        assert_eq!((read("alice"), read("bob")), (Some(2), Some(3)));

        // the same records again (a snapshot write failed, its generations stayed; the first
        // one the snapshot holds already): nothing
        let (_log, logged) = MsgLog::open(dir.path()).unwrap();
        assert_eq!(logged.len(), 3);
        assert_eq!(st.replay_logged(logged), 0);
        assert_eq!(st.seqs[&cid].msgs.len(), 3);
    }
}

#[cfg(test)]
mod seq_bounds_tests {
    use super::*;

    #[test]
    fn a_users_bounds_raise_the_global_min_and_cap_the_global_max() {
        let global = ConvSeqs {
            min_seq: 2,
            max_seq: 10,
            ..Default::default()
        };
        let user = |min_seq, max_seq| UserConv {
            conv: Conversation {
                min_seq,
                max_seq,
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(user_seq_bounds(None, None), (1, 0), "nothing stored");
        assert_eq!(user_seq_bounds(Some(&global), None), (2, 10));
        assert_eq!(user_seq_bounds(Some(&global), Some(&user(0, 0))), (2, 10));
        assert_eq!(
            user_seq_bounds(Some(&global), Some(&user(5, 7))),
            (5, 7),
            "cleared up to 4, capped at 7"
        );
        assert_eq!(
            user_seq_bounds(Some(&global), Some(&user(1, 20))),
            (2, 10),
            "a cap above the global max"
        );
    }
}

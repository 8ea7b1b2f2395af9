//! Wires gateway, sync, store and ledger together (internal).
//!
//! One task owns all state and processes, in order: gateway events (connect, pushes, kicks,
//! token errors) and commands from the [`Client`]. It hands [`Delivery`]s to the consumer
//! through a bounded channel (backpressure: processing waits while the consumer is behind).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use openim_protocol::constants::options;
use openim_protocol::pb::msg::{
    GetConversationsHasReadAndMaxSeqReq, GetConversationsHasReadAndMaxSeqResp,
};
use openim_protocol::pb::received::{self, ReceivedBatch, ReceivedMsg};
use openim_protocol::pb::sdkws::{GetMaxSeqReq, GetMaxSeqResp, PullMessageBySeqsReq, SeqRange};
use tokio::sync::{mpsc, oneshot};

use crate::api::ApiClient;
use crate::client::{Client, ClientInner};
use crate::config::{Credentials, SessionConfig};
use crate::delivery::{Ack, Delivery};
use crate::event::*;
use crate::gateway::{GatewayEvent, GatewayHandle, GatewaySettings, req};
use crate::ledger::Ledger;
use crate::model::LatestMessage;
use crate::session::SessionError;
use crate::store::{Store, trees};
use crate::sync::{
    ConvTable, NO_ROW, PushAction, Range, RecentIds, SlotId, batch, catch_up, classify, plan_pulls,
};

/// Commands from the client to the engine.
#[derive(Debug)]
pub(crate) enum EngineCmd {
    /// The bot marked a conversation read, whole or up to a seq.
    MarkedRead {
        conversation_id: String,
        /// Read up to this seq (`None`: the whole conversation).
        up_to: Option<i64>,
    },
    /// Re-run the relation sync (after a local mutating action).
    ResyncRelations,
}

/// Stops the background tasks of a session.
#[derive(Debug)]
pub(crate) struct ShutdownHandle {
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    gateway: GatewayHandle,
    store: Store,
    /// Holds the failure that ended the session, if a ledger write failed.
    ledger: Arc<Ledger>,
}

impl ShutdownHandle {
    pub(crate) async fn shutdown(mut self) -> Result<(), SessionError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.gateway.stop();
        if let Some(mut task) = self.task.take()
            && tokio::time::timeout(Duration::from_secs(10), &mut task)
                .await
                .is_err()
        {
            // Stuck in a request (a pull waits up to its timeout): stopped where it is, and
            // awaited, so that no store handle nor compaction of it outlives the session
            // (the acks of a burst it did not write stay held).
            task.abort();
            let _ = task.await;
        }
        // No compaction thread may outlive the session's database handle (see
        // Store::join_compactions); joining blocks, so off the async workers.
        let store = self.store.clone();
        let _ = tokio::task::spawn_blocking(move || store.join_compactions()).await;
        if let Some(e) = self.ledger.take_failure() {
            return Err(SessionError::Store(e));
        }
        self.store.flush()?;
        Ok(())
    }

    /// The session's ledger (tests inject write failures through it).
    #[cfg(test)]
    pub(crate) fn ledger(&self) -> &Ledger {
        &self.ledger
    }
}

impl Drop for ShutdownHandle {
    fn drop(&mut self) {
        // Dropping the session without shutdown() (e.g. a simulated crash) still stops the
        // background tasks; nothing is flushed explicitly.
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.gateway.stop();
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Obtains a user token with the admin secret.
pub(crate) async fn mint_token(
    api: &ApiClient,
    user_id: &str,
    platform: i32,
    secret: &str,
    admin_user_id: &str,
) -> Result<String, crate::api::ApiError> {
    let admin = api.get_admin_token(secret, admin_user_id).await?;
    api.get_user_token(&admin, user_id, platform).await
}

pub(crate) async fn start(
    config: SessionConfig,
) -> Result<(Client, mpsc::Receiver<Delivery>, ShutdownHandle), SessionError> {
    std::fs::create_dir_all(&config.data_dir).map_err(SessionError::DataDir)?;
    let store = Store::open_waiting(&config.data_dir).await?;
    // Own-send IDs are only needed until their echo arrives: keep the tree bounded.
    let sent_cutoff = now_ms() - crate::send::SENT_ID_RETENTION_MS;
    match crate::send::prune_sent_ids(&store.raw_tree(trees::SENT)?, sent_cutoff) {
        Ok(0) => {}
        Ok(n) => tracing::debug!(removed = n, "old own-send IDs forgotten"),
        Err(e) => tracing::warn!(error = %e, "pruning own-send IDs failed"),
    }
    let own_sends = crate::send::OwnSends::open(store.raw_tree(trees::SENT)?)?;
    let ledger = Arc::new(Ledger::open(Some(&store))?.durable(config.durable_acks));
    let ca_pem = match &config.tls_root_ca {
        Some(path) => Some(
            std::fs::read(path)
                .map_err(|e| SessionError::Tls(format!("{}: {e}", path.display())))?,
        ),
        None => None,
    };
    let tls = match &ca_pem {
        Some(pem) => Some(crate::gateway::tls_config(pem).map_err(SessionError::Tls)?),
        None => None,
    };
    let api = ApiClient::with_root_ca(&config.api_addr, ca_pem.as_deref())
        .with_timeout(Duration::from_millis(config.request_timeout_ms));
    let user_id = config.user_id().to_owned();
    match &config.credentials {
        Credentials::Token { token, .. } => api.set_token(token.clone()),
        Credentials::Secret {
            secret,
            admin_user_id,
            ..
        } => {
            let token = mint_token(&api, &user_id, config.platform, secret, admin_user_id).await?;
            api.set_token(token);
        }
    }
    let meta = store.raw_tree(trees::META)?;
    // "Fresh" = this data dir never started before. The epoch is made durable at once: a crash
    // before the first sync finished must not make the next start look fresh again (a fresh
    // start skips history, which would lose the messages sent in between).
    let (fresh, epoch) = match meta.get("epoch")? {
        Some(v) if v.len() == 8 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&v);
            (false, i64::from_be_bytes(b))
        }
        _ => {
            let e = now_ms();
            meta.insert("epoch", &e.to_be_bytes())?;
            meta.flush_async().await?;
            (ledger.is_empty(), e)
        }
    };
    let (gw_tx, gw_rx) = mpsc::unbounded_channel();
    let token_api = api.clone();
    let gateway = GatewayHandle::spawn(
        GatewaySettings {
            user_id: user_id.clone(),
            platform: config.platform,
            ws_addr: config.ws_addr.clone(),
            compression: config.compression == crate::config::Compression::Gzip,
            timeout: Duration::from_millis(config.request_timeout_ms.max(1)),
            token: Arc::new(move || token_api.token()),
            tls,
            push_queue_limit: config.push_queue_limit,
            push_queue_bytes: config.push_queue_bytes,
        },
        gw_tx,
    );
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let client = Client {
        inner: Arc::new(ClientInner {
            user_id: user_id.clone(),
            platform: config.platform,
            api: api.clone(),
            store: store.clone(),
            gateway: Some(gateway.clone()),
            commands: Some(cmd_tx),
            own_sends: own_sends.clone(),
        }),
    };
    let (out_tx, out_rx) = mpsc::channel(config.channel_capacity.max(1));
    let _ = out_tx
        .send(Delivery::unacked(Event::Initialized(Initialized {
            user_id: user_id.clone(),
            fresh,
        })))
        .await;
    let (stop_tx, stop_rx) = oneshot::channel();
    let engine = Engine {
        user_id,
        platform: config.platform,
        credentials: config.credentials.clone(),
        api,
        gw: gateway.clone(),
        store: store.clone(),
        ledger: ledger.clone(),
        own_sends,
        out: out_tx,
        convs: ConvTable::default(),
        recent_online: RecentIds::default(),
        fresh,
        epoch,
        renewed_since_connect: false,
        owed_pulls: HashMap::new(),
        owed_retry_at: None,
        owed_failures: 0,
        unlisted: Default::default(),
        typing: HashMap::new(),
        batch: ConvBatch::default(),
        burst: BurstBuffers::default(),
        // Seqs are i64: a larger limit is no limit. 0 (a config built in code) counts as 1.
        catch_up_limit: i64::try_from(config.catch_up_limit)
            .unwrap_or(i64::MAX)
            .max(1),
    };
    let task = tokio::spawn(engine.run(gw_rx, cmd_rx, stop_rx));
    Ok((
        client,
        out_rx,
        ShutdownHandle {
            stop: Some(stop_tx),
            task: Some(task),
            gateway,
            store,
            ledger,
        },
    ))
}

/// Writes acknowledged watermarks to the ledger's journal: at most
/// [`crate::ledger::PERSIST_DELAY`] after the first ack following a write, all changes since in
/// one entry.
async fn persist_acks(ledger: Arc<Ledger>) {
    loop {
        ledger.dirty_notify().notified().await;
        loop {
            tokio::time::sleep(crate::ledger::PERSIST_DELAY).await;
            match ledger.persist_or_hold() {
                Ok(false) => break,
                // Acks of a burst whose rows are not appended yet: written once they are.
                Ok(true) => ledger.written_notify().notified().await,
                Err(e) => {
                    tracing::error!(error = %e, "ledger write failed");
                    break;
                }
            }
        }
    }
}

/// How long after a failed pull of owed messages ([`Engine::pull_owed`]) it is first tried
/// again; each further failure doubles the wait, up to [`OWED_PULL_RETRY_MAX`].
const OWED_PULL_RETRY: Duration = Duration::from_secs(2);
/// The longest wait between tries of an owed pull (a failure that does not clear, such as an
/// answer that does not decode, is tried at this pace).
const OWED_PULL_RETRY_MAX: Duration = Duration::from_secs(60);

/// Pull requests kept in flight during the connect catch-up (the SDK allows up to 10 concurrent
/// pulls of 100 messages each).
const PULL_WINDOW: usize = 8;

/// At most this many pull answers are processed as one burst (one row write, one index write
/// and one conversation event for all of them); bounds the time before a burst's rows are
/// written and its conversation events go out.
const PULL_BURST: usize = 8;

/// Polls a future once without waiting: its output if it is already complete. A later `.await`
/// of the same future registers the real waker.
fn poll_once<F: Future + Unpin>(fut: &mut F) -> Option<F::Output> {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::Pin::new(fut).poll(&mut cx) {
        std::task::Poll::Ready(out) => Some(out),
        std::task::Poll::Pending => None,
    }
}

/// A typing "yes" lasts this long unless repeated.
const TYPING_TIMEOUT: Duration = Duration::from_secs(10);

/// The consumer is gone or the session must end.
#[derive(Debug)]
pub(crate) struct Stop;

pub(crate) type Flow = Result<(), Stop>;

/// At most this many queued pushes are handled as one burst (bounds the time before the
/// burst's conversation events go out).
const MAX_BURST: usize = 512;

/// How many queued pushes [`Engine::warm_burst`] looks ahead at once.
const WARM_AHEAD: usize = 32;

/// Conversation state changed since the last flush, kept in memory and written behind: a burst
/// of messages costs one row write per conversation (one sled batch) and one conversation event
/// per kind, instead of a read, a write and two events per message.
#[derive(Default)]
struct ConvBatch {
    /// Rows touched since the last flush, in touch order (the order of the conversation
    /// events); a conversation's slot holds the index of its row ([`crate::sync::ConvSlot`]).
    rows: Vec<PendingRow>,
    unread_changed: bool,
    /// Message index entries ([`MessageSummary`] values) not written yet.
    index: crate::store::IndexBatch,
    /// The store positions of the rows written by [`Engine::write_pending`] (a buffer kept
    /// across bursts).
    placed: Vec<crate::store::RowHint>,
    /// The latest message texts of `rows` (same positions; kept across bursts with their
    /// buffers), made the rows' shared strings when they are written.
    latest: Vec<LatestText>,
    /// Something is pending and the ledger was told ([`crate::ledger::Ledger::rows_pending`]).
    open: bool,
    /// A row or index append failed: the burst is never reported written (its acks stay
    /// held) and the session ends ([`crate::ledger::Ledger::fail`]).
    write_failed: bool,
}

impl ConvBatch {
    /// Called before a row or an index entry becomes pending: until [`Engine::write_pending`]
    /// appends them, the ledger persists no ack of this burst (an ack never reaches the disk
    /// ahead of its message's row and index entry).
    fn open_burst(&mut self, ledger: &Ledger) {
        if !self.open {
            self.open = true;
            ledger.rows_pending();
        }
    }
}

/// A pending row's newest message ID and text, as text until the row is written
/// ([`Engine::write_pending`]): in a burst a conversation's latest message is replaced again and
/// again, and a row's strings are shared (allocated once, immutable); copying into these
/// buffers allocates nothing.
#[derive(Default)]
struct LatestText {
    client_msg_id: String,
    text: String,
    has_text: bool,
    /// Newer than the row's `latest_msg` strings.
    pending: bool,
}

/// A push taken from the gateway's queue: decoded by the reader, or its payload (the reader
/// decodes only so many ahead of the engine: see [`crate::gateway::DECODE_AHEAD`]).
enum QueuedPush {
    Decoded(Box<ReceivedBatch>),
    Bytes(Vec<u8>),
}

impl QueuedPush {
    /// The bytes it counts in the gateway's queue bound ([`GatewayHandle::pushes_taken`]): a
    /// payload's buffer capacity, as the reader counted it; a decoded push counts in pushes
    /// only.
    fn payload_len(&self) -> usize {
        match self {
            QueuedPush::Decoded(_) => 0,
            QueuedPush::Bytes(bytes) => bytes.capacity(),
        }
    }
}

/// Buffers of [`Engine::on_push_burst`], kept from one burst to the next.
#[derive(Default)]
struct BurstBuffers {
    /// The pushes of the current burst not handled yet.
    queued: Vec<QueuedPush>,
    /// The pushes of the current round, decoded (in the boxes they came in, which go back to
    /// the decoder: see `recycle_boxed`).
    #[allow(clippy::vec_box)]
    pushes: Vec<Box<ReceivedBatch>>,
    /// Their conversations' slots ([`Engine::warm_burst`]).
    found: Vec<Option<SlotId>>,
    /// The hashes of their conversation IDs ([`Engine::warm_burst`]).
    hashes: Vec<u64>,
}

struct PendingRow {
    /// The conversation's slot (its `batch_row` is reset when the burst is flushed).
    slot: SlotId,
    row: crate::model::Conversation,
    /// Reported as a new conversation (else as changed).
    is_new: bool,
    /// Not written to the store yet.
    dirty: bool,
}

/// The message index entry: what revoke and read-receipt events need of a message later.
///
/// Stored as a compact binary value ([`MessageSummary::encode`]: a tag byte, then varints and
/// byte runs); entries written by earlier versions are JSON objects and still decode.
#[derive(Debug, Default, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub(crate) struct MessageSummary {
    #[serde(rename = "clientMsgID")]
    pub(crate) client_msg_id: String,
    #[serde(rename = "sendID")]
    pub(crate) send_id: String,
    pub(crate) send_time: i64,
    pub(crate) sender_nickname: String,
    pub(crate) session_type: i32,
}

/// First byte of a binary [`MessageSummary`] (a JSON one starts with `{`).
const SUMMARY_TAG: u8 = 1;

impl MessageSummary {
    /// Appends the entry of `m` (no intermediate copies of its strings).
    fn encode(m: &ReceivedMsg, out: &mut Vec<u8>) {
        use crate::compact::{put_int, put_uint};
        out.push(SUMMARY_TAG);
        put_int(out, m.send_time);
        put_int(out, i64::from(m.session_type));
        for s in [m.client_msg_id.as_str(), &m.send_id, &m.sender_nickname] {
            put_uint(out, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
    }

    /// Decodes a stored entry (binary or the JSON of earlier versions); `None` if malformed.
    fn decode(bytes: &[u8]) -> Option<MessageSummary> {
        match bytes.first() {
            Some(&SUMMARY_TAG) => {
                let mut r = crate::compact::Reader::new(&bytes[1..]);
                let send_time = r.int().ok()?;
                let session_type = r.int32().ok()?;
                let mut text = || -> Option<String> {
                    let len = r.uint().ok()?;
                    r.str(len).ok().map(str::to_owned)
                };
                let client_msg_id = text()?;
                let send_id = text()?;
                let sender_nickname = text()?;
                Some(MessageSummary {
                    client_msg_id,
                    send_id,
                    send_time,
                    sender_nickname,
                    session_type,
                })
            }
            Some(b'{') => serde_json::from_slice(bytes).ok(),
            _ => None,
        }
    }
}

pub(crate) struct Engine {
    pub(crate) user_id: String,
    pub(crate) platform: i32,
    pub(crate) credentials: Credentials,
    pub(crate) api: ApiClient,
    pub(crate) gw: GatewayHandle,
    pub(crate) store: Store,
    pub(crate) ledger: Arc<Ledger>,
    /// IDs of the bot's own sends (recognises their echo).
    own_sends: Arc<crate::send::OwnSends>,
    out: mpsc::Sender<Delivery>,
    /// Per conversation: the highest seq processed (in memory; starts at the ledger watermark;
    /// `seen` slots are exactly the ledger's entries), recent message IDs, the burst's row, and
    /// the interned ID that per-message acks share.
    convs: ConvTable,
    recent_online: RecentIds,
    pub(crate) fresh: bool,
    epoch: i64,
    renewed_since_connect: bool,
    /// Conversations whose dropped pushes' messages are still to be pulled, each up to the
    /// newest seq dropped ([`GatewayEvent::PushesDropped`]), and when to try again after a
    /// failed pull.
    owed_pulls: HashMap<String, i64>,
    owed_retry_at: Option<tokio::time::Instant>,
    /// Owed pulls failed in a row (the retry's backoff).
    owed_failures: u32,
    /// Conversations this store delivered messages of that a reset server did not know at
    /// connect (see [`Engine::follow_a_reset_server`]).
    unlisted: std::collections::HashSet<String>,
    /// Typing state: (conversation, user) → platform → last "yes".
    typing: HashMap<(String, String), BTreeMap<i32, std::time::Instant>>,
    batch: ConvBatch,
    burst: BurstBuffers,
    /// Seqs of one conversation a catch-up pulls at most ([`SessionConfig::catch_up_limit`]).
    catch_up_limit: i64,
}

impl Engine {
    async fn run(
        mut self,
        mut gw_rx: mpsc::UnboundedReceiver<GatewayEvent>,
        mut cmd_rx: mpsc::UnboundedReceiver<EngineCmd>,
        mut stop_rx: oneshot::Receiver<()>,
    ) {
        for (conv, watermark) in self.ledger.watermarks() {
            let s = self.convs.intern(&conv);
            self.convs[s].seen = true;
            self.convs[s].delivered = watermark;
        }
        let mut commands_open = true;
        let mut janitor = tokio::time::interval(Duration::from_secs(5));
        janitor.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // Acks are written to the ledger's journal in batches by a task of their own: the
        // engine may spend a long time inside one event (a connect catch-up) and acks must not
        // wait for it.
        let persister = tokio::spawn(persist_acks(self.ledger.clone()));
        let ledger = self.ledger.clone();
        loop {
            let retry_at = self.owed_retry_at;
            let flow = tokio::select! {
                biased;
                _ = &mut stop_rx => break,
                // A ledger write failed (a full disk): handling on without persisting acks
                // would repeat everything since after the next restart. The
                // session ends instead ([`Session::shutdown`] returns the error), so that a
                // supervisor's restart opens the store afresh.
                _ = ledger.failed() => {
                    tracing::error!("ledger write failed: ending the session");
                    break;
                }
                _ = janitor.tick(), if !self.typing.is_empty() => self.expire_typing().await,
                // A timer only while a pull is owed (none is built on the other passes).
                _ = async {
                    match retry_at {
                        Some(at) => tokio::time::sleep_until(at).await,
                        None => std::future::pending().await,
                    }
                }, if retry_at.is_some() => self.pull_owed().await,
                ev = gw_rx.recv() => match ev {
                    None => break,
                    Some(GatewayEvent::Push(push)) => {
                        self.on_push_burst(QueuedPush::Decoded(push), &mut gw_rx).await
                    }
                    Some(GatewayEvent::PushBytes(bytes)) => {
                        self.on_push_burst(QueuedPush::Bytes(bytes), &mut gw_rx).await
                    }
                    Some(ev) => self.on_gateway(ev).await,
                },
                cmd = cmd_rx.recv(), if commands_open => match cmd {
                    None => { commands_open = false; Ok(()) }
                    Some(cmd) => self.on_command(cmd).await,
                },
            };
            if flow.is_err() {
                break;
            }
        }
        self.gw.stop();
        persister.abort();
        // Until the aborted task's future is dropped it holds the ledger, and through it the
        // store: awaited so that shutdown returns with the data directory released.
        let _ = persister.await;
        // What a stopped burst changed, so that its acknowledged messages' acks are kept.
        self.write_pending();
        self.own_sends.persist();
        if let Err(e) = self.ledger.flush() {
            tracing::error!(error = %e, "ledger flush failed");
        }
        let _ = self.store.flush();
    }

    pub(crate) async fn emit(&mut self, event: Event, ack: Ack) -> Flow {
        tracing::debug!(event = event.name(), "event");
        // A slot first, then the delivery is moved into it once (`send` would carry the
        // ~600-byte delivery through its own future as well).
        let permit = self.out.reserve().await.map_err(|_| Stop)?;
        permit.send(Delivery { event, ack });
        Ok(())
    }

    async fn emit_noack(&mut self, event: Event) -> Flow {
        self.emit(event, Ack::noop()).await
    }

    /// Emits events derived from one stored item of `conv`; the item is acknowledged in the
    /// ledger once every event is acknowledged (immediately if there are none).
    async fn emit_for_item(
        &mut self,
        conv: &str,
        slot: SlotId,
        seq: i64,
        events: Vec<Event>,
    ) -> Flow {
        if events.is_empty() {
            self.auto_ack(conv, seq);
            return Ok(());
        }
        if seq <= 0 {
            // Not a stored item: nothing to acknowledge (and no ledger entry to make).
            return self.emit_all(events).await;
        }
        self.write_pending_if_durable();
        let ledger_slot = self.ledger_slot(slot);
        let acks = Ack::shared(&self.ledger, ledger_slot, seq, events.len());
        for (event, ack) in events.into_iter().zip(acks) {
            self.emit(event, ack).await?;
        }
        Ok(())
    }

    /// Events not tied to a stored item.
    pub(crate) async fn emit_all(&mut self, events: Vec<Event>) -> Flow {
        for e in events {
            self.emit_noack(e).await?;
        }
        Ok(())
    }

    /// The ledger entry of a conversation, for its acks (looked up once per conversation).
    fn ledger_slot(&mut self, slot: SlotId) -> crate::ledger::Slot {
        match self.convs[slot].ledger {
            Some(l) => l,
            None => {
                let l = self.ledger.slot(&self.convs[slot].id);
                self.convs[slot].ledger = Some(l);
                l
            }
        }
    }

    /// Records how far a conversation was processed (the conversation is then seen).
    fn set_delivered(&mut self, conv: &str, seq: i64) {
        let s = self.convs.intern(conv);
        self.convs[s].seen = true;
        self.convs[s].delivered = seq;
    }

    /// Marks a conversation as seen: a ledger entry (watermark 0) and a seen slot.
    fn see_conversation(&mut self, conv: &str) -> SlotId {
        if let Err(e) = self.ledger.set_floor(conv, 0) {
            tracing::error!(error = %e, "ledger write failed");
        }
        let s = self.convs.intern(conv);
        let slot = &mut self.convs[s];
        if !slot.seen {
            slot.seen = true;
            slot.delivered = 0;
        }
        s
    }

    /// Records a stored item handled without a delivery to wait for.
    fn auto_ack(&self, conv: &str, seq: i64) {
        self.auto_ack_seqs(conv, seq, seq);
    }

    /// Records `first..=last` of `conv` handled without a delivery (seqs the server did not
    /// return, or skipped): one ledger step whatever the span ([`Ledger::ack_range`]).
    fn auto_ack_seqs(&self, conv: &str, first: i64, last: i64) {
        if last > 0
            && first <= last
            && let Err(e) = self.ledger.ack_range(conv, first, last)
        {
            tracing::error!(error = %e, "ledger write failed");
        }
    }

    async fn on_command(&mut self, cmd: EngineCmd) -> Flow {
        match cmd {
            EngineCmd::MarkedRead {
                conversation_id,
                up_to,
            } => {
                let Ok(Some(mut c)) = self.store.conversation(&conversation_id) else {
                    return Ok(());
                };
                // Read up to a seq: what came after it stays unread (counted as the server
                // counts, newest seq less the read one).
                let unread = match up_to {
                    None => 0,
                    Some(seq) => {
                        c.max_seq
                            .saturating_sub(seq.max(c.has_read_seq))
                            .clamp(0, i64::from(c.unread_count)) as i32
                    }
                };
                if unread != c.unread_count {
                    c.unread_count = unread;
                    if let Some(seq) = up_to {
                        c.has_read_seq = c.has_read_seq.max(seq);
                    }
                    let _ = self.store.put_conversation(&conversation_id, &c);
                    self.emit_noack(Event::ConversationChanged(Conversations {
                        conversations: vec![c],
                    }))
                    .await?;
                    self.emit_total().await?;
                }
                Ok(())
            }
            EngineCmd::ResyncRelations => {
                let events = self.sync_relations(None).await;
                self.emit_all(events).await
            }
        }
    }

    async fn emit_total(&mut self) -> Flow {
        let total = self.store.total_unread().unwrap_or(0);
        self.emit_noack(Event::TotalUnreadCountChanged(TotalUnreadCount {
            total_unread_count: total,
        }))
        .await
    }

    async fn on_gateway(&mut self, ev: GatewayEvent) -> Flow {
        match ev {
            GatewayEvent::Connecting { attempt } => {
                self.emit_noack(Event::Connecting(Connecting { attempt }))
                    .await
            }
            GatewayEvent::Connected { reconnect } => {
                self.emit_noack(Event::ConnectSuccess(ConnectSuccess { reconnect }))
                    .await?;
                self.sync_on_connect().await?;
                self.renewed_since_connect = false;
                Ok(())
            }
            GatewayEvent::ConnectFailed {
                code,
                msg,
                retry_in,
            } => {
                self.emit_noack(Event::ConnectFailed(ConnectFailed {
                    err_code: code,
                    err_msg: msg,
                    retry_in_ms: retry_in.as_millis() as u64,
                }))
                .await
            }
            GatewayEvent::Push(mut push) => {
                self.gw.pushes_taken(1, 0);
                let mut found = std::slice::Iter::default();
                let handled = self.on_push(&mut push, &mut found).await;
                received::recycle_boxed([push]);
                self.gw.pushes_handled(1);
                handled?;
                self.flush_conversations().await
            }
            GatewayEvent::PushBytes(bytes) => {
                self.gw.pushes_taken(1, bytes.capacity());
                let Some(mut push) = self.gw.decode_push(bytes) else {
                    return Ok(());
                };
                let mut found = std::slice::Iter::default();
                let handled = self.on_push(&mut push, &mut found).await;
                received::recycle_boxed([push]);
                handled?;
                self.flush_conversations().await
            }
            GatewayEvent::PushesDropped { newest } => {
                for (conv, seq) in newest {
                    self.owe(conv, seq);
                }
                self.pull_owed().await
            }
            GatewayEvent::Kicked { by_frame } => {
                self.emit_noack(Event::KickedOffline(KickedOffline { by_frame }))
                    .await?;
                Err(Stop)
            }
            GatewayEvent::TokenError { code, msg } => self.on_token_error(code, msg).await,
        }
    }

    async fn renew_token(&self) -> bool {
        let Credentials::Secret {
            secret,
            admin_user_id,
            ..
        } = &self.credentials
        else {
            return false;
        };
        match mint_token(
            &self.api,
            &self.user_id,
            self.platform,
            secret,
            admin_user_id,
        )
        .await
        {
            Ok(token) => {
                self.api.set_token(token);
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, "token renewal failed");
                false
            }
        }
    }

    async fn on_token_error(&mut self, code: i32, msg: String) -> Flow {
        let renewed = !self.renewed_since_connect && self.renew_token().await;
        let event = if code == 1501 {
            Event::UserTokenExpired(UserTokenExpired { renewed })
        } else {
            Event::UserTokenInvalid(UserTokenInvalid {
                err_code: code,
                err_msg: msg,
                renewed,
            })
        };
        self.emit_noack(event).await?;
        if renewed {
            self.renewed_since_connect = true;
            self.gw.resume();
            Ok(())
        } else {
            Err(Stop)
        }
    }

    // ---------------------------------------------------------------- connect sync

    async fn sync_on_connect(&mut self) -> Flow {
        let reinstalled = self.fresh;
        self.emit_noack(Event::SyncServerStart(SyncServerStart { reinstalled }))
            .await?;
        let max: GetMaxSeqResp = match self
            .gw
            .call(
                req::GET_NEWEST_SEQ,
                &GetMaxSeqReq {
                    user_id: self.user_id.clone(),
                },
            )
            .await
        {
            Ok(r) => r,
            Err(e) => {
                return self
                    .emit_noack(Event::SyncServerFailed(SyncServerFailed {
                        reinstalled,
                        reason: e.to_string(),
                    }))
                    .await;
            }
        };
        if reinstalled {
            self.emit_noack(Event::SyncServerProgress(SyncServerProgress {
                progress: 1,
            }))
            .await?;
        }
        let events = self.sync_relations(None).await;
        self.emit_all(events).await?;
        if reinstalled {
            self.emit_noack(Event::SyncServerProgress(SyncServerProgress {
                progress: 10,
            }))
            .await?;
            // First start: history before now is not replayed.
            for (conv, seq) in &max.max_seqs {
                if let Err(e) = self.ledger.set_floor(conv, *seq) {
                    tracing::error!(error = %e, "ledger write failed");
                }
                let d = self.delivered_of(conv).max(*seq);
                self.set_delivered(conv, d);
            }
        } else {
            self.follow_a_reset_server(&max);
            let pulled = self.pull_up_to(&max).await;
            if pulled.is_ok() {
                // Pulled up to the newest seqs, asked for after every pull owed so far: what
                // is left is owed for conversations the answer did not cover.
                self.owed_pulls
                    .retain(|conv, seq| max.max_seqs.get(conv).is_none_or(|m| *m < *seq));
                if self.owed_pulls.is_empty() {
                    self.owed_retry_at = None;
                }
            }
            if let Err(e) = pulled {
                match e {
                    PullError::Stop => return Err(Stop),
                    PullError::Failed(reason) => {
                        return self
                            .emit_noack(Event::SyncServerFailed(SyncServerFailed {
                                reinstalled,
                                reason,
                            }))
                            .await;
                    }
                }
            }
        }
        self.reconcile_unread().await?;
        // Relation code reads and writes conversation rows itself: nothing may be pending here
        // (every pull flushes its burst; this keeps it true if that ever changes).
        self.write_pending();
        let events = self.sync_conversation_settings().await;
        self.emit_all(events).await?;
        if reinstalled {
            self.emit_noack(Event::SyncServerProgress(SyncServerProgress {
                progress: 100,
            }))
            .await?;
            if let Ok(meta) = self.store.raw_tree(trees::META) {
                let _ = meta.insert("installed", "1");
            }
            // The reinstall floors and the flag must be durable together. A failed flush
            // leaves acks not durable (and a retry proves nothing): the session ends, as for
            // the other failed syncs (review-s10 R1).
            if let Err(e) = self.store.flush() {
                tracing::error!(error = %e, "store flush failed: ending the session");
                self.ledger.fail(e);
            }
            self.fresh = false;
        }
        self.emit_noack(Event::SyncServerFinish(SyncServerFinish { reinstalled }))
            .await
    }

    /// Pulls every conversation's messages after the last one handled, up to `max`.
    async fn pull_up_to(&mut self, max: &GetMaxSeqResp) -> Result<(), PullError> {
        let max_seqs: Vec<(String, i64)> =
            max.max_seqs.iter().map(|(k, v)| (k.clone(), *v)).collect();
        let delivered = self.convs.delivered_of_each(&max_seqs);
        let plan = plan_pulls(&max_seqs, &delivered, self.catch_up_limit);
        self.pull_pipelined(plan).await
    }

    /// Pulls the messages of the pushes the reader dropped while the queue was full
    /// ([`GatewayEvent::PushesDropped`]): each owed conversation from its last handled seq up
    /// to the newest seq dropped. Only those conversations, and only that far: every seq up to
    /// a pushed one was readable on the server when the push was written, while open-im-server
    /// hands out a newest seq a moment before its message can be read (a pull then would get a
    /// "deleted" placeholder in its place). Pushes queued behind repeat some of the pulled
    /// messages, and are skipped as duplicates. A failed pull is tried again
    /// [`OWED_PULL_RETRY`] later, the wait doubling with each failure (or by the next connect's
    /// sync).
    async fn pull_owed(&mut self) -> Flow {
        self.owed_retry_at = None;
        if self.owed_pulls.is_empty() {
            return Ok(());
        }
        let owed: Vec<(String, i64)> = self.owed_pulls.drain().collect();
        tracing::info!(
            conversations = owed.len(),
            dropped_pushes = self.gw.dropped_pushes(),
            "pulling the messages of dropped pushes"
        );
        let delivered = self.convs.delivered_of_each(&owed);
        let plan = plan_pulls(&owed, &delivered, self.catch_up_limit);
        match self.pull_pipelined(plan).await {
            Ok(()) => {
                self.owed_failures = 0;
                Ok(())
            }
            Err(PullError::Stop) => Err(Stop),
            Err(PullError::Failed(reason)) => {
                self.owed_failures = self.owed_failures.saturating_add(1);
                for (conv, seq) in owed {
                    self.owe(conv, seq);
                }
                self.arm_owed_retry();
                tracing::warn!(%reason, retry_in = ?self.owed_retry_wait(), "pulling owed messages failed");
                Ok(())
            }
        }
    }

    /// The wait before the next try of an owed pull: [`OWED_PULL_RETRY`], doubled for each
    /// failure in a row after the first, at most [`OWED_PULL_RETRY_MAX`].
    fn owed_retry_wait(&self) -> Duration {
        let doublings = self.owed_failures.saturating_sub(1).min(16);
        OWED_PULL_RETRY
            .saturating_mul(1 << doublings)
            .min(OWED_PULL_RETRY_MAX)
    }

    /// Owes a pull of `conv` up to `seq` (or a further one, if one is owed already).
    fn owe(&mut self, conv: String, seq: i64) {
        let at = self.owed_pulls.entry(conv).or_insert(seq);
        *at = (*at).max(seq);
    }

    /// Has [`Engine::pull_owed`] try the owed pulls after [`Engine::owed_retry_wait`] (after a
    /// failed one), unless a try is due already.
    fn arm_owed_retry(&mut self) {
        let wait = self.owed_retry_wait();
        self.owed_retry_at
            .get_or_insert_with(|| tokio::time::Instant::now() + wait);
    }

    async fn reconcile_unread(&mut self) -> Flow {
        let resp: GetConversationsHasReadAndMaxSeqResp = match self
            .gw
            .call(
                req::GET_CONV_MAX_READ_SEQ,
                &GetConversationsHasReadAndMaxSeqReq {
                    user_id: self.user_id.clone(),
                    conversation_ids: Vec::new(),
                    return_pinned: false,
                },
            )
            .await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "unread reconciliation failed");
                return Ok(());
            }
        };
        let mut changed = Vec::new();
        for (conv, seqs) in resp.seqs {
            if conv.starts_with("n_") {
                continue;
            }
            // Saturating: both seqs are the server's, any i64.
            let unread = seqs
                .max_seq
                .saturating_sub(seqs.has_read_seq)
                .clamp(0, i32::MAX as i64) as i32;
            match self.store.conversation(&conv) {
                Ok(Some(mut c)) => {
                    let differs = c.unread_count != unread;
                    c.unread_count = unread;
                    c.has_read_seq = seqs.has_read_seq;
                    c.max_seq = c.max_seq.max(seqs.max_seq);
                    let _ = self.store.put_conversation(&conv, &c);
                    if differs && c.latest_msg_send_time > 0 {
                        changed.push(c);
                    }
                }
                Ok(None) => {
                    let mut c = self.blank_conversation(&conv, None);
                    c.unread_count = unread;
                    c.has_read_seq = seqs.has_read_seq;
                    c.max_seq = seqs.max_seq;
                    let _ = self.store.put_conversation(&conv, &c);
                }
                Err(e) => tracing::warn!(error = %e, "store read failed"),
            }
        }
        if !changed.is_empty() {
            self.emit_noack(Event::ConversationChanged(Conversations {
                conversations: changed,
            }))
            .await?;
            self.emit_total().await?;
        }
        Ok(())
    }

    // ---------------------------------------------------------------- pulls and pushes

    /// Pulls every planned request with up to [`PULL_WINDOW`] of them in flight: the server
    /// prepares the next answers while this task delivers the current one. Answers are
    /// processed in plan order, so per-conversation seq order is kept.
    async fn pull_pipelined(
        &mut self,
        plan: impl Iterator<Item = Vec<Range>>,
    ) -> Result<(), PullError> {
        let pulled = self.pull_answers(plan).await;
        // Also after a failure: what was processed is written and reported.
        let flushed = self
            .flush_conversations()
            .await
            .map_err(|_| PullError::Stop);
        pulled.and(flushed)
    }

    /// The loop of [`Engine::pull_pipelined`]; the last burst is left for the caller to flush.
    async fn pull_answers(
        &mut self,
        mut plan: impl Iterator<Item = Vec<Range>>,
    ) -> Result<(), PullError> {
        let mut in_flight = std::collections::VecDeque::with_capacity(PULL_WINDOW);
        let mut answers_in_burst = 0;
        loop {
            while in_flight.len() < PULL_WINDOW {
                let Some(ranges) = plan.next() else { break };
                let call = self
                    .gw
                    .start_call::<_, ReceivedBatch>(req::PULL_BY_RANGE, &self.pull_request(&ranges))
                    .map_err(|e| PullError::Failed(e.to_string()))?;
                in_flight.push_back((ranges, call));
            }
            let Some((ranges, mut call)) = in_flight.pop_front() else {
                return Ok(());
            };
            // Answers already here are processed as one burst: the rows, index entries and
            // conversation events are written once for all of them. The burst ends (is
            // flushed) before the engine would wait for an answer, or at PULL_BURST answers.
            let answer = match poll_once(&mut call) {
                Some(answer) => answer,
                None => {
                    self.flush_conversations()
                        .await
                        .map_err(|_| PullError::Stop)?;
                    answers_in_burst = 0;
                    call.await
                }
            };
            // A failure drops the calls still in flight (their answers are ignored); the
            // next connect plans from the ledger again.
            let resp = answer.map_err(|e| PullError::Failed(e.to_string()))?;
            self.process_answer(ranges, resp).await?;
            answers_in_burst += 1;
            if answers_in_burst >= PULL_BURST {
                self.flush_conversations()
                    .await
                    .map_err(|_| PullError::Stop)?;
                answers_in_burst = 0;
            }
        }
    }

    fn pull_request(&self, ranges: &[Range]) -> PullMessageBySeqsReq {
        PullMessageBySeqsReq {
            user_id: self.user_id.clone(),
            seq_ranges: ranges
                .iter()
                .map(|r| SeqRange {
                    conversation_id: r.conversation_id.clone(),
                    begin: r.begin,
                    end: r.end,
                    num: r.len(),
                })
                .collect(),
            order: 0,
        }
    }

    /// Processes the answer to one pull request, range by range (the caller flushes).
    async fn process_answer(
        &mut self,
        ranges: Vec<Range>,
        mut resp: ReceivedBatch,
    ) -> Result<(), PullError> {
        // Warmed a few conversations at a time, as a burst of pushes is (an answer covers up
        // to 100, each of them cold with many conversations).
        let mut found = std::mem::take(&mut self.burst.found);
        let mut hashes = std::mem::take(&mut self.burst.hashes);
        let mut handled = Ok(());
        'chunks: for chunk in ranges.chunks(WARM_AHEAD) {
            self.warm_conversations(
                || chunk.iter().map(|r| r.conversation_id.as_str()),
                &mut found,
                &mut hashes,
            );
            for (r, &slot) in chunk.iter().zip(found.iter()) {
                let items = resp
                    .msgs
                    .get_mut(&r.conversation_id)
                    .or_else(|| resp.notification_msgs.get_mut(&r.conversation_id))
                    .map(|p| std::mem::take(&mut p.msgs))
                    .unwrap_or_default();
                if self.process_range(r, items, slot).await.is_err() {
                    handled = Err(PullError::Stop);
                    break 'chunks;
                }
            }
        }
        found.clear();
        self.burst.found = found;
        self.burst.hashes = hashes;
        handled
    }

    /// Processes the answer for one requested range; seqs the server did not return are
    /// recorded as done (they will never exist for this user). `found`: the conversation's
    /// slot if it was looked up already ([`Engine::warm_conversations`]; slots are never
    /// removed, so one found stays right).
    async fn process_range(
        &mut self,
        r: &Range,
        mut items: Vec<ReceivedMsg>,
        found: Option<SlotId>,
    ) -> Flow {
        items.retain(|m| m.seq >= r.begin && m.seq <= r.end);
        items.sort_by_key(|m| m.seq);
        items.dedup_by_key(|m| m.seq);
        let conv = r.conversation_id.as_str();
        let found = found.or_else(|| self.convs.find(conv));
        let first_sight = !found.is_some_and(|s| self.convs[s].seen);
        // Slots are never removed: the id stays valid across the awaits below.
        let slot = match found {
            Some(s) if !first_sight => s,
            _ => self.see_conversation(conv),
        };
        // `r.begin >= 1` (see sync::split): `r.begin - 1` cannot overflow.
        let below = r.begin - 1;
        let delivered = self.convs[slot].delivered;
        if delivered < below {
            if r.skip_below {
                self.warn_skip(conv, delivered + 1, below);
            } else {
                // Not planned: every plan starts at the delivered seq + 1, and answers are
                // processed in plan order. Were it to happen, the seqs below the range are
                // acknowledged, as a range's missing seqs are, so the ledger keeps no hole
                // that would repeat the later messages after a restart.
                tracing::warn!(conv, delivered, begin = r.begin, "pulled range past a hole");
            }
            self.auto_ack_seqs(conv, delivered + 1, below);
            self.convs[slot].delivered = below;
        }
        // From here the delivered seq is at least `below`: what is acknowledged below lies
        // within this range.
        for m in items.drain(..) {
            let d = self.convs[slot].delivered;
            if m.seq <= d {
                continue;
            }
            self.auto_ack_seqs(conv, d + 1, m.seq - 1);
            self.convs[slot].delivered = m.seq;
            self.handle_item(conv, slot, m, first_sight).await?;
        }
        // The emptied list goes back to the answer decoder (no large malloc/free per answer).
        openim_protocol::pb::received::recycle_list(items);
        let d = self.convs[slot].delivered;
        if d < r.end {
            // `d < r.end <= i64::MAX`: no overflow.
            self.auto_ack_seqs(conv, d + 1, r.end);
            self.convs[slot].delivered = r.end;
        }
        Ok(())
    }

    /// Reports the skip of `first..=last` of `conv`, the older part of a gap longer than the
    /// catch-up limit ([`SessionConfig::catch_up_limit`]); the caller acknowledges them in the
    /// ledger as one run, never delivered. Messages of the conversation handed out before and
    /// not acknowledged yet keep the watermark below them until they are
    /// ([`Ledger::ack_range`]). The skip itself is not persisted: after a crash before their
    /// acks, the next start measures the gap from below them, cuts it again, and skips them
    /// too (review-s17 M1; docs/reliability.md).
    fn warn_skip(&self, conv: &str, first: i64, last: i64) {
        tracing::warn!(
            conversation_id = conv,
            first,
            last,
            skipped = last.saturating_sub(first).saturating_add(1),
            limit = self.catch_up_limit,
            "catch-up limit: the older messages of a long gap are skipped, not delivered"
        );
    }

    /// A server's newest seq never goes back: one below what this store delivered means its
    /// data was reset (or the data dir belongs to another server), and its messages are numbered
    /// from 1 again, at seqs taken for duplicates. Such a conversation follows the server's seqs
    /// from its newest (in memory: the ledger keeps the higher watermark, and its acks change
    /// nothing until the seqs pass it; a restart finds the same and does the same). When the
    /// server knows none of the conversations as far as they were delivered, those it does not
    /// list at all are new there: the first push of one at a delivered seq starts it from 1.
    /// Messages such a server got while the bot was away, below the old seqs, are not pulled.
    fn follow_a_reset_server(&mut self, max: &GetMaxSeqResp) {
        let mut current = false;
        let mut behind = Vec::new();
        for (conv, &newest) in &max.max_seqs {
            let delivered = self.delivered_of(conv);
            if newest < delivered {
                behind.push((conv.clone(), newest, delivered));
            } else if delivered > 0 {
                current = true;
            }
        }
        for (conv, newest, _) in &behind {
            self.set_delivered(conv, *newest);
        }
        self.unlisted.clear();
        if !current {
            for (conv, watermark) in self.ledger.watermarks() {
                if watermark > 0 && !max.max_seqs.contains_key(&conv) {
                    self.unlisted.insert(conv);
                }
            }
        }
        if let Some((conv, newest, delivered)) = behind.first() {
            tracing::warn!(
                conversations = behind.len(),
                conv,
                newest,
                delivered,
                "the server's newest seqs are below what this store delivered: its data was \
                 reset (or the data dir belongs to another server); these conversations follow \
                 its seqs from its newest (what it got while the bot was away is not pulled \
                 until its seqs pass the old ones; a fresh data dir starts clean)"
            );
        }
        if !self.unlisted.is_empty() {
            tracing::warn!(
                conversations = self.unlisted.len(),
                "the server knows none of this store's conversations: its data was reset (or the \
                 data dir belongs to another server); their messages are taken as new ones"
            );
        }
    }

    fn delivered_of(&self, conv: &str) -> i64 {
        self.convs.delivered_of(conv)
    }

    /// Handles one push, taking its messages out (the emptied push goes back to the decoder,
    /// see `recycle_boxed`). `found`: the slots [`Engine::warm_burst`] found for its
    /// conversations, in the same order (a conversation it did not find is looked up again: an
    /// earlier push of the burst may have made its slot; slots are never removed, so one found
    /// stays right).
    async fn on_push(
        &mut self,
        push: &mut ReceivedBatch,
        found: &mut std::slice::Iter<'_, Option<SlotId>>,
    ) -> Flow {
        let streams = push
            .msgs
            .iter_mut()
            .chain(push.notification_msgs.iter_mut());
        for (conv, pulled) in streams {
            let conv = conv.as_str();
            let items = &mut pulled.msgs;
            items.sort_by_key(|m| m.seq);
            // One lookup per conversation of the push (unseen slots hold delivered 0).
            let mut slot = match found.next() {
                Some(&Some(s)) => Some(s),
                _ => self.convs.find(conv),
            };
            for m in items.drain(..) {
                if m.seq <= 0 {
                    let s = *slot.get_or_insert_with(|| self.convs.intern(conv));
                    self.handle_item(conv, s, m, false).await?;
                    continue;
                }
                let mut delivered = slot.map_or(0, |s| self.convs[s].delivered);
                if !self.unlisted.is_empty() && self.unlisted.remove(conv) && m.seq <= delivered {
                    // A conversation a reset server did not know at connect: its messages are
                    // new ones, numbered from 1 again (see `Engine::follow_a_reset_server`).
                    tracing::warn!(
                        conv,
                        seq = m.seq,
                        delivered,
                        "following the reset server's seqs"
                    );
                    delivered = 0;
                    self.set_delivered(conv, 0);
                }
                match classify(delivered, m.seq) {
                    PushAction::Duplicate => {
                        tracing::debug!(conv, seq = m.seq, "duplicate push dropped");
                    }
                    PushAction::Next => {
                        let first_sight = !slot.is_some_and(|s| self.convs[s].seen);
                        let s = if first_sight {
                            self.see_conversation(conv)
                        } else {
                            *slot.get_or_insert_with(|| self.convs.intern(conv))
                        };
                        slot = Some(s);
                        self.convs[s].delivered = m.seq;
                        self.handle_item(conv, s, m, first_sight).await?;
                    }
                    PushAction::Gap { begin, end } => {
                        // At most the newest `catch_up_limit` seqs of the gap, pipelined as a
                        // catch-up (a long gap one request at a time held the engine for a
                        // round trip per 100 seqs), then this one.
                        let plan = batch(catch_up(conv, begin, end, self.catch_up_limit));
                        match self.pull_pipelined(plan).await {
                            Ok(()) => {}
                            Err(PullError::Stop) => return Err(Stop),
                            Err(PullError::Failed(e)) => {
                                // Left, with this message, for a later pull.
                                self.owe(conv.to_owned(), m.seq);
                                self.arm_owed_retry();
                                tracing::warn!(conv, error = %e, retry_in = ?self.owed_retry_wait(), "gap pull failed");
                            }
                        }
                        // The pulls may have made (and advanced) the conversation's slot.
                        slot = self.convs.find(conv);
                        if self.delivered_of(conv).checked_add(1) == Some(m.seq) {
                            self.set_delivered(conv, m.seq);
                            let s = self.convs.intern(conv);
                            slot = Some(s);
                            self.handle_item(conv, s, m, false).await?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Looks up the slots of the conversations of `pushes`, in the order [`Engine::on_push`]
    /// handles them, into `found`, and starts fetching what handling them reads (slots, IDs,
    /// store rows and what those point to). With many conversations nearly every one is cold
    /// (last touched a whole round of the others ago): these fetches are independent of one
    /// another, so their cache misses overlap here, where handling the pushes one by one took
    /// them one after another.
    fn warm_burst(
        &self,
        pushes: &[Box<ReceivedBatch>],
        found: &mut Vec<Option<SlotId>>,
        hashes: &mut Vec<u64>,
    ) {
        self.warm_conversations(
            || {
                pushes
                    .iter()
                    .flat_map(|p| p.msgs.keys().chain(p.notification_msgs.keys()))
                    .map(|conv| conv.as_str())
            },
            found,
            hashes,
        );
    }

    /// Looks up the slots of the conversations `convs()` lists, in its order, into `found`, and
    /// starts fetching what handling their messages reads ([`Engine::warm_burst`], for a pull
    /// answer's conversations too).
    fn warm_conversations<'a, I: Iterator<Item = &'a str>>(
        &self,
        convs: impl Fn() -> I,
        found: &mut Vec<Option<SlotId>>,
        hashes: &mut Vec<u64>,
    ) {
        hashes.clear();
        hashes.extend(convs().map(|conv| self.convs.hash(conv)));
        // In stages, each fetching what the one before gives the addresses of (see
        // crate::prefetch): the index entries; the slots they name (candidates, as the IDs
        // are not compared yet); the slots' IDs and store rows; then the lookups proper,
        // and what the rows point to. A conversation with a row in the burst already was
        // handled just now: its state is near, and fetching it again only costs (with few
        // conversations, nearly every push is such).
        let table = &self.convs;
        table.prefetch_entries(hashes);
        table.prefetch_slots(hashes, found);
        let cold = |&s: &SlotId| table[s].batch_row == NO_ROW;
        self.store
            .prefetch_rows(found.iter().flatten().filter(|s| cold(s)).map(|&s| {
                crate::prefetch::shared_text(&table[s].id);
                table[s].store_row
            }));
        found.clear();
        found.extend(
            convs()
                .zip(hashes.iter())
                .map(|(conv, &h)| table.find_hashed(h, conv)),
        );
        let rows = found
            .iter()
            .flatten()
            .filter(|s| cold(s))
            .map(|&s| table[s].store_row)
            .filter(|&hint| hint != crate::store::RowHint::NONE);
        self.store.warm_rows(rows);
    }

    /// Handles `first` and every push already queued behind it (up to [`MAX_BURST`]) as one
    /// burst: conversation rows, the message index and the conversation events are written and
    /// emitted once at the end. A non-push event found in the queue ends the burst and is
    /// handled right after it, so the order of gateway events is kept.
    async fn on_push_burst(
        &mut self,
        first: QueuedPush,
        gw_rx: &mut mpsc::UnboundedReceiver<GatewayEvent>,
    ) -> Flow {
        // The pushes queued now are taken in rounds (those that arrive meanwhile make the next
        // round, up to MAX_BURST in all) and handled in order; the conversations of each
        // WARM_AHEAD of them are looked up (and what handling them reads is fetched) first.
        let mut queued = std::mem::take(&mut self.burst.queued);
        let mut pushes = std::mem::take(&mut self.burst.pushes);
        let mut found = std::mem::take(&mut self.burst.found);
        let mut hashes = std::mem::take(&mut self.burst.hashes);
        queued.push(first);
        let mut budget = MAX_BURST - 1;
        let mut next = None;
        let handled = loop {
            while budget > 0 {
                match gw_rx.try_recv() {
                    Ok(GatewayEvent::Push(push)) => {
                        queued.push(QueuedPush::Decoded(push));
                        budget -= 1;
                    }
                    Ok(GatewayEvent::PushBytes(bytes)) => {
                        queued.push(QueuedPush::Bytes(bytes));
                        budget -= 1;
                    }
                    Ok(other) => {
                        next = Some(other);
                        break;
                    }
                    Err(_) => break,
                }
            }
            // The round's pushes count as taken now, its payloads' bytes as each few are
            // handled: a round of large payloads can be the whole byte bound, and counted at
            // once the reader queued as much again while the round was handled.
            self.gw.pushes_taken(queued.len(), 0);
            if queued.is_empty() {
                break Ok(());
            }
            // Warmed a few pushes at a time: what is fetched for a whole round of hundreds is
            // pushed out of the near caches again before the round's last pushes use it.
            // Each few go back to the decoder once handled (`recycle_boxed`), emptied, to carry
            // the pushes still to come.
            // A payload is decoded here, with its round: just before it is handled, into a
            // box the rounds before handed back.
            let mut round = Ok(());
            let mut taken = 0;
            while taken < queued.len() && round.is_ok() {
                let end = queued.len().min(taken + WARM_AHEAD);
                let mut from_reader = 0;
                let bytes = queued[taken..end].iter().map(QueuedPush::payload_len).sum();
                for q in &mut queued[taken..end] {
                    match std::mem::replace(q, QueuedPush::Bytes(Vec::new())) {
                        QueuedPush::Decoded(push) => {
                            from_reader += 1;
                            pushes.push(push);
                        }
                        QueuedPush::Bytes(bytes) => pushes.extend(self.gw.decode_push(bytes)),
                    }
                }
                taken = end;
                self.warm_burst(&pushes, &mut found, &mut hashes);
                let mut slots = found.iter();
                for push in &mut pushes {
                    round = self.on_push(push, &mut slots).await;
                    if round.is_err() {
                        break;
                    }
                }
                received::recycle_boxed(pushes.drain(..));
                self.gw.pushes_handled(from_reader);
                self.gw.pushes_taken(0, bytes);
            }
            // What a stop left is dropped: the reader may decode as many more, and queue as
            // many more bytes (the payloads taken out above are empty now).
            let left = queued
                .iter()
                .filter(|q| matches!(q, QueuedPush::Decoded(_)));
            self.gw.pushes_handled(left.count());
            if round.is_err() {
                let bytes = queued.iter().map(QueuedPush::payload_len).sum();
                self.gw.pushes_taken(0, bytes);
            }
            queued.clear();
            if round.is_err() || budget == 0 || next.is_some() {
                break round;
            }
        };
        // The buffers are kept for the next burst (the round cleared what a stop left).
        self.burst.queued = queued;
        self.burst.pushes = pushes;
        self.burst.found = found;
        self.burst.hashes = hashes;
        handled?;
        self.flush_conversations().await?;
        match next {
            Some(ev) => self.on_gateway(ev).await,
            None => Ok(()),
        }
    }

    // ---------------------------------------------------------------- items

    /// Handles one item of `conv`, whose slot is `slot`.
    async fn handle_item(
        &mut self,
        conv: &str,
        slot: SlotId,
        mut m: ReceivedMsg,
        first_sight: bool,
    ) -> Flow {
        if conv.starts_with("n_") {
            // Notification handlers read and write conversation rows and read the message
            // index in the store: the burst so far is written, reported and ended first, so a
            // later message of the burst re-reads a row the handler changed (its pending row,
            // written after, undid the change: e.g. a read on another device of the bot).
            self.flush_conversations().await?;
            let seq = m.seq;
            let events = self.notification_events(conv, &m).await;
            return self.emit_for_item(conv, slot, seq, events).await;
        }
        let seq = m.seq;
        if m.status == 4 || m.client_msg_id.is_empty() && seq > 0 && m.content.is_empty() {
            self.auto_ack(conv, seq);
            return Ok(());
        }
        if m.content_type == crate::content::content_type::TYPING {
            self.auto_ack(conv, seq);
            return self.on_typing(conv, &m).await;
        }
        let fresh_id = if seq > 0 {
            m.client_msg_id.is_empty() || {
                let h = self.convs.id_hasher.hash(&m.client_msg_id);
                self.convs[slot].recent.insert(h)
            }
        } else {
            self.recent_online
                .insert(conv, &format!("{}/{}", m.client_msg_id, m.server_msg_id))
        };
        if !fresh_id {
            tracing::debug!(conv, seq, "duplicate message dropped");
            self.auto_ack(conv, seq);
            return Ok(());
        }
        let is_self = m.send_id == self.user_id;
        let own_echo = is_self && self.own_sends.is_own(&m.client_msg_id, m.create_time);
        if own_echo {
            let content = crate::content::parse_lossless(m.content_type, &m.content);
            self.update_conversation(conv, slot, &m, false, content.as_text());
            self.auto_ack(conv, seq);
            return Ok(());
        }
        if seq == 0 || !options::is_enabled(&m.options, options::HISTORY) {
            // Not stored on the server: reported as online-only (SDK §5.1 step 3).
            self.auto_ack(conv, seq);
            let content =
                crate::content::parse_lossless_vec(m.content_type, std::mem::take(&mut m.content));
            let message =
                crate::message::Message::from_wire_with_content(conv, m, content, &self.user_id);
            return self.emit_noack(Event::OnlineOnlyMessage(message)).await;
        }
        if !options::is_enabled(&m.options, options::CONVERSATION_UPDATE) {
            self.auto_ack(conv, seq);
            return Ok(());
        }
        if first_sight && m.send_time > 0 && m.send_time < self.epoch {
            // History of a conversation first seen now, older than the bot's first start.
            self.auto_ack(conv, seq);
            return Ok(());
        }
        // Here seq > 0 and the history option is on (both checked above).
        let counts = !is_self && options::is_enabled(&m.options, options::UNREAD_COUNT);
        // The wire buffer becomes the text (no copy, no free of it here).
        let content =
            crate::content::parse_lossless_vec(m.content_type, std::mem::take(&mut m.content));
        self.update_conversation(conv, slot, &m, counts, content.as_text());
        self.index_message(conv, &m);
        self.write_pending_if_durable();
        // Only stored items (seq > 0) are acknowledged: others must not make a ledger entry.
        let ack = if seq > 0 {
            let ledger_slot = self.ledger_slot(slot);
            Ack::ledger(&self.ledger, ledger_slot, seq)
        } else {
            Ack::noop()
        };
        // The message is built right into the channel's slot once there is one (no moves of
        // it through the futures), and consumes the wire message: its strings move into it.
        let permit = self.out.reserve().await.map_err(|_| Stop)?;
        let message =
            crate::message::Message::from_wire_with_content(conv, m, content, &self.user_id);
        tracing::debug!(event = "new_message", "event");
        permit.send(Delivery {
            event: Event::NewMessage(message),
            ack,
        });
        Ok(())
    }

    /// Queues the message's index entry (written with the burst, see [`Engine::write_pending`]).
    fn index_message(&mut self, conv: &str, m: &ReceivedMsg) {
        // Here seq > 0 (only stored messages are indexed).
        let seq = u64::try_from(m.seq).unwrap_or_default();
        self.batch.open_burst(&self.ledger);
        self.batch
            .index
            .push(conv, seq, |out| MessageSummary::encode(m, out));
    }

    pub(crate) fn message_summary(&self, conv: &str, seq: i64) -> Option<MessageSummary> {
        let entry = self
            .store
            .message_index_entry(&format!("{conv}/{seq:020}"))
            .ok()??;
        MessageSummary::decode(&entry)
    }

    async fn on_typing(&mut self, conv: &str, m: &ReceivedMsg) -> Flow {
        if m.send_id == self.user_id {
            return Ok(());
        }
        let tips = serde_json::from_slice::<serde_json::Value>(&m.content)
            .ok()
            .and_then(|v| v.get("msgTips").and_then(|t| t.as_str()).map(str::to_owned))
            .unwrap_or_default();
        let key = (conv.to_owned(), m.send_id.to_string());
        let platforms = self.typing.entry(key.clone()).or_default();
        let changed = if tips == "yes" {
            platforms
                .insert(m.sender_platform_id, std::time::Instant::now())
                .is_none()
        } else {
            platforms.remove(&m.sender_platform_id).is_some()
        };
        let list: Vec<i32> = platforms.keys().copied().collect();
        if list.is_empty() {
            self.typing.remove(&key);
        }
        if changed {
            self.emit_noack(Event::Typing(Typing {
                conversation_id: conv.to_owned(),
                user_id: m.send_id.to_string(),
                platform_ids: list,
            }))
            .await?;
        }
        Ok(())
    }

    /// A "yes" not repeated within 10 s expires (the SDK's typing timeout).
    async fn expire_typing(&mut self) -> Flow {
        let now = std::time::Instant::now();
        let mut events = Vec::new();
        self.typing.retain(|(conv, user), platforms| {
            let before = platforms.len();
            platforms.retain(|_, t| now.duration_since(*t) < TYPING_TIMEOUT);
            if platforms.len() != before {
                events.push(Event::Typing(Typing {
                    conversation_id: conv.clone(),
                    user_id: user.clone(),
                    platform_ids: platforms.keys().copied().collect(),
                }));
            }
            !platforms.is_empty()
        });
        self.emit_all(events).await
    }

    fn blank_conversation(
        &self,
        conv: &str,
        m: Option<&ReceivedMsg>,
    ) -> crate::model::Conversation {
        let mut c = crate::model::Conversation {
            // The message's shared ID when it has one (no allocation of its own).
            conversation_id: match m {
                Some(m) if m.conversation_id == conv => m.conversation_id.clone(),
                _ => conv.into(),
            },
            ..Default::default()
        };
        if let Some(g) = conv.strip_prefix("sg_") {
            c.conversation_type = 3;
            c.group_id = g.into();
            if let Ok(Some(group)) = self.store.group(g) {
                c.show_name = group.group_name.into();
                c.face_url = group.face_url.into();
            }
        } else {
            c.conversation_type = if conv.starts_with("sn_") { 4 } else { 1 };
            let peer = conv
                .split('_')
                .skip(1)
                .find(|p| *p != self.user_id)
                .unwrap_or(&self.user_id);
            let from_peer = m.filter(|m| m.send_id == peer);
            if let Ok(Some(f)) = self.store.friend(peer) {
                c.show_name = if f.remark.is_empty() {
                    f.nickname.into()
                } else {
                    f.remark.into()
                };
                c.face_url = f.face_url.into();
            } else if let Some(m) = from_peer {
                c.show_name = m.sender_nickname.clone();
                c.face_url = m.sender_face_url.clone();
            }
            // The peer's message's shared sender ID when it is the peer's.
            c.user_id = match from_peer {
                Some(m) => m.send_id.clone(),
                None => peer.into(),
            };
        }
        c
    }

    /// Applies a message to its conversation row (in memory until the burst is flushed).
    /// `text` is the message's text, if any (parsed once by the caller).
    fn update_conversation(
        &mut self,
        conv: &str,
        slot: SlotId,
        m: &ReceivedMsg,
        counts_unread: bool,
        text: Option<&str>,
    ) {
        let mut at = self.convs[slot].batch_row;
        if at == NO_ROW {
            // A copy of the stored row sharing its strings; without its latest message if this
            // one replaces it (decoded only to be dropped).
            let existing = self
                .store
                .conversation_to_update(conv, &mut self.convs[slot].store_row, |c| {
                    m.send_time < c.latest_msg_send_time
                })
                .ok()
                .flatten();
            let is_new = existing
                .as_ref()
                .map(|c| c.latest_msg_send_time == 0)
                .unwrap_or(true);
            let mut row = existing.unwrap_or_else(|| self.blank_conversation(conv, Some(m)));
            if is_new && row.show_name.is_empty() {
                let blank = self.blank_conversation(conv, Some(m));
                row.show_name = blank.show_name;
                row.face_url = blank.face_url;
            }
            at = u32::try_from(self.batch.rows.len()).unwrap_or(NO_ROW);
            if at == NO_ROW {
                return; // 2^32 rows in one burst: unreachable (MAX_BURST bounds a burst)
            }
            self.batch.rows.push(PendingRow {
                slot,
                row,
                is_new,
                dirty: true,
            });
            let latest = &mut self.batch.latest;
            if latest.len() < self.batch.rows.len() {
                latest.resize_with(self.batch.rows.len(), LatestText::default);
            }
            latest[at as usize].pending = false;
            self.convs[slot].batch_row = at;
        }
        self.batch.open_burst(&self.ledger);
        let (Some(pending), Some(buffers)) = (
            self.batch.rows.get_mut(at as usize),
            self.batch.latest.get_mut(at as usize),
        ) else {
            return;
        };
        pending.dirty = true;
        let c = &mut pending.row;
        if counts_unread && m.seq > c.max_seq.max(c.has_read_seq) {
            // Saturating: the count may start at the server's (reconcile_unread clamps a seq
            // distance to i32::MAX).
            c.unread_count = c.unread_count.saturating_add(1);
            self.batch.unread_changed = true;
        }
        if m.send_time >= c.latest_msg_send_time {
            let latest = c.latest_msg.get_or_insert_with(LatestMessage::default);
            // Its ID and text become shared strings when the row is written.
            buffers.client_msg_id.clone_from(&m.client_msg_id);
            buffers.has_text = text.is_some();
            text.unwrap_or_default().clone_into(&mut buffers.text);
            buffers.pending = true;
            latest.seq = m.seq;
            // Shared: the peer's ID the row has (most single-chat messages are the peer's),
            // else the message's; not counted again if it is the one the row has.
            if m.send_id == c.user_id {
                if !latest.send_id.ptr_eq(&c.user_id) {
                    latest.send_id = c.user_id.clone();
                }
            } else if latest.send_id != m.send_id {
                latest.send_id = m.send_id.clone();
            }
            latest.content_type = m.content_type;
            latest.send_time = m.send_time;
            c.latest_msg_send_time = m.send_time.max(1);
        }
        c.max_seq = c.max_seq.max(m.seq);
        if m.send_id == self.user_id && m.seq > 0 {
            c.has_read_seq = c.has_read_seq.max(m.seq);
        }
    }

    /// Writes the pending conversation rows (one sled batch) and message index entries; the
    /// rows stay in the batch for the conversation events of [`Engine::flush_conversations`].
    fn write_pending(&mut self) {
        let mut failed = None;
        for (p, text) in self.batch.rows.iter_mut().zip(&mut self.batch.latest) {
            if std::mem::take(&mut text.pending)
                && let Some(latest) = p.row.latest_msg.as_mut()
            {
                latest.client_msg_id = text.client_msg_id.as_str().into();
                latest.text = text.has_text.then(|| text.text.as_str().into());
            }
        }
        if self.batch.rows.iter().any(|p| p.dirty) {
            // The dirty rows go to the store straight from the batch, and their positions
            // come back in a buffer kept across bursts: with many conversations per-burst
            // lists of them were allocations of kilobytes, each making glibc consolidate.
            let convs = &self.convs;
            let dirty = self
                .batch
                .rows
                .iter()
                .filter(|p| p.dirty)
                .map(|p| (convs[p.slot].store_row, &p.row));
            // Each row's position in the store's cache goes back to its slot: the next touch
            // of a conversation first written in this burst reads its row without a lookup in
            // a map of every conversation (a few cache misses each with 100,000 of them).
            let placed = &mut self.batch.placed;
            if let Err(e) = self.store.put_conversations_hinted(dirty, placed) {
                tracing::error!(error = %e, "conversation write failed");
                failed.get_or_insert(e);
            }
            let mut placed = self.batch.placed.iter();
            for p in self.batch.rows.iter_mut().filter(|p| p.dirty) {
                p.dirty = false;
                if let Some(&hint) = placed.next() {
                    self.convs[p.slot].store_row = hint;
                }
            }
            self.batch.placed.clear();
        }
        if !self.batch.index.is_empty()
            && let Err(e) = self.store.put_message_index(&mut self.batch.index)
        {
            // The entries stay in the batch: the next write (at the latest the one at the
            // end of the session) appends them again.
            tracing::error!(error = %e, "message index write failed");
            failed.get_or_insert(e);
        }
        if let Some(e) = failed {
            // The burst stays open for the rest of the session: its acks (and any later
            // ones) are never persisted without their rows and index entries on disk, and
            // the session ends with the error.
            self.batch.write_failed = true;
            self.ledger.fail(e);
        }
        if !self.batch.write_failed && std::mem::take(&mut self.batch.open) {
            self.ledger.rows_written();
        }
    }

    /// With durable acks, what is pending is appended before a message is handed over: its
    /// ack is then flushed at once (a burst's acks otherwise wait for the burst's end, see
    /// [`crate::ledger::Ledger::rows_pending`]), so at most the message being handled repeats
    /// after a crash.
    fn write_pending_if_durable(&mut self) {
        if self.batch.open && self.ledger.is_durable() {
            self.write_pending();
        }
    }

    /// Ends a burst: writes what changed and reports the touched conversations (new ones, then
    /// changed ones, in touch order) and the total unread count if it moved.
    async fn flush_conversations(&mut self) -> Flow {
        self.write_pending();
        // The burst's buffers (its row list, the index batch) are kept for the next burst: a
        // burst of 512 rows regrew them from nothing each time, and the large reallocations
        // made glibc consolidate its free lists. A written index batch is empty; what a failed
        // write left stays for the next one.
        let unread_changed = std::mem::take(&mut self.batch.unread_changed);
        let fresh = self.batch.rows.iter().filter(|p| p.is_new).count();
        let mut new = Vec::with_capacity(fresh);
        let mut changed = Vec::with_capacity(self.batch.rows.len() - fresh);
        for p in self.batch.rows.drain(..) {
            self.convs[p.slot].batch_row = NO_ROW;
            if p.is_new {
                new.push(p.row);
            } else {
                changed.push(p.row);
            }
        }
        if !new.is_empty() {
            self.emit_noack(Event::NewConversation(Conversations { conversations: new }))
                .await?;
        }
        if !changed.is_empty() {
            self.emit_noack(Event::ConversationChanged(Conversations {
                conversations: changed,
            }))
            .await?;
        }
        if unread_changed {
            self.emit_total().await?;
        }
        Ok(())
    }

    // ---------------------------------------------------------------- notifications

    /// Events implied by one notification-stream item (§10 of sdk-events.md).
    async fn notification_events(&mut self, conv: &str, m: &ReceivedMsg) -> Vec<Event> {
        let tips = parse_tips(&m.content);
        let ct = m.content_type;
        match ct {
            1201..=1299 => self.sync_friend_side(ct, &tips).await,
            1303 => self.sync_self_info().await.into_iter().collect(),
            1501..=1599 => self.sync_group_side(ct, &tips).await,
            2101 => self.revoke_event(&tips, m).into_iter().collect(),
            1300 | 1701 => self.sync_conversation_settings().await,
            2200 => self.read_receipt_events(&tips, m).await,
            2102 => {
                let conversation_id = str_at(&tips, &["conversationID"]);
                let seqs = tips
                    .get("seqs")
                    .and_then(|s| s.as_array())
                    .map(|a| a.iter().filter_map(|v| v.as_i64()).collect())
                    .unwrap_or_default();
                vec![Event::MessageDeleted(MessageDeleted {
                    conversation_id,
                    seqs,
                })]
            }
            2001 => {
                let detail = serde_json::from_slice::<serde_json::Value>(&m.content)
                    .ok()
                    .and_then(|v| v.get("detail").and_then(|d| d.as_str()).map(str::to_owned))
                    .unwrap_or_default();
                vec![Event::BusinessNotification(BusinessNotification { detail })]
            }
            _ => {
                tracing::debug!(conv, ct, "notification without event");
                Vec::new()
            }
        }
    }

    fn revoke_event(&mut self, tips: &serde_json::Value, m: &ReceivedMsg) -> Option<Event> {
        let conversation_id = str_at(tips, &["conversationID"]);
        let seq = tips.get("seq").and_then(|v| v.as_i64()).unwrap_or(0);
        // De-duplicate by (conversationID, seq).
        let key = format!("{conversation_id}/{seq:020}");
        let revoked = self.store.raw_tree(trees::REVOKED).ok()?;
        if revoked.insert(key.as_bytes(), &[1u8]).ok()?.is_some() {
            return None;
        }
        let summary = self
            .message_summary(&conversation_id, seq)
            .unwrap_or_default();
        let revoker_id = str_at(tips, &["revokerUserID"]);
        let revoker_nickname = if m.send_id == revoker_id {
            m.sender_nickname.to_string()
        } else {
            String::new()
        };
        let session_type = tips
            .get("sesstionType")
            .or_else(|| tips.get("sessionType"))
            .and_then(|v| v.as_i64())
            .unwrap_or(0) as i32;
        let group_id = conversation_id.strip_prefix("sg_").unwrap_or_default();
        let revoker_role = self
            .store
            .member(group_id, &revoker_id)
            .ok()
            .flatten()
            .map(|mm| mm.role_level)
            .unwrap_or(0);
        Some(Event::MessageRevoked(MessageRevoked {
            conversation_id,
            revoker_id,
            revoker_role,
            revoker_nickname,
            client_msg_id: str_at(tips, &["clientMsgID"]),
            revoke_time: tips.get("revokeTime").and_then(|v| v.as_i64()).unwrap_or(0),
            source_message_send_time: summary.send_time,
            source_message_send_id: summary.send_id,
            source_message_sender_nickname: summary.sender_nickname,
            session_type,
            seq,
            is_admin_revoke: tips
                .get("isAdminRevoke")
                .and_then(|v| v.as_bool())
                .unwrap_or(false),
        }))
    }

    async fn read_receipt_events(
        &mut self,
        tips: &serde_json::Value,
        m: &ReceivedMsg,
    ) -> Vec<Event> {
        let reader = str_at(tips, &["markAsReadUserID"]);
        let conversation_id = str_at(tips, &["conversationID"]);
        let seqs: Vec<i64> = tips
            .get("seqs")
            .and_then(|s| s.as_array())
            .map(|a| a.iter().filter_map(|v| v.as_i64()).collect())
            .unwrap_or_default();
        let has_read_seq = tips.get("hasReadSeq").and_then(|v| v.as_i64()).unwrap_or(0);
        if reader == self.user_id {
            // Read on another device of the bot: unread reset.
            let mut out = Vec::new();
            if let Ok(Some(mut c)) = self.store.conversation(&conversation_id) {
                c.has_read_seq = c.has_read_seq.max(has_read_seq);
                // Saturating: a read receipt's seq is the server's, any i64.
                let unread = c
                    .max_seq
                    .saturating_sub(c.has_read_seq)
                    .clamp(0, i32::MAX as i64) as i32;
                if unread != c.unread_count {
                    c.unread_count = unread;
                    let _ = self.store.put_conversation(&conversation_id, &c);
                    out.push(Event::ConversationChanged(Conversations {
                        conversations: vec![c],
                    }));
                    out.push(Event::TotalUnreadCountChanged(TotalUnreadCount {
                        total_unread_count: self.store.total_unread().unwrap_or(0),
                    }));
                }
            }
            return out;
        }
        if seqs.is_empty() || !conversation_id.starts_with("si_") {
            return Vec::new();
        }
        let msg_id_list = seqs
            .iter()
            .filter_map(|s| self.message_summary(&conversation_id, *s))
            .map(|v| v.client_msg_id)
            .filter(|s| !s.is_empty())
            .collect();
        vec![Event::C2cReadReceipt(ReadReceipt {
            conversation_id,
            user_id: reader,
            msg_id_list,
            seqs,
            has_read_seq,
            read_time: m.send_time,
            session_type: 1,
        })]
    }
}

#[derive(Debug)]
enum PullError {
    Stop,
    Failed(String),
}

/// The tips object of a notification: `content` is `{"detail": "<tips JSON>"}`.
pub(crate) fn parse_tips(content: &[u8]) -> serde_json::Value {
    let Ok(outer) = serde_json::from_slice::<serde_json::Value>(content) else {
        return serde_json::Value::Null;
    };
    match outer.get("detail") {
        Some(serde_json::Value::String(s)) => serde_json::from_str(s).unwrap_or_default(),
        Some(v @ serde_json::Value::Object(_)) => v.clone(),
        _ => serde_json::Value::Null,
    }
}

/// A string at a JSON path ("" if absent).
pub(crate) fn str_at(v: &serde_json::Value, path: &[&str]) -> String {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(n) => cur = n,
            None => return String::new(),
        }
    }
    cur.as_str().unwrap_or_default().to_owned()
}

#[allow(dead_code)]
fn _assert_send(e: Engine) -> impl Send {
    e.run(
        mpsc::unbounded_channel().1,
        mpsc::unbounded_channel().1,
        oneshot::channel().1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::tests::synced_session;

    /// With few decoded pushes allowed to wait, a released burst reaches the engine partly
    /// decoded, partly as payloads the engine decodes: every message once, in order in each
    /// conversation, every decoded push counted handled and the payload buffers handed back.
    #[tokio::test]
    async fn pushes_passed_undecoded_are_delivered_once_in_order() {
        let peers: Vec<String> = (0..20).map(|i| format!("dpeer{i}")).collect();
        let (sb, _dir, mut s) = synced_session("dbot", &peers, |_| {}).await;
        let gw = s.client().inner.gateway.clone().expect("a gateway");
        gw.set_decode_ahead(3);
        sb.faults().stall_pushes("dbot");
        for round in 0..3 {
            for p in &peers {
                let text = format!("{p}-{round}");
                sb.send_text(p, "dbot", false, &text).await.unwrap();
            }
        }
        sb.faults().release_pushes("dbot");
        let mut texts = Default::default();
        receive_texts_by_peer(&mut s, 3 * peers.len(), &mut texts).await;
        for p in &peers {
            let expected: Vec<String> = (0..3).map(|r| format!("{p}-{r}")).collect();
            assert_eq!(texts[p], expected, "each once, in order");
        }
        let (waiting, spare) = gw.push_counts();
        assert_eq!(waiting, 0, "every decoded push counted handled");
        assert!(
            spare > 0,
            "the engine decoded payloads and handed their buffers back"
        );
        s.shutdown().await.unwrap();
        sb.shutdown().await;
    }

    /// Pushes past the queue limit are dropped while the engine is held by a slow consumer, and
    /// their messages pulled by seq once it has taken the queue: every message once, in order
    /// in each conversation, and the pushes queued behind the drops skipped as duplicates.
    #[tokio::test]
    async fn pushes_dropped_past_the_queue_limit_are_pulled_once_in_order() {
        flood_through_a_full_queue("q", 0, QueueBound::Pushes).await;
    }

    /// The same with the queue bounded by its payloads' bytes (every push passed undecoded):
    /// every message once, in order, and every byte counted back.
    #[tokio::test]
    async fn pushes_dropped_past_the_queue_bytes_are_pulled_once_in_order() {
        flood_through_a_full_queue("b", 0, QueueBound::Bytes).await;
    }

    /// The same with the first pull failing (the one of the dropped pushes' messages): it is
    /// tried again, and every message still comes once, in order.
    #[tokio::test]
    async fn a_failed_pull_of_dropped_pushes_is_tried_again() {
        flood_through_a_full_queue("r", 1, QueueBound::Pushes).await;
    }

    /// Receives `n` new messages (within 40 s), acking every event, and files each text under
    /// its sender: the text up to its first `-` (the tests send `<peer>-<round>`).
    async fn receive_texts_by_peer(
        s: &mut crate::session::Session,
        n: usize,
        texts: &mut HashMap<String, Vec<String>>,
    ) {
        for text in next_texts(s, n).await {
            let peer = text.split('-').next().unwrap_or_default().to_owned();
            texts.entry(peer).or_default().push(text);
        }
    }

    /// A gap repair that fails is tried again, with the pushed message it held back, though
    /// nothing more is sent (fails without the retry: both wait for the next connect).
    #[tokio::test]
    async fn a_failed_gap_repair_is_tried_again() {
        let (sb, _dir, mut s) = synced_session("gbot", &["gpeer".into()], |_| {}).await;
        // A's push never comes, and the pull of the gap B shows fails once.
        sb.faults().skip_next_seq("gbot");
        sb.faults().fail_requests(1002, 1, 500);
        sb.send_text("gpeer", "gbot", false, "A").await.unwrap();
        sb.send_text("gpeer", "gbot", false, "B").await.unwrap();
        assert_eq!(next_texts(&mut s, 2).await, ["A", "B"]);
        s.shutdown().await.unwrap();
        sb.shutdown().await;
    }

    /// A round's payload bytes count in the queue's byte bound until its pushes are handled
    /// (review-s16 L2): with the engine held up by the consumer on the round's first message,
    /// the round it took still counts in bytes, though not in pushes (fails with the bytes
    /// counted when the round is taken).
    #[tokio::test]
    async fn a_rounds_payload_bytes_count_until_its_pushes_are_handled() {
        let (sb, _dir, mut s) = synced_session("lbot", &["lpeer".into()], |config| {
            config.channel_capacity = 1
        })
        .await;
        let gw = s.client().inner.gateway.clone().expect("a gateway");
        gw.set_decode_ahead(0);
        // Waits (yielding to the reader and the engine) until the queue's counts pass `test`.
        let until = |what: &'static str, test: fn((usize, usize)) -> bool| {
            let gw = gw.clone();
            async move {
                tokio::time::timeout(Duration::from_secs(20), async {
                    while !test(gw.queued_pushes()) {
                        tokio::task::yield_now().await;
                    }
                })
                .await
                .unwrap_or_else(|_| panic!("{what}: {:?}", gw.queued_pushes()));
            }
        };
        // One message left unread fills the channel: the engine waits to emit what follows.
        sb.send_text("lpeer", "lbot", false, "first").await.unwrap();
        sb.faults().stall_pushes("lbot");
        let texts: Vec<String> = (0..10).map(|i| format!("held-{i}")).collect();
        for t in &texts {
            sb.send_text("lpeer", "lbot", false, t).await.unwrap();
        }
        sb.faults().release_pushes("lbot");
        until("the ten pushes queued", |(pushes, _)| pushes == 10).await;
        let ten_pushes_bytes = gw.queued_pushes().1;
        assert!(ten_pushes_bytes > 0, "queued as payloads");
        // Taken one by one up to the round's first message: the engine took the ten as one
        // round, and waits in the round's first few again.
        let mut got = next_texts(&mut s, 2).await;
        assert_eq!(
            gw.queued_pushes(),
            (0, ten_pushes_bytes),
            "taken, and its bytes counted until handled"
        );
        got.extend(next_texts(&mut s, 9).await);
        assert_eq!(got[0], "first");
        assert_eq!(got[1..], texts[..], "each once, in order");
        until("every byte counted back", |counts| counts == (0, 0)).await;
        s.shutdown().await.unwrap();
        sb.shutdown().await;
    }

    /// Receives `n` new messages (within 40 s), acking every event: their texts, in order.
    async fn next_texts(s: &mut crate::session::Session, n: usize) -> Vec<String> {
        use crate::event::Event;
        let mut texts = Vec::new();
        tokio::time::timeout(Duration::from_secs(40), async {
            while texts.len() < n {
                let d = s.next().await.expect("session running");
                if let Event::NewMessage(m) = &d.event {
                    texts.push(m.text().unwrap_or_default().to_owned());
                }
                d.ack.ack();
            }
        })
        .await
        .expect("the messages in time");
        texts
    }

    /// A gap longer than the catch-up limit, whether a pushed message shows it or the
    /// connect's newest seqs do, and however far the server's seqs jump (near `i64::MAX`):
    /// only its newest `catch_up_limit` seqs are pulled, the older ones skipped, and the
    /// session stays responsive. Every message after a skip comes once, in order, and the
    /// ledger ends at the last one. Without the limit, the jumps planned about 10^16 pulls (a
    /// hang, and memory without bound).
    #[tokio::test]
    async fn gaps_past_the_catch_up_limit_skip_their_oldest_seqs_even_near_i64_max() {
        const BOT: &str = "hbot";
        const PEER: &str = "hpeer";
        const CONV: &str = "si_hbot_hpeer";
        let limit = |config: &mut crate::config::SessionConfig| config.catch_up_limit = 3;
        let (sb, dir, mut s) = synced_session(BOT, &[PEER.into()], limit).await;
        let send = async |text: &str| sb.send_text(PEER, BOT, false, text).await.unwrap();
        send("m1").await;
        assert_eq!(next_texts(&mut s, 1).await, ["m1"]);
        // A pushed seq far past the last one: three seqs of the gap are pulled (none holds
        // a message), the rest skipped; the next message comes as usual.
        sb.faults().jump_seq(CONV, 1 << 62);
        send("far").await;
        send("near").await;
        assert_eq!(next_texts(&mut s, 2).await, ["far", "near"]);
        // A gap of four real messages whose pushes were lost: the newest three are pulled.
        for _ in 0..4 {
            sb.faults().skip_next_seq(BOT);
        }
        for text in ["p1", "p2", "p3", "p4", "p5"] {
            send(text).await;
        }
        assert_eq!(next_texts(&mut s, 4).await, ["p2", "p3", "p4", "p5"]);
        // While the bot is away the seqs jump to near i64::MAX: the connect's catch-up pulls
        // the newest three.
        s.shutdown().await.unwrap();
        sb.faults().jump_seq(CONV, i64::MAX - 10);
        for text in ["o1", "o2", "o3", "o4"] {
            send(text).await;
        }
        let mut config = crate::config::SessionConfig::with_secret(
            sb.api_url(),
            sb.ws_url(),
            dir.path(),
            BOT,
            sb.secret(),
        );
        limit(&mut config);
        let mut s = crate::session::Session::start(config).await.unwrap();
        assert_eq!(next_texts(&mut s, 3).await, ["o2", "o3", "o4"]);
        send("last").await;
        assert_eq!(next_texts(&mut s, 1).await, ["last"], "nothing else first");
        s.shutdown().await.unwrap();
        sb.shutdown().await;
        // Acknowledged up to the last message (seq i64::MAX - 5), the skips included.
        let store = crate::store::Store::open(dir.path()).unwrap();
        let ledger = Ledger::open(Some(&store)).unwrap();
        assert_eq!(ledger.watermark(CONV), i64::MAX - 5);
    }

    /// Which bound of the push queue [`flood_through_a_full_queue`] lowers.
    enum QueueBound {
        Pushes,
        Bytes,
    }

    /// 20 peers send 3 rounds of texts to a bot whose queue holds one push (or one byte) and
    /// whose consumer takes one event at a time, with the first `failed_pulls` pulls failing;
    /// asserts every message once, in order, then one more.
    async fn flood_through_a_full_queue(prefix: &str, failed_pulls: u32, bound: QueueBound) {
        let bot = format!("{prefix}bot");
        let peers: Vec<String> = (0..20).map(|i| format!("{prefix}peer{i}")).collect();
        // The engine waits for the consumer after each message, so the released pushes pile
        // up behind it.
        let (sb, _dir, mut s) =
            synced_session(&bot, &peers, |config| config.channel_capacity = 1).await;
        let gw = s.client().inner.gateway.clone().expect("a gateway");
        match bound {
            QueueBound::Pushes => gw.set_push_queue_limit(1),
            QueueBound::Bytes => {
                gw.set_decode_ahead(0);
                gw.set_push_queue_bytes(1);
            }
        }
        sb.faults().stall_pushes(&bot);
        let rounds = 3;
        for round in 0..rounds {
            for p in &peers {
                let text = format!("{p}-{round}");
                sb.send_text(p, &bot, false, &text).await.unwrap();
            }
        }
        sb.faults().fail_requests(1002, failed_pulls, 500);
        sb.faults().release_pushes(&bot);
        let mut texts = Default::default();
        receive_texts_by_peer(&mut s, rounds * peers.len(), &mut texts).await;
        assert!(
            gw.dropped_pushes() > 0,
            "the released pushes overflowed the queue"
        );
        // One more message: it comes next (no earlier one repeats), and every push queued
        // before it has been taken.
        let last = format!("{}-last", peers[0]);
        sb.send_text(&peers[0], &bot, false, &last).await.unwrap();
        receive_texts_by_peer(&mut s, 1, &mut texts).await;
        let mut expected: Vec<String> = (0..rounds).map(|r| format!("{}-{r}", peers[0])).collect();
        expected.push(last);
        assert_eq!(texts[&peers[0]], expected, "each once, in order");
        for p in &peers[1..] {
            let expected: Vec<String> = (0..rounds).map(|r| format!("{p}-{r}")).collect();
            assert_eq!(texts[p], expected, "each once, in order");
        }
        assert_eq!(
            gw.queued_pushes(),
            (0, 0),
            "every queued push and byte taken"
        );
        s.shutdown().await.unwrap();
        sb.shutdown().await;
    }

    /// A failed row append (a full disk) ends the session with the error (fails without
    /// `Ledger::fail`), and its acknowledged message is not persisted as handled: the next
    /// session gets it again (review-s9 R2).
    #[tokio::test]
    async fn a_failed_row_append_ends_the_session_and_its_message_comes_again() {
        use crate::config::SessionConfig;
        use crate::event::{Event, EventKind};
        use crate::session::Session;
        const WAIT: Duration = Duration::from_secs(40);
        async fn next_message(s: &mut Session) -> String {
            tokio::time::timeout(WAIT, async {
                loop {
                    let d = s.next().await.expect("session running");
                    let text = match &d.event {
                        Event::NewMessage(m) => m.text().map(str::to_owned),
                        _ => None,
                    };
                    d.ack.ack();
                    if let Some(t) = text {
                        return t;
                    }
                }
            })
            .await
            .expect("message in time")
        }
        let sb = openim_sandbox::Sandbox::start(openim_sandbox::SandboxConfig::default())
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        for user in ["rbot", "rpeer"] {
            sb.register_user(user, user).await.unwrap();
        }
        let config = || {
            SessionConfig::with_secret(sb.api_url(), sb.ws_url(), dir.path(), "rbot", sb.secret())
        };
        let mut s = Session::start(config()).await.unwrap();
        crate::session::tests::next_of(&mut s, EventKind::SyncServerFinish).await;
        s.client().store().fail_row_appends();
        sb.send_text("rpeer", "rbot", false, "hello").await.unwrap();
        assert_eq!(next_message(&mut s).await, "hello");
        let ended = tokio::time::timeout(WAIT, async { while s.next().await.is_some() {} }).await;
        assert!(ended.is_ok(), "the session ended");
        match s.shutdown().await {
            Err(crate::session::SessionError::Store(crate::store::StoreError::Io {
                source,
                ..
            })) => assert_eq!(source.kind(), std::io::ErrorKind::StorageFull),
            other => panic!("shutdown returns the failure: {other:?}"),
        }
        // Acknowledged, but its row never reached the journal: not persisted as handled.
        let mut s = Session::start(config()).await.unwrap();
        assert_eq!(next_message(&mut s).await, "hello");
        s.shutdown().await.unwrap();
        sb.shutdown().await;
    }

    /// The rows conversation events carry are the stored rows, sharing their strings (the
    /// store keeps rows decoded; a message's row is a copy of it, not a decode), and are read
    /// back the same after a restart.
    #[tokio::test]
    async fn reported_conversation_rows_are_the_stored_rows() {
        use crate::config::SessionConfig;
        use crate::event::{Event, EventKind};
        use crate::model::Conversation;
        use crate::session::Session;
        const WAIT: Duration = Duration::from_secs(40);
        // IDs and names longer than a SharedStr holds in place: equal short texts are
        // `ptr_eq` anyway, and would not show that a row is a copy rather than a decode.
        const P1: &str = "cpeer1longuserid";
        const P2: &str = "cpeer2longuserid";
        let sb = openim_sandbox::Sandbox::start(openim_sandbox::SandboxConfig::default())
            .await
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        for (user, name) in [
            ("cbot", "Bot"),
            (P1, "Peer One, a long name"),
            (P2, "Peer Two, a long name"),
        ] {
            sb.register_user(user, name).await.unwrap();
        }
        let config = || {
            SessionConfig::with_secret(sb.api_url(), sb.ws_url(), dir.path(), "cbot", sb.secret())
        };
        let mut s = Session::start(config()).await.unwrap();
        crate::session::tests::next_of(&mut s, EventKind::SyncServerFinish).await;
        let sent = [(P1, "one"), (P2, "two"), (P1, "three"), (P2, "four")];
        for (from, text) in sent {
            sb.send_text(from, "cbot", false, text).await.unwrap();
        }
        // The last reported row of each conversation, until both show their last message.
        let mut reported: HashMap<String, Conversation> = HashMap::new();
        let last_text = |c: &Conversation| c.latest_msg.as_ref().and_then(|m| m.text.clone());
        tokio::time::timeout(WAIT, async {
            while ["three", "four"].iter().any(|t| {
                !reported
                    .values()
                    .any(|c| last_text(c).as_deref() == Some(*t))
            }) {
                let d = s.next().await.expect("session running");
                if let Event::NewConversation(c) | Event::ConversationChanged(c) = &d.event {
                    for row in &c.conversations {
                        reported.insert(row.conversation_id.to_string(), row.clone());
                    }
                }
                d.ack.ack();
            }
        })
        .await
        .expect("rows in time");
        let store = s.client().store().clone();
        assert_eq!(reported.len(), 2);
        for (peer, text) in [(P1, "three"), (P2, "four")] {
            let id = format!("si_{}_{}", "cbot".min(peer), "cbot".max(peer));
            let row = &reported[&id];
            let stored = store.conversation(&id).unwrap().expect("stored");
            assert_eq!(*row, stored);
            assert_eq!(row.user_id, peer);
            assert!(!row.show_name.is_empty());
            let (latest, kept) = (row.latest_msg.as_ref().unwrap(), stored.latest_msg.unwrap());
            assert_eq!(latest.text.as_deref(), Some(text));
            assert!(row.show_name.ptr_eq(&stored.show_name));
            assert!(row.conversation_id.ptr_eq(&stored.conversation_id));
            assert_eq!(*latest, kept);
            // The peer's message: its sender is the row's peer ID, one string for both.
            assert!(latest.send_id.ptr_eq(&row.user_id));
        }
        s.shutdown().await.unwrap();
        drop(store);
        let store = crate::store::Store::open(dir.path()).unwrap();
        for (id, row) in &reported {
            assert_eq!(store.conversation(id).unwrap().as_ref(), Some(row));
        }
        sb.shutdown().await;
    }

    #[test]
    fn message_summaries_round_trip_and_old_json_entries_still_decode() {
        let m = ReceivedMsg {
            client_msg_id: "c1".into(),
            send_id: "u\u{e9}1".into(),
            sender_nickname: Default::default(),
            send_time: 1_700_000_000_123,
            session_type: 3,
            ..Default::default()
        };
        let mut bytes = Vec::new();
        MessageSummary::encode(&m, &mut bytes);
        let want = MessageSummary {
            client_msg_id: "c1".into(),
            send_id: "u\u{e9}1".into(),
            send_time: 1_700_000_000_123,
            sender_nickname: String::new(),
            session_type: 3,
        };
        assert_eq!(MessageSummary::decode(&bytes), Some(want));
        let json = br#"{"clientMsgID":"c2","sendID":"u2","sendTime":5,"senderNickname":"N","sessionType":1}"#;
        let old = MessageSummary::decode(json).expect("JSON entry");
        assert_eq!((old.client_msg_id.as_str(), old.send_time), ("c2", 5));
        assert_eq!(old.sender_nickname, "N");
        for bad in [&bytes[..bytes.len() - 1], &[][..], b"x", b"{"] {
            assert_eq!(MessageSummary::decode(bad), None, "{bad:?}");
        }
    }
}

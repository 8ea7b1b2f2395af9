//! The local store (sled): what the bot knows about itself, its conversations, friends, groups
//! and applications, plus keyed trees for the runtime (dialogue state, cooldowns).
//!
//! Keys and values are versioned: values are JSON documents and the schema version is kept under
//! `meta/schema`, so another backend can be added behind the same queries.
//!
//! Conversation rows and the message index change with every message, and with many
//! conversations each touched once, keyed writes land on scattered B-tree leaves (measured with
//! openim-bench at 100,000 conversations: ~9 us to read a row, ~8 us to write it, ~11 us per index
//! entry). So both are journaled: a burst of changes is ONE entry appended to a journal.
//! Conversation rows are kept in memory as compact binary rows (`model::row_codec`,
//! ~100-200 bytes each; all of them, loaded at open) and decoded (a read shares the row's
//! strings instead of decoding it), and their journal is their stored form, cleaned as a
//! log-structured store: the journal is a few generation files, and once it holds about three
//! times the rows its oldest generation is cleaned (the rows whose latest record is there are
//! appended again, then the file is deleted), so a row costs a share of a sequential write
//! however many conversations there are (folding into keyed rows cost one scattered B-tree
//! update per row), and when every row was written since (rows updated in turn) the cleaning is
//! a file deletion (snapshots of every row, which earlier versions wrote once the journal grew
//! by twice the rows, copied all of them each time). Rows too large to keep in memory are
//! written keyed. The index journal is folded into sorted run files (module `index_runs`:
//! one sequential file per fold, merged in tiers; keyed block records of stores written before
//! schema 4 are still read) and found meanwhile through an in-memory map. A crash between a journal append and its compaction loses nothing:
//! the journal is replayed at the next open.
//!
//! Both journals are append-only files of our own under `journal/` (module `journal`:
//! generation files `rows-*.log` and `index-*.log` of crc-checked frames, one write(2) per
//! burst, synced every 100 ms, then sled flushed, and on [`Store::flush`]), not sled trees:
//! sled 0.34 rewrites whole leaves, so entries appended to a tree cost several times their size
//! in writes (~2 KB per event for ~260 B of data at 100,000 conversations). The row journal's
//! generation appended to is ended at a quarter of the rows' records (at least 512 KB); the
//! cache counts per generation the rows whose latest record is there, and a cleaned generation
//! is deleted by the sync round that makes the records superseding its records durable (its
//! large rows written keyed and sled flushed before): a crash at any step replays to the same
//! rows, the cleaned generation's records being older than, or the same as, those that
//! supersede them. Only the oldest is cleaned, so the replay's order (newer wins) holds. An
//! index fold covers whole generations (the one appended to is
//! ended when the fold starts) and deletes them once its run is durable. Schema-2 stores kept
//! both journals in their sled trees (key `0xFF` + a 64-bit number, `0xFF` never occurs in
//! UTF-8 keys): at open their row journal is taken over into a snapshot file (a generation of
//! every row, the one whole-journal rewrite left) and their index journal folded, then the store
//! is marked with the current schema. The files' format is the same whether written by appends,
//! cleanings or snapshots, so an older binary reads a cleaned journal.

mod index_runs;
pub(crate) mod journal;

use std::path::{Path, PathBuf};

use journal::{Journal, JournalDir};

use serde::Serialize;
use serde::de::DeserializeOwned;

use openim_protocol::SharedStr;

use crate::ledger::LedgerFile;
use crate::model::{
    Blacklisted, Conversation, Friend, FriendApplication, GroupApplication, GroupInfo, GroupMember,
    RowFields, UserInfo,
};
use crate::prefetch;

/// The store's sync round interval (row and index journal files synced, then the ledger's
/// queued entries written and synced, then sled flushed, by the journal syncer): acknowledged
/// watermarks queued up to this long before a crash or a power loss may be lost (their
/// messages are then delivered again); a process crash loses no row or index journal append.
pub(crate) const FLUSH_EVERY_MS: u64 = 100;

/// Schema version of the stored documents. Version 2 added the conversation and message-index
/// journals and binary conversation rows; version 3 moved the journals out of sled into files
/// of their own (`journal/`, which an older binary would not see); version 4 folds the message
/// index into sorted run files (`journal/index-run-*.dat`, which an older binary would not
/// read) instead of sled block records (still read); version 5 moved the delivery ledger's
/// journal out of sled into files too (`journal/ledger-*.log`: an older binary would read no
/// watermark and deliver everything again); version 6 writes the ledger's entries with slot
/// numbers instead of conversation IDs (an older binary would misread them). Version 1 to 5
/// stores open and are migrated.
pub const SCHEMA_VERSION: u32 = 6;

/// Name of the conversation-row journal's files (see [`journal`]).
const ROWS_JOURNAL: &str = "rows";

/// Name of the message-index journal's files.
const INDEX_JOURNAL: &str = "index";

/// Name of the delivery ledger's journal files (written by [`crate::ledger`]).
pub(crate) const LEDGER_JOURNAL: &str = "ledger";

/// First byte of a journal key (never part of a UTF-8 key).
const JOURNAL: u8 = 0xFF;

fn journal_key(n: u64) -> [u8; 9] {
    let mut k = [JOURNAL; 9];
    k[1..].copy_from_slice(&n.to_be_bytes());
    k
}

fn journal_number(key: &[u8]) -> Option<u64> {
    match key {
        [JOURNAL, rest @ ..] => Some(u64::from_be_bytes(rest.try_into().ok()?)),
        _ => None,
    }
}

/// Appends a length-prefixed (u32, big-endian) byte string.
fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

/// Appends `c`'s binary row, length-prefixed as [`put_bytes`] does (encoded in place, its
/// start copied from `prefix` if given: see [`crate::model::row_codec::encode_from`]);
/// returns its length.
fn put_encoded(
    out: &mut Vec<u8>,
    c: &Conversation,
    prefix: Option<&crate::model::row_codec::Prefix<'_>>,
) -> usize {
    let at = out.len();
    out.extend_from_slice(&[0; 4]);
    crate::model::row_codec::encode_from(c, prefix, out);
    let len = out.len() - at - 4;
    let prefix = u32::try_from(len).unwrap_or(u32::MAX);
    out[at..at + 4].copy_from_slice(&prefix.to_be_bytes());
    len
}

/// The (key, value) pairs of a journal entry; a truncated tail is ignored.
fn journal_pairs(mut v: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    fn take<'a>(v: &mut &'a [u8]) -> Option<&'a [u8]> {
        let len = usize::try_from(u32::from_be_bytes(v.get(..4)?.try_into().ok()?)).ok()?;
        // Checked: a corrupt prefix near u32::MAX must not overflow a 32-bit usize.
        let end = len.checked_add(4)?;
        let b = v.get(4..end)?;
        *v = &v[end..];
        Some(b)
    }
    std::iter::from_fn(move || Some((take(&mut v)?, take(&mut v)?)))
}

/// A conversation-journal generation is ended (appends go on in a new file) once it holds a
/// [`ROW_GENERATIONS`]th of the rows' records, and at least this many bytes; the journal is
/// cleaned while it holds more than `1 + ROW_JOURNAL_GROWTH` times the records, and at least
/// two such generations. Each cleaning creates no file but deletes one (a directory sync in the
/// next sync round): with few conversations and a 64 KB minimum snapshots ran several times a
/// second under a steady message rate, and their syncs' journal commits stalled the session's
/// appends (echo bench p99 1.5 -> 2.4 ms). A journal file of a MB costs no memory and replays
/// at open in milliseconds.
const ROW_GENERATION_MIN: usize = 512 * 1024;

/// Generations the rows' records are spread over (see [`ROW_GENERATION_MIN`]): a cleaning
/// handles one generation, so this bounds what one cleaning copies (the rows whose latest record
/// is in it) and the journal's slack over its bound.
const ROW_GENERATIONS: usize = 4;

/// The conversation journal is cleaned once it holds more than `1 + ROW_JOURNAL_GROWTH` times
/// the rows' records (see [`RowCache::journal_bound`]): at most a third of what it holds is
/// current, so a cleaning copies on average at most half a byte per byte appended (what the
/// snapshots of every row once the journal grew by twice the rows wrote), and the journal stays
/// within about three times the rows (replayed at open: ~45 MB at 100,000 conversations). When
/// every row is updated in turn, the oldest generation holds no current record by then and
/// cleaning it is a file deletion (the snapshots' copy and write of every row was the part of a
/// row write's cost that grew with the number of conversations: perf, ~44 samples per 100,000
/// messages at 100,000 conversations).
const ROW_JOURNAL_GROWTH: usize = 2;

/// Bytes per journal entry of a conversation-row snapshot or of a cleaning's carried rows.
const SNAPSHOT_CHUNK: usize = 64 * 1024;

/// Rows larger than this (a long latest message) are dropped from memory once compacted (a
/// cleaning or a snapshot writes them keyed).
const ROW_KEEP_MAX: usize = 512;

/// The message-index journal is compacted at this many entries (bounds the lookup map).
const INDEX_JOURNAL_MAX: usize = 32 * 1024;

/// Errors of the local store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// sled failed.
    #[error("local store: {0}")]
    Sled(#[from] sled::Error),
    /// A stored document does not decode.
    #[error("local store: corrupt document in {tree}/{key}: {source}")]
    Corrupt {
        /// Tree name.
        tree: String,
        /// Key.
        key: String,
        /// JSON error.
        source: serde_json::Error,
    },
    /// A journal file could not be read or written.
    #[error("local store: journal file {}: {source}", path.display())]
    Io {
        /// The file (or the journal directory).
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The store was written by an incompatible version.
    #[error("local store: schema version {found} is not supported (expected {SCHEMA_VERSION})")]
    Schema {
        /// Version found.
        found: u32,
    },
}

pub(crate) mod trees {
    pub const META: &str = "meta";
    pub const CONVERSATIONS: &str = "conversations";
    pub const FRIENDS: &str = "friends";
    pub const FRIEND_APPS: &str = "friend_applications";
    pub const BLACKLIST: &str = "blacklist";
    pub const GROUPS: &str = "groups";
    pub const MEMBERS: &str = "group_members";
    pub const GROUP_APPS: &str = "group_applications";
    pub const LEDGER: &str = "ledger";
    pub const MESSAGES: &str = "message_ids";
    pub const SENT: &str = "sent_client_msg_ids";
    pub const REVOKED: &str = "revoked";
    /// Incremental-sync positions `(versionID, version)` per version-logged list
    /// (`friends`, `joined_groups`, `members/<groupID>`, `conversations`).
    pub const VERSIONS: &str = "sync_versions";
}

/// Handle on the local store; cheap to clone.
#[derive(Clone)]
pub struct Store {
    /// Stops the journal syncer when the last handle goes (see [`spawn_syncer`]). First, so
    /// that it is dropped (the syncer joined, its database handle gone) before `db`.
    _syncer: std::sync::Arc<Syncer>,
    db: sled::Db,
    /// Conversation rows in memory (overlaying the keyed rows) and their journal.
    rows: std::sync::Arc<parking_lot::Mutex<RowCache>>,
    /// Message-index journal state.
    index: std::sync::Arc<parking_lot::Mutex<IndexJournal>>,
    /// The delivery ledger's journal and the entries persisted but not written yet
    /// ([`crate::ledger`] queues them): here so that every sync round writes them only after
    /// it synced the row and index journals (see [`flush_in_order`]).
    ledger: std::sync::Arc<LedgerFile>,
    /// The journal files' directory (a temporary store's is removed with its last handle).
    journal_dir: JournalDir,
}

/// Every conversation row, as compact binary rows and decoded (loaded when the store opens),
/// and the total unread count over them. Rows live in the journal (bursts, and the rows a
/// cleaning carried forward); only rows too large to keep in memory, and rows of older stores
/// not written since, have a keyed copy, which the journal overrides.
///
/// Kept decoded as well: the engine reads the row of every conversation a message comes to,
/// and with many conversations (each touched once in a while) decoding it (a `String` per
/// text field, freed by the event's consumer on another thread) was the largest per-event
/// cost that grows with the number of conversations; a read is now a copy sharing the row's
/// strings. The binary rows stay for the cleanings, which carry them as they are: encoding
/// every row again for the snapshots of earlier versions (its strings scattered over the heap,
/// a cache miss each) cost more than the decode saved.
struct RowCache {
    /// Where each row is in `rows`.
    index: std::collections::HashMap<SharedStr, u32>,
    /// The rows, in order of first write (never removed, so a position stays valid: see
    /// [`RowHint`]).
    rows: Vec<CachedRow>,
    /// Σ contributions over `rows`.
    unread_total: i64,
    /// Σ sizes of the binary rows.
    row_bytes: usize,
    /// Σ lengths of the rows' keys, plus a record's 8 bytes of length prefixes each (with
    /// `row_bytes`, the size of the rows' journal records).
    key_bytes: usize,
    /// The journal files (a generation is deleted once cleaned, see [`Store::start_cleaning`]).
    journal: Journal,
    /// The journal's generations, oldest first: generation ids `first_id..` (see
    /// [`CachedRow::generation`]).
    generations: std::collections::VecDeque<RowGeneration>,
    /// Id of `generations[0]` (ids start at 1: 0 is no record).
    first_id: u32,
    /// Σ bytes of `generations`.
    journal_bytes: usize,
    /// The oldest generations, cleaned (`generations[..retiring.len()]`, in order): each is
    /// deleted by the sync round that makes the journal's appends up to its `through` durable
    /// (see [`retire_cleaned`]). Several can wait: with many conversations the journal can grow
    /// by more than a generation between two rounds.
    retiring: std::collections::VecDeque<Retiring>,
    /// Σ bytes of the generations in `retiring` (not counted against the bound).
    retiring_bytes: usize,
    /// A cleaning failed: the next one waits until the journal holds this many bytes.
    clean_after: usize,
    /// [`ROW_GENERATION_MIN`] (smaller in tests).
    generation_min: usize,
    /// The background cleaning (or, in tests, snapshot), while it runs.
    compaction: Option<std::thread::JoinHandle<()>>,
    /// The buffer a journal entry is built in, kept from one burst to the next: with many
    /// conversations a burst's entry is tens of KB, and allocating (then freeing) that much
    /// per burst made glibc consolidate its free lists each time.
    entry: Vec<u8>,
    /// The positions of the entry's rows (kept likewise).
    entry_rows: Vec<u32>,
    /// Appends fail as on a full disk (tests of what a failed append does).
    #[cfg(test)]
    fail_appends: bool,
}

/// A generation of the conversation-row journal, as the cache counts it.
#[derive(Debug, Clone, Copy)]
struct RowGeneration {
    /// Its number (its file's name).
    generation: u64,
    /// Bytes of its whole frames.
    bytes: usize,
    /// Rows whose latest record is in it: once none are, it is garbage.
    live: u32,
}

/// A cleaned generation waiting for the sync that lets it go (see [`RowCache::retiring`]).
#[derive(Debug, Clone, Copy)]
struct Retiring {
    generation: u64,
    /// Appends to the journal when it was cleaned: every record superseding its records (the
    /// rows' newer writes, the carried copies) is among them.
    through: u64,
}

/// Above this capacity the entry buffer is freed after use rather than kept (a rare huge
/// burst does not pin its memory).
const ENTRY_KEEP_MAX: usize = 1 << 20;

/// Three cache lines (aligned to them, its fields in this order): with many conversations a
/// row is cold whenever it is touched, and each line it spans is a miss (a row holding a
/// whole decoded `Conversation`, 280 bytes, spanned five or six).
#[repr(C, align(64))]
struct CachedRow {
    /// The conversation ID (shared with the index's key and the decoded row's ID).
    key: SharedStr,
    /// The row decoded (its ID is `key`), but for its latest message (kept in `bytes` only:
    /// see [`RowFields`]); `None` with no `bytes` or when they do not decode (reading the row
    /// then reports the error). When set, `bytes` encode these fields.
    decoded: Option<RowFields>,
    /// The binary row; `None` when it was too large to keep (then it is in the keyed tree).
    bytes: Option<Box<[u8]>>,
    unread: i32,
    /// Id of the journal generation holding the row's latest record (see
    /// [`RowCache::generations`]); 0 when no journal file holds it (a keyed row, or an append
    /// that failed for a new row).
    generation: u32,
    /// Changed since the last snapshot or cleaning took it.
    journaled: bool,
    /// The keyed tree holds a copy (older than the journal's, if the journal has one).
    keyed: bool,
}

// A row stays within three cache lines (see `CachedRow`).
const _: () = assert!(std::mem::size_of::<CachedRow>() == 192);

/// Reads a cached row's key and the start of its bytes (a row is a couple of cache lines: its
/// first byte and the one a line on), for their cache misses to overlap with other work; the
/// result only keeps the reads from being optimised away.
fn touch_row(row: &CachedRow) -> usize {
    let key = row.key.as_bytes();
    let bytes = row.bytes.as_deref().unwrap_or_default();
    usize::from(key.first().copied().unwrap_or_default())
        .wrapping_add(usize::from(bytes.first().copied().unwrap_or_default()))
        .wrapping_add(usize::from(bytes.get(64).copied().unwrap_or_default()))
}

/// Starts fetching what the engine's next use of a decoded row reads beyond the row's own
/// lines: its key (compared, and counted by the copy a read makes), the strings a read shares
/// (with their counts), and its binary row (a write copies its prefix and overwrites it). See
/// [`Store::warm_rows`].
fn prefetch_row_data(row: &CachedRow) {
    prefetch::shared_text(&row.key);
    if let Some(c) = &row.decoded {
        prefetch::shared_text(&c.user_id);
        prefetch::shared_text(&c.show_name);
        prefetch::shared_text(&c.face_url);
    }
    if let Some(bytes) = &row.bytes {
        prefetch::bytes(bytes.as_ptr(), bytes.len());
    }
}

/// Reads what writing a row over `row` reads: the row's three lines, its key (written into
/// the journal entry) and the start of its binary row (its prefix is copied from there). See
/// [`Store::journal_rows`].
fn touch_for_write(row: &CachedRow) -> usize {
    // A decoded row's second and third lines: where its sequence numbers are.
    let later = row.decoded.as_ref().map_or(0, |c| {
        (c.has_read_seq as usize).wrapping_add(c.max_seq as usize)
    });
    touch_row(row).wrapping_add(later)
}

/// How many rows ahead a snapshot's copy fetches (see [`touch_row`]).
const COPY_AHEAD: usize = 8;

/// Most rows a cleaning's carry scans per hold of the rows' lock (see `Store::carry_rows`).
const CARRY_SCAN_MAX: usize = 4096;

/// Where a conversation's row is in the store's cache, as last seen by its caller: a caller
/// that touches the same conversations again and again (the engine) keeps it per conversation
/// and spares the store a lookup in a map of every conversation (a few cache misses each with
/// 100,000 of them). Checked against the row's key before use; [`RowHint::NONE`] when unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RowHint(u32);

impl RowHint {
    /// No position known.
    pub(crate) const NONE: RowHint = RowHint(u32::MAX);
}

impl RowCache {
    /// No rows; `journal` is replaced by the opened one when the rows are loaded.
    fn new(journal: Journal) -> RowCache {
        RowCache {
            index: Default::default(),
            rows: Vec::new(),
            unread_total: 0,
            row_bytes: 0,
            key_bytes: 0,
            journal,
            generations: Default::default(),
            first_id: 1,
            journal_bytes: 0,
            retiring: Default::default(),
            retiring_bytes: 0,
            clean_after: 0,
            generation_min: ROW_GENERATION_MIN,
            compaction: None,
            entry: Vec::new(),
            entry_rows: Vec::new(),
            #[cfg(test)]
            fail_appends: false,
        }
    }

    /// The position of `key`'s row, checking `hint` first (the key is compared, so a stale or
    /// foreign hint only costs the lookup).
    fn find(&self, key: &str, hint: RowHint) -> Option<u32> {
        match self.rows.get(hint.0 as usize) {
            // The key itself (a row the caller read from here): its text is not read.
            Some(row) if std::ptr::eq(row.key.as_str(), key) || *row.key == *key => Some(hint.0),
            _ => self.index.get(key).copied(),
        }
    }

    /// The position of `key`'s row, created empty (no bytes, no unread) if it has none;
    /// `shared` is the key's text if the caller has it shared already (kept as the new row's
    /// key).
    fn find_or_add(&mut self, key: &str, hint: RowHint, shared: Option<&SharedStr>) -> u32 {
        if let Some(at) = self.find(key, hint) {
            return at;
        }
        let key = match shared {
            Some(s) if *s == *key => s.clone(),
            _ => SharedStr::from(key),
        };
        // Fewer than 2^32 rows: memory runs out long before.
        let at = self.rows.len() as u32;
        self.key_bytes += key.len() + 8;
        self.rows.push(CachedRow {
            key: key.clone(),
            decoded: None,
            bytes: None,
            unread: 0,
            generation: 0,
            journaled: false,
            keyed: false,
        });
        self.index.insert(key, at);
        at
    }

    /// Records a copy of `bytes` (reusing the cached row's allocation when the length is the
    /// same) and of `decoded`, the row they encode (sharing its strings, but for its latest
    /// message: see [`CachedRow::decoded`]; its ID is the key's), as the current row of `key`;
    /// keeps the unread total and the rows' size in step. Returns the row's position.
    fn set(
        &mut self,
        key: &str,
        hint: RowHint,
        bytes: &[u8],
        decoded: Option<&Conversation>,
        journaled: bool,
    ) -> u32 {
        let at = self.find_or_add(key, hint, decoded.map(|c| &c.conversation_id));
        self.set_at(at, bytes, decoded, journaled);
        at
    }

    /// [`RowCache::set`] of the row at `at`.
    fn set_at(&mut self, at: u32, bytes: &[u8], decoded: Option<&Conversation>, journaled: bool) {
        let Some(slot) = self.rows.get_mut(at as usize) else {
            return;
        };
        match &mut slot.bytes {
            Some(old) if old.len() == bytes.len() => old.copy_from_slice(bytes),
            other => {
                self.row_bytes -= other.as_ref().map_or(0, |b| b.len());
                self.row_bytes += bytes.len();
                *other = Some(bytes.into());
            }
        }
        let unread = decoded.map_or(0, unread_contribution);
        // Updated in place: most of the row's strings are the ones it has.
        match (&mut slot.decoded, decoded) {
            (to, None) => *to = None,
            (to, Some(from)) => to.get_or_insert_default().assign(from),
        }
        self.unread_total += i64::from(unread) - i64::from(slot.unread);
        slot.unread = unread;
        slot.journaled = journaled;
        slot.keyed |= !journaled;
    }

    /// Marks `key`'s row as kept in the keyed tree only (not in memory), with `unread`.
    fn set_keyed(&mut self, key: &str, unread: i32) {
        let at = self.find_or_add(key, RowHint::NONE, None);
        self.moved(at as usize, 0);
        let slot = &mut self.rows[at as usize];
        self.row_bytes -= slot.bytes.take().map_or(0, |b| b.len());
        slot.decoded = None;
        self.unread_total += i64::from(unread) - i64::from(slot.unread);
        slot.unread = unread;
        slot.journaled = false;
        slot.keyed = true;
    }

    /// Lets the large rows at `keyed_at`, written keyed, leave memory, unless written again
    /// (journaled) since or no longer large.
    fn release_keyed(&mut self, keyed_at: &[usize]) {
        let mut freed = 0;
        for &at in keyed_at {
            let Some(row) = self.rows.get_mut(at) else {
                continue;
            };
            if !row.journaled && row.bytes.as_ref().is_some_and(|b| b.len() > ROW_KEEP_MAX) {
                freed += row.bytes.take().map_or(0, |b| b.len());
                row.decoded = None;
            }
        }
        self.row_bytes -= freed;
    }

    /// The oldest generation not cleaned yet, for a cleaning to start on (its id and counts);
    /// if it is the one appended to, appends go on in a new one (the rows a cleaning carries
    /// must land in a newer generation).
    fn begin_cleaning(&mut self) -> Option<(u32, RowGeneration)> {
        let (id, oldest) = self.oldest_uncleaned()?;
        if self.journal.appending() == Some(oldest.generation) {
            self.journal.end_generation();
        }
        Some((id, oldest))
    }

    /// The bytes of the rows' journal records (what one record of every row takes).
    fn record_bytes(&self) -> usize {
        self.row_bytes + self.key_bytes
    }

    /// Bytes at which the generation appended to is ended (see [`ROW_GENERATION_MIN`]).
    fn generation_size(&self) -> usize {
        (self.record_bytes() / ROW_GENERATIONS).max(self.generation_min)
    }

    /// Whether the journal (but the generations already cleaned) has outgrown its bound, and
    /// no cleaning runs.
    fn cleaning_due(&self) -> bool {
        self.journal_bytes - self.retiring_bytes > self.journal_bound() && idle(&self.compaction)
    }

    /// The oldest generation not cleaned yet: its id and counts.
    fn oldest_uncleaned(&self) -> Option<(u32, RowGeneration)> {
        let i = self.retiring.len();
        let g = self.generations.get(i)?;
        Some((self.first_id + i as u32, *g))
    }

    /// Marks generation `g`, the oldest not cleaned yet, as cleaned: every row whose latest
    /// record was there has one in a later generation, appended by now.
    fn cleaned(&mut self, g: RowGeneration) {
        self.retiring_bytes += g.bytes;
        self.retiring.push_back(Retiring {
            generation: g.generation,
            through: self.journal.appends(),
        });
    }

    /// Bytes of journal above which its oldest generation is cleaned (see
    /// [`ROW_JOURNAL_GROWTH`]).
    fn journal_bound(&self) -> usize {
        ((1 + ROW_JOURNAL_GROWTH) * self.record_bytes())
            .max(2 * self.generation_min)
            .max(self.clean_after)
    }

    /// The counts of generation `id`.
    fn stat_mut(&mut self, id: u32) -> Option<&mut RowGeneration> {
        let i = id.checked_sub(self.first_id)?;
        self.generations.get_mut(i as usize)
    }

    /// The id of journal generation `generation` (counted from now on if new). Appends and
    /// the replay go to ever newer generations; one older than the newest counted (never
    /// expected) gets the oldest's id, which is safe: a row counted in an older generation
    /// than its record's is only carried forward sooner.
    fn generation_id(&mut self, generation: u64) -> u32 {
        let newest = self.first_id + self.generations.len() as u32;
        match self.generations.back() {
            Some(g) if g.generation == generation => newest - 1,
            Some(g) if g.generation > generation => self
                .generations
                .iter()
                .position(|g| g.generation == generation)
                .map_or(self.first_id, |i| self.first_id + i as u32),
            _ => {
                self.generations.push_back(RowGeneration {
                    generation,
                    bytes: 0,
                    live: 0,
                });
                newest
            }
        }
    }

    /// Records that the row at `at` has its latest record in generation id `to` (0: none).
    fn moved(&mut self, at: usize, to: u32) {
        let Some(row) = self.rows.get_mut(at) else {
            return;
        };
        let from = std::mem::replace(&mut row.generation, to);
        if let Some(g) = self.stat_mut(from) {
            g.live = g.live.saturating_sub(1);
        }
        if let Some(g) = self.stat_mut(to) {
            g.live += 1;
        }
    }

    /// Records a frame appended (or replayed) at `location` holding the latest records of the
    /// rows at `rows`; returns the generation's id.
    fn appended(&mut self, location: journal::Location, rows: &[u32]) -> u32 {
        let id = self.generation_id(location.generation);
        let end = (location.offset + u64::from(location.len)) as usize;
        if let Some(g) = self.stat_mut(id) {
            let grown = end.saturating_sub(g.bytes);
            g.bytes += grown;
            self.journal_bytes += grown;
        }
        for &at in rows {
            self.moved(at as usize, id);
        }
        id
    }

    /// After an append at `location`: its generation is ended once it reached its size.
    fn roll(&mut self, location: journal::Location) {
        let end = (location.offset + u64::from(location.len)) as usize;
        if end >= self.generation_size() && self.journal.appending() == Some(location.generation) {
            self.journal.end_generation();
        }
    }
}

/// Where message-index entries still in the journal are. Appending costs a push per entry
/// (`appended`: `(conversation hash, seq, journal entry)` in append order); the lookup map is
/// brought up to date by the first lookup after appends, so a bot that never looks entries up
/// never pays for it (with 100,000 conversations a per-conversation map cost two allocations
/// and a lookup with cache misses per message). Keys that are not index keys are kept under
/// the whole key with seq [`u64::MAX`]. The hash only narrows the search: an entry is taken
/// from the journal by its full key.
struct IndexJournal {
    /// `(conversation hash, seq, journal entry)` of every entry in the journal, in append order.
    appended: Vec<(u64, u64, u64)>,
    /// `(conversation hash, seq)` → journal entry of `appended[..mapped]` (a later one wins).
    map: std::collections::HashMap<(u64, u64), u64>,
    mapped: usize,
    /// Hashes conversation IDs for `appended` (keys random per process).
    hasher: std::collections::hash_map::RandomState,
    /// Where journal entries `first_entry..` are in the files (entries are numbered in append
    /// order; those before `first_entry` are folded).
    entries: std::collections::VecDeque<journal::Location>,
    first_entry: u64,
    /// The journal files (generations are deleted once folded).
    journal: Journal,
    /// The sorted runs the journal was folded into, oldest first (see [`index_runs`]); only the
    /// compaction thread (and the open) adds or replaces runs.
    runs: Vec<std::sync::Arc<index_runs::Run>>,
    /// Number of the next fold's run.
    next_run: u64,
    /// The background compaction, while it runs.
    compaction: Option<std::thread::JoinHandle<()>>,
    /// When the next compaction may start.
    backoff: FoldBackoff,
}

impl IndexJournal {
    fn new(journal: Journal) -> IndexJournal {
        IndexJournal {
            appended: Vec::new(),
            map: Default::default(),
            mapped: 0,
            hasher: Default::default(),
            entries: Default::default(),
            first_entry: 0,
            journal,
            runs: Vec::new(),
            next_run: 1,
            compaction: None,
            backoff: FoldBackoff::default(),
        }
    }

    /// Forgets journal entries before `end` (folded).
    fn folded(&mut self, end: u64) {
        self.appended.retain(|&(_, _, n)| n >= end);
        let drained = usize::try_from(end.saturating_sub(self.first_entry)).unwrap_or(usize::MAX);
        self.entries.drain(..drained.min(self.entries.len()));
        self.first_entry = self.first_entry.max(end);
        // Rebuilt by the next lookup, over what is left.
        self.map.clear();
        self.mapped = 0;
    }
}

/// When a message-index compaction may start: at [`INDEX_JOURNAL_MAX`] entries, and after a
/// failed one only once the journal has doubled (so while sled keeps failing, bursts do not
/// each spawn a fold that reads the whole journal again; the entries stay found in the journal
/// meanwhile).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FoldBackoff {
    /// Journal entries at which the next compaction starts.
    at: usize,
}

impl Default for FoldBackoff {
    fn default() -> Self {
        FoldBackoff {
            at: INDEX_JOURNAL_MAX,
        }
    }
}

impl FoldBackoff {
    /// Whether a compaction of a journal of `entries` entries is due.
    fn due(&self, entries: usize) -> bool {
        entries >= self.at
    }

    /// A compaction of a journal of `entries` entries failed.
    fn failed(&mut self, entries: usize) {
        self.at = entries.max(INDEX_JOURNAL_MAX).saturating_mul(2);
    }

    /// A compaction succeeded.
    fn succeeded(&mut self) {
        *self = FoldBackoff::default();
    }
}

/// Keyed writes per sled batch of a background compaction (bounds its memory, and how long
/// one batch holds sled's process-wide write lock, which every write of the session waits on).
const FOLD_BATCH: usize = 128;

/// Applies one batch of a background compaction, then rests three times as long as it took:
/// the compaction takes at most a quarter of one core and leaves the write lock free between batches
/// (at 1,024 keys per batch without rests, a 32k-entry fold stalled the echo bench 0.3 s).
fn apply_paced(tree: &sled::Tree, batch: sled::Batch) -> Result<(), StoreError> {
    let started = std::time::Instant::now();
    tree.apply_batch(batch)?;
    std::thread::sleep(started.elapsed() * 3);
    Ok(())
}

fn idle(compaction: &Option<std::thread::JoinHandle<()>>) -> bool {
    compaction.as_ref().is_none_or(|h| h.is_finished())
}

/// A planned snapshot of the conversation rows (see [`Store::plan_snapshot`]).
struct Snapshot {
    /// Frames of the snapshot's generation file.
    chunks: Vec<Vec<u8>>,
    /// The generation it is written as: every older one is replaced by it.
    generation: u64,
    /// Its id in the cache's generations.
    id: u32,
    /// Rows too large to keep in memory: written keyed.
    keyed: Vec<(Box<str>, Box<[u8]>)>,
    /// Where the rows of `keyed` are in the cache: once the snapshot is written, those not
    /// changed since leave memory. Only these are visited then: a pass over every row (with
    /// 100,000 conversations ~30 MB of cache entries, a cache miss each) held the cache's lock
    /// for tens of milliseconds, stalling the engine's row writes.
    keyed_at: Vec<usize>,
    /// Keyed copies the snapshot supersedes.
    unkeyed: Vec<Box<str>>,
    /// Journal entries of an older store still in sled (schema 2), replaced by the snapshot.
    legacy: Option<std::ops::Range<u64>>,
}

/// Writes a snapshot: its generation file (synced), its large keyed rows (and sled flushed, as
/// the older generations hold those rows and the snapshot does not), then removes the keyed
/// copies it supersedes and an older store's sled journal entries. Returns the snapshot's file
/// if it was written (a valid generation even if a later step failed: it must then be kept, as
/// superseded keyed copies may be gone already) and whether every step succeeded (only then may
/// the older generations be deleted). A crash part-way leaves the older generations, replayed
/// at the next open before the (possibly partial) snapshot's: any row they hold is there in its
/// newest replaced version, which the keyed row (if any) also holds.
fn write_snapshot(
    db: &sled::Db,
    dir: &JournalDir,
    plan: &Snapshot,
    flush: &dyn Fn() -> Result<(), StoreError>,
) -> (Option<std::fs::File>, Result<(), StoreError>) {
    // One sequential file write: nothing shares a lock with the session's writes (the sled
    // batches of earlier versions were paced to leave sled's write lock free).
    let file = journal::write_generation(
        dir,
        ROWS_JOURNAL,
        plan.generation,
        plan.chunks.iter().map(|c| &c[..]),
    );
    match file {
        Ok(file) => (Some(file), write_snapshot_keyed(db, plan, flush)),
        Err(e) => (None, Err(e)),
    }
}

/// Writes large rows keyed, in paced batches (a cleaning's; then flushed by the caller).
fn write_keyed(db: &sled::Db, rows: &[(Box<str>, Box<[u8]>)]) -> Result<(), StoreError> {
    let tree = db.open_tree(trees::CONVERSATIONS)?;
    for rows in rows.chunks(FOLD_BATCH) {
        let mut batch = sled::Batch::default();
        for (key, row) in rows {
            batch.insert(key.as_bytes(), &**row);
        }
        apply_paced(&tree, batch)?;
    }
    Ok(())
}

/// The sled part of [`write_snapshot`], once its file is durable.
fn write_snapshot_keyed(
    db: &sled::Db,
    plan: &Snapshot,
    flush: &dyn Fn() -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    write_keyed(db, &plan.keyed)?;
    let tree = db.open_tree(trees::CONVERSATIONS)?;
    remove_paced(&tree, plan.unkeyed.iter().map(|k| k.as_bytes()))?;
    if let Some(legacy) = &plan.legacy {
        remove_journal(&tree, legacy.start, legacy.end)?;
    }
    if !plan.keyed.is_empty() || plan.legacy.is_some() {
        flush()?;
    }
    Ok(())
}

/// Removes journal entries `first..end` (after their keyed copies are written), oldest first, in
/// paced batches: one batch of a whole journal's keys held sled's write lock 60-80 ms (the
/// echo bench's tail). A crash part-way leaves the newest entries, which the next open replays
/// again over the same data.
fn remove_journal(tree: &sled::Tree, first: u64, end: u64) -> Result<(), StoreError> {
    remove_paced(tree, (first..end).map(journal_key))
}

/// Removes `keys` in paced batches of [`FOLD_BATCH`], in the order given.
fn remove_paced<K: AsRef<[u8]>>(
    tree: &sled::Tree,
    keys: impl IntoIterator<Item = K>,
) -> Result<(), StoreError> {
    let mut batch = sled::Batch::default();
    let mut pending = 0;
    for key in keys {
        batch.remove(key.as_ref());
        pending += 1;
        if pending == FOLD_BATCH {
            apply_paced(tree, std::mem::take(&mut batch))?;
            pending = 0;
        }
    }
    if pending > 0 {
        apply_paced(tree, batch)?;
    }
    Ok(())
}

/// Message-index entries one block record holds at most (see [`index_blocks`]).
#[cfg(test)]
const INDEX_BLOCK: usize = 128;

/// First byte of a block record's value (a single entry's value is JSON or starts below it).
const BLOCK_TAG: u8 = 0xB1;

/// Block records a lookup looks at, from the one starting nearest before the seq backwards,
/// before it gives up (more than one only when redelivered messages were indexed again, or
/// around an upgraded store's per-message entries). Any block holding the seq will do: a
/// message's entry never changes, so one indexed again has the same value. (Only a server whose
/// data was reset reuses a seq for another message, see `Engine::follow_a_reset_server`; a
/// lookup may then find the older message's entry, which only summaries read.)
const INDEX_SCAN_BACK: usize = 4;

/// Splits a message-index key `"<conversation>/<seq, 20 digits>"` into its two parts.
fn split_index_key(key: &[u8]) -> Option<(&[u8], u64)> {
    let slash = key.iter().rposition(|&b| b == b'/')?;
    let digits = &key[slash + 1..];
    if digits.len() != 20 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let seq = std::str::from_utf8(digits).ok()?.parse().ok()?;
    Some((&key[..slash], seq))
}

/// Folds message-index pairs into keyed records, as versions before schema 4 did (the stores
/// they wrote are read as the index's oldest tier; tests write such stores with it): the
/// entries of one conversation go into block
/// records of up to [`INDEX_BLOCK`] consecutive seqs, in seq order (a later pair for the same key wins),
/// keyed `"<conversation>/<first seq, 20 digits>~<fold id, 16 hex>"`. One sled key per block
/// instead of one per message is what makes the fold cheap (a fold of 32k entries from a few
/// conversations writes a few hundred keys). The fold id (unique per fold) keeps blocks of
/// messages indexed again (redelivered after a crash) from replacing older blocks that start
/// at the same seq. Pairs whose key is not an index key are kept as plain keyed entries.
#[cfg(test)]
fn index_blocks<'a>(
    pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
    fold_id: u64,
) -> Vec<(Vec<u8>, Vec<u8>)> {
    // One flat vector sorted by (conversation, seq, order of appearance) instead of a map of
    // per-conversation maps: when every entry is in a conversation of its own (100,000
    // conversations each touched once), the maps cost an allocation, a free and a rehash share
    // per entry, more than the keyed write itself.
    let mut entries: Vec<(&[u8], u64, &[u8])> = Vec::new();
    let mut out = Vec::new();
    for (key, value) in pairs {
        match split_index_key(key) {
            Some((conv, seq)) => entries.push((conv, seq, value)),
            None => out.push((key.to_vec(), value.to_vec())),
        }
    }
    // Stable: of the pairs for one key, the later one is last in its run.
    entries.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    entries.dedup_by(|later, earlier| {
        let same = (later.0, later.1) == (earlier.0, earlier.1);
        if same {
            earlier.2 = later.2; // a later pair for the same key wins
        }
        same
    });
    let suffix = format!("~{fold_id:016x}");
    // A block holds consecutive seqs of one conversation only: a hole that a later fold fills
    // must not leave this block's later seqs behind more than INDEX_SCAN_BACK of that fold's
    // blocks.
    let runs = entries.chunk_by(|a, b| a.0 == b.0 && b.1 == a.1 + 1);
    for block in runs.flat_map(|run| run.chunks(INDEX_BLOCK)) {
        let conv = block[0].0;
        let mut key = Vec::with_capacity(conv.len() + 21 + suffix.len());
        key.extend_from_slice(conv);
        key.extend_from_slice(&seq_digits(block[0].1));
        key.extend_from_slice(suffix.as_bytes());
        let mut value = Vec::with_capacity(1 + block.iter().map(|e| 12 + e.2.len()).sum::<usize>());
        value.push(BLOCK_TAG);
        for &(_, seq, v) in block {
            value.extend_from_slice(&seq.to_be_bytes());
            put_bytes(&mut value, v);
        }
        out.push((key, value));
    }
    // In key order each batch of a paced fold lands on a few neighbouring leaves (stable: of
    // two plain pairs with one key, the later stays later and wins in the batch).
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// `"/<seq, 20 digits>"`, the seq part of a message-index key (20 digits hold any u64).
fn seq_digits(seq: u64) -> [u8; 21] {
    let mut digits = [b'0'; 21];
    digits[0] = b'/';
    let mut rest = seq;
    for d in digits[1..].iter_mut().rev() {
        *d = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    digits
}

/// The value of `seq` in a block record (`None` for other values, or if the block lacks it).
fn block_entry(block: &[u8], seq: u64) -> Option<&[u8]> {
    let (&BLOCK_TAG, mut rest) = block.split_first()? else {
        return None;
    };
    while rest.len() >= 12 {
        let s = u64::from_be_bytes(rest[..8].try_into().ok()?);
        let len = usize::try_from(u32::from_be_bytes(rest[8..12].try_into().ok()?)).ok()?;
        // Checked: a corrupt length near u32::MAX must not overflow a 32-bit usize.
        let end = len.checked_add(12)?;
        let value = rest.get(12..end)?;
        if s == seq {
            return Some(value);
        }
        rest = &rest[end..];
    }
    None
}

/// A burst's message-index entries, already in the journal's encoding: the engine appends
/// each entry without allocating, and [`Store::put_message_index`] writes them as one journal
/// entry.
#[derive(Default)]
pub(crate) struct IndexBatch {
    /// Length-prefixed key and value of each entry (the journal entry's value).
    journal: Vec<u8>,
    /// Per entry: where its conversation ID starts in `journal`, its length, and the seq.
    keys: Vec<(u32, u32, u64)>,
}

impl IndexBatch {
    /// Appends the entry of message `seq` of `conv` (key `conversationID/seq`, 20 digits);
    /// `encode` appends the value.
    pub(crate) fn push(&mut self, conv: &str, seq: u64, encode: impl FnOnce(&mut Vec<u8>)) {
        let key_at = self.journal.len();
        self.journal.extend_from_slice(&[0; 4]);
        self.journal.extend_from_slice(conv.as_bytes());
        // "/{seq:020}" without the formatting machinery.
        self.journal.extend_from_slice(&seq_digits(seq));
        self.patch_len(key_at);
        let value_at = self.journal.len();
        self.journal.extend_from_slice(&[0; 4]);
        encode(&mut self.journal);
        self.patch_len(value_at);
        self.keys
            .push(((key_at + 4) as u32, conv.len() as u32, seq));
    }

    /// Appends an entry under any key (an index key's seq is recognised).
    #[cfg(test)]
    fn push_raw(&mut self, key: &str, value: &[u8]) {
        let at = self.journal.len() + 4;
        put_bytes(&mut self.journal, key.as_bytes());
        put_bytes(&mut self.journal, value);
        let (conv_len, seq) = split_index_key(key.as_bytes())
            .map_or((key.len(), u64::MAX), |(c, seq)| (c.len(), seq));
        self.keys.push((at as u32, conv_len as u32, seq));
    }

    /// Sets the u32 length prefix at `at` to the length of what follows it.
    fn patch_len(&mut self, at: usize) {
        let len = (self.journal.len() - at - 4) as u32;
        self.journal[at..at + 4].copy_from_slice(&len.to_be_bytes());
    }

    /// Drops the entries not written (keeps the buffers).
    pub(crate) fn clear(&mut self) {
        self.journal.clear();
        self.keys.clear();
    }

    /// Whether no entry was appended since the last write.
    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Writes the pairs of the index journal's generation files `files` as run `run_id` (see
/// [`index_runs`]), durable when this returns (the files may be deleted then). `None` if they
/// held no pair.
fn fold_index(
    files: &[(u64, std::sync::Arc<std::fs::File>)],
    dir: &JournalDir,
    run_id: u64,
) -> Result<Option<index_runs::Run>, StoreError> {
    let mut journal = Vec::new();
    for (generation, file) in files {
        let path = journal::generation_path(dir, INDEX_JOURNAL, *generation);
        journal::read_frames(
            file,
            |entry| {
                journal.push(entry.to_vec());
                Ok(())
            },
            &path,
        )?;
    }
    write_sorted_run(
        dir.path(),
        run_id,
        journal.iter().flat_map(|v| journal_pairs(v)),
    )
}

/// Writes `pairs` (in journal order) as run `run_id`: sorted by key, a later pair for a key
/// winning. One sequential file however many conversations the pairs belong to.
fn write_sorted_run<'a>(
    dir: &Path,
    run_id: u64,
    pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
) -> Result<Option<index_runs::Run>, StoreError> {
    let mut entries: Vec<(&[u8], &[u8])> = pairs.into_iter().collect();
    // Stable: of the pairs for one key, the later one is last in its run.
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries.dedup_by(|later, earlier| {
        let same = later.0 == earlier.0;
        if same {
            earlier.1 = later.1;
        }
        same
    });
    index_runs::write_run(dir, run_id, entries)
}

/// Merges the newest runs while a merge is due ([`index_runs::merge_due`]), on the compaction
/// thread after its fold: lookups read the inputs meanwhile; they are replaced by the merged
/// run under the lock, and their files deleted once it is durable. A failed merge is logged and
/// tried again after the next fold (the inputs stay and are found).
fn merge_runs(shared: &parking_lot::Mutex<IndexJournal>, dir: &Path) {
    loop {
        let inputs = {
            let index = shared.lock();
            match index_runs::merge_due(&index.runs) {
                Some(start) => index.runs[start..].to_vec(),
                None => return,
            }
        };
        match index_runs::merge(dir, &inputs) {
            Ok(merged) => {
                replace_runs(&mut shared.lock().runs, &inputs, merged);
                index_runs::delete_runs(&inputs);
            }
            Err(e) => {
                tracing::error!(error = %e, "message index merge failed");
                return;
            }
        }
    }
}

/// Replaces the (consecutive) runs `inputs` in `runs` by `merged`.
fn replace_runs(
    runs: &mut Vec<std::sync::Arc<index_runs::Run>>,
    inputs: &[std::sync::Arc<index_runs::Run>],
    merged: Option<index_runs::Run>,
) {
    let at = runs
        .iter()
        .position(|r| inputs.iter().any(|i| std::sync::Arc::ptr_eq(i, r)))
        .unwrap_or(runs.len());
    runs.retain(|r| !inputs.iter().any(|i| std::sync::Arc::ptr_eq(i, r)));
    if let Some(merged) = merged {
        runs.insert(at.min(runs.len()), std::sync::Arc::new(merged));
    }
}

/// Flushes sled for a background compaction in the order the delivery guarantee needs (see
/// [`Store::open`]): the journal files first, so that sled (the ledger's acks) is never durable
/// ahead of them.
struct OrderedFlush {
    db: sled::Db,
    rows: std::sync::Arc<parking_lot::Mutex<RowCache>>,
    index: std::sync::Arc<parking_lot::Mutex<IndexJournal>>,
    ledger: std::sync::Arc<LedgerFile>,
}

impl OrderedFlush {
    /// Must not run while the rows, index or ledger lock is held (it takes them).
    fn run(&self) -> Result<(), StoreError> {
        flush_in_order(&self.db, &self.rows, &self.index, &self.ledger)
    }
}

/// One sync round: takes the ledger's pending entries, syncs the row and index journal files,
/// then writes the taken entries to the ledger's file and syncs it (not at all if an earlier
/// step failed), then flushes sled. The ledger's file never holds an ack ahead of the rows and
/// index entries appended before it was persisted, not even unsynced (see [`LedgerFile`]); sled
/// (which older stores' acks and the runtime's trees live in) is never durable ahead of the
/// journals. A failure is recorded for the ledger, which ends the session with it (the entries
/// the round took are dropped: they only repeat messages after a restart), and every later round
/// fails with it at once, writing nothing (review-s11 L1). Returns Ok only once every ledger
/// entry pending at its start is durable. Not with the rows, index or ledger lock held (it takes
/// them).
fn flush_in_order(
    db: &sled::Db,
    rows: &parking_lot::Mutex<RowCache>,
    index: &parking_lot::Mutex<IndexJournal>,
    ledger: &LedgerFile,
) -> Result<(), StoreError> {
    let synced = {
        // Taken before the row and index jobs: every entry it holds was persisted after its
        // rows and index entries were appended, so these syncs cover them.
        let mut round = ledger.begin_round();
        let synced = match ledger.earlier_failure() {
            // After a failed sync the next one may report clean with the lost pages: the
            // entries taken (acks of messages whose rows may be in them) are dropped.
            Some(e) => Err(e),
            None => sync_journals(rows, index)
                .and_then(|()| round.write())
                .and_then(|()| sync_journal(ledger.journal(), |j| j)),
        };
        if let Err(e) = &synced {
            // Before the round ends: a round waiting for it (a durable ack's, whose entry
            // this one took) must not find it clean (review-s11 L2).
            ledger.round_failed(e);
        }
        synced
    };
    let flushed = synced.and_then(|()| {
        db.flush()?;
        Ok(())
    });
    match &flushed {
        Ok(()) => retire_cleaned(rows),
        Err(e) => ledger.round_failed(e),
    }
    flushed
}

/// Deletes the cleaned row-journal generation ([`RowCache::retiring`]) once the journal's
/// appends up to its cleaning are durable: every record superseding one of its records (a newer
/// write of the row, or the copy its cleaning carried forward) is then on disk, and large rows
/// its cleaning wrote keyed were flushed before it was marked. The files are deleted outside the
/// lock, oldest first and by one caller at a time, a file that cannot be deleted holding back
/// the newer ones until a later cleaning deletes it ([`Journal::begin_deleting`]: a newer one gone
/// while an older survives could roll a keyed row back at the next open). Their directory
/// entries go with the next sync (a power loss before that brings back the oldest ones, in
/// order).
///
/// [`Journal::begin_deleting`]: journal::Journal::begin_deleting
fn retire_cleaned(rows: &parking_lot::Mutex<RowCache>) {
    let paths = {
        let mut cache = rows.lock();
        let mut last = None;
        while let Some(retiring) = cache.retiring.front().copied()
            && retiring.through <= cache.journal.durable()
        {
            let Some(g) = cache.generations.front().copied() else {
                break;
            };
            if g.generation != retiring.generation || g.live > 0 {
                // A row counted back into it since (never expected): the next cleaning
                // carries it forward first. Later marks wait for it.
                cache.retiring.clear();
                cache.retiring_bytes = 0;
                break;
            }
            cache.retiring.pop_front();
            cache.generations.pop_front();
            cache.first_id += 1;
            cache.journal_bytes -= g.bytes;
            cache.retiring_bytes -= g.bytes;
            last = Some(g.generation);
        }
        // Only when a generation retires: a file that cannot be deleted is then tried again
        // once per cleaning (first, before the newer ones), not every round with a warning.
        let Some(last) = last else {
            return;
        };
        cache.journal.detach_below(last + 1);
        cache.journal.begin_deleting()
    };
    // Outside the lock (an unlink can take a while); one deleter at a time, in order.
    journal::delete_batches(paths, |left, deleted| {
        rows.lock().journal.end_deleting(left, deleted)
    });
}

/// Flushes sled alone: where nothing can have been appended yet (opening) or the caller holds
/// the rows lock (tests).
fn flush_sled(db: &sled::Db) -> impl Fn() -> Result<(), StoreError> + '_ {
    move || {
        db.flush()?;
        Ok(())
    }
}

/// Syncs what was appended to the journals (fdatasync outside the rows and index locks: the
/// engine keeps appending meanwhile). Both are synced even if one fails.
fn sync_journals(
    rows: &parking_lot::Mutex<RowCache>,
    index: &parking_lot::Mutex<IndexJournal>,
) -> Result<(), StoreError> {
    let rows_synced = sync_journal(rows, |r| &mut r.journal);
    let index_synced = sync_journal(index, |i| &mut i.journal);
    rows_synced.and(index_synced)
}

#[cfg(test)]
thread_local! {
    /// Tests: run by the next journal sync on this thread between taking its job and running
    /// it, where other threads' appends can fall.
    static WHILE_SYNCING: std::cell::RefCell<Option<Box<dyn FnOnce()>>> =
        const { std::cell::RefCell::new(None) };
}

/// Syncs the journal that `journal` finds in what `owner` guards; a failed sync's files stay due.
fn sync_journal<T>(
    owner: &parking_lot::Mutex<T>,
    journal: impl Fn(&mut T) -> &mut Journal,
) -> Result<(), StoreError> {
    let lock = journal(&mut owner.lock()).sync_lock();
    let _syncing = lock.lock();
    let job = journal(&mut owner.lock()).sync_job();
    #[cfg(test)]
    if let Some(appends) = WHILE_SYNCING.with(|hook| hook.borrow_mut().take()) {
        appends();
    }
    let synced = job.run();
    match &synced {
        Ok(()) => journal(&mut owner.lock()).synced(job.through()),
        Err(_) => journal(&mut owner.lock()).requeue(job),
    }
    synced
}

/// The journal syncer's thread and its stop flag: stopped and joined when the last handle on
/// the store goes, so that the syncer never holds the last database handle (sled's
/// flush-on-drop then ran on its thread: see [`Store::join_compactions`]) nor keeps the
/// directory locked after the store is gone.
#[derive(Default)]
struct Syncer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: parking_lot::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Syncer {
    /// Stops the thread (after its last sync) and waits for it.
    fn stop(&self) {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        if let Some(thread) = self.thread.lock().take() {
            thread.thread().unpark();
            if thread.join().is_err() {
                tracing::error!("the journal syncer panicked");
            }
        }
    }
}

impl Drop for Syncer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One round of the syncer ([`flush_in_order`]). A failure is logged; the ledger ends the
/// session with it at once (`Ledger::failed`, review-s10 R1, review-s11 L3). After a failure
/// no round runs: each would fail with it at once and log it every 100 ms meanwhile.
fn sync_round(
    rows: std::sync::Arc<parking_lot::Mutex<RowCache>>,
    index: std::sync::Arc<parking_lot::Mutex<IndexJournal>>,
    ledger: std::sync::Arc<LedgerFile>,
    db: &sled::Db,
) {
    if ledger.has_failed() {
        return;
    }
    if let Err(e) = flush_in_order(db, &rows, &index, &ledger) {
        tracing::error!(error = %e, "store sync round failed");
    }
}

/// Starts the thread that syncs the journal files, then flushes sled, every [`FLUSH_EVERY_MS`]
/// (the crash bound of the delivery guarantee; see [`Store::open`] for the order). It holds the
/// journals weakly; it ends, after a last sync, when the store's last handle goes.
fn spawn_syncer(store: &Store) -> Result<(), StoreError> {
    let rows = std::sync::Arc::downgrade(&store.rows);
    let index = std::sync::Arc::downgrade(&store.index);
    let ledger = std::sync::Arc::downgrade(&store.ledger);
    let db = store.db.clone();
    let stop = store._syncer.stop.clone();
    let thread = std::thread::Builder::new()
        .name("store-journal-sync".into())
        .spawn(move || {
            loop {
                std::thread::park_timeout(std::time::Duration::from_millis(FLUSH_EVERY_MS));
                let stopping = stop.load(std::sync::atomic::Ordering::Acquire);
                let (Some(rows), Some(index), Some(ledger)) =
                    (rows.upgrade(), index.upgrade(), ledger.upgrade())
                else {
                    return;
                };
                sync_round(rows, index, ledger, &db);
                if stopping {
                    return;
                }
            }
        })
        .map_err(|source| StoreError::Io {
            path: store.journal_dir.path().to_path_buf(),
            source,
        })?;
    *store._syncer.thread.lock() = Some(thread);
    Ok(())
}

/// What a conversation adds to the total unread count (SDK rule: visible conversations whose
/// recvMsgOpt is below 2).
fn unread_contribution(c: &Conversation) -> i32 {
    if c.recv_msg_opt < 2 && c.latest_msg_send_time > 0 {
        c.unread_count.max(0)
    } else {
        0
    }
}

/// Decodes a stored conversation row: binary (schema 2) or JSON (schema 1).
fn decode_row(key: &SharedStr, bytes: &[u8]) -> Result<Conversation, StoreError> {
    if bytes.first() == Some(&crate::model::row_codec::ROW_TAG) {
        return crate::model::row_codec::decode(key.clone(), bytes).ok_or_else(|| {
            StoreError::Corrupt {
                tree: trees::CONVERSATIONS.into(),
                key: key.into(),
                source: serde::de::Error::custom("malformed binary conversation row"),
            }
        });
    }
    serde_json::from_slice(bytes).map_err(|source| StoreError::Corrupt {
        tree: trees::CONVERSATIONS.into(),
        key: key.into(),
        source,
    })
}

fn encode_row(c: &Conversation) -> Box<[u8]> {
    let mut out = Vec::with_capacity(128);
    crate::model::row_codec::encode(c, &mut out);
    out.into_boxed_slice()
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

impl From<sled::Error> for crate::session::SessionError {
    fn from(e: sled::Error) -> Self {
        crate::session::SessionError::Store(StoreError::Sled(e))
    }
}

impl Store {
    /// Opens (or creates) the store in `dir`.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store, StoreError> {
        let db = sled::Config::new()
            .path(dir.as_ref().join("store"))
            // The crash bound of the delivery guarantee: what sled holds in memory reaches the
            // disk within FLUSH_EVERY_MS. Not by a flusher of sled's own: the journal syncer
            // flushes sled right after syncing the journal files, so that a flush never makes
            // sled (the ledger's acks) durable ahead of what the journals held at that moment.
            // Not a full guarantee after a power loss: a burst's rows and index entries are
            // appended when the burst ends, so acks of a long burst's first messages can be
            // flushed before them; the ledger's durable-acks path flushes sled itself; and sled
            // may write full buffers between flushes.
            .flush_every_ms(None)
            // The page cache keeps sled's default (1 GB upper bound, filled only by pages
            // actually touched). Measured with openim-bench: bounding it to 8, 32 or 128 MB made
            // the per-event cost with 100,000 conversations 1.5-2.5x higher (leaf pages evicted
            // and rebuilt) without lowering the memory row's peak, which comes from elsewhere.
            .open()?;
        // Opened after sled, whose lock on the directory keeps a second handle out of the
        // journal files too.
        let journal = JournalDir::at(&dir.as_ref().join("journal"))?;
        Self::init(db, journal)
    }

    /// Like [`Store::open`], but waits up to 5 s while another handle (a session still shutting
    /// down) holds the directory's lock.
    pub async fn open_waiting(dir: impl AsRef<Path>) -> Result<Store, StoreError> {
        let mut tries = 0;
        loop {
            match Self::open(dir.as_ref()) {
                Err(StoreError::Sled(sled::Error::Io(e)))
                    if tries < 50 && e.to_string().contains("could not acquire lock") =>
                {
                    tries += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                other => return other,
            }
        }
    }

    /// A throwaway store (tests): sled in memory, the journal files in a temporary directory
    /// removed with the store's last handle.
    pub fn temporary() -> Result<Store, StoreError> {
        let db = sled::Config::new().temporary(true).open()?;
        Self::init(db, JournalDir::temporary()?)
    }

    fn init(db: sled::Db, journal: JournalDir) -> Result<Store, StoreError> {
        let store = Store {
            _syncer: Default::default(),
            db,
            rows: std::sync::Arc::new(parking_lot::Mutex::new(RowCache::new(Journal::closed(
                &journal,
                ROWS_JOURNAL,
            )))),
            index: std::sync::Arc::new(parking_lot::Mutex::new(IndexJournal::new(
                Journal::closed(&journal, INDEX_JOURNAL),
            ))),
            ledger: std::sync::Arc::new(LedgerFile::new(Journal::closed(&journal, LEDGER_JOURNAL))),
            journal_dir: journal.clone(),
        };
        let meta = store.db.open_tree(trees::META)?;
        // A fresh store (no version) is recorded below, as is a migrated one.
        if let Some(v) = meta.get("schema")? {
            let found = std::str::from_utf8(&v)
                .ok()
                .and_then(|s| s.parse::<u32>().ok())
                .unwrap_or(0);
            match found {
                SCHEMA_VERSION => {}
                1 => store.migrate_rows_to_binary()?,
                // Migrated below: its journals are taken over from sled.
                2 => {}
                // Nothing to migrate: its index block records stay the oldest tier.
                3 => {}
                // Migrated below: the ledger's journal is taken over from sled.
                4 => {}
                // Nothing to migrate: its ledger entries replay as they are, and the
                // ledger's next compaction rewrites them ([`crate::ledger`]).
                5 => {}
                _ => return Err(StoreError::Schema { found }),
            }
        }
        {
            let mut rows = store.rows.lock();
            let legacy = store.load_rows(&mut rows, &journal)?;
            if let Some(legacy) = legacy {
                // Schema 2 (or a migration a crash interrupted): the sled journal entries,
                // older than any file, are taken into a snapshot file, then removed.
                let plan = Self::plan_snapshot(&mut rows, Some(legacy));
                let (file, result) =
                    write_snapshot(&store.db, &journal, &plan, &flush_sled(&store.db));
                let failed = result.as_ref().err().map(ToString::to_string);
                Self::snapshot_done(&mut rows, &plan, file, result);
                if let Some(e) = failed {
                    // Not opened half-migrated: the next open takes the journal over again.
                    return Err(StoreError::Io {
                        path: journal.path().to_path_buf(),
                        source: std::io::Error::other(format!(
                            "taking over the schema-2 row journal: {e}"
                        )),
                    });
                }
            }
        }
        // The index journal left by the last run (a crash, or the tail since the last fold) is
        // folded now, with an older store's journal entries in sled.
        *store.index.lock() = Self::open_index(&store.db, &journal)?;
        // The ledger's watermarks of a store before schema 5 (or of a migration a crash
        // interrupted): written into a ledger journal file (synced), then removed from sled.
        // Taken over whatever the schema says, so that none is left behind in sled.
        let ledger_tree = store.db.open_tree(trees::LEDGER)?;
        if !ledger_tree.is_empty() {
            // The snapshot it writes is durable at once: the rows and index entries of the
            // messages it acknowledges (replayed above, maybe never synced) go to disk first.
            sync_journals(&store.rows, &store.index)?;
            crate::ledger::take_over_sled(&ledger_tree, &journal)?;
            store.db.flush()?;
        }
        // Only once the journals are out of sled (and that is durable): an interrupted
        // migration is done again at the next open.
        if meta.get("schema")?.as_deref() != Some(SCHEMA_VERSION.to_string().as_bytes()) {
            store.db.flush()?;
            meta.insert("schema", SCHEMA_VERSION.to_string().as_bytes())?;
            // On disk before this version writes what an older one would misread (the ledger's
            // slot-format entries, which a sync round syncs before it flushes sled): after a
            // crash an older binary finds this version and refuses the store.
            store.db.flush()?;
        }
        spawn_syncer(&store)?;
        Ok(store)
    }

    /// Schema 1 → 2: JSON conversation rows are rewritten as binary rows (one atomic batch).
    fn migrate_rows_to_binary(&self) -> Result<(), StoreError> {
        let tree = self.db.open_tree(trees::CONVERSATIONS)?;
        let mut batch = sled::Batch::default();
        let mut n = 0usize;
        for item in tree.iter() {
            let (k, v) = item?;
            if journal_number(&k).is_some() || v.first() == Some(&crate::model::row_codec::ROW_TAG)
            {
                continue;
            }
            let key = SharedStr::from(String::from_utf8_lossy(&k));
            match decode_row(&key, &v) {
                Ok(c) => {
                    batch.insert(k, &*encode_row(&c));
                    n += 1;
                }
                // Left as it is: reading it reports the typed error, as before.
                Err(e) => tracing::warn!(error = %e, "conversation row not migrated"),
            }
        }
        tree.apply_batch(batch)?;
        tracing::debug!(rows = n, "conversation rows migrated to schema 2");
        Ok(())
    }

    /// Loads every conversation row: the keyed rows, then the journal in order over them (an
    /// older store's entries in sled first, then the files; the newest version of a row wins).
    /// Returns the range of sled journal entries found (to be taken over into a file).
    fn load_rows(
        &self,
        cache: &mut RowCache,
        dir: &JournalDir,
    ) -> Result<Option<std::ops::Range<u64>>, StoreError> {
        let tree = self.db.open_tree(trees::CONVERSATIONS)?;
        let (mut first, mut last) = (None, None);
        for item in tree.iter() {
            let (k, v) = item?;
            let Some(n) = journal_number(&k) else {
                // Keyed rows sort before the journal. One that does not decode stays keyed
                // (left out of snapshots, no unread): reading it reports the typed error, and
                // the store still opens (a schema-1 row the migration could not convert).
                let key = String::from_utf8_lossy(&k);
                if let Err(e) = Self::cache_keyed_row(cache, &key, &v) {
                    tracing::warn!(error = %e, "conversation row unreadable");
                    cache.set_keyed(&key, 0);
                }
                continue;
            };
            first.get_or_insert(n);
            last = Some(n);
            Self::replay_rows(cache, &v, None);
        }
        cache.journal = Journal::open(dir, ROWS_JOURNAL, |location, entry| {
            Self::replay_rows(cache, entry, Some(location));
            Ok(())
        })?;
        Ok(first.zip(last).map(|(first, last)| first..last + 1))
    }

    /// Applies a journal entry's rows to the cache (a truncated entry keeps its whole pairs);
    /// `location`: where it is in the files (`None` for an older store's entry in sled).
    fn replay_rows(cache: &mut RowCache, entry: &[u8], location: Option<journal::Location>) {
        let mut rows = std::mem::take(&mut cache.entry_rows);
        rows.clear();
        for (key, row) in journal_pairs(entry) {
            let at = cache.find_or_add(&String::from_utf8_lossy(key), RowHint::NONE, None);
            // The row shares the cache's key.
            let key = cache.rows[at as usize].key.clone();
            // A row that does not decode is kept as it is: reading it reports the error.
            let decoded = decode_row(&key, row).ok();
            cache.set(&key, RowHint(at), row, decoded.as_ref(), true);
            rows.push(at);
        }
        match location {
            Some(location) => {
                cache.appended(location, &rows);
            }
            None => rows.iter().for_each(|&at| cache.moved(at as usize, 0)),
        }
        cache.entry_rows = rows;
    }

    /// Plans a snapshot: every row kept in memory goes into frames of [`SNAPSHOT_CHUNK`] bytes
    /// of a new journal generation (numbered now: appends go to the one after it), large rows
    /// into the keyed tree, and the keyed copies of the other rows and older generations are
    /// removed once it is written. `legacy`: an older store's sled journal entries it replaces.
    /// Only for taking over such a store at open (the journal is cleaned a generation at a time
    /// otherwise, see [`Store::start_cleaning`]), and in tests.
    fn plan_snapshot(cache: &mut RowCache, legacy: Option<std::ops::Range<u64>>) -> Snapshot {
        let mut plan = Self::begin_snapshot(cache, legacy);
        let mut next = 0;
        while let Some(at) = Self::copy_rows(cache, &mut plan, next) {
            next = at;
        }
        plan
    }

    /// A snapshot with no rows yet, numbered now (appends go to the generation after it); its
    /// rows are copied by [`Store::copy_rows`].
    fn begin_snapshot(cache: &mut RowCache, legacy: Option<std::ops::Range<u64>>) -> Snapshot {
        let generation = cache.journal.reserve_generation();
        Snapshot {
            chunks: Vec::new(),
            generation,
            id: cache.generation_id(generation),
            keyed: Vec::new(),
            keyed_at: Vec::new(),
            unkeyed: Vec::new(),
            legacy,
        }
    }

    /// Copies rows into `plan` from the one at `from` until a frame of [`SNAPSHOT_CHUNK`] bytes
    /// is full; returns the row to go on from, or `None` once every row is in.
    ///
    /// A row that changed since the snapshot was numbered is copied in its newer version,
    /// which is also in a later generation (appended before the cache lock is let go, or its
    /// append failed, and then the snapshot writes it as the next snapshot would): the replay
    /// ends with the same rows.
    fn copy_rows(cache: &mut RowCache, plan: &mut Snapshot, from: usize) -> Option<usize> {
        if plan.chunks.last().is_none_or(|c| c.len() >= SNAPSHOT_CHUNK) {
            plan.chunks.push(Vec::with_capacity(SNAPSHOT_CHUNK + 1024));
        }
        let chunk = plan.chunks.last_mut()?;
        let mut seen = 0usize;
        for at in from..cache.rows.len() {
            // Rows live apart from one another: the one a few ahead is fetched meanwhile.
            if let Some(ahead) = cache.rows.get(at + COPY_AHEAD) {
                seen = seen.wrapping_add(touch_row(ahead));
            }
            let row = &mut cache.rows[at];
            row.journaled = false;
            let Some(bytes) = &row.bytes else {
                continue; // in the keyed tree
            };
            if bytes.len() > ROW_KEEP_MAX {
                plan.keyed.push((Box::from(&*row.key), bytes.clone()));
                plan.keyed_at.push(at);
                row.keyed = true;
                cache.moved(at, 0);
                continue;
            }
            put_bytes(chunk, row.key.as_bytes());
            put_bytes(chunk, bytes);
            if std::mem::take(&mut row.keyed) {
                plan.unkeyed.push(Box::from(&*row.key));
            }
            cache.moved(at, plan.id);
            if chunk.len() >= SNAPSHOT_CHUNK {
                std::hint::black_box(seen);
                return Some(at + 1);
            }
        }
        std::hint::black_box(seen);
        if chunk.is_empty() {
            plan.chunks.pop();
        }
        None
    }

    /// After a snapshot is written: the generations before it are deleted, and large rows
    /// unchanged since it was planned leave memory.
    fn snapshot_done(
        cache: &mut RowCache,
        plan: &Snapshot,
        file: Option<std::fs::File>,
        result: Result<(), StoreError>,
    ) {
        // Taken in even if a later step failed (see `write_snapshot`): the next snapshot
        // deletes it with the other older generations.
        let written = file.is_some();
        if let Some(file) = file {
            cache.journal.adopt(plan.generation, file);
            let bytes = plan.chunks.iter().map(|c| c.len() + 8).sum();
            if let Some(g) = cache.stat_mut(plan.id) {
                g.bytes = bytes;
            }
            cache.journal_bytes += bytes;
        } else {
            // Its rows' records are where they were: counted in the oldest generation, they
            // are carried forward by the next cleaning (no file of theirs is deleted first).
            let oldest = cache.first_id;
            for at in 0..cache.rows.len() {
                if cache.rows[at].generation == plan.id {
                    cache.moved(at, oldest);
                }
            }
        }
        match result {
            Ok(()) if written => {
                while let Some(g) = cache.generations.front().copied()
                    && g.generation < plan.generation
                {
                    cache.generations.pop_front();
                    cache.first_id += 1;
                    cache.journal_bytes -= g.bytes;
                }
                // Cleaned ones among them: gone with them.
                cache.retiring.clear();
                cache.retiring_bytes = 0;
                cache.journal.remove_below(plan.generation);
                // A large row not in `keyed_at` was changed after it was copied (it is
                // journaled), or added after: it stays, as it would have before.
                cache.release_keyed(&plan.keyed_at);
            }
            Ok(()) => {}
            Err(e) => {
                // The older generations stay, cleaned as any.
                tracing::error!(error = %e, "conversation row snapshot failed");
            }
        }
    }

    /// Writes a snapshot now (tests).
    #[cfg(test)]
    fn snapshot_rows(&self, cache: &mut RowCache) -> Result<(), StoreError> {
        let plan = Self::plan_snapshot(cache, None);
        let (file, result) =
            write_snapshot(&self.db, cache.journal.dir(), &plan, &flush_sled(&self.db));
        Self::snapshot_done(cache, &plan, file, result);
        Ok(())
    }

    /// Opens the message index: its runs (see [`index_runs::open_runs`]), and its journal,
    /// whose entries are folded into a new run with an older store's journal entries in sled
    /// (those are removed once the run is durable, then the journal files deleted). Due merges
    /// are done now.
    fn open_index(db: &sled::Db, dir: &JournalDir) -> Result<IndexJournal, StoreError> {
        let (mut runs, mut next_run) = index_runs::open_runs(dir.path())?;
        let tree = db.open_tree(trees::MESSAGES)?;
        let mut legacy = sled::Batch::default();
        let mut has_legacy = false;
        let mut entries = Vec::new();
        for item in tree.range(&[JOURNAL][..]..) {
            let (k, v) = item?;
            if journal_number(&k).is_none() {
                continue;
            }
            entries.push(v.to_vec());
            legacy.remove(k);
            has_legacy = true;
        }
        let mut journal = Journal::open(dir, INDEX_JOURNAL, |_, entry| {
            entries.push(entry.to_vec());
            Ok(())
        })?;
        if !entries.is_empty() {
            let run = write_sorted_run(
                dir.path(),
                next_run,
                entries.iter().flat_map(|v| journal_pairs(v)),
            )?;
            next_run += 1;
            runs.extend(run.map(std::sync::Arc::new));
            if has_legacy {
                tree.apply_batch(legacy)?;
                db.flush()?;
            }
        }
        let end = journal.end_generation();
        journal.remove_below(end + 1);
        let mut index = IndexJournal::new(journal);
        index.runs = runs;
        index.next_run = next_run;
        // The runs due are merged at open (nothing else reads them yet). A failure is logged,
        // not an error: the runs stay readable and the merge is tried again after a fold.
        let index = parking_lot::Mutex::new(index);
        merge_runs(&index, dir.path());
        Ok(index.into_inner())
    }

    /// A named key-value tree for the runtime's own state (prefixed `user:` internally, so it
    /// never collides with the session's trees).
    pub fn tree(&self, name: &str) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(format!("user:{name}"))?)
    }

    pub(crate) fn raw_tree(&self, name: &str) -> Result<sled::Tree, StoreError> {
        Ok(self.db.open_tree(name)?)
    }

    /// Writes everything to disk. After a failed flush (or sync of the store's background
    /// syncer) every later one fails with the same error: after a failed fdatasync the next one
    /// may report clean with the data lost, so nothing written since can be trusted durable;
    /// open the store again.
    pub fn flush(&self) -> Result<(), StoreError> {
        flush_in_order(&self.db, &self.rows, &self.index, &self.ledger)
    }

    /// The directory of the journal files.
    pub(crate) fn journal_dir(&self) -> &JournalDir {
        &self.journal_dir
    }

    /// The delivery ledger's journal and pending entries (the journal is closed until
    /// [`Store::install_ledger_journal`]).
    pub(crate) fn ledger_file(&self) -> &LedgerFile {
        &self.ledger
    }

    /// The first failed sync round (the syncer's, [`Store::flush`], a compaction's), once
    /// (see [`flush_in_order`]).
    pub(crate) fn take_sync_failure(&self) -> Option<StoreError> {
        self.ledger.take_failure()
    }

    /// Runs one round of the syncer now, on this thread (tests).
    #[cfg(test)]
    pub(crate) fn sync_round_now(&self) {
        sync_round(
            self.rows.clone(),
            self.index.clone(),
            self.ledger.clone(),
            &self.db,
        );
    }

    /// Installs the ledger's opened journal (see [`crate::ledger::Ledger::open`]). One ledger
    /// per store; a later open's journal replaces the earlier one. The earlier one's files not
    /// synced yet need no requeue: the new journal replayed every file still present and its
    /// first sync covers them all ([`Journal::open`]).
    pub(crate) fn install_ledger_journal(&self, journal: Journal) {
        *self.ledger.journal().lock() = journal;
    }

    /// Waits for the background journal compactions started so far (blocking).
    ///
    /// Called at session shutdown, before the database handle goes: a compaction thread that
    /// outlives it drops the last tree handle itself, and sled's flush-on-drop then waits on a
    /// process-wide lock that another session's batch may be queued on (a deadlock seen in the
    /// bench, where sessions follow each other in one process).
    pub(crate) fn join_compactions(&self) {
        let rows = self.rows.lock().compaction.take();
        let index = self.index.lock().compaction.take();
        for handle in rows.into_iter().chain(index) {
            if handle.join().is_err() {
                tracing::error!("a journal compaction thread panicked");
            }
        }
    }

    pub(crate) fn get<T: DeserializeOwned>(
        &self,
        tree: &str,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let t = self.db.open_tree(tree)?;
        match t.get(key)? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|source| StoreError::Corrupt {
                    tree: tree.into(),
                    key: key.into(),
                    source,
                }),
        }
    }

    pub(crate) fn put<T: Serialize>(
        &self,
        tree: &str,
        key: &str,
        value: &T,
    ) -> Result<(), StoreError> {
        let t = self.db.open_tree(tree)?;
        let bytes = serde_json::to_vec(value).map_err(|source| StoreError::Corrupt {
            tree: tree.into(),
            key: key.into(),
            source,
        })?;
        t.insert(key, bytes)?;
        Ok(())
    }

    // Relation writes now go through `version::Commit`; kept for single-row removals.
    #[allow(dead_code)]
    pub(crate) fn remove(&self, tree: &str, key: &str) -> Result<(), StoreError> {
        self.db.open_tree(tree)?.remove(key)?;
        Ok(())
    }

    pub(crate) fn list<T: DeserializeOwned>(
        &self,
        tree: &str,
        prefix: &str,
    ) -> Result<Vec<T>, StoreError> {
        let t = self.db.open_tree(tree)?;
        let mut out = Vec::new();
        for item in t.scan_prefix(prefix) {
            let (k, v) = item?;
            let value = serde_json::from_slice(&v).map_err(|source| StoreError::Corrupt {
                tree: tree.into(),
                key: String::from_utf8_lossy(&k).into_owned(),
                source,
            })?;
            out.push(value);
        }
        Ok(out)
    }

    /// The bot's own profile, once synced.
    pub fn self_info(&self) -> Result<Option<UserInfo>, StoreError> {
        self.get(trees::META, "self")
    }

    /// All known conversations (in key order).
    pub fn conversations(&self) -> Result<Vec<Conversation>, StoreError> {
        let cache = self.rows.lock();
        let mut rows: Vec<&CachedRow> = cache.rows.iter().collect();
        rows.sort_unstable_by(|a, b| a.key.cmp(&b.key));
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            if let Some(c) = self.cached_row(row, |_| true)? {
                out.push(c);
            }
        }
        Ok(out)
    }

    /// One conversation.
    pub fn conversation(&self, conversation_id: &str) -> Result<Option<Conversation>, StoreError> {
        let mut hint = RowHint::NONE;
        self.conversation_to_update(conversation_id, &mut hint, |_| true)
    }

    /// One conversation, found through `hint` if it is right; `hint` is set to the row's
    /// position (see [`RowHint`]).
    #[cfg(test)]
    pub(crate) fn conversation_hinted(
        &self,
        conversation_id: &str,
        hint: &mut RowHint,
    ) -> Result<Option<Conversation>, StoreError> {
        self.conversation_to_update(conversation_id, hint, |_| true)
    }

    /// One conversation (a copy sharing the cached row's strings), found through `hint` if it
    /// is right; `hint` is set to the row's position (see [`RowHint`]). Its latest message is
    /// decoded only if `latest(row)` (a caller about to replace it does without).
    pub(crate) fn conversation_to_update(
        &self,
        conversation_id: &str,
        hint: &mut RowHint,
        latest: impl FnOnce(&Conversation) -> bool,
    ) -> Result<Option<Conversation>, StoreError> {
        let cache = self.rows.lock();
        match cache.find(conversation_id, *hint) {
            Some(at) => {
                *hint = RowHint(at);
                self.cached_row(&cache.rows[at as usize], latest)
            }
            None => Ok(None),
        }
    }

    /// The row behind a cache entry (read from the keyed tree if it was too large to keep),
    /// with its latest message if `latest(row)`.
    fn cached_row(
        &self,
        row: &CachedRow,
        latest: impl FnOnce(&Conversation) -> bool,
    ) -> Result<Option<Conversation>, StoreError> {
        match (&row.decoded, &row.bytes) {
            (Some(c), Some(bytes)) => {
                let mut out = c.to_conversation(row.key.clone());
                if latest(&out) {
                    // The cache keeps the latest message in the binary row only.
                    out.latest_msg = decode_row(&row.key, bytes)?.latest_msg;
                }
                Ok(Some(out))
            }
            // Bytes that do not decode: the error (a decoded row always has its bytes).
            (_, Some(bytes)) => decode_row(&row.key, bytes).map(Some),
            (_, None) => match self.db.open_tree(trees::CONVERSATIONS)?.get(&*row.key)? {
                None => Ok(None),
                Some(v) => decode_row(&row.key, &v).map(Some),
            },
        }
    }

    /// Caches a row read from the keyed tree.
    fn cache_keyed_row(cache: &mut RowCache, key: &str, stored: &[u8]) -> Result<(), StoreError> {
        let c = decode_row(&SharedStr::from(key), stored)?;
        let encoded;
        let bytes = if stored.first() == Some(&crate::model::row_codec::ROW_TAG) {
            stored
        } else {
            encoded = encode_row(&c);
            &encoded
        };
        if bytes.len() > ROW_KEEP_MAX {
            cache.set_keyed(key, unread_contribution(&c));
        } else {
            cache.set(key, RowHint::NONE, bytes, Some(&c), false);
        }
        Ok(())
    }

    /// Writes a conversation row and keeps the cached unread total in step.
    pub(crate) fn put_conversation(&self, key: &str, c: &Conversation) -> Result<(), StoreError> {
        self.journal_rows([(key, RowHint::NONE, c)], None)
    }

    /// Writes several conversation rows (keyed by their conversation ID) as one journal entry
    /// and keeps the cached unread total in step: a burst of messages costs one append.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn put_conversations<'a>(
        &self,
        rows: impl IntoIterator<Item = &'a Conversation, IntoIter: Clone>,
    ) -> Result<(), StoreError> {
        self.journal_rows(
            rows.into_iter()
                .map(|c| (c.conversation_id.as_str(), RowHint::NONE, c)),
            None,
        )
    }

    /// Like [`Store::put_conversations`], each row found through its [`RowHint`] if right;
    /// `placed` is set to the rows' positions, in order (the hints for their next reads and
    /// writes: a conversation first written here is found without a lookup the next time).
    pub(crate) fn put_conversations_hinted<'a>(
        &self,
        rows: impl IntoIterator<Item = (RowHint, &'a Conversation), IntoIter: Clone>,
        placed: &mut Vec<RowHint>,
    ) -> Result<(), StoreError> {
        placed.clear();
        self.journal_rows(
            rows.into_iter()
                .map(|(hint, c)| (c.conversation_id.as_str(), hint, c)),
            Some(placed),
        )
    }

    /// Appends `rows` as one journal entry, after updating the cache and the unread total.
    ///
    /// The cache moves first: if the append fails, reads (and the total) already show the new
    /// rows though they are not on disk. They stay counted in the generation of their previous
    /// record, so the cleaning of that generation writes them (and a later append of the same
    /// row does too); a row with no journal record (new, or kept keyed) is written only by its
    /// next append (review-s13). A crash before either loses them, as a crash within sled's
    /// flush interval does. The error goes to the caller.
    fn journal_rows<'a>(
        &self,
        rows: impl IntoIterator<Item = (&'a str, RowHint, &'a Conversation), IntoIter: Clone>,
        mut placed: Option<&mut Vec<RowHint>>,
    ) -> Result<(), StoreError> {
        let mut guard = self.rows.lock();
        let cache = &mut *guard;
        let rows = rows.into_iter();
        // What writing the rows reads is fetched first: with many conversations the rows
        // (read at the burst's start, long ago) are out of the near caches again, and these
        // reads are independent of one another, so their misses overlap here where the
        // writes took them one after another.
        let mut seen = 0usize;
        for (_, hint, _) in rows.clone() {
            if let Some(row) = cache.rows.get(hint.0 as usize) {
                seen = seen.wrapping_add(touch_for_write(row));
            }
        }
        std::hint::black_box(seen);
        let mut entry = std::mem::take(&mut cache.entry);
        entry.clear();
        let mut written = std::mem::take(&mut cache.entry_rows);
        written.clear();
        // Sized for typical rows up front: a burst's entry grows without a string of
        // reallocations (each large one made glibc consolidate its free lists).
        entry.reserve(rows.size_hint().0 * 256);
        for (key, hint, c) in rows {
            // Encoded in place, then copied into the cached row (in its old allocation when
            // the length is unchanged, as it mostly is) with a copy of the row sharing its
            // strings. Its start (IDs, names) is copied from the cached binary row when the
            // row has the cached row's strings there (it was read from here): they are not
            // read (each a cache miss with many conversations).
            let row = cache.find_or_add(key, hint, Some(&c.conversation_id));
            put_bytes(&mut entry, key.as_bytes());
            let cached = &cache.rows[row as usize];
            let prefix = match (&cached.decoded, &cached.bytes) {
                (Some(fields), Some(bytes)) if fields.same_prefix(c) => {
                    crate::model::row_codec::Prefix::of(bytes)
                }
                _ => None,
            };
            let len = put_encoded(&mut entry, c, prefix.as_ref());
            let bytes = &entry[entry.len() - len..];
            cache.set_at(row, bytes, Some(c), true);
            written.push(row);
            if let Some(placed) = placed.as_deref_mut() {
                placed.push(RowHint(row));
            }
        }
        if entry.is_empty() {
            cache.entry = entry;
            cache.entry_rows = written;
            return Ok(());
        }
        #[cfg(test)]
        if cache.fail_appends {
            cache.entry = entry;
            cache.entry_rows = written;
            return Err(StoreError::Io {
                path: self.journal_dir.path().to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::StorageFull, "injected"),
            });
        }
        let appended = cache.journal.append(&entry);
        if entry.capacity() <= ENTRY_KEEP_MAX {
            cache.entry = entry;
        }
        let location = match appended {
            Ok(location) => location,
            Err(e) => {
                cache.entry_rows = written;
                return Err(e);
            }
        };
        cache.appended(location, &written);
        if written.capacity() <= ENTRY_KEEP_MAX {
            cache.entry_rows = written;
        }
        cache.roll(location);
        if cache.cleaning_due() {
            self.start_cleaning(cache);
        }
        Ok(())
    }

    /// Makes the conversation rows' journal appends fail from now on (tests).
    #[cfg(test)]
    pub(crate) fn fail_row_appends(&self) {
        self.rows.lock().fail_appends = true;
    }

    /// Starts fetching the cache entries at `hints` (the rows' own lines): the engine calls it
    /// for a burst's conversations before handling them, so that the cache misses of rows last
    /// touched long ago (with many conversations, nearly every row) are in flight together,
    /// where reading the rows one by one took them one after another. Then
    /// [`Store::warm_rows`] fetches what the rows point to.
    pub(crate) fn prefetch_rows(&self, hints: impl IntoIterator<Item = RowHint>) {
        let cache = self.rows.lock();
        for hint in hints {
            if let Some(row) = cache.rows.get(hint.0 as usize) {
                prefetch::value(row);
            }
        }
    }

    /// Starts fetching what the rows at `hints` point to and a read or write of them uses
    /// (see [`Store::prefetch_rows`]): their keys, shared strings and binary rows. Reads the
    /// rows' lines, so it comes a while after [`Store::prefetch_rows`] of the same rows.
    pub(crate) fn warm_rows(&self, hints: impl IntoIterator<Item = RowHint>) {
        let cache = self.rows.lock();
        for hint in hints {
            if let Some(row) = cache.rows.get(hint.0 as usize) {
                prefetch_row_data(row);
            }
        }
    }

    /// Cleans the conversation journal's oldest generation: once every row whose latest record
    /// is in it has a newer one in a later generation, it is garbage, deleted by the sync round
    /// that makes those newer records durable ([`retire_cleaned`]). When every row was written
    /// again since (rows updated in turn, as with many conversations each touched once in a
    /// while; or a few hot rows), that is all; otherwise a thread of its own carries its current
    /// rows forward first ([`Store::clean_generation`]). Always the oldest: replay applies the
    /// generations in order, the newer record winning, and a record older than a row's latest
    /// is simply dropped with its file.
    fn start_cleaning(&self, cache: &mut RowCache) {
        // (The one appended to when it is the only generation left: the rows shrank.)
        let Some((id, oldest)) = cache.begin_cleaning() else {
            return;
        };
        if oldest.live == 0 {
            cache.cleaned(oldest);
            return;
        }
        let db = self.db.clone();
        // (A temporary store's directory stays until the cleaning is done.)
        let dir = self.journal_dir.clone();
        let shared = self.rows.clone();
        let flush = self.ordered_flush();
        cache.compaction = Some(std::thread::spawn(move || {
            let _kept = &dir;
            Self::clean_generation(&shared, &db, &|| flush.run(), id, oldest.generation, None);
        }));
    }

    /// Carries the rows whose latest record is in generation `id` (number `generation`, the
    /// oldest) forward, then marks it for deletion ([`RowCache::retiring`]): small rows are
    /// appended to the journal as ordinary entries, a frame of [`SNAPSHOT_CHUNK`] bytes at a
    /// time under the cache's lock (let go between frames, as the snapshots' copy did: the
    /// session's writes go on meanwhile, and a row they write no longer needs carrying); rows
    /// too large to keep in memory are written keyed and sled is flushed (in the store's sync
    /// order) before the mark, then leave memory unless written since. On a failure nothing is
    /// marked: rows not carried stay counted in the generation, which stays, and the next
    /// cleaning waits until the journal has doubled. `chunks` (tests): stop after that many
    /// frames, as a crash there would.
    fn clean_generation(
        shared: &parking_lot::Mutex<RowCache>,
        db: &sled::Db,
        flush: &dyn Fn() -> Result<(), StoreError>,
        id: u32,
        generation: u64,
        chunks: Option<usize>,
    ) {
        let mut next = 0;
        let mut keyed = Vec::new();
        let mut keyed_at = Vec::new();
        let mut done = 0;
        let failed = |cache: &mut RowCache, keyed_at: &[usize], e: &StoreError| {
            tracing::error!(error = %e, "conversation row journal cleaning failed");
            // Large rows not written keyed: counted back where their record is.
            for &at in keyed_at {
                if cache
                    .rows
                    .get(at)
                    .is_some_and(|r| r.generation == 0 && !r.journaled)
                {
                    cache.moved(at, id);
                }
            }
            cache.clean_after = cache.journal_bytes.saturating_mul(2);
        };
        loop {
            if chunks.is_some_and(|n| done == n) {
                return;
            }
            let mut cache = shared.lock();
            let carried = Self::carry_rows(&mut cache, id, next, &mut keyed, &mut keyed_at);
            done += 1;
            match carried {
                Ok(Some(at)) => next = at,
                Ok(None) => break,
                Err(e) => {
                    failed(&mut cache, &keyed_at, &e);
                    return;
                }
            }
            // Handed to a waiting writer rather than taken again at once.
            parking_lot::MutexGuard::unlock_fair(cache);
        }
        if !keyed.is_empty() {
            let written = write_keyed(db, &keyed).and_then(|()| flush());
            if let Err(e) = written {
                failed(&mut shared.lock(), &keyed_at, &e);
                return;
            }
        }
        let mut cache = shared.lock();
        // A large row written since is journaled again, and stays, as it would have before.
        cache.release_keyed(&keyed_at);
        cache.clean_after = 0;
        match cache.oldest_uncleaned() {
            Some((at, g)) if at == id && g.generation == generation => cache.cleaned(g),
            // Never expected (cleanings run one at a time): left for the next one.
            _ => {}
        }
    }

    /// Carries rows whose latest record is in generation `id` forward, from the row at `from`,
    /// until a frame of [`SNAPSHOT_CHUNK`] bytes is full (appended to the journal's newest
    /// generation); large rows go to `keyed` instead (their positions to `keyed_at`). Returns
    /// the row to go on from, or `None` once none is left there.
    fn carry_rows(
        cache: &mut RowCache,
        id: u32,
        from: usize,
        keyed: &mut Vec<(Box<str>, Box<[u8]>)>,
        keyed_at: &mut Vec<usize>,
    ) -> Result<Option<usize>, StoreError> {
        let mut entry = Vec::new();
        let mut carried = Vec::new();
        let mut at = from;
        // Every row of `id` is at `from` or after (none moves into the generation cleaned),
        // so the scan stops once as many as it has live were found, and it lets the lock go
        // after CARRY_SCAN_MAX rows: a generation with a few live rows among 100,000 no
        // longer holds the engine's row writes for a whole pass.
        let mut left = cache.stat_mut(id).map_or(0, |g| g.live);
        let end = cache.rows.len().min(from.saturating_add(CARRY_SCAN_MAX));
        while at < end && entry.len() < SNAPSHOT_CHUNK && left > 0 {
            // Only a row's generation is read (its third line): the next ones are fetched
            // meanwhile.
            if let Some(ahead) = cache.rows.get(at + COPY_AHEAD) {
                prefetch::value(&ahead.generation);
            }
            let row = &mut cache.rows[at];
            if row.generation == id {
                left = left.saturating_sub(1);
                match &row.bytes {
                    Some(bytes) if bytes.len() > ROW_KEEP_MAX => {
                        keyed.push((Box::from(&*row.key), bytes.clone()));
                        keyed_at.push(at);
                        row.journaled = false;
                        row.keyed = true;
                        cache.moved(at, 0);
                    }
                    Some(bytes) => {
                        put_bytes(&mut entry, row.key.as_bytes());
                        put_bytes(&mut entry, bytes);
                        carried.push(at as u32);
                    }
                    // Never expected: a keyed row has no journal record.
                    None => cache.moved(at, 0),
                }
            }
            at += 1;
        }
        if !entry.is_empty() {
            let location = cache.journal.append(&entry)?;
            cache.appended(location, &carried);
            cache.roll(location);
        }
        let more = at < cache.rows.len() && cache.stat_mut(id).is_some_and(|g| g.live > 0);
        Ok(more.then_some(at))
    }

    /// Cleans the row journal's oldest generation now, on this thread (tests); `chunks`: stop
    /// after that many frames of carried rows, as a crash there would (see
    /// [`Store::clean_generation`]).
    #[cfg(test)]
    fn clean_oldest_now(&self, chunks: Option<usize>) {
        let Some((id, oldest)) = self.rows.lock().begin_cleaning() else {
            return;
        };
        let generation = oldest.generation;
        let flush = self.ordered_flush();
        Self::clean_generation(
            &self.rows,
            &self.db,
            &|| flush.run(),
            id,
            generation,
            chunks,
        );
    }

    /// Flushes for a background compaction thread (see [`OrderedFlush`]).
    fn ordered_flush(&self) -> OrderedFlush {
        OrderedFlush {
            db: self.db.clone(),
            rows: self.rows.clone(),
            index: self.index.clone(),
            ledger: self.ledger.clone(),
        }
    }

    /// Stops the periodic journal syncer (tests that check who syncs the journals).
    #[cfg(test)]
    pub(crate) fn stop_syncer(&self) {
        self._syncer.stop();
    }

    /// Whether a journal has appends (or file changes) not yet synced (tests).
    #[cfg(test)]
    pub(crate) fn journals_need_sync(&self) -> bool {
        self.row_journals_need_sync()
            || self.ledger.has_pending()
            || self.ledger.journal().lock().needs_sync()
    }

    /// Whether the row or index journal has appends (or file changes) not yet synced (tests).
    #[cfg(test)]
    pub(crate) fn row_journals_need_sync(&self) -> bool {
        self.rows.lock().journal.needs_sync() || self.index.lock().journal.needs_sync()
    }

    /// Writes pre-encoded entries into `tree` in one sled batch.
    #[cfg(test)]
    pub(crate) fn put_raw_batch(
        &self,
        tree: &str,
        entries: impl IntoIterator<Item = (String, Vec<u8>)>,
    ) -> Result<(), StoreError> {
        let mut batch = sled::Batch::default();
        for (k, v) in entries {
            batch.insert(k.as_bytes(), v);
        }
        self.db.open_tree(tree)?.apply_batch(batch)?;
        Ok(())
    }

    /// Appends a burst's message-index entries as one journal entry (the batch is emptied and
    /// keeps its buffers for the next burst).
    pub(crate) fn put_message_index(&self, batch: &mut IndexBatch) -> Result<(), StoreError> {
        if batch.keys.is_empty() {
            return Ok(());
        }
        let mut index = self.index.lock();
        let location = index.journal.append(&batch.journal)?;
        let n = index.first_entry + index.entries.len() as u64;
        index.entries.push_back(location);
        let IndexJournal {
            appended, hasher, ..
        } = &mut *index;
        appended.reserve(batch.keys.len());
        for &(at, conv_len, seq) in &batch.keys {
            let conv = &batch.journal[at as usize..(at + conv_len) as usize];
            appended.push((std::hash::BuildHasher::hash_one(&*hasher, conv), seq, n));
        }
        batch.clear();
        if index.backoff.due(index.appended.len()) && idle(&index.compaction) {
            // On a thread of its own, over whole generation files (the one appended to is
            // ended: later entries go to the next): lookups keep finding the entries in the
            // journal until its files are deleted, which comes after their run is durable.
            let last = index.journal.end_generation();
            let files = index.journal.files_through(last);
            let end = index.first_entry + index.entries.len() as u64;
            let shared = self.index.clone();
            let dir = self.journal_dir.clone();
            let run_id = index.next_run;
            index.next_run += 1;
            let entries = index.appended.len();
            let db = self.db.clone();
            index.compaction = Some(std::thread::spawn(move || {
                // Holds sled's directory lock (the store's only one) until the fold and its
                // merges end: a store opened on the directory meanwhile (after a session
                // dropped without shutdown) would number its runs like this one.
                let _lock = db;
                let result = fold_index(&files, &dir, run_id);
                {
                    let mut index = shared.lock();
                    match result {
                        Ok(run) => {
                            index.runs.extend(run.map(std::sync::Arc::new));
                            index.folded(end);
                            index.journal.remove_below(last + 1);
                            index.backoff.succeeded();
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "message index compaction failed");
                            index.backoff.failed(entries);
                            return;
                        }
                    }
                }
                merge_runs(&shared, dir.path());
            }));
        }
        Ok(())
    }

    /// The message-index entry under `key`: the journal first, then the runs newest first, then
    /// the keyed entries and block records of stores written before schema 4.
    pub(crate) fn message_index_entry(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut index = self.index.lock();
        let tree = self.db.open_tree(trees::MESSAGES)?;
        let (conv, seq) = split_index_key(key.as_bytes()).unwrap_or((key.as_bytes(), u64::MAX));
        let h = std::hash::BuildHasher::hash_one(&index.hasher, conv);
        let IndexJournal {
            appended,
            map,
            mapped,
            entries,
            first_entry,
            journal,
            runs,
            ..
        } = &mut *index;
        for &(eh, es, n) in &appended[*mapped..] {
            map.insert((eh, es), n);
        }
        *mapped = appended.len();
        let read = |n: u64| -> Result<Option<Vec<u8>>, StoreError> {
            let at = usize::try_from(n.wrapping_sub(*first_entry)).unwrap_or(usize::MAX);
            let Some(&location) = entries.get(at) else {
                return Ok(None);
            };
            // A positioned read of the entry's frame (written in this run: its crc was not
            // read back, the pairs' decoding is bounds-checked).
            let entry = journal.read(location)?;
            Ok(journal_pairs(&entry)
                .filter(|(k, _)| *k == key.as_bytes())
                .last()
                .map(|(_, v)| v.to_vec()))
        };
        if let Some(&n) = map.get(&(h, seq)) {
            if let Some(found) = read(n)? {
                return Ok(Some(found));
            }
            // Another conversation with the same hash appended the same seq later: the
            // entries of this hash and seq, newest first.
            let mut tried = n;
            for &(_, _, n) in appended.iter().rev().filter(|e| (e.0, e.1) == (h, seq)) {
                if n != tried {
                    tried = n;
                    if let Some(found) = read(n)? {
                        return Ok(Some(found));
                    }
                }
            }
        }
        let mut chunk = Vec::new();
        let mut damaged = None;
        for run in runs.iter().rev() {
            match run.get(key.as_bytes(), &mut chunk) {
                Ok(Some(found)) => return Ok(Some(found)),
                Ok(None) => {}
                // A damaged chunk: an older run or the sled tier may hold the entry too (an
                // entry never changes, but on a reset server); the damage is the answer only
                // if none does.
                Err(StoreError::Io { path, source })
                    if source.kind() == std::io::ErrorKind::InvalidData =>
                {
                    tracing::warn!(path = %path.display(), error = %source, "damaged message-index run chunk");
                    damaged.get_or_insert(StoreError::Io { path, source });
                }
                Err(e) => return Err(e),
            }
        }
        match (Self::keyed_index_entry(&tree, key)?, damaged) {
            (Some(found), _) => Ok(Some(found)),
            (None, Some(e)) => Err(e),
            (None, None) => Ok(None),
        }
    }

    /// The message-index entry under `key` in the keyed tier (stores written before schema
    /// 4): an entry of an earlier version (one key per message), else the block record covering
    /// the seq, the newest block starting at or before it.
    fn keyed_index_entry(tree: &sled::Tree, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(v) = tree.get(key)? {
            return Ok(Some(v.to_vec()));
        }
        let Some((conv, seq)) = split_index_key(key.as_bytes()) else {
            return Ok(None);
        };
        let prefix = &key.as_bytes()[..=conv.len()];
        let mut upper = key.as_bytes().to_vec();
        upper.push(0x7F); // after every "~<fold id>" suffix of blocks starting at `seq`
        for item in tree.range(..upper).rev().take(INDEX_SCAN_BACK) {
            let (k, v) = item?;
            if !k.starts_with(prefix) {
                break;
            }
            if let Some(found) = block_entry(&v, seq) {
                return Ok(Some(found.to_vec()));
            }
        }
        Ok(None)
    }

    /// Σ unread over visible conversations with recvMsgOpt < 2 (SDK rule).
    pub fn total_unread(&self) -> Result<i32, StoreError> {
        let cache = self.rows.lock();
        Ok(cache.unread_total.clamp(0, i64::from(i32::MAX)) as i32)
    }

    /// All friends.
    pub fn friends(&self) -> Result<Vec<Friend>, StoreError> {
        self.list(trees::FRIENDS, "")
    }

    /// One friend.
    pub fn friend(&self, user_id: &str) -> Result<Option<Friend>, StoreError> {
        self.get(trees::FRIENDS, user_id)
    }

    /// Pending friend applications (received and sent).
    pub fn friend_applications(&self) -> Result<Vec<FriendApplication>, StoreError> {
        self.list(trees::FRIEND_APPS, "")
    }

    /// The bot's blacklist.
    pub fn blacklist(&self) -> Result<Vec<Blacklisted>, StoreError> {
        self.list(trees::BLACKLIST, "")
    }

    /// Groups the bot is in.
    pub fn groups(&self) -> Result<Vec<GroupInfo>, StoreError> {
        self.list(trees::GROUPS, "")
    }

    /// One joined group.
    pub fn group(&self, group_id: &str) -> Result<Option<GroupInfo>, StoreError> {
        self.get(trees::GROUPS, group_id)
    }

    /// Known members of a group (by user ID).
    pub fn members(&self, group_id: &str) -> Result<Vec<GroupMember>, StoreError> {
        crate::version::member_set::members(self, group_id)
    }

    /// One member of a group.
    pub fn member(&self, group_id: &str, user_id: &str) -> Result<Option<GroupMember>, StoreError> {
        crate::version::member_set::member(self, group_id, user_id)
    }

    /// Pending group applications (to groups the bot administers and the bot's own).
    pub fn group_applications(&self) -> Result<Vec<GroupApplication>, StoreError> {
        self.list(trees::GROUP_APPS, "")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_lengths_near_u32_max_end_the_decoding_without_overflow() {
        // A journal entry: one good pair, then a key whose length prefix claims u32::MAX.
        let mut entry = Vec::new();
        put_bytes(&mut entry, b"key");
        put_bytes(&mut entry, b"value");
        entry.extend_from_slice(&u32::MAX.to_be_bytes());
        entry.extend_from_slice(b"tail");
        let pairs: Vec<_> = journal_pairs(&entry).collect();
        assert_eq!(pairs, [(&b"key"[..], &b"value"[..])]);
        // An index block whose first entry claims u32::MAX bytes.
        let mut block = vec![BLOCK_TAG];
        block.extend_from_slice(&7u64.to_be_bytes());
        block.extend_from_slice(&u32::MAX.to_be_bytes());
        block.extend_from_slice(b"short");
        assert_eq!(block_entry(&block, 7), None);
        assert_eq!(block_entry(&block, 8), None);
    }

    fn conversation(id: &str, unread: i32, recv_msg_opt: i32) -> Conversation {
        Conversation {
            conversation_id: id.into(),
            unread_count: unread,
            recv_msg_opt,
            latest_msg_send_time: 1,
            ..Default::default()
        }
    }

    fn scanned_total(s: &Store) -> i32 {
        s.conversations()
            .unwrap()
            .iter()
            .map(unread_contribution)
            .sum()
    }

    #[test]
    fn cached_unread_total_follows_every_write() {
        let s = Store::temporary().unwrap();
        // Rows written before the cache exists are counted when it is built.
        s.put_conversation("si_a_b", &conversation("si_a_b", 3, 0))
            .unwrap();
        assert_eq!(s.total_unread().unwrap(), 3);
        s.put_conversation("sg_g1", &conversation("sg_g1", 5, 0))
            .unwrap();
        // Not notified (recvMsgOpt 2): not counted.
        s.put_conversation("sg_g2", &conversation("sg_g2", 7, 2))
            .unwrap();
        assert_eq!(s.total_unread().unwrap(), 8);
        // Read: the row's contribution is replaced, not added.
        s.put_conversation("si_a_b", &conversation("si_a_b", 0, 0))
            .unwrap();
        assert_eq!(s.total_unread().unwrap(), 5);
        assert_eq!(s.total_unread().unwrap(), scanned_total(&s));
        // A second handle on the same store shares the cache.
        let other = s.clone();
        other
            .put_conversation("sg_g2", &conversation("sg_g2", 7, 0))
            .unwrap();
        assert_eq!(s.total_unread().unwrap(), 12);
        assert_eq!(s.total_unread().unwrap(), scanned_total(&s));
    }

    /// The entry buffer kept from one burst to the next: a small burst after a large one
    /// journals only its own rows (replayed as written), and warming rows through stale,
    /// foreign or out-of-range hints reads nothing wrong and changes nothing.
    #[test]
    fn a_small_burst_after_a_large_one_journals_only_its_rows() {
        let (db, dir, s) = reopenable();
        let mut large: Vec<Conversation> = (0..50)
            .map(|i| conversation(&format!("si_a_u{i}"), i, 0))
            .collect();
        for c in &mut large {
            c.show_name = "x".repeat(200).into();
        }
        let mut placed = Vec::new();
        s.put_conversations_hinted(large.iter().map(|c| (RowHint::NONE, c)), &mut placed)
            .unwrap();
        assert_eq!(placed.len(), 50);
        let small = conversation("si_a_u7", 1, 0);
        let before = s.rows.lock().journal_bytes;
        s.put_conversations_hinted([(placed[3], &small)], &mut placed)
            .unwrap();
        assert_eq!(placed, [RowHint(7)], "a wrong hint costs only the lookup");
        let entry = s.rows.lock().journal_bytes - before;
        assert!(entry < 100, "one small row appended, not {entry} bytes");
        let hints = [
            RowHint::NONE,
            RowHint(7),
            RowHint(49),
            RowHint(50),
            RowHint(9_999),
        ];
        s.prefetch_rows(hints);
        s.warm_rows(hints);
        let expect = |s: &Store| {
            for (i, c) in large.iter().enumerate() {
                let want = if i == 7 { &small } else { c };
                assert_eq!(
                    s.conversation(&c.conversation_id).unwrap().as_ref(),
                    Some(want)
                );
            }
        };
        expect(&s);
        assert_eq!(s.total_unread().unwrap(), scanned_total(&s));
        drop(s);
        let s = Store::init(db, dir).unwrap();
        expect(&s);
        assert_eq!(s.total_unread().unwrap(), scanned_total(&s));
    }

    #[test]
    fn batched_conversation_writes_keep_the_unread_total() {
        let s = Store::temporary().unwrap();
        s.put_conversation("si_a_b", &conversation("si_a_b", 2, 0))
            .unwrap();
        assert_eq!(s.total_unread().unwrap(), 2);
        let rows = [
            conversation("si_a_b", 4, 0),
            conversation("sg_g1", 3, 0),
            conversation("sg_g2", 9, 2),
        ];
        s.put_conversations(&rows).unwrap();
        assert_eq!(
            s.total_unread().unwrap(),
            7,
            "replaced 2 by 4, added 3, 9 not counted"
        );
        assert_eq!(s.total_unread().unwrap(), scanned_total(&s));
        assert_eq!(s.conversation("sg_g1").unwrap().as_ref(), Some(&rows[1]));
        s.put_raw_batch(trees::MESSAGES, [("c/1".to_owned(), b"{}".to_vec())])
            .unwrap();
        assert!(
            s.raw_tree(trees::MESSAGES)
                .unwrap()
                .get("c/1")
                .unwrap()
                .is_some()
        );
    }

    use crate::test_rng::Rng;

    /// Row bursts through right, missing, random and (after a reopen) stale hints, rows too
    /// large to keep, row snapshots, index bursts and compactions, reopens: rows, the unread
    /// total and index entries read back as a model says.
    #[test]
    fn random_writes_with_stale_hints_snapshots_and_reopens_match_a_model() {
        use std::collections::{BTreeMap, HashMap};
        for seed in 1..4u64 {
            let db = sled::Config::new().temporary(true).open().unwrap();
            let dir = JournalDir::temporary().unwrap();
            let mut s = Store::init(db.clone(), dir.clone()).unwrap();
            s.rows.lock().generation_min = 8 * 1024;
            let mut r = Rng::seeded(seed);
            let n = 1 + r.below(700);
            let mut model: BTreeMap<String, Conversation> = BTreeMap::new();
            let mut hints: HashMap<String, RowHint> = HashMap::new();
            let mut index_model: HashMap<String, Vec<u8>> = HashMap::new();
            let mut next_seq: HashMap<String, u64> = HashMap::new();
            let mut keys: Vec<String> = Vec::new();
            let row = |r: &mut Rng, id: &str| {
                let mut c = conversation(id, r.below(5) as i32, [0, 0, 2][r.below(3) as usize]);
                c.show_name = format!("n{}", r.next()).into();
                let ex = if r.below(15) == 0 {
                    600 + r.below(900)
                } else {
                    r.below(40)
                };
                c.ex = "e".repeat(ex as usize).into();
                c.max_seq = r.below(1000) as i64;
                c
            };
            for step in 0..1500 {
                let hint_for =
                    |r: &mut Rng, hints: &HashMap<String, RowHint>, id: &str| match r.below(4) {
                        0 => RowHint::NONE,
                        1 => RowHint(r.below(n + 5) as u32),
                        _ => hints.get(id).copied().unwrap_or(RowHint::NONE),
                    };
                match r.below(12) {
                    0..=3 => {
                        let k = 1 + r.below(150);
                        let mut burst = Vec::new();
                        for _ in 0..k {
                            let id = format!("si_a_{:05}", r.below(n));
                            let c = row(&mut r, &id);
                            let h = hint_for(&mut r, &hints, &id);
                            model.insert(id, c.clone());
                            burst.push((h, c));
                        }
                        let mut placed = Vec::new();
                        s.put_conversations_hinted(burst.iter().map(|(h, c)| (*h, c)), &mut placed)
                            .unwrap();
                        assert_eq!(placed.len(), burst.len());
                        for ((_, c), h) in burst.iter().zip(placed) {
                            // The position given back finds the row at once.
                            let cache = s.rows.lock();
                            assert_eq!(&*cache.rows[h.0 as usize].key, c.conversation_id);
                            drop(cache);
                            hints.insert(c.conversation_id.to_string(), h);
                        }
                    }
                    4 => {
                        let id = format!("si_a_{:05}", r.below(n));
                        let c = row(&mut r, &id);
                        s.put_conversation(&id, &c).unwrap();
                        model.insert(id, c);
                    }
                    5 | 6 => {
                        let id = format!("si_a_{:05}", r.below(n));
                        let mut h = hint_for(&mut r, &hints, &id);
                        let got = s.conversation_hinted(&id, &mut h).unwrap();
                        assert_eq!(got.as_ref(), model.get(&id), "seed {seed} step {step} {id}");
                        if got.is_some() {
                            hints.insert(id, h);
                        }
                    }
                    7 | 8 => {
                        let mut pairs = Vec::new();
                        for _ in 0..1 + r.below(300) {
                            let conv = format!("si_a_{:05}", r.below(n));
                            let seq = next_seq.entry(conv.clone()).or_insert(0);
                            *seq += 1 + r.below(3);
                            let key = format!("{conv}/{:020}", *seq);
                            let v = format!("v{}", r.next()).into_bytes();
                            index_model.insert(key.clone(), v.clone());
                            keys.push(key.clone());
                            pairs.push((key, v));
                        }
                        put_index(&s, pairs).unwrap();
                    }
                    9 | 10 => {
                        for _ in 0..20 {
                            if keys.is_empty() {
                                break;
                            }
                            let key = &keys[r.below(keys.len() as u64) as usize];
                            assert_eq!(
                                s.message_index_entry(key).unwrap().as_ref(),
                                index_model.get(key),
                                "seed {seed} step {step} {key}"
                            );
                        }
                    }
                    _ => {
                        if r.below(3) == 0 {
                            // A background cleaning of the oldest generation, due or not,
                            // racing the next steps; or a sync round, which deletes a cleaned
                            // generation.
                            let mut cache = s.rows.lock();
                            if idle(&cache.compaction) {
                                s.start_cleaning(&mut cache);
                            }
                            drop(cache);
                            if r.below(2) == 0 {
                                s.flush().unwrap();
                            }
                        } else if r.below(3) == 0 {
                            join_compactions(&s);
                            drop(s);
                            s = Store::init(db.clone(), dir.clone()).unwrap();
                            // Small generations: rolled and cleaned by the bursts too.
                            s.rows.lock().generation_min = 8 * 1024;
                            // hints kept: positions of the old cache, now stale
                        }
                    }
                }
                if step % 100 == 99 {
                    check_generations(&s);
                    let all = s.conversations().unwrap();
                    let want: Vec<Conversation> = model.values().cloned().collect();
                    assert_eq!(all, want, "seed {seed} step {step}");
                    let total: i32 = model.values().map(unread_contribution).sum();
                    assert_eq!(s.total_unread().unwrap(), total, "seed {seed} step {step}");
                }
            }
            // A running snapshot keeps the temporary journal directory until it is done.
            join_compactions(&s);
        }
    }

    /// A store on an in-memory sled and a temporary journal directory, both returned for
    /// reopening: `Store::init(db.clone(), dir.clone())` after dropping the store is a crash
    /// and a restart.
    /// The schema version a store's sled database records.
    fn stored_schema(db: &sled::Db) -> Vec<u8> {
        db.open_tree(trees::META)
            .unwrap()
            .get("schema")
            .unwrap()
            .expect("a schema version")
            .to_vec()
    }

    /// review-s10 R2: an ack must never be in the ledger's file while its message's row is not
    /// durable. Even unsynced it could survive a power loss without the row: the kernel writes
    /// pages back in no order between files. Checked where it went wrong: right after the ack's
    /// persist (it was appended to the file at once), and in a sync round (`Store::flush`, as
    /// the syncer's) whose row sync was under way when the engine appended a row and the
    /// persister its ack (that round synced the ledger's file with the ack, the row only in the
    /// next round).
    #[test]
    fn an_ack_is_never_synced_ahead_of_a_row_appended_during_the_rows_sync() {
        let s = Store::temporary().unwrap();
        s.stop_syncer();
        let l = std::sync::Arc::new(crate::ledger::Ledger::open(Some(&s)).unwrap());
        let in_file = |c: &str| crate::ledger::file_watermark(&s, c);
        s.put_conversation("a", &conversation("a", 1, 0)).unwrap();
        l.ack("a", 1).unwrap();
        l.persist().unwrap();
        assert!(
            in_file("a") == 0 || !s.row_journals_need_sync(),
            "a's ack is in the ledger's file while its row is not synced"
        );
        s.flush().unwrap();
        assert_eq!(in_file("a"), 1, "written by the round");
        // A round whose row journal's fdatasync is under way (its job taken) while the engine
        // appends a burst's row and the persister the burst's ack.
        let (store, ledger) = (s.clone(), l.clone());
        WHILE_SYNCING.with(|hook| {
            *hook.borrow_mut() = Some(Box::new(move || {
                store
                    .put_conversation("b", &conversation("b", 1, 0))
                    .unwrap();
                ledger.ack("b", 1).unwrap();
                ledger.persist().unwrap();
            }))
        });
        s.flush().unwrap();
        assert!(
            WHILE_SYNCING.with(|hook| hook.borrow().is_none()),
            "the appends ran inside the round"
        );
        assert!(
            in_file("b") == 0 || !s.row_journals_need_sync(),
            "the round put b's ack in the ledger's file (and synced it) while b's row waits for the next round"
        );
        s.flush().unwrap();
        assert_eq!(in_file("b"), 1, "written by the next round, after b's row");
        assert!(!s.row_journals_need_sync());
    }

    fn reopenable() -> (sled::Db, JournalDir, Store) {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let dir = JournalDir::temporary().unwrap();
        let s = Store::init(db.clone(), dir.clone()).unwrap();
        (db, dir, s)
    }

    /// The row journal's counts agree with the rows and the files: every row's generation is
    /// counted (and exists), the live counts add up, the bytes are the files' (bar torn tails).
    fn check_generations(s: &Store) {
        let cache = s.rows.lock();
        let mut live = vec![0u32; cache.generations.len()];
        for row in &cache.rows {
            if row.generation != 0 {
                let i = (row.generation - cache.first_id) as usize;
                assert!(i < live.len(), "a row of a generation no longer counted");
                live[i] += 1;
            }
        }
        let counted: Vec<u32> = cache.generations.iter().map(|g| g.live).collect();
        assert_eq!(live, counted);
        let bytes: usize = cache.generations.iter().map(|g| g.bytes).sum();
        assert_eq!(bytes, cache.journal_bytes);
        let files: Vec<u64> = cache
            .journal
            .files_through(u64::MAX)
            .iter()
            .map(|(g, _)| *g)
            .collect();
        for g in &cache.generations {
            assert!(
                g.bytes == 0 || files.contains(&g.generation),
                "generation {} counted but gone",
                g.generation
            );
        }
    }

    /// Waits for the background compactions started so far.
    fn join_compactions(s: &Store) {
        s.join_compactions();
    }

    /// Appends `pairs` as one burst of message-index entries.
    fn put_index(
        s: &Store,
        pairs: impl IntoIterator<Item = (String, Vec<u8>)>,
    ) -> Result<(), StoreError> {
        let mut batch = IndexBatch::default();
        for (k, v) in pairs {
            batch.push_raw(&k, &v);
        }
        s.put_message_index(&mut batch)?;
        assert!(batch.is_empty(), "emptied for the next burst");
        Ok(())
    }

    /// Journal entries (frames in the journal files) of the row journal
    /// ([`trees::CONVERSATIONS`]) or the message-index journal ([`trees::MESSAGES`]); none
    /// may be left in sled.
    fn journal_entries(s: &Store, tree: &str) -> usize {
        let in_sled = s.raw_tree(tree).unwrap().range(&[JOURNAL][..]..).count();
        assert_eq!(in_sled, 0, "journal entries left in sled");
        let (files, kind) = if tree == trees::CONVERSATIONS {
            (s.rows.lock().journal.files_through(u64::MAX), ROWS_JOURNAL)
        } else {
            (
                s.index.lock().journal.files_through(u64::MAX),
                INDEX_JOURNAL,
            )
        };
        let mut frames = 0;
        for (generation, file) in files {
            let path = journal::generation_path(&s.journal_dir, kind, generation);
            journal::read_frames(
                &file,
                |_| {
                    frames += 1;
                    Ok(())
                },
                &path,
            )
            .unwrap();
        }
        frames
    }

    fn keyed_row(s: &Store, key: &str) -> Option<Conversation> {
        let v = s
            .raw_tree(trees::CONVERSATIONS)
            .unwrap()
            .get(key)
            .unwrap()?;
        Some(decode_row(&key.into(), &v).unwrap())
    }

    #[test]
    fn large_bursts_are_replayed_whole_after_a_crash() {
        let (db, dir, s) = reopenable();
        let rows: Vec<Conversation> = (0..500)
            .map(|i| Conversation {
                show_name: format!("name of conversation {i}").into(),
                ..conversation(&format!("si_a_u{i:05}"), i, 0)
            })
            .collect();
        s.put_conversations(&rows).unwrap();
        let pairs = (0..500).map(|i| (format!("si_a_u{i:05}/{:020}", 7), vec![b'v'; 40]));
        put_index(&s, pairs).unwrap();
        for i in [0, 250, 499] {
            let key = format!("si_a_u{i:05}/{:020}", 7);
            assert_eq!(s.message_index_entry(&key).unwrap(), Some(vec![b'v'; 40]));
        }
        // A crash: the journal is replayed at the next open.
        drop(s);
        let s = Store::init(db, dir.clone()).unwrap();
        assert_eq!(s.conversations().unwrap(), rows);
        assert_eq!(s.total_unread().unwrap(), (0..500).sum::<i32>());
        let key = format!("si_a_u{:05}/{:020}", 321, 7);
        assert_eq!(s.message_index_entry(&key).unwrap(), Some(vec![b'v'; 40]));
    }

    #[test]
    fn conversation_journal_is_replayed_after_a_crash() {
        let (db, dir, s) = reopenable();
        s.put_conversation("si_a_b", &conversation("si_a_b", 1, 0))
            .unwrap();
        s.snapshot_rows(&mut s.rows.lock()).unwrap();
        assert_eq!(
            journal_entries(&s, trees::CONVERSATIONS),
            1,
            "one snapshot entry"
        );
        assert_eq!(keyed_row(&s, "si_a_b"), None, "rows live in the journal");
        let rows = [conversation("si_a_b", 2, 0), conversation("sg_g", 4, 0)];
        s.put_conversations(&rows).unwrap();
        assert_eq!(journal_entries(&s, trees::CONVERSATIONS), 2);
        assert_eq!(s.conversation("si_a_b").unwrap().as_ref(), Some(&rows[0]));
        assert_eq!(
            s.conversations().unwrap(),
            vec![rows[1].clone(), rows[0].clone()]
        );
        assert_eq!(s.total_unread().unwrap(), 6);
        // Crash: the handle is gone without a snapshot; the next open replays the journal.
        drop(s);
        let s = Store::init(db.clone(), dir.clone()).unwrap();
        assert_eq!(
            s.conversations().unwrap(),
            vec![rows[1].clone(), rows[0].clone()]
        );
        assert_eq!(s.total_unread().unwrap(), 6);
        // An entry whose last pair is cut short (written so by a bug, its frame intact)
        // keeps its whole pairs and drops the rest.
        let mut entry = Vec::new();
        put_bytes(&mut entry, b"si_a_b");
        put_bytes(&mut entry, &encode_row(&conversation("si_a_b", 9, 0)));
        put_bytes(&mut entry, b"sg_g");
        entry.extend_from_slice(&[0, 0, 0, 50, 1, 2]);
        s.rows.lock().journal.append(&entry).unwrap();
        drop(s);
        let s = Store::init(db.clone(), dir.clone()).unwrap();
        assert_eq!(s.conversation("si_a_b").unwrap().unwrap().unread_count, 9);
        assert_eq!(s.conversation("sg_g").unwrap().as_ref(), Some(&rows[1]));
        assert_eq!(s.total_unread().unwrap(), 13);
        // New entries follow the replayed ones.
        s.put_conversation("sg_g", &conversation("sg_g", 0, 0))
            .unwrap();
        assert_eq!(s.conversation("sg_g").unwrap().unwrap().unread_count, 0);
        assert_eq!(s.total_unread().unwrap(), 9);
        // A snapshot replaces every entry; the rows read back the same after a reopen.
        s.snapshot_rows(&mut s.rows.lock()).unwrap();
        assert_eq!(journal_entries(&s, trees::CONVERSATIONS), 1);
        let before = s.conversations().unwrap();
        drop(s);
        let s = Store::init(db, dir.clone()).unwrap();
        assert_eq!(s.conversations().unwrap(), before);
        assert_eq!(s.total_unread().unwrap(), 9);
    }

    #[test]
    fn rows_are_kept_decoded_and_reads_share_their_strings() {
        // Longer than a SharedStr holds in place: equal short texts are `ptr_eq` anyway, and
        // would not show that a read is a copy sharing the row's strings rather than a decode.
        const ID: &str = "si_alice_and_bob_long";
        const PEER: &str = "b, a peer ID held shared";
        let (db, dir, mut s) = reopenable();
        let mut c = conversation(ID, 1, 0);
        c.show_name = "Bob, a name held shared".into();
        c.user_id = PEER.into();
        c.latest_msg = Some(crate::model::LatestMessage {
            client_msg_id: "m1".into(),
            send_id: PEER.into(),
            text: Some("hi".into()),
            ..Default::default()
        });
        s.put_conversation(ID, &c).unwrap();
        let shares = |s: &Store| {
            let (one, two) = (
                s.conversation(ID).unwrap().unwrap(),
                s.conversations().unwrap(),
            );
            assert_eq!(one, c);
            assert_eq!(two, [c.clone()]);
            assert!(
                one.show_name.ptr_eq(&two[0].show_name),
                "a copy, not a decode"
            );
            assert!(one.user_id.ptr_eq(&two[0].user_id));
            // The row's ID is the cache's key; its latest message is kept encoded only.
            let cache = s.rows.lock();
            let at = cache.find(ID, RowHint::NONE).unwrap();
            let cached = &cache.rows[at as usize];
            assert!(cached.key.ptr_eq(&one.conversation_id));
            let fields = cached.decoded.as_ref().unwrap();
            let without_latest = Conversation {
                latest_msg: None,
                ..c.clone()
            };
            assert_eq!(fields.to_conversation(cached.key.clone()), without_latest);
            drop(cache);
            // A caller replacing the latest message gets the row without it.
            let mut hint = RowHint::NONE;
            let bare = s.conversation_to_update(ID, &mut hint, |_| false);
            let bare = bare.unwrap().unwrap();
            assert_eq!(bare.latest_msg, None);
            assert_eq!(
                Conversation {
                    latest_msg: c.latest_msg.clone(),
                    ..bare
                },
                c
            );
            one
        };
        shares(&s);
        // Decoded from the journal at open, and from a snapshot: the same.
        for snapshot in [false, true] {
            if snapshot {
                s.snapshot_rows(&mut s.rows.lock()).unwrap();
            }
            drop(s);
            let reopened = Store::init(db.clone(), dir.clone()).unwrap();
            shares(&reopened);
            s = reopened;
        }
    }

    #[test]
    fn a_journaled_row_that_does_not_decode_is_kept_as_it_was() {
        let (db, dir, s) = reopenable();
        s.put_conversation("si_a_b", &conversation("si_a_b", 2, 0))
            .unwrap();
        // A row of a binary tag but malformed (as a newer or damaged writer could leave).
        let bad = [crate::model::row_codec::ROW_TAG, 0xFF, 0xFF];
        let mut entry = Vec::new();
        put_bytes(&mut entry, b"sg_bad");
        put_bytes(&mut entry, &bad);
        s.rows.lock().journal.append(&entry).unwrap();
        drop(s);
        let mut s = Store::init(db.clone(), dir.clone()).unwrap();
        for round in 0..2 {
            assert!(
                matches!(s.conversation("sg_bad"), Err(StoreError::Corrupt { .. })),
                "round {round}"
            );
            assert_eq!(s.conversation("si_a_b").unwrap().unwrap().unread_count, 2);
            assert_eq!(s.total_unread().unwrap(), 2);
            // A snapshot carries it on as it was.
            s.snapshot_rows(&mut s.rows.lock()).unwrap();
            drop(s);
            s = Store::init(db.clone(), dir.clone()).unwrap();
        }
        s.put_conversation("sg_bad", &conversation("sg_bad", 1, 0))
            .unwrap();
        drop(s);
        let s = Store::init(db, dir).unwrap();
        assert_eq!(s.conversation("sg_bad").unwrap().unwrap().unread_count, 1);
        assert_eq!(s.total_unread().unwrap(), 3);
    }

    /// Frames in row-journal generation `generation`'s file (0 if it is gone).
    fn frames_of(s: &Store, generation: u64) -> usize {
        let path = journal::generation_path(&s.journal_dir, ROWS_JOURNAL, generation);
        let Ok(file) = std::fs::File::open(&path) else {
            return 0;
        };
        let mut frames = 0;
        journal::read_frames(
            &file,
            |_| {
                frames += 1;
                Ok(())
            },
            &path,
        )
        .unwrap();
        frames
    }

    /// Row `id` of ~450 bytes with `unread` unread: three of them rewritten burst after burst make
    /// generations of ROW_GENERATION_MIN, the oldest cleaned once the journal holds two.
    fn large_row(id: &str, unread: usize) -> Conversation {
        Conversation {
            ex: "e".repeat(400).into(),
            ..conversation(id, unread as i32, 0)
        }
    }

    /// Rewrites rows a, b and c (burst number `bursts`, counted on) until a row generation is
    /// marked for retiring.
    fn rewrite_until_a_generation_retires(s: &Store, bursts: &mut usize) {
        while s.rows.lock().retiring.is_empty() {
            *bursts += 1;
            let rows: Vec<Conversation> = ["a", "b", "c"]
                .iter()
                .map(|id| large_row(id, *bursts))
                .collect();
            s.put_conversations(&rows).unwrap();
            assert!(*bursts < 100_000, "never cleaned");
        }
    }

    /// A retired generation whose file cannot be deleted holds back the deletion of every newer
    /// one (they would otherwise be gone while its older records replay); the next cleaning
    /// tries it again first and then deletes them all, and the rows reopen as last written.
    #[test]
    fn an_undeletable_row_generation_holds_back_newer_deletions_until_a_later_cleaning() {
        let (db, dir, s) = reopenable();
        s.stop_syncer();
        let mut bursts = 0;
        let mut clean_once = |s: &Store| {
            rewrite_until_a_generation_retires(s, &mut bursts);
            let generation = s.rows.lock().retiring[0].generation;
            (generation, bursts)
        };
        let path = |g| journal::generation_path(&dir, ROWS_JOURNAL, g);
        let (first, _) = clean_once(&s);
        journal::make_undeletable(&path(first));
        s.flush().unwrap();
        assert!(path(first).exists());
        let (second, _) = clean_once(&s);
        s.flush().unwrap();
        assert!(path(second).exists(), "held back behind the older one");
        std::fs::remove_dir_all(path(first)).unwrap();
        let (third, last) = clean_once(&s);
        s.flush().unwrap();
        for g in [first, second, third] {
            assert!(!path(g).exists(), "generation {g} deleted, in order");
        }
        check_generations(&s);
        drop(s);
        let s = Store::init(db, dir.clone()).unwrap();
        for id in ["a", "b", "c"] {
            assert_eq!(s.conversation(id).unwrap(), Some(large_row(id, last)));
        }
        check_generations(&s);
    }

    #[test]
    fn a_journal_of_few_rows_rewritten_is_cleaned_by_deleting_its_oldest_generation() {
        let (db, dir, s) = reopenable();
        // Deleted by explicit sync rounds here (the syncer's would race the checks).
        s.stop_syncer();
        let mut bursts = 0;
        rewrite_until_a_generation_retires(&s, &mut bursts);
        let cache = s.rows.lock();
        assert!(
            cache.compaction.is_none(),
            "every row of the oldest generation was written since: nothing to carry"
        );
        assert!(cache.journal_bytes > 2 * ROW_GENERATION_MIN);
        assert_eq!(cache.generations.len(), 2, "two full generations");
        let oldest = cache.generations[0];
        assert_eq!(oldest.live, 0);
        assert!(oldest.bytes >= ROW_GENERATION_MIN);
        drop(cache);
        check_generations(&s);
        let frames = journal_entries(&s, trees::CONVERSATIONS);
        assert_eq!(frames, bursts, "one frame per burst");
        let in_oldest = frames_of(&s, oldest.generation);
        assert!(in_oldest > 0);
        // Not deleted before a sync round made the newer records durable; deleted by it.
        assert!(journal::generation_path(&dir, ROWS_JOURNAL, oldest.generation).exists());
        s.flush().unwrap();
        assert!(!journal::generation_path(&dir, ROWS_JOURNAL, oldest.generation).exists());
        assert_eq!(
            journal_entries(&s, trees::CONVERSATIONS),
            bursts - in_oldest,
            "nothing copied: the frames left are the bursts'"
        );
        check_generations(&s);
        assert_eq!(s.total_unread().unwrap(), 3 * bursts as i32);
        drop(s);
        let s = Store::init(db, dir.clone()).unwrap();
        for id in ["a", "b", "c"] {
            assert_eq!(s.conversation(id).unwrap(), Some(large_row(id, bursts)));
        }
        assert_eq!(s.total_unread().unwrap(), 3 * bursts as i32);
        check_generations(&s);
    }

    #[test]
    fn a_journal_of_many_rows_updated_in_turn_stays_bounded_without_copying() {
        let (db, dir, s) = reopenable();
        // Rows of ~450 bytes, more of them than ROW_GENERATION_MIN: the rows' size decides.
        let ids: Vec<String> = (0..3000).map(|i| format!("si_a_{i}")).collect();
        let row = |id: &str, pass: i32| Conversation {
            ex: "e".repeat(400).into(),
            ..conversation(id, pass, 0)
        };
        let (mut most, mut most_synced) = (0, 0);
        for pass in 1..=10 {
            for burst in ids.chunks(100) {
                let rows: Vec<Conversation> = burst.iter().map(|id| row(id, pass)).collect();
                s.put_conversations(&rows).unwrap();
                let cache = s.rows.lock();
                assert!(
                    cache.compaction.is_none(),
                    "pass {pass}: a row of the oldest generation not written since"
                );
                most = most.max(cache.journal_bytes - cache.retiring_bytes);
            }
            // (The syncer's rounds delete cleaned generations too; this one makes it certain.)
            s.flush().unwrap();
            most_synced = most_synced.max(s.rows.lock().journal_bytes);
        }
        let cache = s.rows.lock();
        let records = cache.record_bytes();
        assert!(records > ROW_GENERATION_MIN);
        // Cleaned once past three times the records (by less than a generation and a burst);
        // after a sync round the cleaned generations are gone.
        let bound = 3 * records + cache.generation_size() + 100 * 500;
        assert!(
            most <= bound,
            "{most} bytes of journal for {records} of records"
        );
        assert!(
            most_synced <= bound,
            "{most_synced} bytes after a sync round"
        );
        assert!(
            !cache
                .journal
                .files_through(u64::MAX)
                .iter()
                .any(|(g, _)| *g == 1),
            "the first generation is gone"
        );
        drop(cache);
        check_generations(&s);
        drop(s);
        let s = Store::init(db, dir).unwrap();
        assert_eq!(s.conversation("si_a_7").unwrap(), Some(row("si_a_7", 10)));
        assert_eq!(s.total_unread().unwrap(), 10 * 3000);
        check_generations(&s);
    }

    /// Cold rows (and a large one) in the oldest generation, hot rows written after them: the
    /// store its cleaning is tested on, and what it must read back.
    fn cold_and_hot(s: &Store) -> Vec<Conversation> {
        let mut rows: Vec<Conversation> = (0..3000)
            .map(|i| Conversation {
                ex: "e".repeat(40 + i % 7).into(),
                ..conversation(&format!("si_cold_{i:05}"), 1, 0)
            })
            .collect();
        let mut big = conversation("big", 2, 0);
        big.ex = "x".repeat(4 * ROW_KEEP_MAX).into();
        rows.push(big);
        for part in rows.chunks(500) {
            s.put_conversations(part).unwrap();
        }
        s.rows.lock().journal.end_generation();
        // Hot rows: half of the cold ones written again, in a later generation.
        for pass in 2..4 {
            let hot: Vec<Conversation> = (0..1500)
                .map(|i| Conversation {
                    ex: "h".repeat(40).into(),
                    ..conversation(&format!("si_cold_{:05}", 2 * i), pass, 0)
                })
                .collect();
            s.put_conversations(&hot).unwrap();
            for (i, c) in hot.into_iter().enumerate() {
                rows[2 * i] = c;
            }
        }
        rows.sort_by(|a, b| a.conversation_id.cmp(&b.conversation_id));
        rows
    }

    /// A cleaning, interrupted at each of its steps (a crash), loses no row: before any carried
    /// frame, after some, after all but before the deletion of the cleaned generation, and
    /// after it; finished, the live rows are in the newest generation, the large row keyed.
    #[test]
    fn a_crash_at_any_step_of_a_cleaning_loses_no_row() {
        for step in [Some(0), Some(2), None] {
            for finish in [false, true] {
                let (db, dir, s) = reopenable();
                s.stop_syncer();
                let want = cold_and_hot(&s);
                let total: i32 = want.iter().map(unread_contribution).sum();
                let oldest = s.rows.lock().generations[0];
                assert_eq!(oldest.live, 1500 + 1, "the cold rows and the large one");
                s.clean_oldest_now(step);
                check_generations(&s);
                if step.is_none() {
                    let cache = s.rows.lock();
                    assert_eq!(cache.retiring.len(), 1);
                    assert_eq!(cache.generations[0].live, 0, "carried forward");
                    let at = cache.find("big", RowHint::NONE).unwrap();
                    assert!(cache.rows[at as usize].bytes.is_none(), "left memory");
                    drop(cache);
                    assert_eq!(
                        keyed_row(&s, "big").as_ref(),
                        want.iter().find(|c| c.conversation_id == "big")
                    );
                    if finish {
                        s.flush().unwrap();
                        assert!(
                            !journal::generation_path(&dir, ROWS_JOURNAL, oldest.generation)
                                .exists()
                        );
                    }
                }
                if !finish || step.is_some() {
                    assert!(
                        journal::generation_path(&dir, ROWS_JOURNAL, oldest.generation).exists(),
                        "not deleted before the sync round"
                    );
                }
                assert_eq!(s.conversations().unwrap(), want, "{step:?} {finish}");
                // A crash: no join, no flush.
                drop(s);
                let s = Store::init(db.clone(), dir.clone()).unwrap();
                assert_eq!(s.conversations().unwrap(), want, "{step:?} {finish}");
                assert_eq!(s.total_unread().unwrap(), total);
                check_generations(&s);
                // Cleaned again (or for the first time) after the reopen: the same rows.
                s.clean_oldest_now(None);
                s.flush().unwrap();
                drop(s);
                let s = Store::init(db, dir).unwrap();
                assert_eq!(s.conversations().unwrap(), want, "{step:?} {finish}");
                check_generations(&s);
            }
        }
    }

    #[test]
    fn rows_written_while_a_cleaning_carries_them_reopen_in_their_newest_version() {
        let (db, dir, s) = reopenable();
        let mut want = cold_and_hot(&s);
        // The cleaning's thread carries the cold rows frame by frame while bursts rewrite
        // them: before, between and after their frames.
        {
            let mut cache = s.rows.lock();
            s.start_cleaning(&mut cache);
            assert!(
                cache.compaction.is_some(),
                "live rows: a thread carries them"
            );
        }
        for v in 5..9 {
            let part: Vec<Conversation> = (0..3000)
                .step_by(3)
                .map(|i| Conversation {
                    ex: "n".repeat(40).into(),
                    ..conversation(&format!("si_cold_{i:05}"), v, 0)
                })
                .collect();
            for c in part.chunks(200) {
                s.put_conversations(c).unwrap();
            }
            for c in part {
                let at = want
                    .iter()
                    .position(|w| w.conversation_id == c.conversation_id)
                    .unwrap();
                want[at] = c;
            }
        }
        join_compactions(&s);
        s.flush().unwrap();
        assert_eq!(s.conversations().unwrap(), want);
        check_generations(&s);
        assert!(
            !journal::generation_path(&dir, ROWS_JOURNAL, 1).exists(),
            "the cleaned generation is gone"
        );
        drop(s);
        let s = Store::init(db, dir).unwrap();
        assert_eq!(s.conversations().unwrap(), want);
        check_generations(&s);
    }

    /// review-s13 (latency): a carry lets the rows' lock go after CARRY_SCAN_MAX rows, and
    /// stops once it found as many rows as the generation has live, where it scanned every row
    /// under one hold; the rows scattered among many are all carried, and reopen.
    #[test]
    fn a_carry_scans_a_bounded_number_of_rows_per_hold_and_stops_at_the_last_live_one() {
        let (db, dir, s) = reopenable();
        s.stop_syncer();
        let n = 2 * CARRY_SCAN_MAX + 100;
        let mut want: Vec<Conversation> = (0..n)
            .map(|i| conversation(&format!("si_many_{i:05}"), 1, 0))
            .collect();
        s.put_conversations(&want).unwrap();
        s.rows.lock().journal.end_generation();
        // All but three rows written again, in a later generation.
        let live = [0, CARRY_SCAN_MAX + 7, n - 1];
        for (i, c) in want.iter_mut().enumerate() {
            if !live.contains(&i) {
                *c = conversation(&c.conversation_id, 2, 0);
            }
        }
        let again: Vec<Conversation> = want
            .iter()
            .enumerate()
            .filter(|(i, _)| !live.contains(i))
            .map(|(_, c)| c.clone())
            .collect();
        s.put_conversations(&again).unwrap();
        {
            let mut cache = s.rows.lock();
            let (id, oldest) = cache.oldest_uncleaned().unwrap();
            assert_eq!(oldest.live, 3);
            let (mut keyed, mut keyed_at) = (Vec::new(), Vec::new());
            let mut steps = Vec::new();
            let mut from = 0;
            while let Some(next) =
                Store::carry_rows(&mut cache, id, from, &mut keyed, &mut keyed_at).unwrap()
            {
                assert!(next - from <= CARRY_SCAN_MAX, "{from} -> {next}");
                steps.push(next);
                from = next;
            }
            assert_eq!(steps, [CARRY_SCAN_MAX, 2 * CARRY_SCAN_MAX]);
            assert_eq!(cache.stat_mut(id).map(|g| g.live), Some(0));
        }
        check_generations(&s);
        s.flush().unwrap();
        drop(s);
        let s = Store::init(db, dir).unwrap();
        want.sort_by(|a, b| a.conversation_id.cmp(&b.conversation_id));
        assert_eq!(s.conversations().unwrap(), want);
        check_generations(&s);
    }

    /// review-s13: a generation cleaned while a sync round's row sync is under way (the
    /// superseding append made after the round took its job) is not deleted by that round,
    /// whose sync does not cover the append, but by the next one.
    #[test]
    fn a_generation_cleaned_during_a_rounds_row_sync_waits_for_the_next_round() {
        let (db, dir, s) = reopenable();
        s.stop_syncer();
        s.put_conversation("a", &conversation("a", 1, 0)).unwrap();
        let first = s.rows.lock().journal.end_generation();
        s.flush().unwrap();
        let store = s.clone();
        WHILE_SYNCING.with(|hook| {
            *hook.borrow_mut() = Some(Box::new(move || {
                // a's only record in the first generation is superseded, which is then
                // cleaned with nothing to carry.
                store
                    .put_conversation("a", &conversation("a", 2, 0))
                    .unwrap();
                store.clean_oldest_now(None);
                assert_eq!(store.rows.lock().retiring.len(), 1, "marked");
            }))
        });
        s.flush().unwrap();
        assert!(
            WHILE_SYNCING.with(|hook| hook.borrow().is_none()),
            "the cleaning ran inside the round"
        );
        let path = journal::generation_path(&dir, ROWS_JOURNAL, first);
        assert!(
            path.exists(),
            "deleted by a round that did not sync what supersedes it"
        );
        s.flush().unwrap();
        assert!(!path.exists(), "deleted by the next round");
        check_generations(&s);
        drop(s);
        let s = Store::init(db, dir).unwrap();
        assert_eq!(s.conversation("a").unwrap(), Some(conversation("a", 2, 0)));
    }

    #[test]
    fn keyed_rows_of_earlier_stores_are_read_and_taken_into_the_first_snapshot() {
        // A schema-2 store as earlier versions left it: keyed rows plus a journal entry in
        // sled (and a message-index journal entry in sled).
        let db = sled::Config::new().temporary(true).open().unwrap();
        let dir = JournalDir::temporary().unwrap();
        db.open_tree(trees::META)
            .unwrap()
            .insert("schema", "2")
            .unwrap();
        let mut index_entry = Vec::new();
        put_bytes(&mut index_entry, format!("b/{:020}", 4).as_bytes());
        put_bytes(&mut index_entry, b"b4");
        db.open_tree(trees::MESSAGES)
            .unwrap()
            .insert(&journal_key(3)[..], index_entry)
            .unwrap();
        let tree = db.open_tree(trees::CONVERSATIONS).unwrap();
        let mut big = conversation("big", 3, 0);
        big.ex = "x".repeat(4 * ROW_KEEP_MAX).into();
        for c in [
            conversation("a", 1, 0),
            conversation("b", 2, 0),
            big.clone(),
        ] {
            tree.insert(c.conversation_id.as_bytes(), &*encode_row(&c))
                .unwrap();
        }
        let newer_b = conversation("b", 5, 0);
        let mut entry = Vec::new();
        put_bytes(&mut entry, b"b");
        put_bytes(&mut entry, &encode_row(&newer_b));
        tree.insert(&journal_key(7)[..], entry).unwrap();
        let s = Store::init(db.clone(), dir.clone()).unwrap();
        let expected = vec![conversation("a", 1, 0), newer_b.clone(), big.clone()];
        let sorted = |mut v: Vec<Conversation>| {
            v.sort_by(|x, y| x.conversation_id.cmp(&y.conversation_id));
            v
        };
        assert_eq!(s.conversations().unwrap(), sorted(expected.clone()));
        assert_eq!(s.total_unread().unwrap(), 9);
        // Taken over: the current schema, no journal entry left in sled, the rows in a
        // snapshot file.
        assert_eq!(stored_schema(&db), SCHEMA_VERSION.to_string().as_bytes());
        for tree in [trees::CONVERSATIONS, trees::MESSAGES] {
            let sled_journal = db.open_tree(tree).unwrap().range(&[JOURNAL][..]..).count();
            assert_eq!(sled_journal, 0, "{tree}");
        }
        assert_eq!(journal_entries(&s, trees::CONVERSATIONS), 1);
        assert_eq!(
            s.message_index_entry(&format!("b/{:020}", 4)).unwrap(),
            Some(b"b4".to_vec())
        );
        s.snapshot_rows(&mut s.rows.lock()).unwrap();
        assert_eq!(
            keyed_row(&s, "a"),
            None,
            "superseded keyed copies are removed"
        );
        assert_eq!(keyed_row(&s, "b"), None);
        assert_eq!(
            keyed_row(&s, "big").as_ref(),
            Some(&big),
            "large rows stay keyed"
        );
        assert_eq!(journal_entries(&s, trees::CONVERSATIONS), 1);
        drop(s);
        let s = Store::init(db, dir.clone()).unwrap();
        assert_eq!(s.conversations().unwrap(), sorted(expected));
        assert_eq!(s.total_unread().unwrap(), 9);
        // Writing goes on after the snapshot's entry.
        s.put_conversation("a", &conversation("a", 0, 0)).unwrap();
        assert_eq!(s.total_unread().unwrap(), 8);
    }

    /// Schema 4 kept the delivery ledger in sled (keyed rows of older stores, journal entries
    /// under `0xFF` + number): at open it is written into the ledger's journal file and removed
    /// from sled; an interrupted takeover (sled entries left beside the file) is done again.
    #[test]
    fn a_schema_4_stores_ledger_is_taken_over_from_sled_into_its_journal_file() {
        fn pairs(pairs: &[(&str, i64)]) -> Vec<u8> {
            let mut out = Vec::new();
            for (id, w) in pairs {
                out.extend_from_slice(&(id.len() as u16).to_be_bytes());
                out.extend_from_slice(id.as_bytes());
                out.extend_from_slice(&w.to_be_bytes());
            }
            out
        }
        let db = sled::Config::new().temporary(true).open().unwrap();
        let dir = JournalDir::temporary().unwrap();
        db.open_tree(trees::META)
            .unwrap()
            .insert("schema", "4")
            .unwrap();
        let tree = db.open_tree(trees::LEDGER).unwrap();
        tree.insert("keyed", &5i64.to_be_bytes()).unwrap();
        tree.insert("a", &1i64.to_be_bytes()).unwrap();
        tree.insert(journal_key(1), pairs(&[("a", 3), ("b", 7)]))
            .unwrap();
        tree.insert(journal_key(2), pairs(&[("a", 4), ("seen", 0)]))
            .unwrap();
        let watermarks = |s: &Store| {
            let mut w: Vec<_> = crate::ledger::Ledger::open(Some(s))
                .unwrap()
                .watermarks()
                .into_iter()
                .collect();
            w.sort();
            w
        };
        let expected = |b: i64| {
            vec![
                ("a".to_owned(), 4),
                ("b".to_owned(), b),
                ("keyed".to_owned(), 5),
                ("seen".to_owned(), 0),
            ]
        };
        let s = Store::init(db.clone(), dir.clone()).unwrap();
        assert_eq!(stored_schema(&db), SCHEMA_VERSION.to_string().as_bytes());
        assert!(tree.is_empty(), "nothing of the ledger is left in sled");
        let ledger_files = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with("ledger-")
            })
            .count();
        assert_eq!(ledger_files, 1, "one snapshot file");
        assert_eq!(watermarks(&s), expected(7));
        let l = crate::ledger::Ledger::open(Some(&s)).unwrap();
        l.ack("b", 8).unwrap();
        l.flush().unwrap();
        drop((l, s));
        // Interrupted after the file was written: the sled entries (here a stale one) are
        // taken over again, and the newer values in the files win.
        tree.insert("b", &1i64.to_be_bytes()).unwrap();
        db.open_tree(trees::META)
            .unwrap()
            .insert("schema", "4")
            .unwrap();
        let s = Store::init(db.clone(), dir.clone()).unwrap();
        assert!(tree.is_empty());
        assert_eq!(stored_schema(&db), SCHEMA_VERSION.to_string().as_bytes());
        assert_eq!(watermarks(&s), expected(8));
        drop(s);
        // A store of the current schema with nothing in sled opens as it is.
        let s = Store::init(db, dir.clone()).unwrap();
        assert_eq!(watermarks(&s), expected(8));
    }

    #[test]
    fn schema_1_stores_open_and_their_json_rows_are_migrated() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let dir = JournalDir::temporary().unwrap();
        db.open_tree(trees::META)
            .unwrap()
            .insert("schema", "1")
            .unwrap();
        let old = [conversation("sg_g", 2, 0), conversation("si_a_b", 5, 0)];
        let rows = db.open_tree(trees::CONVERSATIONS).unwrap();
        for c in &old {
            rows.insert(c.conversation_id.as_bytes(), serde_json::to_vec(c).unwrap())
                .unwrap();
        }
        let index = db.open_tree(trees::MESSAGES).unwrap();
        index
            .insert("si_a_b/00000000000000000001", "{\"sendID\":\"a\"}")
            .unwrap();
        let s = Store::init(db.clone(), dir.clone()).unwrap();
        assert_eq!(stored_schema(&db), SCHEMA_VERSION.to_string().as_bytes());
        for c in &old {
            let raw = rows.get(c.conversation_id.as_bytes()).unwrap().unwrap();
            assert_eq!(
                raw[0],
                crate::model::row_codec::ROW_TAG,
                "rewritten as binary"
            );
            assert_eq!(
                s.conversation(&c.conversation_id).unwrap().as_ref(),
                Some(c)
            );
        }
        assert_eq!(s.conversations().unwrap(), old.to_vec());
        assert_eq!(s.total_unread().unwrap(), 7);
        assert_eq!(
            s.message_index_entry("si_a_b/00000000000000000001")
                .unwrap()
                .as_deref(),
            Some(&b"{\"sendID\":\"a\"}"[..])
        );
        // Unknown versions are still refused.
        db.open_tree(trees::META)
            .unwrap()
            .insert("schema", "7")
            .unwrap();
        assert!(matches!(
            Store::init(db, dir.clone()),
            Err(StoreError::Schema { found: 7 })
        ));
    }

    #[test]
    fn message_index_journal_is_found_before_and_after_compaction() {
        let (db, dir, s) = reopenable();
        let key = |seq: i64| format!("c/{seq:020}");
        put_index(&s, (1..=3).map(|q| (key(q), q.to_string().into_bytes()))).unwrap();
        put_index(&s, [(key(4), b"4".to_vec()), (key(2), b"2b".to_vec())]).unwrap();
        assert_eq!(journal_entries(&s, trees::MESSAGES), 2);
        let index = s.raw_tree(trees::MESSAGES).unwrap();
        assert!(index.get(key(1)).unwrap().is_none(), "appended, not keyed");
        assert_eq!(s.message_index_entry(&key(1)).unwrap().unwrap(), b"1");
        assert_eq!(s.message_index_entry(&key(2)).unwrap().unwrap(), b"2b");
        assert_eq!(s.message_index_entry(&key(5)).unwrap(), None);
        // The engine's encoding of an entry is the same as a raw key and value.
        let (mut a, mut b) = (IndexBatch::default(), IndexBatch::default());
        for seq in [3, 1_234_567_890_123, u64::MAX] {
            a.push("c", seq, |out| out.extend_from_slice(b"3"));
            b.push_raw(&format!("c/{seq:020}"), b"3");
        }
        assert_eq!((a.journal, a.keys), (b.journal, b.keys));
        // Crash, reopen: the journal becomes a run.
        drop(s);
        let s = Store::init(db, dir.clone()).unwrap();
        assert_eq!(journal_entries(&s, trees::MESSAGES), 0);
        assert!(
            s.raw_tree(trees::MESSAGES).unwrap().is_empty(),
            "nothing keyed"
        );
        assert_eq!(s.index.lock().runs.len(), 1);
        for (q, v) in [(1, "1"), (2, "2b"), (3, "3"), (4, "4")] {
            assert_eq!(
                s.message_index_entry(&key(q)).unwrap().unwrap(),
                v.as_bytes()
            );
        }
        // At INDEX_JOURNAL_MAX journaled keys the journal is compacted.
        for chunk in (10..10 + INDEX_JOURNAL_MAX as i64)
            .collect::<Vec<_>>()
            .chunks(4096)
        {
            put_index(&s, chunk.iter().map(|&q| (key(q), b"x".to_vec()))).unwrap();
            // Found whether or not a background compaction is running.
            assert_eq!(
                s.message_index_entry(&key(chunk[0])).unwrap().unwrap(),
                b"x"
            );
            assert_eq!(s.message_index_entry(&key(3)).unwrap().unwrap(), b"3");
        }
        join_compactions(&s);
        assert_eq!(journal_entries(&s, trees::MESSAGES), 0);
        assert_eq!(s.message_index_entry(&key(10)).unwrap().unwrap(), b"x");
        assert_eq!(s.message_index_entry(&key(2)).unwrap().unwrap(), b"2b");
        assert!(s.index.lock().appended.is_empty());
        assert!(s.index.lock().map.is_empty());
        assert_eq!(s.index.lock().runs.len(), 2, "a run per fold");
        assert!(
            s.raw_tree(trees::MESSAGES).unwrap().is_empty(),
            "nothing keyed"
        );
        // Two folds more: four runs of one tier, merged by the fold's thread into one.
        for round in 1..=2 {
            let first = 100_000 * round;
            for chunk in (first..first + INDEX_JOURNAL_MAX as i64)
                .collect::<Vec<_>>()
                .chunks(4096)
            {
                put_index(&s, chunk.iter().map(|&q| (key(q), b"y".to_vec()))).unwrap();
            }
            join_compactions(&s);
        }
        assert_eq!(s.index.lock().runs.len(), 1, "merged");
        for (q, v) in [
            (1, "1"),
            (2, "2b"),
            (10, "x"),
            (100_000, "y"),
            (232_767, "y"),
        ] {
            assert_eq!(
                s.message_index_entry(&key(q)).unwrap().unwrap(),
                v.as_bytes()
            );
        }
        assert_eq!(s.message_index_entry(&key(232_768)).unwrap(), None);
        let runs = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                let name = e.as_ref().unwrap().file_name();
                name.to_string_lossy().starts_with("index-run-")
            })
            .count();
        assert_eq!(runs, 1, "the merged runs' files are deleted");
    }

    #[test]
    fn runs_left_by_reopens_are_merged_at_open() {
        let (db, dir, s) = reopenable();
        let key = |seq: u64| format!("c/{seq:020}");
        drop(s);
        for round in 1..=4 {
            let s = Store::init(db.clone(), dir.clone()).unwrap();
            assert_eq!(s.index.lock().runs.len(), round as usize - 1);
            put_index(&s, [(key(round), round.to_string().into_bytes())]).unwrap();
            drop(s); // a crash: the open folds the journal into a run
        }
        let s = Store::init(db, dir.clone()).unwrap();
        assert_eq!(s.index.lock().runs.len(), 1, "four runs merged");
        for q in 1..=4 {
            assert_eq!(
                s.message_index_entry(&key(q)).unwrap(),
                Some(q.to_string().into_bytes())
            );
        }
    }

    #[test]
    fn a_damaged_chunk_of_a_newer_run_leaves_the_older_runs_found() {
        let (db, dir, s) = reopenable();
        let key = |seq: u64| format!("c/{seq:020}");
        put_index(&s, (1..=3).map(|q| (key(q), q.to_string().into_bytes()))).unwrap();
        drop(s);
        // Run 1: 1..=3; run 2: 1..=3 again (redelivered) and 4, its only chunk then damaged.
        let s = Store::init(db.clone(), dir.clone()).unwrap();
        put_index(&s, (1..=4).map(|q| (key(q), q.to_string().into_bytes()))).unwrap();
        drop(s);
        let s = Store::init(db.clone(), dir.clone()).unwrap();
        assert_eq!(s.index.lock().runs.len(), 2);
        drop(s);
        let path = dir
            .path()
            .join("index-run-0000000000000002-0000000000000002.dat");
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        // The first entry's value (magic, chunk header, key length, key, value length): the
        // fences (first keys) still read right.
        std::os::unix::fs::FileExt::write_all_at(&f, b"\xFF", 8 + 8 + 4 + 22 + 4).unwrap();
        let s = Store::init(db, dir.clone()).unwrap();
        for q in 1..=3 {
            assert_eq!(
                s.message_index_entry(&key(q)).unwrap(),
                Some(q.to_string().into_bytes()),
                "{q} from the older run"
            );
        }
        assert!(
            matches!(
                s.message_index_entry(&key(4)),
                Err(StoreError::Io { source, .. }) if source.kind() == std::io::ErrorKind::InvalidData
            ),
            "only in the damaged chunk: a typed error"
        );
    }

    #[test]
    fn stores_and_lists_members_by_group() {
        let s = Store::temporary().unwrap();
        let m = GroupMember {
            group_id: "g1".into(),
            user_id: "u1".into(),
            ..Default::default()
        };
        s.put(trees::MEMBERS, "g1/u1", &m).unwrap();
        s.put(trees::MEMBERS, "g10/u1", &m).unwrap();
        assert_eq!(s.members("g1").unwrap().len(), 1);
        assert_eq!(s.member("g1", "u1").unwrap(), Some(m));
        let t = s.tree("cooldowns").unwrap();
        t.insert("k", "v").unwrap();
        assert!(s.tree("cooldowns").unwrap().get("k").unwrap().is_some());
    }

    #[test]
    fn a_schema_3_stores_index_blocks_are_read_under_the_runs() {
        let (db, dir, s) = reopenable();
        let key = |conv: &str, seq: u64| format!("{conv}/{seq:020}");
        // A message's entry never changes (the server's message at a seq is immutable), so an
        // entry indexed again has the same value.
        let value = |conv: &str, seq: u64| format!("{conv}{seq}").into_bytes();
        // A schema-3 store: an entry of an earlier version (one key per message) and block
        // records of its folds: a/2..=300 (three blocks), b/1..=5, a key that is not an index
        // key, and a/290..=310 folded again (redelivered after a crash).
        let index = s.raw_tree(trees::MESSAGES).unwrap();
        index.insert(key("a", 1), &b"old"[..]).unwrap();
        let mut pairs: Vec<(String, Vec<u8>)> = (2..=300)
            .map(|q| (key("a", q), value("a", q)))
            .chain((1..=5).map(|q| (key("b", q), value("b", q))))
            .collect();
        pairs.push(("plain".into(), b"p".to_vec()));
        let later: Vec<(String, Vec<u8>)> =
            (290..=310).map(|q| (key("a", q), value("a", q))).collect();
        for (fold, pairs) in [(1, &pairs), (2, &later)] {
            let blocks = index_blocks(pairs.iter().map(|(k, v)| (k.as_bytes(), &v[..])), fold);
            for (k, v) in blocks {
                index.insert(k, v).unwrap();
            }
        }
        assert_eq!(index.len(), 1 + 3 + 1 + 1 + 1, "old entry, blocks, plain");
        drop(s);
        db.open_tree(trees::META)
            .unwrap()
            .insert("schema", "3")
            .unwrap();
        // Opened by this version: new entries go to runs (a/305..=320 indexed again, a/321 and
        // c/1 new), the blocks stay readable.
        let s = Store::init(db.clone(), dir.clone()).unwrap();
        assert_eq!(stored_schema(&db), SCHEMA_VERSION.to_string().as_bytes());
        put_index(
            &s,
            (305..=321)
                .map(|q| (key("a", q), value("a", q)))
                .chain([(key("c", 1), value("c", 1))]),
        )
        .unwrap();
        drop(s);
        let s = Store::init(db, dir.clone()).unwrap();
        assert_eq!(journal_entries(&s, trees::MESSAGES), 0);
        assert_eq!(s.index.lock().runs.len(), 1);
        let get = |k: &str| s.message_index_entry(k).unwrap();
        assert_eq!(get(&key("a", 1)).as_deref(), Some(&b"old"[..]));
        for q in 2..=321 {
            assert_eq!(get(&key("a", q)), Some(value("a", q)), "a/{q}");
        }
        for q in 1..=5 {
            assert_eq!(get(&key("b", q)), Some(value("b", q)), "b/{q}");
        }
        assert_eq!(get(&key("c", 1)), Some(value("c", 1)));
        assert_eq!(get("plain").as_deref(), Some(&b"p"[..]));
        for missing in [
            key("a", 322),
            key("b", 6),
            key("c", 2),
            key("", 3),
            "a/x".into(),
        ] {
            assert_eq!(get(&missing), None, "{missing}");
        }
        assert_eq!(block_entry(&[BLOCK_TAG, 0, 0], 1), None, "truncated block");
    }

    #[test]
    fn a_failed_index_fold_backs_off_until_the_journal_doubles() {
        let mut b = FoldBackoff::default();
        assert!(!b.due(INDEX_JOURNAL_MAX - 1));
        assert!(b.due(INDEX_JOURNAL_MAX));
        b.failed(INDEX_JOURNAL_MAX + 10);
        let retry = (INDEX_JOURNAL_MAX + 10) * 2;
        assert!(!b.due(INDEX_JOURNAL_MAX + 11), "not at the next burst");
        assert!(!b.due(retry - 1));
        assert!(b.due(retry));
        b.failed(retry);
        assert!(
            !b.due(retry * 2 - 1),
            "backs off further after another failure"
        );
        assert!(b.due(retry * 2));
        b.succeeded();
        assert_eq!(b, FoldBackoff::default());
        b.failed(0);
        assert_eq!(b.at, 2 * INDEX_JOURNAL_MAX);
    }

    #[test]
    fn index_blocks_keep_the_later_pair_of_a_key_and_group_consecutive_seqs() {
        let key = |conv: &str, seq: u64| format!("{conv}/{seq:020}");
        let pairs = [
            (key("b", 2), b"b2-old".to_vec()),
            (key("a", 7), b"a7".to_vec()),
            (key("b", 1), b"b1".to_vec()),
            (key("b", 2), b"b2-new".to_vec()),
            (key("a", 9), b"a9".to_vec()),
            (key("a-x", 1), b"ax1".to_vec()),
            ("plain".to_string(), b"p1".to_vec()),
        ];
        let blocks = index_blocks(pairs.iter().map(|(k, v)| (k.as_bytes(), &v[..])), 0xAB);
        let keys: Vec<String> = blocks
            .iter()
            .map(|(k, _)| String::from_utf8(k.clone()).unwrap())
            .collect();
        let suffix = "~00000000000000ab";
        assert_eq!(
            keys,
            [
                // Key order ('-' sorts before '/'), not conversation order.
                format!("{}{suffix}", key("a-x", 1)),
                format!("{}{suffix}", key("a", 7)),
                format!("{}{suffix}", key("a", 9)),
                format!("{}{suffix}", key("b", 1)),
                "plain".to_string(),
            ],
            "a/7 and a/9 are not consecutive; b/1..=2 is one block"
        );
        let b = &blocks[3].1;
        assert_eq!(block_entry(b, 1), Some(&b"b1"[..]));
        assert_eq!(
            block_entry(b, 2),
            Some(&b"b2-new"[..]),
            "the later pair wins"
        );
        assert_eq!(block_entry(&blocks[0].1, 1), Some(&b"ax1"[..]));
        assert_eq!(blocks[4].1, b"p1");
        assert_eq!(
            seq_digits(u64::MAX),
            *format!("/{:020}", u64::MAX).as_bytes()
        );
    }

    #[test]
    fn an_index_hole_filled_by_a_later_fold_keeps_the_entries_after_it() {
        let (db, dir, s) = reopenable();
        let key = |seq: u64| format!("a/{seq:020}");
        let value = |seq: u64| format!("a{seq}").into_bytes();
        // Fold 1: seqs 1..=10 and 1000..=1010 (a hole between them).
        put_index(&s, (1..=10).chain(1000..=1010).map(|q| (key(q), value(q)))).unwrap();
        drop(s);
        // Fold 2 fills the hole with 8 blocks, all starting after seq 10.
        let s = Store::init(db.clone(), dir.clone()).unwrap();
        put_index(&s, (11..=999).map(|q| (key(q), value(q)))).unwrap();
        drop(s);
        let s = Store::init(db, dir.clone()).unwrap();
        for q in 1..=1010 {
            assert_eq!(
                s.message_index_entry(&key(q)).unwrap(),
                Some(value(q)),
                "{q}"
            );
        }
    }

    #[test]
    fn a_store_with_an_unreadable_conversation_row_opens() {
        let (db, dir, s) = reopenable();
        s.put_conversation("si_a_b", &conversation("si_a_b", 2, 0))
            .unwrap();
        drop(s);
        // A row a schema-1 migration could not convert, left keyed as it was.
        db.open_tree(trees::CONVERSATIONS)
            .unwrap()
            .insert("sg_bad", "{nope")
            .unwrap();
        let s = Store::init(db.clone(), dir.clone()).unwrap();
        assert!(matches!(
            s.conversation("sg_bad"),
            Err(StoreError::Corrupt { .. })
        ));
        assert_eq!(s.conversation("si_a_b").unwrap().unwrap().unread_count, 2);
        assert_eq!(s.total_unread().unwrap(), 2);
        // A snapshot leaves it keyed; a new write of the row replaces it.
        s.snapshot_rows(&mut s.rows.lock()).unwrap();
        assert!(matches!(
            s.conversation("sg_bad"),
            Err(StoreError::Corrupt { .. })
        ));
        s.put_conversation("sg_bad", &conversation("sg_bad", 1, 0))
            .unwrap();
        drop(s);
        let s = Store::init(db, dir.clone()).unwrap();
        assert_eq!(s.conversation("sg_bad").unwrap().unwrap().unread_count, 1);
        assert_eq!(s.total_unread().unwrap(), 3);
    }

    #[test]
    fn corrupt_documents_are_typed_errors() {
        let s = Store::temporary().unwrap();
        s.raw_tree(trees::FRIENDS)
            .unwrap()
            .insert("x", "{nope")
            .unwrap();
        assert!(matches!(s.friends(), Err(StoreError::Corrupt { .. })));
    }

    /// Frames of the newest row-journal generation file: its path and their locations.
    fn newest_row_file(s: &Store) -> (PathBuf, Vec<journal::Location>) {
        let cache = s.rows.lock();
        let files = cache.journal.files_through(u64::MAX);
        let (generation, file) = files.last().expect("a generation file");
        let path = journal::generation_path(cache.journal.dir(), ROWS_JOURNAL, *generation);
        let mut at = Vec::new();
        let mut offset = 0u64;
        journal::read_frames(
            file,
            |p| {
                at.push(journal::Location {
                    generation: *generation,
                    offset: offset + 8,
                    len: p.len() as u32,
                });
                offset += 8 + p.len() as u64;
                Ok(())
            },
            &path,
        )
        .unwrap();
        (path, at)
    }

    #[test]
    fn a_torn_or_corrupt_row_journal_tail_opens_with_the_earlier_entries() {
        let (db, dir, s) = reopenable();
        let first = [conversation("a", 1, 0), conversation("b", 2, 0)];
        s.put_conversations(&first).unwrap();
        s.put_conversation("a", &conversation("a", 5, 0)).unwrap();
        let (path, frames) = newest_row_file(&s);
        assert_eq!(frames.len(), 2);
        // A crash (no flush, no join), then the last frame torn mid-payload.
        drop(s);
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(frames[1].offset + 2).unwrap();
        let s = Store::init(db.clone(), dir.clone()).unwrap();
        assert_eq!(s.conversations().unwrap(), first.to_vec());
        assert_eq!(s.total_unread().unwrap(), 3);
        // Writing goes on in a new generation; a flipped byte in its last frame (crc).
        s.put_conversation("b", &conversation("b", 7, 0)).unwrap();
        s.put_conversation("c", &conversation("c", 1, 0)).unwrap();
        let (path, frames) = newest_row_file(&s);
        assert_eq!(frames.len(), 2);
        drop(s);
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        std::os::unix::fs::FileExt::write_all_at(&f, &[0xEE], frames[1].offset + 3).unwrap();
        let s = Store::init(db.clone(), dir.clone()).unwrap();
        assert_eq!(s.conversation("b").unwrap().unwrap().unread_count, 7);
        assert_eq!(
            s.conversation("c").unwrap(),
            None,
            "the corrupt frame is dropped"
        );
        assert_eq!(s.total_unread().unwrap(), 8);
        drop(s);
        // Dropped for good: the next open reads the same.
        let s = Store::init(db, dir.clone()).unwrap();
        assert_eq!(s.total_unread().unwrap(), 8);
    }

    #[test]
    fn a_crash_between_a_snapshot_and_the_deletion_of_older_files_replays_the_newest_rows() {
        let (db, dir, s) = reopenable();
        let mut big = conversation("big", 1, 0);
        big.ex = "x".repeat(4 * ROW_KEEP_MAX).into();
        s.put_conversations(&[
            conversation("a", 1, 0),
            conversation("b", 1, 0),
            big.clone(),
        ])
        .unwrap();
        s.put_conversation("a", &conversation("a", 2, 0)).unwrap();
        // The snapshot is planned, rows change after it (in the next generation), it is
        // written, and the process dies before the older generation is deleted.
        let plan = Store::plan_snapshot(&mut s.rows.lock(), None);
        s.put_conversation("b", &conversation("b", 3, 0)).unwrap();
        let (file, result) = write_snapshot(&s.db, &dir, &plan, &flush_sled(&s.db));
        result.unwrap();
        drop(file);
        assert_eq!(keyed_row(&s, "big").as_ref(), Some(&big), "written keyed");
        drop(s);
        let expect = |s: &Store| {
            assert_eq!(s.conversation("a").unwrap().unwrap().unread_count, 2);
            assert_eq!(s.conversation("b").unwrap().unwrap().unread_count, 3);
            assert_eq!(s.conversation("big").unwrap().as_ref(), Some(&big));
            assert_eq!(s.total_unread().unwrap(), 6);
        };
        let s = Store::init(db.clone(), dir.clone()).unwrap();
        assert_eq!(
            s.rows.lock().journal.generation_count(),
            3,
            "old, snapshot, newer"
        );
        expect(&s);
        // The same with the snapshot's file torn part-way (a crash while writing it).
        let plan = Store::plan_snapshot(&mut s.rows.lock(), None);
        let (file, result) = write_snapshot(&s.db, &dir, &plan, &flush_sled(&s.db));
        result.unwrap();
        file.unwrap().set_len(3).unwrap();
        drop(s);
        let s = Store::init(db.clone(), dir.clone()).unwrap();
        expect(&s);
        // A finished snapshot deletes every older generation.
        s.snapshot_rows(&mut s.rows.lock()).unwrap();
        assert_eq!(s.rows.lock().journal.generation_count(), 1);
        assert_eq!(journal_entries(&s, trees::CONVERSATIONS), 1);
        drop(s);
        let s = Store::init(db, dir.clone()).unwrap();
        expect(&s);
    }

    #[test]
    fn a_corrupt_frame_in_an_older_row_generation_skips_the_rest_of_that_file() {
        // The documented recovery: the rest of that generation is skipped, later generations
        // still apply over it, and the store opens.
        let (db, dir, s) = reopenable();
        s.put_conversation("a", &conversation("a", 1, 0)).unwrap();
        s.put_conversation("b", &conversation("b", 2, 0)).unwrap();
        s.put_conversation("c", &conversation("c", 3, 0)).unwrap();
        let (path, frames) = newest_row_file(&s);
        drop(s);
        let s = Store::init(db.clone(), dir.clone()).unwrap();
        s.put_conversation("c", &conversation("c", 4, 0)).unwrap();
        drop(s);
        let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        std::os::unix::fs::FileExt::write_all_at(&f, &[0xEE], frames[1].offset).unwrap();
        let s = Store::init(db, dir.clone()).unwrap();
        assert_eq!(s.conversation("a").unwrap().unwrap().unread_count, 1);
        assert_eq!(s.conversation("b").unwrap(), None);
        assert_eq!(s.conversation("c").unwrap().unwrap().unread_count, 4);
        assert_eq!(s.total_unread().unwrap(), 5);
    }

    #[test]
    fn temporary_stores_remove_their_journal_directory() {
        let s = Store::temporary().unwrap();
        s.put_conversation("a", &conversation("a", 1, 0)).unwrap();
        s.flush().unwrap();
        let path = s.journal_dir.path().to_path_buf();
        assert!(path.exists());
        let other = s.clone();
        drop(s);
        assert!(path.exists(), "another handle still uses it");
        drop(other);
        assert!(!path.exists());
    }

    #[test]
    fn a_torn_or_corrupt_index_journal_tail_opens_with_the_earlier_entries() {
        let db = sled::Config::new().temporary(true).open().unwrap();
        let dir = JournalDir::temporary().unwrap();
        let key = |seq: u64| format!("c/{seq:020}");
        for damage in ["torn", "crc"] {
            let s = Store::init(db.clone(), dir.clone()).unwrap();
            put_index(&s, (1..=3).map(|q| (key(q), b"v".to_vec()))).unwrap();
            put_index(&s, (4..=6).map(|q| (key(q), b"w".to_vec()))).unwrap();
            let (location, path) = {
                let index = s.index.lock();
                let at = index.entries[1];
                (
                    at,
                    journal::generation_path(&dir, INDEX_JOURNAL, at.generation),
                )
            };
            // A crash: no flush, no join; the last frame is damaged.
            drop(s);
            let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            match damage {
                "torn" => f.set_len(location.offset + 5).unwrap(),
                _ => std::os::unix::fs::FileExt::write_all_at(&f, b"X", location.offset + 30)
                    .unwrap(),
            }
            let s = Store::init(db.clone(), dir.clone()).unwrap();
            assert_eq!(journal_entries(&s, trees::MESSAGES), 0, "folded at open");
            for q in 1..=3 {
                assert_eq!(s.message_index_entry(&key(q)).unwrap(), Some(b"v".to_vec()));
            }
            for q in 4..=6 {
                assert_eq!(
                    s.message_index_entry(&key(q)).unwrap(),
                    None,
                    "{damage} {q}"
                );
            }
            // (The next round indexes 1..=6 again, as a redelivery would.)
            drop(s);
        }
    }

    #[test]
    fn a_crash_between_an_index_fold_and_the_deletion_of_its_files_folds_them_again() {
        let (db, dir, s) = reopenable();
        let key = |seq: u64| format!("c/{seq:020}");
        put_index(&s, (1..=200).map(|q| (key(q), q.to_string().into_bytes()))).unwrap();
        // The fold's run is written and durable, then the process dies before the generation
        // files are deleted (and entries appended after the fold started).
        let (files, run_id) = {
            let mut index = s.index.lock();
            let last = index.journal.end_generation();
            index.next_run += 1;
            (index.journal.files_through(last), index.next_run - 1)
        };
        assert!(fold_index(&files, &dir, run_id).unwrap().is_some());
        put_index(&s, [(key(201), b"201".to_vec())]).unwrap();
        assert_eq!(s.message_index_entry(&key(7)).unwrap(), Some(b"7".to_vec()));
        drop(s);
        let s = Store::init(db, dir.clone()).unwrap();
        assert_eq!(journal_entries(&s, trees::MESSAGES), 0);
        assert_eq!(
            s.index.lock().journal.generation_count(),
            0,
            "files deleted"
        );
        assert_eq!(
            s.index.lock().runs.len(),
            2,
            "the crashed fold's run and the open's (the same entries again, plus 201)"
        );
        for q in 1..=201 {
            assert_eq!(
                s.message_index_entry(&key(q)).unwrap(),
                Some(q.to_string().into_bytes()),
                "{q}"
            );
        }
    }

    #[test]
    fn dropping_the_last_handle_releases_the_store_at_once() {
        // The journal syncer holds a database handle: it is stopped and joined by the last
        // store handle's drop, so the directory can be opened again right away (sled's lock).
        let dir = tempfile::tempdir().unwrap();
        for unread in 1..=3 {
            let s = Store::open(dir.path()).unwrap();
            assert_eq!(
                s.conversation("a").unwrap().map(|c| c.unread_count),
                (unread > 1).then_some(unread - 1)
            );
            s.put_conversation("a", &conversation("a", unread, 0))
                .unwrap();
            let other = s.clone();
            drop(s);
            drop(other);
        }
    }

    /// The schema version an open records is on disk when the open returns (a fresh store's
    /// and an upgraded one's): the first sync round syncs the ledger's entries (in a format an
    /// older binary misreads, schema 6) before it flushes sled, so after a crash within it an
    /// older binary found its own version and read them.
    #[test]
    fn the_schema_an_open_records_is_on_disk_when_it_returns() {
        let dir = tempfile::tempdir().unwrap();
        // What a crash (a SIGKILL) leaves of sled: its files as written so far.
        let schema_after_a_crash = || {
            let copy = tempfile::tempdir().unwrap();
            for file in std::fs::read_dir(dir.path().join("store")).unwrap() {
                let file = file.unwrap();
                if file.file_type().unwrap().is_file() {
                    std::fs::copy(file.path(), copy.path().join(file.file_name())).unwrap();
                }
            }
            stored_schema(&sled::open(copy.path()).unwrap())
        };
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(
            schema_after_a_crash(),
            SCHEMA_VERSION.to_string().as_bytes()
        );
        drop(s);
        let db = sled::open(dir.path().join("store")).unwrap();
        db.open_tree(trees::META)
            .unwrap()
            .insert("schema", "5")
            .unwrap();
        db.flush().unwrap();
        drop(db);
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(
            schema_after_a_crash(),
            SCHEMA_VERSION.to_string().as_bytes()
        );
        drop(s);
    }
}

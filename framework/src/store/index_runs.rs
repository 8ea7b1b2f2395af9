//! Sorted runs of message-index entries: what the index journal is folded into.
//!
//! With many conversations every folded entry belongs to another conversation, so folding into
//! keyed sled records cost one scattered B-tree update per entry (sled 0.34 rewrites leaves:
//! ~400 bytes written per message at 100,000 conversations, plus its io threads and epoch GC).
//! A fold instead writes its entries, sorted by key and deduplicated (a later entry for a key
//! wins), as ONE sequential file, a *run*: `index-run-<lo, 16 hex>-<hi, 16 hex>.dat` in the
//! journal directory. Runs are numbered from 1 in fold order; a fold's run covers `lo == hi`,
//! a merge of runs `lo..=hi` covers their numbers, so a higher `hi` is newer.
//!
//! A run is an 8-byte magic, then chunks of about [`CHUNK`] bytes (16 KB), each
//! `[payload length u32 LE][crc32 of length and payload u32 LE][payload]`, the payload being
//! entries `[key length u32 BE][key][value length u32 BE][value]` in key order. The first key
//! and place of every chunk (its *fence*) is kept in memory, rebuilt at open from the chunk
//! headers (the payloads are not read then), so a lookup is a binary search of the fences and
//! one positioned read of a chunk, whose crc is checked.
//!
//! The last chunk of a run may be its *key filter* instead of entries (a payload starting with
//! the key length `u32::MAX`): a Bloom filter of its keys ([`FILTER_BITS`] bits per key), read
//! whole at open, so a lookup skips (almost) every run that does not hold the key: with many
//! conversations every run spans every conversation, and without it a lookup of an old entry
//! read a chunk of every newer run. A run without one (or whose filter fails its crc: a
//! warning) is looked in as if the filter said "maybe". (Store probe at 100,000 conversations,
//! ~6 runs: a lookup of an old entry ~18 us without filters, ~5.5 us with them, as with sled's
//! block records; ~1 byte of memory per indexed message.)
//!
//! Once [`MERGE_FAN_IN`] runs of one size tier are the newest, they are merged (a sequential
//! K-way merge) into one run of the next tier: lookups look at a number of runs logarithmic in
//! the index size, and every entry is rewritten once per tier.
//!
//! Crash safety: a run is written under a `.tmp` name, fdatasync'd, renamed, and the directory
//! synced; only then are the journal generations it folds (or the runs it merges) deleted.
//! Opening deletes `.tmp` files (a write a crash interrupted; what it held is still in its
//! sources) and runs whose numbers another run covers (a merge whose inputs a crash left).
//! Damage (a file changed after it was written, which the rename order rules out for crashes)
//! is reported or skipped, never a panic: at open, a chunk header that does not fit the file
//! ends the run's fences there (with a warning: the chunks after it are not found); a lookup
//! in a chunk whose crc fails is a [`StoreError::Io`] of kind `InvalidData`; a merge skips such
//! a chunk with a warning (its entries are lost: an index entry only serves revoke and
//! by-seq lookups, which then find nothing, as for a message never indexed).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::StoreError;

/// Payload bytes after which a run's chunk is ended (entries are never split). A lookup reads
/// and crc-checks one chunk per run it looks in (that its filter does not rule out): with
/// 64 KB chunks and no filters a lookup of an old entry (behind ~6 runs) took ~50 us (sled's
/// block records: ~5 us). The fences cost ~80 bytes of memory per chunk (~5 MB per GB
/// of index at 16 KB).
pub(crate) const CHUNK: usize = 16 * 1024;

/// Runs of one tier merged at once (and most runs a tier holds).
pub(crate) const MERGE_FAN_IN: usize = 4;

/// Run size (bytes) of tier 0; tier `t` holds runs of `TIER_BASE * MERGE_FAN_IN^t` bytes or more.
const TIER_BASE: u64 = 1 << 20;

/// Filter bits per key (3 probes: ~3% false positives), ~1 byte of memory per indexed message.
const FILTER_BITS: usize = 8;

/// Probes per key in a filter.
const FILTER_PROBES: u64 = 3;

/// The key length that marks a chunk as the run's key filter.
const FILTER_MARK: u32 = u32::MAX;

/// First bytes of a run file (format version 1).
const MAGIC: &[u8; 8] = b"OIMIXR01";

/// Bytes before a chunk's payload: its length and crc.
const HEADER: usize = 8;

const PREFIX: &str = "index-run-";
const SUFFIX: &str = ".dat";
const TMP_SUFFIX: &str = ".tmp";

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn invalid(path: &Path, what: String) -> StoreError {
    StoreError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, what),
    }
}

fn run_name(lo: u64, hi: u64) -> String {
    format!("{PREFIX}{lo:016x}-{hi:016x}{SUFFIX}")
}

/// `(lo, hi)` of a run file's name, `None` for other names.
fn parse_name(name: &str) -> Option<(u64, u64)> {
    let rest = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let (lo, hi) = rest.split_once('-')?;
    if lo.len() != 16 || hi.len() != 16 {
        return None;
    }
    let lo = u64::from_str_radix(lo, 16).ok()?;
    let hi = u64::from_str_radix(hi, 16).ok()?;
    (lo <= hi).then_some((lo, hi))
}

/// Makes the directory's entries (files created, renamed or deleted) durable.
fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_error(dir))
}

fn chunk_crc(len: [u8; 4], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&len);
    h.update(payload);
    h.finalize()
}

/// The first key and place of a chunk.
struct Fence {
    first: Box<[u8]>,
    /// Offset of the chunk's header in the file.
    offset: u64,
    /// Payload length.
    len: u32,
}

/// A Bloom filter of a run's keys.
struct Filter {
    bits: Vec<u64>,
}

/// A key's hash for the filters (stable across processes and versions: filters are stored):
/// 8 bytes at a time multiplied in, then a splitmix64 finaliser to spread similar keys (every
/// folded or merged key is hashed: a byte-wise hash cost ~0.1 us per message at 100,000
/// conversations).
fn key_hash(key: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = (key.len() as u64).wrapping_mul(K);
    let mut words = key.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        h = (h ^ w).wrapping_mul(K).rotate_left(29);
    }
    let mut tail = [0u8; 8];
    tail[..words.remainder().len()].copy_from_slice(words.remainder());
    h = (h ^ u64::from_le_bytes(tail)).wrapping_mul(K);
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

impl Filter {
    /// The bit positions of a key's hash in a filter of `bits` bits.
    fn probes(hash: u64, bits: u64) -> impl Iterator<Item = u64> {
        let step = (hash >> 32) | 1;
        (0..FILTER_PROBES).map(move |i| hash.wrapping_add(i.wrapping_mul(step)) % bits)
    }

    fn build(hashes: &[u64]) -> Filter {
        let words = (hashes.len() * FILTER_BITS).div_ceil(64).max(1);
        let mut bits = vec![0u64; words];
        let n = (words * 64) as u64;
        for &h in hashes {
            for p in Self::probes(h, n) {
                bits[(p / 64) as usize] |= 1 << (p % 64);
            }
        }
        Filter { bits }
    }

    fn may_contain(&self, key: &[u8]) -> bool {
        let n = (self.bits.len() * 64) as u64;
        Self::probes(key_hash(key), n).all(|p| self.bits[(p / 64) as usize] & (1 << (p % 64)) != 0)
    }

    /// The filter chunk's payload: the mark, then the words (little-endian).
    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&FILTER_MARK.to_be_bytes());
        for w in &self.bits {
            out.extend_from_slice(&w.to_le_bytes());
        }
    }

    /// From a filter chunk's payload (after the mark).
    fn decode(words: &[u8]) -> Option<Filter> {
        if words.is_empty() || !words.len().is_multiple_of(8) {
            return None;
        }
        let bits = words
            .chunks_exact(8)
            .map(|w| u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]))
            .collect();
        Some(Filter { bits })
    }
}

/// One run file, open for reading.
pub(crate) struct Run {
    lo: u64,
    hi: u64,
    path: PathBuf,
    file: File,
    fences: Vec<Fence>,
    /// The run's key filter, if it has a readable one.
    filter: Option<Filter>,
    bytes: u64,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("lo", &self.lo)
            .field("hi", &self.hi)
            .field("chunks", &self.fences.len())
            .field("bytes", &self.bytes)
            .finish()
    }
}

/// The next entry of a chunk payload at `*at`: key and value (`None` at the end, or if the rest
/// is malformed: lengths are checked, a crc-valid chunk we wrote never is).
fn next_pair<'a>(payload: &'a [u8], at: &mut usize) -> Option<(&'a [u8], &'a [u8])> {
    fn take<'a>(payload: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
        let len_bytes = payload.get(*at..at.checked_add(4)?)?;
        let len = usize::try_from(u32::from_be_bytes(len_bytes.try_into().ok()?)).ok()?;
        let start = *at + 4;
        let b = payload.get(start..start.checked_add(len)?)?;
        *at = start + len;
        Some(b)
    }
    let mut pos = *at;
    let key = take(payload, &mut pos)?;
    let value = take(payload, &mut pos)?;
    *at = pos;
    Some((key, value))
}

impl Run {
    /// Opens run `lo..=hi` in `dir`, reading its chunk headers and first keys.
    fn open(dir: &Path, lo: u64, hi: u64) -> Result<Run, StoreError> {
        let path = dir.join(run_name(lo, hi));
        let file = File::open(&path).map_err(io_error(&path))?;
        let bytes = file.metadata().map_err(io_error(&path))?.len();
        let mut magic = [0u8; 8];
        if bytes >= MAGIC.len() as u64 {
            file.read_exact_at(&mut magic, 0).map_err(io_error(&path))?;
        }
        if &magic != MAGIC {
            return Err(invalid(&path, "not a message-index run file".into()));
        }
        let mut fences = Vec::new();
        let mut filter = None;
        let mut at = MAGIC.len() as u64;
        // Header, the first key's length and (usually all of) the key in one read.
        let mut head = vec![0u8; HEADER + 4 + 256];
        while at < bytes {
            let want = (bytes - at).min(head.len() as u64) as usize;
            let damaged = |why: &str| {
                tracing::warn!(
                    path = %path.display(),
                    offset = at,
                    why,
                    "message-index run damaged: the chunks from here on are not found"
                );
            };
            if want < HEADER + 4 {
                damaged("truncated chunk header");
                break;
            }
            file.read_exact_at(&mut head[..want], at)
                .map_err(io_error(&path))?;
            let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
            let end = at + HEADER as u64 + u64::from(len);
            let key_len = u32::from_be_bytes([head[8], head[9], head[10], head[11]]);
            if key_len == FILTER_MARK && end == bytes {
                // The key filter (the last chunk): read whole, crc-checked.
                let mut chunk = Vec::new();
                match read_checked(&file, &path, at, len, &mut chunk) {
                    Ok(()) => filter = Filter::decode(&chunk[HEADER + 4..]),
                    Err(e) => tracing::warn!(error = %e, "message-index run filter unreadable"),
                }
                if filter.is_none() {
                    tracing::warn!(path = %path.display(), "message-index run without a filter");
                }
                break;
            }
            if end > bytes || u64::from(key_len) + 4 > u64::from(len) {
                damaged("chunk length does not fit");
                break;
            }
            let key_at = HEADER + 4;
            let first: Box<[u8]> = if key_at + key_len as usize <= want {
                head[key_at..key_at + key_len as usize].into()
            } else {
                let mut key = vec![0u8; key_len as usize];
                file.read_exact_at(&mut key, at + key_at as u64)
                    .map_err(io_error(&path))?;
                key.into()
            };
            fences.push(Fence {
                first,
                offset: at,
                len,
            });
            at = end;
        }
        Ok(Run {
            lo,
            hi,
            path,
            file,
            fences,
            filter,
            bytes,
        })
    }

    /// Numbers of the folds this run covers.
    #[cfg(test)]
    pub(crate) fn covers(&self) -> std::ops::RangeInclusive<u64> {
        self.lo..=self.hi
    }

    /// The size tier of this run (see [`TIER_BASE`]).
    fn tier(&self) -> u32 {
        (self.bytes / TIER_BASE).max(1).ilog(MERGE_FAN_IN as u64)
    }

    /// Reads chunk `i` (header and payload) into `out`; an error if its crc fails. The payload
    /// is `out[HEADER..]` (not moved to the front: a copy of the chunk per lookup).
    fn read_chunk(&self, i: usize, out: &mut Vec<u8>) -> Result<(), StoreError> {
        let fence = &self.fences[i];
        read_checked(&self.file, &self.path, fence.offset, fence.len, out)
    }

    /// The value under `key`, if this run holds it (`buf`: a buffer for the chunk read, kept
    /// by the caller across runs).
    pub(crate) fn get(&self, key: &[u8], buf: &mut Vec<u8>) -> Result<Option<Vec<u8>>, StoreError> {
        if self.filter.as_ref().is_some_and(|f| !f.may_contain(key)) {
            return Ok(None);
        }
        let after = self.fences.partition_point(|f| &*f.first <= key);
        let Some(i) = after.checked_sub(1) else {
            return Ok(None);
        };
        self.read_chunk(i, buf)?;
        let mut at = HEADER;
        while let Some((k, v)) = next_pair(buf, &mut at) {
            match k.cmp(key) {
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => return Ok(Some(v.to_vec())),
                std::cmp::Ordering::Greater => break,
            }
        }
        Ok(None)
    }

    /// Deletes the file (its entries are durable elsewhere; readers holding the run keep
    /// reading the open file). A failure is logged: the next open deletes a covered run.
    fn delete(&self) {
        delete_file(&self.path);
    }
}

/// Reads the chunk at `offset` whose payload is `len` bytes (header and payload) into `out`; an
/// error if its header or crc does not match.
fn read_checked(
    file: &File,
    path: &Path,
    offset: u64,
    len: u32,
    out: &mut Vec<u8>,
) -> Result<(), StoreError> {
    out.clear();
    out.resize(HEADER + len as usize, 0);
    file.read_exact_at(out, offset).map_err(io_error(path))?;
    let len_bytes = [out[0], out[1], out[2], out[3]];
    let crc = u32::from_le_bytes([out[4], out[5], out[6], out[7]]);
    if u32::from_le_bytes(len_bytes) != len || chunk_crc(len_bytes, &out[HEADER..]) != crc {
        return Err(invalid(
            path,
            format!("message-index run chunk at {offset} fails its crc"),
        ));
    }
    Ok(())
}

/// Deletes a run file whose entries are durable elsewhere; a failure is logged (the next open
/// deletes a covered run).
fn delete_file(path: &Path) {
    if let Err(e) = std::fs::remove_file(path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(path = %path.display(), error = %e, "message-index run not deleted");
    }
}

/// Writes a run: chunks as entries come, under a temporary name until [`RunWriter::finish`].
struct RunWriter {
    dir: PathBuf,
    lo: u64,
    hi: u64,
    tmp: PathBuf,
    file: File,
    /// The chunk being filled (header space first).
    chunk: Vec<u8>,
    /// Where the chunk goes.
    offset: u64,
    fences: Vec<Fence>,
    /// The last key pushed (entries must come in strictly increasing key order).
    last: Vec<u8>,
    /// The keys' hashes, for the filter.
    hashes: Vec<u64>,
    finished: bool,
}

impl RunWriter {
    fn create(dir: &Path, lo: u64, hi: u64) -> Result<RunWriter, StoreError> {
        let tmp = dir.join(format!("{}{TMP_SUFFIX}", run_name(lo, hi)));
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .map_err(io_error(&tmp))?;
        file.write_all_at(MAGIC, 0).map_err(io_error(&tmp))?;
        let mut chunk = Vec::with_capacity(CHUNK + 1024);
        chunk.resize(HEADER, 0);
        Ok(RunWriter {
            dir: dir.to_path_buf(),
            lo,
            hi,
            tmp,
            file,
            chunk,
            offset: MAGIC.len() as u64,
            fences: Vec::new(),
            last: Vec::new(),
            hashes: Vec::new(),
            finished: false,
        })
    }

    /// Appends an entry; keys must be strictly increasing (a caller bug otherwise, reported
    /// as an error rather than a run that lookups would misread).
    fn push(&mut self, key: &[u8], value: &[u8]) -> Result<(), StoreError> {
        if !self.fences.is_empty() && key <= &self.last[..] {
            return Err(invalid(&self.tmp, "run entries out of order".into()));
        }
        let (Ok(key_len), Ok(value_len)) = (u32::try_from(key.len()), u32::try_from(value.len()))
        else {
            return Err(invalid(&self.tmp, "run entry larger than 4 GiB".into()));
        };
        if self.chunk.len() == HEADER {
            self.fences.push(Fence {
                first: key.into(),
                offset: self.offset,
                len: 0,
            });
        }
        self.chunk.extend_from_slice(&key_len.to_be_bytes());
        self.chunk.extend_from_slice(key);
        self.chunk.extend_from_slice(&value_len.to_be_bytes());
        self.chunk.extend_from_slice(value);
        self.last.clear();
        self.last.extend_from_slice(key);
        self.hashes.push(key_hash(key));
        if self.chunk.len() - HEADER >= CHUNK {
            self.end_chunk()?;
        }
        Ok(())
    }

    fn end_chunk(&mut self) -> Result<(), StoreError> {
        if self.chunk.len() == HEADER {
            return Ok(());
        }
        let payload_len = self.chunk.len() - HEADER;
        let len = u32::try_from(payload_len)
            .map_err(|_| invalid(&self.tmp, "run chunk larger than 4 GiB".into()))?
            .to_le_bytes();
        let crc = chunk_crc(len, &self.chunk[HEADER..]);
        self.chunk[..4].copy_from_slice(&len);
        self.chunk[4..HEADER].copy_from_slice(&crc.to_le_bytes());
        self.file
            .write_all_at(&self.chunk, self.offset)
            .map_err(io_error(&self.tmp))?;
        if let Some(fence) = self.fences.last_mut() {
            fence.len = payload_len as u32;
        }
        self.offset += self.chunk.len() as u64;
        self.chunk.truncate(HEADER);
        Ok(())
    }

    /// Makes the run durable under its name (file synced, renamed, directory synced) and opens
    /// it for reading; `None` (and no file) if it holds no entry.
    fn finish(mut self) -> Result<Option<Run>, StoreError> {
        self.end_chunk()?;
        if self.fences.is_empty() {
            self.finished = true;
            let _ = std::fs::remove_file(&self.tmp);
            return Ok(None);
        }
        // The filter, as the last chunk (not a fence).
        let filter = Filter::build(&std::mem::take(&mut self.hashes));
        let last_len = self.fences.last().map(|f| f.len);
        filter.encode(&mut self.chunk);
        self.end_chunk()?;
        if let (Some(fence), Some(len)) = (self.fences.last_mut(), last_len) {
            fence.len = len; // end_chunk set it to the filter's
        }
        self.finished = true;
        let written = (|| {
            self.file.sync_data().map_err(io_error(&self.tmp))?;
            let path = self.dir.join(run_name(self.lo, self.hi));
            std::fs::rename(&self.tmp, &path).map_err(io_error(&path))?;
            Ok::<_, StoreError>(path)
        })();
        let path = match written {
            Ok(path) => path,
            Err(e) => {
                let _ = std::fs::remove_file(&self.tmp);
                return Err(e);
            }
        };
        sync_dir(&self.dir)?;
        let file = File::open(&path).map_err(io_error(&path))?;
        Ok(Some(Run {
            lo: self.lo,
            hi: self.hi,
            path,
            file,
            fences: std::mem::take(&mut self.fences),
            filter: Some(filter),
            bytes: self.offset,
        }))
    }
}

impl Drop for RunWriter {
    fn drop(&mut self) {
        if !self.finished {
            // An error part-way: the sources stay, the partial file goes.
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Writes entries (sorted by key, each key once) as run `id` in `dir`; `None` if there are none.
pub(crate) fn write_run<'a>(
    dir: &Path,
    id: u64,
    entries: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
) -> Result<Option<Run>, StoreError> {
    let mut writer = RunWriter::create(dir, id, id)?;
    for (key, value) in entries {
        writer.push(key, value)?;
    }
    writer.finish()
}

/// Reads a run's entries in order, chunk by chunk, for a merge.
struct Cursor<'a> {
    run: &'a Run,
    next_chunk: usize,
    payload: Vec<u8>,
    /// Where the current entry is in `payload`, and where the next one starts.
    entry: Option<(usize, usize)>,
}

impl<'a> Cursor<'a> {
    fn new(run: &'a Run) -> Result<Cursor<'a>, StoreError> {
        let mut cursor = Cursor {
            run,
            next_chunk: 0,
            payload: Vec::new(),
            entry: None,
        };
        cursor.advance()?;
        Ok(cursor)
    }

    fn current(&self) -> Option<(&[u8], &[u8])> {
        let (at, _) = self.entry?;
        next_pair(&self.payload, &mut { at })
    }

    fn advance(&mut self) -> Result<(), StoreError> {
        let mut at = self.entry.map_or(self.payload.len(), |(_, next)| next);
        loop {
            let start = at;
            if next_pair(&self.payload, &mut at).is_some() {
                self.entry = Some((start, at));
                return Ok(());
            }
            // The chunk is done: the next one whose crc holds.
            loop {
                let Some(i) = (self.next_chunk < self.run.fences.len()).then_some(self.next_chunk)
                else {
                    self.entry = None;
                    return Ok(());
                };
                self.next_chunk += 1;
                match self.run.read_chunk(i, &mut self.payload) {
                    Ok(()) => break,
                    Err(StoreError::Io { source, path })
                        if source.kind() == std::io::ErrorKind::InvalidData =>
                    {
                        tracing::warn!(
                            path = %path.display(),
                            error = %source,
                            "damaged message-index run chunk skipped by a merge"
                        );
                    }
                    Err(e) => return Err(e),
                }
            }
            at = HEADER;
        }
    }
}

/// Merges `runs` (consecutive, oldest first) into one run covering their numbers; of entries
/// with one key the newest run's wins. `None` if they held no readable entry.
pub(crate) fn merge(dir: &Path, runs: &[Arc<Run>]) -> Result<Option<Run>, StoreError> {
    let (Some(first), Some(last)) = (runs.first(), runs.last()) else {
        return Ok(None);
    };
    if runs.len() < 2 {
        // Its output would replace its only input under the same name.
        return Err(invalid(
            &first.path,
            "a merge needs two runs or more".into(),
        ));
    }
    let mut writer = RunWriter::create(dir, first.lo, last.hi)?;
    let mut cursors = runs
        .iter()
        .map(|r| Cursor::new(r))
        .collect::<Result<Vec<_>, _>>()?;
    let mut key = Vec::new();
    loop {
        // The smallest key; of equal keys the newest run's (the last cursor holding it).
        let mut best: Option<usize> = None;
        for (i, c) in cursors.iter().enumerate() {
            let Some((key, _)) = c.current() else {
                continue;
            };
            let better = match best.and_then(|b| cursors[b].current()) {
                Some((best_key, _)) => key <= best_key,
                None => true,
            };
            if better {
                best = Some(i);
            }
        }
        let Some(best) = best else {
            break;
        };
        let Some((best_key, value)) = cursors[best].current() else {
            break;
        };
        writer.push(best_key, value)?;
        key.clear();
        key.extend_from_slice(best_key);
        for c in cursors.iter_mut() {
            if c.current().is_some_and(|(k, _)| k == &key[..]) {
                c.advance()?;
            }
        }
    }
    writer.finish()
}

/// The newest runs to merge now, if [`MERGE_FAN_IN`] or more of the newest tier are the newest
/// (`runs` oldest first): their start in `runs`.
pub(crate) fn merge_due(runs: &[Arc<Run>]) -> Option<usize> {
    let tier = runs.last()?.tier();
    let same = runs.iter().rev().take_while(|r| r.tier() == tier).count();
    (same >= MERGE_FAN_IN).then(|| runs.len() - same)
}

/// Deletes merged runs once the run replacing them is durable.
pub(crate) fn delete_runs(runs: &[Arc<Run>]) {
    for run in runs {
        run.delete();
    }
}

/// Opens the runs in `dir`, oldest first, and returns them with the number the next fold's run
/// takes: deletes `.tmp` files (interrupted writes) and runs another run covers (a merge's
/// inputs a crash left). A run file that does not read as one (damage, or not ours: a bad
/// magic, a range overlapping another run's) is left alone and ignored with a warning: the
/// index is an aid to revoke and by-seq lookups, not worth refusing to open the store for.
pub(crate) fn open_runs(dir: &Path) -> Result<(Vec<Arc<Run>>, u64), StoreError> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io_error(dir))? {
        let entry = entry.map_err(io_error(dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        if let Some(run) = name.strip_suffix(TMP_SUFFIX)
            && parse_name(run).is_some()
        {
            let path = entry.path();
            tracing::warn!(path = %path.display(), "interrupted message-index run write removed");
            std::fs::remove_file(&path).map_err(io_error(&path))?;
            continue;
        }
        if let Some(range) = parse_name(name) {
            found.push(range);
        }
    }
    // Never reused, even a number of a file ignored below.
    let next = found
        .iter()
        .map(|&(_, hi)| hi)
        .max()
        .unwrap_or(0)
        .saturating_add(1);
    // Widest first among equal starts: a covered run comes after its cover.
    found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut runs: Vec<Arc<Run>> = Vec::new();
    for (lo, hi) in found {
        let path = dir.join(run_name(lo, hi));
        if let Some(prev) = runs.last()
            && lo <= prev.hi
        {
            if hi <= prev.hi {
                // Merged already: the merge's crash left it.
                delete_file(&path);
            } else {
                tracing::warn!(path = %path.display(), "message-index run overlapping another ignored");
            }
            continue;
        }
        match Run::open(dir, lo, hi) {
            Ok(run) => runs.push(Arc::new(run)),
            Err(StoreError::Io { path, source })
                if source.kind() == std::io::ErrorKind::InvalidData =>
            {
                tracing::warn!(path = %path.display(), error = %source, "message-index run ignored");
            }
            Err(e) => return Err(e),
        }
    }
    Ok((runs, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(keys: impl IntoIterator<Item = u32>, tag: &str) -> Vec<(Vec<u8>, Vec<u8>)> {
        keys.into_iter()
            .map(|k| {
                (
                    format!("conv{k:06}/{:020}", k % 7).into_bytes(),
                    format!("{tag}{k}").into_bytes(),
                )
            })
            .collect()
    }

    fn write(dir: &Path, id: u64, e: &[(Vec<u8>, Vec<u8>)]) -> Arc<Run> {
        Arc::new(
            write_run(dir, id, e.iter().map(|(k, v)| (&k[..], &v[..])))
                .unwrap()
                .unwrap(),
        )
    }

    fn get(run: &Run, k: u32) -> Option<String> {
        run.get(
            format!("conv{k:06}/{:020}", k % 7).as_bytes(),
            &mut Vec::new(),
        )
        .unwrap()
        .map(|v| String::from_utf8(v).unwrap())
    }

    #[test]
    fn a_run_finds_every_entry_across_chunks_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let e = entries((0..20_000).map(|k| k * 2), "v");
        let run = write(dir.path(), 1, &e);
        assert!(run.fences.len() > 5, "several chunks: {run:?}");
        for k in [0, 2, 1000, 19_998, 39_998] {
            assert_eq!(get(&run, k), Some(format!("v{k}")));
        }
        for k in [1, 999, 39_999, 40_000] {
            assert_eq!(get(&run, k), None);
        }
        assert_eq!(
            run.get(b"", &mut Vec::new()).unwrap(),
            None,
            "before the first key"
        );
        let (runs, next) = open_runs(dir.path()).unwrap();
        assert_eq!(next, 2);
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].fences.len(), run.fences.len());
        assert_eq!(get(&runs[0], 31_000), Some("v31000".into()));
        // Nothing but entries: no run, no file.
        assert!(
            write_run(dir.path(), 2, std::iter::empty())
                .unwrap()
                .is_none()
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_runs_key_filter_skips_absent_keys_and_a_damaged_one_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let e = entries((0..20_000).map(|k| k * 2), "v");
        let run = write(dir.path(), 1, &e);
        let path = run.path.clone();
        let bytes = run.bytes;
        drop(run);
        let (runs, _) = open_runs(dir.path()).unwrap();
        let filter = runs[0].filter.as_ref().expect("read back at open");
        assert!(
            e.iter().all(|(k, _)| filter.may_contain(k)),
            "no false negative"
        );
        let absent = (0..20_000)
            .map(|k| k * 2 + 1)
            .filter(|k| filter.may_contain(format!("conv{k:06}/{:020}", k % 7).as_bytes()))
            .count();
        assert!(absent < 1_000, "{absent} false positives in 20,000");
        drop(runs);
        // A flipped bit in the filter: its crc fails, the run is read without it.
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all_at(b"\x55", bytes - 3).unwrap();
        let (runs, _) = open_runs(dir.path()).unwrap();
        assert!(runs[0].filter.is_none());
        assert_eq!(get(&runs[0], 39_998), Some("v39998".into()));
        assert_eq!(get(&runs[0], 39_997), None);
    }

    #[test]
    fn out_of_order_entries_are_an_error_and_leave_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let e = [
            (b"b".to_vec(), b"1".to_vec()),
            (b"a".to_vec(), b"2".to_vec()),
        ];
        assert!(write_run(dir.path(), 1, e.iter().map(|(k, v)| (&k[..], &v[..]))).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_merge_keeps_the_newest_value_and_replaces_its_inputs_after_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(dir.path(), 1, &entries(0..3000, "a"));
        let b = write(dir.path(), 2, &entries(2000..5000, "b"));
        let c = write(dir.path(), 3, &entries((0..6000).step_by(3), "c"));
        let merged = merge(dir.path(), &[a, b, c]).unwrap().unwrap();
        assert_eq!(merged.covers(), 1..=3);
        assert_eq!(get(&merged, 1), Some("a1".into()));
        assert_eq!(get(&merged, 2500), Some("b2500".into()));
        assert_eq!(get(&merged, 2501), Some("b2501".into()));
        assert_eq!(get(&merged, 2502), Some("c2502".into()));
        assert_eq!(get(&merged, 5997), Some("c5997".into()));
        assert_eq!(get(&merged, 5998), None);
        // A crash before the inputs were deleted: the open deletes them, and an interrupted
        // write's temporary file.
        std::fs::write(dir.path().join(format!("{}.tmp", run_name(4, 4))), b"torn").unwrap();
        let d = write(dir.path(), 4, &entries([1], "d"));
        drop(d);
        let (runs, _) = open_runs(dir.path()).unwrap();
        let covers: Vec<_> = runs.iter().map(|r| r.covers()).collect();
        assert_eq!(covers, [1..=3, 4..=4]);
        let mut names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, [run_name(1, 3), run_name(4, 4)]);
    }

    #[test]
    fn damaged_runs_are_errors_or_skipped_never_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let run = write(dir.path(), 1, &entries(0..10_000, "v"));
        let other = write(dir.path(), 2, &entries([20_000], "x"));
        let chunks = run.fences.len();
        let second = run.fences[1].offset;
        let in_second = run.fences[1].first.to_vec();
        let path = run.path.clone();
        drop((run, other));
        // A flipped byte inside the second chunk's payload: lookups there are a typed error,
        // the other chunks still answer, a merge skips that chunk.
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.write_all_at(b"\xFF", second + HEADER as u64 + 100)
            .unwrap();
        let (runs, next) = open_runs(dir.path()).unwrap();
        assert_eq!(next, 3);
        let run = &runs[0];
        match run.get(&in_second, &mut Vec::new()) {
            Err(StoreError::Io { source, .. }) => {
                assert_eq!(source.kind(), std::io::ErrorKind::InvalidData)
            }
            other => panic!("expected a crc error, got {other:?}"),
        }
        assert_eq!(get(run, 0), Some("v0".into()));
        assert_eq!(get(run, 9_999), Some("v9999".into()));
        let merged = merge(dir.path(), &runs).unwrap().unwrap();
        assert_eq!(merged.fences.len(), chunks - 1);
        assert_eq!(get(&merged, 0), Some("v0".into()));
        assert_eq!(get(&merged, 20_000), Some("x20000".into()));
        assert_eq!(merged.get(&in_second, &mut Vec::new()).unwrap(), None);

        // A run cut short: the chunks before the cut are found (the open warns).
        let dir = tempfile::tempdir().unwrap();
        let run = write(dir.path(), 1, &entries(0..10_000, "w"));
        let path = run.path.clone();
        drop(run);
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(second + 20).unwrap();
        let (runs, _) = open_runs(dir.path()).unwrap();
        assert_eq!(runs[0].fences.len(), 1);
        assert_eq!(get(&runs[0], 0), Some("w0".into()));
        assert_eq!(get(&runs[0], 9_999), None);

        // A chunk length pointing past the end: no chunk. A file that is not a run, and one
        // overlapping another without covering it: ignored, their numbers not reused.
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(run_name(1, 1)), b"OIMIXR01\xFF\xFF\xFF\xFF").unwrap();
        std::fs::write(dir.path().join(run_name(7, 7)), b"garbage").unwrap();
        drop(write(dir.path(), 3, &entries([1], "a")));
        drop(write(dir.path(), 4, &entries([1], "b")));
        std::fs::rename(
            dir.path().join(run_name(4, 4)),
            dir.path().join(run_name(3, 5)),
        )
        .unwrap();
        drop(write(dir.path(), 4, &entries([1], "c")));
        std::fs::rename(
            dir.path().join(run_name(4, 4)),
            dir.path().join(run_name(2, 4)),
        )
        .unwrap();
        let (runs, next) = open_runs(dir.path()).unwrap();
        let covers: Vec<_> = runs.iter().map(|r| (r.covers(), r.fences.len())).collect();
        assert_eq!(covers, [(1..=1, 0), (2..=4, 1)]);
        assert_eq!(next, 8);
        assert!(dir.path().join(run_name(3, 5)).exists(), "left alone");
        assert!(dir.path().join(run_name(7, 7)).exists(), "left alone");
    }

    #[test]
    fn merges_are_due_when_the_newest_tier_has_fan_in_runs() {
        let dir = tempfile::tempdir().unwrap();
        let small = |id| write(dir.path(), id, &entries([id as u32], "s"));
        let mut runs: Vec<Arc<Run>> = (1..=3).map(small).collect();
        assert_eq!(merge_due(&runs), None);
        runs.push(small(4));
        assert_eq!(merge_due(&runs), Some(0));
        let merged = Arc::new(merge(dir.path(), &runs).unwrap().unwrap());
        assert_eq!(merged.covers(), 1..=4);
        assert_eq!(merge_due(&[merged]), None);
        assert_eq!(parse_name(&run_name(3, 9)), Some((3, 9)));
        for bad in [
            "index-run-0000000000000002-0000000000000001.dat",
            "index-run-1-2.dat",
            "index-0000000000000001.log",
        ] {
            assert_eq!(parse_name(bad), None, "{bad}");
        }
    }
}

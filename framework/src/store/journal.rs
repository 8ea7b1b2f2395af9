//! Append-only journal files: the store's conversation-row and message-index journals, outside
//! sled.
//!
//! sled 0.34 rewrites a whole leaf every few changes, so journal entries appended at the end of
//! a tree cost several times their size in writes (~2 KB written per event for ~260 B of data,
//! measured at 100,000 conversations). Here a journal is a directory of generation files
//! `<kind>-<generation, 16 hex digits>.log`, each a sequence of frames
//! `[payload length u32 LE][crc32 of length and payload u32 LE][payload]`: an append is one
//! write(2) of its frame (nothing buffered in the process between calls, so a process crash
//! loses nothing appended), the files are synced with fdatasync every
//! [`super::FLUSH_EVERY_MS`] (so a power loss loses at most that much, as with sled), and a
//! generation is deleted whole once what replaces it (a snapshot, a fold into keyed records) is
//! durable.
//!
//! Opening replays every generation in order. A frame that is torn (the file ends inside it) or
//! fails its crc ends the replay of its file: a crash or power loss tears the tail of the files
//! written last, and an unsynced part of a file may read back as anything after a power loss.
//! The newest generation is truncated there (with a warning). In an older generation the rest
//! of the file is skipped with a warning (documented recovery, not an error): after a power
//! loss that is the unsynced tail of a generation ended just before, and in any case the
//! journal's entries are newer-wins updates, so what is skipped only leaves older versions (a
//! conversation row the next sync brings back, a message-index entry a revoke event reads).
//! The crc covers the length too, so a zero-filled region never reads as valid empty frames.

use std::fs::{File, OpenOptions};
use std::io::{IoSlice, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::StoreError;

/// Bytes before a frame's payload: its length and crc.
const HEADER: usize = 8;

/// Where a frame's payload is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Location {
    /// The generation file.
    pub(crate) generation: u64,
    /// Offset of the payload in the file.
    pub(crate) offset: u64,
    /// Payload length.
    pub(crate) len: u32,
}

/// The directory of the journal files; a temporary one is removed with its last handle.
#[derive(Clone, Debug)]
pub(crate) struct JournalDir {
    path: Arc<PathBuf>,
    /// Keeps a temporary directory. Journals hold an unguarded copy
    /// ([`JournalDir::unguarded`]): the store's handles decide when it goes, not a background
    /// thread that still holds a journal for a moment.
    _temporary: Option<Arc<TemporaryDir>>,
}

#[derive(Debug)]
struct TemporaryDir(PathBuf);

impl Drop for TemporaryDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            tracing::warn!(path = %self.0.display(), error = %e, "temporary journal directory not removed");
        }
    }
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl JournalDir {
    /// The directory `path` (created if missing).
    pub(crate) fn at(path: &Path) -> Result<JournalDir, StoreError> {
        std::fs::create_dir_all(path).map_err(io_error(path))?;
        Ok(JournalDir {
            path: Arc::new(path.to_path_buf()),
            _temporary: None,
        })
    }

    /// A new directory under the system's temporary directory, removed when the last handle
    /// on it is dropped.
    pub(crate) fn temporary() -> Result<JournalDir, StoreError> {
        static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "openim-bot-journal-{}-{n}-{nanos:08x}",
            std::process::id()
        ));
        // create_dir, not create_dir_all: an existing directory is someone else's.
        std::fs::create_dir(&path).map_err(io_error(&path))?;
        Ok(JournalDir {
            path: Arc::new(path.clone()),
            _temporary: Some(Arc::new(TemporaryDir(path))),
        })
    }

    /// The same directory, without keeping a temporary one.
    fn unguarded(&self) -> JournalDir {
        JournalDir {
            path: self.path.clone(),
            _temporary: None,
        }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    fn file(&self, kind: &str, generation: u64) -> PathBuf {
        self.path.join(format!("{kind}-{generation:016x}.log"))
    }

    /// Makes the directory's entries (files created or deleted) durable.
    fn sync(&self) -> Result<(), StoreError> {
        File::open(&*self.path)
            .and_then(|d| d.sync_all())
            .map_err(io_error(&self.path))
    }
}

/// A generation file being appended to.
struct Appender {
    generation: u64,
    file: Arc<File>,
    /// Bytes of whole frames in the file (where the next frame goes).
    len: u64,
    /// Appended to since the last sync.
    dirty: bool,
}

/// One journal: its generation files, oldest first, and the one appended to.
pub(crate) struct Journal {
    dir: JournalDir,
    kind: &'static str,
    /// Every generation file present (written by this handle or replayed), by number.
    generations: std::collections::BTreeMap<u64, Arc<File>>,
    /// The generation appends go to (created at the first append after open or a rotation).
    appender: Option<Appender>,
    /// Number of the next generation to create.
    next_generation: u64,
    /// Generations ended since their last sync that still need one.
    unsynced: Vec<Arc<File>>,
    /// A file was created or deleted since the directory's last sync.
    dir_dirty: bool,
    /// Held while syncing, so that [`Journal::sync_job`]'s callers (the periodic syncer and an
    /// explicit flush) do not return before an earlier caller's sync finished.
    sync_lock: Arc<parking_lot::Mutex<()>>,
    /// Frames appended by this handle so far.
    appends: u64,
    /// Every frame of the first `durable` appends is synced (see [`Journal::synced`]).
    durable: u64,
    /// Files of generations taken out ([`Journal::detach_below`]) and not deleted yet, oldest
    /// first: deleted in this order, a newer one never before an older one that is still
    /// there (see [`Journal::begin_deleting`]).
    undeleted: Vec<PathBuf>,
    /// Some caller is deleting files taken with [`Journal::begin_deleting`].
    deleting: bool,
}

/// Files to sync, taken from a [`Journal`] under its owner's lock and synced outside it.
pub(crate) struct SyncJob {
    files: Vec<Arc<File>>,
    dir: Option<JournalDir>,
    path: PathBuf,
    /// The journal's appends when the job was taken: once it has run, they are durable.
    through: u64,
}

impl SyncJob {
    /// The number of appends the job covers (for [`Journal::synced`] once it has run).
    pub(crate) fn through(&self) -> u64 {
        self.through
    }

    /// Syncs the files (fdatasync), then the directory if files were created or deleted. On
    /// an error, give the job back with [`Journal::requeue`].
    pub(crate) fn run(&self) -> Result<(), StoreError> {
        for file in &self.files {
            file.sync_data().map_err(io_error(&self.path))?;
        }
        if let Some(dir) = &self.dir {
            dir.sync()?;
        }
        Ok(())
    }
}

impl Journal {
    /// A journal with no files (a placeholder until [`Journal::open`]'s result replaces it).
    pub(crate) fn closed(dir: &JournalDir, kind: &'static str) -> Journal {
        Journal {
            dir: dir.unguarded(),
            kind,
            generations: Default::default(),
            appender: None,
            next_generation: 1,
            unsynced: Vec::new(),
            dir_dirty: false,
            sync_lock: Default::default(),
            appends: 0,
            durable: 0,
            undeleted: Vec::new(),
            deleting: false,
        }
    }

    /// Opens the journal `kind` in `dir` and replays it: `replay` gets every frame's location
    /// and payload, oldest generation first. Appends go to a new generation.
    pub(crate) fn open(
        dir: &JournalDir,
        kind: &'static str,
        mut replay: impl FnMut(Location, &[u8]) -> Result<(), StoreError>,
    ) -> Result<Journal, StoreError> {
        let mut found = Vec::new();
        let entries = std::fs::read_dir(dir.path()).map_err(io_error(dir.path()))?;
        for entry in entries {
            let entry = entry.map_err(io_error(dir.path()))?;
            let name = entry.file_name();
            let Some(generation) = name.to_str().and_then(|n| parse_name(kind, n)) else {
                continue;
            };
            found.push(generation);
        }
        found.sort_unstable();
        let mut generations = std::collections::BTreeMap::new();
        let mut payload = Vec::new();
        for (i, &generation) in found.iter().enumerate() {
            let path = dir.file(kind, generation);
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .map_err(io_error(&path))?;
            let file_len = file.metadata().map_err(io_error(&path))?.len();
            let mut at = 0u64;
            while at < file_len {
                match read_frame(&file, at, file_len, &mut payload).map_err(io_error(&path))? {
                    Some(len) => {
                        let location = Location {
                            generation,
                            offset: at + HEADER as u64,
                            len,
                        };
                        replay(location, &payload)?;
                        at += HEADER as u64 + u64::from(len);
                    }
                    None => break,
                }
            }
            if at < file_len {
                let newest = i + 1 == found.len();
                tracing::warn!(
                    path = %path.display(),
                    offset = at,
                    dropped = file_len - at,
                    newest,
                    "journal file ends in a torn or corrupt frame: the rest of it is skipped"
                );
                if newest {
                    // Later opens see a clean file (appends go to a new generation anyway).
                    file.set_len(at).map_err(io_error(&path))?;
                }
            }
            generations.insert(generation, Arc::new(file));
        }
        // What the last run appended may still be in the page cache only (a process crash):
        // the first sync covers the replayed files and their directory entries, so that the
        // store's sync order (rows, index, then the ledger) holds for them too instead of the
        // kernel's writeback, which follows no order between files.
        let unsynced = generations.values().cloned().collect();
        let dir_dirty = !generations.is_empty();
        Ok(Journal {
            dir: dir.unguarded(),
            kind,
            generations,
            appender: None,
            next_generation: found.last().map_or(1, |g| g + 1),
            unsynced,
            dir_dirty,
            sync_lock: Default::default(),
            appends: 0,
            durable: 0,
            undeleted: Vec::new(),
            deleting: false,
        })
    }

    /// Appends `payload` as one frame (a single write(2) of header and payload).
    ///
    /// On an error nothing is appended: the frame is cut off again, or if that fails too the
    /// generation is ended (its torn tail is skipped at replay) and the next append starts a
    /// new one.
    pub(crate) fn append(&mut self, payload: &[u8]) -> Result<Location, StoreError> {
        let len = u32::try_from(payload.len()).map_err(|_| StoreError::Io {
            path: self.dir.path().to_path_buf(),
            source: std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "journal entry larger than 4 GiB",
            ),
        })?;
        let appender = match self.appender.take() {
            Some(appender) => appender,
            None => self.new_appender()?,
        };
        let appender = self.appender.insert(appender);
        let header = frame_header(payload);
        let written = write_frame(&appender.file, &header, payload);
        appender.dirty = true;
        if let Err(e) = written {
            let path = self.dir.file(self.kind, appender.generation);
            let cut = appender.file.set_len(appender.len).and_then(|()| {
                std::io::Seek::seek(&mut &*appender.file, std::io::SeekFrom::Start(appender.len))
            });
            if cut.is_err() {
                self.end_generation();
            }
            return Err(StoreError::Io { path, source: e });
        }
        let location = Location {
            generation: appender.generation,
            offset: appender.len + HEADER as u64,
            len,
        };
        appender.len += (HEADER + payload.len()) as u64;
        self.appends += 1;
        Ok(location)
    }

    /// Creates the next generation file for appends.
    fn new_appender(&mut self) -> Result<Appender, StoreError> {
        let (generation, file) = loop {
            let generation = self.next_generation;
            let path = self.dir.file(self.kind, generation);
            let created = OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path);
            self.next_generation += 1;
            match created {
                Ok(file) => break (generation, file),
                // Not ours (created after the open): never appended to, replayed in order at
                // the next open. The number is skipped.
                Err(e)
                    if e.kind() == std::io::ErrorKind::AlreadyExists
                        && self.next_generation < MAX_GENERATION => {}
                Err(e) => return Err(io_error(&path)(e)),
            }
        };
        let file = Arc::new(file);
        // fdatasync of a new file does not make its directory entry durable.
        self.dir_dirty = true;
        self.generations.insert(generation, file.clone());
        Ok(Appender {
            generation,
            file,
            len: 0,
            dirty: false,
        })
    }

    /// Ends the generation appended to: later appends go to a new one. Returns the number of
    /// the newest generation so far (every generation up to it is complete).
    pub(crate) fn end_generation(&mut self) -> u64 {
        if let Some(appender) = self.appender.take()
            && appender.dirty
        {
            self.unsynced.push(appender.file);
        }
        self.next_generation - 1
    }

    /// Ends the generation appended to and reserves the next number for a generation written
    /// whole elsewhere ([`write_generation`]); later appends go to the one after it.
    pub(crate) fn reserve_generation(&mut self) -> u64 {
        self.end_generation();
        let reserved = self.next_generation;
        self.next_generation += 1;
        reserved
    }

    /// The generation appends go to now, if one is open (the next append otherwise creates
    /// one).
    pub(crate) fn appending(&self) -> Option<u64> {
        self.appender.as_ref().map(|a| a.generation)
    }

    /// Frames appended by this handle so far.
    pub(crate) fn appends(&self) -> u64 {
        self.appends
    }

    /// Frames appended by this handle whose files a sync covered ([`Journal::synced`]): every
    /// frame of the first this many appends is durable.
    pub(crate) fn durable(&self) -> u64 {
        self.durable
    }

    /// Records that a [`SyncJob`] covering the first `through` appends has run.
    pub(crate) fn synced(&mut self, through: u64) {
        self.durable = self.durable.max(through);
    }

    /// Takes the generations below `first` out of the journal; their files are deleted with
    /// [`Journal::begin_deleting`] (outside the owner's lock) or [`Journal::remove_below`].
    /// As [`Journal::remove_below`], only once what replaces them is durable.
    pub(crate) fn detach_below(&mut self, first: u64) {
        let rest = self.generations.split_off(&first);
        let removed = std::mem::replace(&mut self.generations, rest);
        // Their content is superseded: not synced again (a sync failing for good would keep
        // retrying them, their disk space held by the open descriptor).
        self.unsynced
            .retain(|f| !removed.values().any(|r| Arc::ptr_eq(r, f)));
        self.undeleted.extend(
            removed
                .keys()
                .map(|generation| self.dir.file(self.kind, *generation)),
        );
    }

    /// The detached files to delete now, oldest first, for the caller to delete with
    /// [`delete_batches`] outside the owner's lock, reporting with [`Journal::end_deleting`];
    /// `None` if there are none, or if another caller is deleting (it takes these too).
    ///
    /// Why one deleter, in order: a newer generation deleted while an older one survives (an
    /// unlink that failed, or two callers' unlinks interleaved and then a crash) leaves the
    /// older one's records to replay over what replaced them outside the journal (a large
    /// row's keyed copy, loaded first), rolling it back.
    #[must_use = "the files taken must be deleted and reported with end_deleting"]
    pub(crate) fn begin_deleting(&mut self) -> Option<Vec<PathBuf>> {
        if self.deleting || self.undeleted.is_empty() {
            return None;
        }
        self.deleting = true;
        Some(std::mem::take(&mut self.undeleted))
    }

    /// Reports a [`Journal::begin_deleting`] batch: `left` are its files not deleted (the
    /// first failure and those after it), kept to try again first at the next deletion;
    /// `deleted` whether any was (the next sync covers the directory). Returns the files
    /// detached meanwhile, for the same caller to delete next, if all went.
    #[must_use = "the files returned must be deleted and reported with end_deleting"]
    pub(crate) fn end_deleting(
        &mut self,
        mut left: Vec<PathBuf>,
        deleted: bool,
    ) -> Option<Vec<PathBuf>> {
        self.dir_dirty |= deleted;
        if !left.is_empty() {
            left.append(&mut self.undeleted);
            self.undeleted = left;
            self.deleting = false;
            return None;
        }
        if self.undeleted.is_empty() {
            self.deleting = false;
            return None;
        }
        Some(std::mem::take(&mut self.undeleted))
    }

    /// Files taken out and not deleted yet (tests).
    #[cfg(test)]
    pub(crate) fn undeleted(&self) -> &[PathBuf] {
        &self.undeleted
    }

    /// Takes in a generation written by [`write_generation`].
    pub(crate) fn adopt(&mut self, generation: u64, file: File) {
        self.generations.insert(generation, Arc::new(file));
    }

    /// The files of generations up to `last` (for a background thread to read).
    pub(crate) fn files_through(&self, last: u64) -> Vec<(u64, Arc<File>)> {
        self.generations
            .range(..=last)
            .map(|(g, f)| (*g, f.clone()))
            .collect()
    }

    /// Deletes the files of generations below `first` (what replaces them is durable), in
    /// order, under the owner's lock. A file that cannot be deleted is logged and kept, with
    /// every newer one, for the next deletion to try again (until then a reopen replays them:
    /// harmless, each older than what replaced it, as is one a power loss brings back before
    /// the directory's next sync, which the syncer does within its interval). If another
    /// caller is deleting outside the lock ([`Journal::begin_deleting`]), it deletes these.
    pub(crate) fn remove_below(&mut self, first: u64) {
        self.detach_below(first);
        let batch = self.begin_deleting();
        delete_batches(batch, |left, deleted| self.end_deleting(left, deleted));
    }

    /// Reads back the payload at `location`.
    pub(crate) fn read(&self, location: Location) -> Result<Vec<u8>, StoreError> {
        let path = || self.dir.file(self.kind, location.generation);
        let Some(file) = self.generations.get(&location.generation) else {
            return Err(StoreError::Io {
                path: path(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "journal generation already deleted",
                ),
            });
        };
        let mut out = vec![0; location.len as usize];
        file.read_exact_at(&mut out, location.offset)
            .map_err(|source| StoreError::Io {
                path: path(),
                source,
            })?;
        Ok(out)
    }

    /// What a sync must cover now: the generation appended to if written since its last
    /// sync, generations ended since, the directory if a file was created. Run it outside the
    /// owner's lock while holding the returned guard's lock (see [`Journal::sync_lock`]).
    pub(crate) fn sync_job(&mut self) -> SyncJob {
        let mut files = std::mem::take(&mut self.unsynced);
        if let Some(appender) = self.appender.as_mut()
            && std::mem::take(&mut appender.dirty)
        {
            files.push(appender.file.clone());
        }
        SyncJob {
            files,
            dir: std::mem::take(&mut self.dir_dirty).then(|| self.dir.clone()),
            path: self.dir.path().to_path_buf(),
            through: self.appends,
        }
    }

    /// Takes back a job whose sync failed: its files stay due, so the next sync (the syncer's
    /// or [`super::Store::flush`]'s) tries again and reports the error again rather than
    /// counting them as synced. (After a failed fdatasync Linux may have dropped the dirty
    /// pages already: the error is what matters.)
    pub(crate) fn requeue(&mut self, job: SyncJob) {
        self.unsynced.extend(job.files);
        self.dir_dirty |= job.dir.is_some();
    }

    /// The lock to hold from taking a [`SyncJob`] until it has run.
    pub(crate) fn sync_lock(&self) -> Arc<parking_lot::Mutex<()>> {
        self.sync_lock.clone()
    }

    /// The directory of the journal's files.
    pub(crate) fn dir(&self) -> &JournalDir {
        &self.dir
    }

    /// Whether something appended, ended, created or deleted still waits for a sync.
    #[cfg(test)]
    pub(crate) fn needs_sync(&self) -> bool {
        self.appender.as_ref().is_some_and(|a| a.dirty)
            || !self.unsynced.is_empty()
            || self.dir_dirty
    }

    /// Number of generation files present.
    #[cfg(test)]
    pub(crate) fn generation_count(&self) -> usize {
        self.generations.len()
    }
}

/// Writes a whole generation `generation` of journal `kind` (a snapshot) from `frames`, then
/// makes it durable (file and directory synced). Returns the file for [`Journal::adopt`].
pub(crate) fn write_generation<'a>(
    dir: &JournalDir,
    kind: &str,
    generation: u64,
    frames: impl IntoIterator<Item = &'a [u8]>,
) -> Result<File, StoreError> {
    let path = dir.file(kind, generation);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(io_error(&path))?;
    let written = frames
        .into_iter()
        .try_for_each(|payload| write_frame(&file, &frame_header(payload), payload))
        .and_then(|()| file.sync_data());
    if let Err(e) = written {
        // Not adopted, so nothing would delete it; its whole frames would only replay rows
        // older than the generations after it.
        let _ = std::fs::remove_file(&path);
        return Err(StoreError::Io { path, source: e });
    }
    dir.sync()?;
    Ok(file)
}

/// Deletes `batch` (from [`Journal::begin_deleting`]) and each batch `end` hands back after it:
/// `end` reports a batch to the journal ([`Journal::end_deleting`], under whatever lock guards
/// it, which is not held while files are deleted).
pub(crate) fn delete_batches(
    mut batch: Option<Vec<PathBuf>>,
    mut end: impl FnMut(Vec<PathBuf>, bool) -> Option<Vec<PathBuf>>,
) {
    while let Some(paths) = batch {
        let (left, deleted) = delete_in_order(paths);
        batch = end(left, deleted);
    }
}

/// Makes `path`, a generation's file, impossible to delete as a file (tests): a directory with
/// an entry takes its place.
#[cfg(test)]
pub(crate) fn make_undeletable(path: &Path) {
    std::fs::remove_file(path).unwrap();
    std::fs::create_dir(path).unwrap();
    std::fs::write(path.join("entry"), b"x").unwrap();
}

/// Deletes `paths` in order, stopping at the first that cannot be deleted (one already gone
/// counts as deleted): returns it with those after it, and whether any file was deleted.
fn delete_in_order(paths: Vec<PathBuf>) -> (Vec<PathBuf>, bool) {
    let mut deleted = false;
    for (at, path) in paths.iter().enumerate() {
        match std::fs::remove_file(path) {
            Ok(()) => deleted = true,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(
                    path = %path.display(),
                    error = %e,
                    "journal file not deleted (tried again, with newer ones, at the next deletion)"
                );
                let mut left = paths;
                left.drain(..at);
                return (left, deleted);
            }
        }
    }
    (Vec::new(), deleted)
}

/// Calls `f` with every whole frame's payload of `file`, from the start up to the first torn or
/// corrupt frame (a generation another thread wrote completely, or skipped as at replay).
pub(crate) fn read_frames(
    file: &File,
    mut f: impl FnMut(&[u8]) -> Result<(), StoreError>,
    path: &Path,
) -> Result<(), StoreError> {
    let file_len = file.metadata().map_err(io_error(path))?.len();
    let mut payload = Vec::new();
    let mut at = 0u64;
    while at < file_len {
        match read_frame(file, at, file_len, &mut payload).map_err(io_error(path))? {
            Some(len) => {
                f(&payload)?;
                at += HEADER as u64 + u64::from(len);
            }
            None => break,
        }
    }
    Ok(())
}

/// The path of a generation file (for errors and tests).
pub(crate) fn generation_path(dir: &JournalDir, kind: &str, generation: u64) -> PathBuf {
    dir.file(kind, generation)
}

/// Generation numbers at or above this are not ours (one is used per snapshot or fold, from 1):
/// such a file is ignored, so numbering after it cannot overflow.
const MAX_GENERATION: u64 = 1 << 62;

fn parse_name(kind: &str, name: &str) -> Option<u64> {
    let hex = name
        .strip_prefix(kind)?
        .strip_prefix('-')?
        .strip_suffix(".log")?;
    if hex.len() != 16 {
        return None;
    }
    let generation = u64::from_str_radix(hex, 16).ok()?;
    if generation >= MAX_GENERATION {
        tracing::warn!(
            file = name,
            "journal file with an impossible generation number ignored"
        );
        return None;
    }
    Some(generation)
}

fn frame_crc(len: [u8; 4], payload: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&len);
    h.update(payload);
    h.finalize()
}

fn frame_header(payload: &[u8]) -> [u8; HEADER] {
    // Callers check the length fits (append) or pass snapshot chunks far below 4 GiB.
    let len = (payload.len() as u32).to_le_bytes();
    let mut header = [0; HEADER];
    header[..4].copy_from_slice(&len);
    header[4..].copy_from_slice(&frame_crc(len, payload).to_le_bytes());
    header
}

/// Writes header and payload at the file's position, in one write(2) when the kernel takes it
/// whole (it does for regular files unless the disk is full or a signal interrupts).
fn write_frame(file: &File, header: &[u8; HEADER], payload: &[u8]) -> std::io::Result<()> {
    let mut out = file;
    let total = HEADER + payload.len();
    let mut done = out.write_vectored(&[IoSlice::new(header), IoSlice::new(payload)])?;
    while done < total {
        let n = if done < HEADER {
            out.write(&header[done..])?
        } else {
            out.write(&payload[done - HEADER..])?
        };
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        done += n;
    }
    Ok(())
}

/// Reads the frame at `at` into `payload`: its length, or `None` if it is torn (the file ends
/// within it) or fails its crc.
fn read_frame(
    file: &File,
    at: u64,
    file_len: u64,
    payload: &mut Vec<u8>,
) -> std::io::Result<Option<u32>> {
    let mut header = [0u8; HEADER];
    if file_len - at < HEADER as u64 {
        return Ok(None);
    }
    file.read_exact_at(&mut header, at)?;
    let len_bytes = [header[0], header[1], header[2], header[3]];
    let crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    let len = u32::from_le_bytes(len_bytes);
    // Checked against the file first: a corrupt length must not allocate gigabytes.
    if u64::from(len) > file_len - at - HEADER as u64 {
        return Ok(None);
    }
    payload.clear();
    payload.resize(len as usize, 0);
    file.read_exact_at(payload, at + HEADER as u64)?;
    if frame_crc(len_bytes, payload) != crc {
        return Ok(None);
    }
    Ok(Some(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replayed(dir: &JournalDir, kind: &'static str) -> (Journal, Vec<Vec<u8>>) {
        let mut seen = Vec::new();
        let j = Journal::open(dir, kind, |_, p| {
            seen.push(p.to_vec());
            Ok(())
        })
        .unwrap();
        (j, seen)
    }

    /// Appends one frame to each of `n` generations (numbered from 1).
    fn generations(n: u64) -> (JournalDir, Journal) {
        let dir = JournalDir::temporary().unwrap();
        let (mut j, _) = replayed(&dir, "t");
        for g in 1..=n {
            assert_eq!(j.append(format!("g{g}").as_bytes()).unwrap().generation, g);
            j.end_generation();
        }
        (dir, j)
    }

    /// A generation file that cannot be deleted holds back every newer one (replaying an older
    /// file over what replaced a newer one could roll a row back); the next deletion tries it
    /// first, then deletes the rest in order.
    #[test]
    fn a_file_not_deleted_holds_back_newer_ones_until_a_later_deletion() {
        let (dir, mut j) = generations(4);
        let path = |g| generation_path(&dir, "t", g);
        make_undeletable(&path(2));
        j.remove_below(4);
        assert!(!path(1).exists(), "the oldest is deleted");
        assert!(path(3).exists(), "newer than the one left: kept");
        assert_eq!(j.undeleted(), [path(2), path(3)]);
        assert_eq!(j.generation_count(), 1);
        // Until then they replay (older than what replaced them).
        std::fs::remove_dir_all(path(2)).unwrap();
        j.remove_below(4);
        assert!(!path(3).exists());
        assert!(j.undeleted().is_empty());
        let (_, seen) = replayed(&dir, "t");
        assert_eq!(seen, [b"g4"]);
    }

    /// One deleter at a time: files detached while another caller deletes outside the lock
    /// are left to it, and it deletes them after its own, in order.
    #[test]
    fn files_detached_during_a_deletion_are_deleted_after_it_by_the_same_deleter() {
        let (dir, mut j) = generations(4);
        let path = |g| generation_path(&dir, "t", g);
        j.detach_below(2);
        let first = j.begin_deleting().expect("generation 1 to delete");
        assert_eq!(first, [path(1)]);
        // Meanwhile (another round, under the lock): not deleted here, not taken by a second
        // deleter.
        j.remove_below(4);
        assert!(path(2).exists() && path(3).exists());
        assert!(j.begin_deleting().is_none(), "one deleter at a time");
        let (left, deleted) = delete_in_order(first);
        assert!(left.is_empty() && deleted);
        let next = j
            .end_deleting(left, deleted)
            .expect("the files detached meanwhile");
        assert_eq!(next, [path(2), path(3)]);
        let (left, deleted) = delete_in_order(next);
        assert!(j.end_deleting(left, deleted).is_none());
        assert!(!path(2).exists() && !path(3).exists() && path(4).exists());
        assert!(j.begin_deleting().is_none(), "nothing left, and no deleter");
    }

    #[test]
    fn frames_are_replayed_in_order_across_generations_and_read_back() {
        let dir = JournalDir::temporary().unwrap();
        let (mut j, seen) = replayed(&dir, "t");
        assert!(seen.is_empty());
        let a = j.append(b"one").unwrap();
        j.append(b"").unwrap();
        assert_eq!(j.end_generation(), 1);
        let snap = j.reserve_generation();
        let b = j.append(b"three").unwrap();
        assert_eq!((a.generation, snap, b.generation), (1, 2, 3));
        let file = write_generation(&dir, "t", snap, [&b"two"[..]]).unwrap();
        j.adopt(snap, file);
        assert_eq!(j.read(a).unwrap(), b"one");
        assert_eq!(j.read(b).unwrap(), b"three");
        j.sync_job().run().unwrap();
        drop(j);
        let (mut j, seen) = replayed(&dir, "t");
        assert_eq!(seen, [&b"one"[..], b"", b"two", b"three"]);
        // Another kind's files are not read.
        let (_, other) = replayed(&dir, "u");
        assert!(other.is_empty());
        j.remove_below(3);
        assert_eq!(j.generation_count(), 1);
        let c = j.append(b"four").unwrap();
        assert_eq!(
            c.generation, 4,
            "appends after a reopen go to a new generation"
        );
        drop(j);
        let (_, seen) = replayed(&dir, "t");
        assert_eq!(seen, [&b"three"[..], b"four"]);
    }

    /// review-s10 R3: what a crashed process appended is in the page cache, not necessarily
    /// on disk; the first sync after the open must cover the replayed files, or a later sync
    /// of another journal (the ledger's, after the rows') makes an ack durable ahead of a row
    /// that only the kernel's writeback, in no particular order, brings to disk.
    #[test]
    fn replayed_files_are_synced_by_the_first_sync_after_an_open() {
        let dir = JournalDir::temporary().unwrap();
        let (mut j, _) = replayed(&dir, "t");
        j.append(b"one").unwrap();
        drop(j); // a crash: never synced
        let (mut j, seen) = replayed(&dir, "t");
        assert_eq!(seen, [&b"one"[..]]);
        assert!(
            j.needs_sync(),
            "what the last run appended may not be on disk yet"
        );
        j.sync_job().run().unwrap();
        assert!(!j.needs_sync());
    }

    #[test]
    fn a_torn_or_corrupt_tail_ends_the_replay_of_its_file() {
        let dir = JournalDir::temporary().unwrap();
        let (mut j, _) = replayed(&dir, "t");
        j.append(b"kept").unwrap();
        let torn = j.append(b"torn frame").unwrap();
        drop(j);
        let path = generation_path(&dir, "t", 1);
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(torn.offset + 3).unwrap();
        let (j, seen) = replayed(&dir, "t");
        assert_eq!(seen, [&b"kept"[..]]);
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            torn.offset - HEADER as u64,
            "the newest file is truncated after its last whole frame"
        );
        drop(j);
        // A flipped payload byte in the last frame; and zeros (an unsynced region after a
        // power loss) never read as frames.
        let (mut j, _) = replayed(&dir, "t");
        let bad = j.append(b"flipped").unwrap();
        drop(j);
        let path2 = generation_path(&dir, "t", 2);
        let f = OpenOptions::new().write(true).open(&path2).unwrap();
        f.write_all_at(b"F", bad.offset).unwrap();
        f.write_all_at(&[0; 64], bad.offset + bad.len as u64)
            .unwrap();
        let (_, seen) = replayed(&dir, "t");
        assert_eq!(seen, [&b"kept"[..]]);
    }

    #[test]
    fn a_bad_frame_in_an_older_generation_skips_the_rest_of_that_file_only() {
        let dir = JournalDir::temporary().unwrap();
        let (mut j, _) = replayed(&dir, "t");
        j.append(b"a").unwrap();
        let bad = j.append(b"b").unwrap();
        j.append(b"c").unwrap();
        j.end_generation();
        j.append(b"d").unwrap();
        drop(j);
        let path = generation_path(&dir, "t", 1);
        let len = std::fs::metadata(&path).unwrap().len();
        let f = OpenOptions::new().write(true).open(&path).unwrap();
        // A corrupt length field in the middle frame.
        f.write_all_at(&u32::MAX.to_le_bytes(), bad.offset - HEADER as u64)
            .unwrap();
        let (_, seen) = replayed(&dir, "t");
        assert_eq!(seen, [&b"a"[..], b"d"]);
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            len,
            "an older generation is left as it is"
        );
    }

    #[test]
    fn file_names_outside_the_generation_range_are_ignored() {
        assert_eq!(parse_name("rows", "rows-0000000000000010.log"), Some(16));
        for name in [
            "rows-ffffffffffffffff.log",
            "rows-4000000000000000.log",
            "rows-10.log",
            "rows-000000000000001g.log",
            "index-0000000000000001.log",
            "rows-0000000000000001.log.tmp",
        ] {
            assert_eq!(parse_name("rows", name), None, "{name}");
        }
        let dir = JournalDir::temporary().unwrap();
        std::fs::write(dir.path().join("rows-ffffffffffffffff.log"), b"").unwrap();
        let (mut j, seen) = replayed(&dir, "rows");
        assert!(seen.is_empty());
        // A file appearing after the open under the number appends would take is skipped.
        std::fs::write(dir.path().join("rows-0000000000000001.log"), b"").unwrap();
        assert_eq!(j.append(b"x").unwrap().generation, 2);
    }

    #[test]
    fn temporary_directories_are_removed_with_the_last_handle() {
        let dir = JournalDir::temporary().unwrap();
        let path = dir.path().to_path_buf();
        let (mut j, _) = replayed(&dir, "t");
        j.append(b"x").unwrap();
        let other = dir.clone();
        drop(dir);
        assert!(path.exists(), "another handle still holds it");
        drop(other);
        assert!(!path.exists(), "journals do not keep it");
        drop(j);
    }
}

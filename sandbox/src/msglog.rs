//! Append-only log of the messages stored in histories, so that a hard kill neither loses an
//! acknowledged send nor hands its seq out again.
//!
//! The state is saved as one snapshot within 200 ms of a change ([`crate::persist`]). Before
//! this log, a SIGKILL lost the messages stored since the last snapshot, and after the restart
//! their seqs were allocated again: a client or bot that had received the lost message skipped
//! the new one with the same seq as already seen (review-s8 F4). Now every message stored in a
//! history is also appended here, with one write(2) under the state lock, so before its send is
//! answered: the page cache keeps it whatever happens to the process (not through a power loss:
//! the log is not synced per message). At start the records newer than the snapshot are stored
//! again ([`crate::state::State::replay_logged`]).
//!
//! Files `<generation, 16 hex digits>.log` in `<data dir>/msglog`. When a snapshot is encoded (under
//! the state lock) a new generation starts, if the current one has records; once that snapshot is
//! written and flushed, the generations before it are deleted ([`remove_below`]). A record is the
//! body's length (u32 LE), the FNV-1a 64 hash of the body (u64 LE), then the body: the
//! conversation ID's length (u16 LE), the conversation ID, the message's protobuf encoding. A
//! torn or damaged record ends the reading of its file (with a warning): nothing after it in that
//! file can be trusted to be framed right.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use openim_protocol::pb::sdkws::MsgData;
use prost::Message;

use crate::error::SandboxError;

/// Record header: body length (u32) + body hash (u64).
const HEADER: usize = 12;
/// Generations at or above this are ignored (a name that high is not ours, and counting on from
/// it could overflow).
const MAX_GENERATION: u64 = 1 << 62;

/// The open log: appends to the newest generation.
#[derive(Debug)]
pub(crate) struct MsgLog {
    dir: PathBuf,
    generation: u64,
    file: File,
    /// Bytes written to `file` (a failed append is cut back to this).
    len: u64,
}

/// A message read back from the log.
#[derive(Debug)]
pub(crate) struct Logged {
    /// The conversation it was stored in.
    pub(crate) conversation_id: String,
    /// The message as stored (seq set).
    pub(crate) msg: MsgData,
}

impl MsgLog {
    /// Opens the log in `dir` (created if missing): reads every record of the generations
    /// found, oldest first, and starts a new generation after them.
    pub(crate) fn open(dir: &Path) -> Result<(MsgLog, Vec<Logged>), SandboxError> {
        let err = |e: std::io::Error| SandboxError::Store {
            path: dir.display().to_string(),
            message: format!("message log: {e}"),
        };
        std::fs::create_dir_all(dir).map_err(err)?;
        let generations = generations(dir).map_err(err)?;
        let mut records = Vec::new();
        for &g in &generations {
            let path = file_path(dir, g);
            let bytes = std::fs::read(&path).map_err(err)?;
            read_records(&bytes, &path, &mut records);
        }
        let generation = generations.last().map_or(1, |g| g + 1);
        let file = create(dir, generation).map_err(err)?;
        Ok((
            MsgLog {
                dir: dir.to_path_buf(),
                generation,
                file,
                len: 0,
            },
            records,
        ))
    }

    /// Appends the stored message `encoded` (its protobuf encoding, seq set) of
    /// `conversation_id`. One write(2); a failure is logged and cut back (the send goes on: it
    /// is then as durable as the next snapshot makes it).
    pub(crate) fn append(&mut self, conversation_id: &str, encoded: &[u8]) {
        let Ok(id_len) = u16::try_from(conversation_id.len()) else {
            tracing::error!(
                conversation_id,
                "message log: conversation ID too long, message not logged"
            );
            return;
        };
        let body_len = 2 + conversation_id.len() + encoded.len();
        let Ok(body_len32) = u32::try_from(body_len) else {
            tracing::error!(
                conversation_id,
                "message log: message too large, not logged"
            );
            return;
        };
        let mut record = Vec::with_capacity(HEADER + body_len);
        record.extend_from_slice(&body_len32.to_le_bytes());
        record.extend_from_slice(&[0; 8]);
        record.extend_from_slice(&id_len.to_le_bytes());
        record.extend_from_slice(conversation_id.as_bytes());
        record.extend_from_slice(encoded);
        let hash = fnv1a(&record[HEADER..]);
        record[4..HEADER].copy_from_slice(&hash.to_le_bytes());
        match self.file.write_all(&record) {
            Ok(()) => self.len += record.len() as u64,
            Err(e) => {
                // a partial record would hide every later one from the replay: cut it off
                let cut = self.file.set_len(self.len);
                tracing::error!(
                    error = %e,
                    cut_back = cut.is_ok(),
                    path = %file_path(&self.dir, self.generation).display(),
                    "message log: append failed; this message survives a hard kill only once the next snapshot is written"
                );
            }
        }
    }

    /// Called when a snapshot is encoded (under the state lock): starts a new generation if the
    /// current one has records. Returns the generation below which every file is covered by
    /// that snapshot (to [`remove_below`] once it is written).
    pub(crate) fn rotate(&mut self) -> u64 {
        if self.len == 0 {
            return self.generation;
        }
        let next = self.generation + 1;
        match create(&self.dir, next) {
            Ok(file) => {
                self.file = file;
                self.generation = next;
                self.len = 0;
            }
            // keep appending to the current file; it is deleted with a later snapshot
            Err(e) => tracing::error!(error = %e, "message log: cannot start a new generation"),
        }
        self.generation
    }
}

/// Deletes the generations below `generation` (covered by a snapshot on disk). Errors are
/// logged: a file left behind is read again at the next start, where its records are skipped
/// as older than the snapshot.
pub(crate) fn remove_below(dir: &Path, generation: u64) {
    let found = match generations(dir) {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error = %e, dir = %dir.display(), "message log: cannot list generations");
            return;
        }
    };
    for g in found.into_iter().filter(|&g| g < generation) {
        let path = file_path(dir, g);
        if let Err(e) = std::fs::remove_file(&path) {
            tracing::warn!(error = %e, path = %path.display(), "message log: cannot delete a generation");
        }
    }
}

fn file_path(dir: &Path, generation: u64) -> PathBuf {
    dir.join(format!("{generation:016x}.log"))
}

fn create(dir: &Path, generation: u64) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(file_path(dir, generation))
}

/// The generations in `dir`, ascending (other files are ignored).
fn generations(dir: &Path) -> std::io::Result<Vec<u64>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let Some(hex) = name.to_str().and_then(|n| n.strip_suffix(".log")) else {
            continue;
        };
        match u64::from_str_radix(hex, 16) {
            Ok(g) if hex.len() == 16 && g < MAX_GENERATION => found.push(g),
            _ => tracing::warn!(
                file = hex,
                "message log: ignoring a file that is not a generation"
            ),
        }
    }
    found.sort_unstable();
    Ok(found)
}

/// Reads the records of one file into `out`, up to the first torn or damaged one.
fn read_records(bytes: &[u8], path: &Path, out: &mut Vec<Logged>) {
    let mut at = 0;
    while at < bytes.len() {
        match record_at(&bytes[at..]) {
            Some((logged, used)) => {
                out.push(logged);
                at += used;
            }
            None => {
                tracing::warn!(
                    path = %path.display(),
                    offset = at,
                    ignored_bytes = bytes.len() - at,
                    "message log: torn or damaged record; the rest of this file is ignored"
                );
                return;
            }
        }
    }
}

/// The record at the start of `bytes` and its size, or `None` if it is torn or damaged.
fn record_at(bytes: &[u8]) -> Option<(Logged, usize)> {
    let len = u32::from_le_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    let hash = u64::from_le_bytes(bytes.get(4..HEADER)?.try_into().ok()?);
    let body = bytes.get(HEADER..HEADER.checked_add(len)?)?;
    if fnv1a(body) != hash {
        return None;
    }
    let id_len = u16::from_le_bytes(body.get(..2)?.try_into().ok()?) as usize;
    let id = std::str::from_utf8(body.get(2..2 + id_len)?).ok()?;
    let msg = MsgData::decode(body.get(2 + id_len..)?).ok()?;
    if msg.seq <= 0 {
        return None;
    }
    Some((
        Logged {
            conversation_id: id.to_owned(),
            msg,
        },
        HEADER + len,
    ))
}

/// FNV-1a, 64 bits: detects a torn or damaged record (not an adversary).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(seq: i64, text: &str) -> Vec<u8> {
        MsgData {
            send_id: "alice".into(),
            recv_id: "bob".into(),
            seq,
            content: text.as_bytes().to_vec(),
            ..Default::default()
        }
        .encode_to_vec()
    }

    fn seqs(records: &[Logged]) -> Vec<(String, i64)> {
        records
            .iter()
            .map(|r| (r.conversation_id.clone(), r.msg.seq))
            .collect()
    }

    #[test]
    fn records_come_back_in_order_across_generations_and_rotation_deletes_covered_ones() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, read) = MsgLog::open(dir.path()).unwrap();
        assert!(read.is_empty());
        log.append("si_alice_bob", &msg(1, "a"));
        log.append("si_alice_bob", &msg(2, "b"));
        let covered = log.rotate();
        log.append("sg_g1", &msg(1, "c"));
        assert_eq!(generations(dir.path()).unwrap().len(), 2);
        // a rotation with nothing appended since keeps the generation
        let again = log.rotate();
        assert_eq!(again, log.rotate());
        drop(log);

        let (log, read) = MsgLog::open(dir.path()).unwrap();
        assert_eq!(
            seqs(&read),
            [
                ("si_alice_bob".to_string(), 1),
                ("si_alice_bob".to_string(), 2),
                ("sg_g1".to_string(), 1)
            ]
        );
        assert_eq!(read[1].msg.content, b"b");
        remove_below(dir.path(), covered);
        drop(log);
        let (_log, read) = MsgLog::open(dir.path()).unwrap();
        assert_eq!(seqs(&read), [("sg_g1".to_string(), 1)]);
    }

    #[test]
    fn a_torn_or_damaged_record_ends_its_file_without_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let (mut log, _) = MsgLog::open(dir.path()).unwrap();
        log.append("si_alice_bob", &msg(1, "kept"));
        log.append("si_alice_bob", &msg(2, "torn"));
        let path = file_path(dir.path(), log.generation);
        drop(log);
        let full = std::fs::read(&path).unwrap();
        for cut in 1..full.len() {
            let mut out = Vec::new();
            read_records(&full[..cut], &path, &mut out);
            assert!(out.len() <= 1, "cut at {cut}");
        }
        // a flipped byte in the second record's body
        let mut damaged = full.clone();
        let last = damaged.len() - 1;
        damaged[last] ^= 0x40;
        let mut out = Vec::new();
        read_records(&damaged, &path, &mut out);
        assert_eq!(seqs(&out), [("si_alice_bob".to_string(), 1)]);
        // a huge length and garbage never allocate nor panic
        let mut out = Vec::new();
        read_records(&[0xff; 40], &path, &mut out);
        read_records(&[], &path, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn foreign_and_out_of_range_file_names_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("notes.txt"), b"x").unwrap();
        std::fs::write(dir.path().join("zz.log"), b"x").unwrap();
        std::fs::write(dir.path().join("ffffffffffffffff.log"), b"x").unwrap();
        let (log, read) = MsgLog::open(dir.path()).unwrap();
        assert!(read.is_empty());
        assert_eq!(log.generation, 1);
    }
}

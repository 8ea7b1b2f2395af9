//! Persistence of the whole state as one JSON snapshot in a sled tree.
//!
//! A save is two steps so that the server's state lock is held only while the state is encoded:
//! [`Store::encode`] (under the lock) numbers the snapshot, [`Store::write`] (after the lock is
//! released, on a blocking thread) stores and flushes it. Writing and flushing several
//! megabytes under the lock stalled every request for the whole write (p99 of `send_msg` near
//! 200 ms, slowest 460 ms, with 20,000 stored messages).
//!
//! Messages stored since the last snapshot are also in the message log ([`crate::msglog`],
//! `msglog/` in the same directory): a snapshot starts a new log generation when it is encoded
//! and deletes the ones it covers once it is written.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::SandboxError;
use crate::msglog::{Logged, MsgLog};
use crate::state::State;

const KEY: &[u8] = b"state";

/// A sled-backed snapshot store.
#[derive(Clone)]
pub(crate) struct Store {
    db: sled::Db,
    path: String,
    /// The message log's directory.
    log_dir: std::path::PathBuf,
    /// Number of the next encoded snapshot.
    next: Arc<AtomicU64>,
    /// Number of the newest snapshot written: a write of an older one (a periodic save still
    /// running when the final one was taken) is skipped rather than stored over a newer one.
    written: Arc<parking_lot::Mutex<u64>>,
}

/// A state snapshot encoded under the state lock, to be written after it ([`Store::write`]).
pub(crate) struct Encoded {
    number: u64,
    bytes: Vec<u8>,
    /// Message log generations below this one are covered by the snapshot.
    log_below: Option<u64>,
}

impl Store {
    pub(crate) fn open(dir: &Path) -> Result<Store, SandboxError> {
        let path = dir.display().to_string();
        let db = sled::open(dir).map_err(|e| SandboxError::Store {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Ok(Store {
            db,
            path,
            log_dir: dir.join("msglog"),
            next: Arc::new(AtomicU64::new(1)),
            written: Arc::new(parking_lot::Mutex::new(0)),
        })
    }

    /// A named tree of the same database (uploaded objects live in one, apart from the
    /// snapshot).
    pub(crate) fn tree(&self, name: &str) -> Result<sled::Tree, SandboxError> {
        self.db.open_tree(name).map_err(|e| SandboxError::Store {
            path: self.path.clone(),
            message: e.to_string(),
        })
    }

    pub(crate) fn load(&self) -> Result<State, SandboxError> {
        match self.db.get(KEY) {
            Ok(Some(bytes)) => serde_json::from_slice(&bytes).map_err(|e| SandboxError::Store {
                path: self.path.clone(),
                message: format!("corrupt snapshot: {e}"),
            }),
            Ok(None) => Ok(State::default()),
            Err(e) => Err(SandboxError::Store {
                path: self.path.clone(),
                message: e.to_string(),
            }),
        }
    }

    /// Opens the message log: the messages logged since the last snapshot written (to
    /// [`State::replay_logged`]) and the log to append to from now on.
    pub(crate) fn open_log(&self) -> Result<(MsgLog, Vec<Logged>), SandboxError> {
        MsgLog::open(&self.log_dir)
    }

    /// Encodes `state` (call with the state lock held: snapshots are numbered in state order,
    /// and the message log starts a new generation right after what the snapshot holds).
    pub(crate) fn encode(&self, state: &mut State) -> Result<Encoded, SandboxError> {
        let log_below = state.msg_log.as_mut().map(MsgLog::rotate);
        let bytes = serde_json::to_vec(state).map_err(|e| SandboxError::Store {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        Ok(Encoded {
            number: self.next.fetch_add(1, Ordering::Relaxed),
            bytes,
            log_below,
        })
    }

    /// Stores and flushes an encoded snapshot (blocking: disk I/O), unless a newer one was
    /// written already; then deletes the message log generations it covers.
    pub(crate) fn write(&self, snapshot: Encoded) -> Result<(), SandboxError> {
        let mut written = self.written.lock();
        if snapshot.number <= *written {
            return Ok(());
        }
        self.db
            .insert(KEY, snapshot.bytes)
            .map_err(|e| SandboxError::Store {
                path: self.path.clone(),
                message: e.to_string(),
            })?;
        self.db.flush().map_err(|e| SandboxError::Store {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        *written = snapshot.number;
        if let Some(below) = snapshot.log_below {
            crate::msglog::remove_below(&self.log_dir, below);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_older_snapshot_written_late_does_not_replace_a_newer_one() {
        let dir = std::env::temp_dir().join(format!("sandbox-persist-{}", std::process::id()));
        let store = Store::open(&dir).unwrap();
        let mut state = State::default();
        let older = store.encode(&mut state).unwrap();
        state.users.insert(
            "u1".into(),
            crate::model::UserInfo {
                user_id: "u1".into(),
                ..Default::default()
            },
        );
        let newer = store.encode(&mut state).unwrap();
        store.write(newer).unwrap();
        store.write(older).unwrap();
        assert!(store.load().unwrap().users.contains_key("u1"));
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! Persistent bot state behind a small key-value trait.
//!
//! Every bot keeps what must survive a restart (strikes, tickets, cooldowns) in a [`StateStore`].
//! Keys are plain strings prefixed with a schema version (`v1/…`) so a later backend or layout can
//! coexist; values are JSON. [`SledState`] is the embedded default, [`MemoryState`] serves tests.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A failure of the state backend or of (de)serialising a stored value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The sled database reported an error.
    #[error("state store: sled error on key `{key}`: {source}")]
    Sled {
        /// The key being read or written.
        key: String,
        /// The underlying error.
        #[source]
        source: sled::Error,
    },
    /// A stored value could not be decoded (or a value could not be encoded).
    #[error("state store: value of key `{key}` is not valid JSON for its type: {source}")]
    Json {
        /// The key whose value failed.
        key: String,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// Opening the database failed.
    #[error("state store: cannot open `{path}`: {source}")]
    Open {
        /// The directory that was opened.
        path: String,
        /// The underlying error.
        #[source]
        source: sled::Error,
    },
    /// The in-memory store's lock was poisoned by a panic elsewhere.
    #[error("state store: in-memory store lock poisoned")]
    Poisoned,
}

/// A small byte-oriented key-value store; the typed helpers live in [`StateExt`].
pub trait StateStore: Send + Sync {
    /// Reads the value stored under `key`.
    fn get_raw(&self, key: &str) -> Result<Option<Vec<u8>>, StateError>;
    /// Stores `value` under `key`, replacing any previous value.
    fn put_raw(&self, key: &str, value: &[u8]) -> Result<(), StateError>;
    /// Removes `key` (no error if absent).
    fn remove(&self, key: &str) -> Result<(), StateError>;
    /// All entries whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StateError>;
    /// Makes every previous write durable.
    fn flush(&self) -> Result<(), StateError>;
}

/// Typed JSON helpers over any [`StateStore`].
pub trait StateExt: StateStore {
    /// Reads and decodes the JSON value under `key`.
    fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StateError> {
        match self.get_raw(key)? {
            None => Ok(None),
            Some(bytes) => {
                serde_json::from_slice(&bytes)
                    .map(Some)
                    .map_err(|source| StateError::Json {
                        key: key.to_owned(),
                        source,
                    })
            }
        }
    }
    /// Encodes `value` as JSON and stores it under `key`.
    fn put_json<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StateError> {
        let bytes = serde_json::to_vec(value).map_err(|source| StateError::Json {
            key: key.to_owned(),
            source,
        })?;
        self.put_raw(key, &bytes)
    }
}

impl<S: StateStore + ?Sized> StateExt for S {}

/// The sled-backed store: one tree per bot inside one database.
#[derive(Clone)]
pub struct SledState {
    tree: sled::Tree,
}

impl std::fmt::Debug for SledState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledState")
            .field("entries", &self.tree.len())
            .finish()
    }
}

impl SledState {
    /// Wraps an already opened sled tree.
    pub fn new(tree: sled::Tree) -> Self {
        Self { tree }
    }

    /// Opens (or creates) a database at `path` and uses its tree `name`.
    pub fn open(path: &std::path::Path, name: &str) -> Result<Self, StateError> {
        let db = sled::open(path).map_err(|source| StateError::Open {
            path: path.display().to_string(),
            source,
        })?;
        let tree = db.open_tree(name).map_err(|source| StateError::Open {
            path: path.display().to_string(),
            source,
        })?;
        Ok(Self { tree })
    }
}

impl StateStore for SledState {
    fn get_raw(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        self.tree
            .get(key)
            .map(|v| v.map(|v| v.to_vec()))
            .map_err(|source| StateError::Sled {
                key: key.to_owned(),
                source,
            })
    }
    fn put_raw(&self, key: &str, value: &[u8]) -> Result<(), StateError> {
        self.tree
            .insert(key, value)
            .map(|_| ())
            .map_err(|source| StateError::Sled {
                key: key.to_owned(),
                source,
            })
    }
    fn remove(&self, key: &str) -> Result<(), StateError> {
        self.tree
            .remove(key)
            .map(|_| ())
            .map_err(|source| StateError::Sled {
                key: key.to_owned(),
                source,
            })
    }
    fn scan_prefix(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StateError> {
        let mut out = Vec::new();
        for item in self.tree.scan_prefix(prefix) {
            let (k, v) = item.map_err(|source| StateError::Sled {
                key: prefix.to_owned(),
                source,
            })?;
            out.push((String::from_utf8_lossy(&k).into_owned(), v.to_vec()));
        }
        Ok(out)
    }
    fn flush(&self) -> Result<(), StateError> {
        self.tree
            .flush()
            .map(|_| ())
            .map_err(|source| StateError::Sled {
                key: String::new(),
                source,
            })
    }
}

/// A process-local store for tests and dry runs; clones share the same map.
#[derive(Debug, Clone, Default)]
pub struct MemoryState {
    map: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
}

impl MemoryState {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

impl StateStore for MemoryState {
    fn get_raw(&self, key: &str) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self
            .map
            .lock()
            .map_err(|_| StateError::Poisoned)?
            .get(key)
            .cloned())
    }
    fn put_raw(&self, key: &str, value: &[u8]) -> Result<(), StateError> {
        self.map
            .lock()
            .map_err(|_| StateError::Poisoned)?
            .insert(key.to_owned(), value.to_vec());
        Ok(())
    }
    fn remove(&self, key: &str) -> Result<(), StateError> {
        self.map
            .lock()
            .map_err(|_| StateError::Poisoned)?
            .remove(key);
        Ok(())
    }
    fn scan_prefix(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StateError> {
        let map = self.map.lock().map_err(|_| StateError::Poisoned)?;
        Ok(map
            .range(prefix.to_owned()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }
    fn flush(&self) -> Result<(), StateError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(store: &dyn StateStore) {
        store.put_json("v1/a/1", &1u32).unwrap();
        store.put_json("v1/a/2", &2u32).unwrap();
        store.put_json("v1/b/1", &3u32).unwrap();
        assert_eq!(store.get_json::<u32>("v1/a/2").unwrap(), Some(2));
        let keys: Vec<_> = store
            .scan_prefix("v1/a/")
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["v1/a/1", "v1/a/2"]);
        store.remove("v1/a/1").unwrap();
        assert_eq!(store.get_json::<u32>("v1/a/1").unwrap(), None);
        store.put_raw("v1/bad", b"not json").unwrap();
        let err = store.get_json::<u32>("v1/bad").unwrap_err();
        assert!(err.to_string().contains("v1/bad"), "{err}");
    }

    #[test]
    fn memory_store_roundtrip() {
        roundtrip(&MemoryState::new());
    }

    #[test]
    fn sled_store_roundtrip_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = SledState::open(dir.path(), "t").unwrap();
            roundtrip(&s);
            s.flush().unwrap();
        }
        let s = SledState::open(dir.path(), "t").unwrap();
        assert_eq!(s.get_json::<u32>("v1/b/1").unwrap(), Some(3));
    }
}

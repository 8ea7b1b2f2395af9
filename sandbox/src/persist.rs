//! Persistence of the whole state as one JSON snapshot in a sled tree.

use std::path::Path;

use crate::error::SandboxError;
use crate::state::State;

const KEY: &[u8] = b"state";

/// A sled-backed snapshot store.
#[derive(Clone)]
pub(crate) struct Store {
    db: sled::Db,
    path: String,
}

impl Store {
    pub(crate) fn open(dir: &Path) -> Result<Store, SandboxError> {
        let path = dir.display().to_string();
        let db = sled::open(dir).map_err(|e| SandboxError::Store {
            path: path.clone(),
            message: e.to_string(),
        })?;
        Ok(Store { db, path })
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

    pub(crate) fn save(&self, state: &State) -> Result<(), SandboxError> {
        let bytes = serde_json::to_vec(state).map_err(|e| SandboxError::Store {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        self.db
            .insert(KEY, bytes)
            .map_err(|e| SandboxError::Store {
                path: self.path.clone(),
                message: e.to_string(),
            })?;
        self.db.flush().map_err(|e| SandboxError::Store {
            path: self.path.clone(),
            message: e.to_string(),
        })?;
        Ok(())
    }
}

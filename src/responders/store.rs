//! Where the responder settings live: [`ResponderStore`], everyone's, validated and persisted
//! to the `--responders` file on every change; and [`SessionResponders`], one session's own
//! settings in front of everyone's, kept in memory for the life of the session.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use super::{Responders, Settings};

/// The live responders, and the file they persist to (if any).
pub struct ResponderStore {
    current: RwLock<Arc<Responders>>,
    file: Option<PathBuf>,
}

impl ResponderStore {
    /// Loads `file` when it exists; a missing file is created on the first change.
    pub fn open(file: Option<PathBuf>) -> Result<Self, String> {
        let responders = match &file {
            Some(path) if path.exists() => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                let settings: Settings =
                    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
                Responders::new(settings).map_err(|e| format!("{}: {e}", path.display()))?
            }
            _ => Responders::default(),
        };
        Ok(ResponderStore {
            current: RwLock::new(Arc::new(responders)),
            file,
        })
    }

    pub fn get(&self) -> Arc<Responders> {
        self.current.read().unwrap().clone()
    }

    /// Validates, persists, then swaps in new settings. Returns the previous ones.
    pub fn replace(&self, settings: Settings) -> Result<Arc<Responders>, String> {
        let responders = Responders::new(settings)?;
        if let Some(path) = &self.file {
            write_atomically(path, &responders.settings)?;
        }
        let mut cur = self.current.write().unwrap();
        Ok(std::mem::replace(&mut *cur, Arc::new(responders)))
    }
}

/// One session's responders: its own settings when it has them (kept in memory for the life of
/// the session, across reconnects), else everyone's.
pub struct SessionResponders {
    global: Arc<ResponderStore>,
    own: RwLock<Option<Arc<Responders>>>,
}

impl SessionResponders {
    pub fn new(global: Arc<ResponderStore>) -> Self {
        SessionResponders {
            global,
            own: RwLock::new(None),
        }
    }

    /// The settings that answer this session's server now.
    pub fn get(&self) -> Arc<Responders> {
        match &*self.own.read().unwrap() {
            Some(own) => own.clone(),
            None => self.global.get(),
        }
    }

    /// Whether the session has settings of its own.
    pub fn is_own(&self) -> bool {
        self.own.read().unwrap().is_some()
    }

    /// Validates and sets the session's own settings (None: everyone's again); the previous
    /// effective ones.
    pub fn set(&self, settings: Option<Settings>) -> Result<Arc<Responders>, String> {
        let own = settings.map(Responders::new).transpose()?.map(Arc::new);
        let old = self.get();
        *self.own.write().unwrap() = own;
        Ok(old)
    }
}

fn write_atomically(path: &Path, settings: &Settings) -> Result<(), String> {
    let mut text = serde_json::to_string_pretty(settings).expect("settings serialise");
    text.push('\n');
    crate::private_file::write(path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

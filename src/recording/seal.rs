//! Which recordings this machine wrote. Export seals the header's target with a key kept in
//! the user's config directory (HMAC-SHA256, created once, readable by the user alone), so
//! `mcpscope replay FILE` may start the target of a file this mcpscope wrote, as a user who
//! exports and replays expects, while a file from anywhere else (or one whose target was
//! edited) starts nothing unless the user says so.

use std::{
    io::{self, Write},
    os::unix::fs::{DirBuilderExt, OpenOptionsExt},
    path::{Path, PathBuf},
    sync::OnceLock,
};

use base64::Engine as _;
use ring::hmac;
use serde_json::Value;

const KEY_BYTES: usize = 32;

/// The seal of a target description, when this machine has a key.
pub fn seal(target: &Value) -> Option<String> {
    let tag = hmac::sign(key()?, target.to_string().as_bytes());
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// Whether `seal` is this machine's seal of `target` (compared in constant time).
pub fn is_ours(target: &Value, seal: &str) -> bool {
    let (Some(key), Ok(tag)) = (
        key(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(seal),
    ) else {
        return false;
    };
    hmac::verify(key, target.to_string().as_bytes(), &tag).is_ok()
}

fn key() -> Option<&'static hmac::Key> {
    static KEY: OnceLock<Option<hmac::Key>> = OnceLock::new();
    KEY.get_or_init(|| {
        let path = key_path()?;
        match load_or_create(&path) {
            Ok(bytes) => Some(hmac::Key::new(hmac::HMAC_SHA256, &bytes)),
            Err(e) => {
                tracing::warn!(
                    "no recording key at {}: {e}; exports are not sealed",
                    path.display()
                );
                None
            }
        }
    })
    .as_ref()
}

/// Beside the default catalog: `$XDG_CONFIG_HOME/mcpscope/` or `~/.config/mcpscope/`.
fn key_path() -> Option<PathBuf> {
    let catalog = crate::catalog::default_path();
    let dir = catalog.parent().filter(|d| !d.as_os_str().is_empty())?;
    Some(dir.join("recording.key"))
}

/// Reads the key, or makes one. Two processes making it at once agree: each writes its own
/// temp file and links it into place, and the one that finds the name taken reads the winner's.
fn load_or_create(path: &Path) -> io::Result<Vec<u8>> {
    if let Ok(bytes) = std::fs::read(path) {
        if bytes.len() == KEY_BYTES {
            return Ok(bytes);
        }
        return Err(io::Error::other("the key file is not 32 bytes"));
    }
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let mut bytes = vec![0u8; KEY_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| io::Error::other(e.to_string()))?;
    let tmp = dir.join(format!(".recording.key.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(&bytes)?;
    f.sync_all()?;
    let linked = std::fs::hard_link(&tmp, path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(bytes),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => std::fs::read(path),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_made_once_and_read_back() {
        let dir = std::env::temp_dir().join(format!("mcpscope-seal-{}", std::process::id()));
        let path = dir.join("sub").join("recording.key");
        let first = load_or_create(&path).unwrap();
        assert_eq!(first.len(), KEY_BYTES);
        assert_eq!(load_or_create(&path).unwrap(), first);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        std::fs::remove_dir_all(dir).ok();
    }
}

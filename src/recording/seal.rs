//! Which recordings this machine wrote. Export seals what a replay of the file would do (the
//! header's target and the replay plan: every request to send, with its arguments, and every
//! answer to give to the server's requests) with a key kept in the user's config directory
//! (HMAC-SHA256, created once, readable by the user alone). So `mcpscope replay FILE` runs a
//! file this mcpscope wrote as a user who exports and replays expects, while a file from
//! anywhere else, or one whose target or requests were edited, sends nothing until the user has
//! seen it all and said so.

use std::{
    io,
    path::{Path, PathBuf},
    sync::OnceLock,
};

use base64::Engine as _;
use ring::hmac;
use serde_json::Value;

const KEY_BYTES: usize = 32;

/// What a seal covers: the target a replay would start and the plan it would run
/// (`replay::Plan::sealed_view`).
pub fn covered(target: Option<&Value>, plan: Value) -> Value {
    serde_json::json!({"target": target, "plan": plan})
}

/// The seal of what [`covered`] returns, when this machine has a key.
pub fn seal(covered: &Value) -> Option<String> {
    let tag = hmac::sign(key()?, covered.to_string().as_bytes());
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(tag.as_ref()))
}

/// Whether `seal` is this machine's seal of `covered` (compared in constant time).
pub fn is_ours(covered: &Value, seal: &str) -> bool {
    let (Some(key), Ok(tag)) = (
        key(),
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(seal),
    ) else {
        return false;
    };
    hmac::verify(key, covered.to_string().as_bytes(), &tag).is_ok()
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
/// A key anyone else could read (or replace through a symlink) could forge seals, so such a key
/// is refused and nothing is sealed or trusted.
fn load_or_create(path: &Path) -> io::Result<Vec<u8>> {
    match crate::private_file::read_private(path, KEY_BYTES as u64 + 1) {
        Ok(bytes) if bytes.len() == KEY_BYTES => return Ok(bytes),
        Ok(_) => return Err(io::Error::other("the key file is not 32 bytes")),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    let mut bytes = vec![0u8; KEY_BYTES];
    getrandom::getrandom(&mut bytes).map_err(|e| io::Error::other(e.to_string()))?;
    if crate::private_file::create_new(path, &bytes)? {
        Ok(bytes)
    } else {
        let theirs = crate::private_file::read_private(path, KEY_BYTES as u64 + 1)?;
        if theirs.len() == KEY_BYTES {
            Ok(theirs)
        } else {
            Err(io::Error::other("the key file is not 32 bytes"))
        }
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
        // Regression: a key others can read (anyone could forge seals with it) or one reached
        // through a symlink was used.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(load_or_create(&path).is_err());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = dir.join("linked.key");
        std::os::unix::fs::symlink(&path, &link).unwrap();
        assert!(load_or_create(&link).is_err());
        std::fs::remove_dir_all(dir).ok();
    }
}

//! The running mcpscope a tap reports to: its token, which the inspector writes to a private
//! file per port when it starts (and removes when it stops), so a tap put in a client's config
//! needs no token of its own. `MCPSCOPE_TOKEN` wins when set.

use std::path::{Path, PathBuf};

/// `$XDG_RUNTIME_DIR/mcpscope/<port>.token`, else `<config>/run/<port>.token`, where `config`
/// is mcpscope's config directory (the catalog's).
pub fn token_path(port: u16, config: &Path) -> PathBuf {
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .map(|d| d.join("mcpscope"))
        .unwrap_or_else(|| config.join("run"));
    dir.join(format!("{port}.token"))
}

/// Writes the token for the instance on `port` (0600, a new file in a directory only we can
/// enter), so a tap can find it.
pub fn write_token(port: u16, token: &str, config: &Path) -> std::io::Result<PathBuf> {
    let path = token_path(port, config);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    crate::private_file::write(&path, token.as_bytes())?;
    Ok(path)
}

/// The token of the instance on `port`: from a file only this user can read and no one else
/// can have planted (no symlink, ours, no group or world bits).
pub fn read_token(port: u16, config: &Path) -> Option<String> {
    let bytes = crate::private_file::read_private(&token_path(port, config), 1024).ok()?;
    let token = String::from_utf8(bytes).ok()?;
    let token = token.trim();
    (!token.is_empty()).then(|| token.to_owned())
}

//! The one writer and reader of files that hold secrets (the catalog, OAuth credentials, the
//! responders file, the recording key). Writing never follows a symlink and never leaves a
//! moment when another user could read the bytes: a new temp file is made beside the target
//! with `O_CREAT|O_EXCL|O_NOFOLLOW` and mode 0600, written, synced and renamed over the path
//! (rename replaces a symlink at the path itself; it never writes through one). Reading a key
//! refuses a symlink, anything but a regular file, another owner, and group or world access.

use std::{
    ffi::OsString,
    fs,
    io::{self, Read, Write},
    os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
};

/// Replaces `path` with `bytes`, readable by the user alone: a reader sees the old file or the
/// new one, never a torn one. Missing directories are made with mode 0700.
pub fn write(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temp_beside(path)?;
    let result = write_then_rename(&tmp, path, bytes);
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` to `path` only if nothing is there (not even a dangling symlink): for a key
/// two processes may make at once. `Ok(false)` when the name was taken.
pub fn create_new(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    let tmp = temp_beside(path)?;
    let written = write_synced(&tmp, bytes);
    let linked = written.and_then(|()| fs::hard_link(&tmp, path));
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Reads a file that must be private: a regular file (not a symlink), owned by this user, with
/// no group or world permission bits. At most `max` bytes.
pub fn read_private(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let file = fs::OpenOptions::new()
        .read(true)
        // No symlink; and a FIFO planted there cannot hang us before the file-type check.
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                io::Error::other(format!("{} is a symlink", path.display()))
            } else {
                e
            }
        })?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(io::Error::other(format!(
            "{} is readable or writable by others (mode {:o}); it must be 0600",
            path.display(),
            meta.mode() & 0o777
        )));
    }
    if meta.uid() != effective_uid() {
        return Err(io::Error::other(format!(
            "{} belongs to another user",
            path.display()
        )));
    }
    let mut bytes = Vec::new();
    file.take(max).read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn effective_uid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

/// A fresh temp name in the target's directory (same file system, so rename is atomic), made
/// unguessable so nobody can place a symlink there first.
fn temp_beside(path: &Path) -> io::Result<PathBuf> {
    let Some(file_name) = path.file_name() else {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path does not name a file",
        ));
    };
    let dir = path.parent().unwrap_or(Path::new(""));
    if !dir.as_os_str().is_empty() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let mut nonce = [0u8; 8];
    getrandom::getrandom(&mut nonce).map_err(|e| io::Error::other(e.to_string()))?;
    let mut name = OsString::from(".");
    name.push(file_name);
    name.push(format!(
        ".{}.{:016x}.tmp",
        std::process::id(),
        u64::from_le_bytes(nonce)
    ));
    Ok(dir.join(name))
}

fn write_synced(tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(0o600)
        .open(tmp)?;
    // The umask can only narrow 0600; be certain whatever it is.
    file.set_permissions(fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn write_then_rename(tmp: &Path, path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_synced(tmp, bytes)?;
    fs::rename(tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(d) = fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mcpscope-pf-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn writes_replace_a_symlink_instead_of_following_it() {
        let dir = scratch("link");
        let victim = dir.join("victim");
        fs::write(&victim, "keep me").unwrap();
        fs::set_permissions(&victim, fs::Permissions::from_mode(0o644)).unwrap();
        let path = dir.join("creds.json");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        write(&path, b"secret").unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "keep me");
        let mode = fs::metadata(&victim).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644, "the victim's mode is untouched");
        assert!(
            !fs::symlink_metadata(&path)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&path).unwrap(), b"secret");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        // No temp file is left behind.
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 2);
        fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn private_reads_refuse_symlinks_shared_modes_and_dangling_names() {
        let dir = scratch("read");
        let key = dir.join("key");
        assert!(create_new(&key, b"k").unwrap());
        assert!(!create_new(&key, b"other").unwrap());
        assert_eq!(read_private(&key, 64).unwrap(), b"k");
        let link = dir.join("link");
        std::os::unix::fs::symlink(&key, &link).unwrap();
        assert!(
            read_private(&link, 64)
                .unwrap_err()
                .to_string()
                .contains("symlink")
        );
        fs::set_permissions(&key, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(
            read_private(&key, 64)
                .unwrap_err()
                .to_string()
                .contains("0600")
        );
        let dangling = dir.join("dangling");
        std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).unwrap();
        assert!(!create_new(&dangling, b"k").unwrap());
        assert!(!dir.join("nowhere").exists());
        fs::remove_dir_all(dir).ok();
    }
}

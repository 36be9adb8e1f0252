//! The running mcpscope a tap reports to: its token, which the inspector writes to a private
//! file per port when it starts (and removes when it stops), so a tap put in a client's config
//! needs no token of its own (`MCPSCOPE_TOKEN` wins when set); and whether what listens on that
//! port is this user's at all.
//!
//! The file's place depends on nothing a client may leave out of a server's environment (the
//! SDKs pass only `HOME`, `PATH`, `USER` and a few more): under `.config/mcpscope/run/` of this
//! user's home, which a tap looks for under `HOME` and under the password database's home.
//! `MCPSCOPE_RUN_DIR` moves it (tests).

use std::path::PathBuf;

/// Where token files live: `MCPSCOPE_RUN_DIR`, else `~/.config/mcpscope/run` under `HOME`,
/// else under the home directory the password database names.
pub fn run_dir() -> Option<PathBuf> {
    override_dir().or_else(home_run).or_else(passwd_run)
}

/// Where a tap looks, in order: `MCPSCOPE_RUN_DIR`; under `HOME`; under the password
/// database's home, for a client that set a `HOME` of its own (snap and flatpak do).
fn run_dirs() -> Vec<PathBuf> {
    if let Some(dir) = override_dir() {
        return vec![dir];
    }
    let mut dirs: Vec<PathBuf> = home_run().into_iter().collect();
    if let Some(dir) = passwd_run().filter(|d| !dirs.contains(d)) {
        dirs.push(dir);
    }
    dirs
}

fn override_dir() -> Option<PathBuf> {
    std::env::var_os("MCPSCOPE_RUN_DIR")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
}

fn under(home: PathBuf) -> PathBuf {
    home.join(".config").join("mcpscope").join("run")
}

fn home_run() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|h| h.is_absolute())
        .map(under)
}

/// The password database's home. Asking loads the system's name-service modules into the
/// process, so the inspector asks only when it has no `HOME`.
fn passwd_run() -> Option<PathBuf> {
    nix::unistd::User::from_uid(nix::unistd::Uid::effective())
        .ok()
        .flatten()
        .map(|u| u.dir)
        .filter(|h| h.is_absolute())
        .map(under)
}

/// The token file of the instance on `port`.
pub fn token_path(port: u16) -> Option<PathBuf> {
    Some(run_dir()?.join(format!("{port}.token")))
}

/// Writes the token for the instance on `port` (0600, in a directory only we can enter), so a
/// tap can find it.
pub fn write_token(port: u16, token: &str) -> std::io::Result<PathBuf> {
    let path = token_path(port)
        .ok_or_else(|| std::io::Error::other("no home directory to keep the token file in"))?;
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
pub fn read_token(port: u16) -> Option<String> {
    run_dirs().into_iter().find_map(|dir| {
        let path = dir.join(format!("{port}.token"));
        let bytes = crate::private_file::read_private(&path, 1024).ok()?;
        let token = String::from_utf8(bytes).ok()?;
        let token = token.trim();
        (!token.is_empty()).then(|| token.to_owned())
    })
}

/// Whether what listens on loopback `port` is this user's: another local user who took the
/// port while mcpscope was down must get neither the token nor the traffic. Read from the
/// kernel's socket table on Linux; elsewhere there is no such table, and the token file (gone
/// when mcpscope stops) is the only guard.
pub fn listener_is_ours(port: u16) -> bool {
    #[cfg(target_os = "linux")]
    {
        let me = nix::unistd::Uid::effective().as_raw();
        let mut found = false;
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            let Ok(text) = std::fs::read_to_string(table) else {
                continue;
            };
            for owner in listeners(&text, port) {
                if owner != me {
                    return false;
                }
                found = true;
            }
        }
        found
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = port;
        true
    }
}

/// The owners (uids) of the sockets listening on `port` in a `/proc/net/tcp` table.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn listeners(table: &str, port: u16) -> Vec<u32> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let local = cols.get(1)?;
            let state = cols.get(3)?;
            let uid = cols.get(7)?.parse::<u32>().ok()?;
            let local_port = u16::from_str_radix(local.rsplit_once(':')?.1, 16).ok()?;
            (*state == "0A" && local_port == port).then_some(uid)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listeners_of_a_port_are_read_from_the_kernels_table() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:18C2 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:18C2 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1001        0 2 1 0000000000000000 20 4 30 10 -1
   2: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 100 0 0 10 0";
        assert_eq!(listeners(table, 6338), vec![1000]);
        assert_eq!(listeners(table, 80), vec![0]);
        assert!(listeners(table, 6274).is_empty());
    }

    #[test]
    fn a_port_this_process_listens_on_is_ours() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert!(listener_is_ours(port));
        drop(l);
        assert!(!listener_is_ours(port) || cfg!(not(target_os = "linux")));
    }
}

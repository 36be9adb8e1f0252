//! `mcpscope tap --install CONFIG --server NAME` and `--uninstall`: one entry of an MCP client's
//! config (Claude Desktop, Cursor and Windsurf's `mcpServers`, VS Code's `servers` or
//! settings' `mcp.servers`) rewritten to run its server through the tap, and back. The rest of
//! the file is kept as it was read (key order included); the first install keeps a backup of
//! the whole file beside it. Uninstall needs no backup: the tapped entry holds the server's own
//! command after `--`.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

/// The largest config file we rewrite.
const MAX_CONFIG: u64 = 4 << 20;

/// The backup the first install keeps: `CONFIG.mcpscope-backup`.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".mcpscope-backup");
    path.with_file_name(name)
}

/// Rewrites the entry `name` of the config at `path` to go through the tap.
pub fn install(path: &Path, name: &str, exe: &str, to: &str) -> Result<String, String> {
    let (text, mut file) = read(path)?;
    let entry = entry_mut(&mut file, name)?;
    if is_tapped(entry) {
        return Ok(format!(
            "{name} in {} already goes through the tap",
            path.display()
        ));
    }
    let Some(command) = entry
        .get("command")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return Err(format!(
            "{name} is not a stdio server (no \"command\"); for a remote server run `mcpscope proxy --listen PORT --upstream URL` and point the client at it"
        ));
    };
    let args: Vec<Value> = match entry.get("args") {
        None => Vec::new(),
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => a.clone(),
        Some(_) => return Err(format!("{name}: \"args\" is not a list of strings")),
    };
    let mut tap_args = vec![json!("tap"), json!("--name"), json!(name)];
    if to != "http://127.0.0.1:6274" {
        tap_args.extend([json!("--to"), json!(to)]);
    }
    tap_args.push(json!("--"));
    tap_args.push(json!(command));
    tap_args.extend(args);
    entry["command"] = json!(exe);
    entry["args"] = Value::Array(tap_args);
    let backup = backup_path(path);
    // The first backup is the file as it was before mcpscope touched it: kept, not replaced.
    crate::private_file::create_new(&backup, text.as_bytes())
        .map_err(|e| format!("cannot keep a backup at {}: {e}", backup.display()))?;
    write(path, &file)?;
    Ok(format!(
        "{name} in {} now runs through the tap (backup: {}); restart the client, and its traffic shows in mcpscope",
        path.display(),
        backup.display()
    ))
}

/// Puts the entry `name` back to its own command.
pub fn uninstall(path: &Path, name: &str) -> Result<String, String> {
    let (_, mut file) = read(path)?;
    let entry = entry_mut(&mut file, name)?;
    if !is_tapped(entry) {
        return Ok(format!(
            "{name} in {} does not go through the tap",
            path.display()
        ));
    }
    let args: Vec<Value> = entry["args"].as_array().cloned().unwrap_or_default();
    let Some(dashes) = args.iter().position(|a| a == "--") else {
        return Err(format!(
            "{name}: the tap's arguments have no `--` before the server"
        ));
    };
    let mut server = args[dashes + 1..].iter();
    let Some(command) = server.next().cloned() else {
        return Err(format!("{name}: no server command after `--`"));
    };
    let rest: Vec<Value> = server.cloned().collect();
    entry["command"] = command;
    if rest.is_empty() {
        if let Some(obj) = entry.as_object_mut() {
            obj.remove("args");
        }
    } else {
        entry["args"] = Value::Array(rest);
    }
    write(path, &file)?;
    Ok(format!(
        "{name} in {} runs its server directly again",
        path.display()
    ))
}

/// Whether an entry already runs through a tap: mcpscope's binary with `tap` first.
fn is_tapped(entry: &Value) -> bool {
    let command = entry.get("command").and_then(Value::as_str).unwrap_or("");
    let binary = Path::new(command)
        .file_name()
        .map(|f| f.to_string_lossy().starts_with("mcpscope"))
        .unwrap_or(false);
    binary && entry.pointer("/args/0").and_then(Value::as_str) == Some("tap")
}

fn read(path: &Path) -> Result<(String, Value), String> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!(
            "{} is not a regular file (a symlink is not followed)",
            path.display()
        ));
    }
    if meta.len() > MAX_CONFIG {
        return Err(format!("{} is over 4 MiB", path.display()));
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file: Value = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{} is not plain JSON ({e}); comments are not kept, so edit it by hand",
            path.display()
        )
    })?;
    Ok((text, file))
}

fn write(path: &Path, file: &Value) -> Result<(), String> {
    let mut text = serde_json::to_string_pretty(file).expect("JSON serialises");
    text.push('\n');
    crate::private_file::write(path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The entry `name` wherever a client keeps its servers.
fn entry_mut<'a>(file: &'a mut Value, name: &str) -> Result<&'a mut Value, String> {
    let pointer = ["/mcpServers", "/servers", "/mcp/servers"]
        .into_iter()
        .find(|p| file.pointer(p).is_some_and(|s| s.get(name).is_some()));
    let Some(pointer) = pointer else {
        let mut names: Vec<String> = ["/mcpServers", "/servers", "/mcp/servers"]
            .iter()
            .filter_map(|p| file.pointer(p).and_then(Value::as_object))
            .flat_map(|o| o.keys().cloned())
            .collect();
        names.sort();
        return Err(format!(
            "no server {name:?} in the config (it has: {})",
            if names.is_empty() {
                "none".into()
            } else {
                names.join(", ")
            }
        ));
    };
    let entry = file
        .pointer_mut(pointer)
        .and_then(|s| s.get_mut(name))
        .expect("found above");
    if !entry.is_object() {
        return Err(format!("{name} is not an object"));
    }
    Ok(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_goes_through_the_tap_and_back_with_the_rest_of_the_file_kept() {
        let dir = std::env::temp_dir().join(format!("mcpscope-install-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("claude_desktop_config.json");
        let original = json!({
            "globalShortcut": "",
            "mcpServers": {
                "weather": {"command": "uv", "args": ["run", "weather.py"], "env": {"K": "v"}},
                "other": {"command": "node", "args": ["x.js"]},
                "remote": {"url": "https://example.com/mcp"}
            }
        });
        std::fs::write(&path, serde_json::to_string_pretty(&original).unwrap()).unwrap();
        install(
            &path,
            "weather",
            "/usr/bin/mcpscope",
            "http://127.0.0.1:6274",
        )
        .unwrap();
        let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(
            file["mcpServers"]["weather"]["command"],
            "/usr/bin/mcpscope"
        );
        assert_eq!(
            file["mcpServers"]["weather"]["args"],
            json!(["tap", "--name", "weather", "--", "uv", "run", "weather.py"])
        );
        assert_eq!(file["mcpServers"]["weather"]["env"], json!({"K": "v"}));
        assert_eq!(file["mcpServers"]["other"], original["mcpServers"]["other"]);
        assert!(backup_path(&path).exists());
        // Twice is once; a remote entry is pointed at the proxy; an unknown one names the others.
        assert!(
            install(
                &path,
                "weather",
                "/usr/bin/mcpscope",
                "http://127.0.0.1:6274"
            )
            .unwrap()
            .contains("already")
        );
        assert!(
            install(&path, "remote", "m", "http://127.0.0.1:6274")
                .unwrap_err()
                .contains("proxy")
        );
        assert!(
            install(&path, "nope", "m", "http://127.0.0.1:6274")
                .unwrap_err()
                .contains("other")
        );
        uninstall(&path, "weather").unwrap();
        let file: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(file, original);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_symlinked_or_commented_config_is_not_rewritten() {
        let dir = std::env::temp_dir().join(format!("mcpscope-install-l-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let real = dir.join("real.json");
        std::fs::write(&real, r#"{"servers": {"s": {"command": "x"}}}"#).unwrap();
        let link = dir.join("link.json");
        let _ = std::fs::remove_file(&link);
        std::os::unix::fs::symlink(&real, &link).unwrap();
        assert!(
            install(&link, "s", "m", "http://127.0.0.1:6274")
                .unwrap_err()
                .contains("symlink")
        );
        let commented = dir.join("settings.json");
        std::fs::write(&commented, "{\n// mine\n\"mcp\": {\"servers\": {}}}").unwrap();
        assert!(
            install(&commented, "s", "m", "http://127.0.0.1:6274")
                .unwrap_err()
                .contains("comments")
        );
        // VS Code's mcp.json form.
        install(&real, "s", "/bin/mcpscope", "http://127.0.0.1:7000").unwrap();
        let file: Value = serde_json::from_str(&std::fs::read_to_string(&real).unwrap()).unwrap();
        assert_eq!(
            file["servers"]["s"]["args"],
            json!([
                "tap",
                "--name",
                "s",
                "--to",
                "http://127.0.0.1:7000",
                "--",
                "x"
            ])
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

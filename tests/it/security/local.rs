//! This machine: the terminal mcpscope prints to, the private files it writes and reads, and
//! the commands it starts.

use std::os::unix::fs::PermissionsExt;

use serde_json::json;

use crate::support::*;

fn scratch(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpscope-sec-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn hostile_stdio() -> Vec<String> {
    vec![
        python(),
        "-u".into(),
        root()
            .join("tests/servers/hostile_server.py")
            .display()
            .to_string(),
        "stdio".into(),
    ]
}

/// Attack: a server's text full of terminal escapes (window title, clear screen, OSC 52 to the
/// clipboard, an 8-bit CSI) printed by `--cli` in text and JSON.
#[tokio::test]
async fn server_text_reaches_the_terminal_with_its_escapes_made_visible() {
    for (format, method, extra) in [
        ("text", "tools/list", vec![]),
        ("text", "tools/call", vec!["--tool-name", "escapes"]),
        ("json", "tools/list", vec![]),
    ] {
        let out = tokio::process::Command::new(bin())
            .args(["--cli", "--format", format, "--method", method])
            .args(&extra)
            .arg("--")
            .args(hostile_stdio())
            .output()
            .await
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{format} {method}: {stdout}");
        assert!(
            !stdout.contains('\u{1b}') && !stdout.contains('\u{9b}') && !stdout.contains('\u{7}'),
            "{format} {method}: {stdout:?}"
        );
        assert!(
            stdout.contains("pwned-title"),
            "the text itself is kept: {stdout:?}"
        );
    }
}

/// Attack: a symlink placed where mcpscope writes a private file (here the responders file and
/// the temp name the old writer used), to overwrite or re-mode another file.
#[tokio::test]
async fn private_files_are_written_without_following_symlinks() {
    let dir = scratch("links");
    let victim = dir.join("victim");
    // Valid settings, so the responders file (a link to it) is read at start like any other.
    let untouched =
        r#"{"sampling": {"mode": "manual", "rules": [], "default": null}, "roots": []}"#;
    std::fs::write(&victim, untouched).unwrap();
    std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o644)).unwrap();
    let responders = dir.join("responders.json");
    std::os::unix::fs::symlink(&victim, dir.join("responders.tmp~")).unwrap();
    std::os::unix::fs::symlink(&victim, &responders).unwrap();
    let scope = Scope::start_with(&["--responders", responders.to_str().unwrap()]).await;
    let (status, body) = scope
        .put(
            "/api/responders",
            json!({"sampling": {"mode": "mock", "rules": [], "default": null},
                   "elicitation": {"mode": "manual", "rules": [], "default": null},
                   "roots": []}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), untouched);
    let mode = std::fs::metadata(&victim).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o644);
    let written = std::fs::symlink_metadata(&responders).unwrap();
    assert!(written.file_type().is_file(), "the link was replaced");
    assert_eq!(written.permissions().mode() & 0o777, 0o600);
    std::fs::remove_dir_all(dir).ok();
}

/// Attack: a recording key others can read, with which anyone could forge the seal that lets
/// a file choose what replay runs.
#[tokio::test]
async fn a_recording_key_others_can_read_seals_nothing() {
    let dir = scratch("key");
    let key = dir.join("mcpscope/recording.key");
    std::fs::create_dir_all(key.parent().unwrap()).unwrap();
    std::fs::write(&key, [7u8; 32]).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = [("XDG_CONFIG_HOME", dir.to_str().unwrap())];
    let header_of = |text: String| -> serde_json::Value {
        serde_json::from_str(text.lines().next().unwrap()).unwrap()
    };
    let scope = Scope::start_env(&[], &config).await;
    let header = header_of(crate::recordings::record_everything(&scope).await);
    // No seal of any kind (`targetSeal` is what builds before the plan was sealed wrote).
    assert!(
        header.get("seal").is_none() && header.get("targetSeal").is_none(),
        "{header}"
    );
    drop(scope);
    // The same key made private again: it seals (the refusal was the mode, nothing else).
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let scope = Scope::start_env(&[], &config).await;
    let header = header_of(crate::recordings::record_everything(&scope).await);
    assert!(header["seal"].is_string(), "{header}");
    std::fs::remove_dir_all(dir).ok();
}

/// Attack: `mcpscope dev -- --inspect=0.0.0.0:9229.js`, a "file" that node reads as an option
/// opening its debugger to the network.
#[tokio::test]
async fn dev_refuses_a_file_name_that_reads_as_an_option() {
    let dir = scratch("dev");
    let name = "--inspect=0.0.0.0:9229.js";
    std::fs::write(dir.join(name), "").unwrap();
    let out = tokio::process::Command::new(bin())
        .args(["dev", "--no-open", "--port", "0", "--", name])
        .current_dir(&dir)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{err}");
    assert!(err.contains("looks like an option"), "{err}");
    assert!(
        out.stdout.is_empty(),
        "no ready line: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    std::fs::remove_dir_all(dir).ok();
}

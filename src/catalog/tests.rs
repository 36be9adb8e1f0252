//! Unit tests of `catalog`.

use super::*;
use serde_json::{Value, json};
use std::os::unix::fs::PermissionsExt;

/// A fresh directory per test, so tests running in parallel never share files.
fn scratch(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mcpscope-catalog-{}-{test}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn stdio(command: &str) -> ServerSpec {
    ServerSpec {
        command: Some(command.to_owned()),
        ..ServerSpec::default()
    }
}

fn names(catalog: &Catalog) -> Vec<&str> {
    catalog.entries().iter().map(|e| e.name.as_str()).collect()
}

/// A config file with one server, "weather".
fn write_config(dir: &Path) -> PathBuf {
    let path = dir.join("mcp.json");
    fs::write(
        &path,
        json!({"mcpServers": {"weather": {"command": "theirs", "env": {"KEY": "k"}}}}).to_string(),
    )
    .unwrap();
    path
}

#[test]
fn upsert_persists_privately() {
    let dir = scratch("upsert");
    let path = dir.join("nested").join("catalog.json");
    let mut catalog = Catalog::open(path.clone(), None).unwrap();
    assert!(catalog.entries().is_empty());
    let mut spec = stdio("npx");
    spec.args = vec!["-y".to_owned(), "srv".to_owned()];
    spec.env.insert("TOKEN".to_owned(), "s3cret".to_owned());
    spec.extra.insert("disabled".to_owned(), Value::Bool(true));
    let entry = catalog
        .upsert(None, "weather".to_owned(), spec.clone())
        .unwrap();
    assert_eq!(entry.origin, Origin::Catalog);
    let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let reopened = Catalog::open(path.clone(), None).unwrap();
    assert_eq!(reopened.entries(), catalog.entries());
    assert_eq!(reopened.get("weather").unwrap().spec, spec);

    catalog
        .upsert(Some("weather"), "forecast".to_owned(), spec.clone())
        .unwrap();
    catalog
        .upsert(None, "other".to_owned(), stdio("x"))
        .unwrap();
    assert_eq!(names(&catalog), ["forecast", "other"]);
    let err = catalog
        .upsert(Some("other"), "forecast".to_owned(), stdio("x"))
        .unwrap_err();
    assert!(err.contains("already exists"), "{err}");
    assert!(
        catalog
            .upsert(Some("gone"), "g".to_owned(), stdio("x"))
            .is_err()
    );
    assert!(catalog.upsert(None, String::new(), stdio("x")).is_err());
    assert!(catalog.upsert(None, "a\nb".to_owned(), stdio("x")).is_err());
    assert!(catalog.upsert(None, "n".repeat(201), stdio("x")).is_err());
    assert!(
        catalog
            .upsert(None, "blank".to_owned(), stdio("  "))
            .is_err()
    );
    let ftp = ServerSpec {
        transport: Transport::Http,
        url: Some("ftp://h/mcp".to_owned()),
        ..ServerSpec::default()
    };
    assert!(catalog.upsert(None, "ftp".to_owned(), ftp).is_err());
    let https = ServerSpec {
        transport: Transport::Sse,
        url: Some("HTTPS://h/sse".to_owned()),
        ..ServerSpec::default()
    };
    catalog.upsert(None, "remote".to_owned(), https).unwrap();
    let mut sneaky = stdio("x");
    sneaky.extra.insert("url".to_owned(), "https://h".into());
    assert!(catalog.upsert(None, "sneaky".to_owned(), sneaky).is_err());

    let reopened = Catalog::open(path.clone(), None).unwrap();
    assert_eq!(names(&reopened), ["forecast", "other", "remote"]);
    // Only the catalog itself: the temp file was renamed away.
    assert_eq!(fs::read_dir(dir.join("nested")).unwrap().count(), 1);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn an_import_keeps_its_inputs_across_a_restart_and_a_refused_one_changes_nothing() {
    let dir = scratch("import-inputs");
    let path = dir.join("catalog.json");
    let mut catalog = Catalog::open(path.clone(), None).unwrap();
    let file = |server: &str| {
        format!(
            r#"{{"inputs": [{{"type": "promptString", "id": "k", "password": true}}],
               "servers": {{"{server}": {{"command": "x", "env": {{"K": "${{input:k}}"}}}}}}}}"#
        )
    };
    let refused = file("bad\\u0007name");
    assert!(catalog.import(&refused).is_err());
    assert!(
        catalog.inputs().is_empty(),
        "a refused import leaves no inputs behind"
    );
    assert_eq!(catalog.import(&file("good")).unwrap(), 1);
    let again = Catalog::open(path, None).unwrap();
    assert_eq!(again.inputs().len(), 1);
    assert_eq!(again.inputs()[0].id, "k");
    assert!(again.inputs()[0].password);
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn redacted_values_keep_the_stored_ones() {
    let dir = scratch("redacted");
    let path = dir.join("catalog.json");
    let mut catalog = Catalog::open(path.clone(), None).unwrap();
    let mut spec = ServerSpec {
        transport: Transport::Http,
        url: Some("https://h/mcp".to_owned()),
        ..ServerSpec::default()
    };
    spec.env.insert("TOKEN".to_owned(), "s3cret".to_owned());
    spec.headers
        .insert("Authorization".to_owned(), "Bearer abc".to_owned());
    catalog.upsert(None, "api".to_owned(), spec).unwrap();

    let mut edited = catalog.get("api").unwrap().spec.clone();
    edited.env.insert("TOKEN".to_owned(), REDACTED.to_owned());
    edited.env.insert("LEVEL".to_owned(), "debug".to_owned());
    edited
        .headers
        .insert("Authorization".to_owned(), REDACTED.to_owned());
    catalog
        .upsert(Some("api"), "api v2".to_owned(), edited)
        .unwrap();
    let reopened = Catalog::open(path.clone(), None).unwrap();
    let stored = &reopened.get("api v2").unwrap().spec;
    assert_eq!(stored.env["TOKEN"], "s3cret");
    assert_eq!(stored.env["LEVEL"], "debug");
    assert_eq!(stored.headers["Authorization"], "Bearer abc");

    let mut renamed_key = stored.clone();
    renamed_key
        .env
        .insert("NEW".to_owned(), REDACTED.to_owned());
    let err = catalog
        .upsert(Some("api v2"), "api v2".to_owned(), renamed_key)
        .unwrap_err();
    assert!(err.contains("\"NEW\""), "{err}");
    let reopened = Catalog::open(path, None).unwrap();
    assert!(!reopened.get("api v2").unwrap().spec.env.contains_key("NEW"));
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn config_entries_are_listed_after_and_lose_name_lookups() {
    let dir = scratch("config");
    let config = write_config(&dir);
    let path = dir.join("catalog.json");
    fs::write(
        &path,
        json!({"mcpServers": {"weather": {"command": "mine"}}}).to_string(),
    )
    .unwrap();
    let catalog = Catalog::open(path, Some(&config)).unwrap();
    assert_eq!(names(&catalog), ["weather", "weather"]);
    assert_eq!(catalog.entries()[1].origin, Origin::Config(config.clone()));
    let found = catalog.get("weather").unwrap();
    assert_eq!(found.spec.command.as_deref(), Some("mine"));
    assert!(catalog.get("nothing").is_none());

    let broken = dir.join("broken.json");
    fs::write(&broken, "{\"mcpServers\": ").unwrap();
    let err = Catalog::open(broken.clone(), None).unwrap_err();
    assert!(err.contains(&broken.display().to_string()), "{err}");
    let err = Catalog::open(dir.join("absent.json"), Some(&broken)).unwrap_err();
    assert!(err.contains(&broken.display().to_string()), "{err}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn duplicate_picks_a_free_name() {
    let dir = scratch("duplicate");
    let config = write_config(&dir);
    let path = dir.join("catalog.json");
    let mut catalog = Catalog::open(path.clone(), Some(&config)).unwrap();
    let copy = catalog.duplicate("weather").unwrap();
    assert_eq!(copy.name, "weather copy");
    assert_eq!(copy.origin, Origin::Catalog);
    assert_eq!(copy.spec.env["KEY"], "k");
    assert_eq!(catalog.duplicate("weather").unwrap().name, "weather copy 2");
    assert_eq!(
        catalog.duplicate("weather copy").unwrap().name,
        "weather copy copy"
    );
    assert!(catalog.duplicate("nothing").is_err());
    let reopened = Catalog::open(path, Some(&config)).unwrap();
    assert_eq!(
        names(&reopened),
        [
            "weather copy",
            "weather copy 2",
            "weather copy copy",
            "weather"
        ]
    );
    let long = "n".repeat(MAX_NAME_CHARS);
    catalog.upsert(None, long.clone(), stdio("x")).unwrap();
    let copy = catalog.duplicate(&long).unwrap();
    assert_eq!(copy.name.chars().count(), MAX_NAME_CHARS);
    assert!(copy.name.ends_with(" copy"));
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn config_entries_cannot_be_removed() {
    let dir = scratch("remove");
    let config = write_config(&dir);
    let path = dir.join("catalog.json");
    let mut catalog = Catalog::open(path.clone(), Some(&config)).unwrap();
    let err = catalog.remove("weather").unwrap_err();
    assert!(err.contains(&config.display().to_string()), "{err}");
    assert!(catalog.remove("nothing").is_err());
    catalog.duplicate("weather").unwrap();
    catalog.remove("weather copy").unwrap();
    assert_eq!(names(&catalog), ["weather"]);
    let reopened = Catalog::open(path, Some(&config)).unwrap();
    assert_eq!(names(&reopened), ["weather"]);
    let err = catalog
        .upsert(Some("weather"), "weather".to_owned(), stdio("x"))
        .unwrap_err();
    assert!(err.contains(&config.display().to_string()), "{err}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn import_renames_on_collision() {
    let dir = scratch("import");
    let config = write_config(&dir);
    let path = dir.join("catalog.json");
    let mut catalog = Catalog::open(path.clone(), Some(&config)).unwrap();
    catalog.upsert(None, "a".to_owned(), stdio("x")).unwrap();
    let file = json!({"servers": {
        "a": {"type": "stdio", "command": "a2"},
        "b": {"type": "http", "url": "https://h/mcp"},
        "weather": {"command": "w"},
    }})
    .to_string();
    assert_eq!(catalog.import(&file).unwrap(), 3);
    assert_eq!(catalog.import(&file).unwrap(), 3);
    let reopened = Catalog::open(path, Some(&config)).unwrap();
    assert_eq!(
        names(&reopened),
        [
            "a",
            "a (imported)",
            "b",
            "weather (imported)",
            "a (imported 2)",
            "b (imported)",
            "weather (imported 2)",
            "weather",
        ]
    );
    assert_eq!(
        reopened
            .get("a (imported)")
            .unwrap()
            .spec
            .command
            .as_deref(),
        Some("a2")
    );
    assert_eq!(reopened.get("b").unwrap().spec.transport, Transport::Http);
    assert!(catalog.import("{\"mcpServers\": {\"x\": {}}}").is_err());
    assert_eq!(catalog.entries().len(), 8);
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn to_json_redacts_unless_revealing() {
    let entry = Entry {
        name: "api".to_owned(),
        spec: ServerSpec {
            transport: Transport::Http,
            url: Some("https://h/mcp".to_owned()),
            env: BTreeMap::from([
                ("HOME_DIR".to_owned(), "${env:HOME}".to_owned()),
                ("TOKEN".to_owned(), "s3cret".to_owned()),
            ]),
            headers: BTreeMap::from([
                ("Authorization".to_owned(), "Bearer abc".to_owned()),
                ("X-Api-Key".to_owned(), "${input:key}".to_owned()),
                ("X-Trace".to_owned(), "on".to_owned()),
            ]),
            ..ServerSpec::default()
        },
        origin: Origin::Catalog,
    };
    let hidden = entry.to_json(false);
    assert_eq!(hidden["env"]["TOKEN"], REDACTED);
    assert_eq!(hidden["env"]["HOME_DIR"], "${env:HOME}");
    assert_eq!(hidden["headers"]["Authorization"], REDACTED);
    assert_eq!(hidden["headers"]["X-Api-Key"], "${input:key}");
    assert_eq!(hidden["headers"]["X-Trace"], "on");
    let text = hidden.to_string();
    assert!(
        !text.contains("s3cret") && !text.contains("Bearer abc"),
        "{text}"
    );
    assert_eq!(hidden["origin"], "catalog");
    assert_eq!(hidden["source"], Value::Null);
    assert_eq!(hidden["transport"], "http");
    assert_eq!(hidden["editable"], true);
    assert_eq!(hidden["placeholders"], json!(["env:HOME", "input:key"]));

    let shown = entry.to_json(true);
    assert_eq!(shown["env"]["TOKEN"], "s3cret");
    assert_eq!(shown["headers"]["Authorization"], "Bearer abc");

    let from_config = Entry {
        origin: Origin::Config(PathBuf::from("/etc/mcp.json")),
        ..entry
    };
    let value = from_config.to_json(false);
    assert_eq!(value["origin"], "config");
    assert_eq!(value["source"], "/etc/mcp.json");
    assert_eq!(value["editable"], false);
}

#[test]
fn default_path_prefers_xdg_then_home() {
    let path = |xdg: Option<&str>, home: Option<&str>| {
        default_path_from(xdg.map(OsString::from), home.map(OsString::from))
    };
    assert_eq!(
        path(Some("/x"), Some("/h")),
        PathBuf::from("/x/mcpscope/catalog.json")
    );
    assert_eq!(
        path(Some("relative"), Some("/h")),
        PathBuf::from("/h/.config/mcpscope/catalog.json")
    );
    assert_eq!(
        path(None, Some("/h")),
        PathBuf::from("/h/.config/mcpscope/catalog.json")
    );
    assert_eq!(path(None, None), PathBuf::from("mcpscope-catalog.json"));
    assert_eq!(path(None, Some("")), PathBuf::from("mcpscope-catalog.json"));
}

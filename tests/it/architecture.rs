//! ARCHITECTURE.md's rules that a test can hold, read from the source itself: no import cycle
//! between top-level modules, every file opens with a `//!` saying what it owns, no file over
//! 600 lines unless its `//!` says it holds one job, only the engine reads or writes JSON-RPC
//! envelopes, and every element the UI's modules look up is on the page.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

/// The code of a file without comments and without its unit tests (a test may reach anywhere).
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => text,
    };
    text.lines()
        .map(|l| match l.trim_start().starts_with("//") {
            true => "",
            false => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first identifier of each path in a `crate::…` use or expression: `crate::a::b` gives
/// `a`, `crate::{a, b::c}` gives `a` and `b`.
fn crate_roots(code: &str) -> BTreeSet<String> {
    let mut roots = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.trim_start()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The top-level items of the group, split at commas outside nested braces.
            let mut depth = 0;
            let mut start = 0;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        roots.insert(ident(&group[start..j]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        roots.insert(ident(&group[start..j]));
                        start = j + 1;
                    }
                    _ => {}
                }
            }
        } else {
            roots.insert(ident(rest));
        }
    }
    roots.remove("");
    roots
}

/// The top-level module a source file belongs to (`src/session/actor.rs` → `session`).
fn top_module(path: &Path) -> String {
    let rel = path.strip_prefix(Path::new(ROOT).join("src")).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let mut sources = Vec::new();
    files(&Path::new(ROOT).join("src"), "rs", &mut sources);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for path in &sources {
        let top = top_module(path);
        if top == "main" || top == "lib" {
            continue;
        }
        graph.entry(top.clone()).or_default();
        let roots = crate_roots(&code(&fs::read_to_string(path).unwrap()));
        graph.get_mut(&top).unwrap().extend(roots);
    }
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for (top, deps) in graph.iter_mut() {
        deps.retain(|d| d != top && modules.contains(d));
    }
    // A cycle exists when some module reaches itself.
    let mut cycles = Vec::new();
    for start in &modules {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<(String, Vec<String>)> = vec![(start.clone(), vec![start.clone()])];
        while let Some((at, path)) = stack.pop() {
            for next in &graph[&at] {
                if next == start {
                    cycles.push(format!("{} → {start}", path.join(" → ")));
                } else if seen.insert(next.clone()) {
                    let mut p = path.clone();
                    p.push(next.clone());
                    stack.push((next.clone(), p));
                }
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "import cycles between top-level modules:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn every_file_says_what_it_owns_and_a_long_one_holds_one_job() {
    let mut sources = Vec::new();
    files(&Path::new(ROOT).join("src"), "rs", &mut sources);
    let mut scripts = Vec::new();
    files(&Path::new(ROOT).join("static"), "js", &mut scripts);
    let mut problems = Vec::new();
    for path in sources.iter().chain(&scripts) {
        let text = fs::read_to_string(path).unwrap();
        let name = path.strip_prefix(ROOT).unwrap().display().to_string();
        if !text.starts_with("//!") && !text.starts_with("// ") {
            problems.push(format!("{name}: no opening comment saying what it owns"));
        }
        let lines = text.lines().count();
        // A long file says so in its opening comment: "One job: …".
        let opening: String = text
            .lines()
            .take_while(|l| l.starts_with("//"))
            .collect::<Vec<_>>()
            .join(" ");
        if lines > 600 && !opening.contains("One job:") {
            problems.push(format!(
                "{name}: {lines} lines and its opening comment names no single job (\"One job: …\")"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Every element a module reaches with `$("id")` (or `` $(`${kind}-rows`) ``) is on the page the
/// server renders, so `$` failing loudly on a missing element never fires on a name typo at a
/// user's desk. Elements the modules create themselves are reached with `$maybe`.
#[tokio::test]
async fn every_element_the_modules_look_up_is_on_the_served_page() {
    let scope = crate::support::Scope::start().await;
    let page = scope
        .http
        .get(&scope.ready_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let ids: BTreeSet<&str> = page
        .split(" id=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(ids.len() > 100, "the page lists its ids: {}", ids.len());
    let mut scripts = Vec::new();
    files(&Path::new(ROOT).join("static"), "js", &mut scripts);
    let mut missing = Vec::new();
    for path in &scripts {
        let text = fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for (quote, close) in [("$(\"", '"'), ("$(`", '`')] {
            for piece in text.split(quote).skip(1) {
                let Some(wanted) = piece.split(close).next() else {
                    continue;
                };
                // `${…}` parts stand for any text: the id must match some element's.
                let parts: Vec<&str> = wanted
                    .split("${")
                    .enumerate()
                    .map(|(i, p)| {
                        if i == 0 {
                            p
                        } else {
                            p.split_once('}').map_or("", |(_, rest)| rest)
                        }
                    })
                    .collect();
                let found = ids.iter().any(|id| {
                    let mut rest = *id;
                    parts.iter().enumerate().all(|(i, part)| {
                        if i == 0 {
                            rest.strip_prefix(part).map(|r| rest = r).is_some()
                        } else if i == parts.len() - 1 {
                            rest.ends_with(part)
                        } else {
                            rest.find(part)
                                .map(|at| rest = &rest[at + part.len()..])
                                .is_some()
                        }
                    }) && (parts.len() > 1 || rest.is_empty())
                });
                if !found {
                    missing.push(format!("{name}: #{wanted}"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "looked up with $ but not on the page (use $maybe for elements a module creates):\n{}",
        missing.join("\n")
    );
}

/// Only the engine (`wire.rs` and its own files under `wire/`) reads or writes a JSON-RPC
/// envelope: no other code of ours names the `jsonrpc` member, so nothing classifies a frame or
/// builds a message behind the engine's back. (`demo.rs` is a server of its own, speaking to us
/// over stdio like any other.)
#[test]
fn only_the_engine_reads_or_writes_json_rpc_envelopes() {
    let mut sources = Vec::new();
    files(&Path::new(ROOT).join("src"), "rs", &mut sources);
    let mut found = Vec::new();
    for path in &sources {
        let rel = path.strip_prefix(ROOT).unwrap().display().to_string();
        // Unit tests (in their own `tests.rs`) write the frames they feed in.
        let exempt = rel == "src/wire.rs"
            || rel.starts_with("src/wire/")
            || rel == "src/demo.rs"
            || rel.ends_with("/tests.rs");
        if exempt {
            continue;
        }
        let code = code(&fs::read_to_string(path).unwrap());
        for (n, line) in code.lines().enumerate() {
            if line.contains("\"jsonrpc\"") || line.contains("\\\"jsonrpc\\\"") {
                found.push(format!("{rel}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "JSON-RPC envelopes outside the engine:\n{}",
        found.join("\n")
    );
}

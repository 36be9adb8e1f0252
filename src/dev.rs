//! `mcpscope dev FILE`: the Python SDK's `mcp dev` habit, pointed at mcpscope. A server file
//! becomes the stdio command that runs it — a `.py` file (or `file.py:object`) through
//! `uv run --with 'mcp[cli]' … mcp run FILE`, a `.js`/`.mjs`/`.cjs` file with node, a `.ts`
//! file with `npx tsx` — and the UI opens on it as for any `-- COMMAND`. A runner that is not
//! installed is said plainly, with how to install it, before anything is spawned.

use std::path::Path;

use crate::{cli::DevArgs, transport::stdio::StdioTarget};

/// The stdio target that runs `args.file`, or why it cannot be run.
pub fn target(args: &DevArgs) -> Result<StdioTarget, String> {
    let (path, object) = split_spec(&args.file);
    // The runner reads the name as one of its own options otherwise (`node --inspect=0.0.0.0:…`
    // opens a debugger to the network), whatever file of that name exists.
    if path.starts_with('-') {
        return Err(format!(
            "mcpscope dev: {path:?} looks like an option, not a file: name it as ./{path} (or run a command yourself with mcpscope -- COMMAND ARGS)"
        ));
    }
    if !Path::new(path).is_file() {
        return Err(format!("mcpscope dev: no such file: {path}"));
    }
    let ext = Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("");
    let python_only = |what: &str| -> Result<(), String> {
        if ext != "py" {
            return Err(format!("mcpscope dev: {what} is for Python servers"));
        }
        Ok(())
    };
    if !args.with.is_empty() {
        python_only("--with")?;
    }
    if args.with_editable.is_some() {
        python_only("--with-editable")?;
    }
    if object.is_some() && ext != "py" {
        return Err("mcpscope dev: FILE:OBJECT is for Python servers".into());
    }
    let (command, args) = match ext {
        "py" => {
            need(
                "uv",
                "mcpscope dev runs Python servers with uv, as `mcp dev` does; install it with `pip install uv` (or `curl -LsSf https://astral.sh/uv/install.sh | sh`)",
            )?;
            // `mcp run` needs typer, which only the `cli` extra brings in.
            let mut a: Vec<String> = vec!["run".into(), "--with".into(), "mcp[cli]".into()];
            if let Some(dir) = &args.with_editable {
                a.push("--with-editable".into());
                a.push(dir.display().to_string());
            }
            for package in args.with.iter().filter(|p| !p.is_empty()) {
                a.push("--with".into());
                a.push(package.clone());
            }
            a.extend(["mcp".into(), "run".into(), args.file.clone()]);
            ("uv", a)
        }
        "js" | "mjs" | "cjs" => {
            need(
                "node",
                "install Node.js (https://nodejs.org, or your package manager's `nodejs`)",
            )?;
            ("node", vec![path.to_owned()])
        }
        "ts" | "mts" => {
            need(
                "npx",
                "TypeScript servers run with `npx tsx`; install Node.js (https://nodejs.org, or your package manager's `nodejs` and `npm`)",
            )?;
            ("npx", vec!["-y".into(), "tsx".into(), path.to_owned()])
        }
        _ => {
            return Err(format!(
                "mcpscope dev: {path}: expected a .py, .js, .mjs, .cjs or .ts file (for anything else use `mcpscope -- COMMAND ARGS`)"
            ));
        }
    };
    Ok(StdioTarget {
        command: command.into(),
        args,
        env: runner_env(std::env::vars()),
        cwd: None,
        secrets: Vec::new(),
    })
}

/// The runner's own settings from our environment. A stdio target otherwise gets only a few
/// basics (PATH, HOME, …), but uv, npm and npx fetch packages first, and behind a proxy or a
/// company CA they need the variables that say how: proxies, CA bundles, and their own
/// `UV_*` / `PIP_*` / `npm_config_*` settings (an index URL, a constraints file).
fn runner_env(
    vars: impl Iterator<Item = (String, String)>,
) -> std::collections::BTreeMap<String, String> {
    const NAMES: [&str; 6] = [
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "REQUESTS_CA_BUNDLE",
        "NODE_EXTRA_CA_CERTS",
        "XDG_CACHE_HOME",
        "XDG_DATA_HOME",
    ];
    const PREFIXES: [&str; 4] = ["UV_", "PIP_", "npm_config_", "NPM_CONFIG_"];
    vars.filter(|(k, _)| {
        NAMES.contains(&k.as_str())
            || k.to_ascii_lowercase().ends_with("_proxy")
            || PREFIXES.iter().any(|p| k.starts_with(p))
    })
    .collect()
}

/// `server.py:app` names an object in the file; a colon elsewhere (a Windows drive, a path with
/// colons) is part of the path.
fn split_spec(spec: &str) -> (&str, Option<&str>) {
    match spec.rsplit_once(':') {
        Some((path, object))
            if path.ends_with(".py") && !object.is_empty() && !object.contains(['/', '\\']) =>
        {
            (path, Some(object))
        }
        _ => (spec, None),
    }
}

/// Checks that `program` is on PATH, or says what to install.
fn need(program: &str, install: &str) -> Result<(), String> {
    let found = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .any(|dir| is_executable(&dir.join(program)));
    if found {
        Ok(())
    } else {
        Err(format!(
            "mcpscope dev: `{program}` was not found on PATH; {install}"
        ))
    }
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_object_after_a_python_file_is_split_off() {
        assert_eq!(split_spec("server.py:app"), ("server.py", Some("app")));
        assert_eq!(split_spec("server.py"), ("server.py", None));
        assert_eq!(split_spec("dir:x/server.js"), ("dir:x/server.js", None));
    }

    #[test]
    fn the_runner_gets_what_it_needs_to_fetch_packages_and_nothing_else() {
        let vars = [
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("no_proxy", "localhost"),
            ("SSL_CERT_FILE", "/etc/ca.pem"),
            ("UV_CONSTRAINT", "c.txt"),
            ("npm_config_registry", "http://r"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
            ("GITHUB_TOKEN", "y"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()));
        let env = runner_env(vars.into_iter());
        assert_eq!(
            env.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "HTTPS_PROXY",
                "SSL_CERT_FILE",
                "UV_CONSTRAINT",
                "no_proxy",
                "npm_config_registry"
            ]
        );
    }

    #[test]
    fn files_map_to_their_runner() {
        let dir = std::env::temp_dir().join(format!("mcpscope-dev-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let js = dir.join("s.mjs");
        std::fs::write(&js, "").unwrap();
        let args = |file: &Path| DevArgs {
            file: file.display().to_string(),
            with: vec![],
            with_editable: None,
        };
        let t = target(&args(&js)).unwrap();
        assert_eq!((t.command.as_str(), t.args.len()), ("node", 1));
        let txt = dir.join("s.txt");
        std::fs::write(&txt, "").unwrap();
        assert!(target(&args(&txt)).unwrap_err().contains(".py, .js"));
        assert!(
            target(&args(&dir.join("missing.py")))
                .unwrap_err()
                .contains("no such file")
        );
        let mut with = args(&js);
        with.with = vec!["pandas".into()];
        assert!(target(&with).unwrap_err().contains("Python"));
    }
}

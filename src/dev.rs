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
    let mut note = None;
    let mut extra_env = Vec::new();
    let (command, args) = match ext {
        "py" => {
            need(
                "uv",
                "mcpscope dev runs Python servers with uv, as `mcp dev` does; install it with `pip install uv` (or `curl -LsSf https://astral.sh/uv/install.sh | sh`)",
            )?;
            let file =
                std::path::absolute(path).map_err(|e| format!("mcpscope dev: {path}: {e}"))?;
            // The imports are at the top: the first MiB says what they are.
            let mut text = Vec::new();
            std::io::Read::read_to_end(
                &mut std::io::Read::take(
                    std::fs::File::open(&file).map_err(|e| format!("mcpscope dev: {path}: {e}"))?,
                    1 << 20,
                ),
                &mut text,
            )
            .map_err(|e| format!("mcpscope dev: {path}: {e}"))?;
            let run = python_runner(
                &file,
                &String::from_utf8_lossy(&text),
                std::env::var_os("VIRTUAL_ENV").map(std::path::PathBuf::from),
                args,
            );
            note = Some(run.note);
            extra_env = run.env;
            let mut a = run.args;
            let spec = match object {
                Some(o) => format!("{}:{o}", file.display()),
                None => file.display().to_string(),
            };
            a.extend(["mcp".into(), "run".into(), spec]);
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
    let mut env = runner_env(std::env::vars());
    env.extend(extra_env);
    Ok(StdioTarget {
        command: command.into(),
        args,
        env,
        cwd: None,
        secrets: Vec::new(),
        note,
    })
}

/// The SDK major a Python server file is written for, from what it imports: FastMCP lives in
/// `mcp.server.fastmcp` in 1.x and is `mcp.server.mcpserver.MCPServer` in 2.x (where importing
/// the old module fails). None when the file says neither (or both).
fn sdk_major(text: &str) -> Option<u8> {
    let mut v1 = false;
    let mut v2 = false;
    for line in text.lines().map(str::trim_start) {
        let Some(rest) = line
            .strip_prefix("from ")
            .or_else(|| line.strip_prefix("import "))
        else {
            continue;
        };
        // Whole module names only: the separate `fastmcp` package is not the SDK.
        let module = rest.split_whitespace().next().unwrap_or("");
        let names = rest.split_once(" import ").map_or("", |(_, n)| n);
        let named = |n: &str| {
            names
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|w| w == n)
        };
        // A module of the SDK, or the class imported from `mcp.server` itself.
        let uses = |package: &str, class: &str| {
            module == package
                || module
                    .strip_prefix(package)
                    .is_some_and(|r| r.starts_with('.'))
                || (module == "mcp.server" && named(class))
        };
        v1 |= uses("mcp.server.fastmcp", "FastMCP");
        v2 |= uses("mcp.server.mcpserver", "MCPServer");
    }
    match (v1, v2) {
        (true, false) => Some(1),
        (false, true) => Some(2),
        _ => None,
    }
}

/// How uv runs a Python server: its words before `mcp run FILE`, the environment it adds, and
/// one line that says what was chosen and why.
struct PythonRun {
    args: Vec<String>,
    env: Vec<(String, String)>,
    note: String,
}

/// The server runs with the SDK it is written for: in the project's own environment when the
/// file belongs to one (a `pyproject.toml` or `uv.lock` above it: uv keeps the project's own
/// `mcp` where it fits), in the active or neighbouring virtual environment, else in a fresh one;
/// the `mcp` major bound comes from the file's imports, unless `--with` names `mcp` itself.
fn python_runner(
    file: &Path,
    text: &str,
    active_venv: Option<std::path::PathBuf>,
    args: &DevArgs,
) -> PythonRun {
    let names_mcp = |p: &str| {
        let p = p.trim();
        // `get`: a name that is not ASCII must not split a character.
        p.get(..3)
            .is_some_and(|head| head.eq_ignore_ascii_case("mcp"))
            && p[3..]
                .chars()
                .next()
                .is_none_or(|c| "[=<>~!@ ;".contains(c))
    };
    let user_mcp = args.with.iter().find(|p| names_mcp(p));
    let (requirement, why) = match (user_mcp, sdk_major(text)) {
        (Some(p), _) => ("mcp[cli]", format!("mcp as --with {p} says")),
        (None, Some(1)) => (
            "mcp[cli]<2",
            "SDK 1.x: the file imports mcp.server.fastmcp (FastMCP)".to_owned(),
        ),
        (None, Some(_)) => (
            "mcp[cli]>=2,<3",
            "SDK 2.x: the file imports MCPServer".to_owned(),
        ),
        (None, None) => (
            "mcp[cli]",
            "the newest SDK: the file's imports name no major".to_owned(),
        ),
    };
    let mut a: Vec<String> = vec!["run".into()];
    let mut env = Vec::new();
    let dir = file.parent().unwrap_or(Path::new("/"));
    // Only directories nobody else may write: a `.venv` or `pyproject.toml` planted above the
    // file by someone else (in /tmp, say) would run their code. The nearest one wins.
    let ours: Vec<&Path> = dir.ancestors().take_while(|d| trusted(d)).collect();
    let is_project = |d: &Path| {
        let toml = d.join("pyproject.toml");
        let lock = d.join("uv.lock");
        let declares = |t: String| t.lines().any(|l| l.trim() == "[project]");
        (trusted(&toml) && std::fs::read_to_string(&toml).is_ok_and(declares))
            || (lock.is_file() && trusted(&lock))
    };
    let venv_in = |d: &Path| {
        let v = d.join(".venv");
        (trusted(&v) && v.join("pyvenv.cfg").is_file()).then_some(v)
    };
    let nearest = ours.iter().find_map(|d| {
        if is_project(d) {
            Some(Ok(d.to_path_buf()))
        } else {
            venv_in(d).map(Err)
        }
    });
    let active = || active_venv.filter(|v| trusted(v) && v.join("pyvenv.cfg").is_file());
    let place = match nearest {
        Some(Ok(project)) => {
            a.extend(["--project".into(), project.display().to_string()]);
            format!("in the project {}", project.display())
        }
        found => match found.and_then(Result::err).or_else(active) {
            Some(venv) => {
                a.push("--no-project".into());
                env.push(("VIRTUAL_ENV".into(), venv.display().to_string()));
                format!("in the virtual environment {}", venv.display())
            }
            None => {
                a.extend(["--isolated".into(), "--no-project".into()]);
                "in a fresh environment".to_owned()
            }
        },
    };
    // uv also reads settings (`uv.toml`, `[tool.uv]`: an index URL, say) from the directories
    // above where it starts; where one of those is not safe, it reads none.
    let unsafe_dir = dir
        .ancestors()
        .map(Path::to_path_buf)
        .chain(
            std::env::current_dir()
                .iter()
                .flat_map(|c| c.ancestors().map(Path::to_path_buf)),
        )
        .any(|d| !trusted(&d));
    let settings = if unsafe_dir {
        a.push("--no-config".into());
        " (no uv settings files: a directory above is writable by others)"
    } else {
        ""
    };
    // `mcp run` needs typer, which only the `cli` extra brings in.
    a.extend(["--with".into(), requirement.into()]);
    if let Some(dir) = &args.with_editable {
        a.push("--with-editable".into());
        a.push(dir.display().to_string());
    }
    for package in args.with.iter().filter(|p| !p.is_empty()) {
        a.push("--with".into());
        a.push(package.clone());
    }
    PythonRun {
        args: a,
        env,
        note: format!(
            "{requirement} ({why}), {place}{settings}; --with 'mcp[cli]==…' picks another"
        ),
    }
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

/// Whether `path` (not followed if a link) is one nobody but the user (or root) may change:
/// owned by the user or root, not writable by others, and writable by its group only when that
/// is the user's own private group (the umask 002 habit).
fn trusted(path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let me = nix::unistd::geteuid();
    path.symlink_metadata().is_ok_and(|m| {
        let mine = m.uid() == me.as_raw();
        let group_ok = m.mode() & 0o020 == 0 || (mine && private_group(m.gid(), me));
        !m.file_type().is_symlink() && (mine || m.uid() == 0) && m.mode() & 0o002 == 0 && group_ok
    })
}

/// Whether `gid` is `user`'s private group: named after the user, with no other members.
fn private_group(gid: u32, user: nix::unistd::Uid) -> bool {
    let group = nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(gid))
        .ok()
        .flatten();
    let name = nix::unistd::User::from_uid(user)
        .ok()
        .flatten()
        .map(|u| u.name);
    group.is_some_and(|g| {
        Some(&g.name) == name.as_ref() && g.mem.iter().all(|m| Some(m) == name.as_ref())
    })
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
    fn a_with_that_is_not_ascii_is_not_mcp_and_does_not_panic() {
        let file = Path::new("/nonexistent/server.py");
        let args = DevArgs {
            file: "server.py".into(),
            with: vec!["mc\u{e9}x".into()],
            with_editable: None,
        };
        let run = python_runner(file, "from mcp.server.fastmcp import FastMCP", None, &args);
        assert!(
            run.args.contains(&"mcp[cli]<2".to_owned()),
            "{:?}",
            run.args
        );
    }

    #[test]
    fn the_sdk_major_comes_from_the_imports() {
        assert_eq!(
            sdk_major("from mcp.server.fastmcp import FastMCP\n"),
            Some(1)
        );
        assert_eq!(sdk_major("import mcp.server.fastmcp.prompts as p"), Some(1));
        assert_eq!(
            sdk_major("from mcp.server import FastMCP, Context"),
            Some(1)
        );
        assert_eq!(sdk_major("from mcp.server import MCPServer\n"), Some(2));
        assert_eq!(
            sdk_major("from mcp.server.mcpserver import Context"),
            Some(2)
        );
        assert_eq!(
            sdk_major("from fastmcp import FastMCP"),
            None,
            "another package"
        );
        assert_eq!(sdk_major("from mcp.server.lowlevel import Server"), None);
        assert_eq!(
            sdk_major("from mcp.server.fastmcp import FastMCP\nfrom mcp.server import MCPServer"),
            None
        );
    }

    #[test]
    fn python_runs_in_its_project_its_venv_or_a_fresh_environment() {
        let root = std::env::temp_dir().join(format!("mcpscope-dev-py-{}", std::process::id()));
        let nested = root.join("pkg/src");
        std::fs::create_dir_all(&nested).unwrap();
        let file = nested.join("server.py");
        let args = |with: &[&str]| DevArgs {
            file: file.display().to_string(),
            with: with.iter().map(|s| s.to_string()).collect(),
            with_editable: None,
        };
        let v1 = "from mcp.server.fastmcp import FastMCP";
        let run = python_runner(&file, v1, None, &args(&[]));
        // /tmp, above the temp dir, is writable by everyone: uv reads no settings there.
        assert_eq!(
            run.args,
            [
                "run",
                "--isolated",
                "--no-project",
                "--no-config",
                "--with",
                "mcp[cli]<2"
            ]
        );
        assert!(
            run.note.contains("SDK 1.x") && run.note.contains("fresh"),
            "{}",
            run.note
        );
        // A virtual environment beside the file.
        std::fs::create_dir_all(root.join("pkg/.venv")).unwrap();
        std::fs::write(root.join("pkg/.venv/pyvenv.cfg"), "").unwrap();
        let run = python_runner(&file, v1, None, &args(&[]));
        assert_eq!(run.args[..2], ["run", "--no-project"]);
        assert_eq!(
            run.env,
            [(
                "VIRTUAL_ENV".to_owned(),
                root.join("pkg/.venv").display().to_string()
            )]
        );
        // A project wins over a .venv beside it; --with mcp==… overrides the bound.
        std::fs::write(root.join("pkg/pyproject.toml"), "[project]\nname = \"x\"\n").unwrap();
        let run = python_runner(&file, v1, None, &args(&["mcp==1.25.0"]));
        assert_eq!(
            run.args,
            [
                "run",
                "--project",
                &root.join("pkg").display().to_string(),
                "--no-config",
                "--with",
                "mcp[cli]",
                "--with",
                "mcp==1.25.0"
            ]
        );
        let run = python_runner(
            &file,
            "from mcp.server import MCPServer",
            None,
            &args(&["mcpx"]),
        );
        assert!(
            run.args.contains(&"mcp[cli]>=2,<3".to_owned()),
            "{:?}",
            run.args
        );
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn a_venv_or_project_others_can_write_is_not_used() {
        use std::os::unix::fs::PermissionsExt;
        let root =
            std::env::temp_dir().join(format!("mcpscope-dev-planted-{}", std::process::id()));
        let dir = root.join("work");
        std::fs::create_dir_all(root.join(".venv")).unwrap();
        std::fs::create_dir_all(&dir).unwrap();
        for d in [&root, &dir, &root.join(".venv")] {
            std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        std::fs::write(root.join(".venv/pyvenv.cfg"), "").unwrap();
        std::fs::write(root.join("pyproject.toml"), "[project]\nname = \"x\"\n").unwrap();
        let file = dir.join("server.py");
        let args = DevArgs {
            file: file.display().to_string(),
            with: vec![],
            with_editable: None,
        };
        let run = python_runner(&file, "", None, &args);
        assert_eq!(run.args[1], "--project", "ours, above the file: used");
        // Writable by others: a planted file, whoever owns it.
        std::fs::set_permissions(
            root.join("pyproject.toml"),
            std::fs::Permissions::from_mode(0o666),
        )
        .unwrap();
        let run = python_runner(&file, "", None, &args);
        assert_eq!(run.args[1], "--no-project", "{:?}", run.args);
        std::fs::set_permissions(root.join(".venv"), std::fs::Permissions::from_mode(0o777))
            .unwrap();
        let run = python_runner(&file, "", None, &args);
        assert_eq!(run.args[1], "--isolated", "{:?}", run.args);
        // A parent others may write (like /tmp) ends the search there.
        std::fs::set_permissions(root.join(".venv"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o777)).unwrap();
        let run = python_runner(&file, "", None, &args);
        assert_eq!(run.args[1], "--isolated", "{:?}", run.args);
        std::fs::remove_dir_all(&root).unwrap();
    }

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

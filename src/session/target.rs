//! What a session connects to: a stdio command or a remote URL. Its description is what the
//! session object shows (secrets redacted), and its label names a session that has no catalog
//! name.

use serde_json::{Value, json};

use crate::{
    redact,
    transport::{http, stdio},
};

#[derive(Debug, Clone)]
pub enum Target {
    Stdio(stdio::StdioTarget),
    Remote(http::RemoteTarget),
}

impl Target {
    /// The target as the session object shows it. Environment and header values are redacted:
    /// they are where tokens live, and the session object travels in events.
    pub fn describe(&self) -> Value {
        match self {
            Target::Stdio(t) => {
                let hide = |s: &str| redact::values_in(s, &t.secrets);
                let mut d = json!({
                    "transport": "stdio",
                    "command": hide(&t.command),
                    "args": t.args.iter().map(|a| hide(a)).collect::<Vec<_>>(),
                    "env": redact::all_values(&t.env),
                    "cwd": t.cwd.as_ref().map(|c| hide(&c.to_string_lossy())),
                });
                if let Some(note) = &t.note {
                    d["note"] = json!(hide(note));
                }
                d
            }
            Target::Remote(t) => {
                let url = redact::url_text(&t.url, &t.secret_headers);
                let mut d = json!({
                    "transport": t.kind.as_str(),
                    "url": redact::values_in(&url, &t.secrets),
                    "headers": redact::all_values(&t.headers),
                });
                if !t.oauth.is_empty() {
                    d["oauth"] = t.oauth.describe();
                }
                d
            }
        }
    }

    /// The target a description names (the inverse of [`Target::describe`], for a recording's
    /// target): stdio `command`, `args`, `env`, `cwd`; remote `transport`, `url`, `headers`.
    pub fn from_description(d: &Value) -> Result<Target, String> {
        let strings = |v: &Value| -> std::collections::BTreeMap<String, String> {
            v.as_object()
                .into_iter()
                .flatten()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        };
        match d["transport"].as_str() {
            Some("stdio") => Ok(Target::Stdio(stdio::StdioTarget {
                command: d["command"]
                    .as_str()
                    .ok_or("the target has no command")?
                    .to_owned(),
                args: d["args"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|a| a.as_str().map(str::to_owned))
                    .collect(),
                env: strings(&d["env"]),
                cwd: d["cwd"].as_str().map(Into::into),
                secrets: Vec::new(),
                note: None,
            })),
            Some(kind @ ("http" | "sse")) => Ok(Target::Remote(http::RemoteTarget {
                kind: if kind == "sse" {
                    http::RemoteKind::Sse
                } else {
                    http::RemoteKind::Http
                },
                url: d["url"].as_str().ok_or("the target has no url")?.to_owned(),
                headers: strings(&d["headers"]),
                secret_headers: Default::default(),
                oauth: Default::default(),
                secrets: Vec::new(),
            })),
            other => Err(format!("a target with transport {other:?}")),
        }
    }

    /// Every value of this target a recording must never hold, even echoed back by a server:
    /// environment values; every header value (the session object hides them all), also without
    /// its auth scheme (`Bearer abc` leaves `abc` in what a server prints); credential query
    /// parameters; the URL's password; the OAuth client secret.
    pub fn secret_values(&self) -> Vec<String> {
        match self {
            Target::Stdio(t) => t.env.values().chain(&t.secrets).cloned().collect(),
            Target::Remote(t) => {
                let mut out = t.secrets.clone();
                for v in t.headers.values() {
                    out.push(v.clone());
                    if let Some((scheme, rest)) = v.split_once(' ')
                        && scheme
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-')
                    {
                        out.push(rest.trim().to_owned());
                    }
                }
                if let Ok(u) = url::Url::parse(&t.url) {
                    out.extend(
                        u.query_pairs()
                            .filter(|(k, _)| redact::is_secret_name(k, &t.secret_headers))
                            .map(|(_, v)| v.into_owned()),
                    );
                    if let Some(p) = u.password() {
                        out.push(p.to_owned());
                        let decoded = percent_encoding::percent_decode_str(p).decode_utf8_lossy();
                        out.push(decoded.into_owned());
                    }
                }
                out.extend(t.oauth.client_secret.clone());
                out
            }
        }
    }

    /// A short name for a session the user did not name: the program and its script for stdio
    /// (`node index.js`), host and path for a URL.
    pub fn label(&self) -> String {
        match self {
            Target::Stdio(t) => command_label(&t.command, &t.args),
            Target::Remote(t) => match url::Url::parse(&t.url) {
                Ok(u) => format!(
                    "{}{}",
                    u.host_str().map_or_else(String::new, |h| match u.port() {
                        Some(p) => format!("{h}:{p}"),
                        None => h.to_owned(),
                    }),
                    u.path()
                ),
                Err(_) => t.url.clone(),
            },
        }
    }

    pub(super) fn is_remote(&self) -> bool {
        matches!(self, Target::Remote(_))
    }
}

/// The program and its script (`node index.js`): the name of an unnamed stdio session.
pub(super) fn command_label(command: &str, args: &[String]) -> String {
    let base = |s: &str| {
        s.rsplit('/')
            .find(|p| !p.is_empty())
            .unwrap_or(s)
            .to_owned()
    };
    let mut label = base(command);
    if let Some(script) = args.iter().find(|a| !a.starts_with('-')) {
        label.push(' ');
        label.push_str(&base(script));
    }
    label
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stdio(command: &str, args: &[&str]) -> Target {
        Target::Stdio(stdio::StdioTarget {
            command: command.into(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env: [("API_KEY".to_owned(), "secret".to_owned())].into(),
            cwd: None,
            secrets: vec!["in-arg-secret".into()],
            note: None,
        })
    }

    #[test]
    fn description_redacts_env_values() {
        let d = stdio("node", &["x.js"]).describe().to_string();
        assert!(d.contains("API_KEY") && !d.contains("secret"), "{d}");
        // Regression: a password input given in args stayed in clear in the session object.
        let d = stdio("node", &["x.js", "--key=in-arg-secret"]).describe();
        assert_eq!(d["args"][1], "--key=<redacted>");
        assert!(
            stdio("n", &[])
                .secret_values()
                .contains(&"in-arg-secret".to_owned())
        );
    }

    #[test]
    fn secret_values_cover_every_header_with_and_without_its_scheme_and_the_url_password() {
        let t = Target::from_description(&json!({
            "transport": "http",
            "url": "http://me:pa%24s@127.0.0.1:1/mcp?api_key=qk&page=2",
            "headers": {"Authorization": "Bearer tok-123", "X-Tenant": "acme-1"},
        }))
        .unwrap();
        let values = t.secret_values();
        for v in [
            "Bearer tok-123",
            "tok-123",
            "acme-1",
            "qk",
            "pa%24s",
            "pa$s",
        ] {
            assert!(values.iter().any(|x| x == v), "{v} in {values:?}");
        }
        assert!(!values.iter().any(|x| x == "2"), "{values:?}");
    }

    #[test]
    fn labels_name_the_program_and_script_or_the_host_and_path() {
        assert_eq!(
            stdio("/usr/bin/node", &["-u", "/srv/app/dist/index.js", "stdio"]).label(),
            "node index.js"
        );
        let remote = Target::Remote(http::RemoteTarget {
            kind: http::RemoteKind::Http,
            url: "http://127.0.0.1:3001/mcp?api_key=k".into(),
            headers: Default::default(),
            secret_headers: Default::default(),
            oauth: Default::default(),
            secrets: Vec::new(),
        });
        assert_eq!(remote.label(), "127.0.0.1:3001/mcp");
        assert!(!remote.describe().to_string().contains("=k"));
    }
}

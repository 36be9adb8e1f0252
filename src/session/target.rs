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
            Target::Stdio(t) => json!({
                "transport": "stdio",
                "command": t.command,
                "args": t.args,
                "env": redact::all_values(&t.env),
                "cwd": t.cwd,
            }),
            Target::Remote(t) => {
                let mut d = json!({
                    "transport": t.kind.as_str(),
                    "url": redact::url_text(&t.url, &t.secret_headers),
                    "headers": redact::all_values(&t.headers),
                });
                if !t.oauth.is_empty() {
                    d["oauth"] = t.oauth.describe();
                }
                d
            }
        }
    }

    /// A short name for a session the user did not name: the program and its script for stdio
    /// (`node index.js`), host and path for a URL.
    pub fn label(&self) -> String {
        let base = |s: &str| {
            s.rsplit('/')
                .find(|p| !p.is_empty())
                .unwrap_or(s)
                .to_owned()
        };
        match self {
            Target::Stdio(t) => {
                let mut label = base(&t.command);
                if let Some(script) = t.args.iter().find(|a| !a.starts_with('-')) {
                    label.push(' ');
                    label.push_str(&base(script));
                }
                label
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn stdio(command: &str, args: &[&str]) -> Target {
        Target::Stdio(stdio::StdioTarget {
            command: command.into(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env: [("API_KEY".to_owned(), "secret".to_owned())].into(),
            cwd: None,
        })
    }

    #[test]
    fn description_redacts_env_values() {
        let d = stdio("node", &["x.js"]).describe().to_string();
        assert!(d.contains("API_KEY") && !d.contains("secret"), "{d}");
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
        });
        assert_eq!(remote.label(), "127.0.0.1:3001/mcp");
        assert!(!remote.describe().to_string().contains("=k"));
    }
}

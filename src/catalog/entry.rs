//! One server of the catalog: where it comes from (which decides whether mcpscope may change
//! it), its API view with secrets hidden, and the target it connects to with its placeholders
//! resolved.

use std::{collections::BTreeMap, path::PathBuf};

use serde_json::{Value, json};

use super::{InputDecl, REDACTED, Resolver, ServerSpec, Transport, placeholders, resolve};
use crate::{
    session::{RemoteKind, RemoteTarget, Target},
    transport::stdio::StdioTarget,
};

/// Where an entry comes from, which decides whether mcpscope may change it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The user's catalog file: editable.
    Catalog,
    /// The `--config` file: read-only, because it belongs to another tool.
    Config(PathBuf),
}

/// One server in the catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub name: String,
    pub spec: ServerSpec,
    pub origin: Origin,
}

impl Entry {
    /// The API shape of the entry. Without `reveal`, every env value is redacted (env is where
    /// launch configs put secrets, and no name pattern finds them all) and so is every header
    /// value whose name says it is a secret; a value that is just a placeholder holds no secret
    /// and is shown either way. `source` is the config file for config entries and `null` for
    /// catalog entries, whose file is [`Catalog::path`].
    pub fn to_json(&self, reveal: bool) -> Value {
        let spec = &self.shown_spec(reveal);
        let shown_placeholders = placeholders(spec);
        let (origin, source) = match &self.origin {
            Origin::Catalog => ("catalog", Value::Null),
            Origin::Config(file) => ("config", Value::String(file.display().to_string())),
        };
        json!({
            "name": self.name,
            "origin": origin,
            "source": source,
            "transport": spec.transport.as_str(),
            "command": spec.command,
            "args": spec.args,
            "env": spec.env,
            "cwd": spec.cwd,
            "url": spec.url,
            "headers": spec.headers,
            "extra": spec.extra,
            // Every source a connect will ask for, but an unknown `${…}` only where its value is
            // shown: inside a hidden value it may be the secret itself (`Bearer ${ghp_…}`).
            "placeholders": placeholders(&self.spec)
                .into_iter()
                .filter(|p| placeholders::names_a_source(p) || shown_placeholders.contains(p))
                .collect::<Vec<_>>(),
            "editable": self.origin == Origin::Catalog,
        })
    }
}

impl Entry {
    /// The spec as it may be shown or exported: without `reveal`, secrets are [`REDACTED`].
    pub fn shown_spec(&self, reveal: bool) -> ServerSpec {
        let mut spec = self.spec.clone();
        if !reveal {
            hide(&mut spec.env, |_| true);
            hide(&mut spec.headers, is_secret_header);
            // The URL's password and credential query parameters, as the session object hides
            // them (a placeholder stays: it holds no secret).
            spec.url = spec
                .url
                .map(|u| crate::redact::url_text(&u, &Default::default()));
        }
        spec
    }

    /// What to connect to, placeholders resolved; each one that cannot be is named.
    pub fn target(&self, decls: &[InputDecl], r: &Resolver<'_>) -> Result<Target, Vec<String>> {
        let placeholders::Resolved { spec, secrets } = resolve(&self.spec, decls, r)?;
        Ok(match spec.transport {
            Transport::Stdio => Target::Stdio(StdioTarget {
                command: spec.command.unwrap_or_default(),
                args: spec.args,
                env: spec.env,
                cwd: spec.cwd.map(Into::into),
                secrets,
                note: None,
            }),
            Transport::Http | Transport::Sse => Target::Remote(RemoteTarget {
                kind: if spec.transport == Transport::Sse {
                    RemoteKind::Sse
                } else {
                    RemoteKind::Http
                },
                url: spec.url.unwrap_or_default(),
                headers: spec.headers,
                secret_headers: Default::default(),
                oauth: Default::default(),
                secrets,
            }),
        })
    }
}

fn hide(map: &mut BTreeMap<String, String>, secret: impl Fn(&str) -> bool) {
    for (key, value) in map.iter_mut() {
        if secret(key) && !placeholders::holds_only_placeholders(value) {
            *value = REDACTED.to_owned();
        }
    }
}

/// Whether a header's value is a credential, judged by its name (the one rule of [`crate::redact`]).
fn is_secret_header(name: &str) -> bool {
    crate::redact::is_secret_name(name, &Default::default())
}

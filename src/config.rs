//! Turns parsed [`Args`] into a validated [`Config`]: the bind address (loopback unless the user
//! opted out loudly), the token, the catalog and config files, and what to connect at start —
//! `-- COMMAND`, `--url`, or a server of the `--config` file.

use std::{
    collections::BTreeMap,
    net::{IpAddr, SocketAddr},
    path::Path,
};

use crate::{
    catalog,
    cli::{Args, TransportArg},
    session::{RemoteKind, RemoteTarget, Target},
    transport::stdio::StdioTarget,
};

/// Everything `run` needs, already checked.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    /// The apps origin's port (`--apps-port`; 0: any free one).
    pub apps_port: u16,
    /// `--otlp`: the collector traces go to.
    pub otlp: Option<String>,
    /// `--model`: the default model for sampling mode `llm`.
    pub model: Option<crate::model::ModelRef>,
    pub token: String,
    pub open_browser: bool,
    /// What to connect at start: a target, or a server of the config file by name.
    pub start: Option<Start>,
    /// `--protocol-era`, over a config entry's own.
    pub era: Option<crate::session::EraChoice>,
    /// The name of the session `start` opens, when the target's own label would say less
    /// (`mcpscope dev server.py` runs `uv run …`).
    pub start_name: Option<String>,
    /// The catalog file (`--catalog`, else under the user's config directory).
    pub catalog: std::path::PathBuf,
    /// The mcpServers file whose servers the catalog lists (`--config`).
    pub config_file: Option<std::path::PathBuf>,
    /// Bounds of the event history.
    pub ring: crate::events::RingLimits,
    /// Whether a non-loopback bind was explicitly allowed (IP-literal `Host` values on our port
    /// are then accepted too).
    pub bind_all: bool,
    /// Where the responder settings persist (`--responders`).
    pub responders: Option<std::path::PathBuf>,
    /// Where OAuth credentials persist (`--oauth-credentials`); memory only when None.
    pub oauth_credentials: Option<std::path::PathBuf>,
    /// A recording to show as a read-only session (`mcpscope open FILE`).
    pub open: Option<std::path::PathBuf>,
}

/// What is connected at start.
#[derive(Debug, Clone)]
pub enum Start {
    Target(Target),
    /// A server of the `--config` file; `-e` and `--cwd` apply on top of its own settings.
    Server {
        name: String,
        env: BTreeMap<String, String>,
        cwd: Option<std::path::PathBuf>,
        /// `--allow-env`: names whose values may go to a remote server's URL or headers.
        allow_env: std::collections::BTreeSet<String>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("--host {0} is not an IP address")]
    BadHost(String),
    #[error(
        "refusing to listen on {0}: it is not a loopback address, and anyone who reaches mcpscope with the token can run commands here; pass --dangerously-bind-all if you mean it"
    )]
    NotLoopback(IpAddr),
    #[error("-e {0}: expected KEY=VALUE")]
    BadEnv(String),
    #[error("--header {0}: expected \"Name: value\"")]
    BadHeader(String),
    #[error("--token must not be empty")]
    EmptyToken,
    #[error("--model {0}")]
    BadModel(String),
    #[error("cannot read {path}: {message}")]
    ConfigFile { path: String, message: String },
    #[error("{0}")]
    ServerChoice(String),
    #[error("--transport stdio takes a command, not --url")]
    StdioUrl,
}

/// A `KEY=VALUE` word (`-e`, `--tool-arg`, `--metadata`, …): split at the first `=`, so the value
/// may hold more; None when there is no `=` or no key.
pub fn key_value(word: &str) -> Option<(&str, &str)> {
    word.split_once('=').filter(|(k, _)| !k.is_empty())
}

/// What the command line asks to connect: `-- COMMAND`, `--url`, or a server of `--config` (or of
/// the catalog, by `--server` alone). None when it names no target.
pub fn start(args: &Args) -> Result<Option<Start>, ConfigError> {
    let env = args
        .env
        .iter()
        .map(|kv| {
            key_value(kv)
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| ConfigError::BadEnv(kv.clone()))
        })
        .collect::<Result<BTreeMap<_, _>, _>>()?;
    let headers = args
        .headers
        .iter()
        .map(|h| {
            h.split_once(':')
                .filter(|(k, _)| !k.trim().is_empty())
                .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                .ok_or_else(|| ConfigError::BadHeader(h.clone()))
        })
        .collect::<Result<BTreeMap<_, _>, _>>()?;

    Ok(if let Some((command, rest)) = args.target.split_first() {
        Some(Start::Target(Target::Stdio(StdioTarget {
            command: command.clone(),
            args: rest.to_vec(),
            env,
            cwd: args.cwd.clone(),
            secrets: Vec::new(),
            note: None,
        })))
    } else if let Some(url) = &args.url {
        let transport = match args.transport {
            Some(TransportArg::Http) => RemoteKind::Http,
            Some(TransportArg::Sse) => RemoteKind::Sse,
            Some(TransportArg::Stdio) => return Err(ConfigError::StdioUrl),
            None => guess_transport(url),
        };
        Some(Start::Target(Target::Remote(RemoteTarget {
            kind: transport,
            url: url.clone(),
            headers,
            secret_headers: Default::default(),
            oauth: oauth_options(args),
            secrets: Vec::new(),
        })))
    } else if let Some(path) = &args.config {
        server_to_start(path, args.server.as_deref())?.map(|name| Start::Server {
            name,
            env,
            cwd: args.cwd.clone(),
            allow_env: args.allow_env.iter().cloned().collect(),
        })
    } else {
        args.server.as_ref().map(|name| Start::Server {
            name: name.clone(),
            env,
            cwd: args.cwd.clone(),
            allow_env: args.allow_env.iter().cloned().collect(),
        })
    })
}

/// The OAuth flags, as the connect body's `oauth` object would say them.
pub fn oauth_options(args: &Args) -> crate::oauth::OAuthOptions {
    crate::oauth::OAuthOptions {
        client_id: args.client_id.clone(),
        client_secret: args.client_secret.clone(),
        client_metadata_url: args.client_metadata_url.clone(),
        scopes: args
            .scopes
            .as_ref()
            .map(|s| s.split_whitespace().map(str::to_owned).collect()),
        token_endpoint_auth_method: None,
        step_by_step: false,
    }
}

impl Start {
    /// The connect options for the start target: `--protocol-era` over the entry's `"era"`.
    pub fn options(
        &self,
        era: Option<crate::session::EraChoice>,
        catalog: &catalog::Catalog,
    ) -> Result<crate::session::ConnectOptions, String> {
        let era = match (era, self.server_name()) {
            (Some(era), _) => Some(era),
            (None, Some(name)) => catalog.era(name)?,
            (None, None) => None,
        };
        Ok(crate::session::ConnectOptions {
            era: era.unwrap_or_default(),
            // The inspector hosts MCP Apps.
            apps: true,
            ..Default::default()
        })
    }

    /// The catalog name of the server to start, if it is one.
    pub fn server_name(&self) -> Option<&str> {
        match self {
            Start::Target(_) => None,
            Start::Server { name, .. } => Some(name),
        }
    }

    /// The target to connect: a server of the catalog (which lists the `--config` file's too)
    /// with `-e` and `--cwd` applied over its own settings, placeholders resolved.
    pub fn target(self, catalog: &catalog::Catalog) -> Result<Target, String> {
        match self {
            Start::Target(target) => Ok(target),
            Start::Server {
                name,
                env,
                cwd,
                allow_env,
            } => {
                let mut target = catalog
                    .target(&name, &Default::default(), &env, &allow_env)
                    .map_err(|unresolved| unresolved.join("; "))?;
                if let Target::Stdio(t) = &mut target {
                    t.env.extend(env);
                    if cwd.is_some() {
                        t.cwd = cwd;
                    }
                }
                Ok(target)
            }
        }
    }
}

impl Config {
    pub fn from_args(args: &Args) -> Result<Config, ConfigError> {
        let ip: IpAddr = args
            .host
            .parse()
            .map_err(|_| ConfigError::BadHost(args.host.clone()))?;
        if !ip.is_loopback() && !args.dangerously_bind_all {
            return Err(ConfigError::NotLoopback(ip));
        }
        let token = match &args.token {
            Some(t) if t.is_empty() => return Err(ConfigError::EmptyToken),
            Some(t) => t.clone(),
            None => crate::net::random_hex(32),
        };
        let start = start(args)?;

        Ok(Config {
            bind: SocketAddr::new(ip, args.port),
            apps_port: args.apps_port,
            otlp: args.otlp.clone(),
            model: args
                .model
                .as_deref()
                .map(crate::model::ModelRef::parse)
                .transpose()
                .map_err(ConfigError::BadModel)?,
            token,
            open_browser: !args.no_open,
            start,
            start_name: None,
            era: args.protocol_era,
            catalog: args.catalog.clone().unwrap_or_else(catalog::default_path),
            config_file: args.config.clone(),
            ring: crate::events::RingLimits::sized(
                usize::try_from(args.max_events).unwrap_or(usize::MAX),
                args.max_history_mb,
            ),
            bind_all: args.dangerously_bind_all,
            responders: args.responders.clone(),
            oauth_credentials: args.oauth_credentials.clone(),
            open: None,
        })
    }
}

/// `/sse` at the end of the path means the legacy transport; anything else Streamable HTTP.
pub fn guess_transport(url: &str) -> RemoteKind {
    if catalog::formats::url_says_sse(url) {
        RemoteKind::Sse
    } else {
        RemoteKind::Http
    }
}

/// Reads the `--config` file (any format the catalog reads) and picks the server to connect at
/// start: the named one, else the only one, else one called `default-server`, else none (every
/// server is listed in the catalog either way).
fn server_to_start(path: &Path, name: Option<&str>) -> Result<Option<String>, ConfigError> {
    let err = |message: String| ConfigError::ConfigFile {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let file = catalog::parse(&text).map_err(err)?;
    let has = |n: &str| file.servers.iter().any(|(s, _)| s == n);
    Ok(match name {
        Some(n) if has(n) => Some(n.to_owned()),
        Some(n) => {
            let names: Vec<&str> = file.servers.iter().map(|(s, _)| s.as_str()).collect();
            return Err(ConfigError::ServerChoice(format!(
                "no server \"{n}\" in the file (it has: {})",
                names.join(", ")
            )));
        }
        None if file.servers.len() == 1 => Some(file.servers[0].0.clone()),
        None if has("default-server") => Some("default-server".to_owned()),
        None => None,
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    fn config(argv: &[&str]) -> Result<Config, ConfigError> {
        Config::from_args(&Args::try_parse_from(argv).unwrap())
    }

    #[test]
    fn non_loopback_needs_the_dangerous_flag() {
        assert!(matches!(
            config(&["mcpscope", "--host", "0.0.0.0"]),
            Err(ConfigError::NotLoopback(_))
        ));
        assert!(config(&["mcpscope", "--host", "0.0.0.0", "--dangerously-bind-all"]).is_ok());
        assert!(config(&["mcpscope", "--host", "::1"]).is_ok());
    }

    #[test]
    fn the_token_is_random_hex_unless_given() {
        let a = config(&["mcpscope"]).unwrap().token;
        assert_eq!(a.len(), 64);
        assert_ne!(a, config(&["mcpscope"]).unwrap().token);
        assert_eq!(config(&["mcpscope", "--token", "t"]).unwrap().token, "t");
    }

    #[test]
    fn stdio_target_after_double_dash_with_env() {
        let c = config(&["mcpscope", "-e", "A=1=2", "--", "node", "s.js", "--flag"]).unwrap();
        let Some(Start::Target(Target::Stdio(t))) = c.start else {
            panic!()
        };
        assert_eq!(t.command, "node");
        assert_eq!(t.args, ["s.js", "--flag"]);
        assert_eq!(t.env["A"], "1=2");
    }

    #[test]
    fn transport_is_guessed_from_the_url() {
        assert_eq!(
            guess_transport("http://127.0.0.1:3001/sse"),
            RemoteKind::Sse
        );
        assert_eq!(
            guess_transport("http://127.0.0.1:3001/mcp"),
            RemoteKind::Http
        );
    }

    #[test]
    fn a_config_file_names_the_server_to_start_or_none() {
        let dir = std::env::temp_dir().join(format!("mcpscope-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.json");
        std::fs::write(
            &file,
            r#"{"mcpServers":{"a":{"command":"node","args":["a.js"],"env":{"K":"v"}},"b":{"url":"http://127.0.0.1:1/sse"}}}"#,
        )
        .unwrap();
        let f = file.to_str().unwrap();
        let c = config(&["mcpscope", "--config", f, "--server", "b", "-e", "X=1"]).unwrap();
        let Some(Start::Server { name, env, .. }) = c.start else {
            panic!()
        };
        assert_eq!((name.as_str(), env["X"].as_str()), ("b", "1"));
        assert_eq!(c.config_file.as_deref(), Some(file.as_path()));
        // Several servers and no choice: all listed, none connected.
        assert!(
            config(&["mcpscope", "--config", f])
                .unwrap()
                .start
                .is_none()
        );
        assert!(matches!(
            config(&["mcpscope", "--config", f, "--server", "zz"]),
            Err(ConfigError::ServerChoice(_))
        ));
        let c = config(&["mcpscope", "--catalog", "/tmp/x.json"]).unwrap();
        assert_eq!(c.catalog, std::path::Path::new("/tmp/x.json"));
    }
}

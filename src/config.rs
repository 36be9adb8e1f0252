//! Turns parsed [`Args`] into a validated [`Config`]: the bind address (loopback unless the user
//! opted out loudly), the token, and the initial target — from `-- COMMAND`, `--url`, or an
//! mcpServers file.

use std::{
    collections::BTreeMap,
    net::{IpAddr, SocketAddr},
    path::Path,
};

use serde_json::Value;

use crate::{
    cli::{Args, TransportArg},
    session::{RemoteKind, RemoteTarget, Target},
    transport::stdio::StdioTarget,
};

/// Everything `run` needs, already checked.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: SocketAddr,
    pub token: String,
    pub open_browser: bool,
    pub target: Option<Target>,
    /// Bounds of the event history.
    pub ring: crate::events::RingLimits,
    /// Whether a non-loopback bind was explicitly allowed (IP-literal `Host` values on our port
    /// are then accepted too).
    pub bind_all: bool,
    /// Where the responder settings persist (`--responders`).
    pub responders: Option<std::path::PathBuf>,
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
    #[error("cannot read {path}: {message}")]
    ConfigFile { path: String, message: String },
    #[error("{0}")]
    ServerChoice(String),
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
            None => random_token(),
        };
        let env = args
            .env
            .iter()
            .map(|kv| {
                kv.split_once('=')
                    .filter(|(k, _)| !k.is_empty())
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

        let target = if let Some((command, rest)) = args.target.split_first() {
            Some(Target::Stdio(StdioTarget {
                command: command.clone(),
                args: rest.to_vec(),
                env,
                cwd: args.cwd.clone(),
            }))
        } else if let Some(url) = &args.url {
            let transport = match args.transport {
                Some(TransportArg::Http) => RemoteKind::Http,
                Some(TransportArg::Sse) => RemoteKind::Sse,
                None => guess_transport(url),
            };
            Some(Target::Remote(RemoteTarget {
                kind: transport,
                url: url.clone(),
                headers,
                secret_headers: Default::default(),
            }))
        } else if let Some(path) = &args.config {
            Some(target_from_file(
                path,
                args.server.as_deref(),
                env,
                args.cwd.clone(),
            )?)
        } else {
            None
        };

        Ok(Config {
            bind: SocketAddr::new(ip, args.port),
            token,
            open_browser: !args.no_open,
            target,
            ring: crate::events::RingLimits {
                max_events: usize::try_from(args.max_events).unwrap_or(usize::MAX),
                ..Default::default()
            },
            bind_all: args.dangerously_bind_all,
            responders: args.responders.clone(),
        })
    }
}

/// `/sse` at the end of the path means the legacy transport; anything else Streamable HTTP.
pub fn guess_transport(url: &str) -> RemoteKind {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    if path.trim_end_matches('/').ends_with("/sse") {
        RemoteKind::Sse
    } else {
        RemoteKind::Http
    }
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source is available");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads an `{"mcpServers": {name: {...}}}` file and picks the server: the named one, else the
/// only one, else one called `default-server`.
fn target_from_file(
    path: &Path,
    name: Option<&str>,
    extra_env: BTreeMap<String, String>,
    cwd: Option<std::path::PathBuf>,
) -> Result<Target, ConfigError> {
    let err = |message: String| ConfigError::ConfigFile {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| err(e.to_string()))?;
    let doc: Value = serde_json::from_str(&text).map_err(|e| err(e.to_string()))?;
    let servers = doc
        .get("mcpServers")
        .or_else(|| doc.get("servers"))
        .and_then(Value::as_object)
        .ok_or_else(|| err("no \"mcpServers\" object".into()))?;
    let names = || servers.keys().cloned().collect::<Vec<_>>().join(", ");
    let (chosen, entry) = match name {
        Some(n) => servers.get_key_value(n).ok_or_else(|| {
            ConfigError::ServerChoice(format!(
                "no server \"{n}\" in the file (it has: {})",
                names()
            ))
        })?,
        None if servers.len() == 1 => servers.iter().next().unwrap(),
        None => servers.get_key_value("default-server").ok_or_else(|| {
            ConfigError::ServerChoice(format!(
                "the file has several servers; pick one with --server (it has: {})",
                names()
            ))
        })?,
    };
    let strings = |v: Option<&Value>| -> BTreeMap<String, String> {
        v.and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    };
    if let Some(url) = entry.get("url").and_then(Value::as_str) {
        let transport = match entry.get("type").and_then(Value::as_str) {
            Some("sse") => RemoteKind::Sse,
            Some("http" | "streamable-http" | "streamableHttp") => RemoteKind::Http,
            _ => guess_transport(url),
        };
        return Ok(Target::Remote(RemoteTarget {
            kind: transport,
            url: url.to_owned(),
            headers: strings(entry.get("headers")),
            secret_headers: Default::default(),
        }));
    }
    let command = entry
        .get("command")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            err(format!(
                "server \"{chosen}\" has neither \"command\" nor \"url\""
            ))
        })?;
    let args = entry
        .get("args")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let mut env = strings(entry.get("env"));
    env.extend(extra_env);
    Ok(Target::Stdio(StdioTarget {
        command: command.to_owned(),
        args,
        env,
        cwd: cwd.or_else(|| entry.get("cwd").and_then(Value::as_str).map(Into::into)),
    }))
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
        let Some(Target::Stdio(t)) = c.target else {
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
    fn mcp_servers_file_picks_the_named_or_only_server() {
        let dir = std::env::temp_dir().join(format!("mcpscope-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.json");
        std::fs::write(
            &file,
            r#"{"mcpServers":{"a":{"command":"node","args":["a.js"],"env":{"K":"v"}},"b":{"url":"http://127.0.0.1:1/sse"}}}"#,
        )
        .unwrap();
        let f = file.to_str().unwrap();
        let Some(Target::Stdio(t)) = config(&["mcpscope", "--config", f, "--server", "a"])
            .unwrap()
            .target
        else {
            panic!()
        };
        assert_eq!((t.command.as_str(), t.env["K"].as_str()), ("node", "v"));
        assert!(matches!(
            config(&["mcpscope", "--config", f, "--server", "b"])
                .unwrap()
                .target,
            Some(Target::Remote(RemoteTarget {
                kind: RemoteKind::Sse,
                ..
            }))
        ));
        assert!(matches!(
            config(&["mcpscope", "--config", f]),
            Err(ConfigError::ServerChoice(_))
        ));
    }
}

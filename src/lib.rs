//! mcpscope: a web inspector for Model Context Protocol servers.
//!
//! The backend holds the MCP client session ([`session`]) to the target ([`transport`]), speaks
//! JSON-RPC through its own engine ([`wire`]), publishes everything it observes on one event
//! stream ([`events`]), and serves a token-guarded HTTP + SSE API with an embedded UI ([`web`]).
//! [`run`] wires them together; [`web::app`] is usable by tests without a socket.

pub mod apps;
pub mod catalog;
pub mod chat;
pub mod cli;
pub mod commands;
pub mod config;
pub mod demo;
pub mod dev;
pub mod eval;
pub mod events;
pub mod lint;
pub mod mock;
pub mod model;
pub mod net;
pub mod oauth;
pub mod otlp;
pub mod private_file;
pub mod recording;
pub mod redact;
pub mod responders;
pub mod schema;
pub mod session;
pub mod tap;
pub mod term;
pub mod transport;
pub mod web;
pub mod wire;

use std::io::Write;

use tokio::{net::TcpListener, sync::watch};

use crate::{config::Config, events::EventBus, session::Sessions, web::AppState};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("server error: {0}")]
    Serve(std::io::Error),
    #[error("--responders: {0}")]
    Responders(String),
    #[error("catalog: {0}")]
    Catalog(String),
    #[error("open: {0}")]
    Recording(String),
    #[error("{0}")]
    Otlp(String),
}

/// Serves until Ctrl-C or SIGTERM, then shuts the target down cleanly.
pub async fn run(config: Config) -> Result<(), RunError> {
    let responders = responders::ResponderStore::open(config.responders.clone())
        .map_err(RunError::Responders)?;
    let catalog = catalog::Catalog::open(config.catalog.clone(), config.config_file.as_deref())
        .map_err(RunError::Catalog)?;
    let listener = TcpListener::bind(config.bind)
        .await
        .map_err(|source| RunError::Bind {
            addr: config.bind,
            source,
        })?;
    let local = listener.local_addr().map_err(RunError::Serve)?;
    // MCP App views get an origin of their own, on loopback even when the UI is bound wider:
    // they are a server's code, and must reach nothing of the UI.
    let apps_ip = if local.ip().is_loopback() {
        local.ip()
    } else {
        std::net::Ipv4Addr::LOCALHOST.into()
    };
    let apps_addr = std::net::SocketAddr::new(apps_ip, config.apps_port);
    let apps_listener = TcpListener::bind(apps_addr)
        .await
        .map_err(|source| RunError::Bind {
            addr: apps_addr,
            source,
        })?;
    let apps_port = apps_listener.local_addr().map_err(RunError::Serve)?.port();
    let opened = match &config.open {
        Some(path) => {
            let recording = recording::Recording::read(path).map_err(RunError::Recording)?;
            let info = recording::open::session_info(&recording, path);
            let limits = recording::open::limits(&recording, config.ring);
            Some((info, EventBus::with_history(limits, recording.events)))
        }
        None => None,
    };
    let (opened, events) = match opened {
        Some((info, bus)) => (Some(info), bus),
        None => (None, EventBus::new(config.ring)),
    };
    // The redirect URI names the loopback address a browser reaches us on, whatever we bound.
    let broker = oauth::broker::Broker::new(
        Some(format!("http://127.0.0.1:{}/oauth/callback", local.port())),
        config.oauth_credentials.clone(),
    );
    let models = model::Providers::from_env(config.model.clone(), |k| std::env::var(k).ok());
    let sessions = Sessions::new(
        events.clone(),
        std::sync::Arc::new(responders),
        broker.clone(),
        std::sync::Arc::new(models),
    );
    if let Some(info) = opened {
        sessions.open_recording(info);
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let otlp = match &config.otlp {
        Some(url) => {
            let otlp = otlp::Otlp::new(url).map_err(RunError::Otlp)?;
            let shown = redact::url_text(url, &Default::default());
            tracing::info!(collector = %shown, "sending traces over OTLP/HTTP");
            Some(tokio::spawn(otlp.follow(
                events.clone(),
                sessions.clone(),
                stop_rx.clone(),
            )))
        }
        None => None,
    };
    let host_for_url = match local.ip() {
        ip if ip.is_unspecified() => "127.0.0.1".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    let state = AppState::new(web::Shared {
        events,
        sessions: sessions.clone(),
        catalog: std::sync::Arc::new(std::sync::Mutex::new(catalog)),
        token: config.token.clone().into(),
        allowed_hosts: web::Shared::hosts_for(local.port()),
        ip_hosts_on_port: config.bind_all.then_some(local.port()),
        demo_command: demo_command().into(),
        shutting_down: stop_rx,
        oauth: broker,
        calls: Default::default(),
        apps_port: Some(apps_port),
    });
    let apps_state = apps::server::AppsState::new(
        apps_port,
        web::Shared::hosts_for(apps_port),
        &state.allowed_hosts,
        local.port(),
    );
    let mut apps_stop = state.shutting_down.clone();
    tokio::spawn(async move {
        let served = axum::serve(apps_listener, apps::server::router(apps_state))
            .with_graceful_shutdown(async move {
                let _ = apps_stop.wait_for(|stop| *stop).await;
            })
            .await;
        if let Err(e) = served {
            tracing::warn!("the apps origin stopped: {e}");
        }
    });
    tracing::info!(
        port = apps_port,
        "MCP App views are served from their own origin"
    );

    let url = format!(
        "http://{host_for_url}:{}/?token={}",
        local.port(),
        config.token
    );
    {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "mcpscope ready: {url}");
        let _ = out.flush();
    }
    tracing::info!(%local, "listening");
    // A tap in a client's config finds this instance's token here, not in its own config.
    let token_file = match tap::instance::write_token(local.port(), &config.token) {
        Ok(path) => Some(path),
        Err(e) => {
            tracing::warn!(
                "could not write the token file for taps ({e}); give taps MCPSCOPE_TOKEN"
            );
            None
        }
    };
    if config.open_browser {
        open_browser(&url);
    }
    if let Some(start) = config.start.clone() {
        let catalog_name = start.server_name().map(str::to_owned);
        let session = sessions.create(
            config.start_name.clone().or(catalog_name.clone()),
            catalog_name,
        );
        let planned = {
            let catalog = state.catalog.lock().unwrap();
            start
                .options(config.era, &catalog)
                .and_then(|options| Ok((start.target(&catalog)?, options)))
        };
        match planned {
            Ok((target, options)) => {
                tokio::spawn(async move {
                    session.connect(target, options).await;
                });
            }
            Err(unresolved) => session.fail_before_start(unresolved),
        }
    }

    let app = axum::ServiceExt::<axum::extract::Request>::into_make_service(web::app(state));
    let shutdown_sessions = sessions.clone();
    // Small JSON answers must leave at once; Nagle would hold them for the peer's ACK.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        let _ = tcp.set_nodelay(true);
    });
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            tracing::info!("shutting down");
            shutdown_sessions.disconnect_all().await;
            let _ = stop_tx.send(true);
        })
        .await
        .map_err(RunError::Serve);
    if let Some(path) = token_file {
        let _ = std::fs::remove_file(path);
    }
    // The spans of the last moments still go out, within the exporter's own timeout.
    if let Some(follower) = otlp {
        let _ = tokio::time::timeout(std::time::Duration::from_secs(8), follower).await;
    }
    served
}

/// This binary with `demo-server`, as one command line (the UI splits it again).
fn demo_command() -> String {
    std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "mcpscope".into())
}

fn open_browser(url: &str) {
    let opener = if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    // The URL is ours (loopback + token), never a server-supplied one.
    let spawned = std::process::Command::new(opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        tracing::info!("could not open a browser ({e}); open the URL above yourself");
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("SIGTERM handler");
    tokio::select! {
        _ = ctrl_c => {}
        _ = term.recv() => {}
    }
}

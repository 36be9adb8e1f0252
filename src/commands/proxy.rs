//! `mcpscope proxy --listen PORT --upstream URL [--to URL] [--name NAME] [--save FILE]`: the
//! relay (`tap/proxy.rs`) on a loopback port, its report going where a tap's goes. Prints one
//! line, the URL for clients; runs until Ctrl-C or SIGTERM. Exit 2 on a bad flag or port.

use std::{io::Write, sync::Arc, time::Instant};

use super::reporter::Reporter;
use crate::{
    cli::{Args, ProxyArgs},
    tap::{proxy::Relay, remote::Remote, report::Hello},
};

pub async fn run(args: &Args, p: &ProxyArgs) -> u8 {
    let upstream = match url::Url::parse(&p.upstream) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
        _ => {
            eprintln!("mcpscope proxy: --upstream must be an http(s) URL");
            return 2;
        }
    };
    let remote = match Remote::from_flags(&p.to, args.token.as_deref()) {
        Ok(remote) => remote,
        Err(message) => {
            eprintln!("mcpscope proxy: {message}");
            return 2;
        }
    };
    let client = match crate::net::client() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mcpscope proxy: {e}");
            return 2;
        }
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", p.listen)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "mcpscope proxy: cannot listen on 127.0.0.1:{}: {e}",
                p.listen
            );
            return 2;
        }
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(p.listen);
    let listen = format!("http://127.0.0.1:{port}{}", upstream.path());
    let none = Default::default();
    let shown = crate::redact::url(&upstream, &none);
    let transport = if upstream.path().trim_end_matches('/').ends_with("/sse") {
        "sse"
    } else {
        "http"
    };
    let hello = Hello {
        name: p.name.clone().or_else(|| {
            Some(format!(
                "{}{}",
                upstream.host_str().unwrap_or_default(),
                upstream.path()
            ))
        }),
        transport: transport.into(),
        upstream: Some(shown.clone()),
        listen: Some(listen.clone()),
        pid: std::process::id(),
        ..Hello::default()
    };
    let reporter = Reporter::start(hello, remote, p.save.clone());
    let mut origin = upstream.clone();
    origin.set_path("/");
    origin.set_query(None);
    origin.set_fragment(None);
    let relay = Arc::new(Relay {
        upstream: origin,
        client,
        queue: reporter.queue(),
        clock: Instant::now(),
        port,
    });
    println!("mcpscope proxy: {listen} → {}", crate::term::text(&shown));
    let _ = std::io::stdout().flush();
    let stop = async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    let served = tokio::select! {
        served = crate::tap::proxy::serve(listener, relay.clone()) => served,
        () = stop => Ok(()),
    };
    drop(relay);
    reporter.finish("proxy").await;
    match served {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("mcpscope proxy: {e}");
            1
        }
    }
}

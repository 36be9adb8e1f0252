//! The running mcpscope a tap or proxy reports to: only one on this machine (the report carries
//! everything client and server say), its token from the flags or the instance's token file,
//! and one streamed `POST /api/tap` per report, fed through a channel.

use axum::body::Bytes;
use tokio::sync::mpsc;

/// The running mcpscope to report to.
pub struct Remote {
    url: String,
    token: Option<String>,
    port: u16,
    client: reqwest::Client,
}

impl Remote {
    /// Only a mcpscope on this machine: the report carries everything the server says.
    pub fn from_flags(to: &str, token: Option<&str>) -> Result<Remote, String> {
        let url = url::Url::parse(to).map_err(|e| format!("--to {to:?}: {e}"))?;
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        };
        if url.scheme() != "http" || !loopback {
            return Err(format!(
                "--to {to:?}: a tap reports only to a mcpscope on this machine (http://127.0.0.1:PORT)"
            ));
        }
        let port = url.port_or_known_default().unwrap_or(80);
        let client = crate::net::client()?;
        Ok(Remote {
            url: format!("{}://{}/api/tap", url.scheme(), url.authority()),
            token: token.map(str::to_owned),
            port,
            client,
        })
    }

    /// Starts one report: the request runs on its own task, fed through the returned sender.
    pub fn connect(&self) -> Option<Connection> {
        // Another user on this machine may hold the port while mcpscope is down.
        if !super::instance::listener_is_ours(self.port) {
            tracing::debug!(
                port = self.port,
                "nothing of ours listens there: not reporting"
            );
            return None;
        }
        let token = self
            .token
            .clone()
            .or_else(|| super::instance::read_token(self.port))?;
        let (tx, rx) = mpsc::channel(1024);
        let body = reqwest::Body::wrap_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
        let request = self
            .client
            .post(&self.url)
            .bearer_auth(token)
            .header("content-type", "application/x-mcpscope-tap")
            .body(body);
        let task = tokio::spawn(async move {
            match request.send().await {
                Ok(answer) if !answer.status().is_success() => {
                    let status = answer.status();
                    let text = answer.text().await.unwrap_or_default();
                    tracing::warn!("mcpscope refused the tap's report ({status}): {text}");
                }
                Ok(_) => {}
                Err(e) => tracing::debug!("no mcpscope to report to: {e}"),
            }
        });
        Some(Connection { tx, task })
    }
}

/// One report under way: its body's feed, and the request carrying it.
pub struct Connection {
    pub tx: mpsc::Sender<Result<Bytes, std::io::Error>>,
    pub task: tokio::task::JoinHandle<()>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_mcpscope_on_this_machine_is_reported_to() {
        for bad in [
            "http://example.com:6274",
            "https://127.0.0.1:6274",
            "http://10.0.0.1:6274",
            "file:///tmp/x",
        ] {
            assert!(Remote::from_flags(bad, None).is_err(), "{bad}");
        }
        for good in [
            "http://127.0.0.1:6274",
            "http://localhost:1",
            "http://[::1]:9",
        ] {
            assert!(Remote::from_flags(good, None).is_ok(), "{good}");
        }
    }
}

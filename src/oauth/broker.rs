//! What every authorization flow of this process shares: the redirect URI on our own listener,
//! the flows waiting for a browser to come back to it (keyed by their `state`), and the
//! credentials each protected server was given (in memory, or in a 0600 file the user asked
//! for). The `/oauth/callback` route and the flows meet only here.

use std::{
    collections::{BTreeSet, HashMap},
    path::PathBuf,
    sync::{Arc, Mutex},
};

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

/// What the authorization server sent the browser back with.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Callback {
    pub state: Option<String>,
    pub code: Option<String>,
    pub iss: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// A registered client at one authorization server.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Client {
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// `client_secret_basic`, `client_secret_post` or `none`.
    pub auth_method: String,
    /// How the client came to be: `pre-registered`, `cimd` or `dcr`.
    pub how: String,
}

/// Tokens from one authorization server for one resource.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Tokens {
    pub access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Seconds since the Unix epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// When the token was issued (seconds since the Unix epoch), to refresh it in proportion
    /// to its lifetime.
    #[serde(default)]
    pub obtained_at: u64,
    /// The scopes asked for (and granted, when the answer says).
    #[serde(default)]
    pub scopes: Vec<String>,
}

/// Everything kept for one protected server (its canonical resource URI).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    /// The authorization server these came from: credentials never cross to another one.
    pub issuer: String,
    pub token_endpoint: String,
    /// The `resource` the tokens were asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<Client>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens: Option<Tokens>,
}

/// What the user changed before letting a paused flow go on (step-by-step mode).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Edits {
    #[serde(default, deserialize_with = "super::scopes")]
    pub scopes: Option<Vec<String>>,
    pub client_id: Option<String>,
}

/// Flows waiting for something, by key; each key answers once. Each waiter carries a flag
/// its answerer learns (a callback: whether its flow goes step by step).
pub struct Slots<T> {
    map: Mutex<HashMap<String, (oneshot::Sender<T>, bool)>>,
}

impl<T> Default for Slots<T> {
    fn default() -> Self {
        Slots {
            map: Mutex::default(),
        }
    }
}

impl<T: Send + 'static> Slots<T> {
    /// Waits for `key`; dropping the guard stops waiting, so a flow that ends (or a session
    /// that closes) leaves nothing a late answer could reach.
    pub fn expect(self: &Arc<Self>, key: &str) -> Waiting<T> {
        self.expect_flagged(key, false)
    }

    /// Like `expect`, with a flag `answer` hands back.
    pub fn expect_flagged(self: &Arc<Self>, key: &str, flag: bool) -> Waiting<T> {
        let (tx, rx) = oneshot::channel();
        self.map.lock().unwrap().insert(key.to_owned(), (tx, flag));
        Waiting {
            slots: self.clone(),
            key: key.to_owned(),
            rx: Some(rx),
        }
    }

    /// Hands `value` to whoever waits for `key`: its flag, or None when nobody waits.
    fn answer(&self, key: &str, value: T) -> Option<bool> {
        let (tx, flag) = self.map.lock().unwrap().remove(key)?;
        tx.send(value).is_ok().then_some(flag)
    }
}

pub struct Broker {
    redirect_uri: Option<String>,
    callbacks: Arc<Slots<Callback>>,
    /// Step-by-step flows paused before their next request, by flow id.
    gates: Arc<Slots<Edits>>,
    credentials: Mutex<HashMap<String, Credentials>>,
    /// Every secret the credentials have held this run (forgotten and rotated ones too): a
    /// server may have echoed any of them, and exports scrub them all.
    held: Mutex<BTreeSet<String>>,
    file: Option<PathBuf>,
}

impl Credentials {
    fn secret_values(&self) -> impl Iterator<Item = String> + '_ {
        let client = self.client.as_ref().and_then(|c| c.client_secret.clone());
        let tokens = self
            .tokens
            .iter()
            .flat_map(|t| std::iter::once(t.access_token.clone()).chain(t.refresh_token.clone()));
        client.into_iter().chain(tokens)
    }
}

/// Why a callback was refused, in words for the browser page.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    #[error("the callback has no state parameter, so it cannot belong to a flow of mcpscope")]
    NoState,
    #[error(
        "no authorization is waiting for this state: it was already used, it was cancelled, or it was never issued by this mcpscope"
    )]
    NoFlow,
}

impl Broker {
    /// `redirect_uri` is None where no listener exists (the CLI mode): a flow then stops at
    /// "authorization required".
    pub fn new(redirect_uri: Option<String>, file: Option<PathBuf>) -> Arc<Self> {
        let credentials = file
            .as_deref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        let held = Self::values_of(&credentials);
        Arc::new(Broker {
            redirect_uri,
            callbacks: Arc::default(),
            gates: Arc::default(),
            credentials: Mutex::new(credentials),
            held: Mutex::new(held),
            file,
        })
    }

    pub fn redirect_uri(&self) -> Option<&str> {
        self.redirect_uri.as_deref()
    }

    /// Waits for the callback carrying `state`; `step_by_step` when the flow pauses before
    /// its token request.
    pub fn expect(&self, state: &str, step_by_step: bool) -> Waiting<Callback> {
        self.callbacks.expect_flagged(state, step_by_step)
    }

    /// Hands a callback to the flow its `state` names. Each state works once. Ok(true) when
    /// that flow goes step by step (it waits for Continue before the token request).
    pub fn deliver(&self, callback: Callback) -> Result<bool, Refused> {
        let state = callback.state.clone().ok_or(Refused::NoState)?;
        self.callbacks
            .answer(&state, callback)
            .ok_or(Refused::NoFlow)
    }

    /// Pauses flow `flow` until the user lets it go on.
    pub fn pause(&self, flow: &str) -> Waiting<Edits> {
        self.gates.expect(flow)
    }

    /// Lets the paused flow `flow` go on with the user's edits; false if it is not paused.
    pub fn resume(&self, flow: &str, edits: Edits) -> bool {
        self.gates.answer(flow, edits).is_some()
    }

    pub fn credentials(&self, resource: &str) -> Option<Credentials> {
        self.credentials.lock().unwrap().get(resource).cloned()
    }

    /// Every OAuth secret held this run, for scrubbing exports.
    pub fn secret_values(&self) -> Vec<String> {
        self.held.lock().unwrap().iter().cloned().collect()
    }

    fn values_of(all: &HashMap<String, Credentials>) -> BTreeSet<String> {
        all.values().flat_map(Credentials::secret_values).collect()
    }

    pub fn store(&self, resource: &str, creds: Credentials) {
        self.held.lock().unwrap().extend(creds.secret_values());
        let mut all = self.credentials.lock().unwrap();
        all.insert(resource.to_owned(), creds);
        self.save(&all);
    }

    /// Forgets what was kept for `resource`; true if there was something.
    pub fn forget(&self, resource: &str) -> bool {
        let mut all = self.credentials.lock().unwrap();
        let had = all.remove(resource).is_some();
        self.save(&all);
        had
    }

    /// Writes the file the user asked for, readable by them alone. A failure is logged, not
    /// fatal: the credentials still work for this run.
    fn save(&self, all: &HashMap<String, Credentials>) {
        let Some(path) = &self.file else { return };
        let text = serde_json::to_vec_pretty(all).expect("credentials serialise");
        if let Err(e) = crate::private_file::write(path, &text) {
            tracing::warn!(
                "could not keep OAuth credentials in {}: {e}",
                path.display()
            );
        }
    }
}

/// A flow waiting for one answer.
pub struct Waiting<T> {
    slots: Arc<Slots<T>>,
    key: String,
    rx: Option<oneshot::Receiver<T>>,
}

impl<T> Waiting<T> {
    pub async fn answer(&mut self) -> Option<T> {
        self.rx.take()?.await.ok()
    }
}

impl<T> Drop for Waiting<T> {
    fn drop(&mut self) {
        self.slots.map.lock().unwrap().remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cb(state: &str) -> Callback {
        Callback {
            state: Some(state.into()),
            code: Some("c".into()),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn a_state_works_once_and_only_while_its_flow_waits() {
        let broker = Broker::new(Some("http://127.0.0.1:1/oauth/callback".into()), None);
        assert_eq!(broker.deliver(cb("nobody")), Err(Refused::NoFlow));
        let mut waiting = broker.expect("s1", false);
        assert_eq!(broker.deliver(cb("wrong")), Err(Refused::NoFlow));
        assert_eq!(broker.deliver(cb("s1")), Ok(false));
        assert_eq!(waiting.answer().await.unwrap().code.as_deref(), Some("c"));
        assert_eq!(broker.deliver(cb("s1")), Err(Refused::NoFlow), "replayed");
        let paced = broker.expect("s3", true);
        assert_eq!(
            broker.deliver(cb("s3")),
            Ok(true),
            "a step-by-step flow's callback"
        );
        drop(paced);
        let gone = broker.expect("s2", false);
        drop(gone);
        assert_eq!(broker.deliver(cb("s2")), Err(Refused::NoFlow), "flow ended");
        assert_eq!(broker.deliver(Callback::default()), Err(Refused::NoState));
    }

    #[test]
    fn the_credentials_file_is_private_and_survives_a_restart() {
        let dir = std::env::temp_dir().join(format!("mcpscope-oauth-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("credentials.json");
        let creds = Credentials {
            issuer: "https://as.example".into(),
            token_endpoint: "https://as.example/token".into(),
            resource: None,
            client: None,
            tokens: Some(Tokens {
                access_token: "at".into(),
                refresh_token: None,
                expires_at: None,
                obtained_at: 0,
                scopes: vec![],
            }),
        };
        Broker::new(None, Some(path.clone())).store("https://mcp.example/mcp", creds);
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = Broker::new(None, Some(path.clone()));
        let kept = again.credentials("https://mcp.example/mcp").unwrap();
        assert_eq!(kept.tokens.unwrap().access_token, "at");
        assert!(again.forget("https://mcp.example/mcp"));
        assert!(
            Broker::new(None, Some(path))
                .credentials("https://mcp.example/mcp")
                .is_none()
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}

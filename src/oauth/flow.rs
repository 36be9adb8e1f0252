//! The authorization flow for one remote target, run when the server refuses a request (401,
//! or 403 `insufficient_scope`): the challenge, protected-resource metadata, authorization
//! server metadata, registration, the browser's round trip, the token, and later refreshes.
//! The transport asks [`Authorizer::bearer`] for the token to send and calls
//! [`Authorizer::refused`] when the server says no; everything else happens here, as `auth`
//! events (one per step) and `http` events (one per request, marked with its phase). A connect
//! and the debugger are the same run: there is no second path.

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicU64, Ordering},
};

use reqwest::header::HeaderValue;
use serde_json::{Map, Value, json};
use url::Url;

use crate::events::{AuthStep, AuthorizationView, Paused};

use super::{
    OAuthOptions, Report, Reporter,
    broker::{Broker, Credentials, Edits, Tokens},
    challenge::{self, Challenge},
    discovery::{self, ResourceMetadata, ServerMetadata},
    fetch::Fetcher,
    token::now,
};

/// How long the user has to finish in the browser, or to go on from a pause.
pub(super) const USER_WAIT: std::time::Duration = std::time::Duration::from_secs(600);
/// How many times in a row the server may ask for more scope before we stop asking the user.
const MAX_STEP_UPS: u32 = 2;
/// How many fresh authorizations in a row the server may refuse before we stop.
const MAX_FRESH_REFUSALS: u32 = 2;
/// A token this close to its expiry (or within a fifth of its lifetime, for short-lived ones)
/// is refreshed before it is sent.
const EXPIRY_MARGIN: u64 = 30;

/// Flow ids only tell this process's flows apart; the API finds a flow through its session.
static NEXT_FLOW: AtomicU64 = AtomicU64::new(1);

/// The message prefix that tells callers (the CLI's exit code 3) that only a person can go on.
pub const AUTH_REQUIRED: &str = "authorization required";

/// Where a request that was refused leaves us.
pub struct Authorizer {
    pub(super) broker: Arc<Broker>,
    pub(super) server: Url,
    /// The server's canonical URI: what its credentials are kept under.
    pub(super) resource: String,
    pub(super) options: OAuthOptions,
    pub(super) fetch: Fetcher,
    /// The token the transport sends now, with a counter that changes whenever it does.
    current: Mutex<Option<Tokens>>,
    generation: AtomicU64,
    /// One flow at a time; requests refused meanwhile wait for it and retry.
    flow: tokio::sync::Mutex<FlowState>,
    /// Names this connection's flow when it pauses (step-by-step mode).
    flow_id: String,
    /// What the user changed at a pause; over the connect options.
    pub(super) overrides: Mutex<Edits>,
}

#[derive(Default)]
struct FlowState {
    step_ups: u32,
    fresh_refusals: u32,
    /// The scopes the last authorization asked for.
    scopes: Vec<String>,
}

/// What discovery found: the authorization server, and what the resource said.
pub(super) struct Found {
    pub(super) issuer: String,
    /// The RFC 8707 `resource`: exactly as the protected-resource metadata publishes it (it was
    /// checked to cover the server), else the server's canonical URI.
    pub(super) resource: String,
    pub(super) server: ServerMetadata,
    pub(super) prm: Option<ResourceMetadata>,
}

impl Authorizer {
    pub fn new(
        broker: Arc<Broker>,
        server: Url,
        options: OAuthOptions,
        client: reqwest::Client,
        report: Reporter,
    ) -> Arc<Self> {
        let resource = discovery::canonical_resource(&server);
        let current = broker.credentials(&resource).and_then(|c| c.tokens);
        Arc::new(Authorizer {
            broker,
            server,
            resource,
            options,
            fetch: Fetcher::new(client, report),
            current: Mutex::new(current),
            generation: AtomicU64::new(0),
            flow: tokio::sync::Mutex::default(),
            flow_id: format!("flow-{}", NEXT_FLOW.fetch_add(1, Ordering::Relaxed)),
            overrides: Mutex::default(),
        })
    }

    /// The `Authorization` value to send, and which token it is (for [`Authorizer::refused`]).
    pub fn bearer(&self) -> (Option<HeaderValue>, u64) {
        let generation = self.generation.load(Ordering::SeqCst);
        let value = self.current.lock().unwrap().as_ref().and_then(|t| {
            let mut v = HeaderValue::from_str(&format!("Bearer {}", t.access_token)).ok()?;
            v.set_sensitive(true);
            Some(v)
        });
        (value, generation)
    }

    /// Before a request: a token about to expire is refreshed first, when it can be.
    pub async fn freshen(&self) {
        let due = self.current.lock().unwrap().as_ref().is_some_and(|t| {
            t.refresh_token.is_some()
                && t.expires_at.is_some_and(|at| {
                    let margin = EXPIRY_MARGIN.min(at.saturating_sub(t.obtained_at) / 5);
                    at <= now() + margin
                })
        });
        if !due {
            return;
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let _flow = self.flow.lock().await;
        if generation == self.generation.load(Ordering::SeqCst) {
            let _ = self.refresh("the token is about to expire").await;
        }
    }

    /// The server refused a request sent with token `used`. Ok means: send it again (with the
    /// token [`Authorizer::bearer`] now gives); Err says why not, in words.
    pub async fn refused(
        &self,
        status: u16,
        www_authenticate: Option<&str>,
        used: u64,
    ) -> Result<(), String> {
        let mut st = self.flow.lock().await;
        if used != self.generation.load(Ordering::SeqCst) {
            // Another request already got a new token while this one waited.
            return Ok(());
        }
        let challenge = www_authenticate.and_then(challenge::bearer);
        let error = challenge.as_ref().and_then(|c| c.param("error"));
        self.step(
            "challenge",
            true,
            format!(
                "the server answered {status}{}",
                match www_authenticate {
                    Some(h) => format!(" with WWW-Authenticate: {h}"),
                    None => " without WWW-Authenticate".into(),
                }
            ),
            json!({
                "status": status,
                "scheme": challenge.as_ref().map(|c| c.scheme.clone()),
                "error": error,
                "scope": challenge.as_ref().and_then(|c| c.param("scope")),
                "resourceMetadata": challenge.as_ref().and_then(|c| c.param("resource_metadata")),
            }),
        )
        .await;
        let had_token = self.current.lock().unwrap().is_some();
        let result = if status == 403 && error == Some("insufficient_scope") {
            st.step_ups += 1;
            if st.step_ups > MAX_STEP_UPS {
                let message = format!(
                    "the server still asks for more scope after {MAX_STEP_UPS} step-up authorizations; mcpscope stops asking (it would loop)"
                );
                self.step("step-up", false, message.clone(), json!({}))
                    .await;
                return Err(message);
            }
            let mut scopes = st.scopes.clone();
            for s in challenge
                .as_ref()
                .map(Challenge::scopes)
                .unwrap_or_default()
            {
                if !scopes.contains(&s) {
                    scopes.push(s);
                }
            }
            self.step(
                "step-up",
                true,
                format!(
                    "the server needs more scope; authorizing again with {:?}",
                    scopes.join(" ")
                ),
                json!({"scopes": scopes, "attempt": st.step_ups}),
            )
            .await;
            self.authorize(&mut st, challenge.as_ref(), Some(scopes))
                .await
        } else {
            if had_token {
                st.fresh_refusals += 1;
                if st.fresh_refusals > MAX_FRESH_REFUSALS {
                    let message = format!(
                        "the server refused {MAX_FRESH_REFUSALS} fresh tokens in a row; mcpscope stops authorizing (it would loop)"
                    );
                    self.step("token", false, message.clone(), json!({})).await;
                    return Err(message);
                }
                if self.refresh("the server refused the token (401)").await {
                    return Ok(());
                }
            }
            self.authorize(&mut st, challenge.as_ref(), None).await
        };
        if let Err(message) = &result {
            self.fetch
                .emit(Report::View {
                    active: false,
                    view: AuthorizationView {
                        phase: "failed".into(),
                        url: None,
                        paused: None,
                        details: Map::from_iter([("error".into(), json!(message))]),
                    },
                })
                .await;
        }
        result
    }

    /// A request went through with the current token: the loop guards start again.
    pub async fn accepted(&self) {
        if let Ok(mut st) = self.flow.try_lock() {
            st.step_ups = 0;
            st.fresh_refusals = 0;
        }
    }

    pub(super) async fn step(&self, phase: &str, ok: bool, message: String, details: Value) {
        self.fetch
            .emit(Report::Step(AuthStep {
                phase: phase.to_owned(),
                ok,
                message,
                details,
            }))
            .await;
    }

    pub(super) async fn fail(&self, phase: &str, message: String) -> String {
        self.step(phase, false, message.clone(), json!({})).await;
        message
    }

    pub(super) async fn show(&self, phase: &str, url: Option<&str>, extra: Value) {
        self.show_view(phase, url, None, extra).await;
    }

    async fn show_view(
        &self,
        phase: &str,
        url: Option<&str>,
        paused: Option<Paused>,
        extra: Value,
    ) {
        let mut details = Map::new();
        details.insert("resource".into(), json!(self.resource));
        details.insert("stepByStep".into(), json!(self.options.step_by_step));
        if let Value::Object(extra) = extra {
            details.extend(extra);
        }
        let view = AuthorizationView {
            phase: phase.to_owned(),
            url: url.map(str::to_owned),
            paused,
            details,
        };
        self.fetch.emit(Report::View { active: true, view }).await;
    }

    /// The whole flow: discovery, registration, the browser, the token.
    async fn authorize(
        &self,
        st: &mut FlowState,
        challenge: Option<&Challenge>,
        step_up: Option<Vec<String>>,
    ) -> Result<(), String> {
        // Without a browser to come back to (the CLI mode), only kept credentials can help.
        let redirect = self.broker.redirect_uri().map(str::to_owned).ok_or_else(|| {
            format!("{AUTH_REQUIRED}: the server needs OAuth authorization, and this mode has no browser to authorize in (use the web UI)")
        })?;
        self.show("discovery", None, json!({})).await;
        let found = self.discover(challenge).await?;
        let issuer = found.issuer.clone();
        let mut kept = self.broker.credentials(&self.resource);
        if let Some(old) = &kept
            && old.issuer != issuer
        {
            self.step(
                "registration",
                true,
                format!(
                    "the authorization server changed from {} to {issuer}; the old credentials are dropped and mcpscope registers afresh",
                    old.issuer
                ),
                json!({"from": old.issuer, "to": issuer}),
            )
            .await;
            self.broker.forget(&self.resource);
            kept = None;
        }
        let mut scopes = match (step_up, &self.options.scopes) {
            (Some(s), _) => s,
            (None, Some(s)) => s.clone(),
            (None, None) => discovery::scopes(
                &challenge.map(Challenge::scopes).unwrap_or_default(),
                found
                    .prm
                    .as_ref()
                    .map(|p| p.scopes_supported.as_slice())
                    .unwrap_or_default(),
                &found.server,
            ),
        };
        let client = match kept.as_ref().and_then(|c| c.client.clone()) {
            Some(c)
                if self
                    .options
                    .client_id
                    .as_ref()
                    .is_none_or(|id| *id == c.client_id) =>
            {
                self.step(
                    "registration",
                    true,
                    format!(
                        "reusing client {} ({}: {})",
                        c.client_id,
                        c.how,
                        super::register::how_words(&c.how)
                    ),
                    json!({"clientId": c.client_id, "how": c.how}),
                )
                .await;
                c
            }
            _ => self.register(&found, &redirect, &scopes).await?,
        };
        // The client is kept at once, so a flow that fails in the browser does not register
        // again next time.
        let registered = Credentials {
            issuer: issuer.clone(),
            token_endpoint: found.server.token_endpoint.clone(),
            resource: Some(found.resource.clone()),
            client: Some(client.clone()),
            tokens: None,
        };
        self.install(registered.clone());
        if let Some(edited) = self.overrides.lock().unwrap().scopes.clone() {
            scopes = edited;
        }
        self.pause(
            "authorize",
            format!(
                "send the user to {} asking for {}",
                found.server.authorization_endpoint,
                if scopes.is_empty() {
                    "no particular scope".to_owned()
                } else {
                    format!("scope {:?}", scopes.join(" "))
                }
            ),
            &["scopes"],
            json!({"scopes": scopes, "supported": supported_scopes(&found, challenge)}),
        )
        .await?;
        if let Some(edited) = self.overrides.lock().unwrap().scopes.clone() {
            scopes = edited;
        }
        st.scopes = scopes.clone();
        let tokens = self
            .browser_round_trip(&found, &client, &redirect, &scopes)
            .await?;
        self.install(Credentials {
            tokens: Some(tokens),
            ..registered
        });
        self.fetch
            .emit(Report::View {
                active: false,
                view: AuthorizationView {
                    phase: "authorized".into(),
                    url: None,
                    paused: None,
                    details: Map::from_iter([
                        ("issuer".into(), json!(issuer)),
                        ("scopes".into(), json!(scopes)),
                        ("resource".into(), json!(self.resource)),
                    ]),
                },
            })
            .await;
        Ok(())
    }

    /// Step-by-step mode: stops before `next` until the user lets the flow go on, taking the
    /// edits they made (`editable` says which: `scopes`, `clientId`).
    pub(super) async fn pause(
        &self,
        phase: &str,
        next: String,
        editable: &[&str],
        current: Value,
    ) -> Result<(), String> {
        if !self.options.step_by_step {
            return Ok(());
        }
        let mut gate = self.broker.pause(&self.flow_id);
        let paused = Paused {
            flow: self.flow_id.clone(),
            next,
            editable: editable.iter().map(|e| (*e).to_owned()).collect(),
            current,
        };
        self.show_view(phase, None, Some(paused), json!({})).await;
        match tokio::time::timeout(USER_WAIT, gate.answer()).await {
            Ok(Some(edits)) => {
                let mut o = self.overrides.lock().unwrap();
                if edits.scopes.is_some() {
                    o.scopes = edits.scopes;
                }
                if edits.client_id.is_some() {
                    o.client_id = edits.client_id;
                }
                Ok(())
            }
            _ => Err(self
                .fail(
                    phase,
                    format!(
                        "{AUTH_REQUIRED}: the step-by-step flow was not continued within 10 minutes"
                    ),
                )
                .await),
        }
    }

    /// The client id the user gave: at a pause, else when connecting.
    pub(super) fn given_client_id(&self) -> Option<String> {
        self.overrides
            .lock()
            .unwrap()
            .client_id
            .clone()
            .or_else(|| self.options.client_id.clone())
    }

    /// Keeps `creds` and, when they hold tokens, sends them from now on.
    pub(super) fn install(&self, creds: Credentials) {
        let tokens = creds.tokens.clone();
        self.broker.store(&self.resource, creds);
        if let Some(tokens) = tokens {
            *self.current.lock().unwrap() = Some(tokens);
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// The scopes each party says it supports, for a person choosing which to ask for: the
/// resource's metadata (RFC 9728), the authorization server's (RFC 8414) and the server's
/// `WWW-Authenticate` challenge.
pub(super) fn supported_scopes(found: &Found, challenge: Option<&Challenge>) -> Value {
    json!({
        "resource": found.prm.as_ref().map(|p| p.scopes_supported.clone()).unwrap_or_default(),
        "authorizationServer": found.server.scopes_supported,
        "challenge": challenge.map(Challenge::scopes).unwrap_or_default(),
    })
}

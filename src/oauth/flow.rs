//! The authorization flow for one remote target, run when the server refuses a request (401,
//! or 403 `insufficient_scope`): the challenge, protected-resource metadata, authorization
//! server metadata, registration, the browser's round trip, the token, and later refreshes.
//! The transport asks [`Authorizer::bearer`] for the token to send and calls
//! [`Authorizer::refused`] when the server says no; everything else happens here, as `auth`
//! events (one per step) and `http` events (one per request, marked with its phase). A connect
//! and the debugger are the same run: there is no second path.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    RedirectUrl, RefreshToken, Scope, TokenResponse, TokenUrl, basic::BasicClient,
};
use reqwest::{
    Method,
    header::{CONTENT_TYPE, HeaderMap, HeaderValue},
};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use url::Url;

use super::{
    OAuthOptions,
    broker::{Broker, Client, Credentials, Tokens},
    challenge::{self, Challenge},
    discovery::{self, ResourceMetadata, ServerMetadata},
    fetch::{Fetcher, Missing},
};
use crate::transport::TransportEvent;

/// How many times in a row the server may ask for more scope before we stop asking the user.
const MAX_STEP_UPS: u32 = 2;
/// How many fresh authorizations in a row the server may refuse before we stop.
const MAX_FRESH_REFUSALS: u32 = 2;
/// How long the user has to finish in the browser.
const BROWSER_WAIT: Duration = Duration::from_secs(600);
/// A token this close to its expiry (or within a fifth of its lifetime, for short-lived ones)
/// is refreshed before it is sent.
const EXPIRY_MARGIN: u64 = 30;

/// The message prefix that tells callers (the CLI's exit code 3) that only a person can go on.
pub const AUTH_REQUIRED: &str = "authorization required";

/// Where a request that was refused leaves us.
pub struct Authorizer {
    broker: Arc<Broker>,
    server: Url,
    resource: String,
    options: OAuthOptions,
    fetch: Fetcher,
    /// The token the transport sends now, with a counter that changes whenever it does.
    current: Mutex<Option<Tokens>>,
    generation: AtomicU64,
    /// One flow at a time; requests refused meanwhile wait for it and retry.
    flow: tokio::sync::Mutex<FlowState>,
}

#[derive(Default)]
struct FlowState {
    step_ups: u32,
    fresh_refusals: u32,
    /// The scopes the last authorization asked for.
    scopes: Vec<String>,
}

/// What discovery found: the authorization server, and what the resource said.
struct Found {
    issuer: String,
    /// The RFC 8707 `resource`: exactly as the protected-resource metadata publishes it (it was
    /// checked to cover the server), else the server's canonical URI.
    resource: String,
    server: ServerMetadata,
    prm: Option<ResourceMetadata>,
}

impl Authorizer {
    pub fn new(
        broker: Arc<Broker>,
        server: Url,
        options: OAuthOptions,
        client: reqwest::Client,
        events: mpsc::Sender<TransportEvent>,
    ) -> Arc<Self> {
        let resource = discovery::canonical_resource(&server);
        let current = broker.credentials(&resource).and_then(|c| c.tokens);
        Arc::new(Authorizer {
            broker,
            server,
            resource,
            options,
            fetch: Fetcher::new(client, events),
            current: Mutex::new(current),
            generation: AtomicU64::new(0),
            flow: tokio::sync::Mutex::default(),
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
                .emit(TransportEvent::Authorization {
                    active: false,
                    view: json!({"phase": "failed", "url": null, "error": message}),
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

    async fn step(&self, phase: &str, ok: bool, message: String, details: Value) {
        self.fetch
            .emit(TransportEvent::Auth(json!({
                "phase": phase,
                "ok": ok,
                "message": message,
                "details": details,
            })))
            .await;
    }

    async fn fail(&self, phase: &str, message: String) -> String {
        self.step(phase, false, message.clone(), json!({})).await;
        message
    }

    async fn show(&self, phase: &str, url: Option<&str>, extra: Value) {
        let mut view = json!({"phase": phase, "url": url, "resource": self.resource});
        if let (Some(v), Value::Object(extra)) = (view.as_object_mut(), extra) {
            v.extend(extra);
        }
        self.fetch
            .emit(TransportEvent::Authorization { active: true, view })
            .await;
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
                    format!("reusing client {} ({})", c.client_id, c.how),
                    json!({"clientId": c.client_id, "how": c.how}),
                )
                .await;
                c
            }
            _ => self.register(&found, &redirect).await?,
        };
        self.broker.store(
            &self.resource,
            Credentials {
                issuer: issuer.clone(),
                token_endpoint: found.server.token_endpoint.clone(),
                resource: Some(found.resource.clone()),
                client: Some(client.clone()),
                tokens: None,
            },
        );
        let scopes = match (step_up, &self.options.scopes) {
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
        st.scopes = scopes.clone();
        let tokens = self
            .browser_round_trip(&found, &client, &redirect, &scopes)
            .await?;
        self.install(&found, client, tokens);
        self.fetch
            .emit(TransportEvent::Authorization {
                active: false,
                view: json!({
                    "phase": "authorized",
                    "url": null,
                    "issuer": issuer,
                    "scopes": scopes,
                    "resource": self.resource,
                }),
            })
            .await;
        Ok(())
    }

    fn install(&self, found: &Found, client: Client, tokens: Tokens) {
        self.broker.store(
            &self.resource,
            Credentials {
                issuer: found.issuer.clone(),
                token_endpoint: found.server.token_endpoint.clone(),
                resource: Some(found.resource.clone()),
                client: Some(client),
                tokens: Some(tokens.clone()),
            },
        );
        *self.current.lock().unwrap() = Some(tokens);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// Protected-resource metadata, then the authorization server's. Without PRM, the
    /// 2025-03-26 way: the server's origin is the authorization server.
    async fn discover(&self, challenge: Option<&Challenge>) -> Result<Found, String> {
        let from_challenge = challenge.and_then(|c| c.param("resource_metadata"));
        let mut prm = None;
        let mut tried = Vec::new();
        for url in discovery::prm_urls(&self.server, from_challenge) {
            match self.fetch.get_json("prm", &url).await {
                Ok(doc) => {
                    let checked = discovery::check_prm(&doc, &self.server);
                    match checked {
                        Ok(found) => {
                            self.step(
                                "prm",
                                true,
                                format!(
                                    "{url} names authorization server {}",
                                    found.authorization_servers.join(", ")
                                ),
                                json!({
                                    "url": url.as_str(),
                                    "resource": found.resource,
                                    "authorizationServers": found.authorization_servers,
                                    "scopesSupported": found.scopes_supported,
                                }),
                            )
                            .await;
                            prm = Some(found);
                            break;
                        }
                        Err(why) => return Err(self.fail("prm", why).await),
                    }
                }
                Err(Missing::Redirected(why)) => return Err(self.fail("prm", why).await),
                Err(why) => tried.push(format!("{url} {}", why.describe())),
            }
        }
        let Some(prm) = prm else {
            self.step(
                "prm",
                true,
                format!(
                    "no protected-resource metadata ({}); trying the 2025-03-26 way, where the server's origin is its own authorization server",
                    tried.join("; ")
                ),
                json!({"tried": tried}),
            )
            .await;
            return self.discover_legacy().await;
        };
        let issuer = prm.authorization_servers[0].clone();
        let issuer_url = discovery::check_endpoint("the authorization server", &issuer)
            .map_err(|e| e.to_string());
        let issuer_url = match issuer_url {
            Ok(u) => u,
            Err(why) => return Err(self.fail("as-metadata", why).await),
        };
        let mut tried = Vec::new();
        for url in discovery::as_metadata_urls(&issuer_url) {
            match self.fetch.get_json("as-metadata", &url).await {
                Ok(doc) => {
                    let server = match discovery::check_as_metadata(&doc, &issuer) {
                        Ok(s) => s,
                        Err(why) => return Err(self.fail("as-metadata", why).await),
                    };
                    self.check_endpoints(&server).await?;
                    self.report_metadata(&url, &server).await;
                    return Ok(Found {
                        issuer,
                        resource: prm
                            .resource
                            .clone()
                            .unwrap_or_else(|| self.resource.clone()),
                        server,
                        prm: Some(prm),
                    });
                }
                Err(Missing::Redirected(why)) => return Err(self.fail("as-metadata", why).await),
                Err(why) => tried.push(format!("{url} {}", why.describe())),
            }
        }
        Err(self
            .fail(
                "as-metadata",
                format!(
                    "no metadata for authorization server {issuer}: {}",
                    tried.join("; ")
                ),
            )
            .await)
    }

    async fn discover_legacy(&self) -> Result<Found, String> {
        let url = discovery::legacy_as_metadata_url(&self.server);
        let origin = self.server.origin().ascii_serialization();
        match self.fetch.get_json("as-metadata", &url).await {
            Ok(doc) => {
                // The 2025-03-26 metadata was looked up by origin; its issuer is the origin,
                // written with or without a trailing slash.
                let said = doc.get("issuer").and_then(Value::as_str).unwrap_or("");
                let issuer = if said.trim_end_matches('/') == origin {
                    said.to_owned()
                } else {
                    origin.clone()
                };
                let server = match discovery::check_as_metadata(&doc, &issuer) {
                    Ok(s) => s,
                    Err(why) => return Err(self.fail("as-metadata", why).await),
                };
                self.check_endpoints(&server).await?;
                self.report_metadata(&url, &server).await;
                Ok(Found {
                    issuer,
                    resource: self.resource.clone(),
                    server,
                    prm: None,
                })
            }
            Err(Missing::Redirected(why)) => Err(self.fail("as-metadata", why).await),
            Err(why) => {
                let (authorize, token, register) =
                    discovery::legacy_default_endpoints(&self.server);
                self.step(
                    "as-metadata",
                    true,
                    format!(
                        "{url} {}; using the 2025-03-26 default endpoints {authorize}, {token}, {register}",
                        why.describe()
                    ),
                    json!({"authorizationEndpoint": authorize.as_str(), "tokenEndpoint": token.as_str(), "registrationEndpoint": register.as_str()}),
                )
                .await;
                Ok(Found {
                    issuer: origin.clone(),
                    resource: self.resource.clone(),
                    server: ServerMetadata {
                        issuer: origin,
                        authorization_endpoint: authorize.into(),
                        token_endpoint: token.into(),
                        registration_endpoint: Some(register.into()),
                        scopes_supported: vec![],
                        token_endpoint_auth_methods: vec![],
                        client_id_metadata_document_supported: false,
                        iss_parameter_supported: false,
                    },
                    prm: None,
                })
            }
        }
    }

    async fn check_endpoints(&self, server: &ServerMetadata) -> Result<(), String> {
        let mut endpoints = vec![
            ("the authorization endpoint", &server.authorization_endpoint),
            ("the token endpoint", &server.token_endpoint),
        ];
        if let Some(r) = &server.registration_endpoint {
            endpoints.push(("the registration endpoint", r));
        }
        for (what, url) in endpoints {
            if let Err(why) = discovery::check_endpoint(what, url) {
                return Err(self.fail("as-metadata", why).await);
            }
        }
        Ok(())
    }

    async fn report_metadata(&self, url: &Url, server: &ServerMetadata) {
        self.step(
            "as-metadata",
            true,
            format!("{url}: issuer {} offers PKCE S256", server.issuer),
            json!({
                "url": url.as_str(),
                "issuer": server.issuer,
                "authorizationEndpoint": server.authorization_endpoint,
                "tokenEndpoint": server.token_endpoint,
                "registrationEndpoint": server.registration_endpoint,
                "scopesSupported": server.scopes_supported,
                "tokenEndpointAuthMethods": server.token_endpoint_auth_methods,
                "clientIdMetadataDocumentSupported": server.client_id_metadata_document_supported,
                "issParameterSupported": server.iss_parameter_supported,
            }),
        )
        .await;
    }

    /// A client at this authorization server, in the spec's order: the one the user gave, a
    /// Client ID Metadata Document, Dynamic Client Registration; else the user must give one.
    async fn register(&self, found: &Found, redirect: &str) -> Result<Client, String> {
        self.show("registration", None, json!({})).await;
        let server = &found.server;
        if let Some(id) = &self.options.client_id {
            let secret = self.options.client_secret.clone();
            let method = self
                .options
                .token_endpoint_auth_method
                .clone()
                .unwrap_or_else(|| {
                    secret_method(secret.is_some(), &server.token_endpoint_auth_methods)
                });
            self.step(
                "registration",
                true,
                format!("using the pre-registered client {id} ({method})"),
                json!({"how": "pre-registered", "clientId": id, "authMethod": method}),
            )
            .await;
            return Ok(Client {
                client_id: id.clone(),
                client_secret: secret,
                auth_method: method,
                how: "pre-registered".into(),
            });
        }
        if server.client_id_metadata_document_supported
            && let Some(url) = &self.options.client_metadata_url
        {
            self.step(
                "registration",
                true,
                format!("the authorization server accepts Client ID Metadata Documents; the client id is {url}"),
                json!({"how": "cimd", "clientId": url}),
            )
            .await;
            return Ok(Client {
                client_id: url.clone(),
                client_secret: None,
                auth_method: "none".into(),
                how: "cimd".into(),
            });
        }
        let Some(endpoint) = &server.registration_endpoint else {
            return Err(self
                .fail(
                    "registration",
                    format!(
                        "{AUTH_REQUIRED}: the authorization server {} offers no dynamic registration{}; give a client id (and secret) registered there",
                        found.issuer,
                        if server.client_id_metadata_document_supported {
                            " (it accepts a Client ID Metadata Document: give its https URL)"
                        } else {
                            ""
                        }
                    ),
                )
                .await);
        };
        let url = Url::parse(endpoint).map_err(|e| e.to_string())?;
        let asked = self
            .options
            .token_endpoint_auth_method
            .clone()
            .unwrap_or_else(|| dcr_method(&server.token_endpoint_auth_methods));
        let body = json!({
            "client_name": "mcpscope",
            "redirect_uris": [redirect],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": asked,
            "application_type": "native",
        });
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let reply = self
            .fetch
            .send(
                "registration",
                Method::POST,
                &url,
                headers,
                Some(body.to_string().into_bytes()),
            )
            .await;
        let reply = match reply {
            Ok(r) => r,
            Err(why) => return Err(self.fail("registration", why).await),
        };
        let doc = reply.json().filter(|_| (200..300).contains(&reply.status));
        let Some(id) = doc
            .as_ref()
            .and_then(|d| d.get("client_id"))
            .and_then(Value::as_str)
        else {
            return Err(self
                .fail(
                    "registration",
                    format!(
                        "dynamic client registration at {url} answered {} without a client_id",
                        reply.status
                    ),
                )
                .await);
        };
        let doc = doc.as_ref().expect("checked above");
        let secret = doc
            .get("client_secret")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let method = doc
            .get("token_endpoint_auth_method")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| {
                if secret.is_some() {
                    secret_method(true, &server.token_endpoint_auth_methods)
                } else {
                    "none".into()
                }
            });
        self.step(
            "registration",
            true,
            format!("registered as client {id} ({method})"),
            json!({"how": "dcr", "clientId": id, "authMethod": method}),
        )
        .await;
        Ok(Client {
            client_id: id.to_owned(),
            client_secret: secret,
            auth_method: method,
            how: "dcr".into(),
        })
    }

    /// The authorization URL for the user, their browser's return, and the code exchanged.
    async fn browser_round_trip(
        &self,
        found: &Found,
        client: &Client,
        redirect: &str,
        scopes: &[String],
    ) -> Result<Tokens, String> {
        let server = &found.server;
        let oauth = oauth_client(client, server, Some(redirect))?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = oauth
            .authorize_url(CsrfToken::new_random)
            .add_scopes(scopes.iter().cloned().map(Scope::new))
            .add_extra_param("resource", &found.resource)
            .set_pkce_challenge(challenge)
            .url();
        let mut waiting = self.broker.expect(state.secret());
        let host = url.host_str().unwrap_or_default().to_owned();
        self.step(
            "authorize",
            true,
            format!("waiting for the user to authorize at {host}"),
            json!({"url": url.as_str(), "host": host, "scopes": scopes, "redirectUri": redirect}),
        )
        .await;
        self.show(
            "authorize",
            Some(url.as_str()),
            json!({"host": host, "issuer": found.issuer, "scopes": scopes}),
        )
        .await;
        let callback = match tokio::time::timeout(BROWSER_WAIT, waiting.callback()).await {
            Ok(Some(c)) => c,
            Ok(None) => {
                return Err(self
                    .fail("callback", "the authorization was abandoned".into())
                    .await);
            }
            Err(_) => {
                return Err(self
                    .fail(
                        "callback",
                        format!("{AUTH_REQUIRED}: nobody came back from the authorization page within 10 minutes"),
                    )
                    .await);
            }
        };
        drop(waiting);
        if let Some(error) = &callback.error {
            return Err(self
                .fail(
                    "callback",
                    format!(
                        "the authorization server answered error {error:?}{}",
                        callback
                            .error_description
                            .as_deref()
                            .map_or_else(String::new, |d| format!(": {d}"))
                    ),
                )
                .await);
        }
        match (&callback.iss, server.iss_parameter_supported) {
            (Some(iss), _) if *iss != found.issuer => {
                return Err(self
                    .fail(
                        "callback",
                        format!(
                            "the callback's iss {iss:?} is not the issuer {:?} this flow started with (RFC 9207); refused, since it may come from another authorization server",
                            found.issuer
                        ),
                    )
                    .await);
            }
            (None, true) => {
                return Err(self
                    .fail(
                        "callback",
                        "the authorization server says it sends iss in its answers, but this callback has none (RFC 9207); refused".into(),
                    )
                    .await);
            }
            _ => {}
        }
        let Some(code) = callback.code else {
            return Err(self
                .fail("callback", "the callback carries no code".into())
                .await);
        };
        self.step(
            "callback",
            true,
            format!(
                "the browser came back with a code{}",
                callback
                    .iss
                    .as_deref()
                    .map_or_else(String::new, |i| format!(" and iss {i:?}, which matches"))
            ),
            json!({"iss": callback.iss}),
        )
        .await;
        self.show("token", None, json!({"issuer": found.issuer}))
            .await;
        let fetch = self.fetch.clone();
        let http = move |req: oauth2::HttpRequest| {
            let fetch = fetch.clone();
            async move { fetch.for_oauth2("token", req).await }
        };
        let mut exchange = oauth
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(verifier)
            .add_extra_param("resource", &found.resource);
        if let Some(id) = body_client_id(client) {
            exchange = exchange.add_extra_param("client_id", id);
        }
        let answer = exchange.request_async(&http).await;
        match answer {
            Ok(t) => {
                let tokens = tokens_from(&t, scopes, None);
                self.step(
                    "token",
                    true,
                    format!(
                        "got an access token{}{}",
                        if tokens.refresh_token.is_some() { " and a refresh token" } else { "" },
                        t.expires_in().map_or_else(String::new, |d| format!(", valid {} s", d.as_secs()))
                    ),
                    json!({"scopes": tokens.scopes, "expiresAt": tokens.expires_at, "refreshable": tokens.refresh_token.is_some()}),
                )
                .await;
                Ok(tokens)
            }
            Err(e) => Err(self.fail("token", token_error(&e)).await),
        }
    }

    /// Trades the refresh token for a new access token; false when there is none or it failed
    /// (the caller then authorizes from the start).
    async fn refresh(&self, why: &str) -> bool {
        let Some(creds) = self.broker.credentials(&self.resource) else {
            return false;
        };
        let (Some(client), Some(tokens)) = (creds.client.clone(), creds.tokens.clone()) else {
            return false;
        };
        let Some(refresh) = tokens.refresh_token.clone() else {
            return false;
        };
        let server = ServerMetadata {
            issuer: creds.issuer.clone(),
            authorization_endpoint: creds.token_endpoint.clone(),
            token_endpoint: creds.token_endpoint.clone(),
            registration_endpoint: None,
            scopes_supported: vec![],
            token_endpoint_auth_methods: vec![],
            client_id_metadata_document_supported: false,
            iss_parameter_supported: false,
        };
        let Ok(oauth) = oauth_client(&client, &server, None) else {
            return false;
        };
        let fetch = self.fetch.clone();
        let http = move |req: oauth2::HttpRequest| {
            let fetch = fetch.clone();
            async move { fetch.for_oauth2("refresh", req).await }
        };
        let resource = creds
            .resource
            .clone()
            .unwrap_or_else(|| self.resource.clone());
        let token = RefreshToken::new(refresh.clone());
        let mut exchange = oauth
            .exchange_refresh_token(&token)
            .add_extra_param("resource", &resource);
        if let Some(id) = body_client_id(&client) {
            exchange = exchange.add_extra_param("client_id", id);
        }
        let answer = exchange.request_async(&http).await;
        match answer {
            Ok(t) => {
                // A server that rotates sends a new refresh token; one that does not keeps
                // the old one valid.
                let fresh = tokens_from(&t, &tokens.scopes, Some(refresh));
                self.step(
                    "refresh",
                    true,
                    format!("{why}; refreshed it"),
                    json!({"expiresAt": fresh.expires_at, "rotated": t.refresh_token().is_some()}),
                )
                .await;
                let found = Found {
                    issuer: creds.issuer.clone(),
                    resource,
                    server,
                    prm: None,
                };
                self.install(&found, client, fresh);
                true
            }
            Err(e) => {
                self.step(
                    "refresh",
                    false,
                    format!(
                        "{why}; refreshing failed ({}), so authorizing again",
                        token_error(&e)
                    ),
                    json!({}),
                )
                .await;
                false
            }
        }
    }
}

type Oauth = BasicClient<
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

fn oauth_client(
    client: &Client,
    server: &ServerMetadata,
    redirect: Option<&str>,
) -> Result<Oauth, String> {
    let mut oauth = BasicClient::new(ClientId::new(client.client_id.clone()))
        .set_auth_uri(
            AuthUrl::new(server.authorization_endpoint.clone()).map_err(|e| e.to_string())?,
        )
        .set_token_uri(TokenUrl::new(server.token_endpoint.clone()).map_err(|e| e.to_string())?)
        .set_auth_type(match client.auth_method.as_str() {
            "client_secret_post" => AuthType::RequestBody,
            _ => AuthType::BasicAuth,
        });
    if client.auth_method != "none"
        && let Some(secret) = &client.client_secret
    {
        oauth = oauth.set_client_secret(ClientSecret::new(secret.clone()));
    }
    if let Some(r) = redirect {
        oauth = oauth.set_redirect_uri(RedirectUrl::new(r.to_owned()).map_err(|e| e.to_string())?);
    }
    Ok(oauth)
}

/// With `client_secret_basic` the id also goes in the body: it is not a second way of
/// authenticating (the secret is only in the header), and some servers (the Python SDK's) read
/// the client from the body before they look at the header.
fn body_client_id(client: &Client) -> Option<String> {
    (client.auth_method == "client_secret_basic" && client.client_secret.is_some())
        .then(|| client.client_id.clone())
}

/// The token endpoint method for a client with (or without) a secret, as the server offers.
fn secret_method(has_secret: bool, offered: &[String]) -> String {
    if !has_secret {
        return "none".into();
    }
    if offered.is_empty() || offered.iter().any(|m| m == "client_secret_basic") {
        "client_secret_basic".into()
    } else if offered.iter().any(|m| m == "client_secret_post") {
        "client_secret_post".into()
    } else {
        "client_secret_basic".into()
    }
}

/// What to ask for when registering: a public client (`none`) where the server allows it,
/// else the first secret method it offers.
fn dcr_method(offered: &[String]) -> String {
    if offered.is_empty() || offered.iter().any(|m| m == "none") {
        return "none".into();
    }
    for m in ["client_secret_basic", "client_secret_post"] {
        if offered.iter().any(|o| o == m) {
            return m.into();
        }
    }
    "none".into()
}

fn tokens_from(
    t: &oauth2::basic::BasicTokenResponse,
    asked: &[String],
    old_refresh: Option<String>,
) -> Tokens {
    Tokens {
        access_token: t.access_token().secret().clone(),
        refresh_token: t
            .refresh_token()
            .map(|r| r.secret().clone())
            .or(old_refresh),
        expires_at: t.expires_in().map(|d| now() + d.as_secs()),
        obtained_at: now(),
        scopes: t
            .scopes()
            .map(|s| s.iter().map(|s| s.to_string()).collect())
            .unwrap_or_else(|| asked.to_vec()),
    }
}

fn token_error<E: std::error::Error>(
    e: &oauth2::RequestTokenError<E, oauth2::basic::BasicErrorResponse>,
) -> String {
    match e {
        oauth2::RequestTokenError::ServerResponse(r) => format!(
            "the token endpoint answered error {:?}{}",
            r.error().to_string(),
            r.error_description()
                .map_or_else(String::new, |d| format!(": {d}"))
        ),
        oauth2::RequestTokenError::Request(e) => format!("the token request failed: {e}"),
        oauth2::RequestTokenError::Parse(e, _) => {
            format!("the token endpoint's answer is not a token response: {e}")
        }
        oauth2::RequestTokenError::Other(s) => s.clone(),
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_endpoint_methods_follow_what_the_server_offers() {
        let s = |v: &[&str]| v.iter().map(|m| (*m).to_owned()).collect::<Vec<_>>();
        assert_eq!(secret_method(false, &s(&["client_secret_basic"])), "none");
        assert_eq!(secret_method(true, &s(&[])), "client_secret_basic");
        assert_eq!(
            secret_method(true, &s(&["client_secret_post"])),
            "client_secret_post"
        );
        assert_eq!(dcr_method(&s(&[])), "none");
        assert_eq!(
            dcr_method(&s(&["client_secret_post"])),
            "client_secret_post"
        );
        assert_eq!(dcr_method(&s(&["client_secret_basic", "none"])), "none");
    }
}

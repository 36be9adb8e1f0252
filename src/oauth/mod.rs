//! MCP authorization for remote targets (OAuth 2.1). Pure readings first (the challenge, the
//! discovery URLs, the metadata checks), then the flow that drives them, its HTTP requests, and
//! what every flow of the process shares (the callback, kept credentials). A connect and the
//! debugger run the same flow.
//!
//! | file | owns |
//! |---|---|
//! | `challenge.rs` | `WWW-Authenticate` parsed: schemes and their parameters (`resource_metadata`, `scope`, `error`) |
//! | `discovery.rs` | the protected-resource and authorization-server metadata URLs in order, the canonical resource URI, and the metadata checks (`resource`, `issuer`, S256 PKCE) |
//! | `flow.rs` | the flow for one target: what the transport asks (the bearer, a refusal), the order of the steps, step-up, refresh on 401, loop limits, the events |
//! | `lookup.rs` | a flow's discovery requests: PRM, AS metadata, the 2025-03-26 fallbacks |
//! | `register.rs` | a flow's client: pre-registered, CIMD, DCR; the token endpoint auth method |
//! | `token.rs` | a flow's browser round trip (PKCE, state, resource, the callback's iss) and token requests (code, refresh) |
//! | `fetch.rs` | each request of a flow, sent without redirects and shown as an `http` event with its phase, secrets hidden |
//! | `broker.rs` | the redirect URI, flows waiting for their callback by `state`, credentials per server (memory or a 0600 file) |

pub mod broker;
pub mod challenge;
pub mod discovery;
pub mod fetch;
pub mod flow;
mod lookup;
mod register;
mod token;

use std::{future::Future, pin::Pin, sync::Arc};

use serde::Deserialize;

use crate::events::{AuthStep, AuthorizationView, HttpEvent};

/// What a flow reports. The transport that runs the flow carries these in order with its own
/// events, so a flow's requests show right after the refusal that started them.
#[derive(Debug)]
pub enum Report {
    /// One HTTP exchange of the flow, marked with its `phase`, secrets hidden.
    Http(Box<HttpEvent>),
    /// One step, secrets left out.
    Step(AuthStep),
    /// The flow waits on the user or moved on (`active`), or ended (`!active`); `view` is the
    /// session object's `authorization`.
    View {
        active: bool,
        view: AuthorizationView,
    },
}

/// Where a flow's reports go: given by the transport that runs it (OAuth knows nothing of
/// transports).
pub type Reporter = Arc<dyn Fn(Report) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// What the user says about authorization for one target (connect body `oauth`, the CLI's
/// `--client-id`, `--client-secret`, `--client-metadata-url`, `--scopes`).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OAuthOptions {
    /// A client registered with the authorization server beforehand.
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
    /// An https URL serving this client's metadata document (used as the client id where the
    /// authorization server accepts one).
    pub client_metadata_url: Option<String>,
    /// The scopes to ask for, instead of the challenge's or the server's.
    #[serde(default, deserialize_with = "scopes")]
    pub scopes: Option<Vec<String>>,
    /// `client_secret_basic`, `client_secret_post` or `none`.
    pub token_endpoint_auth_method: Option<String>,
    /// The debugger's step-by-step mode: the flow pauses before each request (and before
    /// choosing a client and scopes) until the user lets it go on, with edits.
    #[serde(default)]
    pub step_by_step: bool,
}

/// Scopes as a space-separated string or a list.
pub(crate) fn scopes<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Vec<String>>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Given {
        Text(String),
        List(Vec<String>),
    }
    Ok(match Option::<Given>::deserialize(d)? {
        None => None,
        Some(Given::Text(t)) => Some(t.split_whitespace().map(str::to_owned).collect()),
        Some(Given::List(l)) => Some(l),
    })
}

impl OAuthOptions {
    /// What the session object shows: everything but the secret's value.
    pub fn describe(&self) -> serde_json::Value {
        serde_json::json!({
            "clientId": self.client_id,
            "clientSecret": self.client_secret.as_ref().map(|_| crate::redact::REDACTED),
            "clientMetadataUrl": self.client_metadata_url,
            "scopes": self.scopes,
            "tokenEndpointAuthMethod": self.token_endpoint_auth_method,
            "stepByStep": self.step_by_step,
        })
    }

    pub fn is_empty(&self) -> bool {
        *self == OAuthOptions::default()
    }
}

//! The browser's round trip and the token endpoint for one flow: the authorization URL (PKCE
//! S256, `state`, `scope`, `resource`), the callback checked (`error`, RFC 9207 `iss`, `code`),
//! the code exchanged, and later refreshes. The `oauth2` crate builds the requests; they travel
//! through [`super::fetch`] so the debugger shows them.

use std::time::{SystemTime, UNIX_EPOCH};

use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    RedirectUrl, RefreshToken, Scope, TokenResponse, TokenUrl, basic::BasicClient,
};
use serde_json::json;

use super::{
    broker::{Client, Credentials, Tokens},
    flow::{AUTH_REQUIRED, Authorizer, Found, USER_WAIT},
};

impl Authorizer {
    /// The authorization URL for the user, their browser's return, and the code exchanged.
    pub(super) async fn browser_round_trip(
        &self,
        found: &Found,
        client: &Client,
        redirect: &str,
        scopes: &[String],
    ) -> Result<Tokens, String> {
        let server = &found.server;
        let oauth = oauth_client(
            client,
            &server.authorization_endpoint,
            &server.token_endpoint,
            Some(redirect),
        )?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = oauth
            .authorize_url(CsrfToken::new_random)
            .add_scopes(scopes.iter().cloned().map(Scope::new))
            .add_extra_param("resource", &found.resource)
            .set_pkce_challenge(challenge)
            .url();
        let mut waiting = self
            .broker
            .expect(state.secret(), self.options.step_by_step);
        // Where the user is sent, port included: what they must recognise before signing in.
        let host = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (h, None) => h.unwrap_or_default().to_owned(),
            (None, Some(_)) => String::new(),
        };
        self.step(
            "authorize",
            true,
            format!("sent the user to authorize at {host}"),
            json!({"url": url.as_str(), "host": host, "scopes": scopes, "redirectUri": redirect}),
        )
        .await;
        self.show(
            "authorize",
            Some(url.as_str()),
            json!({"host": host, "issuer": found.issuer, "scopes": scopes}),
        )
        .await;
        let callback = match tokio::time::timeout(USER_WAIT, waiting.answer()).await {
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
        self.pause(
            "token",
            format!("POST {} (the code for a token)", server.token_endpoint),
            &[],
            json!({}),
        )
        .await?;
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
    pub(super) async fn refresh(&self, why: &str) -> bool {
        let Some(creds) = self.broker.credentials(&self.resource) else {
            return false;
        };
        let (Some(client), Some(tokens)) = (creds.client.clone(), creds.tokens.clone()) else {
            return false;
        };
        let Some(refresh) = tokens.refresh_token.clone() else {
            return false;
        };
        // A refresh never builds an authorization URL: the token endpoint stands in for it.
        let Ok(oauth) = oauth_client(&client, &creds.token_endpoint, &creds.token_endpoint, None)
        else {
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
                self.install(Credentials {
                    tokens: Some(fresh),
                    ..creds
                });
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
    authorization_endpoint: &str,
    token_endpoint: &str,
    redirect: Option<&str>,
) -> Result<Oauth, String> {
    let mut oauth = BasicClient::new(ClientId::new(client.client_id.clone()))
        .set_auth_uri(AuthUrl::new(authorization_endpoint.to_owned()).map_err(|e| e.to_string())?)
        .set_token_uri(TokenUrl::new(token_endpoint.to_owned()).map_err(|e| e.to_string())?)
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

pub(super) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

//! Registration for one flow, in the spec's order: the client the user gave, a Client ID
//! Metadata Document where the authorization server accepts one, Dynamic Client Registration
//! (RFC 7591) asking for what the server allows; else the user must give a client. Which token
//! endpoint authentication follows from the registration and what the server offers.

use reqwest::{
    Method,
    header::{CONTENT_TYPE, HeaderMap, HeaderValue},
};
use serde_json::{Value, json};
use url::Url;

use super::{
    broker::Client,
    flow::{AUTH_REQUIRED, Authorizer, Found},
};

impl Authorizer {
    /// A client at this authorization server, in the spec's order: the one the user gave, a
    /// Client ID Metadata Document, Dynamic Client Registration; else the user must give one.
    /// `scopes` are those the flow means to ask for: a registration asks for them too (some
    /// servers refuse a scope the client was not registered with), and step by step they may
    /// be edited here.
    pub(super) async fn register(
        &self,
        found: &Found,
        redirect: &str,
        scopes: &[String],
    ) -> Result<Client, String> {
        self.show("registration", None, json!({})).await;
        let server = &found.server;
        let plan = match (self.given_client_id(), &server.registration_endpoint) {
            (Some(id), _) => format!("use the pre-registered client {id}"),
            (None, _)
                if server.client_id_metadata_document_supported
                    && self.options.client_metadata_url.is_some() =>
            {
                "use this client's metadata document URL as its id".to_owned()
            }
            (None, Some(endpoint)) => format!("register dynamically at {endpoint}"),
            (None, None) => "ask for a client id (no dynamic registration offered)".to_owned(),
        };
        self.pause(
            "registration",
            plan,
            &["clientId", "scopes"],
            json!({"clientId": self.given_client_id(), "scopes": scopes,
                "supported": super::flow::supported_scopes(found, None)}),
        )
        .await?;
        if let Some(id) = &self.given_client_id() {
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
                format!(
                    "using the pre-registered client {id} ({method}: {})",
                    method_words(&method)
                ),
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
        let scopes = self
            .overrides
            .lock()
            .unwrap()
            .scopes
            .clone()
            .unwrap_or_else(|| scopes.to_vec());
        let mut body = json!({
            "client_name": "mcpscope",
            "redirect_uris": [redirect],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": asked,
            "application_type": "native",
        });
        if !scopes.is_empty() {
            body["scope"] = json!(scopes.join(" "));
        }
        self.pause(
            "registration",
            format!("POST {url} (Dynamic Client Registration)"),
            &[],
            json!({}),
        )
        .await?;
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
            format!(
                "registered as client {id} ({method}: {})",
                method_words(&method)
            ),
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
}

/// The token endpoint method for a client with (or without) a secret, as the server offers.
pub(super) fn secret_method(has_secret: bool, offered: &[String]) -> String {
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

/// How a kept client came to be, in words.
pub(super) fn how_words(how: &str) -> &'static str {
    match how {
        "dcr" => "registered dynamically before, and kept",
        "cimd" => "its id is this client's metadata document URL",
        "pre-registered" => "the client id you gave",
        _ => "kept from before",
    }
}

/// How a token endpoint auth method sends the client's credentials, in words.
pub(super) fn method_words(method: &str) -> &'static str {
    match method {
        "client_secret_basic" => "the secret goes in an HTTP Basic header",
        "client_secret_post" => "the secret goes in the request body",
        "none" => "a public client, with no secret",
        "private_key_jwt" => "a JWT signed with the client's key",
        "client_secret_jwt" => "a JWT signed with the secret",
        _ => "a method mcpscope does not know",
    }
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

//! Discovery for one flow: protected-resource metadata (the challenge's URL, then the
//! well-known ones), the authorization server's metadata in the spec's order, and the 2025-03-26
//! way where the server's origin is its own authorization server. Each document is checked
//! (`discovery.rs`) before it is believed, and each endpoint before it is used.

use serde_json::{Value, json};
use url::Url;

use super::{
    challenge::Challenge,
    discovery::{self, ServerMetadata},
    fetch::Missing,
    flow::{Authorizer, Found},
};

impl Authorizer {
    /// Protected-resource metadata, then the authorization server's. Without PRM, the
    /// 2025-03-26 way: the server's origin is the authorization server.
    pub(super) async fn discover(&self, challenge: Option<&Challenge>) -> Result<Found, String> {
        let from_challenge = challenge.and_then(|c| c.param("resource_metadata"));
        let mut prm = None;
        let mut tried = Vec::new();
        for url in discovery::prm_urls(&self.server, from_challenge) {
            match self.get_document("prm", &url).await? {
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
        let issuer_url = match discovery::check_endpoint("the authorization server", &issuer) {
            Ok(u) => u,
            Err(why) => return Err(self.fail("as-metadata", why).await),
        };
        let mut tried = Vec::new();
        for url in discovery::as_metadata_urls(&issuer_url) {
            match self.get_document("as-metadata", &url).await? {
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
        match self.get_document("as-metadata", &url).await? {
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

    /// One metadata document (after the step-by-step pause, when there is one): Err when the
    /// flow stops, else the document or why there is none.
    async fn get_document(&self, phase: &str, url: &Url) -> Result<Result<Value, Missing>, String> {
        // A server chooses these URLs (the challenge's resource_metadata, the PRM's
        // authorization servers): a metadata address is fetched only once the user, paused
        // before it step by step, has seen it named and continued.
        let next = match (discovery::metadata_address(url), self.options.step_by_step) {
            (Some(why), false) => {
                return Err(self.fail(phase, format!("not fetching {url}: {why}")).await);
            }
            (Some(why), true) => format!("GET {url} (careful: {why})"),
            (None, _) => format!("GET {url}"),
        };
        self.pause(phase, next, &[], json!({})).await?;
        Ok(self.fetch.get_json(phase, url).await)
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
}

//! Where MCP authorization looks, in the spec's order, and what each document must say before
//! it is believed. Pure: URLs in, URLs out, documents checked; the requests are the flow's.
//!
//! - Protected-resource metadata (RFC 9728): the challenge's `resource_metadata`, else the
//!   path-inserted well-known URL, else the origin's.
//! - Authorization-server metadata (RFC 8414, OpenID Connect Discovery): for an issuer with a
//!   path, `oauth-authorization-server` and `openid-configuration` path-inserted, then
//!   `openid-configuration` appended; without a path, the two at the origin.
//! - 2025-03-26 (the server is its own authorization server): the origin's
//!   `oauth-authorization-server`, falling back to `/authorize`, `/token`, `/register`.

use serde_json::Value;
use url::Url;

const PRM: &str = "/.well-known/oauth-protected-resource";
const OAUTH_AS: &str = "/.well-known/oauth-authorization-server";
const OIDC: &str = "/.well-known/openid-configuration";

/// The server's canonical URI, the RFC 8707 `resource`: no fragment, and no trailing slash
/// when the path is only `/`.
pub fn canonical_resource(server: &Url) -> String {
    let mut u = server.clone();
    u.set_fragment(None);
    let text = u.to_string();
    if u.path() == "/" && u.query().is_none() {
        text.trim_end_matches('/').to_owned()
    } else {
        text
    }
}

fn origin_with(url: &Url, path: &str) -> Url {
    let mut u = url.clone();
    u.set_path(path);
    u.set_query(None);
    u.set_fragment(None);
    u
}

/// The path of a URL without its trailing slash; empty for the root.
fn trimmed_path(url: &Url) -> &str {
    url.path().trim_end_matches('/')
}

/// Where to read protected-resource metadata, in order, without repeats.
pub fn prm_urls(server: &Url, from_challenge: Option<&str>) -> Vec<Url> {
    let mut out = Vec::new();
    if let Some(u) = from_challenge.and_then(|s| Url::parse(s).ok())
        && matches!(u.scheme(), "http" | "https")
    {
        out.push(u);
    }
    let path = trimmed_path(server);
    if !path.is_empty() {
        out.push(origin_with(server, &format!("{PRM}{path}")));
    }
    out.push(origin_with(server, PRM));
    out.dedup();
    out
}

/// Where to read an authorization server's metadata, in order.
pub fn as_metadata_urls(issuer: &Url) -> Vec<Url> {
    let path = trimmed_path(issuer);
    if path.is_empty() {
        return vec![origin_with(issuer, OAUTH_AS), origin_with(issuer, OIDC)];
    }
    vec![
        origin_with(issuer, &format!("{OAUTH_AS}{path}")),
        origin_with(issuer, &format!("{OIDC}{path}")),
        origin_with(issuer, &format!("{path}{OIDC}")),
    ]
}

/// 2025-03-26: the server's origin is the authorization server.
pub fn legacy_as_metadata_url(server: &Url) -> Url {
    origin_with(server, OAUTH_AS)
}

/// 2025-03-26 without metadata: the default endpoints at the server's origin.
pub fn legacy_default_endpoints(server: &Url) -> (Url, Url, Url) {
    (
        origin_with(server, "/authorize"),
        origin_with(server, "/token"),
        origin_with(server, "/register"),
    )
}

/// An endpoint the flow may send the user's browser or its own requests to: http(s) only, and
/// plain http only on a loopback host.
pub fn check_endpoint(what: &str, url: &str) -> Result<Url, String> {
    let u = Url::parse(url).map_err(|e| format!("{what} {url:?} is not a URL: {e}"))?;
    if let Some(why) = metadata_address(&u) {
        return Err(format!("{what} {url:?}: {why}"));
    }
    match u.scheme() {
        "https" => Ok(u),
        "http" if is_loopback(&u) => Ok(u),
        "http" => Err(format!(
            "{what} {url:?} uses plain http on a host that is not loopback; only https is accepted there"
        )),
        other => Err(format!(
            "{what} {url:?} has scheme {other:?}; only http(s) is accepted"
        )),
    }
}

/// Why a URL a server named must not be fetched without the user's say-so: a link-local or
/// cloud-metadata address (169.254.169.254 and its kin hand out a machine's cloud credentials
/// to whoever asks from it). Loopback and private addresses stay allowed: a debugging tool is
/// pointed at local servers all day. Literal addresses and the metadata host names only; a DNS
/// name that resolves to such an address is not caught here.
pub fn metadata_address(u: &Url) -> Option<String> {
    let why = match u.host()? {
        url::Host::Ipv4(ip) if ip.is_link_local() => "a link-local address",
        url::Host::Ipv4(ip) if ip.is_unspecified() || ip.is_broadcast() => "no real host",
        url::Host::Ipv4(ip) if ip.octets() == [100, 100, 100, 200] => "a cloud metadata address",
        url::Host::Ipv6(ip)
            if (ip.segments()[0] & 0xffc0) == 0xfe80
                || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_link_local()) =>
        {
            "a link-local address"
        }
        url::Host::Ipv6(ip) if ip.segments()[..3] == [0xfd00, 0x0ec2, 0] => {
            "a cloud metadata address"
        }
        url::Host::Ipv6(ip) if ip.is_unspecified() => "no real host",
        url::Host::Domain(d)
            if ["metadata.google.internal", "metadata", "instance-data"]
                .iter()
                .any(|m| d.trim_end_matches('.').eq_ignore_ascii_case(m)) =>
        {
            "a cloud metadata host"
        }
        _ => return None,
    };
    Some(format!(
        "{} is {why}, where a cloud machine hands out its credentials; mcpscope does not fetch it for a server unless you continue (connect with oauth step by step, and Continue at this step)",
        u.host_str().unwrap_or_default()
    ))
}

fn is_loopback(u: &Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// What protected-resource metadata says, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceMetadata {
    pub resource: Option<String>,
    pub authorization_servers: Vec<String>,
    pub scopes_supported: Vec<String>,
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Checks a protected-resource metadata document against the server it is for: it names at
/// least one authorization server, and its `resource` (when present) is the server or contains
/// it (same origin, a path prefix on segment boundaries).
pub fn check_prm(doc: &Value, server: &Url) -> Result<ResourceMetadata, String> {
    let servers = strings(doc.get("authorization_servers"));
    if servers.is_empty() {
        return Err("the protected-resource metadata names no authorization_servers".into());
    }
    let resource = doc
        .get("resource")
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(r) = &resource
        && !resource_covers(r, server)
    {
        return Err(format!(
            "the protected-resource metadata is for resource {r:?}, not for {:?}; mcpscope will not send this server's users to its authorization server",
            canonical_resource(server)
        ));
    }
    Ok(ResourceMetadata {
        resource,
        authorization_servers: servers,
        scopes_supported: strings(doc.get("scopes_supported")),
    })
}

fn resource_covers(resource: &str, server: &Url) -> bool {
    let Ok(r) = Url::parse(resource) else {
        return false;
    };
    if r.origin() != server.origin() {
        return false;
    }
    let rp = trimmed_path(&r);
    let sp = trimmed_path(server);
    sp == rp || sp.starts_with(&format!("{rp}/"))
}

/// What authorization-server metadata says, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerMetadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub registration_endpoint: Option<String>,
    pub scopes_supported: Vec<String>,
    pub token_endpoint_auth_methods: Vec<String>,
    pub client_id_metadata_document_supported: bool,
    pub iss_parameter_supported: bool,
}

/// Checks authorization-server metadata: its `issuer` is exactly the one it was looked up for,
/// it has both endpoints, and it offers S256 PKCE (a server that does not say so is refused, as
/// the spec requires).
pub fn check_as_metadata(doc: &Value, issuer: &str) -> Result<ServerMetadata, String> {
    let got = doc.get("issuer").and_then(Value::as_str).unwrap_or("");
    if got != issuer {
        return Err(format!(
            "the authorization server metadata says issuer {got:?}, but it was looked up for {issuer:?}"
        ));
    }
    let endpoint = |key: &str| {
        doc.get(key)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("the authorization server metadata has no {key}"))
    };
    let methods = strings(doc.get("code_challenge_methods_supported"));
    if !methods.iter().any(|m| m == "S256") {
        return Err(if methods.is_empty() {
            "the authorization server does not list code_challenge_methods_supported, so PKCE S256 is not known to work; MCP clients must refuse it".into()
        } else {
            format!("the authorization server offers PKCE {methods:?} but not S256")
        });
    }
    Ok(ServerMetadata {
        issuer: got.to_owned(),
        authorization_endpoint: endpoint("authorization_endpoint")?,
        token_endpoint: endpoint("token_endpoint")?,
        registration_endpoint: doc
            .get("registration_endpoint")
            .and_then(Value::as_str)
            .map(str::to_owned),
        scopes_supported: strings(doc.get("scopes_supported")),
        token_endpoint_auth_methods: strings(doc.get("token_endpoint_auth_methods_supported")),
        client_id_metadata_document_supported: doc
            .get("client_id_metadata_document_supported")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        iss_parameter_supported: doc
            .get("authorization_response_iss_parameter_supported")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

/// The scopes to ask for: the challenge's, else what the resource says it supports, else none
/// (the `scope` parameter is then omitted). `offline_access` is added only when the
/// authorization server lists it.
pub fn scopes(challenge: &[String], prm: &[String], server: &ServerMetadata) -> Vec<String> {
    let mut out: Vec<String> = if challenge.is_empty() {
        prm.to_vec()
    } else {
        challenge.to_vec()
    };
    if server
        .scopes_supported
        .iter()
        .any(|s| s == "offline_access")
        && !out.iter().any(|s| s == "offline_access")
        && !out.is_empty()
    {
        out.push("offline_access".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    fn strs(urls: &[Url]) -> Vec<String> {
        urls.iter().map(Url::to_string).collect()
    }

    #[test]
    fn the_canonical_resource() {
        assert_eq!(
            canonical_resource(&u("https://MCP.example.com/mcp#x")),
            "https://mcp.example.com/mcp"
        );
        assert_eq!(
            canonical_resource(&u("https://mcp.example.com/")),
            "https://mcp.example.com"
        );
        assert_eq!(
            canonical_resource(&u("http://127.0.0.1:8080/a/b/")),
            "http://127.0.0.1:8080/a/b/"
        );
    }

    #[test]
    fn prm_is_looked_up_in_order() {
        let server = u("https://mcp.example.com/public/mcp?x=1");
        assert_eq!(
            strs(&prm_urls(&server, Some("https://mcp.example.com/prm"))),
            [
                "https://mcp.example.com/prm",
                "https://mcp.example.com/.well-known/oauth-protected-resource/public/mcp",
                "https://mcp.example.com/.well-known/oauth-protected-resource",
            ]
        );
        assert_eq!(
            strs(&prm_urls(
                &u("https://mcp.example.com/"),
                Some("javascript:alert(1)")
            )),
            ["https://mcp.example.com/.well-known/oauth-protected-resource"]
        );
    }

    #[test]
    fn as_metadata_is_looked_up_in_order() {
        assert_eq!(
            strs(&as_metadata_urls(&u("https://auth.example.com/tenant1"))),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server/tenant1",
                "https://auth.example.com/.well-known/openid-configuration/tenant1",
                "https://auth.example.com/tenant1/.well-known/openid-configuration",
            ]
        );
        assert_eq!(
            strs(&as_metadata_urls(&u("https://auth.example.com"))),
            [
                "https://auth.example.com/.well-known/oauth-authorization-server",
                "https://auth.example.com/.well-known/openid-configuration",
            ]
        );
        let (a, t, r) = legacy_default_endpoints(&u("http://localhost:3000/mcp"));
        assert_eq!(
            [a.as_str(), t.as_str(), r.as_str()],
            [
                "http://localhost:3000/authorize",
                "http://localhost:3000/token",
                "http://localhost:3000/register"
            ]
        );
        assert_eq!(
            legacy_as_metadata_url(&u("http://localhost:3000/mcp")).as_str(),
            "http://localhost:3000/.well-known/oauth-authorization-server"
        );
    }

    #[test]
    fn endpoints_are_http_s_and_plain_http_only_on_loopback() {
        assert!(check_endpoint("authorization_endpoint", "https://a.example/authorize").is_ok());
        assert!(check_endpoint("x", "http://127.0.0.1:9/authorize").is_ok());
        assert!(check_endpoint("x", "http://localhost/authorize").is_ok());
        assert!(check_endpoint("x", "http://[::1]:9/a").is_ok());
        let e = check_endpoint("authorization_endpoint", "http://a.example/authorize").unwrap_err();
        assert!(e.contains("not loopback"), "{e}");
        let e = check_endpoint("authorization_endpoint", "javascript:alert(1)").unwrap_err();
        assert!(e.contains("\"javascript\""), "{e}");
        assert!(check_endpoint("x", "not a url").is_err());
    }

    #[test]
    fn prm_must_name_servers_and_cover_the_resource() {
        let server = u("https://mcp.example.com/tenant/mcp");
        let ok = json!({"resource": "https://mcp.example.com/tenant", "authorization_servers": ["https://auth.example.com"], "scopes_supported": ["read"]});
        let prm = check_prm(&ok, &server).unwrap();
        assert_eq!(prm.authorization_servers, ["https://auth.example.com"]);
        assert_eq!(prm.scopes_supported, ["read"]);
        assert!(
            check_prm(
                &json!({"resource": "https://mcp.example.com/tenant/mcp/"}),
                &server
            )
            .is_err(),
            "no servers"
        );
        for other in [
            "https://evil.example/tenant/mcp",
            "https://mcp.example.com/ten",
            "https://mcp.example.com/other",
        ] {
            let doc =
                json!({"resource": other, "authorization_servers": ["https://auth.example.com"]});
            assert!(check_prm(&doc, &server).is_err(), "{other}");
        }
    }

    #[test]
    fn as_metadata_needs_its_issuer_and_s256() {
        let doc = json!({"issuer": "https://auth.example.com", "authorization_endpoint": "https://auth.example.com/a",
            "token_endpoint": "https://auth.example.com/t", "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["read", "offline_access"], "client_id_metadata_document_supported": true});
        let m = check_as_metadata(&doc, "https://auth.example.com").unwrap();
        assert!(m.client_id_metadata_document_supported);
        assert_eq!(
            scopes(&["read".into()], &[], &m),
            ["read", "offline_access"]
        );
        assert_eq!(
            scopes(&[], &["write".into()], &m),
            ["write", "offline_access"]
        );
        assert!(
            scopes(&[], &[], &m).is_empty(),
            "omitted, not offline_access alone"
        );
        let e = check_as_metadata(&doc, "https://auth.example.com/").unwrap_err();
        assert!(e.contains("issuer"), "{e}");
        let mut plain = doc.clone();
        plain["code_challenge_methods_supported"] = json!(["plain"]);
        assert!(
            check_as_metadata(&plain, "https://auth.example.com")
                .unwrap_err()
                .contains("not S256")
        );
        plain
            .as_object_mut()
            .unwrap()
            .remove("code_challenge_methods_supported");
        assert!(check_as_metadata(&plain, "https://auth.example.com").is_err());
    }
}

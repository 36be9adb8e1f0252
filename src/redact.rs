//! The one place that decides what is a secret and how it is hidden: environment values,
//! credential headers and query parameters. Targets, `http` events and exports all go through
//! here, so a new kind of secret is added once.

use std::collections::{BTreeMap, BTreeSet};

use reqwest::header::HeaderMap;
use serde_json::{Map, Value, json};
use url::Url;

/// What a hidden value reads as, everywhere.
pub const REDACTED: &str = "<redacted>";

/// Whether a header (or query parameter) name holds a credential: the usual credential headers,
/// any name that says token, secret, password, key, auth or credential (X-Auth-Key,
/// Ocp-Apim-Subscription-Key, X-Goog-Api-Key, …), and the names the user marked. The
/// challenge headers a server sends (`WWW-Authenticate`, what an OAuth debugger shows) are not
/// credentials.
pub fn is_secret_name(name: &str, extra: &BTreeSet<String>) -> bool {
    let n = name.to_ascii_lowercase();
    if extra.iter().any(|e| e.eq_ignore_ascii_case(&n)) {
        return true;
    }
    if matches!(n.as_str(), "www-authenticate" | "proxy-authenticate") {
        return false;
    }
    matches!(
        n.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || [
        "token",
        "secret",
        "password",
        "passwd",
        "key",
        "auth",
        "credential",
        "signature",
    ]
    .iter()
    .any(|s| n.contains(s))
}

/// Percent-encoding as RFC 3986 (and JavaScript's `encodeURIComponent`) leaves the unreserved
/// characters; Python's `quote` also leaves `/`.
const URI_COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
const PATH_KEPT: &percent_encoding::AsciiSet = &URI_COMPONENT.remove(b'/');

/// The ways a URL, a form or a server may percent-encode `secret` (RFC 3986, Python's `quote`,
/// every non-alphanumeric, form encoding's `+` for a space); none when it needs no encoding.
pub fn percent_spellings(secret: &str) -> Vec<String> {
    let mut out = Vec::new();
    for set in [URI_COMPONENT, PATH_KEPT, percent_encoding::NON_ALPHANUMERIC] {
        let encoded = percent_encoding::utf8_percent_encode(secret, set).to_string();
        if encoded != secret {
            if encoded.contains("%20") {
                out.push(encoded.replace("%20", "+"));
            }
            out.push(encoded);
        }
    }
    out.sort();
    out.dedup();
    out
}

/// `text` with every one of `secrets`, and each of its percent-encoded spellings (as a URL
/// holds it), replaced by the marker.
pub fn values_in(text: &str, secrets: &[String]) -> String {
    let mut spellings: Vec<String> = secrets
        .iter()
        .filter(|s| !s.is_empty())
        .flat_map(|s| percent_spellings(s).into_iter().chain([s.clone()]))
        .collect();
    // Longest first, so a secret that contains another is replaced whole.
    spellings.sort_by_key(|s| std::cmp::Reverse(s.len()));
    spellings
        .iter()
        .fold(text.to_owned(), |out, s| out.replace(s.as_str(), REDACTED))
}

/// Every value hidden, names kept: environment variables, where any value may be a token.
pub fn all_values(map: &BTreeMap<String, String>) -> Value {
    Value::Object(
        map.keys()
            .map(|k| (k.clone(), json!(REDACTED)))
            .collect::<Map<_, _>>(),
    )
}

/// The headers of one exchange: credential values hidden, the protocol's own headers (session
/// id, version, content type) kept, since they are what a user debugs.
pub fn header_map(headers: &HeaderMap, extra: &BTreeSet<String>) -> Value {
    let mut map = Map::new();
    for (name, value) in headers {
        let shown = if is_secret_name(name.as_str(), extra) {
            json!(REDACTED)
        } else {
            json!(String::from_utf8_lossy(value.as_bytes()))
        };
        map.insert(name.as_str().to_owned(), shown);
    }
    Value::Object(map)
}

/// The URL with its password and credential query parameters hidden.
pub fn url(url: &Url, extra: &BTreeSet<String>) -> String {
    if url.password().is_some() {
        // The marker is not valid userinfo; a stand-in that is goes through the serialiser.
        const STAND_IN: &str = "mcpscope-hidden-password";
        let mut hidden = url.clone();
        if hidden.set_password(Some(STAND_IN)).is_ok() {
            return query(&hidden, extra).replacen(STAND_IN, REDACTED, 1);
        }
    }
    query(url, extra)
}

/// The URL with credential query parameters hidden; every other parameter kept as it was
/// written (a `${…}` placeholder too: it names where a secret comes from and holds none).
fn query(url: &Url, extra: &BTreeSet<String>) -> String {
    let Some(q) = url.query() else {
        return url.to_string();
    };
    let mut hidden = false;
    let pieces: Vec<String> = q
        .split('&')
        .map(|piece| {
            let (raw_key, raw_value) = piece.split_once('=').unwrap_or((piece, ""));
            let key = percent_encoding::percent_decode_str(&raw_key.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned();
            let value = percent_encoding::percent_decode_str(raw_value).decode_utf8_lossy();
            let placeholder =
                value.starts_with("${") && value.ends_with('}') && value.matches("${").count() == 1;
            if is_secret_name(&key, extra) && !placeholder && !raw_value.is_empty() {
                hidden = true;
                format!("{raw_key}=%3Credacted%3E")
            } else {
                piece.to_owned()
            }
        })
        .collect();
    if !hidden {
        return url.to_string();
    }
    let mut shown = url.clone();
    shown.set_query(Some(&pieces.join("&")));
    shown.to_string()
}

/// A URL given as text: hidden parameters when it parses, the text as-is when it does not (it
/// cannot be connected to then, and the error names it).
pub fn url_text(text: &str, extra: &BTreeSet<String>) -> String {
    Url::parse(text).map_or_else(|_| text.to_owned(), |u| url(&u, extra))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_names_cover_credentials_and_what_the_user_marks() {
        let extra: BTreeSet<String> = ["X-Tenant".to_owned()].into();
        for name in [
            "Authorization",
            "cookie",
            "X-Api-Key",
            "x-auth-token",
            "client_secret",
            "x-tenant",
            // Regression: the catalog export showed these in clear.
            "X-Auth-Key",
            "Ocp-Apim-Subscription-Key",
        ] {
            assert!(is_secret_name(name, &extra), "{name}");
        }
        for name in [
            "mcp-session-id",
            "accept",
            "x-request-id",
            "www-authenticate",
            "keep-alive",
        ] {
            assert!(!is_secret_name(name, &extra), "{name}");
        }
    }

    #[test]
    fn urls_lose_credential_parameters_only() {
        let u = Url::parse("http://127.0.0.1:1/mcp?api_key=k&page=2").unwrap();
        let shown = url(&u, &BTreeSet::new());
        assert!(shown.contains("page=2") && !shown.contains("=k"), "{shown}");
        assert_eq!(url_text("not a url", &BTreeSet::new()), "not a url");
        let u = Url::parse("http://me:s3cr%20t@127.0.0.1:1/mcp?token=t").unwrap();
        assert_eq!(
            url(&u, &BTreeSet::new()),
            "http://me:<redacted>@127.0.0.1:1/mcp?token=%3Credacted%3E"
        );
    }

    #[test]
    fn environment_values_are_all_hidden() {
        let env: BTreeMap<String, String> = [("PATHISH".to_owned(), "x".to_owned())].into();
        assert_eq!(all_values(&env), json!({"PATHISH": REDACTED}));
    }
}

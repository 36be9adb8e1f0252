//! An app's Content Security Policy, built from its resource's `_meta.ui.csp` the way the MCP
//! Apps spec (2026-01-26) asks: default deny, each declared list opening only its directives,
//! and nothing undeclared. Entries that are not plain origins (keywords, `*`, a bare scheme such
//! as `https:`, a wildcard over a whole top-level domain, anything that could end a directive)
//! and entries naming mcpscope's own listeners are dropped and named, so a hostile server
//! cannot widen its own policy. Also maps a violated directive back to the `_meta.ui.csp` key that would allow it,
//! which is what a CSP finding tells the author.

use serde_json::Value;

/// What the sandbox applies to one view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Built {
    /// The `Content-Security-Policy` header value.
    pub header: String,
    /// The iframe's `allow` attribute (Permissions Policy), from `_meta.ui.permissions`.
    pub allow: String,
    /// Declared entries that were not applied, each with why.
    pub ignored: Vec<String>,
    /// The lists as applied (`connectDomains`, …; empty ones left out): what the host tells the
    /// view its sandbox allows.
    pub applied: Value,
}

/// The four lists a resource may declare, in the spec's order.
pub const KEYS: [&str; 4] = [
    "connectDomains",
    "resourceDomains",
    "frameDomains",
    "baseUriDomains",
];

/// Builds the policy for a resource whose `_meta.ui` holds `csp` and `permissions` (either may
/// be absent or null: then the restrictive default applies). `own_ports` are mcpscope's
/// listeners: a loopback entry that could reach them is refused.
pub fn build(csp: Option<&Value>, permissions: Option<&Value>, own_ports: &[u16]) -> Built {
    let mut ignored = Vec::new();
    let mut list = |key: &str| -> Vec<String> {
        let Some(v) = csp.and_then(|c| c.get(key)) else {
            return Vec::new();
        };
        let Some(items) = v.as_array() else {
            ignored.push(format!("{key}: not an array"));
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            match item.as_str().map(str::trim) {
                Some(s) if !is_source(s) => ignored.push(format!(
                    "{key}: {} is not an origin (scheme://host[:port])",
                    shown(s)
                )),
                Some(s) if names_us(s, own_ports) => {
                    ignored.push(format!("{key}: {} could reach mcpscope itself", shown(s)))
                }
                Some(s) => out.push(s.to_owned()),
                None => ignored.push(format!(
                    "{key}: {} is not a string",
                    shown(&item.to_string())
                )),
            }
        }
        out
    };
    let connect = list("connectDomains");
    let resource = list("resourceDomains");
    let frame = list("frameDomains");
    let base = list("baseUriDomains");
    if let Some(c) = csp.filter(|c| !c.is_null()) {
        match c.as_object() {
            Some(o) => {
                for k in o.keys().filter(|k| !KEYS.contains(&k.as_str())) {
                    ignored.push(format!("{}: not a key MCP Apps defines", shown(k)));
                }
            }
            None => ignored.push("csp: not an object".into()),
        }
    }
    let with = |fixed: &str, extra: &[String]| {
        let mut s = fixed.to_owned();
        for e in extra {
            s.push(' ');
            s.push_str(e);
        }
        s
    };
    let or_none = |extra: &[String], none: &str| {
        if extra.is_empty() {
            none.to_owned()
        } else {
            extra.join(" ")
        }
    };
    let header = [
        "default-src 'none'".to_owned(),
        with("script-src 'self' 'unsafe-inline'", &resource),
        with("style-src 'self' 'unsafe-inline'", &resource),
        with("img-src 'self' data:", &resource),
        with("font-src 'self'", &resource),
        with("media-src 'self' data:", &resource),
        format!("connect-src {}", or_none(&connect, "'none'")),
        format!("frame-src {}", or_none(&frame, "'none'")),
        "object-src 'none'".to_owned(),
        format!("base-uri {}", or_none(&base, "'self'")),
        "form-action 'none'".to_owned(),
    ]
    .join("; ");
    let mut applied = serde_json::Map::new();
    for (key, list) in KEYS.iter().zip([&connect, &resource, &frame, &base]) {
        if !list.is_empty() {
            applied.insert((*key).to_owned(), Value::from(list.clone()));
        }
    }
    Built {
        header,
        allow: allow(permissions, &mut ignored),
        ignored,
        applied: Value::Object(applied),
    }
}

/// Whether a source could name one of mcpscope's own listeners: a loopback host (or a wildcard
/// that covers one) on one of `ports`, any port, or none said.
fn names_us(source: &str, ports: &[u16]) -> bool {
    let rest = source.split_once("://").map_or(source, |(_, r)| r);
    let authority = rest.split('/').next().unwrap_or("");
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !authority.ends_with(']') => (h, Some(p)),
        _ => (authority, None),
    };
    let host = host.to_ascii_lowercase();
    let loopback = host == "localhost"
        || host.ends_with(".localhost")
        || host == "[::1]"
        || host.starts_with("127.")
        || host == "*.localhost";
    loopback
        && match port {
            None | Some("*") => true,
            Some(p) => p.parse::<u16>().is_ok_and(|p| ports.contains(&p)),
        }
}

/// The Permissions Policy features a view asked for, as an iframe `allow` value.
fn allow(permissions: Option<&Value>, ignored: &mut Vec<String>) -> String {
    const FEATURES: [(&str, &str); 4] = [
        ("camera", "camera"),
        ("microphone", "microphone"),
        ("geolocation", "geolocation"),
        ("clipboardWrite", "clipboard-write"),
    ];
    let Some(p) = permissions.and_then(Value::as_object) else {
        return String::new();
    };
    for k in p.keys() {
        if !FEATURES.iter().any(|(name, _)| name == k) {
            ignored.push(format!(
                "permissions: {} is not a permission MCP Apps defines",
                shown(k)
            ));
        }
    }
    FEATURES
        .iter()
        .filter(|(name, _)| p.contains_key(*name))
        .map(|(_, feature)| *feature)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A CSP source expression that names origins and nothing else: `https:`-style schemes,
/// `scheme://host[:port][/path]` with an optional `*.` subdomain wildcard, or a bare host.
/// Keywords (`'unsafe-eval'`), `*`, and separators (`;` `,` whitespace) are refused.
fn is_source(s: &str) -> bool {
    if s.is_empty() || s.len() > 512 {
        return false;
    }
    // A bare scheme (`https:`) allows every host of it: as wide as `*`.
    if s.ends_with(':') {
        return false;
    }
    let rest = match s.split_once("://") {
        Some((scheme, rest)) if is_scheme(scheme) => rest,
        Some(_) => return false,
        None => s,
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => (h, Some(p)),
        _ => (authority, None),
    };
    let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        !v6.is_empty()
            && v6
                .chars()
                .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
    } else {
        let (name, wild) = match host.strip_prefix("*.") {
            Some(n) => (n, true),
            None => (host, false),
        };
        // `*.com` covers a whole top-level domain.
        !name.is_empty()
            && (!wild || name.trim_matches('.').contains('.'))
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    };
    let port_ok = port.is_none_or(|p| {
        p == "*" || (!p.is_empty() && p.len() <= 5 && p.chars().all(|c| c.is_ascii_digit()))
    });
    let path_ok = path
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, ';' | ',' | '\'' | '"' | '\\'));
    host_ok && port_ok && path_ok
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// A server's string, quoted and cut short, for a message.
fn shown(s: &str) -> String {
    let cut: String = s.chars().take(80).collect();
    if cut.len() < s.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

/// The `_meta.ui.csp` key whose entries open `directive` (as a violation report names it:
/// `connect-src`, `script-src-elem`, …), or None when no key does (`object-src`, `form-action`,
/// inline code, eval).
pub fn key_for(directive: &str) -> Option<&'static str> {
    let base = directive
        .strip_suffix("-elem")
        .or_else(|| directive.strip_suffix("-attr"))
        .unwrap_or(directive);
    match base {
        "connect-src" => Some("connectDomains"),
        "script-src" | "style-src" | "img-src" | "font-src" | "media-src" => {
            Some("resourceDomains")
        }
        "frame-src" | "child-src" => Some("frameDomains"),
        "base-uri" => Some("baseUriDomains"),
        _ => None,
    }
}

/// The origin a blocked URL would need declared (`https://api.example.com`), if it is one.
pub fn origin_of(blocked: &str) -> Option<String> {
    let url = url::Url::parse(blocked).ok()?;
    match url.origin() {
        url::Origin::Tuple(..) => Some(url.origin().ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn no_metadata_is_the_restrictive_default() {
        let b = build(None, None, &[]);
        assert!(
            b.header
                .starts_with("default-src 'none'; script-src 'self' 'unsafe-inline';")
        );
        assert!(b.header.contains("connect-src 'none'"));
        assert!(b.header.contains("frame-src 'none'"));
        assert!(b.header.contains("object-src 'none'"));
        assert!(b.header.contains("base-uri 'self'"));
        assert_eq!(b.allow, "");
        assert!(b.ignored.is_empty());
    }

    #[test]
    fn declared_origins_open_only_their_directives() {
        let csp = json!({
            "connectDomains": ["https://api.example.com", "wss://live.example.com:8443"],
            "resourceDomains": ["https://*.cdn.example"],
            "frameDomains": ["https://www.youtube.com"],
            "baseUriDomains": ["https://base.example/app/"],
        });
        let b = build(
            Some(&csp),
            Some(&json!({"camera": {}, "clipboardWrite": {}})),
            &[6274],
        );
        assert!(
            b.header
                .contains("connect-src https://api.example.com wss://live.example.com:8443;")
        );
        assert!(
            b.header
                .contains("script-src 'self' 'unsafe-inline' https://*.cdn.example;")
        );
        assert!(b.header.contains("font-src 'self' https://*.cdn.example;"));
        assert!(b.header.contains("frame-src https://www.youtube.com;"));
        assert!(b.header.contains("base-uri https://base.example/app/;"));
        assert_eq!(b.allow, "camera; clipboard-write");
        assert!(b.ignored.is_empty(), "{:?}", b.ignored);
        assert_eq!(
            b.applied["connectDomains"],
            json!(["https://api.example.com", "wss://live.example.com:8443"])
        );
    }

    #[test]
    fn a_hostile_list_cannot_widen_the_policy() {
        let csp = json!({
            "connectDomains": ["*", "'unsafe-eval'", "https://a.example; script-src *",
                "https://ok.example", "javascript:", "https://b.example 'unsafe-inline'", 7],
            "resourceDomains": "https://x.example",
            "scriptDomains": ["https://y.example"],
        });
        let b = build(Some(&csp), Some(&json!({"usb": {}})), &[6274, 6275]);
        assert!(
            b.header.contains("connect-src https://ok.example;"),
            "{}",
            b.header
        );
        assert!(!b.header.contains("unsafe-eval"));
        assert!(!b.header.contains("x.example") && !b.header.contains("y.example"));
        assert_eq!(b.header.matches("script-src").count(), 1);
        assert_eq!(b.ignored.len(), 9, "{:?}", b.ignored);
        // As wide as `*`, or reaching mcpscope itself.
        let csp = json!({"resourceDomains": ["https:", "*.com", "https://*.com", "data:",
            "http://127.0.0.1:6274", "http://localhost:*", "http://v1.localhost:6275",
            "http://127.0.0.1", "http://localhost:3000", "https://*.cdn.example"]});
        let w = build(Some(&csp), None, &[6274, 6275]);
        assert_eq!(
            w.applied["resourceDomains"],
            json!(["http://localhost:3000", "https://*.cdn.example"]),
            "{:?}",
            w.ignored
        );
        assert_eq!(w.ignored.len(), 8, "{:?}", w.ignored);
        assert!(b.ignored.iter().any(|i| i.contains("scriptDomains")));
        assert!(b.ignored.iter().any(|i| i.contains("usb")));
    }

    #[test]
    fn violations_name_the_key_that_would_allow_them() {
        assert_eq!(key_for("connect-src"), Some("connectDomains"));
        assert_eq!(key_for("script-src-elem"), Some("resourceDomains"));
        assert_eq!(key_for("font-src"), Some("resourceDomains"));
        assert_eq!(key_for("frame-src"), Some("frameDomains"));
        assert_eq!(key_for("base-uri"), Some("baseUriDomains"));
        assert_eq!(key_for("object-src"), None);
        assert_eq!(
            origin_of("https://api.example.com:444/v1?q=1").as_deref(),
            Some("https://api.example.com:444")
        );
        assert_eq!(origin_of("inline"), None);
        assert_eq!(origin_of("data:text/plain,x"), None);
    }
}

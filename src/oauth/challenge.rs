//! `WWW-Authenticate` as RFC 9110 §11.6.1 writes it: one or more challenges, each a scheme and
//! `name=value` parameters (values a token or a quoted string with `\` escapes). MCP reads the
//! Bearer challenge's `resource_metadata`, `scope` and `error` (RFC 6750, RFC 9728). A header that
//! does not parse gives what could be read, never a panic: it is the server's text.

use std::collections::BTreeMap;

/// One challenge: its scheme (lower-cased) and parameters (names lower-cased, values as sent).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Challenge {
    pub scheme: String,
    pub params: BTreeMap<String, String>,
    /// A token68 credential-style value (`Basic abc==`), when the challenge has one.
    pub token68: Option<String>,
}

impl Challenge {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// The scopes the challenge asks for (space-separated `scope`).
    pub fn scopes(&self) -> Vec<String> {
        self.param("scope")
            .map(|s| s.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    }
}

/// Every challenge in the header, in order.
pub fn parse(header: &str) -> Vec<Challenge> {
    let mut out = Vec::new();
    let mut p = Parser {
        s: header.as_bytes(),
        i: 0,
    };
    loop {
        p.skip_separators();
        if p.done() {
            break;
        }
        let Some(scheme) = p.token() else {
            p.i += 1; // a stray byte: skip it rather than stop reading
            continue;
        };
        let mut c = Challenge {
            scheme: scheme.to_ascii_lowercase(),
            ..Default::default()
        };
        p.skip_spaces();
        // A token68 (`Basic abc==`) stands alone up to the next comma or the end.
        let save = p.i;
        if let Some(t) = p.token68() {
            p.skip_spaces();
            if matches!(p.peek(), None | Some(b',')) {
                c.token68 = Some(t);
            } else {
                p.i = save;
            }
        }
        // Parameters, until a word without `=` (the next scheme) or the end.
        loop {
            p.skip_separators();
            let save = p.i;
            let Some(name) = p.token() else {
                break;
            };
            p.skip_spaces();
            if p.peek() != Some(b'=') {
                p.i = save;
                break;
            }
            p.i += 1;
            p.skip_spaces();
            let value = p.value();
            c.params.insert(name.to_ascii_lowercase(), value);
        }
        out.push(c);
    }
    out
}

/// The first Bearer challenge, which is the one MCP reads.
pub fn bearer(header: &str) -> Option<Challenge> {
    parse(header).into_iter().find(|c| c.scheme == "bearer")
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl Parser<'_> {
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.i += 1;
        }
    }

    fn skip_separators(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.i += 1;
        }
    }

    fn token(&mut self) -> Option<String> {
        let start = self.i;
        while self.peek().is_some_and(is_tchar) {
            self.i += 1;
        }
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// token68: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
    fn token68(&mut self) -> Option<String> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
        {
            self.i += 1;
        }
        if self.i == start {
            return None;
        }
        while self.peek() == Some(b'=') {
            self.i += 1;
        }
        Some(String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }

    /// A parameter value: a quoted string (escapes undone) or a token.
    fn value(&mut self) -> String {
        if self.peek() != Some(b'"') {
            let start = self.i;
            while self
                .peek()
                .is_some_and(|b| b != b',' && b != b' ' && b != b'\t')
            {
                self.i += 1;
            }
            return String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        }
        self.i += 1;
        let mut out = Vec::new();
        while let Some(b) = self.peek() {
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    if let Some(n) = self.peek() {
                        out.push(n);
                        self.i += 1;
                    }
                }
                _ => out.push(b),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mcp_bearer_challenge() {
        let c = bearer(r#"Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", scope="files:read files:write""#).unwrap();
        assert_eq!(
            c.param("resource_metadata"),
            Some("https://mcp.example.com/.well-known/oauth-protected-resource")
        );
        assert_eq!(c.scopes(), ["files:read", "files:write"]);
        assert_eq!(c.param("error"), None);
    }

    #[test]
    fn insufficient_scope_with_escapes_and_tokens() {
        let c = bearer(
            r#"Bearer error=insufficient_scope, scope="a b", error_description="needs \"b\"""#,
        )
        .unwrap();
        assert_eq!(c.param("error"), Some("insufficient_scope"));
        assert_eq!(c.param("error_description"), Some(r#"needs "b""#));
        assert_eq!(c.scopes(), ["a", "b"]);
    }

    #[test]
    fn several_challenges_and_names_in_any_case() {
        let all = parse(r#"Basic realm="x", BEARER Realm="mcp", scope="s", Negotiate abc=="#);
        let schemes: Vec<&str> = all.iter().map(|c| c.scheme.as_str()).collect();
        assert_eq!(schemes, ["basic", "bearer", "negotiate"]);
        assert_eq!(all[1].param("realm"), Some("mcp"));
        assert_eq!(all[2].token68.as_deref(), Some("abc=="));
        assert_eq!(bearer("Basic realm=x"), None);
    }

    #[test]
    fn junk_gives_what_could_be_read() {
        assert_eq!(parse(""), vec![]);
        let c = bearer(r#"Bearer scope="unterminated"#).unwrap();
        assert_eq!(c.param("scope"), Some("unterminated"));
        assert!(!parse(",,, =\"x\" ;;; Bearer").is_empty());
        assert_eq!(bearer("Bearer").unwrap().params.len(), 0);
    }
}

//! Writing a recording: the header, then the session's retained events as the ring holds them,
//! streamed in chunks so a 100,000-event session is never one string in memory. Events are
//! already redacted where they are made; what a server echoes back (an env var a tool prints,
//! a header a proxy reflects) is not, so every secret value the session was given is replaced
//! by the redaction marker wherever it appears in a line.

use std::{io::Write, sync::Arc};

use axum::body::Bytes;
use tokio::sync::mpsc;

use super::{Header, time_of};
use crate::{events::EventBus, redact::REDACTED};

/// Events read from the ring per chunk.
const CHUNK: usize = 1024;
/// Secret values shorter than this are not scrubbed: replacing "1" or "on" everywhere would
/// wreck the file and protect nothing.
const MIN_SECRET: usize = 4;
/// How deep strings inside strings are opened (a stderr line printing a JSON frame that quotes
/// a value is two levels).
const MAX_DEPTH: usize = 3;

/// The values to scrub, and the spellings of each that a server may echo: the value itself
/// (compared with the *decoded* text of every JSON string, so `\u00e4`, `\/` and any other
/// escape spell it too), percent-encoded, and in base64 (standard and URL-safe, at each of the
/// three byte alignments, so a secret inside a longer encoded text such as `Basic
/// base64(user:secret)` is found). Not covered: hashes, other encodings (hex, gzip), a value
/// split across strings, or one a server transformed.
#[derive(Debug, Default, Clone)]
pub struct Secrets {
    /// Every spelling, longest first, so a secret that contains another is replaced whole.
    spellings: Vec<String>,
    /// A searcher per spelling, built once: export asks every line of a session.
    finders: Vec<memchr::memmem::Finder<'static>>,
}

impl Secrets {
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        let mut v: Vec<String> = Vec::new();
        for s in values {
            if s.chars().count() < MIN_SECRET {
                continue;
            }
            v.extend(crate::redact::percent_spellings(&s));
            v.extend(base64_spellings(s.as_bytes()));
            v.push(s);
        }
        v.sort_by_key(|s| std::cmp::Reverse(s.len()));
        v.dedup();
        let finders = v
            .iter()
            .map(|s| memchr::memmem::Finder::new(s.as_bytes()).into_owned())
            .collect();
        Secrets {
            spellings: v,
            finders,
        }
    }

    /// The line with every JSON string holding a secret (in any spelling above) rewritten with
    /// the secret replaced by the marker; every other byte of the line as it was.
    pub fn scrub<'a>(&self, line: &'a str) -> std::borrow::Cow<'a, str> {
        if self.spellings.is_empty() || (!line.contains('\\') && !self.found_in(line)) {
            return std::borrow::Cow::Borrowed(line);
        }
        match self.scrub_strings(line, 0) {
            Some(changed) => std::borrow::Cow::Owned(changed),
            None => std::borrow::Cow::Borrowed(line),
        }
    }

    fn found_in(&self, text: &str) -> bool {
        self.finders
            .iter()
            .any(|f| f.find(text.as_bytes()).is_some())
    }

    /// Every quoted string of `text` decoded and, where it (or a string inside it) holds a
    /// secret, written again without it. At depth 0 `text` is an event line: only its string
    /// values are touched (never its structure, numbers or object keys). Deeper, `text` is
    /// what a server wrote inside a string, so the text between its quotes is searched too.
    /// None when nothing changed.
    fn scrub_strings(&self, text: &str, depth: usize) -> Option<String> {
        let mut out = String::new();
        let mut copied = 0;
        let mut at = 0;
        let bytes = text.as_bytes();
        while let Some(open) = memchr::memchr(b'"', &bytes[at..]).map(|i| at + i) {
            let Some(close) = string_end(bytes, open) else {
                break;
            };
            at = close + 1;
            if depth == 0 && text[close + 1..].trim_start().starts_with(':') {
                continue;
            }
            let decoded = unescape(&text[open + 1..close]);
            if let Some(clean) = self.scrub_text(&decoded, depth) {
                out.push_str(&text[copied..open]);
                out.push_str(&serde_json::to_string(&clean).expect("a string serialises"));
                copied = close + 1;
            }
        }
        if depth == 0 {
            if copied == 0 {
                return None;
            }
            out.push_str(&text[copied..]);
            return Some(out);
        }
        if copied == 0 && !self.found_in(text) {
            return None;
        }
        out.push_str(&text[copied..]);
        Some(self.replace_plain(&out).unwrap_or(out))
    }

    /// A decoded string's own text: strings quoted inside it (JSON a server printed) opened in
    /// turn, then every spelling replaced. Where quotes do not pair up (a stray quote, an
    /// escape JSON does not know, nesting deeper than we open), every escape is undone at once
    /// as a last look, and a secret found that way takes the whole text with it.
    fn scrub_text(&self, text: &str, depth: usize) -> Option<String> {
        let mut result = if depth < MAX_DEPTH && text.contains('"') {
            self.scrub_strings(text, depth + 1)
        } else {
            None
        };
        if let Some(r) = self.replace_plain(result.as_deref().unwrap_or(text)) {
            result = Some(r);
        }
        let mut flat = result.as_deref().unwrap_or(text).to_owned();
        for _ in 0..=MAX_DEPTH {
            if !flat.contains('\\') {
                break;
            }
            let next = unescape(&flat).into_owned();
            if next == flat {
                break;
            }
            flat = next;
            if let Some(clean) = self.replace_plain(&flat) {
                return Some(clean);
            }
        }
        result
    }

    fn replace_plain(&self, text: &str) -> Option<String> {
        let mut out: Option<String> = None;
        for (s, f) in self.spellings.iter().zip(&self.finders) {
            let current = out.as_deref().unwrap_or(text);
            if f.find(current.as_bytes()).is_some() {
                out = Some(current.replace(s.as_str(), REDACTED));
            }
        }
        out
    }
}

/// A JSON string's body with its escapes undone, never failing: a lone surrogate becomes
/// U+FFFD and an escape JSON does not know stays as written (servers write both).
fn unescape(body: &str) -> std::borrow::Cow<'_, str> {
    if !body.contains('\\') {
        return std::borrow::Cow::Borrowed(body);
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('"') => out.push('"'),
            Some('\\') => out.push('\\'),
            Some('/') => out.push('/'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('u') => {
                let hex: String = chars.clone().take(4).collect();
                let Some(unit) = u16::from_str_radix(&hex, 16)
                    .ok()
                    .filter(|_| hex.len() == 4)
                else {
                    out.push_str("\\u");
                    continue;
                };
                for _ in 0..4 {
                    chars.next();
                }
                if (0xD800..0xDC00).contains(&unit) {
                    // A high surrogate: a low one must follow for a character.
                    let rest: String = chars.clone().take(6).collect();
                    let low = rest
                        .strip_prefix("\\u")
                        .and_then(|h| u16::from_str_radix(h, 16).ok())
                        .filter(|l| (0xDC00..0xE000).contains(l));
                    if let Some(low) = low {
                        for _ in 0..6 {
                            chars.next();
                        }
                        let code = 0x10000
                            + ((u32::from(unit) - 0xD800) << 10)
                            + (u32::from(low) - 0xDC00);
                        out.push(char::from_u32(code).unwrap_or('\u{fffd}'));
                    } else {
                        out.push('\u{fffd}');
                    }
                } else {
                    out.push(char::from_u32(u32::from(unit)).unwrap_or('\u{fffd}'));
                }
            }
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Where the JSON string opening at `open` closes (escapes skipped), if it does.
fn string_end(bytes: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// The stretches of base64 text that spell `secret` whatever bytes surround it: for each of the
/// three alignments, the characters that depend on the secret's bytes alone, in the standard
/// and the URL-safe alphabet.
fn base64_spellings(secret: &[u8]) -> Vec<String> {
    use base64::Engine as _;
    let mut out = Vec::new();
    for skip in 0..3usize {
        let mut padded = vec![0u8; skip];
        padded.extend_from_slice(secret);
        let full = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&padded);
        // Characters mixing the stand-in bytes (the first) or the unknown bytes after the
        // secret (the last, when it ends mid-group) are dropped.
        let first = (skip * 8).div_ceil(6);
        let last = (padded.len() * 8) / 6;
        if last <= first + MIN_SECRET {
            continue;
        }
        let stable = &full[first..last];
        out.push(stable.to_owned());
        out.push(stable.replace('+', "-").replace('/', "_"));
    }
    out
}

/// The header as the file's first line. It holds server-sent text too (serverInfo), so it is
/// scrubbed like any other line.
fn header_line(header: &Header, secrets: &Secrets) -> String {
    let mut line = secrets
        .scrub(&serde_json::to_string(header).expect("the header serialises"))
        .into_owned();
    line.push('\n');
    line
}

/// The time of the session's oldest retained event (the header's `startedAt`).
pub fn started_at(bus: &EventBus, session: &str) -> Option<String> {
    let mut after = 0;
    loop {
        let batch = bus.next_after(after, CHUNK);
        let last = batch.records.last()?.seq;
        if let Some(r) = batch
            .records
            .iter()
            .find(|r| r.session.as_deref() == Some(session))
        {
            return time_of(&r.json).map(str::to_owned);
        }
        after = last;
    }
}

/// This machine's seal of what a replay of the file would do (`seal.rs`), read from the event
/// lines as the file will hold them (scrubbed), up to `until`.
fn seal_of(
    bus: &EventBus,
    session: &str,
    until: u64,
    header: &Header,
    secrets: &Secrets,
) -> Option<String> {
    let mut events = Vec::new();
    let mut after = 0;
    while after < until {
        let batch = bus.next_after(after, CHUNK);
        let Some(last) = batch.records.last().map(|r| r.seq) else {
            break;
        };
        for r in batch.records.iter().filter(|r| r.seq <= until) {
            // The plan reads frames with an id (notifications, a flood's bulk, play no part)
            // and the `connecting` states that start a connection.
            // The event's own `frameType` is the last one in the line (the frame's text comes
            // before it, and any quote inside a string is escaped).
            let wanted = if r.json.contains(r#""kind":"frame""#) {
                !r.json[r.json.rfind(r#""frameType":"#).unwrap_or(0)..]
                    .starts_with(r#""frameType":"notification""#)
            } else {
                r.json.contains(r#""kind":"state""#)
            };
            if wanted
                && r.session.as_deref() == Some(session)
                && let Ok(e) = crate::events::read(&secrets.scrub(&r.json))
            {
                events.push(e);
            }
        }
        after = last;
    }
    let plan = super::replay::Plan::read(events);
    // The target as the header line will hold it: scrubbed like every line.
    let target = header.target.as_ref().map(|t| {
        serde_json::from_str::<serde_json::Value>(&secrets.scrub(&t.to_string()))
            .unwrap_or_else(|_| t.clone())
    });
    super::seal::seal(&super::seal::covered(target.as_ref(), plan.sealed_view()))
}

/// The recording as a stream of chunks: the header line, then every retained event of
/// `session` up to the newest one at the time of the call (a live session's file ends). With
/// `reseal`, the header gets this machine's seal of the file (an opened recording keeps its
/// own header, so a file from elsewhere never gains one).
pub fn stream(
    bus: EventBus,
    session: Arc<str>,
    mut header: Header,
    secrets: Secrets,
    reseal: bool,
) -> mpsc::Receiver<Result<Bytes, std::convert::Infallible>> {
    let (tx, rx) = mpsc::channel(4);
    let until = bus.newest_seq();
    tokio::spawn(async move {
        if reseal {
            header.seal = seal_of(&bus, &session, until, &header, &secrets);
        }
        let head = header_line(&header, &secrets);
        if tx.send(Ok(Bytes::from(head))).await.is_err() {
            return;
        }
        let mut after = 0;
        while after < until {
            let batch = bus.next_after(after, CHUNK);
            let Some(last) = batch.records.last().map(|r| r.seq) else {
                break;
            };
            let mut chunk = String::new();
            for r in batch.records.iter().filter(|r| r.seq <= until) {
                if r.session.as_deref() == Some(&*session) {
                    chunk.push_str(&secrets.scrub(&r.json));
                    chunk.push('\n');
                }
            }
            after = last;
            if !chunk.is_empty() && tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                return;
            }
        }
    });
    rx
}

/// Writes a session's recording to a file at once (for `lint --save` and `replay --save`, whose
/// sessions have ended).
pub fn save(
    bus: &EventBus,
    session: &str,
    info: &crate::session::SessionInfo,
    secrets: &Secrets,
    path: &std::path::Path,
) -> std::io::Result<()> {
    let mut header = Header::for_session(bus, session, info);
    header.seal = seal_of(bus, session, bus.newest_seq(), &header, secrets);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    out.write_all(header_line(&header, secrets).as_bytes())?;
    let mut after = 0;
    loop {
        let batch = bus.next_after(after, CHUNK);
        let Some(last) = batch.records.last().map(|r| r.seq) else {
            break;
        };
        for r in batch
            .records
            .iter()
            .filter(|r| r.session.as_deref() == Some(session))
        {
            out.write_all(secrets.scrub(&r.json).as_bytes())?;
            out.write_all(b"\n")?;
        }
        after = last;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_found_in_every_spelling_a_server_may_echo() {
        // Regression: only the exact JSON-escaped text was replaced, so an echo spelled with
        // other escapes survived in the file.
        let s = Secrets::new(["pässwörd", "a&b<c>d", "abc/def", "tok-5e0b27aa"].map(str::to_owned));
        for (line, gone) in [
            (r#"{"t":"p\u00e4ssw\u00f6rd"}"#, "p\\u00e4ssw"),
            (r#"{"t":"a\u0026b\u003cc\u003ed"}"#, "u0026b"),
            (r#"{"t":"x abc\/def y"}"#, "abc\\/def"),
            (r#"{"t":"\u0074ok-5e0b27aa"}"#, "ok-5e0b27aa"),
            // Percent-encoded, and base64 inside a longer encoded text (Basic user:secret).
            (r#"{"t":"?k=p%C3%A4ssw%C3%B6rd"}"#, "p%C3%A4ss"),
            (
                r#"{"t":"Basic dXNlcjp0b2stNWUwYjI3YWE="}"#,
                "0b2stNWUwYjI3YWE",
            ),
            // A stderr line printing JSON that escapes the value: a string inside a string.
            (r#"{"line":"{\"t\":\"p\\u00e4ssw\\u00f6rd\"}"}"#, "u00e4ssw"),
        ] {
            let out = s.scrub(line);
            assert!(out.contains(REDACTED), "{line} → {out}");
            assert!(!out.contains(gone), "{line} → {out}");
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert!(v.is_object(), "{out}");
        }
        // Review findings: a lone surrogate beside the escaped secret; a stray quote in printed
        // text; an escape JSON does not know; nesting deeper than strings are opened.
        for line in [
            r#"{"t":"\u0074ok-5e0b27aa\ud800"}"#,
            r#"{"line":"5\" screen {\"k\":\"\\u0074ok-5e0b27aa\"}"}"#,
            r#"{"line":"C:\\dir \\q {\"k\":\"\\u0074ok-5e0b27aa\"}"}"#,
            r#"{"a":"{\"b\":\"{\\\"c\\\":\\\"{\\\\\\\"d\\\\\\\":\\\\\\\"\\\\\\\\u0074ok-5e0b27aa\\\\\\\"}\\\"}\"}"}"#,
        ] {
            let out = s.scrub(line);
            assert!(!out.contains("ok-5e0b27aa"), "{line} → {out}");
            let _: serde_json::Value = serde_json::from_str(&out).unwrap();
        }
        // Regression (review): a short value such as `true` or a port broke the line's
        // structure and keys; only string values change now.
        let s2 = Secrets::new(["true".to_owned(), "3000".to_owned(), "kind".to_owned()]);
        let line = r#"{"seq":13000,"kind":"frame","message":{"isError":true,"x":"at 3000"}}"#;
        assert_eq!(
            s2.scrub(line),
            r#"{"seq":13000,"kind":"frame","message":{"isError":true,"x":"at <redacted>"}}"#
        );
        // A line without a secret is left as it was, byte for byte.
        let plain = r#"{"t":"caf\u00e9","n":1}"#;
        assert!(matches!(s.scrub(plain), std::borrow::Cow::Borrowed(_)));
    }

    #[test]
    fn secrets_are_scrubbed_as_json_text_and_short_values_are_left() {
        let s = Secrets::new(["sk-\"live\"-123".to_owned(), "on".to_owned()]);
        let line = r#"{"text":"key=sk-\"live\"-123 on"}"#;
        assert_eq!(s.scrub(line), r#"{"text":"key=<redacted> on"}"#);
    }
}

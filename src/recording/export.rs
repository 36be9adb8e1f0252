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

/// The values to scrub, as they appear inside JSON strings.
#[derive(Debug, Default, Clone)]
pub struct Secrets(Vec<String>);

impl Secrets {
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        let mut v: Vec<String> = values
            .into_iter()
            .filter(|s| s.chars().count() >= MIN_SECRET)
            .map(|s| {
                let quoted = serde_json::to_string(&s).expect("a string serialises");
                quoted[1..quoted.len() - 1].to_owned()
            })
            .collect();
        // Longest first, so a secret that contains another is replaced whole.
        v.sort_by_key(|s| std::cmp::Reverse(s.len()));
        v.dedup();
        Secrets(v)
    }

    pub fn scrub<'a>(&self, line: &'a str) -> std::borrow::Cow<'a, str> {
        let mut out = std::borrow::Cow::Borrowed(line);
        for s in &self.0 {
            if out.contains(s.as_str()) {
                out = std::borrow::Cow::Owned(out.replace(s.as_str(), REDACTED));
            }
        }
        out
    }
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

/// The recording as a stream of chunks: the header line, then every retained event of
/// `session` up to the newest one at the time of the call (a live session's file ends).
pub fn stream(
    bus: EventBus,
    session: Arc<str>,
    header: Header,
    secrets: Secrets,
) -> mpsc::Receiver<Result<Bytes, std::convert::Infallible>> {
    let (tx, rx) = mpsc::channel(4);
    let until = bus.newest_seq();
    tokio::spawn(async move {
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
    let header = Header::for_session(bus, session, info);
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
    fn secrets_are_scrubbed_as_json_text_and_short_values_are_left() {
        let s = Secrets::new(["sk-\"live\"-123".to_owned(), "on".to_owned()]);
        let line = r#"{"text":"key=sk-\"live\"-123 on"}"#;
        assert_eq!(s.scrub(line), r#"{"text":"key=<redacted> on"}"#);
    }
}

//! Recordings: one session's events as a file. NDJSON, a header line (`mcpscopeRecording`,
//! `version`, `target`, `era`, `startedAt`, …) and then each retained event exactly as the event
//! stream carried it, with the secrets the session knows scrubbed (`export.rs`). Read back here
//! for `mcpscope open` (the events keep their seq, time and session) and for replay and lint.

pub mod diff;
pub mod export;
pub mod open;
pub mod replay;
pub mod seal;

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::events::{Record, Stamped};

/// The format number in the header line; a reader refuses any other.
pub const FORMAT: u64 = 1;

/// The first line of a recording.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    pub mcpscope_recording: u64,
    /// The mcpscope version that wrote it.
    pub version: String,
    /// The target as the session object describes it (secret values redacted).
    pub target: Option<Value>,
    pub era: Option<String>,
    /// The time of the first event in the file (RFC 3339), None for an empty recording.
    pub started_at: Option<String>,
    /// The session's id and name in the process that recorded it.
    pub session: String,
    #[serde(default)]
    pub name: Option<String>,
    /// The session object when it was exported: server info, capabilities, protocol version.
    #[serde(default)]
    pub server_info: Option<Value>,
    #[serde(default)]
    pub protocol_version: Option<String>,
    /// This machine's seal of the target and of the replay plan the events make (see
    /// `seal.rs`): absent, or not ours, and replay sends nothing until the user has seen what
    /// it would start and send, and said so.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seal: Option<String>,
}

impl Header {
    /// The header of a live session's recording, as of now.
    pub fn for_session(
        bus: &crate::events::EventBus,
        id: &str,
        info: &crate::session::SessionInfo,
    ) -> Header {
        Header {
            mcpscope_recording: FORMAT,
            version: env!("CARGO_PKG_VERSION").into(),
            target: info.target.clone(),
            era: info.era.map(|e| e.as_str().to_owned()),
            started_at: export::started_at(bus, id),
            session: id.to_owned(),
            name: info.name.clone(),
            server_info: info.server_info.clone(),
            protocol_version: info.protocol_version.clone(),
            // Made by export, from the lines as the file holds them.
            seal: None,
        }
    }
}

/// A recording read from a file: its header and its events, in order.
#[derive(Debug)]
pub struct Recording {
    pub header: Header,
    pub events: Vec<Record>,
}

/// The largest seq a recording may carry. The browser reads seqs as exact numbers (up to
/// 2^53 - 1), and the events that follow an opened recording are numbered after its last one,
/// so half that range stays free for them.
const MAX_SEQ: u64 = 1 << 52;

/// What every event line must carry, read without building the rest of the line.
#[derive(Deserialize)]
struct Head {
    seq: u64,
    #[serde(default)]
    session: Option<String>,
}

impl Recording {
    pub fn read(path: &Path) -> Result<Recording, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Recording::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses a recording's text. Every event line must be an event of the header's session,
    /// with seqs rising: that is what lets `open` keep them as they were.
    pub fn parse(text: &str) -> Result<Recording, String> {
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let (_, first) = lines
            .next()
            .ok_or("empty file: not an mcpscope recording")?;
        let header: Header = serde_json::from_str(first)
            .map_err(|e| format!("line 1 is not an mcpscope recording header ({e})"))?;
        if header.mcpscope_recording != FORMAT {
            return Err(format!(
                "recording format {} (this mcpscope reads format {FORMAT})",
                header.mcpscope_recording
            ));
        }
        // The id goes into the ring and the UI as it is: only the shape mcpscope gives ids, with
        // room to number the sessions opened after it.
        let number = header
            .session
            .strip_prefix('s')
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u32>().ok());
        if number.is_none_or(|n| n == u32::MAX) {
            return Err(format!(
                "line 1: session {:?} is not a session id of mcpscope (s1, s2, …)",
                header.session
            ));
        }
        let mut events = Vec::new();
        let mut last = 0;
        for (n, line) in lines {
            let head: Head = serde_json::from_str(line)
                .map_err(|e| format!("line {}: not an event ({e})", n + 1))?;
            if head.seq <= last {
                return Err(format!("line {}: seq {} does not rise", n + 1, head.seq));
            }
            // Seqs go on from the last one, and the browser reads them as exact numbers.
            if head.seq > MAX_SEQ {
                return Err(format!(
                    "line {}: seq {} is beyond what mcpscope numbers ({MAX_SEQ})",
                    n + 1,
                    head.seq
                ));
            }
            if head.session.as_deref() != Some(header.session.as_str()) {
                return Err(format!(
                    "line {}: an event of another session ({:?})",
                    n + 1,
                    head.session
                ));
            }
            last = head.seq;
            events.push(Record {
                seq: head.seq,
                session: Some(header.session.as_str().into()),
                json: line.to_owned(),
            });
        }
        Ok(Recording { header, events })
    }

    /// Each event as JSON, in order (for replay and lint, which read them whole).
    /// The recording's events, typed (a line of a kind this build does not know is skipped).
    pub fn stamped(&self) -> impl Iterator<Item = Stamped> + '_ {
        self.events.iter().filter_map(|r| r.read().ok())
    }
}

/// A session's retained events, typed, oldest first (for lint and replay of a live session).
pub fn session_events(bus: &crate::events::EventBus, session: &str) -> Vec<Stamped> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let batch = bus.next_after(after, 4096);
        let Some(last) = batch.records.last().map(|r| r.seq) else {
            return out;
        };
        out.extend(
            batch
                .records
                .iter()
                .filter(|r| r.session.as_deref() == Some(session))
                .filter_map(|r| r.read().ok()),
        );
        after = last;
    }
}

/// The `time` of an event line we wrote (`{"seq":N,"time":"…",…`), without parsing the line.
pub(crate) fn time_of(json: &str) -> Option<&str> {
    let start = json.find(",\"time\":\"")? + 9;
    let len = json[start..].find('"')?;
    Some(&json[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"mcpscopeRecording":1,"version":"0.1.0","target":null,"era":"legacy","startedAt":null,"session":"s2"}"#;

    #[test]
    fn reads_what_export_writes_and_refuses_the_rest() {
        let text = format!(
            "{HEADER}\n{}\n{}\n",
            r#"{"seq":4,"time":"2026-01-01T00:00:00Z","session":"s2","kind":"stderr","line":"a"}"#,
            r#"{"seq":9,"time":"2026-01-01T00:00:01Z","session":"s2","kind":"stderr","line":"b"}"#
        );
        let r = Recording::parse(&text).unwrap();
        assert_eq!(r.events.iter().map(|e| e.seq).collect::<Vec<_>>(), [4, 9]);
        assert_eq!(time_of(&r.events[1].json), Some("2026-01-01T00:00:01Z"));
        assert!(Recording::parse("{}").unwrap_err().contains("header"));
        let backwards = format!(
            "{HEADER}\n{}\n{}\n",
            r#"{"seq":9,"session":"s2","kind":"stderr"}"#,
            r#"{"seq":4,"session":"s2","kind":"stderr"}"#
        );
        assert!(Recording::parse(&backwards).unwrap_err().contains("rise"));
        let other = format!("{HEADER}\n{}\n", r#"{"seq":9,"session":"s1","kind":"x"}"#);
        assert!(
            Recording::parse(&other)
                .unwrap_err()
                .contains("another session")
        );
    }

    #[test]
    fn refuses_ids_and_seqs_mcpscope_never_writes() {
        // Regression: the id was spliced into event JSON and the session numbering unchecked.
        for id in [
            r#"s1\",\"kind"#,
            "x1",
            "s",
            "s-1",
            "s4294967295",
            "s99999999999",
        ] {
            let header = HEADER.replace(r#""s2""#, &serde_json::to_string(id).unwrap());
            let err = Recording::parse(&header).unwrap_err();
            assert!(err.contains("not a session id"), "{id}: {err}");
        }
        let huge = format!(
            "{HEADER}\n{}\n",
            r#"{"seq":18446744073709551615,"session":"s2","kind":"stderr"}"#
        );
        assert!(Recording::parse(&huge).unwrap_err().contains("beyond"));
        // Regression: 2^53 - 1 was accepted, and every event after it passed JavaScript's exact
        // integers.
        let edge = format!(
            "{HEADER}\n{}\n",
            r#"{"seq":9007199254740991,"session":"s2","kind":"stderr"}"#
        );
        assert!(Recording::parse(&edge).unwrap_err().contains("beyond"));
    }
}

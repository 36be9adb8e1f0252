//! What a tap or a proxy tells a running mcpscope, and how it travels: one streamed request
//! body of records, each a short header line `TAG LEN AT\n` and then `LEN` bytes and `\n`.
//! Frames travel as the bytes that crossed (invalid UTF-8 included, so the finding about it is
//! made where every finding is made), never re-encoded as JSON strings.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The largest frame a tap reports: a bigger one still passes between client and server, and
/// the report says only that it passed and how big it was.
pub const MAX_REPORTED: usize = 64 << 20;
/// The longest stderr line a report carries (a longer one is reported as its length).
pub const MAX_STDERR: usize = 1 << 20;
/// The longest header line (tag, length, time).
const MAX_HEADER: usize = 64;

/// Whose line a frame is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    Client,
    Server,
}

/// The first record: what is tapped.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Hello {
    /// The name the session gets (`--name`, else the command's).
    pub name: Option<String>,
    /// How the client reaches the server: `stdio` (tap) or `http` / `sse` (proxy).
    pub transport: String,
    /// The server's command and arguments (tap).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    /// The upstream URL (proxy) and where clients connect (`listen`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    /// The tap's process id, and the server's.
    pub pid: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_pid: Option<u32>,
    /// The report began after the connection did (mcpscope was started, or came back, later):
    /// what passed before is not in it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub late: bool,
    /// Secret values the server was given (environment values with secret-looking names, the
    /// client's credentials): never shown, only scrubbed from exports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<String>,
}

/// One record of a report.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// What is tapped (JSON of [`Hello`]).
    Hello(Value),
    /// A line one peer wrote, without its terminator, at `at_us` on the tap's clock.
    Frame {
        from: Peer,
        at_us: u64,
        bytes: Vec<u8>,
    },
    /// A frame that passed but was too big to report.
    Skipped { from: Peer, at_us: u64, len: u64 },
    /// A line the server wrote to stderr.
    Stderr { at_us: u64, line: Vec<u8> },
    /// One HTTP exchange the proxy relayed (an `http` event's JSON, secrets already hidden).
    Http(Value),
    /// Records the tap could not send in time (its queue was full): lost to the report only.
    Dropped(u64),
    /// The server exited (`{"code", "signal"}`).
    Exit(Value),
    /// A credential the client sent (an `Authorization` value): never shown, only scrubbed from
    /// exports, since a server may echo it.
    Secret(String),
}

impl Report {
    /// The record as it travels.
    pub fn encode(&self) -> Vec<u8> {
        let json = |v: &Value| v.to_string().into_bytes();
        let (tag, at, body): (&str, u64, Vec<u8>) = match self {
            Report::Hello(v) => ("hello", 0, json(v)),
            Report::Frame { from, at_us, bytes } => (peer_tag(*from), *at_us, bytes.clone()),
            Report::Skipped { from, at_us, len } => (
                "skip",
                *at_us,
                json(&serde_json::json!({ "from": peer_tag(*from), "len": len })),
            ),
            Report::Stderr { at_us, line } => ("e", *at_us, line.clone()),
            Report::Http(v) => ("http", 0, json(v)),
            Report::Dropped(n) => ("drop", 0, n.to_string().into_bytes()),
            Report::Exit(v) => ("exit", 0, json(v)),
            Report::Secret(s) => ("secret", 0, s.clone().into_bytes()),
        };
        let mut out = format!("{tag} {} {at}\n", body.len()).into_bytes();
        out.extend_from_slice(&body);
        out.push(b'\n');
        out
    }
}

fn peer_tag(peer: Peer) -> &'static str {
    match peer {
        Peer::Client => "c",
        Peer::Server => "s",
    }
}

/// Reads records out of a byte stream as it arrives, in any chunking.
#[derive(Default)]
pub struct Decoder {
    buf: Vec<u8>,
    /// The parsed header of the record whose body is still arriving.
    head: Option<(String, usize, u64)>,
}

impl Decoder {
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next whole record, None until one has arrived, or why the stream is not a report
    /// (the reader then stops).
    pub fn next_record(&mut self) -> Result<Option<Report>, String> {
        if self.head.is_none() {
            let Some(end) = memchr::memchr(b'\n', &self.buf) else {
                if self.buf.len() > MAX_HEADER {
                    return Err("a record header longer than 64 bytes".into());
                }
                return Ok(None);
            };
            if end > MAX_HEADER {
                return Err("a record header longer than 64 bytes".into());
            }
            let line = std::str::from_utf8(&self.buf[..end])
                .map_err(|_| "a record header that is not text".to_owned())?;
            let mut parts = line.split(' ');
            let (Some(tag), Some(len), Some(at), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(format!("not a record header: {line:?}"));
            };
            let len: usize = len
                .parse()
                .map_err(|_| format!("not a record length: {len:?}"))?;
            let at: u64 = at.parse().map_err(|_| format!("not a time: {at:?}"))?;
            // A frame's body is at most the reported limit; the others are small.
            let limit = match tag {
                "c" | "s" => MAX_REPORTED,
                "e" => MAX_STDERR,
                "http" => 4 << 20,
                _ => 64 << 10,
            };
            if len > limit {
                return Err(format!("a {tag:?} record of {len} bytes is over its limit"));
            }
            self.head = Some((tag.to_owned(), len, at));
            self.buf.drain(..=end);
        }
        let (_, len, _) = self.head.as_ref().expect("set above");
        if self.buf.len() < len + 1 {
            return Ok(None);
        }
        let (tag, len, at_us) = self.head.take().expect("set above");
        if self.buf[len] != b'\n' {
            return Err("a record body not followed by a newline".into());
        }
        let body: Vec<u8> = self.buf.drain(..=len).take(len).collect();
        let json = |body: &[u8]| {
            serde_json::from_slice::<Value>(body)
                .map_err(|e| format!("a {tag:?} record that is not JSON: {e}"))
        };
        let record = match tag.as_str() {
            "hello" => Report::Hello(json(&body)?),
            "c" | "s" => Report::Frame {
                from: if tag == "c" {
                    Peer::Client
                } else {
                    Peer::Server
                },
                at_us,
                bytes: body,
            },
            "skip" => {
                let v = json(&body)?;
                Report::Skipped {
                    from: if v.get("from").and_then(Value::as_str) == Some("c") {
                        Peer::Client
                    } else {
                        Peer::Server
                    },
                    at_us,
                    len: v.get("len").and_then(Value::as_u64).unwrap_or(0),
                }
            }
            "e" => Report::Stderr { at_us, line: body },
            "http" => Report::Http(json(&body)?),
            "drop" => Report::Dropped(
                std::str::from_utf8(&body)
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .ok_or("a drop record that is not a count")?,
            ),
            "exit" => Report::Exit(json(&body)?),
            "secret" => Report::Secret(String::from_utf8_lossy(&body).into_owned()),
            other => return Err(format!("an unknown record {other:?}")),
        };
        Ok(Some(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_survive_any_chunking_and_keep_their_bytes() {
        let records = vec![
            Report::Hello(serde_json::json!({"transport": "stdio", "pid": 7})),
            Report::Frame {
                from: Peer::Client,
                at_us: 12,
                bytes: b"{\"id\":1}\n\xff".to_vec(),
            },
            Report::Frame {
                from: Peer::Server,
                at_us: 13,
                bytes: Vec::new(),
            },
            Report::Stderr {
                at_us: 14,
                line: b"\x1b[31mred".to_vec(),
            },
            Report::Skipped {
                from: Peer::Server,
                at_us: 15,
                len: 1 << 30,
            },
            Report::Dropped(3),
            Report::Secret("Bearer tok".into()),
            Report::Exit(serde_json::json!({"code": 0})),
        ];
        let bytes: Vec<u8> = records.iter().flat_map(Report::encode).collect();
        for chunk in [1, 2, 7, bytes.len()] {
            let mut d = Decoder::default();
            let mut out = Vec::new();
            for piece in bytes.chunks(chunk) {
                d.push(piece);
                while let Some(r) = d.next_record().unwrap() {
                    out.push(r);
                }
            }
            assert_eq!(out, records, "chunks of {chunk}");
        }
    }

    #[test]
    fn a_stream_that_is_not_a_report_stops_the_reader() {
        for bad in [
            &b"GET / HTTP/1.1\r\n"[..],
            b"c 99999999999 0\n",
            b"x 1 0\na\n",
            b"c 1 0\nab",
            &[b'a'; 100][..],
        ] {
            let mut d = Decoder::default();
            d.push(bad);
            assert!(
                d.next_record().is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}

//! One direction of a tapped stdio pipe: bytes copied on chunk by chunk as soon as they are
//! read, each complete line first put, without ever waiting, into the report's bounded queue (a
//! full queue drops the line from the report, never from the wire). Plain threads, so nothing
//! between the client and the server waits on the report or on an async hop.

use std::{
    io::{Read, Write},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use tokio::sync::mpsc;

use super::report::{MAX_REPORTED, MAX_STDERR, Peer, Report};

/// Where the pumps put copies of what passed: never waits.
#[derive(Clone)]
pub struct Queue {
    pub tx: mpsc::Sender<Report>,
    pub dropped: Arc<AtomicU64>,
}

impl Queue {
    pub fn offer(&self, report: Report) {
        if self.tx.try_send(report).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Copies `from` to `to` chunk by chunk, each written on (and flushed) as soon as it is read,
/// then reported line by line. `peer` None is the server's stderr. Ends at EOF or when the
/// other side is gone, closing `to` so the far end sees EOF as the client or server meant it.
/// `written` counts the bytes passed on, so a caller can tell a pipe still moving from one held
/// open with nothing in it.
pub fn pass(
    mut from: impl Read,
    mut to: impl Write,
    peer: Option<Peer>,
    clock: Instant,
    queue: &Queue,
    written: &AtomicU64,
) {
    let mut buf = vec![0u8; 64 * 1024];
    // A stderr line is reported up to the 1 MiB a report's stderr record holds.
    let mut lines = Lines::with_limit(if peer.is_some() {
        MAX_REPORTED
    } else {
        MAX_STDERR
    });
    let mut writing = true;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        // Queued before it is passed on: the other peer cannot answer a line before the line
        // is in the report, so the report keeps the order in which things happened across
        // both directions (each pump is its own thread).
        let at_us = clock.elapsed().as_micros() as u64;
        lines.feed(&buf[..n], |line| queue.offer(line.report(peer, at_us)));
        if writing && (to.write_all(&buf[..n]).is_err() || to.flush().is_err()) {
            // The reader is gone; what is still read is reported, and the read end closes
            // when we stop.
            writing = false;
            if peer == Some(Peer::Client) {
                break;
            }
        }
        written.fetch_add(n as u64, Ordering::Relaxed);
    }
    if let Some(line) = lines.rest() {
        let at_us = clock.elapsed().as_micros() as u64;
        queue.offer(line.report(peer, at_us));
    }
}

/// A whole line, or the length of one too big to report.
enum Line {
    Bytes(Vec<u8>),
    TooBig(u64),
}

impl Line {
    fn report(self, peer: Option<Peer>, at_us: u64) -> Report {
        match (self, peer) {
            (Line::Bytes(bytes), Some(from)) => Report::Frame { from, at_us, bytes },
            (Line::TooBig(len), Some(from)) => Report::Skipped { from, at_us, len },
            (Line::Bytes(line), None) => Report::Stderr { at_us, line },
            (Line::TooBig(len), None) => Report::Stderr {
                at_us,
                line: format!("(a stderr line of {len} bytes, not reported)").into_bytes(),
            },
        }
    }
}

/// Splits a byte stream into lines (`\n`, a `\r` before it dropped, as the stdio transport
/// reads a server), keeping at most `limit` bytes of a line.
struct Lines {
    partial: Vec<u8>,
    /// The length so far of a line that went over the limit.
    over: Option<u64>,
    limit: usize,
}

impl Default for Lines {
    fn default() -> Self {
        Lines::with_limit(MAX_REPORTED)
    }
}

impl Lines {
    fn with_limit(limit: usize) -> Self {
        Lines {
            partial: Vec::new(),
            over: None,
            limit,
        }
    }

    fn feed(&mut self, mut chunk: &[u8], mut line: impl FnMut(Line)) {
        while !chunk.is_empty() {
            let (part, complete) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (&chunk[..i], Some(i + 1)),
                None => (chunk, None),
            };
            match &mut self.over {
                Some(len) => *len += part.len() as u64,
                None if self.partial.len() + part.len() > self.limit => {
                    self.over = Some((self.partial.len() + part.len()) as u64);
                    self.partial = Vec::new();
                }
                None => self.partial.extend_from_slice(part),
            }
            match complete {
                Some(used) => {
                    line(self.take());
                    chunk = &chunk[used..];
                }
                None => break,
            }
        }
    }

    fn take(&mut self) -> Line {
        match self.over.take() {
            Some(len) => Line::TooBig(len),
            None => {
                let mut bytes = std::mem::take(&mut self.partial);
                if bytes.last() == Some(&b'\r') {
                    bytes.pop();
                }
                Line::Bytes(bytes)
            }
        }
    }

    /// What is left at EOF, if anything.
    fn rest(&mut self) -> Option<Line> {
        (self.over.is_some() || !self.partial.is_empty()).then(|| self.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut lines = Lines::default();
        let mut out = Vec::new();
        for c in chunks {
            lines.feed(c, |l| match l {
                Line::Bytes(b) => out.push(b),
                Line::TooBig(n) => out.push(format!("<{n}>").into_bytes()),
            });
        }
        if let Some(Line::Bytes(b)) = lines.rest() {
            out.push(b);
        }
        out
    }

    #[test]
    fn lines_are_split_across_chunks_and_crlf_loses_its_cr() {
        assert_eq!(
            split(&[b"{\"a\":", b"1}\r\n{}\n\n", b"tail"]),
            vec![
                b"{\"a\":1}".to_vec(),
                b"{}".to_vec(),
                vec![],
                b"tail".to_vec()
            ]
        );
    }

    #[test]
    fn a_stderr_line_is_kept_up_to_its_own_smaller_limit() {
        let mut lines = Lines::with_limit(4);
        let mut out = Vec::new();
        lines.feed(b"abcdefg\nok\n", |l| {
            out.push(match l {
                Line::Bytes(b) => String::from_utf8(b).unwrap(),
                Line::TooBig(n) => format!("<{n}>"),
            })
        });
        assert_eq!(out, ["<7>", "ok"]);
    }

    #[test]
    fn a_line_over_the_limit_is_counted_not_kept() {
        let big = vec![b'x'; MAX_REPORTED];
        let out = split(&[&big, b"yy\n{}\n"]);
        assert_eq!(out[0], format!("<{}>", MAX_REPORTED + 2).into_bytes());
        assert_eq!(out[1], b"{}".to_vec());
    }
}

//! A Server-Sent Events parser for the remote transports: bytes in, events out, split on the
//! spec's line endings (CRLF, LF or CR), comments dropped, `data:` lines joined with `\n`. It
//! keeps no more than one event's worth of text, and refuses to grow one past a cap.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SseEvent {
    /// `event:` (empty means the default, `message`).
    pub event: String,
    pub data: String,
    /// `id:` when this event set one.
    pub id: Option<String>,
    /// `retry:` in milliseconds, when this event set one.
    pub retry: Option<u64>,
}

impl SseEvent {
    pub fn kind(&self) -> &str {
        if self.event.is_empty() {
            "message"
        } else {
            &self.event
        }
    }
}

#[derive(Debug)]
pub struct SseParser {
    line: Vec<u8>,
    current: SseEvent,
    has_data: bool,
    /// The previous chunk ended in CR, so a leading LF belongs to it.
    after_cr: bool,
    max_event_bytes: usize,
}

/// An event grew past the cap; the stream cannot be trusted further.
#[derive(Debug, PartialEq, Eq)]
pub struct TooLarge;

impl SseParser {
    pub fn new(max_event_bytes: usize) -> Self {
        SseParser {
            line: Vec::new(),
            current: SseEvent::default(),
            has_data: false,
            after_cr: false,
            max_event_bytes,
        }
    }

    /// The bytes held for the event not yet complete (its lines so far).
    pub fn buffered(&self) -> usize {
        self.line.len() + self.current.data.len()
    }

    /// Feeds a chunk; returns the events it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, TooLarge> {
        let mut out = Vec::new();
        let mut rest = chunk;
        if self.after_cr && rest.first() == Some(&b'\n') {
            rest = &rest[1..];
        }
        self.after_cr = false;
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', rest) {
            self.line.extend_from_slice(&rest[..pos]);
            let was_cr = rest[pos] == b'\r';
            rest = &rest[pos + 1..];
            if was_cr {
                if rest.first() == Some(&b'\n') {
                    rest = &rest[1..];
                } else if rest.is_empty() {
                    self.after_cr = true;
                }
            }
            let line = std::mem::take(&mut self.line);
            if let Some(event) = self.line_done(&line) {
                out.push(event);
            }
        }
        self.line.extend_from_slice(rest);
        if self.line.len() + self.current.data.len() > self.max_event_bytes {
            return Err(TooLarge);
        }
        Ok(out)
    }

    fn line_done(&mut self, line: &[u8]) -> Option<SseEvent> {
        if line.is_empty() {
            let event = std::mem::take(&mut self.current);
            let had = std::mem::replace(&mut self.has_data, false);
            // An event with neither data nor id is nothing; one with only an id still moves the
            // resume point (a priming event).
            return (had || event.id.is_some() || event.retry.is_some()).then_some(event);
        }
        if line[0] == b':' {
            return None;
        }
        let text = String::from_utf8_lossy(line);
        let (field, value) = match text.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (text.as_ref(), ""),
        };
        match field {
            "event" => self.current.event = value.to_owned(),
            "data" => {
                if self.has_data {
                    self.current.data.push('\n');
                }
                self.current.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.current.id = Some(value.to_owned()),
            "retry" => self.current.retry = value.parse().ok(),
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_split_on_any_line_ending_and_across_chunks() {
        let mut p = SseParser::new(1 << 20);
        let mut all = p
            .push(b"event: endpoint\r\ndata: /message?sessionId=1\r")
            .unwrap();
        assert!(all.is_empty());
        all.extend(
            p.push(b"\n\r\n: keep-alive\n\nid: 7\ndata: {\"a\":\ndata: 1}\n\n")
                .unwrap(),
        );
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].kind(), "endpoint");
        assert_eq!(all[0].data, "/message?sessionId=1");
        assert_eq!(all[1].kind(), "message");
        assert_eq!(all[1].data, "{\"a\":\n1}");
        assert_eq!(all[1].id.as_deref(), Some("7"));
    }

    #[test]
    fn a_priming_event_has_an_id_and_empty_data() {
        let mut p = SseParser::new(1 << 20);
        let e = p.push(b"id: abc\nretry: 250\ndata: \n\n").unwrap();
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].id.as_deref(), Some("abc"));
        assert_eq!(e[0].retry, Some(250));
        assert!(e[0].data.is_empty());
    }

    #[test]
    fn an_oversized_event_is_refused() {
        let mut p = SseParser::new(16);
        assert_eq!(p.push(b"data: 0123456789abcdefghij"), Err(TooLarge));
    }
}

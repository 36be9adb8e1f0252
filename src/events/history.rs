//! The retained history read backwards, a page at a time, and where a page's live tail starts: so
//! a page shows the newest events at once and fetches older ones (a session's, some kinds, those
//! holding a text) only when they are wanted, at the same cost whatever the history's size.
//!
//! A search walks the ring in chunks and matches outside its lock, so publishing never waits
//! for a search over a million events.

use std::sync::Arc;

use super::{EventBus, Record};

/// Records copied out of the ring per lock while reading backwards.
const CHUNK: usize = 4096;
/// Records one page looks at, at most: a search that finds little answers in bounded time, with
/// where it stopped, and is asked again from there.
pub const SCAN_BUDGET: usize = 256 * 1024;

/// One page of history, newest first.
#[derive(Debug)]
pub struct Page {
    pub records: Vec<Arc<Record>>,
    /// Whether older events remain to look at.
    pub more: bool,
    /// The `before` of the next page: the oldest seq this one looked at (None: it looked at none).
    pub edge: Option<u64>,
}

/// Where a follower of the newest events starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TailStart {
    /// The seq after which the tail lies: never before the oldest retained event, so starting
    /// there is no lag.
    pub after: u64,
    /// The newest seq published: the tail has been replayed once the follower has read it (or a
    /// later one).
    pub newest: u64,
    /// The newest seq evicted so far: a reader starting now that finds gaps at or below it finds
    /// history, not a lag.
    pub horizon: u64,
}

/// Which retained events a history page holds.
#[derive(Debug, Default)]
pub struct HistoryFilter {
    /// A session's own events and those of no session; `None`: every event.
    pub session: Option<String>,
    /// Event kinds (`frame`, `stderr`, …); empty: every kind.
    pub kinds: Vec<String>,
    /// Text the event's JSON holds, ignoring ASCII case.
    pub text: Option<Needle>,
}

impl HistoryFilter {
    fn keeps(&self, record: &Record) -> bool {
        record.visible_to(self.session.as_deref())
            && (self.kinds.is_empty() || self.kinds.iter().any(|k| k == record.kind()))
            && self
                .text
                .as_ref()
                .is_none_or(|n| n.found_in(record.body().as_bytes()))
    }
}

/// A text searched for without regard to ASCII case (the events' JSON keeps other characters as
/// they are, so this is what a person typing a method, a tool or a word expects).
#[derive(Debug)]
pub struct Needle {
    lower: Vec<u8>,
}

impl Needle {
    /// `None` for an empty text, which every event holds.
    pub fn new(text: &str) -> Option<Needle> {
        (!text.is_empty()).then(|| Needle {
            lower: text.as_bytes().to_ascii_lowercase(),
        })
    }

    fn found_in(&self, hay: &[u8]) -> bool {
        let first = self.lower[0];
        let rest = &self.lower[1..];
        let mut from = 0;
        // Jump between candidates of either case of the first byte (SIMD in memchr), then
        // compare the rest in place: no lowercased copy of each event.
        while let Some(at) = memchr::memchr2(first, first.to_ascii_uppercase(), &hay[from..]) {
            let start = from + at + 1;
            let end = start + rest.len();
            if end > hay.len() {
                return false;
            }
            if hay[start..end].eq_ignore_ascii_case(rest) {
                return true;
            }
            from = start;
        }
        false
    }
}

const TAG: &str = "\"kind\":\"";

impl Record {
    /// The event's `kind`, read from its text: the tag is the first field after the stamp.
    pub fn kind(&self) -> &str {
        let body = self.body();
        body.get(TAG.len()..)
            .and_then(|rest| rest.split('"').next())
            .unwrap_or("")
    }

    /// The event's text from its `kind` on: without the stamp (`seq`, `time`, `session`),
    /// which a search must not find ("s1", a date).
    fn body(&self) -> &str {
        self.json
            .find(TAG)
            .map_or(self.json.as_str(), |at| &self.json[at..])
    }
}

impl EventBus {
    /// The retained event `seq`, if the ring still holds it.
    pub fn record(&self, seq: u64) -> Option<Arc<Record>> {
        self.inner.ring.lock().unwrap().record(seq)
    }

    /// Where a follower that wants the newest `n` retained events starts, read at one instant:
    /// an eviction between the facts would be taken for the new reader's lag.
    pub fn tail_start(&self, n: usize) -> TailStart {
        let ring = self.inner.ring.lock().unwrap();
        TailStart {
            after: ring.tail_start(n),
            newest: ring.next_seq - 1,
            horizon: ring.evicted_through,
        }
    }

    /// Up to `max` retained events with a seq below `before` that `filter` keeps, newest first,
    /// looking at no more than `budget` events. A session's history reads only its own queue and
    /// that of no session.
    pub fn before(&self, before: u64, max: usize, filter: &HistoryFilter, budget: usize) -> Page {
        let mut page = Page {
            records: Vec::with_capacity(max.min(CHUNK)),
            more: false,
            edge: None,
        };
        let mut looked = 0;
        loop {
            let edge = page.edge.unwrap_or(before);
            let want = CHUNK.min(budget - looked);
            if want == 0 {
                page.more = true;
                return page;
            }
            let chunk =
                self.inner
                    .ring
                    .lock()
                    .unwrap()
                    .before(edge, want, filter.session.as_deref());
            if chunk.is_empty() {
                return page;
            }
            for record in chunk {
                let seq = record.seq;
                if filter.keeps(&record) {
                    if page.records.len() == max {
                        page.more = true;
                        return page;
                    }
                    page.records.push(record);
                }
                page.edge = Some(seq);
                looked += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::{Event, RingLimits};

    fn bus_with(lines: &[(&str, &str)]) -> EventBus {
        let bus = EventBus::new(RingLimits::default());
        for (session, line) in lines {
            let id: Arc<str> = Arc::from(*session);
            bus.publish_for(
                (!session.is_empty()).then_some(&id),
                Event::Stderr {
                    line: (*line).into(),
                },
            );
        }
        bus
    }

    fn only(session: &str) -> HistoryFilter {
        HistoryFilter {
            session: Some(session.into()),
            ..HistoryFilter::default()
        }
    }

    impl EventBus {
        fn page(
            &self,
            before: u64,
            max: usize,
            filter: &HistoryFilter,
        ) -> (Vec<Arc<Record>>, bool) {
            let page = EventBus::before(self, before, max, filter, SCAN_BUDGET);
            (page.records, page.more)
        }
    }

    fn stderr(line: &str) -> Event {
        Event::Stderr { line: line.into() }
    }

    #[test]
    fn history_pages_go_back_newest_first_without_gaps_or_overlap() {
        let bus = EventBus::new(RingLimits::default());
        let s1: Arc<str> = "s1".into();
        let s2: Arc<str> = "s2".into();
        for i in 0..10 {
            bus.publish_for(Some(if i % 2 == 0 { &s1 } else { &s2 }), stderr("x"));
        }
        bus.publish(stderr("nobody's"));
        let (page, more) = bus.page(u64::MAX, 3, &only("s1"));
        assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), [11, 9, 7]);
        assert!(more);
        let (page, more) = bus.page(7, 3, &only("s1"));
        assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), [5, 3, 1]);
        assert!(!more, "nothing older that s1 sees");
        let (page, more) = bus.page(2, 10, &HistoryFilter::default());
        assert_eq!(page.iter().map(|r| r.seq).collect::<Vec<_>>(), [1]);
        assert!(!more);
    }

    fn seqs(page: &[Arc<Record>]) -> Vec<u64> {
        page.iter().map(|r| r.seq).collect()
    }

    #[test]
    fn a_search_ignores_ascii_case_and_finds_text_at_either_end() {
        let n = Needle::new("Tools/CALL").unwrap();
        assert!(n.found_in(b"tools/call"));
        assert!(n.found_in(b"x\"TOOLS/call\""));
        assert!(!n.found_in(b"tools/cal"));
        assert!(!n.found_in(b"tools/list tools/"));
        assert!(Needle::new("").is_none());
    }

    #[test]
    fn pages_go_back_past_many_chunks_keeping_only_what_the_filter_keeps() {
        let lines: Vec<(String, String)> = (0..3 * CHUNK + 5)
            .map(|i| {
                (
                    if i % 3 == 0 { "s1" } else { "s2" }.to_owned(),
                    if i % 1000 == 7 {
                        format!("Needle {i}")
                    } else {
                        format!("line {i}")
                    },
                )
            })
            .collect();
        let borrowed: Vec<(&str, &str)> = lines
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        let bus = bus_with(&borrowed);
        let filter = HistoryFilter {
            session: Some("s2".into()),
            kinds: vec!["stderr".into()],
            text: Needle::new("needle"),
        };
        let (page, more) = bus.page(u64::MAX, 100, &filter);
        // Lines 7, 1007, … whose index is not a multiple of 3; seq = index + 1.
        let want: Vec<u64> = (0..3 * CHUNK as u64 + 5)
            .filter(|i| i % 1000 == 7 && i % 3 != 0)
            .map(|i| i + 1)
            .rev()
            .collect();
        assert_eq!(seqs(&page), want);
        assert!(!more);
        let (first, more) = bus.page(u64::MAX, 2, &filter);
        assert_eq!(seqs(&first), want[..2]);
        assert!(more);
        let (next, _) = bus.page(first[1].seq, 2, &filter);
        assert_eq!(seqs(&next), want[2..4]);
        let other_kind = HistoryFilter {
            kinds: vec!["frame".into()],
            ..HistoryFilter::default()
        };
        assert!(bus.page(u64::MAX, 10, &other_kind).0.is_empty());
    }

    #[test]
    fn a_search_that_finds_little_stops_at_its_budget_and_goes_on_from_its_edge() {
        let lines: Vec<String> = (0..100).map(|i| format!("line {i}")).collect();
        let borrowed: Vec<(&str, &str)> = lines.iter().map(|l| ("s1", l.as_str())).collect();
        let bus = bus_with(&borrowed);
        let filter = HistoryFilter {
            text: Needle::new("line 5\""),
            ..HistoryFilter::default()
        };
        let first = bus.before(u64::MAX, 10, &filter, 10);
        assert!(first.records.is_empty());
        assert!(first.more);
        assert_eq!(first.edge, Some(91));
        let mut edge = first.edge.unwrap();
        let mut found = Vec::new();
        loop {
            let page = bus.before(edge, 10, &filter, 10);
            found.extend(seqs(&page.records));
            match page.edge {
                Some(e) if page.more => edge = e,
                _ => break,
            }
        }
        assert_eq!(found, [6]);
    }

    #[test]
    fn the_tail_starts_after_the_newest_n_and_never_before_the_oldest() {
        let bus = EventBus::new(RingLimits {
            max_events: 10,
            max_bytes: usize::MAX,
        });
        assert_eq!(bus.tail_start(5).after, 0);
        for i in 0..25 {
            bus.publish(Event::Stderr {
                line: format!("{i}"),
            });
        }
        assert_eq!(bus.tail_start(3).after, 22);
        assert_eq!(bus.tail_start(0).after, 25);
        // Only seqs 16..=25 are retained: starting before them would be a lag.
        assert_eq!(bus.tail_start(50).after, 15);
        assert!(bus.next_after(15, 100).lagged.is_none());
        assert_eq!(
            bus.page(u64::MAX, 1, &HistoryFilter::default()).0[0].kind(),
            "stderr"
        );
    }
}

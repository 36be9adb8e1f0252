//! The retained history: one queue per session (and one for the events of no session), bounded
//! together by count and bytes. Over a bound, the oldest event of the queue holding the most goes
//! first, so a flooding session evicts its own history and never a quieter one's. Readers merge
//! the queues by seq; a session's history reads only its own queue and that of no session.

use std::{
    cmp::Reverse,
    collections::{BinaryHeap, HashMap, VecDeque},
    sync::Arc,
};

use super::{Batch, Record, RingLimits};

struct Queue {
    session: Option<Arc<str>>,
    records: VecDeque<Arc<Record>>,
    bytes: usize,
}

pub(super) struct Ring {
    queues: Vec<Queue>,
    index: HashMap<Option<Arc<str>>, usize>,
    len: usize,
    bytes: usize,
    pub(super) next_seq: u64,
    /// Seqs up to this one came from an opened recording, which holds one session's events out
    /// of a busier process: a gap among them is no loss.
    pub(super) recorded: u64,
    /// The newest seq ever evicted: a gap at or below it that a reader finds when it starts was
    /// already history, not something it missed.
    pub(super) evicted_through: u64,
    /// Big frames' summaries (`elide.rs`), by seq, for as long as the frame is retained.
    summaries: HashMap<u64, Arc<str>>,
}

impl Ring {
    pub(super) fn new() -> Ring {
        Ring {
            queues: Vec::new(),
            index: HashMap::new(),
            len: 0,
            bytes: 0,
            next_seq: 1,
            recorded: 0,
            evicted_through: 0,
            summaries: HashMap::new(),
        }
    }

    pub(super) fn retained(&self) -> (usize, usize) {
        (self.len, self.bytes)
    }

    fn queue_of(&mut self, session: &Option<Arc<str>>) -> usize {
        if let Some(&i) = self.index.get(session) {
            return i;
        }
        self.queues.push(Queue {
            session: session.clone(),
            records: VecDeque::new(),
            bytes: 0,
        });
        self.index.insert(session.clone(), self.queues.len() - 1);
        self.queues.len() - 1
    }

    /// Keeps `record` (its seq above every retained one) without looking at the bounds.
    pub(super) fn push_unbounded(&mut self, record: Arc<Record>) -> usize {
        let q = self.queue_of(&record.session);
        let queue = &mut self.queues[q];
        queue.bytes += record.json.len();
        self.bytes += record.json.len();
        self.len += 1;
        queue.records.push_back(record);
        q
    }

    /// Keeps `record`, then evicts until within `limits`: each time the oldest event of the
    /// queue holding the most (events when over the count, bytes when over the bytes). The
    /// newest event stays, however large, so a huge frame is still visible.
    pub(super) fn push(&mut self, record: Arc<Record>, limits: RingLimits) {
        let pushed = self.push_unbounded(record);
        let mut pushed = Some(pushed);
        while self.len > limits.max_events || self.bytes > limits.max_bytes {
            let by_count = self.len > limits.max_events;
            let victim = self
                .queues
                .iter()
                .enumerate()
                .filter(|(i, q)| q.records.len() > usize::from(Some(*i) == pushed))
                .max_by_key(|(_, q)| if by_count { q.records.len() } else { q.bytes })
                .map(|(i, _)| i);
            let Some(v) = victim else { break };
            let queue = &mut self.queues[v];
            let old = queue.records.pop_front().expect("a victim has a record");
            queue.bytes -= old.json.len();
            self.bytes -= old.json.len();
            self.len -= 1;
            self.evicted_through = self.evicted_through.max(old.seq);
            if !self.summaries.is_empty() {
                self.summaries.remove(&old.seq);
            }
            if queue.records.is_empty() {
                self.remove_queue(v);
                // The queue that was last moved into `v`'s place.
                if pushed == Some(self.queues.len()) {
                    pushed = Some(v);
                }
            }
        }
    }

    fn remove_queue(&mut self, i: usize) {
        let gone = self.queues.swap_remove(i);
        self.index.remove(&gone.session);
        if let Some(moved) = self.queues.get(i) {
            self.index.insert(moved.session.clone(), i);
        }
    }

    /// Up to `max` records with seq above `after`, in seq order. Seqs skipped between them that
    /// are above `horizon` (and above what a recording holds) were evicted before this reader
    /// got to them: they are its `lagged`, counted from the first.
    pub(super) fn after(&self, after: u64, max: usize, horizon: u64) -> Batch {
        let mut heap: BinaryHeap<Reverse<(u64, usize, usize)>> = self
            .queues
            .iter()
            .enumerate()
            .filter_map(|(q, queue)| {
                let at = queue.records.partition_point(|r| r.seq <= after);
                queue.records.get(at).map(|r| Reverse((r.seq, q, at)))
            })
            .collect();
        let mut batch = Batch::default();
        let floor = horizon.max(self.recorded);
        let mut prev = after;
        while batch.records.len() < max {
            let Some(Reverse((seq, q, at))) = heap.pop() else {
                break;
            };
            let lost_from = (prev + 1).max(floor + 1);
            if seq > lost_from {
                batch.lagged.get_or_insert((lost_from, 0)).1 += seq - lost_from;
            }
            prev = seq;
            let queue = &self.queues[q].records;
            batch.records.push(queue[at].clone());
            if let Some(next) = queue.get(at + 1) {
                heap.push(Reverse((next.seq, q, at + 1)));
            }
        }
        batch
    }

    /// Up to `max` records with seq below `before`, newest first: a session's own and those of
    /// no session, or every one.
    pub(super) fn before(
        &self,
        before: u64,
        max: usize,
        session: Option<&str>,
    ) -> Vec<Arc<Record>> {
        let mut heap: BinaryHeap<(u64, usize, usize)> = self
            .queues
            .iter()
            .enumerate()
            .filter(|(_, queue)| match (session, &queue.session) {
                (Some(want), Some(own)) => **own == *want,
                _ => true,
            })
            .filter_map(|(q, queue)| {
                let end = queue.records.partition_point(|r| r.seq < before);
                (end > 0).then(|| (queue.records[end - 1].seq, q, end - 1))
            })
            .collect();
        let mut out = Vec::with_capacity(max.min(self.len));
        while out.len() < max {
            let Some((_, q, at)) = heap.pop() else { break };
            let queue = &self.queues[q].records;
            out.push(queue[at].clone());
            if at > 0 {
                heap.push((queue[at - 1].seq, q, at - 1));
            }
        }
        out
    }

    pub(super) fn set_summary(&mut self, seq: u64, summary: Arc<str>) {
        self.summaries.insert(seq, summary);
    }

    pub(super) fn summary(&self, seq: u64) -> Option<Arc<str>> {
        self.summaries.get(&seq).cloned()
    }

    pub(super) fn record(&self, seq: u64) -> Option<Arc<Record>> {
        self.queues.iter().find_map(|q| {
            let at = q.records.partition_point(|r| r.seq < seq);
            q.records.get(at).filter(|r| r.seq == seq).cloned()
        })
    }

    /// The seq after which the newest `n` retained events lie; never before the oldest one.
    pub(super) fn tail_start(&self, n: usize) -> u64 {
        if n == 0 || self.len == 0 {
            return self.next_seq - 1;
        }
        if n >= self.len {
            let oldest = self
                .queues
                .iter()
                .filter_map(|q| q.records.front())
                .map(|r| r.seq);
            return oldest.min().map_or(self.next_seq - 1, |seq| seq - 1);
        }
        let newest = self.before(u64::MAX, n, None);
        newest.last().map_or(self.next_seq - 1, |r| r.seq - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64, session: Option<&str>, bytes: usize) -> Arc<Record> {
        Arc::new(Record {
            seq,
            session: session.map(Arc::from),
            json: "x".repeat(bytes),
        })
    }

    fn seqs(records: &[Arc<Record>]) -> Vec<u64> {
        records.iter().map(|r| r.seq).collect()
    }

    const TEN: RingLimits = RingLimits {
        max_events: 10,
        max_bytes: usize::MAX,
    };

    #[test]
    fn a_flooding_session_evicts_its_own_history_not_a_quiet_ones() {
        let mut ring = Ring::new();
        for seq in 1..=3 {
            ring.push(record(seq, Some("quiet"), 1), TEN);
        }
        ring.push(record(4, None, 1), TEN);
        for seq in 5..=1000 {
            ring.push(record(seq, Some("flood"), 1), TEN);
        }
        assert_eq!(ring.retained().0, 10);
        assert_eq!(
            seqs(&ring.before(u64::MAX, 100, Some("quiet"))),
            [4, 3, 2, 1]
        );
        assert_eq!(
            seqs(&ring.before(u64::MAX, 100, Some("flood"))),
            [1000, 999, 998, 997, 996, 995, 4]
        );
        // The quiet one speaking again takes from the biggest, until they are even.
        for seq in 1001..=1006 {
            ring.push(record(seq, Some("quiet"), 1), TEN);
        }
        let quiet = ring.before(u64::MAX, 100, Some("quiet")).len() - 1;
        let flood = ring.before(u64::MAX, 100, Some("flood")).len() - 1;
        assert!(quiet.abs_diff(flood) <= 1, "{quiet} vs {flood}");
        assert_eq!(ring.retained().0, 10);
    }

    #[test]
    fn bytes_are_bounded_the_same_way_and_the_newest_event_always_stays() {
        let mut ring = Ring::new();
        let limits = RingLimits {
            max_events: 1000,
            max_bytes: 100,
        };
        ring.push(record(1, Some("a"), 10), limits);
        ring.push(record(2, Some("b"), 60), limits);
        ring.push(record(3, Some("b"), 60), limits);
        assert_eq!(seqs(&ring.before(u64::MAX, 10, None)), [3, 1]);
        ring.push(record(4, Some("c"), 500), limits);
        assert_eq!(seqs(&ring.before(u64::MAX, 10, None)), [4]);
        assert_eq!(ring.retained(), (1, 500));
        assert_eq!(ring.queues.len(), 1, "emptied queues are dropped");
    }

    #[test]
    fn readers_merge_the_queues_in_seq_order_and_count_what_they_missed() {
        let mut ring = Ring::new();
        for seq in 1..=30 {
            let session = if seq % 3 == 0 { "a" } else { "b" };
            ring.push(record(seq, Some(session), 1), TEN);
        }
        // `b` held the most and lost its oldest; `a` kept its own.
        let all = ring.after(0, 100, 0);
        let got = seqs(&all.records);
        assert!(got.windows(2).all(|w| w[0] < w[1]), "{got:?}");
        assert_eq!(got.len(), 10);
        let missed = all.lagged.unwrap();
        assert_eq!(missed.0, 1);
        assert_eq!(missed.1, 30 - 10);
        // A reader starting fresh treats the gaps it finds as history, not as lag.
        let fresh = ring.after(0, 100, ring.evicted_through);
        assert_eq!(fresh.lagged, None);
        assert_eq!(seqs(&fresh.records), got);
        // A page of two, and the next.
        let first = ring.after(0, 2, ring.evicted_through);
        let next = ring.after(first.records[1].seq, 100, ring.evicted_through);
        assert_eq!(next.records.len(), 8);
        assert_eq!(ring.tail_start(3), got[7] - 1);
        assert_eq!(ring.tail_start(100), got[0] - 1);
    }
}

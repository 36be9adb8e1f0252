//! What `mcpscope tap` and `mcpscope proxy` share: the report task. Copies of what passed come
//! through a bounded queue (`tap::pipe::Queue`, never waited on) and go to a running mcpscope
//! (`POST /api/tap`, tried again on the next record once [`RETRY`] has passed, with `late` set
//! when the report starts after the traffic did) and, with `--save`, to a tapped session kept in
//! this process and written as a recording at the end.

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::sync::{mpsc, oneshot};

use crate::{
    events::{EventBus, RingLimits},
    oauth::broker::Broker,
    recording::export::{Secrets, save},
    responders::ResponderStore,
    session::{Sessions, Tapped},
    tap::{
        pipe::Queue,
        remote::{Connection, Remote},
        report::{Hello, Report},
    },
};

/// Records waiting to be reported; a full queue drops from the report, never from the wire.
const QUEUE: usize = 16 * 1024;
/// How often a tap with no mcpscope to report to tries again (on the next record after it).
const RETRY: Duration = Duration::from_secs(2);
/// How long, at the end, the report may take to get out.
const FLUSH: Duration = Duration::from_secs(3);

type Finished = (Option<Local>, Option<tokio::task::JoinHandle<()>>);

/// The report task of one tap or proxy.
pub(super) struct Reporter {
    queue: Queue,
    done: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Finished>,
    save: Option<PathBuf>,
}

impl Reporter {
    pub(super) fn start(hello: Hello, remote: Remote, save: Option<PathBuf>) -> Reporter {
        let (tx, rx) = mpsc::channel(QUEUE);
        let queue = Queue {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
        };
        let local = save.as_ref().map(|_| Local::start(&hello));
        let (done, done_rx) = oneshot::channel();
        let task = tokio::spawn(report(
            rx,
            queue.dropped.clone(),
            hello,
            remote,
            local,
            done_rx,
        ));
        Reporter {
            queue,
            done,
            task,
            save,
        }
    }

    /// Where copies of what passes go.
    pub(super) fn queue(&self) -> Queue {
        self.queue.clone()
    }

    /// Sends what is queued (within [`FLUSH`]), ends the report, writes `--save`.
    pub(super) async fn finish(self, who: &str) {
        drop(self.queue);
        let _ = self.done.send(());
        // The task never waits on mcpscope, so it ends as soon as the queue is read.
        let (local, request) = match tokio::time::timeout(FLUSH, self.task).await {
            Ok(Ok(finished)) => finished,
            _ => {
                if let Some(path) = &self.save {
                    eprintln!(
                        "mcpscope {who}: the report did not finish in time; {} was not written",
                        path.display()
                    );
                }
                (None, None)
            }
        };
        if let (Some(local), Some(path)) = (local, &self.save)
            && let Err(e) = local.save(path)
        {
            eprintln!("mcpscope {who}: could not write {}: {e}", path.display());
        }
        if let Some(request) = request
            && tokio::time::timeout(FLUSH, request).await.is_err()
        {
            eprintln!("mcpscope {who}: the report to mcpscope did not finish in time");
        }
    }
}

/// Reports every record: to the running mcpscope when there is one, and to the local session
/// kept for `--save`. Returns the local session when the queue closes.
async fn report(
    mut rx: mpsc::Receiver<Report>,
    dropped: Arc<AtomicU64>,
    hello: Hello,
    remote: Remote,
    mut local: Option<Local>,
    mut done: oneshot::Receiver<()>,
) -> Finished {
    let mut conn: Option<Connection> = None;
    let mut next_try = Instant::now();
    let mut reported_dropped = 0;
    let mut any_before = false;
    let mut finishing = false;
    let mut remote_dropped = 0u64;
    loop {
        // Once the server has exited, what is queued still goes; the client's side may never
        // close (its pump keeps the queue open), so the end does not wait for it.
        let record = if finishing {
            match rx.try_recv() {
                Ok(record) => record,
                Err(_) => break,
            }
        } else {
            tokio::select! {
                record = rx.recv() => match record {
                    Some(record) => record,
                    None => break,
                },
                _ = &mut done => {
                    finishing = true;
                    continue;
                }
            }
        };
        let now_dropped = dropped.load(Ordering::Relaxed);
        let mut records = Vec::with_capacity(2);
        if now_dropped > reported_dropped {
            records.push(Report::Dropped(now_dropped - reported_dropped));
            reported_dropped = now_dropped;
        }
        records.push(record);
        for record in records {
            if let Some(local) = &mut local {
                local.tapped.apply(record.clone());
            }
            if conn.is_none() && Instant::now() >= next_try {
                next_try = Instant::now() + RETRY;
                // A new report starts its own count.
                remote_dropped = 0;
                conn = remote.connect().and_then(|c| {
                    let hello = Hello {
                        late: any_before,
                        ..hello.clone()
                    };
                    let value = serde_json::to_value(hello).expect("a hello serialises");
                    c.tx.try_send(Ok(Report::Hello(value).encode().into()))
                        .ok()
                        .map(|_| c)
                });
            }
            any_before = true;
            // Never waits on mcpscope: a slow or stuck one loses records (counted), and the
            // `--save` session above has them all the same.
            if let Some(c) = &conn {
                if remote_dropped > 0
                    && c.tx
                        .try_send(Ok(Report::Dropped(remote_dropped).encode().into()))
                        .is_ok()
                {
                    remote_dropped = 0;
                }
                match c.tx.try_send(Ok(record.encode().into())) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => remote_dropped += 1,
                    Err(mpsc::error::TrySendError::Closed(_)) => conn = None,
                }
            }
        }
    }
    // The body ends here; the request still has to say so to mcpscope.
    (local, conn.map(|c| c.task))
}

/// The session `--save` writes: the same tapped session mcpscope shows, kept in this process.
struct Local {
    events: EventBus,
    tapped: Tapped,
    secrets: Vec<String>,
}

impl Local {
    fn start(hello: &Hello) -> Local {
        let events = EventBus::new(RingLimits::default());
        let sessions = Sessions::new(
            events.clone(),
            Arc::new(ResponderStore::open(None).expect("no file, nothing to refuse")),
            Broker::new(None, None),
            Arc::new(crate::model::Providers::default()),
        );
        let tapped = sessions.open_tap(hello);
        Local {
            events,
            tapped,
            secrets: hello.secrets.clone(),
        }
    }

    fn save(mut self, path: &std::path::Path) -> std::io::Result<()> {
        self.tapped.end(None);
        let session = self.tapped.session();
        let secrets = Secrets::new(self.secrets.into_iter().chain(session.secret_values()));
        save(&self.events, session.id(), &session.info(), &secrets, path)
    }
}

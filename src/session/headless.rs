//! One session run in this process with no listener: what `--cli`, `mcpscope lint` and
//! `mcpscope replay` connect through. The same `Sessions` machinery the UI drives, its own event
//! ring, and no callback for OAuth (a server that needs the browser is refused unless kept
//! credentials still work). Prints nothing: the commands decide what the user sees.

use std::{path::PathBuf, sync::Arc, time::Duration};

use super::{ConnectOptions, Session, SessionHandle, SessionState, Sessions, Target};
use crate::{
    events::{EventBus, RingLimits},
    oauth::broker::Broker,
    responders::ResponderStore,
};

/// Why a headless connect did not give a live session.
#[derive(Debug)]
pub enum NotConnected {
    /// Not connected within the time allowed.
    Timeout(Duration),
    /// The session ended up anything but connected; the reason is the session's.
    Refused(String),
    /// Connected, then gone before the handle could be taken.
    Ended,
}

/// The running session and its events.
pub struct Headless {
    pub events: EventBus,
    pub session: Arc<Session>,
}

impl Headless {
    /// A session answered by `responders` (whatever the server asks: roots, sampling, …), with
    /// kept OAuth credentials read from `credentials` when given.
    pub fn start(
        responders: ResponderStore,
        credentials: Option<PathBuf>,
        ring: RingLimits,
    ) -> Headless {
        let events = EventBus::new(ring);
        let broker = Broker::new(None, credentials);
        let sessions = Sessions::new(
            events.clone(),
            Arc::new(responders),
            broker,
            Arc::new(crate::model::Providers::default()),
        );
        let session = sessions.create(None, None);
        Headless { events, session }
    }

    /// Connects, within `limit` when there is one; the live handle, or why not.
    pub async fn connect(
        &self,
        target: Target,
        options: ConnectOptions,
        limit: Option<Duration>,
    ) -> Result<SessionHandle, NotConnected> {
        let connecting = self.session.connect(target, options);
        let info = match limit {
            None => connecting.await,
            Some(limit) => tokio::time::timeout(limit, connecting)
                .await
                .map_err(|_| NotConnected::Timeout(limit))?,
        };
        if info.state != SessionState::Connected {
            return Err(NotConnected::Refused(
                info.error
                    .unwrap_or_else(|| format!("the session is {}", info.state)),
            ));
        }
        self.session.handle().ok_or(NotConnected::Ended)
    }

    /// Disconnects (the server is ended as a connection's end ends it).
    pub async fn finish(&self) {
        self.session.disconnect().await;
    }
}

//! The session's lists (tools, resources, templates, prompts) as the server last answered them:
//! one answer kept per page (method and cursor), shared by every page and script that asks, so
//! a reload or a server switch sends nothing to the server. A listing is asked once however many
//! ask at the same time. The kept pages of a list go when the server says it changed
//! (`notifications/…/list_changed`), with the connection (a reconnect starts empty), on a
//! refresh, or for a caller that has seen a change newer than the listing.
//!
//! Only the server's answers are kept, errors included (a failed list stays visible until a
//! refresh); a local failure (timeout, disconnect) is not.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use serde_json::Value;
use tokio::sync::watch;

use super::handle::{Answer, LocalError, SessionHandle};
use crate::wire::Timeout;

/// The list methods kept, and the notification that says each one changed.
pub const LIST_METHODS: [(&str, &str); 4] = [
    ("tools/list", "notifications/tools/list_changed"),
    ("resources/list", "notifications/resources/list_changed"),
    (
        "resources/templates/list",
        "notifications/resources/list_changed",
    ),
    ("prompts/list", "notifications/prompts/list_changed"),
];

type Shared = Result<Arc<Answer>, LocalError>;

/// One page: being listed, or its answer, with the event seq when its listing started and, in
/// the modern era, when the server's `ttlMs` runs out.
struct Page {
    started: u64,
    answer: watch::Receiver<Option<Shared>>,
    expires: Option<Instant>,
}

/// The modern era's caching hint: a list result may be reused for `ttlMs` (missing or not
/// positive: not at all).
fn reuse_for(answer: &Answer) -> Duration {
    #[derive(serde::Deserialize)]
    struct Hint {
        #[serde(rename = "ttlMs")]
        ttl_ms: Option<Value>,
    }
    let crate::wire::Outcome::Result(result) = &answer.outcome else {
        return Duration::ZERO;
    };
    let ms = serde_json::from_str::<Hint>(result.get())
        .ok()
        .and_then(|h| h.ttl_ms)
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0);
    if ms.is_finite() && ms > 0.0 {
        Duration::from_secs_f64(ms / 1000.0)
    } else {
        Duration::ZERO
    }
}

/// A page as the caller gets it: the answer, and whether it was kept from an earlier listing.
pub struct Listed {
    pub answer: Arc<Answer>,
    pub cached: bool,
}

#[derive(Default)]
pub(super) struct Lists {
    pages: Mutex<HashMap<(String, String), Page>>,
}

impl Lists {
    /// The server said `notification`: every kept page of the lists it names goes.
    pub(super) fn changed(&self, notification: &str) {
        let methods: Vec<&str> = LIST_METHODS
            .iter()
            .filter(|(_, n)| *n == notification)
            .map(|(m, _)| *m)
            .collect();
        if !methods.is_empty() {
            self.pages
                .lock()
                .unwrap()
                .retain(|(m, _), _| !methods.contains(&m.as_str()));
        }
    }
}

impl SessionHandle {
    /// One page of a list: kept, being listed, or listed now. `now` is the newest event seq
    /// (a listing started later has seen everything before it); a kept page older than `since`
    /// is listed again, and `refresh` always lists again. A new listing of the first page drops
    /// every kept page of that list (the cursors of the old listing mean nothing any more). In
    /// the `modern` era a page is kept only as long as its `ttlMs` says.
    #[allow(
        clippy::too_many_arguments,
        reason = "one call, each argument a different rule"
    )]
    pub async fn list(
        &self,
        method: &str,
        cursor: Option<&Value>,
        now: u64,
        since: u64,
        refresh: bool,
        modern: bool,
        timeout: Timeout,
    ) -> Result<Listed, LocalError> {
        let key = (
            method.to_owned(),
            cursor.map(Value::to_string).unwrap_or_default(),
        );
        let (mut answer, cached, tx) = {
            let mut pages = self.lists.pages.lock().unwrap();
            let fresh = |p: &Page| p.expires.is_none_or(|e| Instant::now() < e);
            match pages.get(&key) {
                Some(page) if !refresh && page.started >= since && fresh(page) => {
                    let cached = page.answer.borrow().is_some();
                    (page.answer.clone(), cached, None)
                }
                _ => {
                    if cursor.is_none() {
                        pages.retain(|(m, _), _| m != method);
                    }
                    let (tx, rx) = watch::channel(None);
                    pages.insert(
                        key.clone(),
                        Page {
                            started: now,
                            answer: rx.clone(),
                            expires: None,
                        },
                    );
                    (rx, false, Some(tx))
                }
            }
        };
        if let Some(tx) = tx {
            // The listing runs on its own: a caller that goes away (a page reloading) does not
            // leave the page half-listed for the callers after it.
            let handle = self.clone();
            let params = cursor.map(|c| serde_json::json!({ "cursor": c }));
            let method = method.to_owned();
            let waiting = answer.clone();
            tokio::spawn(async move {
                let got = handle.request(method, params, timeout).await.map(Arc::new);
                {
                    let mut pages = handle.lists.pages.lock().unwrap();
                    let ours = pages
                        .get(&key)
                        .is_some_and(|p| p.answer.same_channel(&waiting));
                    match &got {
                        // A local failure is not the server's answer: the next caller asks again.
                        Err(_) if ours => {
                            pages.remove(&key);
                        }
                        Ok(answer) if ours && modern => {
                            if let Some(p) = pages.get_mut(&key) {
                                p.expires = Some(Instant::now() + reuse_for(answer));
                            }
                        }
                        _ => {}
                    }
                }
                tx.send_replace(Some(got));
            });
        }
        let done = answer
            .wait_for(Option::is_some)
            .await
            .map_err(|_| LocalError::Transport("the session ended".into()))?;
        let answer = done.clone().expect("waited for an answer")?;
        Ok(Listed { answer, cached })
    }
}

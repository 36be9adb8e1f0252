//! The resource subscriptions a session holds, derived from the wire rather than from clicks: a
//! `resources/subscribe` of ours that the server answered with a result adds its URI, a
//! successful `resources/unsubscribe` removes it. The list is part of the session object, so
//! every view (and its Subscribe/Unsubscribe button) follows what the server accepted. A new
//! connection starts with none.

use super::actor::Actor;

impl Actor {
    /// One of our requests acting on `subject` got a result; only (un)subscribe changes the
    /// list, and a change is published as a `state` event.
    pub(super) fn subscription_confirmed(&self, method: &str, subject: String) {
        let subscribe = match method {
            "resources/subscribe" => true,
            "resources/unsubscribe" => false,
            _ => return,
        };
        self.reporter
            .update_if(|cur| apply(&mut cur.info.subscriptions, subscribe, subject));
    }
}

/// Adds or removes one URI, keeping subscribe order and no duplicates; true if it changed.
fn apply(list: &mut Vec<String>, subscribe: bool, uri: String) -> bool {
    let at = list.iter().position(|u| *u == uri);
    match (subscribe, at) {
        (true, None) => list.push(uri),
        (false, Some(i)) => {
            list.remove(i);
        }
        _ => return false,
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscribe_order_is_kept_without_duplicates() {
        let mut list = Vec::new();
        assert!(apply(&mut list, true, "b".into()));
        assert!(apply(&mut list, true, "a".into()));
        assert!(!apply(&mut list, true, "b".into()), "already there");
        assert_eq!(list, ["b", "a"]);
        assert!(!apply(&mut list, false, "c".into()), "never subscribed");
        assert!(apply(&mut list, false, "b".into()));
        assert_eq!(list, ["a"]);
    }
}

//! What we send: each message is shown as a `frame` event first, then handed to the transport as
//! a typed [`Outgoing`] (its text, kind, method and our id), so the transport never has to read
//! our JSON-RPC back.

use serde_json::{Value, json};

use super::{actor::Actor, handle::ReplyTo, inflight::Tag};
use crate::{
    events::{Event, FrameEvent},
    transport::{MessageKind, Outgoing, ToTransport},
    wire::{self, Timeout},
};

impl Actor {
    /// Shows a frame in the event stream, then queues it for the wire.
    fn transmit(&self, frame: FrameEvent, message: Outgoing) {
        self.reporter.publish(Event::Frame(frame));
        // A closed channel means the transport is going away; `Closed` will report it.
        let _ = self.link.outgoing.send(ToTransport::Message(message));
    }

    pub(super) fn send_notification(&self, method: &str, params: Option<&Value>) {
        let text = wire::notification(method, params);
        let frame = wire::sent_frame(&text, Some(method), None, "notification");
        self.transmit(
            frame,
            Outgoing {
                text,
                kind: MessageKind::Notification,
                method: Some(method.to_owned()),
            },
        );
    }

    pub(super) fn send_request(
        &mut self,
        method: &str,
        params: Option<Value>,
        timeout: Timeout,
        progress_token: Option<Value>,
        tag: Tag,
    ) -> i64 {
        let (id, text) =
            self.engine
                .start_request(method, params.as_ref(), Some(timeout), progress_token, tag);
        let frame = wire::sent_frame(&text, Some(method), Some(json!(id)), "request");
        self.transmit(
            frame,
            Outgoing {
                text,
                kind: MessageKind::Request { id },
                method: Some(method.to_owned()),
            },
        );
        id
    }

    /// Sends our answer to a server request, noting who chose it.
    pub(super) fn send_answer(
        &self,
        reply_to: &ReplyTo,
        outcome: Result<&Value, &Value>,
        answered_by: Value,
    ) {
        let ReplyTo::JsonRpc(server_id) = reply_to;
        let text = wire::response(server_id, outcome);
        let kind = if outcome.is_ok() { "response" } else { "error" };
        let mut frame = wire::sent_frame(&text, None, Some(server_id.clone()), kind);
        frame.answered_by = Some(answered_by);
        self.transmit(
            frame,
            Outgoing {
                text,
                kind: MessageKind::Response,
                method: None,
            },
        );
    }

    pub(super) fn send_cancelled(&self, request_id: i64, reason: &str) {
        let params = json!({"requestId": request_id, "reason": reason});
        self.send_notification("notifications/cancelled", Some(&params));
    }
}

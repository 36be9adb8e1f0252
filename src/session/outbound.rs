//! What we send: each message is shown as a `frame` event first, then handed to the transport as
//! a typed [`Outgoing`] (its text, kind, method, our id and, in the modern era, the routing
//! headers), so the transport never has to read our JSON-RPC back. In the modern era every
//! request and notification carries the `_meta` keys, added here and nowhere else.

use serde_json::{Value, json};

use super::{
    actor::Actor,
    era::modern::{self, MODERN_VERSION},
    handle::ReplyTo,
    inflight::Tag,
};
use crate::{
    events::{Event, FrameEvent, FrameType},
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
        let (params, headers) = self.envelope(method, params.cloned());
        let text = wire::notification(method, params.as_ref());
        let frame = wire::sent_frame(&text, Some(method), None, FrameType::Notification);
        self.transmit(
            frame,
            Outgoing {
                text,
                kind: MessageKind::Notification,
                method: Some(method.to_owned()),
                headers,
            },
        );
    }

    /// A message's params and extra HTTP headers: in the modern era, the `_meta` keys and the
    /// routing headers; otherwise the params as they are and no headers.
    fn envelope(
        &self,
        method: &str,
        params: Option<Value>,
    ) -> (Option<Value>, Vec<(String, String)>) {
        if !self.modern_wire {
            return (params, Vec::new());
        }
        let params = modern::with_meta(params, &self.options);
        // The header says what the envelope says, so a version the caller set in `_meta`
        // reaches the server consistently (and is refused as such, -32022, not as -32020).
        let version = params
            .get("_meta")
            .and_then(|m| m.get(modern::META_VERSION))
            .and_then(Value::as_str)
            .unwrap_or(MODERN_VERSION);
        let mut headers = vec![("MCP-Protocol-Version".to_owned(), version.to_owned())];
        headers.extend(modern::request_headers(
            method,
            &params,
            self.tool_headers.all(),
        ));
        (Some(params), headers)
    }

    pub(super) fn send_request(
        &mut self,
        method: &str,
        params: Option<Value>,
        timeout: Option<Timeout>,
        progress_token: Option<Value>,
        tag: Tag,
    ) -> i64 {
        let (params, headers) = self.envelope(method, params);
        let (id, text) =
            self.engine
                .start_request(method, params.as_ref(), timeout, progress_token, tag);
        let frame = wire::sent_frame(&text, Some(method), Some(json!(id)), FrameType::Request);
        self.transmit(
            frame,
            Outgoing {
                text,
                kind: MessageKind::Request { id },
                method: Some(method.to_owned()),
                headers,
            },
        );
        id
    }

    /// Sends our answer to a server request, noting who chose it; a modern input request's
    /// answer goes into its call's next round instead.
    pub(super) fn send_answer(
        &mut self,
        reply_to: &ReplyTo,
        outcome: Result<&Value, &Value>,
        answered_by: Value,
    ) {
        let server_id = match reply_to {
            ReplyTo::JsonRpc(id) => id,
            ReplyTo::Input { .. } => return self.input_answered(reply_to, outcome, answered_by),
            ReplyTo::TaskInput { .. } => return self.task_input_answered(reply_to, outcome),
            ReplyTo::ClientTask { task_id } => {
                let task_id = task_id.clone();
                return self.client_task_answered(&task_id, outcome, answered_by);
            }
        };
        let text = wire::response(server_id, outcome);
        let kind = if outcome.is_ok() {
            FrameType::Response
        } else {
            FrameType::Error
        };
        let mut frame = wire::sent_frame(&text, None, Some(server_id.clone()), kind);
        frame.answered_by = Some(answered_by);
        self.transmit(
            frame,
            Outgoing {
                text,
                kind: MessageKind::Response,
                method: None,
                headers: Vec::new(),
            },
        );
    }

    /// Tells the server we gave up on a request. Over modern HTTP that is closing the request's
    /// stream; everywhere else, `notifications/cancelled`.
    pub(super) fn send_cancelled(&self, request_id: i64, reason: &str) {
        if self.modern && self.remote {
            let _ = self.link.outgoing.send(ToTransport::Abandon {
                id: request_id,
                reason: reason.to_owned(),
            });
            return;
        }
        let params = json!({"requestId": request_id, "reason": reason});
        self.send_notification("notifications/cancelled", Some(&params));
    }
}

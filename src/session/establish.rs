//! How a session is established, per the era asked for: the legacy `initialize`, the modern
//! `server/discover` probe (retried once when the server names the version we share), and the
//! `auto` fallback from the probe to `initialize` on anything that is not a modern answer — an
//! error of any code, a result that is not a DiscoverResult, an HTTP refusal, a timeout.

use crate::events::{Era, SessionState};
use std::time::Duration;

use serde_json::json;

use super::{
    EraChoice,
    actor::Actor,
    era::{
        legacy,
        modern::{self, MODERN_VERSION, NotModern},
    },
    inflight::Tag,
};
use crate::{
    events::Severity,
    transport::ToTransport,
    wire::{Outcome, Timeout},
};

/// How long connecting may take before the handshake counts as failed.
pub(super) const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long `auto` waits for a `server/discover` answer before trying `initialize`: a legacy
/// server may ignore an unknown method, and the user should not wait the whole handshake limit.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

impl Actor {
    /// The first message of the connection.
    pub(super) fn establish(&mut self) {
        match self.options.era {
            EraChoice::Legacy => self.send_initialize(),
            EraChoice::Auto | EraChoice::Modern => self.send_discover(false),
        }
    }

    fn send_initialize(&mut self) {
        let init = legacy::initialize_params(&self.options);
        self.send_request(
            "initialize",
            Some(init),
            Some(Timeout::fixed(HANDSHAKE_TIMEOUT)),
            None,
            Tag::Handshake,
        );
    }

    fn send_discover(&mut self, retried: bool) {
        self.modern_wire = true;
        let limit = if self.options.era == EraChoice::Auto {
            PROBE_TIMEOUT
        } else {
            HANDSHAKE_TIMEOUT
        };
        self.send_request(
            "server/discover",
            Some(json!({})),
            Some(Timeout::fixed(limit)),
            None,
            Tag::Discover { retried },
        );
    }

    pub(super) fn discover_answer(&mut self, outcome: Outcome, seq: u64, retried: bool) {
        match modern::interpret_discover(&outcome) {
            Ok(found) => {
                for warning in found.warnings {
                    self.finding(Severity::Warning, warning, seq);
                }
                self.modern = true;
                self.connected = true;
                let _ = self.link.outgoing.send(ToTransport::Modern);
                let log_level = self.options.log_level.clone();
                let capabilities = found.capabilities.clone().unwrap_or_default();
                self.reporter.update(|cur| {
                    cur.info.state = SessionState::Connected;
                    cur.info.era = Some(Era::Modern);
                    cur.info.protocol_version = Some(MODERN_VERSION.to_owned());
                    cur.info.server_info = found.server_info;
                    cur.info.capabilities = found.capabilities;
                    cur.info.instructions = found.instructions;
                    cur.info.discover = Some(found.result);
                    cur.info.log_level = log_level;
                    cur.info.error = None;
                });
                if let Some(ready) = self.ready.take() {
                    let _ = ready.send(());
                }
                self.begin_listening(capabilities);
            }
            // The spec's answer to an unsupported version: retry with one both sides speak.
            Err(NotModern::Unsupported { supported, .. })
                if !retried && supported.iter().any(|v| v == MODERN_VERSION) =>
            {
                self.send_discover(true);
            }
            Err(why) => self.not_modern(why.message().to_owned()),
        }
    }

    /// The probe did not establish the modern era: `auto` falls back to `initialize`, `modern`
    /// ends the connect with the server's reason.
    pub(super) fn not_modern(&mut self, why: String) {
        if self.options.era == EraChoice::Auto {
            self.modern_wire = false;
            self.reporter.publish(crate::events::Event::Finding {
                severity: Severity::Info,
                message: format!(
                    "protocol era auto: {why}; speaking the legacy era (initialize) instead"
                ),
                frame_seq: None,
            });
            self.send_initialize();
        } else {
            self.fail(format!(
                "protocol era modern ({MODERN_VERSION}): {why}{}",
                self.stderr_hint()
            ));
        }
    }
}

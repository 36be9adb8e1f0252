//! `mcpscope open FILE`: a recording as a read-only session. Its events go into the ring as they
//! were written (seq, time, session), and its session object is rebuilt from the header and the
//! last `connected` state it recorded, with state `recorded`, so the UI shows the server as it
//! was and offers nothing that would send.

use crate::session::{Era, SessionState};
use std::path::Path;

use serde_json::{Value, json};

use super::Recording;
use crate::{
    events::{Event, RingLimits},
    session::SessionInfo,
};

/// The session object of an opened recording.
pub fn session_info(recording: &Recording, path: &Path) -> SessionInfo {
    let h = &recording.header;
    let last_connected: Option<SessionInfo> =
        recording
            .events
            .iter()
            .rev()
            .find_map(|r| match r.read().map(|e| e.event) {
                Ok(Event::State(info)) if info.state == SessionState::Connected => Some(*info),
                _ => None,
            });
    let from_state = |f: fn(&SessionInfo) -> &Option<Value>| {
        last_connected.as_ref().and_then(|info| f(info).clone())
    };
    SessionInfo {
        id: Some(h.session.clone()),
        name: Some(h.name.clone().unwrap_or_else(|| file_name(path))),
        state: SessionState::Recorded,
        target: h.target.clone(),
        era: h.era.as_deref().and_then(Era::parse),
        protocol_version: h.protocol_version.clone(),
        server_info: h
            .server_info
            .clone()
            .or_else(|| from_state(|i| &i.server_info)),
        capabilities: from_state(|i| &i.capabilities),
        instructions: from_state(|i| &i.instructions),
        client_capabilities: from_state(|i| &i.client_capabilities),
        recording: Some(json!({
            "file": file_name(path),
            "events": recording.events.len(),
            "header": h,
        })),
        ..SessionInfo::default()
    }
}

/// Ring limits that hold the whole recording and room for what follows.
pub fn limits(recording: &Recording, base: RingLimits) -> RingLimits {
    let bytes: usize = recording.events.iter().map(|r| r.json.len()).sum();
    RingLimits {
        max_events: base.max_events.max(recording.events.len() + 10_000),
        max_bytes: base.max_bytes.max(bytes + 16 * 1024 * 1024),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

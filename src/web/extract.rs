//! Which session a route means: [`Which`], read from the `{id}` of `/api/sessions/{id}/…` or
//! the selected session for the single-session form of the same route, so each handler is
//! written once; and the rule that an opened recording is read-only.

use std::{convert::Infallible, sync::Arc};

use axum::{
    extract::{FromRequestParts, RawPathParams},
    http::request::Parts,
};

use super::{AppState, error::ApiError};
use crate::session::{LocalError, Session, SessionHandle};

/// The session a route names with `{id}`, or none for the single-session routes.
pub(super) struct Which(Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for Which {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Infallible> {
        let id = RawPathParams::from_request_parts(parts, state)
            .await
            .ok()
            .and_then(|p| {
                p.iter()
                    .find(|(k, _)| *k == "id")
                    .map(|(_, v)| v.to_owned())
            });
        Ok(Which(id))
    }
}

impl Which {
    /// The named session (404 when unknown), or the selected one (None when there is none).
    pub(super) fn session(&self, state: &AppState) -> Result<Option<Arc<Session>>, ApiError> {
        match &self.0 {
            Some(id) => state
                .sessions
                .get(id)
                .map(Some)
                .ok_or_else(|| ApiError::NotFound(format!("no session {id:?}"))),
            None => Ok(state.sessions.selected()),
        }
    }

    /// The named or selected session; 404 when there is none.
    pub(super) fn existing(&self, state: &AppState) -> Result<Arc<Session>, ApiError> {
        self.session(state)?
            .ok_or_else(|| ApiError::NotFound("no session".into()))
    }

    /// The session's live connection, if it has one (404 only for an unknown session).
    pub(super) fn live(&self, state: &AppState) -> Result<Option<SessionHandle>, ApiError> {
        Ok(self.session(state)?.and_then(|s| s.handle()))
    }

    /// The session's live connection (409 not connected when there is none, or when it is
    /// an opened recording).
    pub(super) fn handle(&self, state: &AppState) -> Result<SessionHandle, ApiError> {
        if let Some(session) = self.session(state)? {
            writable(&session)?;
        }
        self.live(state)?
            .ok_or(ApiError::Local(LocalError::NotConnected))
    }
}

/// 409 for an opened recording or a tapped session: they show what happened and never send
/// or connect.
pub(super) fn writable(session: &Session) -> Result<(), ApiError> {
    if session.is_tapped() {
        return Err(ApiError::Conflict(
            "this session is tapped: it shows a real client's traffic with its server, and nothing can be sent on it (replay its requests against a live session instead)".into(),
        ));
    }
    if session.is_recording() {
        return Err(ApiError::Conflict(
            "this session is an opened recording: it is read-only and sends nothing (replay it to run it again)".into(),
        ));
    }
    Ok(())
}

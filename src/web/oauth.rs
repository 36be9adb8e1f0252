//! `/oauth/callback`: where an authorization server sends the user's browser back. It needs no
//! API token (a redirect cannot carry one); the guard's Host and Origin checks still apply, and
//! the flow's `state` decides whether anything happens at all. The page shows the outcome as
//! text and never echoes the code.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    extract::{Query, State},
    http::StatusCode,
};

use super::AppState;
use crate::oauth::broker::Callback;

#[derive(Template, WebTemplate)]
#[template(path = "oauth_callback.html")]
pub(super) struct CallbackPage {
    title: &'static str,
    message: String,
}

pub(super) async fn callback(
    State(state): State<AppState>,
    Query(callback): Query<Callback>,
) -> (StatusCode, CallbackPage) {
    let refused_by_server = callback.error.clone();
    match state.oauth.deliver(callback) {
        Ok(step_by_step) => (
            StatusCode::OK,
            CallbackPage {
                title: if refused_by_server.is_some() {
                    "Authorization refused"
                } else {
                    "Authorization received"
                },
                message: match refused_by_server {
                    Some(e) => format!(
                        "The authorization server answered {e:?}; mcpscope shows the details in the session's authorization steps."
                    ),
                    None if step_by_step => "mcpscope checks the answer, then pauses before the token request (step by step): press Continue in its Authorization panel to fetch the token and connect.".into(),
                    None => "mcpscope checks the answer and asks for the token now; its Authorization panel shows how that goes.".into(),
                },
            },
        ),
        Err(why) => (
            StatusCode::BAD_REQUEST,
            CallbackPage {
                title: "Callback refused",
                message: format!("mcpscope refused this callback: {why}."),
            },
        ),
    }
}

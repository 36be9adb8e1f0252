//! Server-rendered pages (askama). They hold no secret: the token never appears in HTML; the page
//! script reads it from the URL the user opened.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use super::AppState;

#[derive(Template, WebTemplate)]
#[template(path = "index.html")]
pub(super) struct Index {
    version: &'static str,
    demo_command: String,
    /// The apps origin's port, for the page to frame MCP App sandboxes from (0: none).
    apps_port: u16,
}

pub(super) async fn index(State(state): State<AppState>) -> Index {
    Index {
        version: env!("CARGO_PKG_VERSION"),
        demo_command: state.demo_command.to_string(),
        apps_port: state.apps_port.unwrap_or(0),
    }
}

//! Static files (`static/`), compiled into the binary: the UI works offline, from one file. The
//! favicon is one of them, also answered where browsers look for it.

use axum::{
    extract::Path,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Assets;

pub(super) async fn asset(Path(path): Path<String>) -> Response {
    serve(&path)
}

/// Browsers ask for `/favicon.ico` on every page load, whatever the page links; without an
/// answer each load logs a 404. They take an SVG there by its content type.
pub(super) async fn favicon() -> Response {
    serve("favicon.svg")
}

fn serve(path: &str) -> Response {
    let Some(file) = Assets::get(path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mime = match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        _ => "application/octet-stream",
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(mime)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        file.data,
    )
        .into_response()
}

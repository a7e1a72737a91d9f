//! The console's static files, embedded in the binary.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// Scripts, styles and data from this origin only; no inline script.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                   img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// (name, content type, bytes).
const FILES: &[(&str, &str, &[u8])] = &[
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../console/app.js"),
    ),
    (
        "style.css",
        "text/css; charset=utf-8",
        include_bytes!("../../console/style.css"),
    ),
    (
        "preact.module.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../console/vendor/preact.module.js"),
    ),
    (
        "hooks.module.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../console/vendor/hooks.module.js"),
    ),
    (
        "htm.module.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../console/vendor/htm.module.js"),
    ),
    (
        "uPlot.esm.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../console/vendor/uPlot.esm.js"),
    ),
    (
        "uPlot.min.css",
        "text/css; charset=utf-8",
        include_bytes!("../../console/vendor/uPlot.min.css"),
    ),
];

const INDEX: &[u8] = include_bytes!("../../console/index.html");

fn with_headers(content_type: &str, body: &'static [u8]) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(content_type).expect("ascii"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

/// `GET /console/`.
pub(super) async fn index() -> Response {
    with_headers("text/html; charset=utf-8", INDEX)
}

/// `GET /console/assets/{file}`.
pub(super) async fn file(Path(name): Path<String>) -> Response {
    match FILES.iter().find(|(n, _, _)| *n == name) {
        Some((_, ty, body)) => with_headers(ty, body),
        None => (StatusCode::NOT_FOUND, "no such file").into_response(),
    }
}

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

/// Which response shape an error takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// `{"code":..,"desc":..}`
    V1,
    /// `{"code":..,"msg":..}`
    V2,
}

/// An admin API error: a NIM code and a readable message. Internal causes are
/// logged where they happen and never returned.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Response shape.
    pub flavor: Flavor,
    /// NIM code.
    pub code: u32,
    /// Readable message.
    pub msg: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.flavor {
            Flavor::V1 => serde_json::json!({"code": self.code, "desc": self.msg}),
            Flavor::V2 => serde_json::json!({"code": self.code, "msg": self.msg}),
        };
        (StatusCode::OK, Json(body)).into_response()
    }
}

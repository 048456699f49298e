//! `ApiError`: every failure a client can see, turned into a JSON response
//! with a clear message. Details beyond that go to the log, not the client.

use axum::Json;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// What a client is told when the on-call store fails, on every route.
/// The store's error names hosts, addresses and keys, so it goes to the
/// log only.
pub const STORE_UNAVAILABLE: &str = "on-call state store unavailable; retry later";

/// A request that could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not acceptable JSON.
    #[error("{0}")]
    BadRequest(String),
    /// The body exceeds the configured limit.
    #[error("request body is larger than the {0}-byte limit (alert.max_body_bytes)")]
    TooLarge(usize),
    /// The body did not arrive in time (`ingest.body_read_timeout`).
    #[error(
        "the request body did not arrive within {0:?} (ingest.body_read_timeout); nothing was sent"
    )]
    BodyTimeout(std::time::Duration),
    /// The on-call store is unreachable: nothing was sent, so the sender's
    /// retry is clean. The store's own error stays in the log.
    #[error("nothing was sent: {STORE_UNAVAILABLE}")]
    Unavailable,
    /// Not JSON at all, by its content type.
    #[error("content type `{0}` is not supported: send application/json")]
    UnsupportedMediaType(String),
    /// Ingest authentication failed (see `server::auth`).
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but not allowed to do this (a query override).
    #[error("{0}")]
    Forbidden(String),
    /// Too many requests in flight: shed, to be retried.
    #[error(
        "the gateway is busy ({max} requests in flight, ingest.max_concurrent_requests): \
         nothing was sent; retry after {retry_after_secs} s"
    )]
    Overloaded {
        /// The configured limit.
        max: usize,
        /// The wait suggested in `Retry-After`.
        retry_after_secs: u64,
    },
    /// An array with more alerts than `ingest.max_alerts`.
    #[error("the array holds {count} alerts, more than the {max} allowed (ingest.max_alerts)")]
    TooManyAlerts {
        /// Alerts sent.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A bug on our side; the details are in the log.
    #[error("internal error; the gateway log has the details")]
    Internal,
    /// No route has this path.
    #[error("no route for `{0}`: the routes are listed in the README's HTTP API section")]
    NotFound(String),
    /// Something upstream of the gateway failed (an SNS certificate could
    /// not be fetched): nothing was delivered, and a retry may succeed.
    #[error("{0}")]
    BadGateway(String),
    /// The route exists, but not for this method.
    #[error("method {method} is not allowed on `{path}`: the Allow header lists the methods")]
    MethodNotAllowed {
        /// The request's method.
        method: Method,
        /// The request's path.
        path: String,
    },
}

/// When a sender may try again after the on-call store did not answer:
/// Redis reconnects within seconds, and the gateway retries it every few
/// seconds (at most 10 s apart) until it answers.
pub const STORE_RETRY_AFTER_SECS: u64 = 5;

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::TooLarge(_) | Self::TooManyAlerts { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::BodyTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Overloaded { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadGateway(_) => StatusCode::BAD_GATEWAY,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
        };
        let mut response = (
            status,
            Json(json!({ "status": "error", "error": self.to_string() })),
        )
            .into_response();
        let headers = response.headers_mut();
        match &self {
            Self::Unauthorized(_) => {
                headers.insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"versus\""),
                );
            }
            Self::Overloaded {
                retry_after_secs, ..
            } => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(*retry_after_secs));
            }
            Self::Unavailable => {
                headers.insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(STORE_RETRY_AFTER_SECS),
                );
            }
            _ => {}
        }
        response
    }
}

/// The router's fallback: a JSON 404 instead of axum's empty one.
pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(uri.path().to_string())
}

/// The fallback for a known path with the wrong method: a JSON 405. Axum
/// still adds the `Allow` header.
pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed {
        method,
        path: uri.path().to_string(),
    }
}

//! One log line and two metrics per request: method, route, status and
//! latency at INFO, [`metric::HTTP_REQUESTS`] by route and status, and
//! [`metric::HTTP_REQUEST_SECONDS`] by route (the webhook's latency is its
//! route's). The route is the router's pattern (`/api/items/{id}`), never
//! the raw path, so a scan of random URLs adds no label values: requests no
//! route matched share the route `unmatched`.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use pricehound_core::metric;
use std::time::Instant;

/// The pattern of the route that answered, carried from the inner layer
/// (where the router has matched) to the outer one (which times it all).
#[derive(Clone)]
struct Route(String);

/// Inner layer (`route_layer`): marks the response with its route.
pub async fn mark_route(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string());
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(Route(route));
    }
    response
}

/// Outer layer: times the request and logs and counts it.
pub async fn observe(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let response = next.run(request).await;
    let elapsed = started.elapsed();
    let route = response
        .extensions()
        .get::<Route>()
        .map(|r| r.0.clone())
        .unwrap_or_else(|| "unmatched".to_string());
    let status = response.status().as_u16();
    tracing::info!(
        method = %method,
        route = %route,
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    metrics::counter!(metric::HTTP_REQUESTS, "route" => route.clone(), "status" => status.to_string())
        .increment(1);
    metrics::histogram!(metric::HTTP_REQUEST_SECONDS, "route" => route)
        .record(elapsed.as_secs_f64());
    response
}

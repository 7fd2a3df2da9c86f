//! Demo ERP for voxgate: the REST API of "Kvarner Home & Garden", a fictional home
//! and garden shop. It stands in for a company's ERP/WMS/CRM in the demo, in
//! end-to-end tests (the reference plugin calls it over HTTP exactly as a real
//! integration would) and in benchmarks, so it is deterministic for a given seed time
//! and answers every bad request with a JSON error instead of panicking.
//!
//! ```no_run
//! # async fn run() -> std::io::Result<()> {
//! let shop = voxgate_demo_erp::Shop::seeded(std::time::SystemTime::now());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! voxgate_demo_erp::serve(listener, shop).await
//! # }
//! ```

mod api;
mod error;
mod knowledge;
pub mod model;
mod recordings;
mod search;
mod seed;
mod shop;
pub mod tx;

use std::future::Future;

pub use api::router;
pub use error::ShopError;
pub use shop::Shop;

/// Serve the shop on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, shop: Shop) -> std::io::Result<()> {
    axum::serve(listener, router(shop)).await
}

/// Serve until `shutdown` completes, then finish in-flight requests and return.
pub async fn serve_with_shutdown<F>(
    listener: tokio::net::TcpListener,
    shop: Shop,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    axum::serve(listener, router(shop))
        .with_graceful_shutdown(shutdown)
        .await
}

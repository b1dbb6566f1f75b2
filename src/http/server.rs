//! The server loop: accepts connections up to a cap, serves each with its timeouts
//! ([`super::connection`]), and shuts down gracefully.
//!
//! Shutdown, on SIGTERM or SIGINT (or the token firing, when embedded): stop accepting; let each
//! connection finish the request it is serving and close (hyper stops keep-alive); the streaming
//! clients watch the same token and end in their own protocol — WebSockets close with 1001, SSE
//! streams send `event: complete`, multipart streams their closing boundary. The loop returns
//! once everything has closed, or when the grace period is over, whichever comes first, so the
//! process exits by itself either way.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::clients::{StreamingClients, Tally};
use super::connection::{serve_connection, ConnectionTimeouts, Held};
use super::ProtocolSettings;
use crate::config::limits::{LimitsConfig, DEFAULT_SHUTDOWN_GRACE_PERIOD};
use crate::config::Config;
use crate::pipeline::Gateway;

/// How the server treats connections (the `limits:` keys that concern sockets).
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    /// `None`: no cap.
    pub max_connections: Option<usize>,
    pub shutdown_grace_period: Duration,
}

impl ServerSettings {
    pub fn new(limits: &LimitsConfig, shutdown_grace_period: Duration) -> Self {
        Self {
            header_read_timeout: limits.header_read_timeout,
            idle_timeout: limits.idle_timeout,
            max_connections: limits.max_connections.as_usize(),
            shutdown_grace_period,
        }
    }

    /// The settings a config asks for, with every default where it says nothing.
    pub fn from_config(config: Option<&Config>) -> Self {
        let limits = config.map(|c| c.limits.clone()).unwrap_or_default();
        let grace = config
            .and_then(|c| c.shutdown_grace_period)
            .unwrap_or(DEFAULT_SHUTDOWN_GRACE_PERIOD);
        Self::new(&limits, grace)
    }
}

/// Serves `gateway` on `listener` with the config's limits until SIGTERM or SIGINT, then shuts
/// down gracefully: the entry point of `seam serve` and `seam demo`.
pub async fn serve_gateway(
    listener: TcpListener,
    gateway: Arc<Gateway>,
    config: Option<&Config>,
) -> io::Result<()> {
    let shutdown = CancellationToken::new();
    let protocol = ProtocolSettings::from_config(config, shutdown.clone());
    let clients = protocol.clients.clone();
    if let Some(addr) = config.and_then(|c| c.telemetry.metrics.listen) {
        serve_metrics(addr, gateway.clone(), clients.clone()).await?;
    }
    let app = super::router_with(gateway, protocol);
    tokio::spawn(cancel_on_signal(shutdown));
    serve(listener, app, ServerSettings::from_config(config), clients).await
}

/// Serves `/metrics` alone on `addr` (`telemetry.metrics.listen`), so scrapers can reach it on
/// an address clients cannot. It lives as long as the process: a scrape is short, and one cut
/// by the exit is simply retried by the scraper.
async fn serve_metrics(
    addr: std::net::SocketAddr,
    gateway: Arc<Gateway>,
    clients: StreamingClients,
) -> io::Result<()> {
    let listener = TcpListener::bind(addr).await.map_err(|error| {
        io::Error::new(
            error.kind(),
            format!("cannot listen on {addr} for telemetry.metrics.listen: {error}"),
        )
    })?;
    let app = super::telemetry::metrics_router(gateway, clients);
    tracing::info!(address = %addr, "serving /metrics");
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            tracing::error!(%error, "the metrics listener failed");
        }
    });
    Ok(())
}

/// Serves `app` until `clients.shutdown()` fires, then drains within the grace period. The
/// router's streaming endpoints must have been built with the same `clients`, so they end
/// when the token fires and are waited for.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    settings: ServerSettings,
    clients: StreamingClients,
) -> io::Result<()> {
    let shutdown = clients.shutdown().clone();
    let places = settings
        .max_connections
        .map(|max| Arc::new(Semaphore::new(max.min(Semaphore::MAX_PERMITS))));
    let connections = Tally::default();
    let timeouts = ConnectionTimeouts {
        header_read: settings.header_read_timeout,
        idle: settings.idle_timeout,
    };
    loop {
        // Waiting for a place before accepting leaves further clients in the listen backlog,
        // where they wait for a connection to close instead of being refused.
        let permit = match &places {
            Some(places) => tokio::select! {
                permit = places.clone().acquire_owned() => permit.ok(),
                () = shutdown.cancelled() => break,
            },
            None => None,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    accept_failed(error).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        let held = Held {
            _counted: connections.enter(),
            _permit: permit,
        };
        tokio::spawn(serve_connection(
            stream,
            peer,
            held,
            app.clone(),
            timeouts,
            shutdown.clone(),
        ));
    }
    drop(listener);
    tracing::info!(
        connections = connections.open(),
        streaming_clients = clients.open(),
        grace_period = %humantime::format_duration(settings.shutdown_grace_period),
        "shutting down: no new connections; waiting for requests and streams to finish"
    );
    let drained = async {
        connections.all_closed().await;
        clients.all_closed().await;
    };
    match tokio::time::timeout(settings.shutdown_grace_period, drained).await {
        Ok(()) => tracing::info!("every connection closed; shut down"),
        Err(_) => tracing::warn!(
            connections = connections.open(),
            streaming_clients = clients.open(),
            "the grace period is over; closing what is still open"
        ),
    }
    Ok(())
}

/// A failed `accept` is about one client (it left before being accepted) or about the process
/// (out of file descriptors): either way the loop goes on, after a pause in the second case so
/// it does not spin while nothing can be accepted.
async fn accept_failed(error: io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset, Interrupted};
    if matches!(
        error.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset | Interrupted
    ) {
        return;
    }
    tracing::warn!(%error, "cannot accept connections; retrying in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Fires `shutdown` on the first SIGTERM or SIGINT.
pub async fn cancel_on_signal(shutdown: CancellationToken) {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutdown signal received");
    shutdown.cancel();
}

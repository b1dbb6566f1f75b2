//! A real subgraph that records every call it runs, a real Seam in front of it built from a
//! config with the edge sections under test, and a second origin serving a page, all on
//! 127.0.0.1 port 0.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_graphql::{Context, Object, Schema, Subscription};
use async_graphql_axum::{GraphQL, GraphQLSubscription};
use axum::response::Html;
use axum::routing::{get, post_service};
use axum::Router;
use futures::future;
use futures::stream::{Stream, StreamExt};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

use seam::config::Config;
use seam::Gateway;

/// What the subgraph ran, in order: `hello` for each query, `record:<note>` for each mutation.
pub type Calls = Arc<Mutex<Vec<String>>>;

#[derive(Clone, Default)]
struct Probe {
    calls: Calls,
    /// Subscription streams started, so a test publishes only once a subscriber listens.
    listening: Arc<AtomicUsize>,
}

struct Query;

#[Object(name = "Query")]
impl Query {
    async fn hello(&self, ctx: &Context<'_>) -> &'static str {
        ctx.data_unchecked::<Probe>()
            .calls
            .lock()
            .unwrap()
            .push("hello".into());
        "world"
    }
}

struct Mutation;

#[Object(name = "Mutation")]
impl Mutation {
    /// Records the call and announces the note to `noted` subscribers; answers how many calls
    /// the subgraph has run.
    async fn record(&self, ctx: &Context<'_>, note: String) -> i32 {
        let probe = ctx.data_unchecked::<Probe>();
        let count = {
            let mut calls = probe.calls.lock().unwrap();
            calls.push(format!("record:{note}"));
            calls.len() as i32
        };
        let _ = ctx.data_unchecked::<broadcast::Sender<String>>().send(note);
        count
    }
}

struct Subscription;

#[Subscription(name = "Subscription")]
impl Subscription {
    async fn noted(&self, ctx: &Context<'_>) -> impl Stream<Item = String> {
        let notes = ctx
            .data_unchecked::<broadcast::Sender<String>>()
            .subscribe();
        ctx.data_unchecked::<Probe>()
            .listening
            .fetch_add(1, Ordering::SeqCst);
        BroadcastStream::new(notes).filter_map(|note| future::ready(note.ok()))
    }
}

pub async fn spawn_router(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind test port");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

/// Seam in front of the recording subgraph.
pub struct Edge {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT/graphql`
    pub url: String,
    /// `http://127.0.0.1:PORT`, the gateway's own origin.
    pub origin: String,
    probe: Probe,
    notes: broadcast::Sender<String>,
}

impl Edge {
    /// Starts the subgraph and Seam, whose config gets `edge_yaml` (top-level `cors:`, `csrf:`,
    /// `graphiql:` lines) after the subgraph list.
    pub async fn start(edge_yaml: &str) -> Edge {
        let probe = Probe::default();
        let (notes, _) = broadcast::channel(16);
        let schema = Schema::build(Query, Mutation, Subscription)
            .enable_federation()
            .enable_subscription_in_federation()
            .data(probe.clone())
            .data(notes.clone())
            .finish();
        let subgraph = Router::new().route(
            "/graphql",
            post_service(GraphQL::new(schema.clone()))
                .get_service(GraphQLSubscription::new(schema)),
        );
        let subgraph_addr = spawn_router(subgraph).await;
        let yaml = format!(
            "subgraphs:\n  - name: notes\n    url: http://{subgraph_addr}/graphql\n{edge_yaml}"
        );
        let config = Config::from_yaml_str(&yaml, Path::new(".")).expect("test config");
        // The embedding entry point, so its wiring of the edge settings is what runs.
        let router = Gateway::builder()
            .config(config)
            .build()
            .await
            .expect("router");
        let addr = spawn_router(router).await;
        Edge {
            addr,
            url: format!("http://{addr}/graphql"),
            origin: format!("http://{addr}"),
            probe,
            notes,
        }
    }

    /// What the subgraph has run so far.
    pub fn calls(&self) -> Vec<String> {
        self.probe.calls.lock().unwrap().clone()
    }

    /// Waits until `count` subscription streams have started at the subgraph.
    pub async fn wait_for_subscribers(&self, count: usize) {
        let started = Instant::now();
        while self.probe.listening.load(Ordering::SeqCst) < count {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no subscriber reached the subgraph"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Announces a note to `noted` subscribers without recording a call.
    pub fn announce(&self, note: &str) {
        let _ = self.notes.send(note.to_owned());
    }
}

/// Another origin (same host, another port) serving one page.
pub async fn other_origin(html: &'static str) -> String {
    let router = Router::new().route("/", get(move || async move { Html(html) }));
    let addr = spawn_router(router).await;
    format!("http://{addr}")
}

//! `seam-sub-bench`: subscriptions at scale. Seam runs as a child process (the `seam` binary next
//! to this one) with one event subgraph and the in-process bridge; this program is the clients
//! and the publisher.
//!
//! 1. Idle: opens `--idle` WebSocket clients (graphql-transport-ws), each holding one
//!    subscription, and reports the gateway's resident memory per subscription.
//! 2. Fan-out: `--subscribers` clients hold the same subscription while events are published
//!    through the gateway's publish endpoint at each of `--rates` events per second for
//!    `--duration` seconds; reports delivery latency p50/p99 (publish to receipt) and events lost.
//!
//! `cargo build --release && ./target/release/seam-sub-bench [--idle 10000] [--subscribers 1000]
//!  [--rates 50,100,200] [--duration 10]`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

mod support;
use support::SeamProcess;

const TOKEN: &str = "seam-sub-bench";

const EVENTS_SDL: &str = r#"extend schema
  @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  @link(url: "https://seam.dev/bridge/v0.1", import: ["@subscribe"])

type Subscription {
  ticks: Tick! @subscribe(topic: "bench.ticks")
}

type Tick {
  seq: Int!
  sentAt: Float!
}
"#;

const SUBSCRIPTION: &str = "subscription { ticks { seq sentAt } }";

struct Args {
    idle: usize,
    subscribers: usize,
    rates: Vec<u32>,
    duration: Duration,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        idle: 10_000,
        subscribers: 1_000,
        rates: vec![50, 100, 200],
        duration: Duration::from_secs(10),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |v: &str| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| format!("{flag}: `{v}` is not a number"))
        };
        match flag.as_str() {
            "--idle" => args.idle = number(&value)? as usize,
            "--subscribers" => args.subscribers = number(&value)?.max(1) as usize,
            "--duration" => args.duration = Duration::from_secs(number(&value)?.max(1)),
            "--rates" => {
                args.rates = value
                    .split(',')
                    .map(|r| number(r).map(|n| n.max(1) as u32))
                    .collect::<Result<_, _>>()?
            }
            _ => {
                return Err(format!(
                "unknown flag {flag}; flags: --idle N --subscribers N --rates A,B,C --duration S"
            ))
            }
        }
    }
    Ok(args)
}

/// The demo subgraphs give the supergraph its `Query` root; the events come from the bridge.
async fn start_gateway() -> Result<SeamProcess, String> {
    let subgraphs =
        seam::demo::spawn_subgraphs(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
            .await
            .map_err(|e| format!("cannot start the demo subgraphs: {e}"))?;
    let dir = support::scratch_dir("seam-sub-bench")?;
    std::fs::write(dir.join("events.graphql"), EVENTS_SDL).map_err(|e| e.to_string())?;
    let config = dir.join("seam.yaml");
    std::fs::write(
        &config,
        format!(
            // `--idle` may ask for more sockets than the production caps allow.
            "{}  - name: events\n    sdl: events.graphql\nbridge:\n  backend: memory\n  publish_token: {TOKEN}\n\
             limits:\n  max_connections: unlimited\n  max_streaming_clients: unlimited\n",
            support::demo_subgraphs_yaml(&subgraphs)
        ),
    )
    .map_err(|e| e.to_string())?;
    support::start_seam(&config).await
}

/// Resident memory of a process in KiB, from /proc (Linux).
fn rss_kib(pid: u32) -> Option<u64> {
    support::status_kib(pid, "VmRSS")
}

fn now_micros() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as f64)
        .unwrap_or(0.0)
}

/// What every fan-out client records: per event received, the latency in microseconds.
#[derive(Default)]
struct Deliveries {
    latencies_us: Mutex<Vec<u32>>,
    received: AtomicUsize,
    errors: AtomicUsize,
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Connects, initialises and subscribes; returns once the server acknowledged the connection.
async fn subscribe(port: u16) -> Result<Socket, String> {
    let mut request = format!("ws://127.0.0.1:{port}/graphql")
        .into_client_request()
        .map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|e| e.to_string())?;
    let init = json!({ "type": "connection_init" }).to_string();
    socket
        .send(Message::text(init))
        .await
        .map_err(|e| e.to_string())?;
    loop {
        match socket.next().await {
            Some(Ok(Message::Text(text))) => {
                let message: Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
                if message["type"] == "connection_ack" {
                    break;
                }
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("closed before connection_ack".into()),
        }
    }
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": SUBSCRIPTION } });
    socket
        .send(Message::text(subscribe.to_string()))
        .await
        .map_err(|e| e.to_string())?;
    Ok(socket)
}

/// Reads events until the socket closes, recording latency from the event's `sentAt`. The
/// client does as little as it can per message (finds two numbers, no JSON tree, no shared lock)
/// so that the machine's two cores go to the gateway being measured.
async fn read_events(
    mut socket: Socket,
    deliveries: Arc<Deliveries>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut latencies = Vec::new();
    loop {
        let message = tokio::select! {
            message = socket.next() => message,
            _ = stop.changed() => break,
        };
        let Some(Ok(message)) = message else {
            break;
        };
        let Message::Text(text) = message else {
            continue;
        };
        let received_at = now_micros();
        let text = text.as_str();
        if text.contains("\"type\":\"next\"") {
            match number_after(text, "\"sentAt\":") {
                Some(sent_at) => {
                    latencies.push((received_at - sent_at).max(0.0) as u32);
                }
                None => {
                    deliveries.errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        } else if text.contains("\"type\":\"ping\"") {
            let _ = socket
                .send(Message::text(json!({ "type": "pong" }).to_string()))
                .await;
        } else if text.contains("\"type\":\"error\"") || text.contains("\"type\":\"complete\"") {
            deliveries.errors.fetch_add(1, Ordering::Relaxed);
            break;
        }
    }
    deliveries
        .received
        .fetch_add(latencies.len(), Ordering::Relaxed);
    if let Ok(mut all) = deliveries.latencies_us.lock() {
        all.extend(latencies);
    }
}

/// The number that follows `key` in `text`.
fn number_after(text: &str, key: &str) -> Option<f64> {
    let rest = &text[text.find(key)? + key.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// Opens `count` subscribed clients, a few at a time so the accept queue never overflows.
async fn open_clients(port: u16, count: usize) -> Result<Vec<Socket>, String> {
    let mut sockets = Vec::with_capacity(count);
    let mut pending = futures::stream::iter(0..count)
        .map(|_| subscribe(port))
        .buffer_unordered(64);
    while let Some(socket) = pending.next().await {
        sockets.push(socket?);
    }
    Ok(sockets)
}

async fn idle_phase(gateway: &SeamProcess, count: usize) -> Result<(), String> {
    let pid = gateway.child.id();
    // A first client warms the schema, the operation cache and the bridge topic.
    let warm = open_clients(gateway.port, 1).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid).ok_or("cannot read the gateway's memory")?;
    let started = Instant::now();
    let sockets = open_clients(gateway.port, count).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid).ok_or("cannot read the gateway's memory")?;
    let per_sub = (after.saturating_sub(before)) as f64 * 1024.0 / count.max(1) as f64;
    println!(
        "idle: {count} subscriptions opened in {:.1} s; gateway RSS {:.1} MiB -> {:.1} MiB: {:.1} KB per subscription",
        started.elapsed().as_secs_f64(),
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        per_sub / 1000.0
    );
    drop(sockets);
    drop(warm);
    tokio::time::sleep(Duration::from_secs(2)).await;
    if let Some(released) = rss_kib(pid) {
        println!(
            "idle: after closing them the gateway holds {:.1} MiB",
            released as f64 / 1024.0
        );
    }
    Ok(())
}

async fn fan_out_phase(gateway: &SeamProcess, subscribers: usize, rate: u32, duration: Duration) {
    let sockets = match open_clients(gateway.port, subscribers).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("fan-out: cannot open clients: {e}");
            return;
        }
    };
    let deliveries = Arc::new(Deliveries::default());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let readers: Vec<_> = sockets
        .into_iter()
        .map(|s| tokio::spawn(read_events(s, deliveries.clone(), stopped.clone())))
        .collect();
    // Let every subscription reach the bridge before the first event.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let client = reqwest::Client::new();
    let url = gateway.url("/bridge/publish");
    let total = (rate as u64 * duration.as_secs()) as usize;
    let mut ticker = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut publish_failures = 0;
    let cpu_before = support::process_cpu(gateway.child.id());
    let own_cpu_before = support::process_cpu(std::process::id());
    for seq in 0..total {
        ticker.tick().await;
        let body =
            json!({ "topic": "bench.ticks", "payload": { "seq": seq, "sentAt": now_micros() } });
        let sent = client
            .post(&url)
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await;
        if !sent.is_ok_and(|r| r.status().is_success()) {
            publish_failures += 1;
        }
    }
    // Time for the last events to arrive; then every reader stops and reports.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let _ = stop.send(true);
    for reader in readers {
        let _ = reader.await;
    }
    let cpu = match (cpu_before, support::process_cpu(gateway.child.id())) {
        (Some(before), Some(after)) => format!(
            ", gateway CPU {:.0} % of one core",
            (after - before).as_secs_f64() * 100.0 / (duration.as_secs_f64() + 2.0)
        ),
        _ => String::new(),
    };
    let expected = (total - publish_failures) * subscribers;
    let received = deliveries.received.load(Ordering::Relaxed);
    // This process is the clients (and the publisher, the same in every run): its CPU per
    // delivered message is what reading the gateway's streams costs a client.
    let client_cpu = match (own_cpu_before, support::process_cpu(std::process::id())) {
        (Some(before), Some(after)) if received > 0 => format!(
            ", client CPU {:.1} µs per message",
            (after - before).as_secs_f64() * 1e6 / received as f64
        ),
        _ => String::new(),
    };
    let mut latencies = deliveries
        .latencies_us
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default();
    latencies.sort_unstable();
    let pct = |p: f64| -> f64 {
        if latencies.is_empty() {
            return 0.0;
        }
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies[i] as f64 / 1000.0
    };
    let lost = expected.saturating_sub(received);
    println!(
        "fan-out {rate:>3} events/s x {subscribers} subscribers: p50 {:.1} ms, p99 {:.1} ms, \
         delivered {received} of {expected} ({} lost, {:.2} %), {} publish failures, {} client errors{cpu}{client_cpu}",
        pct(0.50),
        pct(0.99),
        lost,
        lost as f64 * 100.0 / expected.max(1) as f64,
        publish_failures,
        deliveries.errors.load(Ordering::Relaxed),
    );
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("seam-sub-bench: {e}");
            std::process::exit(2);
        }
    };
    let gateway = match start_gateway().await {
        Ok(g) => g,
        Err(e) => {
            eprintln!("seam-sub-bench: {e}");
            std::process::exit(1);
        }
    };
    if args.idle > 0 {
        if let Err(e) = idle_phase(&gateway, args.idle).await {
            eprintln!("seam-sub-bench: idle phase: {e}");
        }
    }
    for &rate in &args.rates {
        fan_out_phase(&gateway, args.subscribers, rate, args.duration).await;
    }
}

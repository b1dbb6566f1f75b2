//! `seam-bench`: throughput and latency of Seam in front of the demo subgraphs, and of one subgraph
//! alone as the ceiling.
//!
//! The subgraphs and the load generator run in this process; Seam runs as a child process (the
//! `seam` binary next to this one) so its CPU time per request can be read from /proc.
//!
//! `cargo build --release && ./target/release/seam-bench [--duration 10] [--concurrency 32] [--first 100]`

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

mod support;
use support::SeamProcess;

struct Args {
    duration: Duration,
    warmup: Duration,
    concurrency: usize,
    first: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        duration: Duration::from_secs(10),
        warmup: Duration::from_secs(2),
        concurrency: 32,
        first: 100,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number: u64 = value
            .parse()
            .map_err(|_| format!("{flag}: `{value}` is not a number"))?;
        match flag.as_str() {
            "--duration" => args.duration = Duration::from_secs(number.max(1)),
            "--warmup" => args.warmup = Duration::from_secs(number),
            "--concurrency" => args.concurrency = number.max(1) as usize,
            "--first" => args.first = number.max(1) as usize,
            _ => {
                return Err(format!(
                    "unknown flag {flag}; flags: --duration S --warmup S --concurrency N --first N"
                ))
            }
        }
    }
    Ok(args)
}

/// The gateway query: all four subgraphs, entity fetches at two levels, `@requires`.
fn gateway_query(first: usize) -> String {
    format!(
        "{{ topProducts(first: {first}) {{ upc name price weight inStock shippingEstimate \
         warehouse {{ name city }} reviews {{ id body rating author {{ id username name birthYear }} }} }} }}"
    )
}

/// The ceiling: one subgraph answering a query of similar shape on its own.
fn subgraph_query(first: usize) -> String {
    format!("{{ topReviews(first: {}) {{ id body rating author {{ id username }} product {{ upc }} }} }}", first * 5)
}

struct Report {
    requests: usize,
    errors: usize,
    elapsed: Duration,
    latencies_us: Vec<u32>,
    bytes: usize,
}

impl Report {
    fn print(&self, label: &str, cpu: Option<Duration>) {
        let mut lat = self.latencies_us.clone();
        lat.sort_unstable();
        let pct = |p: f64| -> f64 {
            if lat.is_empty() {
                return 0.0;
            }
            let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
            lat[i] as f64 / 1000.0
        };
        let rps = self.requests as f64 / self.elapsed.as_secs_f64();
        print!(
            "{label:<28} {rps:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   errors {}   response {:.1} KB",
            pct(0.5),
            pct(0.99),
            self.errors,
            self.bytes as f64 / 1024.0
        );
        if let Some(cpu) = cpu {
            if self.requests > 0 {
                print!(
                    "   gateway CPU {:.3} ms/req",
                    cpu.as_secs_f64() * 1000.0 / self.requests as f64
                );
            }
        }
        println!();
    }
}

/// Warms up (connections open, caches filled), then measures; `cpu` reads the gateway's CPU time
/// just around the measured run.
async fn load(
    url: &str,
    body: serde_json::Value,
    args: &Args,
    cpu: impl Fn() -> Option<Duration>,
) -> (Report, Option<Duration>) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .tcp_nodelay(true)
        .build()
        .unwrap_or_default();
    let body = Arc::new(serde_json::to_vec(&body).unwrap_or_default());
    run_clients(&client, url, &body, args.concurrency, args.warmup).await;
    let before = cpu();
    let report = run_clients(&client, url, &body, args.concurrency, args.duration).await;
    let used = match (before, cpu()) {
        (Some(a), Some(b)) => Some(b.saturating_sub(a)),
        _ => None,
    };
    (report, used)
}

async fn run_clients(
    client: &reqwest::Client,
    url: &str,
    body: &Arc<Vec<u8>>,
    concurrency: usize,
    duration: Duration,
) -> Report {
    let start = Instant::now();
    let deadline = start + duration;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let client = client.clone();
        let url = url.to_owned();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            let mut bytes = 0;
            while Instant::now() < deadline {
                let t = Instant::now();
                let result = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.as_ref().clone())
                    .send()
                    .await;
                match result {
                    Ok(r) if r.status().is_success() => match r.bytes().await {
                        Ok(b) if !b.windows(9).any(|w| w == b"\"errors\":") => {
                            bytes = b.len();
                            latencies.push(t.elapsed().as_micros().min(u32::MAX as u128) as u32);
                        }
                        _ => errors += 1,
                    },
                    _ => errors += 1,
                }
            }
            (latencies, errors, bytes)
        }));
    }
    let mut report = Report {
        requests: 0,
        errors: 0,
        elapsed: Duration::ZERO,
        latencies_us: Vec::new(),
        bytes: 0,
    };
    for t in tasks {
        if let Ok((latencies, errors, bytes)) = t.await {
            report.requests += latencies.len();
            report.latencies_us.extend(latencies);
            report.errors += errors;
            report.bytes = report.bytes.max(bytes);
        }
    }
    report.elapsed = start.elapsed();
    report
}

async fn start_gateway(subgraphs: &[seam::demo::DemoSubgraph]) -> Result<SeamProcess, String> {
    let dir = support::scratch_dir("seam-bench")?;
    let config = dir.join("seam.yaml");
    std::fs::write(&config, support::demo_subgraphs_yaml(subgraphs)).map_err(|e| e.to_string())?;
    support::start_seam(&config).await
}

#[tokio::main]
async fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("seam-bench: {e}");
            std::process::exit(2);
        }
    };
    let subgraphs = match seam::demo::spawn_subgraphs(IpAddr::V4(Ipv4Addr::LOCALHOST)).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("seam-bench: cannot start the demo subgraphs: {e}");
            std::process::exit(1);
        }
    };
    let gateway = match start_gateway(&subgraphs).await {
        Ok(g) => g,
        Err(e) => {
            eprintln!("seam-bench: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "seam-bench: {} s per run after {} s warm-up, {} concurrent connections, topProducts(first: {})",
        args.duration.as_secs(),
        args.warmup.as_secs(),
        args.concurrency,
        args.first
    );
    let pid = gateway.child.id();
    let query = json!({ "query": gateway_query(args.first) });
    let (report, cpu) = load(&gateway.url("/graphql"), query, &args, || {
        support::process_cpu(pid)
    })
    .await;
    report.print("seam (4 subgraphs)", cpu);
    if let Some(reviews) = subgraphs.iter().find(|s| s.name == "reviews") {
        let query = json!({ "query": subgraph_query(args.first) });
        let (report, _) = load(&reviews.url, query, &args, || None).await;
        report.print("reviews subgraph alone", None);
    }
}

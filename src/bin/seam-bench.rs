//! `seam-bench`: throughput, latency, CPU time and peak memory of Seam in front of the demo
//! subgraphs, in each deduplication mode, and of one subgraph alone as the ceiling.
//!
//! The subgraphs and the load generator run in this process; Seam runs as a child process (the
//! `seam` binary next to this one), a fresh one per mode and run, so its CPU time per request and
//! its peak resident memory can be read from /proc apart from the load generator.
//!
//! `cargo build --release && ./target/release/seam-bench [--duration 10] [--warmup 2]
//! [--concurrency 32] [--first N] [--query products|gateways] [--data shop|compact]
//! [--modes none,subgraph,both] [--runs 1] [--trace-runs N]`
//!
//! `--data compact` serves data sized like the public gateway benchmark's (6 users, 5
//! products, 10 long reviews); it is the default for `--query gateways`, whose answer on the
//! shop's data is about 65 times larger than there.
//!
//! `--trace-runs N` measures what tracing costs instead: N rounds, each starting Seam (subgraph
//! dedup on) once with tracing off and once with every trace sampled and exported over OTLP/HTTP
//! to a receiver in this process (which reads and discards the exports, so its work is not Seam's
//! CPU). The two alternate, swapping order every round, so load from elsewhere on the machine
//! falls on both alike; it prints each run and the medians.
//!
//! Another gateway is measured the same way in two steps: `seam-bench --serve-subgraphs PORT
//! --data compact` serves the demo subgraphs on PORT..PORT+3 (accounts, products, reviews,
//! inventory) until stopped; with that gateway started in front of them, `seam-bench --against
//! URL --pid PID [--query gateways] ...` sends the load to URL and reads the CPU time and peak
//! memory of process PID, once per run, without starting Seam.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

mod support;
use support::SeamProcess;

/// Which query the clients send.
#[derive(Clone, Copy, PartialEq)]
enum QueryKind {
    /// `topProducts(first:)` with every subgraph, entity fetches at two levels and `@requires`.
    Products,
    /// The public gateway benchmark's query (graphql-hive/graphql-gateways-benchmark): `users`
    /// and `topProducts`, nested three entity levels deep, the same entities met on many paths.
    Gateways,
}

/// Which in-flight deduplication the gateway runs with (`traffic` in its config).
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    None,
    Subgraph,
    Both,
}

impl Mode {
    fn parse(name: &str) -> Result<Mode, String> {
        match name {
            "none" => Ok(Mode::None),
            "subgraph" => Ok(Mode::Subgraph),
            "both" => Ok(Mode::Both),
            _ => Err(format!("unknown mode `{name}`: none | subgraph | both")),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Mode::None => "seam, no dedup",
            Mode::Subgraph => "seam, subgraph dedup",
            Mode::Both => "seam, client+subgraph dedup",
        }
    }

    fn traffic_yaml(self) -> String {
        let (subgraph, client) = match self {
            Mode::None => (false, false),
            Mode::Subgraph => (true, false),
            Mode::Both => (true, true),
        };
        format!(
            "traffic:\n  dedupe_subgraph_requests: {subgraph}\n  dedupe_client_requests: {client}\n"
        )
    }
}

struct Args {
    duration: Duration,
    warmup: Duration,
    concurrency: usize,
    first: Option<usize>,
    query: QueryKind,
    modes: Vec<Mode>,
    runs: usize,
    trace_runs: usize,
    /// The demo subgraphs' data; by default the shop for `products`, the compact set (sized
    /// like the public benchmark's) for `gateways`.
    data: Option<seam::demo::Dataset>,
    /// Serve the subgraphs on these ports and wait, for a gateway started by hand.
    serve_subgraphs: Option<u16>,
    /// Load a gateway that is already running (its GraphQL URL and process) instead of Seam.
    against: Option<(String, u32)>,
    /// Seam's `worker_threads`; its default (one per core) when absent.
    worker_threads: Option<usize>,
}

const USAGE: &str = "flags: --duration S --warmup S --concurrency N --first N \
                     --query products|gateways --data shop|compact --modes none,subgraph,both \
                     --runs N --trace-runs N --worker-threads N --serve-subgraphs PORT --against URL --pid PID";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        duration: Duration::from_secs(10),
        warmup: Duration::from_secs(2),
        concurrency: 32,
        first: None,
        query: QueryKind::Products,
        modes: vec![Mode::None, Mode::Subgraph, Mode::Both],
        runs: 1,
        trace_runs: 0,
        data: None,
        serve_subgraphs: None,
        against: None,
        worker_threads: None,
    };
    let mut against_url = None;
    let mut against_pid = None;
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = || -> Result<u64, String> {
            value
                .parse()
                .map_err(|_| format!("{flag}: `{value}` is not a number"))
        };
        match flag.as_str() {
            "--duration" => args.duration = Duration::from_secs(number()?.max(1)),
            "--warmup" => args.warmup = Duration::from_secs(number()?),
            "--concurrency" => args.concurrency = number()?.max(1) as usize,
            "--first" => args.first = Some(number()?.max(1) as usize),
            "--runs" => args.runs = number()?.max(1) as usize,
            "--worker-threads" => args.worker_threads = Some(number()?.max(1) as usize),
            "--trace-runs" => args.trace_runs = number()? as usize,
            "--query" => {
                args.query = match value.as_str() {
                    "products" => QueryKind::Products,
                    "gateways" => QueryKind::Gateways,
                    _ => return Err(format!("unknown query `{value}`; {USAGE}")),
                }
            }
            "--data" => {
                args.data = Some(match value.as_str() {
                    "shop" => seam::demo::Dataset::Shop,
                    "compact" => seam::demo::Dataset::Compact,
                    _ => return Err(format!("unknown data `{value}`; {USAGE}")),
                })
            }
            "--modes" => {
                args.modes = value
                    .split(',')
                    .map(|m| Mode::parse(m.trim()))
                    .collect::<Result<_, _>>()?
            }
            "--serve-subgraphs" => {
                args.serve_subgraphs =
                    Some(u16::try_from(number()?).map_err(|_| format!("{flag}: not a port"))?)
            }
            "--against" => against_url = Some(value),
            "--pid" => {
                against_pid =
                    Some(u32::try_from(number()?).map_err(|_| format!("{flag}: not a PID"))?)
            }
            _ => return Err(format!("unknown flag {flag}; {USAGE}")),
        }
    }
    args.against = match (against_url, against_pid) {
        (Some(_), Some(_)) if args.serve_subgraphs.is_some() || args.trace_runs > 0 => {
            return Err(format!(
                "--against measures a running gateway: not with --serve-subgraphs or --trace-runs; {USAGE}"
            ))
        }
        (Some(url), Some(pid)) => Some((url, pid)),
        (None, None) => None,
        _ => return Err(format!("--against and --pid go together; {USAGE}")),
    };
    if args.worker_threads.is_some() && (args.against.is_some() || args.serve_subgraphs.is_some()) {
        return Err(format!(
            "--worker-threads sizes the Seam that seam-bench starts: not with --against or --serve-subgraphs; {USAGE}"
        ));
    }
    Ok(args)
}

/// The gateway query: all four subgraphs, entity fetches at two levels, `@requires`.
fn products_query(first: usize) -> String {
    format!(
        "{{ topProducts(first: {first}) {{ upc name price weight inStock shippingEstimate \
         warehouse {{ name city }} reviews {{ id body rating author {{ id username name birthYear }} }} }} }}"
    )
}

/// The public gateway benchmark's operation, with `topProducts(first:)` to scale it.
fn gateways_query(first: usize) -> String {
    format!(
        "fragment User on User {{ id username name }} \
         fragment Review on Review {{ id body }} \
         fragment Product on Product {{ inStock name price shippingEstimate upc weight }} \
         query TestQuery {{ \
           users {{ ...User reviews {{ ...Review product {{ ...Product reviews {{ ...Review \
             author {{ ...User reviews {{ ...Review product {{ ...Product }} }} }} }} }} }} }} \
           topProducts(first: {first}) {{ ...Product reviews {{ ...Review \
             author {{ ...User reviews {{ ...Review product {{ ...Product }} }} }} }} }} \
         }}"
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

/// One run's numbers, kept to take medians over runs.
#[derive(Clone, Copy)]
struct Measurement {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: usize,
    response_kb: f64,
    cpu_ms_per_request: Option<f64>,
    /// Subgraph requests answered per client request: what batching and sharing saved.
    subgraph_calls_per_request: Option<f64>,
    peak_rss_mb: Option<f64>,
}

/// What is read just before and just after the measured run: the gateway's CPU time and the
/// requests answered by the subgraphs this process serves.
#[derive(Clone, Copy, Default)]
struct Readings {
    cpu: Option<Duration>,
    subgraph_calls: Option<u64>,
}

impl Readings {
    /// Process `pid`'s CPU time and the requests `subgraphs` have answered.
    fn take(pid: u32, subgraphs: &[seam::demo::DemoSubgraph]) -> Readings {
        let calls = subgraphs
            .iter()
            .map(|s| {
                Some(
                    s.served
                        .as_ref()?
                        .load(std::sync::atomic::Ordering::Relaxed),
                )
            })
            .sum::<Option<u64>>()
            .filter(|_| !subgraphs.is_empty());
        Readings {
            cpu: support::process_cpu(pid),
            subgraph_calls: calls,
        }
    }

    fn since(self, before: Readings) -> Readings {
        Readings {
            cpu: before.cpu.zip(self.cpu).map(|(a, b)| b.saturating_sub(a)),
            subgraph_calls: before
                .subgraph_calls
                .zip(self.subgraph_calls)
                .map(|(a, b)| b.saturating_sub(a)),
        }
    }
}

impl Report {
    fn measure(&self, used: Readings, peak_rss_kib: Option<u64>) -> Measurement {
        let mut lat = self.latencies_us.clone();
        lat.sort_unstable();
        let pct = |p: f64| -> f64 {
            if lat.is_empty() {
                return 0.0;
            }
            let i = ((lat.len() as f64 - 1.0) * p).round() as usize;
            lat[i] as f64 / 1000.0
        };
        Measurement {
            rps: self.requests as f64 / self.elapsed.as_secs_f64(),
            p50_ms: pct(0.5),
            p99_ms: pct(0.99),
            errors: self.errors,
            response_kb: self.bytes as f64 / 1024.0,
            cpu_ms_per_request: used
                .cpu
                .filter(|_| self.requests > 0)
                .map(|cpu| cpu.as_secs_f64() * 1000.0 / self.requests as f64),
            subgraph_calls_per_request: used
                .subgraph_calls
                .filter(|_| self.requests > 0)
                .map(|calls| calls as f64 / self.requests as f64),
            peak_rss_mb: peak_rss_kib.map(|kib| kib as f64 / 1024.0),
        }
    }
}

impl Measurement {
    fn print(&self, label: &str) {
        print!(
            "{label:<32} {:>8.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   errors {}   response {:.1} KB",
            self.rps, self.p50_ms, self.p99_ms, self.errors, self.response_kb
        );
        if let Some(cpu) = self.cpu_ms_per_request {
            print!("   CPU {cpu:.3} ms/req");
        }
        if let Some(calls) = self.subgraph_calls_per_request {
            print!("   subgraph calls {calls:.2}/req");
        }
        if let Some(rss) = self.peak_rss_mb {
            print!("   peak RSS {rss:.1} MB");
        }
        println!();
    }

    /// The median of each number over runs, taken number by number.
    fn median(runs: &[Measurement]) -> Option<Measurement> {
        fn mid(mut values: Vec<f64>) -> Option<f64> {
            if values.is_empty() {
                return None;
            }
            values.sort_by(f64::total_cmp);
            Some(values[values.len() / 2])
        }
        let first = runs.first()?;
        Some(Measurement {
            rps: mid(runs.iter().map(|m| m.rps).collect())?,
            p50_ms: mid(runs.iter().map(|m| m.p50_ms).collect())?,
            p99_ms: mid(runs.iter().map(|m| m.p99_ms).collect())?,
            errors: runs.iter().map(|m| m.errors).sum(),
            response_kb: first.response_kb,
            cpu_ms_per_request: mid(runs.iter().filter_map(|m| m.cpu_ms_per_request).collect()),
            subgraph_calls_per_request: mid(runs
                .iter()
                .filter_map(|m| m.subgraph_calls_per_request)
                .collect()),
            peak_rss_mb: mid(runs.iter().filter_map(|m| m.peak_rss_mb).collect()),
        })
    }
}

/// Warms up (connections open, caches filled), then measures; `read` is taken just around the
/// measured run.
async fn load(
    url: &str,
    body: serde_json::Value,
    args: &Args,
    read: impl Fn() -> Readings,
) -> (Report, Readings) {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .tcp_nodelay(true)
        .build()
        .unwrap_or_default();
    let body = Arc::new(serde_json::to_vec(&body).unwrap_or_default());
    run_clients(&client, url, &body, args.concurrency, args.warmup).await;
    let before = read();
    let report = run_clients(&client, url, &body, args.concurrency, args.duration).await;
    (report, read().since(before))
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

async fn start_gateway(
    subgraphs: &[seam::demo::DemoSubgraph],
    mode: Mode,
    args: &Args,
) -> Result<SeamProcess, String> {
    support::start_seam(&write_config(subgraphs, mode, args)?).await
}

fn write_config(
    subgraphs: &[seam::demo::DemoSubgraph],
    mode: Mode,
    args: &Args,
) -> Result<std::path::PathBuf, String> {
    let dir = support::scratch_dir("seam-bench")?;
    let config = dir.join("seam.yaml");
    let mut yaml = support::demo_subgraphs_yaml(subgraphs) + &mode.traffic_yaml();
    if let Some(threads) = args.worker_threads {
        yaml += &format!("worker_threads: {threads}\n");
    }
    std::fs::write(&config, yaml).map_err(|e| e.to_string())?;
    Ok(config)
}

/// What the in-process OTLP receiver has taken in.
#[derive(Default)]
struct Received {
    exports: std::sync::atomic::AtomicU64,
    bytes: std::sync::atomic::AtomicU64,
    spans: std::sync::atomic::AtomicU64,
}

/// The fields of one protobuf message as (field number, bytes of a length-delimited value);
/// other wire types are skipped. `None` when the bytes are not protobuf.
fn protobuf_fields(mut bytes: &[u8]) -> Option<Vec<(u64, &[u8])>> {
    fn varint(bytes: &mut &[u8]) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let (&byte, rest) = bytes.split_first()?;
            *bytes = rest;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }
    let mut fields = Vec::new();
    while !bytes.is_empty() {
        let key = varint(&mut bytes)?;
        match key & 7 {
            0 => {
                varint(&mut bytes)?;
            }
            1 => bytes = bytes.get(8..)?,
            2 => {
                let len = usize::try_from(varint(&mut bytes)?).ok()?;
                fields.push((key >> 3, bytes.get(..len)?));
                bytes = bytes.get(len..)?;
            }
            5 => bytes = bytes.get(4..)?,
            _ => return None,
        }
    }
    Some(fields)
}

/// The spans in an ExportTraceServiceRequest: resource_spans (1) ▶ scope_spans (2) ▶ spans (2).
fn count_spans(request: &[u8]) -> u64 {
    let nested = |bytes: &[u8], field: u64| -> Vec<Vec<u8>> {
        protobuf_fields(bytes)
            .unwrap_or_default()
            .into_iter()
            .filter(|(number, _)| *number == field)
            .map(|(_, value)| value.to_vec())
            .collect()
    };
    let mut spans = 0;
    for resource in nested(request, 1) {
        for scope in nested(&resource, 2) {
            spans += nested(&scope, 2).len() as u64;
        }
    }
    spans
}

/// An OTLP/HTTP trace receiver on 127.0.0.1 that answers every export with success and keeps
/// only counts, so the exporter's real work (encoding, sending) is measured and nothing else.
async fn start_otlp_sink() -> Result<(String, Arc<Received>), String> {
    use std::sync::atomic::Ordering::Relaxed;
    let received = Arc::new(Received::default());
    let counts = received.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: bytes::Bytes| {
            let counts = counts.clone();
            async move {
                counts.exports.fetch_add(1, Relaxed);
                counts.bytes.fetch_add(body.len() as u64, Relaxed);
                counts.spans.fetch_add(count_spans(&body), Relaxed);
                // An empty ExportTraceServiceResponse encodes as no bytes.
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok((format!("http://{address}"), received))
}

/// `--trace-runs`: Seam's CPU per request with tracing off and at full sampling, alternated.
async fn compare_tracing(
    subgraphs: &[seam::demo::DemoSubgraph],
    query: &serde_json::Value,
    args: &Args,
) -> Result<(), String> {
    use std::sync::atomic::Ordering::Relaxed;
    let config = write_config(subgraphs, Mode::Subgraph, args)?;
    let (endpoint, received) = start_otlp_sink().await?;
    let traced = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf".to_owned()),
        ("OTEL_TRACES_SAMPLER", "always_on".to_owned()),
    ];
    let mut off = Vec::new();
    let mut on = Vec::new();
    for round in 0..args.trace_runs {
        let order = if round % 2 == 0 {
            [false, true]
        } else {
            [true, false]
        };
        for tracing_on in order {
            let env: &[(&str, String)] = if tracing_on { &traced } else { &[] };
            let gateway = support::start_seam_with(&config, Some(env)).await?;
            let pid = gateway.child.id();
            let spans_before = received.spans.load(Relaxed);
            let (report, used) = load(&gateway.url("/graphql"), query.clone(), args, || {
                Readings::take(pid, subgraphs)
            })
            .await;
            let spans = received.spans.load(Relaxed) - spans_before;
            drop(gateway);
            let label = format!(
                "round {} tracing {}",
                round + 1,
                if tracing_on { "on" } else { "off" }
            );
            report.measure(used, None).print(&label);
            if tracing_on {
                // Spans of the warm-up arrive too, and the last batch is lost with the process:
                // the ratio shows the exporter kept up rather than dropping spans.
                println!(
                    "{:<28} {spans} spans received, {:.1} per measured request",
                    "",
                    spans as f64 / report.requests.max(1) as f64
                );
            }
            if let (Some(cpu), true) = (used.cpu, report.requests > 0) {
                let per_request = cpu.as_secs_f64() * 1000.0 / report.requests as f64;
                if tracing_on {
                    on.push(per_request)
                } else {
                    off.push(per_request)
                }
            }
        }
    }
    let median = |values: &mut Vec<f64>| {
        values.sort_by(f64::total_cmp);
        values.get(values.len() / 2).copied()
    };
    if let (Some(off), Some(on)) = (median(&mut off), median(&mut on)) {
        println!(
            "median gateway CPU per request: tracing off {off:.3} ms, on {on:.3} ms ({:+.1} %)",
            (on / off - 1.0) * 100.0
        );
    }
    Ok(())
}

/// One measured run of a fresh gateway in `mode`.
async fn run_mode(
    subgraphs: &[seam::demo::DemoSubgraph],
    mode: Mode,
    query: &serde_json::Value,
    args: &Args,
) -> Result<Measurement, String> {
    let gateway = start_gateway(subgraphs, mode, args).await?;
    let pid = gateway.child.id();
    let (report, used) = load(&gateway.url("/graphql"), query.clone(), args, || {
        Readings::take(pid, subgraphs)
    })
    .await;
    Ok(report.measure(used, support::status_kib(pid, "VmHWM")))
}

/// The operation the clients send, and how to name it.
fn query_of(args: &Args) -> (String, String) {
    match args.query {
        QueryKind::Products => {
            let first = args.first.unwrap_or(100);
            (
                products_query(first),
                format!("topProducts(first: {first})"),
            )
        }
        QueryKind::Gateways => {
            let first = args.first.unwrap_or(5);
            (
                gateways_query(first),
                format!("the gateways benchmark query, topProducts(first: {first})"),
            )
        }
    }
}

/// `--against`: the same load and the same readings for a gateway started by hand.
async fn measure_other_gateway(args: &Args, url: &str, pid: u32) {
    let (query, shape) = query_of(args);
    println!(
        "seam-bench: {} s per run after {} s warm-up, {} concurrent connections, {shape}, against {url} (process {pid})",
        args.duration.as_secs(),
        args.warmup.as_secs(),
        args.concurrency,
    );
    let query = json!({ "query": query });
    let mut runs = Vec::new();
    for run in 1..=args.runs {
        let (report, used) = load(url, query.clone(), args, || Readings::take(pid, &[])).await;
        let m = report.measure(used, support::status_kib(pid, "VmHWM"));
        m.print(&format!("other gateway #{run}"));
        runs.push(m);
    }
    if let Some(m) = Measurement::median(&runs) {
        m.print("other gateway, median");
    }
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
    let dataset = args.data.unwrap_or(match args.query {
        QueryKind::Products => seam::demo::Dataset::Shop,
        QueryKind::Gateways => seam::demo::Dataset::Compact,
    });
    let host = IpAddr::V4(Ipv4Addr::LOCALHOST);
    if let Some((url, pid)) = &args.against {
        return measure_other_gateway(&args, url, *pid).await;
    }
    let first_port = args.serve_subgraphs.unwrap_or(0);
    let subgraphs = match seam::demo::spawn_subgraphs_serving(dataset, host, first_port, None).await
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("seam-bench: cannot start the demo subgraphs: {e}");
            std::process::exit(1);
        }
    };
    if args.serve_subgraphs.is_some() {
        for subgraph in &subgraphs {
            println!("{} {}", subgraph.name, subgraph.url);
        }
        std::future::pending::<()>().await;
    }
    let (query, shape) = query_of(&args);
    println!(
        "seam-bench: {} s per run after {} s warm-up, {} concurrent connections, {shape} on the {} data, {} run(s) per mode",
        args.duration.as_secs(),
        args.warmup.as_secs(),
        args.concurrency,
        match dataset {
            seam::demo::Dataset::Shop => "shop",
            seam::demo::Dataset::Compact => "compact",
        },
        args.runs,
    );
    let query = json!({ "query": query });
    if args.trace_runs > 0 {
        if let Err(e) = compare_tracing(&subgraphs, &query, &args).await {
            eprintln!("seam-bench: {e}");
            std::process::exit(1);
        }
        return;
    }
    // Modes alternate within each run so that load from elsewhere on the machine falls on all.
    let mut results: Vec<Vec<Measurement>> = vec![Vec::new(); args.modes.len()];
    for run in 1..=args.runs {
        for (i, mode) in args.modes.iter().enumerate() {
            match run_mode(&subgraphs, *mode, &query, &args).await {
                Ok(m) => {
                    if args.runs > 1 {
                        m.print(&format!("{} #{run}", mode.label()));
                    }
                    results[i].push(m);
                }
                Err(e) => {
                    eprintln!("seam-bench: {e}");
                    std::process::exit(1);
                }
            }
        }
    }
    if args.runs > 1 {
        println!("medians of {} runs:", args.runs);
    }
    for (mode, runs) in args.modes.iter().zip(&results) {
        if let Some(m) = Measurement::median(runs) {
            m.print(mode.label());
        }
    }
    if args.query == QueryKind::Products {
        if let Some(reviews) = subgraphs.iter().find(|s| s.name == "reviews") {
            let query = json!({ "query": subgraph_query(args.first.unwrap_or(100)) });
            let (report, _) = load(&reviews.url, query, &args, Readings::default).await;
            report
                .measure(Readings::default(), None)
                .print("reviews subgraph alone");
        }
    }
}

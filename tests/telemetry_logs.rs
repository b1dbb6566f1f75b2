//! JSON logs from the `seam` binary: every stderr line is one JSON record, a composition failure
//! is one record listing each error, and the access log writes one record per request.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

const SEAM: &str = env!("CARGO_BIN_EXE_seam");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("seam-logs-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn seam(args: &[&str]) -> Command {
    let mut command = Command::new(SEAM);
    command
        .args(args)
        .current_dir(ROOT)
        .env_remove("SEAM_CONFIG")
        .env_remove("SEAM_LISTEN")
        .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    command
}

/// Kills the child when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The child's stderr, line by line, as it writes them.
fn stderr_lines(running: &mut Running) -> mpsc::Receiver<String> {
    let stderr = running.0.stderr.take().expect("stderr is piped");
    let (lines, received) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    received
}

/// The address from the child's "listening on" line, reading lines until it comes.
fn listening_address(received: &mpsc::Receiver<String>, deadline: Instant) -> String {
    loop {
        let line = received
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a log line before the deadline");
        if let Some(at) = line.find("listening on http://") {
            let rest = &line[at + "listening on http://".len()..];
            return rest
                .split(|c: char| c.is_whitespace() || c == '/')
                .next()
                .unwrap_or_default()
                .to_owned();
        }
    }
}

/// `seam serve` of the checked-in supergraph with `yaml` after the config's `supergraph:` line
/// and the variables `env`: the child, its stderr lines, and the directory of its config.
fn serve_supergraph(
    name: &str,
    yaml: &str,
    env: &[(&str, &str)],
) -> (Running, mpsc::Receiver<String>, PathBuf) {
    let dir = temp_dir(name);
    let supergraph = PathBuf::from(ROOT).join("schemas/supergraph.graphql");
    let config = dir.join("seam.yaml");
    std::fs::write(
        &config,
        format!("supergraph: {}\n{yaml}", supergraph.display()),
    )
    .unwrap();
    let mut command = seam(&[
        "serve",
        "--config",
        config.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    for (key, value) in env {
        command.env(key, value);
    }
    let mut running = Running(command.spawn().unwrap());
    let received = stderr_lines(&mut running);
    (running, received, dir)
}

/// Parses every line as JSON, failing on one that is not.
fn records(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON record ({e}): {line}"))
        })
        .collect()
}

const FED2: &str =
    "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.3\", import: [\"@key\"])\n";

#[test]
fn a_composition_failure_is_one_json_record_listing_every_error() {
    let dir = temp_dir("composition");
    std::fs::write(
        dir.join("a.graphql"),
        format!("{FED2}type Query {{ a: Int }}\ntype Product @key(fields: \"id\") {{ id: ID! name: String! size: Int }}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("b.graphql"),
        format!("{FED2}type Product @key(fields: \"id\") {{ id: ID! name: Int! size: String }}\n"),
    )
    .unwrap();
    let config = dir.join("seam.yaml");
    std::fs::write(
        &config,
        "log:\n  format: json\nsubgraphs:\n  - name: a\n    url: http://127.0.0.1:9/graphql\n    sdl: a.graphql\n  \
         - name: b\n    url: http://127.0.0.1:9/graphql\n    sdl: b.graphql\n",
    )
    .unwrap();
    let output = seam(&[
        "serve",
        "--config",
        config.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ])
    .output()
    .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    let records = records(&stderr);
    let failure = records
        .iter()
        .find(|r| r["level"] == "ERROR")
        .unwrap_or_else(|| panic!("no error record in:\n{stderr}"));
    assert!(
        failure["message"]
            .as_str()
            .unwrap()
            .contains("composition failed"),
        "{failure}"
    );
    let errors = failure["errors"].as_array().expect("a list of errors");
    assert!(errors.len() >= 2, "{failure}");
    let all = errors
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(all.contains("Product.name"), "{all}");
    assert!(all.contains("Product.size"), "{all}");
    assert!(
        errors.iter().all(|e| {
            let text = e.as_str().unwrap_or("");
            text.starts_with("FIELD_TYPE_MISMATCH: ") || text.starts_with("INVALID_FIELD_SHARING: ")
        }),
        "each entry names its code: {all}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_environment_switches_to_json_and_the_access_log_writes_a_record_per_request() {
    let (_running, received, dir) = serve_supergraph(
        "access",
        "log:\n  access: true\n",
        &[("SEAM_LOG_FORMAT", "json")],
    );
    let next_record = |deadline: Instant| -> Value {
        let line = received
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a log line before the deadline");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not a JSON record ({e}): {line}"))
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let address = loop {
        let record = next_record(deadline);
        if let Some(address) = record["address"].as_str() {
            assert!(record["message"].as_str().unwrap().contains("listening on"));
            break address.to_owned();
        }
    };
    let response = reqwest::Client::new()
        .post(format!("http://{address}/graphql"))
        .json(&serde_json::json!({ "query": "{ __typename }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let access = loop {
        let record = next_record(deadline);
        if record["target"] == "seam::access" {
            break record;
        }
    };
    assert_eq!(access["method"], "POST");
    assert_eq!(access["path"], "/graphql");
    assert_eq!(access["status"], 200);
    assert!(access["duration_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(access["level"], "INFO");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_subgraph_body_cannot_forge_log_lines() {
    // A subgraph whose error page echoes what a client sent: newlines and terminal escapes.
    const FORGED: &str =
        "line1\n2026-12-05T00:00:00.000000Z ERROR seam: FORGED LOG LINE\n\x1b[31mRED\x1b[0m end";
    let subgraph = axum::Router::new().route(
        "/graphql",
        axum::routing::post(|| async { (axum::http::StatusCode::BAD_GATEWAY, FORGED) }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let subgraph_addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, subgraph).await;
    });
    let dir = temp_dir("forged");
    std::fs::write(
        dir.join("s.graphql"),
        format!("{FED2}type Query {{ hello: String }}\n"),
    )
    .unwrap();
    let config = dir.join("seam.yaml");
    std::fs::write(
        &config,
        format!(
            "subgraphs:\n  - name: echo\n    url: http://admin:hunter2@{subgraph_addr}/graphql?token=tok-abc\n    sdl: s.graphql\n"
        ),
    )
    .unwrap();
    let child = seam(&[
        "serve",
        "--config",
        config.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ])
    .spawn()
    .unwrap();
    let mut running = Running(child);
    let received = stderr_lines(&mut running);
    let deadline = Instant::now() + Duration::from_secs(60);
    let next_line = || {
        received
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a log line before the deadline")
    };
    let mut seen = Vec::new();
    let address = loop {
        let line = next_line();
        seen.push(line.clone());
        if let Some(at) = line.find("listening on http://") {
            let rest = &line[at + "listening on http://".len()..];
            break rest
                .split(|c: char| c.is_whitespace() || c == '/')
                .next()
                .unwrap()
                .to_owned();
        }
    };
    let response = reqwest::Client::new()
        .post(format!("http://{address}/graphql"))
        .json(&serde_json::json!({ "query": "{ hello }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let warning = loop {
        let line = next_line();
        seen.push(line.clone());
        if line.contains("subgraph answered with an HTTP error") {
            break line;
        }
    };
    // The body is in the warning's own line, escaped; no line of its own, no raw escape.
    assert!(warning.contains("FORGED LOG LINE"), "{warning}");
    assert!(warning.contains("\\n"), "{warning}");
    // Unescaped, the warning would end at the body's first newline, and the rest of the body
    // would be lines of its own, the forged one among them.
    assert!(!warning.contains('\x1b'), "raw escape: {warning:?}");
    for line in &seen {
        assert!(
            !line.starts_with("2026-12-05T00:00:00"),
            "forged line: {line}"
        );
        // The subgraph URL's password and query are not logged.
        assert!(!line.contains("hunter2"), "password logged: {line}");
        assert!(!line.contains("tok-abc"), "query logged: {line}");
        assert!(!line.contains("\x1b[31mRED"), "raw escape: {line:?}");
        assert!(
            !line.starts_with("RED") && !line.starts_with("line1"),
            "{line:?}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// `telemetry.headers` in the file win over `OTEL_EXPORTER_OTLP_HEADERS`, as every other key
/// does (the exporter library lets the variable win when left to itself).
#[tokio::test]
async fn export_headers_from_the_file_win_over_the_environment() {
    let seen: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let sink = seen.clone();
    let collector = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |headers: axum::http::HeaderMap| {
            let sink = sink.clone();
            async move {
                for value in headers.get_all("api-key") {
                    sink.lock()
                        .unwrap()
                        .push(value.to_str().unwrap_or_default().to_owned());
                }
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let collector_addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, collector).await;
    });
    let (_running, received, dir) = serve_supergraph(
        "headers",
        &format!(
            "telemetry:\n  endpoint: http://{collector_addr}\n  headers:\n    api-key: fromfile\n"
        ),
        &[
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=fromenv"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let address = listening_address(&received, deadline);
    let client = reqwest::Client::new();
    while seen.lock().unwrap().is_empty() {
        assert!(Instant::now() < deadline, "no export reached the collector");
        let _ = client
            .post(format!("http://{address}/graphql"))
            .json(&serde_json::json!({ "query": "{ __typename }" }))
            .send()
            .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        seen.lock().unwrap().iter().all(|value| value == "fromfile"),
        "{:?}",
        seen.lock().unwrap()
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// A collector that cannot be reached is reported in the log: traces being lost is not silent.
#[tokio::test]
async fn an_unreachable_collector_is_reported_in_the_log() {
    // A port nothing listens on.
    let collector_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap();
    let (_running, received, dir) = serve_supergraph(
        "collector",
        &format!("telemetry:\n  endpoint: http://{collector_addr}\n"),
        &[("OTEL_BSP_SCHEDULE_DELAY", "100")],
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let next_line = || {
        received
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("a log line before the deadline")
    };
    let address = listening_address(&received, deadline);
    let client = reqwest::Client::new();
    let _ = client
        .post(format!("http://{address}/graphql"))
        .json(&serde_json::json!({ "query": "{ __typename }" }))
        .send()
        .await;
    loop {
        let line = next_line();
        if line.contains("ExportError") {
            assert!(line.contains("ERROR"), "{line}");
            break;
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

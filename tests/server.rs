//! Seam's server limits over real sockets: header-read and idle timeouts, the connection and
//! streaming-client caps, the request timeout, message and body sizes, the operation limits —
//! and graceful shutdown of the real binary with every kind of stream open.

mod common;
mod server_support;

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use server_support::*;

#[tokio::test]
async fn a_client_that_never_sends_its_headers_is_dropped() {
    let seam = Seam::start("limits:\n  header_read_timeout: 300ms\n  idle_timeout: 1h\n").await;
    let mut silent = TcpStream::connect(seam.addr).await.unwrap();
    closed_by_server(&mut silent).await;
}

#[tokio::test]
async fn a_client_that_trickles_its_headers_is_dropped() {
    let seam = Seam::start("limits:\n  header_read_timeout: 500ms\n  idle_timeout: 1h\n").await;
    let mut trickle = TcpStream::connect(seam.addr).await.unwrap();
    trickle
        .write_all(b"GET /health HTTP/1.1\r\n")
        .await
        .unwrap();
    // One byte at a time, each well within any per-read timeout: only a deadline on the whole
    // header block ends this. The writer stops once the server has closed the socket.
    let (mut reader, mut writer) = trickle.into_split();
    let writing = tokio::spawn(async move {
        for _ in 0..10_000 {
            if writer.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let mut buffer = [0u8; 1024];
    let read = tokio::time::timeout(
        PATIENCE,
        tokio::io::AsyncReadExt::read(&mut reader, &mut buffer),
    )
    .await
    .expect("the server kept a trickling client");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "expected a close, got {read:?}"
    );
    writing.abort();
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_while_a_busy_one_is_not() {
    let seam = Seam::start("limits:\n  idle_timeout: 400ms\n").await;

    let mut idle = TcpStream::connect(seam.addr).await.unwrap();
    let (status, _) = exchange(&mut idle, "GET", "/health", "").await;
    assert_eq!(status, 200);

    // A request that takes five idle timeouts: its connection is not idle meanwhile (and a
    // request before it makes it a keep-alive connection, watched by the idle timeout).
    let mut busy = TcpStream::connect(seam.addr).await.unwrap();
    assert_eq!(exchange(&mut busy, "GET", "/health", "").await.0, 200);
    let query = json!({ "query": "{ slow(ms: 2000) }" }).to_string();
    let (status, body) = exchange(&mut busy, "POST", "/graphql", &query).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("slept 2000 ms"), "{body}");
    // ...and it stays usable for the next request.
    let (status, _) = exchange(&mut busy, "GET", "/health", "").await;
    assert_eq!(status, 200);

    let leftover = closed_by_server(&mut idle).await;
    assert!(leftover.is_empty(), "nothing more was sent: {leftover:?}");
}

#[tokio::test]
async fn connections_beyond_the_maximum_wait_until_one_closes() {
    let seam = Seam::start("limits:\n  max_connections: 2\n").await;
    let mut first = TcpStream::connect(seam.addr).await.unwrap();
    let mut second = TcpStream::connect(seam.addr).await.unwrap();
    assert_eq!(exchange(&mut first, "GET", "/health", "").await.0, 200);
    assert_eq!(exchange(&mut second, "GET", "/health", "").await.0, 200);

    // The third connects (the kernel queues it) but is not served...
    let mut third = TcpStream::connect(seam.addr).await.unwrap();
    third
        .write_all(b"GET /health HTTP/1.1\r\nhost: seam\r\n\r\n")
        .await
        .unwrap();
    let mut byte = [0u8; 1];
    let early = tokio::time::timeout(
        Duration::from_millis(700),
        tokio::io::AsyncReadExt::read(&mut third, &mut byte),
    )
    .await;
    assert!(early.is_err(), "the third connection was served: {early:?}");

    // ...until one of the first two closes.
    drop(first);
    let (status, body) = read_response(&mut third).await;
    assert_eq!(status, 200, "{body}");
}

/// The server loop tells the gateway who each client is (its address): without it, per-client
/// limits had nobody to count (reservations went uncapped; rate limits shared one bucket).
#[tokio::test]
async fn the_server_loop_knows_each_clients_address_for_per_client_limits() {
    let seam = Seam::start("limits:\n  max_unopened_streams_per_client: 2\n").await;
    let url = seam.url("/graphql");
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let response = seam.client.put(&url).send().await.expect("reserve");
        statuses.push(response.status().as_u16());
    }
    assert_eq!(
        statuses,
        [201, 201, 429],
        "the third reservation of 127.0.0.1"
    );
}

#[tokio::test]
async fn streaming_clients_beyond_the_cap_are_refused_until_one_leaves() {
    let seam = Seam::start("limits:\n  max_streaming_clients: 2\n").await;
    let url = seam.url("/graphql");
    let mut sse = TextStream::sse(&seam.client, &url, TICKS).await;
    assert_eq!(sse.status, 200);
    let ws = Ws::connect(&seam.ws_url(), "graphql-transport-ws").await;

    let refused = TextStream::sse(&seam.client, &url, TICKS).await;
    assert_eq!(refused.status, 503);
    assert_eq!(
        code(&refused.body),
        "TOO_MANY_STREAMING_CLIENTS",
        "{}",
        refused.body
    );
    let refused = TextStream::multipart(&seam.client, &url, TICKS).await;
    assert_eq!(refused.status, 503);
    assert_eq!(code(&refused.body), "TOO_MANY_STREAMING_CLIENTS");
    match Ws::handshake(&seam.ws_url(), "graphql-ws").await {
        Handshake::Refused(status, body) => {
            assert_eq!(status, 503);
            assert_eq!(code(&body), "TOO_MANY_STREAMING_CLIENTS", "{body}");
        }
        Handshake::Open(_) => panic!("a third streaming client was admitted"),
    }
    // Queries are not streaming clients.
    assert_eq!(seam.query("{ hello }").await.1["data"]["hello"], "world");

    drop(ws);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let again = TextStream::sse(&seam.client, &url, TICKS).await;
        if again.status == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot was never freed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ticker = Ticker::start(&format!("http://{}", seam.addr));
    sse.until("\"ticks\"").await;
}

#[tokio::test]
async fn a_request_past_the_timeout_gets_an_error_while_an_sse_stream_lives_on() {
    let seam = Seam::start("limits:\n  request_timeout: 500ms\n").await;
    let url = seam.url("/graphql");
    let mut sse = TextStream::sse(&seam.client, &url, TICKS).await;
    assert_eq!(sse.status, 200);

    // The request's deadline caps the subgraph call, so the client gets its answer in time:
    // the slow field is null with an error saying the deadline passed — or, when the machine is
    // so busy that the request's own timer fires first, a 504. Never the subgraph's late answer.
    let (status, body) = seam.query("{ slow(ms: 5000) }").await;
    if status == 504 {
        assert_eq!(code(&body), "REQUEST_TIMEOUT", "{body}");
    } else {
        assert_eq!(status, 200, "{body}");
        assert_eq!(code(&body), "SUBREQUEST_HTTP_ERROR", "{body}");
        assert!(
            body["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .contains("deadline"),
            "{body}"
        );
        assert_eq!(body["data"], serde_json::Value::Null, "{body}");
    }

    // The stream has outlived the timeout by now (the query above took it whole) and
    // still delivers.
    let _ticker = Ticker::start(&format!("http://{}", seam.addr));
    sse.until("\"ticks\"").await;
    assert!(!sse.text.contains("event: complete"), "{}", sse.text);
}

#[tokio::test]
async fn a_websocket_message_over_the_limit_closes_with_1009() {
    let seam = Seam::start("limits:\n  max_ws_message_bytes: 4096\n").await;
    let big = format!(
        r#"{{"id":"1","type":"subscribe","payload":{{"query":"{{ hello }}","extensions":{{"pad":"{}"}}}}}}"#,
        "x".repeat(10_000)
    );
    for protocol in ["graphql-transport-ws", "graphql-ws"] {
        let mut ws = Ws::connect(&seam.ws_url(), protocol).await;
        ws.send_text(big.clone()).await;
        assert_eq!(ws.close_code().await, 1009, "{protocol}");
    }
    // A message under the limit is served as usual.
    let mut ws = Ws::connect(&seam.ws_url(), "graphql-transport-ws").await;
    ws.subscribe(false, "1", "{ hello }").await;
    assert_eq!(ws.recv().await["payload"]["data"]["hello"], "world");
}

#[tokio::test]
async fn an_oversized_body_is_413_on_graphql_and_bridge_publish() {
    let seam = Seam::start("limits:\n  max_body_bytes: 2048\n").await;
    let padding = "x".repeat(4096);
    let response = seam
        .client
        .post(seam.url("/graphql"))
        .json(&json!({ "query": "{ hello }", "extensions": { "pad": padding } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(code(&body), "PAYLOAD_TOO_LARGE", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2048"),
        "{body}"
    );

    let response = seam
        .client
        .post(seam.url("/bridge/publish"))
        .bearer_auth(PUBLISH_TOKEN)
        .json(&json!({ "topic": "ticks", "payload": { "pad": padding } }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 413);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(code(&body), "PAYLOAD_TOO_LARGE", "{body}");

    // Under the limit, both work.
    assert_eq!(seam.query("{ hello }").await.1["data"]["hello"], "world");
    seam.publish_tick(1).await;
}

#[tokio::test]
async fn operation_limits_refuse_with_their_own_codes_before_any_subgraph_call() {
    let seam = Seam::start(
        "limits:\n  max_depth: 3\n  max_aliases: 2\n  max_root_fields: 3\n  max_directives: 2\n  \
         max_fields: 4\n",
    )
    .await;
    let cases = [
        ("{ a: hello b: hello c: hello }", "MAX_ALIASES_LIMIT"),
        ("{ hello hello hello hello }", "MAX_ROOT_FIELDS_LIMIT"),
        (
            "{ hello @skip(if: false) @include(if: true) ...F } fragment F on Query { hello @skip(if: false) }",
            "MAX_DIRECTIVES_LIMIT",
        ),
        (
            "{ ...A } fragment A on Query { ...B ...B } fragment B on Query { hello slow(ms: 1) }",
            "MAX_ROOT_FIELDS_LIMIT",
        ),
        ("{ __schema { types { fields { type { name } } } } }", "MAX_DEPTH_LIMIT"),
        ("{ __schema { queryType { name } types { name kind } } }", "MAX_FIELDS_LIMIT"),
    ];
    for (query, expected) in cases {
        let (status, body) = seam.query(query).await;
        assert_eq!(status, 200, "{query}: {body}");
        assert_eq!(code(&body), expected, "{query}: {body}");
        assert!(body.get("data").is_none(), "{body}");
    }
    // A bomb whose fragments reach an unknown one and loop back is measured and refused, and
    // validation (not a hang) reports what else is wrong with operations under the limits.
    let (_, body) = seam
        .query("{ ...A } fragment A on Query { hello ...A ...Missing }")
        .await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    assert_eq!(seam.started.count(), 0, "no subgraph call was made");
    assert_eq!(seam.query("{ hello }").await.1["data"]["hello"], "world");
}

#[tokio::test]
async fn the_parser_limits_refuse_oversized_documents() {
    let seam = Seam::start("limits:\n  max_tokens: 100\n  max_aliases: unlimited\n").await;
    let query = format!("{{ {} }}", "hello ".repeat(200));
    let (_, body) = seam.query(&query).await;
    assert_eq!(code(&body), "MAX_TOKENS_LIMIT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("token limit"),
        "{body}"
    );
}

#[tokio::test]
async fn an_invalid_limit_stops_startup_naming_the_key() {
    let error = seam::config::Config::from_yaml_str(
        "supergraph: x.graphql\nlimits:\n  max_depth: unlimited\n  idle_timeout: 0s\n",
        std::path::Path::new("."),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("limits.max_depth"), "{error}");
    assert!(error.contains("limits.idle_timeout"), "{error}");
    let error = seam::config::Config::from_yaml_str(
        "supergraph: x.graphql\nshutdown_grace_period: 0s\n",
        std::path::Path::new("."),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("shutdown_grace_period"), "{error}");
    let error = seam::config::Config::from_yaml_str(
        "supergraph: x.graphql\nlimits:\n  max_conections: 3\n",
        std::path::Path::new("."),
    )
    .unwrap_err()
    .to_string();
    assert!(error.contains("max_conections"), "{error}");
}

// ---- sizing, with the real binary ----

#[tokio::test]
async fn worker_threads_sizes_the_runtime_and_bad_values_stop_startup() {
    let (url, _) = spawn_subgraph().await;
    let client = reqwest::Client::new();
    let default = std::thread::available_parallelism().map_or(1, usize::from);
    let env = "TOKIO_WORKER_THREADS";
    // 1 and 3 differ from each other and one of them from any machine's default; the config's
    // key wins over tokio's variable, which counts when the key is absent.
    for (extra, vars, expected) in [
        ("", &[][..], default),
        ("worker_threads: 1\n", &[][..], 1),
        ("worker_threads: 3\n", &[(env, "1")][..], 3),
        ("", &[(env, "3")][..], 3),
        ("", &[(env, "1")][..], 1),
    ] {
        let seam = SeamProcess::start_with_env(&url, extra, vars).await;
        let (status, answer) =
            post_query(&client, &format!("{}/graphql", seam.base), "{ hello }").await;
        assert_eq!(
            (status, &answer["data"]["hello"]),
            (200, &json!("world")),
            "{answer}"
        );
        assert_eq!(
            common::metric_series(&client, &seam.base, "seam_worker_threads").await,
            Some(expected.to_string()),
            "{extra:?} {vars:?} should give {expected} threads"
        );
    }
    // Refused at startup with a message naming what is wrong, never a panic (exit code 101).
    for (extra, vars, named) in [
        ("worker_threads: 0\n", &[][..], "worker_threads"),
        ("worker_threads: 100000\n", &[][..], "worker_threads"),
        ("worker_threads: many\n", &[][..], "worker_threads"),
        ("", &[(env, "many")][..], env),
        ("", &[(env, "0")][..], env),
    ] {
        let (code, stderr) = failed_start(&url, extra, vars).await;
        assert_eq!(code, Some(1), "{extra:?} {vars:?}: {stderr}");
        assert!(stderr.contains(named), "{extra:?} {vars:?}: {stderr}");
    }
}

/// `seam serve` for the subgraph at `url` with `extra` config and `env` set; a
/// `TOKIO_WORKER_THREADS` of the test's own environment is removed first.
fn seam_command(url: &str, extra: &str, env: &[(&str, &str)]) -> Command {
    let dir = scratch_dir("binary");
    let config = dir.join("seam.yaml");
    std::fs::write(&config, config_yaml(url, &dir, extra)).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_seam"));
    command
        .args(["serve", "--config"])
        .arg(&config)
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "info")
        .env_remove("TOKIO_WORKER_THREADS")
        .envs(env.iter().copied())
        .stdout(Stdio::null());
    command
}

/// Starts `seam serve` on a setup that must not start; its exit code and what it printed.
async fn failed_start(url: &str, extra: &str, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut child = seam_command(url, extra, env)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while child.try_wait().unwrap().is_none() {
        if tokio::time::Instant::now() >= deadline {
            let _ = child.kill();
            panic!("seam started with {extra:?} {env:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

// ---- shutdown, with the real binary ----

/// `seam serve` as a child process; killed if a test fails before it exits.
struct SeamProcess {
    child: std::process::Child,
    base: String,
}

impl Drop for SeamProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SeamProcess {
    /// Starts `seam serve --config` for the subgraph at `url` with `extra` config and waits
    /// until it is ready; it listens on a port of its own choosing and says which.
    async fn start(url: &str, extra: &str) -> Self {
        Self::start_with_env(url, extra, &[]).await
    }

    /// [`SeamProcess::start`] with `env` set (see [`seam_command`]).
    async fn start_with_env(url: &str, extra: &str, env: &[(&str, &str)]) -> Self {
        let mut child = seam_command(url, extra, env)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (found, address) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(rest) = line.strip_prefix("seam listening on http://") {
                    let _ = found.send(rest.trim_end_matches("/graphql").to_owned());
                }
                eprintln!("seam: {line}");
            }
        });
        let address = tokio::task::spawn_blocking(move || address.recv_timeout(PATIENCE))
            .await
            .unwrap()
            .expect("seam did not say where it listens");
        let process = SeamProcess {
            child,
            base: format!("http://{address}"),
        };
        let client = reqwest::Client::new();
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !client
            .get(format!("{}/ready", process.base))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "seam never became ready"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        process
    }

    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit; its exit status.
    async fn exit_status(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(tokio::time::Instant::now() < deadline, "seam did not exit");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

#[tokio::test]
async fn sigterm_finishes_requests_ends_every_stream_and_exits_zero() {
    let (url, started) = spawn_subgraph().await;
    let mut seam = SeamProcess::start(&url, "shutdown_grace_period: 20s\n").await;
    let client = reqwest::Client::new();
    let graphql = format!("{}/graphql", seam.base);
    let ws_url = graphql.replace("http://", "ws://");

    let mut transport = Ws::connect(&ws_url, "graphql-transport-ws").await;
    transport.subscribe(false, "t", TICKS).await;
    let mut legacy = Ws::connect(&ws_url, "graphql-ws").await;
    legacy.subscribe(true, "l", TICKS).await;
    let mut sse = TextStream::sse(&client, &graphql, TICKS).await;
    let mut multipart = TextStream::multipart(&client, &graphql, TICKS).await;
    assert_eq!((sse.status, multipart.status), (200, 200));

    // Every subscriber has an event before the signal, so each is known to be subscribed.
    let ticker = Ticker::start(&seam.base);
    assert_eq!(transport.recv().await["type"], "next");
    assert_eq!(legacy.recv().await["type"], "data");
    sse.until("\"n\"").await;
    multipart.until("\"n\"").await;
    drop(ticker);

    let slow = tokio::spawn({
        let client = client.clone();
        let graphql = graphql.clone();
        async move { post_query(&client, &graphql, "{ slow(ms: 1500) }").await }
    });
    started.reached(1).await;

    seam.terminate();

    let (status, body) = slow.await.unwrap();
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["data"]["slow"], "slept 1500 ms", "{body}");
    assert_eq!(transport.close_code().await, 1001);
    assert_eq!(legacy.close_code().await, 1001);
    sse.read_to_end().await;
    assert!(
        sse.text.ends_with("event: complete\ndata:\n\n"),
        "{:?}",
        sse.text
    );
    multipart.read_to_end().await;
    assert!(
        multipart.text.ends_with("--graphql--\r\n"),
        "{:?}",
        multipart.text
    );

    let status = seam.exit_status(PATIENCE).await;
    assert_eq!(status.code(), Some(0), "{status}");
}

#[tokio::test]
async fn a_request_that_outlives_the_grace_period_does_not_hold_the_exit() {
    let (url, started) = spawn_subgraph().await;
    let mut seam = SeamProcess::start(
        &url,
        "shutdown_grace_period: 1s\nlimits:\n  request_timeout: 10m\n",
    )
    .await;
    let client = reqwest::Client::new();
    let graphql = format!("{}/graphql", seam.base);
    let stuck = tokio::spawn(async move {
        client
            .post(graphql)
            .json(&json!({ "query": "{ slow(ms: 600000) }" }))
            .send()
            .await
    });
    started.reached(1).await;

    seam.terminate();

    let status = seam.exit_status(PATIENCE).await;
    assert_eq!(status.code(), Some(0), "{status}");
    let outcome = tokio::time::timeout(PATIENCE, stuck)
        .await
        .unwrap()
        .unwrap();
    assert!(
        outcome.is_err(),
        "the request was cut when the process exited: {outcome:?}"
    );
}

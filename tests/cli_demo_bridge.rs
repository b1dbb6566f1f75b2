//! Two `seam demo` processes on one Redis, through the real binary: the first starts the demo
//! subgraphs (its reviews subgraph publishing on Redis) and a gateway; the second finds those
//! subgraphs running and fronts them with a gateway of its own. A review added through either
//! gateway reaches the WebSocket subscribers of both.
//!
//! The subgraphs go on ports this test picks (`--subgraph-port`), not 4001-4004, which another
//! test's demo may hold. The demo's topic on the shared Redis is fixed (`reviews.added`), so the
//! subscribers skip reviews that are not this test's own.

mod subscriptions_support;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use subscriptions_support::{expected_review, sync, unique, Gateway, Protocol};

const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// A `seam` process this test started, killed (by its own handle) when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The first of four consecutive free ports, below the range the OS hands out for outgoing
/// connections so that none of them takes one meanwhile.
fn four_free_ports() -> u16 {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default()
        ^ std::process::id();
    for attempt in 0..200u32 {
        let first = 20_000 + ((seed.wrapping_add(attempt * 7_919)) % 10_000) as u16;
        let held: Vec<TcpListener> = (first..first + 4)
            .filter_map(|port| TcpListener::bind(("127.0.0.1", port)).ok())
            .collect();
        if held.len() == 4 {
            return first;
        }
    }
    panic!("no four consecutive free ports between 20000 and 30003");
}

/// Starts `seam` with `args` and waits for "listening on"; returns the lines printed until then.
/// The rest of its stderr is read on a thread, so the process never blocks on a full pipe.
fn start(args: &[&str]) -> (Killed, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_seam"))
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("seam starts");
    let stderr = child.stderr.take().expect("stderr");
    let child = Killed(child);
    let mut lines = Vec::new();
    let mut reader = BufReader::new(stderr).lines();
    let deadline = Instant::now() + Duration::from_secs(60);
    for line in reader.by_ref() {
        let line = line.expect("stderr line");
        let done = line.contains("listening on");
        lines.push(line);
        if done || Instant::now() > deadline {
            break;
        }
    }
    std::thread::spawn(move || reader.for_each(drop));
    assert!(
        lines.iter().any(|l| l.contains("listening on")),
        "seam {args:?} did not start: {lines:?}"
    );
    (child, lines)
}

#[tokio::test]
async fn two_demo_processes_share_reviews_through_redis() {
    let subgraph_port = four_free_ports().to_string();
    let (port_a, port_b) = (free_port(), free_port());
    let listen_a = format!("127.0.0.1:{port_a}");
    let listen_b = format!("127.0.0.1:{port_b}");
    let demo = |listen: &str| -> (Killed, Vec<String>) {
        start(&[
            "demo",
            "--listen",
            listen,
            "--bridge",
            REDIS_URL,
            "--subgraph-port",
            &subgraph_port,
        ])
    };

    let (_first, lines) = demo(&listen_a);
    let reviews_port: u16 = subgraph_port.parse::<u16>().expect("port") + 2;
    let reviews_line = format!("http://127.0.0.1:{reviews_port}/graphql");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("reviews") && l.contains(&reviews_line)),
        "the first demo serves the subgraphs on the ports asked for: {lines:?}"
    );
    let (_second, lines) = demo(&listen_b);
    assert!(
        lines.iter().any(|l| l.contains("already run on ports")),
        "the second demo fronts the first one's subgraphs: {lines:?}"
    );

    let a = Gateway::at(format!("http://{listen_a}"));
    let b = Gateway::at(format!("http://{listen_b}"));
    let upc = 13;
    let mut on_a = a.subscribe(Protocol::TransportWs, Some(upc)).await;
    let mut on_b = b.subscribe(Protocol::TransportWs, Some(upc)).await;
    // Other tests' demos may announce reviews on the same Redis topic: those are skipped.
    sync(&a, upc, &mut [&mut on_a, &mut on_b]).await;

    let through_a = unique("through A ");
    let through_b = unique("through B ");
    a.add_review(upc, 5, &through_a).await;
    b.add_review(upc, 17, &through_b).await;
    for subscriber in [&mut on_b, &mut on_a] {
        assert_eq!(
            subscriber.next_with_body(&through_a).await,
            expected_review(upc, 5, &through_a)
        );
        assert_eq!(
            subscriber.next_with_body(&through_b).await,
            expected_review(upc, 17, &through_b)
        );
    }
}

/// Ports that something else holds (and that do not answer as demo subgraphs) stop the demo
/// with a message naming them, rather than putting the subgraphs elsewhere.
#[test]
fn a_subgraph_port_held_by_something_else_is_an_error() {
    let holder = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = holder.local_addr().expect("addr").port().to_string();
    let listen = format!("127.0.0.1:{}", free_port());
    let output = Command::new(env!("CARGO_BIN_EXE_seam"))
        .args(["demo", "--listen", &listen, "--subgraph-port", &port])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("seam runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("ports {port}-")),
        "the error names the ports: {stderr}"
    );
    drop(holder);
}

/// Without `--bridge` a second demo does not front the first one's subgraphs: their reviews
/// would be announced on the first process's in-process bridge, out of this gateway's reach.
/// With the ports asked for, that is an error that points at `--bridge`.
#[test]
fn demo_subgraphs_are_shared_only_over_a_bridge() {
    let subgraph_port = four_free_ports().to_string();
    let listen = format!("127.0.0.1:{}", free_port());
    let (_first, _) = start(&[
        "demo",
        "--listen",
        &listen,
        "--subgraph-port",
        &subgraph_port,
    ]);
    let output = Command::new(env!("CARGO_BIN_EXE_seam"))
        .args([
            "demo",
            "--listen",
            &format!("127.0.0.1:{}", free_port()),
            "--subgraph-port",
            &subgraph_port,
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("seam runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(!stderr.contains("already run on ports"), "{stderr}");
    assert!(
        stderr.contains(&format!("ports {subgraph_port}-"))
            && stderr.contains("can be shared only with --bridge"),
        "{stderr}"
    );
}

//! Helpers for the bridge tests: unique topics (tests share the machine's Redis and NATS),
//! private servers on free ports for fault tests, and bounded waits.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::StreamExt;
use seam::bridge::EventStream;

pub const REDIS_URL: &str = "redis://127.0.0.1:6379";
pub const NATS_URL: &str = "nats://127.0.0.1:4222";

/// A topic no other test (or earlier run) uses.
pub fn unique(name: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "seamtest.{name}.{}.{nanos}.{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The next event, or a panic naming what was awaited.
pub async fn next_event(stream: &mut EventStream, what: &str) -> Bytes {
    match tokio::time::timeout(Duration::from_secs(5), stream.next()).await {
        Ok(Some(Ok(event))) => event,
        Ok(Some(Err(lost))) => panic!("{lost:?} while waiting for {what}"),
        Ok(None) => panic!("the stream ended while waiting for {what}"),
        Err(_) => panic!("no event within 5 s while waiting for {what}"),
    }
}

/// Asserts nothing arrives for a short while (the stream must stay open).
pub async fn assert_quiet(stream: &mut EventStream, what: &str) {
    if let Ok(item) = tokio::time::timeout(Duration::from_millis(300), stream.next()).await {
        panic!("expected nothing ({what}), got {item:?}");
    }
}

/// Polls `check` until it holds or `limit` passes.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < limit, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A server process this test started; killed (by its own PID) when dropped.
pub struct Server {
    child: Option<Child>,
    program: &'static str,
    args: Vec<String>,
}

impl Server {
    /// `redis-server` on `port`, with persistence off so a restart starts empty.
    pub fn redis(port: u16) -> Self {
        let args = [
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        Self::start("redis-server", args)
    }

    /// `nats-server` on `port` with its monitoring endpoint on `monitor_port`.
    pub fn nats(port: u16, monitor_port: u16) -> Self {
        let args = [
            "-a",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-m",
            &monitor_port.to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        Self::start("nats-server", args)
    }

    fn start(program: &'static str, args: Vec<String>) -> Self {
        let mut server = Self {
            child: None,
            program,
            args,
        };
        server.restart();
        server
    }

    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "{} is already running", self.program);
        let child = Command::new(self.program)
            .args(&self.args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server");
        self.child = Some(child);
    }

    /// SIGKILL: the server gets no chance to say goodbye, like a crash.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Waits until something accepts TCP connections on `port`.
pub async fn wait_for_port(port: u16) {
    eventually(
        Duration::from_secs(10),
        "the server listens",
        || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
        },
    )
    .await;
}

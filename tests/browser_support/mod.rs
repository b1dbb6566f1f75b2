//! A small headless-Chromium driver for tests: Debian's `/usr/bin/chromium` started on a fresh
//! profile, spoken to over the Chrome DevTools Protocol on its browser WebSocket (no WebDriver).
//!
//! One [`Browser`] per test; [`Browser::page`] opens a tab, [`Page::evaluate`] runs JavaScript
//! (awaiting promises, returning JSON), [`Page::wait_until`] polls an expression until it holds.
//! Dropping the browser ends its process group and removes the profile.
#![allow(dead_code)]

use std::collections::HashMap;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::stream::SplitSink;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::{oneshot, Mutex as AsyncMutex};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const CHROMIUM: &str = "/usr/bin/chromium";

/// How long anything in the browser may take before a test gives up: generous, since the
/// machine is shared and a cold Chromium start can take seconds.
pub const DEADLINE: Duration = Duration::from_secs(60);

type Sink = SplitSink<WebSocketStream<MaybeTlsStream<TcpStream>>, Message>;
type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Value>>>>;

/// One CDP event: its method, parameters and the session (tab) it came from.
#[derive(Debug, Clone)]
pub struct Event {
    pub method: String,
    pub params: Value,
    pub session_id: Option<String>,
}

/// The browser WebSocket: commands are matched to their answers by id; events are kept.
struct Connection {
    sink: AsyncMutex<Sink>,
    pending: Pending,
    events: Arc<Mutex<Vec<Event>>>,
    next_id: AtomicU64,
}

impl Connection {
    async fn open(url: &str) -> Connection {
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to Chromium's DevTools at {url}: {e}"));
        let (sink, mut stream) = socket.split();
        let pending: Pending = Arc::default();
        let events: Arc<Mutex<Vec<Event>>> = Arc::default();
        let (answers, log) = (pending.clone(), events.clone());
        tokio::spawn(async move {
            while let Some(Ok(message)) = stream.next().await {
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(value) = serde_json::from_str::<Value>(&text) else {
                    continue;
                };
                if let Some(id) = value.get("id").and_then(Value::as_u64) {
                    if let Some(answer) = answers.lock().unwrap().remove(&id) {
                        let _ = answer.send(value);
                    }
                } else if let Some(method) = value.get("method").and_then(Value::as_str) {
                    log.lock().unwrap().push(Event {
                        method: method.to_owned(),
                        params: value.get("params").cloned().unwrap_or(Value::Null),
                        session_id: value
                            .get("sessionId")
                            .and_then(Value::as_str)
                            .map(str::to_owned),
                    });
                }
            }
            // The browser is gone: wake every command still waiting, with no answer.
            answers.lock().unwrap().clear();
        });
        Connection {
            sink: AsyncMutex::new(sink),
            pending,
            events,
            next_id: AtomicU64::new(1),
        }
    }

    /// Sends a command (to a tab when `session_id` is given) and returns its `result`, or the
    /// protocol's error message.
    async fn call(
        &self,
        method: &str,
        params: Value,
        session_id: Option<&str>,
    ) -> Result<Value, String> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let mut command = json!({ "id": id, "method": method, "params": params });
        if let Some(session) = session_id {
            command["sessionId"] = json!(session);
        }
        let (answer, answered) = oneshot::channel();
        self.pending.lock().unwrap().insert(id, answer);
        self.sink
            .lock()
            .await
            .send(Message::text(command.to_string()))
            .await
            .map_err(|e| format!("{method}: cannot send to Chromium: {e}"))?;
        let reply = tokio::time::timeout(DEADLINE, answered)
            .await
            .map_err(|_| format!("{method}: Chromium did not answer within {DEADLINE:?}"))?
            .map_err(|_| format!("{method}: Chromium closed the connection"))?;
        match reply.get("error") {
            Some(error) => Err(format!("{method}: {error}")),
            None => Ok(reply.get("result").cloned().unwrap_or(Value::Null)),
        }
    }
}

/// A headless Chromium on a throw-away profile.
pub struct Browser {
    connection: Arc<Connection>,
    process: Process,
}

/// The Chromium process and its profile, ended and removed on drop (also when a test fails
/// before the browser is fully up).
struct Process {
    child: Child,
    profile: PathBuf,
}

static PROFILES: AtomicU64 = AtomicU64::new(0);

impl Browser {
    /// Starts Chromium; a missing binary fails the test with the package to install.
    pub async fn launch() -> Browser {
        assert!(
            Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: install Debian's `chromium` package \
             (apt-get install chromium); .ci/run does this when it is absent"
        );
        let profile = std::env::temp_dir().join(format!(
            "seam-chromium-{}-{}",
            std::process::id(),
            PROFILES.fetch_add(1, Ordering::SeqCst)
        ));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).expect("create the Chromium profile directory");
        let log = std::fs::File::create(profile.join("chromium.log")).expect("chromium log");
        let child = Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-extensions",
                "--disable-dev-shm-usage",
                "--mute-audio",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            // Its own process group, so that ending it also ends the renderers it started.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {CHROMIUM}: {e}"));
        let mut process = Process { child, profile };
        let url = process.devtools_url().await;
        Browser {
            connection: Arc::new(Connection::open(&url).await),
            process,
        }
    }

    /// What Chromium printed, for failure messages.
    pub fn log(&self) -> String {
        self.process.log()
    }
}

impl Process {
    /// Chromium writes its port and browser path to `DevToolsActivePort` once it listens.
    async fn devtools_url(&mut self) -> String {
        let file = self.profile.join("DevToolsActivePort");
        let started = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(&file) {
                let mut lines = text.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                    return format!("ws://127.0.0.1:{}{}", port.trim(), path.trim());
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "Chromium exited ({status}) before it listened:\n{}",
                    self.log()
                );
            }
            assert!(
                started.elapsed() < DEADLINE,
                "Chromium wrote no DevToolsActivePort within {DEADLINE:?}:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.profile.join("chromium.log")).unwrap_or_default()
    }
}

impl Browser {
    /// Opens a new tab on `about:blank`, attached in flat mode (commands carry its session id).
    pub async fn page(&self) -> Page {
        let target = self
            .connection
            .call("Target.createTarget", json!({ "url": "about:blank" }), None)
            .await
            .expect("Target.createTarget");
        let target_id = target["targetId"].as_str().expect("targetId").to_owned();
        let attached = self
            .connection
            .call(
                "Target.attachToTarget",
                json!({ "targetId": target_id, "flatten": true }),
                None,
            )
            .await
            .expect("Target.attachToTarget");
        let session_id = attached["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_owned();
        let page = Page {
            connection: self.connection.clone(),
            session_id,
        };
        page.call("Page.enable", json!({}))
            .await
            .expect("Page.enable");
        page.call("Runtime.enable", json!({}))
            .await
            .expect("Runtime.enable");
        page
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // SIGTERM to the group lets Chromium close its renderers; SIGKILL after a grace period.
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-TERM", "--", &group]).status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10) {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// One tab.
pub struct Page {
    connection: Arc<Connection>,
    session_id: String,
}

impl Page {
    /// A CDP command to this tab.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, String> {
        self.connection
            .call(method, params, Some(&self.session_id))
            .await
    }

    /// Navigates and waits until the new document has loaded. A marker set on the old document
    /// tells the new one apart, since `about:blank` is also "complete".
    pub async fn goto(&self, url: &str) {
        self.evaluate("window.__seamOldDocument = true")
            .await
            .expect("mark the old document");
        let navigated = self
            .call("Page.navigate", json!({ "url": url }))
            .await
            .unwrap_or_else(|e| panic!("navigate to {url}: {e}"));
        if let Some(error) = navigated.get("errorText").and_then(Value::as_str) {
            panic!("navigate to {url}: {error}");
        }
        self.wait_until(
            "window.__seamOldDocument === undefined && document.readyState === 'complete'",
            &format!("{url} to load"),
        )
        .await;
    }

    /// Runs `expression` in the page (awaiting a promise it returns) and returns its value as
    /// JSON; an exception thrown comes back as `Err` with its description.
    pub async fn evaluate(&self, expression: &str) -> Result<Value, String> {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({
                    "expression": expression,
                    "awaitPromise": true,
                    "returnByValue": true,
                }),
            )
            .await?;
        if let Some(exception) = result.get("exceptionDetails") {
            let description = exception["exception"]["description"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| exception.to_string());
            return Err(description);
        }
        Ok(result["result"]
            .get("value")
            .cloned()
            .unwrap_or(Value::Null))
    }

    /// Polls `expression` until it is `true`, failing the test after [`DEADLINE`] with `what`
    /// and the last value or error seen. Errors while polling (a document being replaced) are
    /// retried.
    pub async fn wait_until(&self, expression: &str, what: &str) {
        let started = Instant::now();
        loop {
            let last = self.evaluate(expression).await;
            if last == Ok(Value::Bool(true)) {
                return;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "waited {DEADLINE:?} for {what} ({expression}); last: {last:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The events this tab has reported so far with the given method (domains must be enabled).
    pub fn events(&self, method: &str) -> Vec<Value> {
        self.connection
            .events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e.method == method && e.session_id.as_deref() == Some(&self.session_id))
            .map(|e| e.params.clone())
            .collect()
    }
}

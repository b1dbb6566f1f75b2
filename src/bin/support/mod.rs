//! What the benchmark programs share: Seam as a child process (the `seam` binary next to the
//! benchmark), so its CPU time and memory can be read from /proc apart from the load generator.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `seam serve`; killed when dropped.
pub struct SeamProcess {
    pub child: Child,
    pub port: u16,
}

impl Drop for SeamProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SeamProcess {
    /// `path` on this gateway, e.g. `/graphql`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

/// A scratch directory for one benchmark run's config files.
pub fn scratch_dir(program: &str) -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("{program}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// Starts `seam serve --config config` on a free port and waits until it is ready.
pub async fn start_seam(config: &Path) -> Result<SeamProcess, String> {
    start_seam_with(config, None).await
}

/// [`start_seam`] with the `OTEL_*` environment decided here: `Some` sets those variables and
/// removes every other `OTEL_*` one, `None` passes this process's environment on as it is.
pub async fn start_seam_with(
    config: &Path,
    otel: Option<&[(&str, String)]>,
) -> Result<SeamProcess, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let seam = exe.with_file_name("seam");
    if !seam.exists() {
        return Err(format!(
            "{} not found: build it with `cargo build --release`",
            seam.display()
        ));
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        l.local_addr().map_err(|e| e.to_string())?.port()
    };
    let mut command = Command::new(seam);
    command
        .args(["serve", "--config"])
        .arg(config)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(otel) = otel {
        for (name, _) in std::env::vars() {
            if name.starts_with("OTEL_") {
                command.env_remove(name);
            }
        }
        for (name, value) in otel {
            command.env(name, value);
        }
    }
    let child = command.spawn().map_err(|e| e.to_string())?;
    let process = SeamProcess { child, port };
    let ready = format!("http://127.0.0.1:{port}/ready");
    for _ in 0..200 {
        if reqwest::get(&ready)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok(process);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Err("the gateway did not become ready in 10 s".into())
}

/// The `subgraphs:` lines for the running demo subgraphs.
pub fn demo_subgraphs_yaml(subgraphs: &[seam::demo::DemoSubgraph]) -> String {
    let mut yaml = String::from("subgraphs:\n");
    for s in subgraphs {
        yaml.push_str(&format!("  - name: {}\n    url: {}\n", s.name, s.url));
    }
    yaml
}

/// utime + stime of a process, from /proc (Linux); `None` elsewhere.
pub fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let after_name = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    // Clock ticks are 100 Hz on Linux unless the kernel was built otherwise.
    Some(Duration::from_millis((utime + stime) * 10))
}

/// A `Vm*` line of /proc/PID/status in KiB (Linux): `VmRSS` is resident memory now, `VmHWM` its
/// peak over the process's life.
pub fn status_kib(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| {
        l.strip_prefix(field)
            .is_some_and(|rest| rest.starts_with(':'))
    })?;
    line.split_whitespace().nth(1)?.parse().ok()
}

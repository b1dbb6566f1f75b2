//! The container image, without a Docker engine: the Dockerfile's own command line, config and
//! health check are read from the Dockerfile and run as plain processes, with the image's paths
//! mapped back to the files the Dockerfile copies into it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const PATIENCE: Duration = Duration::from_secs(60);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// What the Dockerfile's final stage says about running the image.
struct Image {
    entrypoint: Vec<String>,
    cmd: Vec<String>,
    healthcheck: Vec<String>,
    env: HashMap<String, String>,
    /// Image path ▶ repository path, from the final stage's `COPY` lines.
    copies: Vec<(String, PathBuf)>,
}

fn json_array(text: &str) -> Vec<String> {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not a JSON array ({e}): {text}"))
}

fn read_image() -> Image {
    let text = std::fs::read_to_string(repo().join("Dockerfile")).expect("Dockerfile");
    let final_stage = text
        .rsplit_once("\nFROM ")
        .map(|(_, stage)| stage)
        .expect("a final stage");
    let mut image = Image {
        entrypoint: Vec::new(),
        cmd: Vec::new(),
        healthcheck: Vec::new(),
        env: HashMap::new(),
        copies: Vec::new(),
    };
    for line in final_stage.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("ENTRYPOINT ") {
            image.entrypoint = json_array(rest);
        } else if let Some(rest) = line.strip_prefix("CMD ") {
            image.cmd = json_array(rest);
        } else if let Some(rest) = line.strip_prefix("HEALTHCHECK ") {
            let (_, command) = rest.split_once("CMD ").expect("HEALTHCHECK … CMD […]");
            image.healthcheck = json_array(command);
        } else if let Some(rest) = line.strip_prefix("ENV ") {
            let (key, value) = rest.split_once('=').expect("ENV KEY=VALUE");
            image.env.insert(key.to_owned(), value.to_owned());
        } else if let Some(rest) = line.strip_prefix("COPY ") {
            if rest.starts_with("--from") {
                continue;
            }
            let parts: Vec<&str> = rest.split_whitespace().collect();
            let (source, target) = (parts[0], parts[1]);
            image.copies.push((target.to_owned(), repo().join(source)));
        }
    }
    assert_eq!(
        image.entrypoint,
        vec!["seam"],
        "the image runs the seam binary"
    );
    image
}

impl Image {
    /// A path inside the image as the repository file the Dockerfile copied there.
    fn host_path(&self, arg: &str) -> String {
        for (target, source) in &self.copies {
            if let Some(rest) = arg.strip_prefix(target.as_str()) {
                let mapped = if rest.is_empty() {
                    source.clone()
                } else {
                    source.join(rest.trim_start_matches('/'))
                };
                return mapped.display().to_string();
            }
        }
        arg.to_owned()
    }

    /// The image's command with `args` in place of `CMD` (`docker run seam ARGS…`), as a
    /// process on this machine: `seam` is the binary under test.
    fn command(&self, args: &[String], env: &[(&str, String)]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_seam"));
        command.args(args.iter().map(|a| self.host_path(a)));
        command.env_clear();
        if let Ok(path) = std::env::var("PATH") {
            command.env("PATH", path);
        }
        command.envs(&self.env);
        command.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
        command.env("RUST_LOG", "warn");
        command
    }
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `command` and waits for it to print that it listens.
fn start(mut command: Command) -> Running {
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("seam starts");
    let stderr = child.stderr.take().expect("stderr");
    let running = Running(child);
    let deadline = Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.expect("line");
        if line.contains("listening on") {
            return running;
        }
        seen.push(line);
        assert!(Instant::now() < deadline, "never listened: {seen:?}");
    }
    panic!("seam exited before listening: {seen:?}");
}

fn free_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").to_string()
}

async fn query(address: &str) -> Value {
    reqwest::Client::new()
        .post(format!("http://{address}/graphql"))
        .json(&json!({ "query": "{ topProducts(first: 1) { name inStock reviews { author { username } } } }" }))
        .timeout(PATIENCE)
        .send()
        .await
        .expect("gateway")
        .json()
        .await
        .expect("json")
}

/// A product with data from all four demo subgraphs.
fn assert_top_product(answer: &Value) {
    assert!(answer.get("errors").is_none(), "{answer}");
    let product = &answer["data"]["topProducts"][0];
    assert!(product["name"].is_string(), "{answer}");
    assert!(product["inStock"].is_boolean(), "{answer}");
    assert!(
        product["reviews"][0]["author"]["username"].is_string(),
        "{answer}"
    );
}

// Multi-threaded: the subgraphs run in this runtime while the test waits on the process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_image_command_serves_subgraphs_named_by_environment_variables() {
    let image = read_image();
    let subgraphs = seam::demo::spawn_subgraphs("127.0.0.1".parse().expect("ip"))
        .await
        .expect("demo subgraphs");
    let address = free_address();
    let mut env = vec![("SEAM_LISTEN", address.clone())];
    for s in &subgraphs {
        let key = match s.name {
            "accounts" => "ACCOUNTS_URL",
            "products" => "PRODUCTS_URL",
            "reviews" => "REVIEWS_URL",
            "inventory" => "INVENTORY_URL",
            other => panic!("unexpected subgraph {other}"),
        };
        env.push((key, s.url.clone()));
    }
    let mut gateway = start(image.command(&image.cmd, &env));
    assert_top_product(&query(&address).await);

    // The image's HEALTHCHECK command, with the same environment.
    assert_eq!(image.healthcheck[0], "seam");
    let status = image
        .command(&image.healthcheck[1..], &env)
        .stdout(Stdio::null())
        .status()
        .expect("health check runs");
    assert!(status.success(), "healthy while serving");

    // `docker stop` sends SIGTERM: Seam stops and exits 0.
    let pid = gateway.0.id().to_string();
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(sent.success());
    let deadline = Instant::now() + PATIENCE;
    let exit = loop {
        if let Some(status) = gateway.0.try_wait().expect("wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "still running after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");

    // With nothing listening, the health check fails.
    let status = image
        .command(&image.healthcheck[1..], &env)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("health check runs");
    assert!(!status.success(), "unhealthy when nothing listens");
}

#[tokio::test]
async fn docker_run_seam_demo_starts_the_demo_from_the_image() {
    let image = read_image();
    let address = free_address();
    let _demo = start(image.command(&["demo".to_owned()], &[("SEAM_LISTEN", address.clone())]));
    assert_top_product(&query(&address).await);
}

#[test]
fn the_image_holds_what_its_config_needs_and_the_build_context_is_small() {
    let image = read_image();
    // The config Seam is started with exists in the repository, and mounting a directory over
    // /etc/seam (the README's `-v`) hides nothing but the config itself.
    let config = image
        .cmd
        .iter()
        .find(|a| a.ends_with(".yaml"))
        .expect("a config in CMD");
    assert!(Path::new(&image.host_path(config)).is_file(), "{config}");
    for (target, source) in &image.copies {
        assert!(
            source.exists(),
            "COPY source {} is missing",
            source.display()
        );
        if target != "/etc/seam/seam.yaml" {
            assert!(
                !target.starts_with("/etc/seam"),
                "{target} would be hidden by a config mount"
            );
        }
    }
    // Every subgraph URL in the container config comes from the environment, with a default.
    let text = std::fs::read_to_string(image.host_path(config)).expect("config");
    for line in text.lines().filter(|l| l.trim_start().starts_with("url:")) {
        assert!(line.contains("${") && line.contains(":-"), "{line}");
    }
    let loaded = seam::config::Config::load(Path::new(&image.host_path(config)))
        .expect("the container config loads with no variables set");
    assert_eq!(loaded.subgraphs.len(), 4);
    let ignore = std::fs::read_to_string(repo().join(".dockerignore")).expect(".dockerignore");
    for excluded in ["target", ".git"] {
        assert!(
            ignore
                .lines()
                .any(|l| l.trim_start_matches('/').starts_with(excluded)),
            "{excluded}"
        );
    }
}

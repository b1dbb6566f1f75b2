//! The `seam` command line: serve, compose, plan, demo.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use seam::config::{BridgeBackend, BridgeConfig, Config, LogFormat};
use seam::startup::{self, StartupError};
use seam::telemetry::TelemetrySettings;
use seam::Gateway;

/// mimalloc: a request allocates many small short-lived values, where it is much faster than glibc's malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const DEFAULT_CONFIG: &str = "config/seam.yaml";
const DEFAULT_LISTEN: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 4000);
/// Where `config/seam.yaml` expects the demo subgraphs: accounts on 4001 up to inventory on 4004.
const DEFAULT_SUBGRAPH_PORT: u16 = 4001;

#[derive(Parser)]
#[command(name = "seam", version, about = "A GraphQL federation gateway")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the supergraph described by a config file or a supergraph SDL file.
    Serve {
        #[arg(long, env = "SEAM_CONFIG")]
        config: Option<PathBuf>,
        /// A supergraph SDL composed by rover, Hive or wgc; no config needed.
        #[arg(long)]
        supergraph: Option<PathBuf>,
        #[arg(long, env = "SEAM_LISTEN")]
        listen: Option<SocketAddr>,
        /// Do not reload when the config or supergraph file changes (as `watch_files: false`).
        #[arg(long)]
        no_watch: bool,
    },
    /// Print the composed supergraph SDL; exit 1 with composition errors.
    Compose {
        #[arg(long, env = "SEAM_CONFIG", default_value = DEFAULT_CONFIG)]
        config: PathBuf,
    },
    /// Print the query plan of the operation in QUERY_FILE.
    Plan {
        #[arg(long, env = "SEAM_CONFIG")]
        config: Option<PathBuf>,
        #[arg(long)]
        supergraph: Option<PathBuf>,
        /// Which operation of the file to plan, when it has several.
        #[arg(long)]
        operation_name: Option<String>,
        /// A progressive `@override` label to plan as switched on (repeatable), e.g.
        /// `--label 'percent(20)'` or `--label new-reviews`.
        #[arg(long = "label")]
        labels: Vec<String>,
        query_file: PathBuf,
    },
    /// Start the bundled example subgraphs and the gateway in front of them.
    Demo {
        #[arg(long, env = "SEAM_LISTEN", default_value_t = DEFAULT_LISTEN)]
        listen: SocketAddr,
        /// The bridge for subscriptions: `redis://HOST:PORT` or `nats://HOST:PORT`; the
        /// in-process bridge when absent.
        #[arg(long)]
        bridge: Option<String>,
        /// The first of four consecutive ports for the demo subgraphs (accounts, products,
        /// reviews, inventory). With `--bridge`, a demo finding another `seam demo`'s subgraphs
        /// there fronts those; otherwise taken ports make startup fail. Without it: 4001, or
        /// any free ports when 4001-4004 are taken.
        #[arg(long)]
        subgraph_port: Option<u16>,
    },
    /// Exit 0 when the gateway on this machine answers `/health`, 1 otherwise (the container
    /// image's HEALTHCHECK; it has no curl).
    Health {
        /// The health URL; by default `/health` on the port of `--listen`.
        #[arg(long)]
        url: Option<String>,
        #[arg(long, env = "SEAM_LISTEN", default_value_t = DEFAULT_LISTEN)]
        listen: SocketAddr,
    },
}

/// `seam health`: the URL is checked from inside the machine, so an address that listens on
/// every interface is reached through loopback.
async fn check_health(url: Option<String>, listen: SocketAddr) -> Result<(), StartupError> {
    let url = url.unwrap_or_else(|| {
        let host = match listen.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        format!("http://{}/health", SocketAddr::new(host, listen.port()))
    });
    let unhealthy = |why: String| StartupError::Usage(format!("{url}: {why}"));
    let response = reqwest::Client::new()
        .get(&url)
        .timeout(std::time::Duration::from_secs(4))
        .send()
        .await
        .map_err(|e| unhealthy(format!("no answer ({e})")))?;
    if !response.status().is_success() {
        return Err(unhealthy(format!("answered {}", response.status())));
    }
    println!("healthy: {url}");
    Ok(())
}

/// The bridge `--bridge` names: its scheme picks the backend, and the backend's client checks
/// the rest of the URL when it connects.
fn demo_bridge_config(url: Option<String>) -> Result<BridgeConfig, StartupError> {
    let Some(url) = url else {
        return Ok(BridgeConfig::default());
    };
    let backend = if url.starts_with("redis://") || url.starts_with("rediss://") {
        BridgeBackend::Redis
    } else if url.starts_with("nats://") {
        BridgeBackend::Nats
    } else {
        return Err(StartupError::Usage(format!(
            "--bridge {url}: expected redis://HOST:PORT, rediss://HOST:PORT or nats://HOST:PORT"
        )));
    };
    Ok(BridgeConfig {
        backend,
        url: Some(url),
        ..BridgeConfig::default()
    })
}

/// Writes the demo's event subgraph SDL where the demo config can name it. One fixed file,
/// replaced whole each run: a temp file renamed over it, so a second demo starting at the same
/// moment never reads it half written, and runs leave no file per process behind.
fn write_demo_events_sdl() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir();
    let path = dir.join("seam-demo-events.graphql");
    let partial = dir.join(format!("seam-demo-events.graphql.{}", std::process::id()));
    std::fs::write(&partial, seam::demo::EVENTS_SDL)?;
    std::fs::rename(&partial, &path)?;
    Ok(path)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Read before the runtime starts, which it sizes, and telemetry, which it configures. A config
    // that does not load is reported by the command itself; until then the runtime has its
    // default size and telemetry comes from the environment.
    let config = startup_config(&cli.command);
    let settings = TelemetrySettings::resolve(config.as_ref());
    let worker_threads = match config
        .as_ref()
        .map_or_else(seam::config::default_worker_threads, Config::worker_threads)
    {
        Ok(threads) => threads,
        Err(message) => {
            report_failure(settings.log_format, &message, Vec::new());
            return ExitCode::FAILURE;
        }
    };
    // Always sized here: left unset, tokio would read TOKIO_WORKER_THREADS itself and panic on
    // a value that is not a number.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The exporter sends its batches from a task of the runtime, so it starts inside it.
    let telemetry = match runtime.block_on(async { seam::telemetry::init(&settings) }) {
        Ok(guard) => guard,
        Err(e) => {
            report_failure(settings.log_format, &e.to_string(), Vec::new());
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli.command));
    // Sends the spans still queued; the exporter's task needs the runtime to do it.
    runtime.block_on(async {
        let _ = tokio::task::spawn_blocking(move || telemetry.shutdown()).await;
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let details = match &e {
                // Each with its code, as the text form gives it (`error[CODE]: …`).
                StartupError::Composition(errors) => errors
                    .errors()
                    .iter()
                    .map(|error| format!("{}: {}", error.code(), error.message()))
                    .collect(),
                _ => Vec::new(),
            };
            report_failure(settings.log_format, &e.to_string(), details);
            ExitCode::FAILURE
        }
    }
}

/// The config whose `worker_threads`, `telemetry:` and `log:` apply to `command`, when it loads.
fn startup_config(command: &Command) -> Option<Config> {
    let path = match command {
        Command::Serve {
            config, supergraph, ..
        } => match (supergraph, config) {
            (Some(_), path) => return Config::load_beside_supergraph(path.as_deref()?).ok(),
            (None, path) => Some(path.clone().unwrap_or_else(|| DEFAULT_CONFIG.into())),
        },
        _ => None,
    }?;
    Config::load(&path).ok()
}

/// Reports a failure that ends the process: as `error: …` text, or as one JSON record whose
/// `errors` lists each problem (a composition's errors, one per entry) for log collectors.
fn report_failure(format: LogFormat, message: &str, details: Vec<String>) {
    match format {
        LogFormat::Text => eprintln!("error: {message}"),
        LogFormat::Json => {
            let (headline, errors) = if details.is_empty() {
                let mut lines = message.lines().map(str::to_owned);
                let headline = lines.next().unwrap_or_default();
                let mut errors: Vec<String> = lines.map(|l| l.trim().to_owned()).collect();
                // A failure of one line is its own one problem.
                if errors.is_empty() {
                    errors.push(headline.clone());
                }
                (headline, errors)
            } else {
                let headline = message.lines().next().unwrap_or_default().to_owned();
                (headline, details)
            };
            let record = serde_json::json!({
                "timestamp": humantime::format_rfc3339_micros(std::time::SystemTime::now()).to_string(),
                "level": "ERROR",
                "target": "seam",
                "message": headline,
                "errors": errors,
            });
            eprintln!("{record}");
        }
    }
}

async fn run(command: Command) -> Result<(), StartupError> {
    let client = reqwest::Client::new();
    match command {
        Command::Serve {
            config,
            supergraph,
            listen,
            no_watch,
        } => {
            // With --supergraph the config is optional, and need not list subgraphs: every
            // other section applies as it would without the file.
            let (config_path, load): (_, fn(&Path) -> _) = match (&supergraph, config) {
                (Some(_), path) => (path, Config::load_beside_supergraph),
                (None, path) => (
                    Some(path.unwrap_or_else(|| DEFAULT_CONFIG.into())),
                    Config::load,
                ),
            };
            let config = config_path.as_deref().map(load).transpose()?;
            let mut builder = Gateway::builder().client(client.clone());
            if let Some(path) = &supergraph {
                builder = builder.supergraph_sdl(startup::supergraph_file(path).await?);
            }
            if let Some(config) = config.clone() {
                builder = builder.config(config);
            }
            let gateway = builder.build_gateway().await?;
            let watching = !no_watch
                && startup::spawn_file_watch(
                    gateway.clone(),
                    startup::WatchedFiles {
                        config: config_path,
                        supergraph,
                    },
                    config.clone(),
                    startup::WATCH_INTERVAL,
                    client.clone(),
                );
            if !watching {
                tracing::info!("not watching the config and supergraph files for changes");
            }
            let addr = listen
                .or(config.as_ref().and_then(|c| c.listen))
                .unwrap_or(DEFAULT_LISTEN);
            startup::serve(gateway, addr, config.as_ref()).await
        }
        Command::Compose { config } => {
            let config = Config::load(&config)?;
            let sdls = seam::sources::load_subgraph_sdls(&config, &client).await?;
            let sdl = seam::compose::compose(&sdls)?;
            print!("{sdl}");
            Ok(())
        }
        Command::Plan {
            config,
            supergraph,
            operation_name,
            labels,
            query_file,
        } => {
            // As `seam serve` does, so the plan is the one the gateway would run: a config given
            // with --supergraph still contributes its `merge:` lookups.
            let (sdl, config) = match (supergraph, config) {
                (Some(path), config) => (
                    startup::supergraph_file(&path).await?,
                    config
                        .map(|p| Config::load_beside_supergraph(&p))
                        .transpose()?,
                ),
                (None, config) => {
                    let config =
                        Config::load(config.as_deref().unwrap_or(Path::new(DEFAULT_CONFIG)))?;
                    (
                        startup::supergraph_sdl(&config, &client).await?,
                        Some(config),
                    )
                }
            };
            let supergraph = startup::supergraph_model(&sdl, config.as_ref())?;
            let query = std::fs::read_to_string(&query_file).map_err(|e| {
                StartupError::Serve(std::io::Error::new(
                    e.kind(),
                    format!("cannot read {}: {e}", query_file.display()),
                ))
            })?;
            let labels = supergraph.labels_named(&labels);
            match seam::plan::plan_text(&supergraph, &query, operation_name.as_deref(), labels) {
                Ok(text) => {
                    print!("{text}");
                    Ok(())
                }
                Err(message) => Err(StartupError::Serve(std::io::Error::other(message))),
            }
        }
        Command::Health { url, listen } => check_health(url, listen).await,
        Command::Demo {
            listen,
            bridge,
            subgraph_port,
        } => {
            let bridge_config = demo_bridge_config(bridge)?;
            let shared_bridge = bridge_config.backend != BridgeBackend::Memory;
            // The demo's subgraphs publish through the same bridge the gateway subscribes on.
            let shared = seam::bridge::from_config(&bridge_config)?;
            // The config's ports when free, so `seam serve`/`seam compose` with config/seam.yaml
            // work against a running demo; any free ports else, unless the ports were asked for.
            let host = IpAddr::V4(Ipv4Addr::LOCALHOST);
            let first_port = subgraph_port.unwrap_or(DEFAULT_SUBGRAPH_PORT);
            let ports = format!("{first_port}-{}", first_port.saturating_add(3));
            let subgraphs = match seam::demo::spawn_subgraphs_with_bridge(
                host,
                first_port,
                Some(shared.clone()),
            )
            .await
            {
                Ok(s) => s,
                Err(bind_error) => {
                    // Another demo's subgraphs are fronted only over a shared bridge: its reviews
                    // subgraph publishes on its own bridge, which an in-process one here would
                    // never hear, so `reviewAdded` would stay silent.
                    let running = if shared_bridge {
                        seam::demo::running_subgraphs(host, first_port, &client).await
                    } else {
                        None
                    };
                    match running {
                        Some(running) => {
                            eprintln!("demo subgraphs already run on ports {ports}: using them");
                            running
                        }
                        None if subgraph_port.is_some() => {
                            let hint = if shared_bridge {
                                "no demo subgraphs answer there"
                            } else {
                                "a running demo's subgraphs there can be shared only with --bridge"
                            };
                            return Err(StartupError::Serve(std::io::Error::new(
                                bind_error.kind(),
                                format!(
                                    "cannot start the demo subgraphs on ports {ports} ({hint}): \
                                     {bind_error}"
                                ),
                            )));
                        }
                        None => {
                            seam::demo::spawn_subgraphs_with_bridge(host, 0, Some(shared.clone()))
                                .await
                                .map_err(StartupError::Serve)?
                        }
                    }
                }
            };
            let events = write_demo_events_sdl().map_err(StartupError::Serve)?;
            let mut yaml = String::from("subgraphs:\n");
            for s in &subgraphs {
                eprintln!("demo subgraph {:<10} {}", s.name, s.url);
                yaml.push_str(&format!("  - name: {}\n    url: {}\n", s.name, s.url));
            }
            yaml.push_str(&format!(
                "  - name: events\n    sdl: {}\n",
                events.display()
            ));
            let mut config = Config::from_yaml_str(&yaml, Path::new("."))?;
            config.bridge = bridge_config;
            let gateway =
                startup::gateway_from_config_with_bridge(&config, &client, Some(shared)).await?;
            eprintln!(
                "try: curl -s http://{listen}/graphql -H 'content-type: application/json' \\\n  \
                 -d '{{\"query\":\"{{ topProducts(first: 2) {{ name price shippingEstimate reviews {{ body author {{ username name }} }} }} }}\"}}'"
            );
            eprintln!(
                "subscribe: curl -N http://{listen}/graphql -H 'accept: text/event-stream' -H 'content-type: application/json' \\\n  \
                 -d '{{\"query\":\"subscription {{ reviewAdded {{ body product {{ name price }} author {{ username }} }} }}\"}}'"
            );
            startup::serve(gateway, listen, Some(&config)).await
        }
    }
}

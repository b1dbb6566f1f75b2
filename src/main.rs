//! The `seam` command line: serve, compose, plan, demo.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use seam::config::Config;
use seam::gateway::Gateway;
use seam::startup::{self, StartupError};
use seam::supergraph::Supergraph;

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
        /// reviews, inventory). If another `seam demo` serves them there already, this one
        /// fronts those; if something else holds them, startup fails. Without it: 4001, or any
        /// free ports when 4001-4004 are taken.
        #[arg(long)]
        subgraph_port: Option<u16>,
    },
}

/// `--bridge redis://…` / `nats://…` as the config's `bridge:` section (YAML), so the config's
/// own validation checks the URL.
fn demo_bridge_yaml(url: Option<&str>) -> Result<String, StartupError> {
    let Some(url) = url else {
        return Ok(String::new());
    };
    let backend = if url.starts_with("redis://") || url.starts_with("rediss://") {
        "redis"
    } else if url.starts_with("nats://") {
        "nats"
    } else {
        return Err(StartupError::Bridge(
            seam::bridge::BridgeError::Unavailable {
                backend: "demo",
                message: format!("--bridge {url}: expected redis://HOST:PORT or nats://HOST:PORT"),
            },
        ));
    };
    Ok(format!("bridge:\n  backend: {backend}\n  url: \"{url}\"\n"))
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
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
        } => {
            // With --supergraph the config is optional (URL and timeout overrides only).
            let config = match (&supergraph, config) {
                (Some(_), path) => path.map(|p| Config::load(&p)).transpose()?,
                (None, path) => Some(Config::load(
                    path.as_deref().unwrap_or(Path::new(DEFAULT_CONFIG)),
                )?),
            };
            let mut builder = Gateway::builder().client(client);
            if let Some(path) = &supergraph {
                builder = builder.supergraph_sdl(startup::supergraph_file(path).await?);
            }
            if let Some(config) = config.clone() {
                builder = builder.config(config);
            }
            let gateway = builder.build_gateway().await?;
            let addr = listen
                .or(config.as_ref().and_then(|c| c.listen))
                .unwrap_or(DEFAULT_LISTEN);
            startup::serve(gateway, addr).await
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
            let sdl = match (supergraph, config) {
                (Some(path), _) => startup::supergraph_file(&path).await?,
                (None, config) => {
                    let config =
                        Config::load(config.as_deref().unwrap_or(Path::new(DEFAULT_CONFIG)))?;
                    startup::supergraph_sdl(&config, &client).await?
                }
            };
            let supergraph = Supergraph::parse(&sdl)?;
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
        Command::Demo {
            listen,
            bridge,
            subgraph_port,
        } => {
            let bridge_yaml = demo_bridge_yaml(bridge.as_deref())?;
            // The demo's subgraphs publish through the same bridge the gateway subscribes on.
            let bridge_config: seam::config::BridgeConfig =
                match bridge_yaml.strip_prefix("bridge:\n") {
                    Some(section) => serde_yaml_ng::from_str(section).map_err(|e| {
                        StartupError::Bridge(seam::bridge::BridgeError::Unavailable {
                            backend: "demo",
                            message: e.to_string(),
                        })
                    })?,
                    None => seam::config::BridgeConfig::default(),
                };
            let shared = seam::bridge::from_config(&bridge_config)?;
            // The config's ports when free, so `seam serve`/`seam compose` with config/seam.yaml
            // work against a running demo. When another demo already serves them, this gateway
            // fronts those same subgraphs (two gateways sharing one bridge); any free ports else,
            // unless the ports were asked for.
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
                    match seam::demo::running_subgraphs(host, first_port, &client).await {
                        Some(running) => {
                            eprintln!("demo subgraphs already run on ports {ports}: using them");
                            running
                        }
                        None if subgraph_port.is_some() => {
                            return Err(StartupError::Serve(std::io::Error::new(
                                bind_error.kind(),
                                format!(
                                    "cannot start the demo subgraphs on ports {ports}, and no \
                                     demo subgraphs answer there: {bind_error}"
                                ),
                            )))
                        }
                        None => {
                            seam::demo::spawn_subgraphs_with_bridge(host, 0, Some(shared.clone()))
                                .await
                                .map_err(StartupError::Serve)?
                        }
                    }
                }
            };
            let events = std::env::temp_dir()
                .join(format!("seam-demo-events-{}.graphql", std::process::id()));
            std::fs::write(&events, seam::demo::EVENTS_SDL).map_err(StartupError::Serve)?;
            let mut yaml = String::from("subgraphs:\n");
            for s in &subgraphs {
                eprintln!("demo subgraph {:<10} {}", s.name, s.url);
                yaml.push_str(&format!("  - name: {}\n    url: {}\n", s.name, s.url));
            }
            yaml.push_str(&format!(
                "  - name: events\n    sdl: {}\n",
                events.display()
            ));
            yaml.push_str(&bridge_yaml);
            let config = Config::from_yaml_str(&yaml, Path::new("."))?;
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
            startup::serve(gateway, listen).await
        }
    }
}

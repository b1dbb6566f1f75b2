//! The `seam` binary with configs that cannot compose: `seam compose` and `seam serve` both exit
//! non-zero with a message naming the subgraph, the type and the field. And the happy paths of
//! `seam compose` (the checked-in supergraph) and `seam plan`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const SEAM: &str = env!("CARGO_BIN_EXE_seam");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");

const FED2: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@external", "@requires"])
"#;

/// A directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "seam-composition-errors-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }

    fn write(&self, file: &str, text: &str) -> PathBuf {
        let path = self.0.join(file);
        std::fs::write(&path, text).expect("write temp file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A config listing each `(name, sdl)` as an SDL file beside it.
fn config_with_sdls(dir: &TempDir, subgraphs: &[(&str, &str)]) -> PathBuf {
    let mut yaml = String::from("subgraphs:\n");
    for (i, (name, sdl)) in subgraphs.iter().enumerate() {
        dir.write(&format!("{name}.graphql"), &format!("{FED2}{sdl}"));
        yaml.push_str(&format!(
            "  - name: {name}\n    url: http://127.0.0.1:{}/graphql\n    sdl: {name}.graphql\n",
            4101 + i
        ));
    }
    dir.write("seam.yaml", &yaml)
}

/// Runs `seam args…` in the crate root; kills it if it is still running after `limit`.
fn run(args: &[&str], limit: Duration) -> Output {
    let mut child = Command::new(SEAM)
        .args(args)
        .current_dir(ROOT)
        .env_remove("SEAM_CONFIG")
        .env_remove("SEAM_LISTEN")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start seam");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("wait for seam").is_some() {
            break;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let output = child.wait_with_output().expect("output");
            panic!(
                "`seam {}` still running after {limit:?}; stderr:\n{}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// `seam compose` and `seam serve` with `config` both fail, and their stderr names every needle.
fn assert_both_fail_naming(config: &Path, needles: &[&str]) {
    let config = config.to_str().expect("utf-8 path");
    let limit = Duration::from_secs(30);
    for args in [
        vec!["compose", "--config", config],
        vec!["serve", "--config", config, "--listen", "127.0.0.1:0"],
    ] {
        let output = run(&args, limit);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            !output.status.success(),
            "`seam {}` succeeded; stdout:\n{}",
            args[0],
            String::from_utf8_lossy(&output.stdout)
        );
        for needle in needles {
            assert!(
                stderr.contains(needle),
                "`seam {}` stderr lacks {needle:?}:\n{stderr}",
                args[0]
            );
        }
        assert!(
            output.stdout.is_empty(),
            "`seam {}` printed no supergraph: {}",
            args[0],
            String::from_utf8_lossy(&output.stdout)
        );
    }
}

const PRODUCTS: &str = r#"
type Query { topProducts: [Product!]! }
type Product @key(fields: "upc") { upc: String! name: String! }
"#;

#[test]
fn field_with_different_types_in_two_subgraphs() {
    let dir = TempDir::new("type-mismatch");
    let inventory = r#"
type Product @key(fields: "upc") { upc: String! name: Int! }
"#;
    let config = config_with_sdls(&dir, &[("products", PRODUCTS), ("inventory", inventory)]);
    assert_both_fail_naming(
        &config,
        &["products", "inventory", "Product.name", "Int!", "String!"],
    );
}

#[test]
fn value_type_field_in_two_subgraphs_without_shareable() {
    let dir = TempDir::new("value-type");
    let products = r#"
type Query { topProducts: [Product!]! }
type Product @key(fields: "upc") { upc: String! price: Money! }
type Money { amount: Int! currency: String! }
"#;
    let billing = r#"
type Query { balance: Money! }
type Money { amount: Int! currency: String! }
"#;
    let config = config_with_sdls(&dir, &[("products", products), ("billing", billing)]);
    assert_both_fail_naming(
        &config,
        &[
            "INVALID_FIELD_SHARING",
            "products",
            "billing",
            "Money.amount",
            "Money.currency",
            "@shareable",
        ],
    );
}

#[test]
fn key_naming_a_field_the_type_does_not_have() {
    let dir = TempDir::new("bad-key");
    let reviews = r#"
type Query { topReviews: [Review!]! }
type Review @key(fields: "nope") { id: ID! body: String! }
"#;
    let config = config_with_sdls(&dir, &[("products", PRODUCTS), ("reviews", reviews)]);
    assert_both_fail_naming(&config, &["reviews", "Review", "nope", "@key"]);
}

#[test]
fn every_error_is_reported_not_only_the_first() {
    let dir = TempDir::new("several");
    let reviews = r#"
type Query { topReviews: [Review!]! }
type Review @key(fields: "nope") { id: ID! body: String! }
type Product @key(fields: "upc") { upc: String! name: Int! }
"#;
    let config = config_with_sdls(&dir, &[("products", PRODUCTS), ("reviews", reviews)]);
    assert_both_fail_naming(&config, &["Review", "nope", "Product.name"]);
}

#[test]
fn subgraph_url_that_cannot_be_reached() {
    let dir = TempDir::new("unreachable");
    dir.write("products.graphql", &format!("{FED2}{PRODUCTS}"));
    // Bind a port, release it: nothing listens there now.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let config = dir.write(
        "seam.yaml",
        &format!(
            "subgraphs:\n  - name: products\n    url: http://127.0.0.1:4101/graphql\n    sdl: products.graphql\n  \
             - name: inventory\n    url: http://127.0.0.1:{port}/graphql\n"
        ),
    );
    assert_both_fail_naming(&config, &["inventory", &format!("127.0.0.1:{port}")]);
}

#[test]
fn sdl_file_that_does_not_exist_is_named() {
    let dir = TempDir::new("missing-sdl");
    let config = dir.write(
        "seam.yaml",
        "subgraphs:\n  - name: products\n    url: http://127.0.0.1:4101/graphql\n    sdl: nowhere.graphql\n",
    );
    assert_both_fail_naming(&config, &["products", "nowhere.graphql"]);
}

#[test]
fn compose_local_config_prints_the_checked_in_supergraph() {
    let output = run(
        &["compose", "--config", "config/compose-local.yaml"],
        Duration::from_secs(30),
    );
    assert!(
        output.status.success(),
        "stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed = String::from_utf8(output.stdout).expect("utf-8");
    let checked_in = std::fs::read_to_string(Path::new(ROOT).join("schemas/supergraph.graphql"))
        .expect("schemas/supergraph.graphql");
    assert!(
        printed == checked_in,
        "`seam compose --config config/compose-local.yaml` differs from schemas/supergraph.graphql; \
         printed:\n{printed}"
    );
}

#[test]
fn plan_prints_the_query_plan() {
    let dir = TempDir::new("plan");
    let query = dir.write(
        "query.graphql",
        "{ topProducts(first: 2) { name shippingEstimate reviews { author { name } } } }\n",
    );
    let output = run(
        &[
            "plan",
            "--supergraph",
            "schemas/supergraph.graphql",
            query.to_str().expect("utf-8"),
        ],
        Duration::from_secs(30),
    );
    assert!(
        output.status.success(),
        "stderr:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let plan = String::from_utf8(output.stdout).expect("utf-8");
    assert!(plan.starts_with("QueryPlan {"), "{plan}");
    for needle in [
        "Fetch(service: \"products\")",
        "Fetch(service: \"inventory\")",
        "Fetch(service: \"reviews\")",
        "Fetch(service: \"accounts\")",
        "Flatten(path: \"topProducts.@\")",
        "Flatten(path: \"topProducts.@.reviews.@.author\")",
        "shippingEstimate",
    ] {
        assert!(plan.contains(needle), "plan lacks {needle:?}:\n{plan}");
    }
}

#[test]
fn plan_of_an_invalid_query_fails_with_the_reason() {
    let dir = TempDir::new("plan-invalid");
    let query = dir.write("query.graphql", "{ topProducts { nope } }\n");
    let output = run(
        &[
            "plan",
            "--supergraph",
            "schemas/supergraph.graphql",
            query.to_str().expect("utf-8"),
        ],
        Duration::from_secs(30),
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("nope"), "{stderr}");
    assert!(output.stdout.is_empty());
}

/// `seam serve` stops with a message naming the spec; `seam compose` still prints the supergraph.
fn assert_serve_refuses(args: &[&str], spec: &str) {
    let output = run(args, Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "`seam {}` started serving; stderr:\n{stderr}",
        args.join(" ")
    );
    assert!(
        stderr.contains(spec) && stderr.contains("SECURITY"),
        "`seam {}` stderr does not name {spec}:\n{stderr}",
        args.join(" ")
    );
}

#[test]
fn serve_refuses_a_supergraph_file_linking_a_security_spec_it_does_not_enforce() {
    let dir = TempDir::new("security-spec-file");
    // Apollo's composition of subgraphs using @authenticated, @requiresScopes and @policy (which
    // Seam enforces), linking one more security spec that Seam does not know.
    let sdl = include_str!("../src/supergraph/tests/access.graphql").replacen(
        "@link(url: \"https://specs.apollo.dev/policy/v0.1\", for: SECURITY)",
        "@link(url: \"https://specs.apollo.dev/policy/v0.1\", for: SECURITY)\n  \
         @link(url: \"https://example.com/tenancy/v0.1\", for: SECURITY)",
        1,
    );
    assert_ne!(sdl, include_str!("../src/supergraph/tests/access.graphql"));
    let file = dir.write("supergraph.graphql", &sdl);
    let file = file.to_str().expect("utf-8 path");
    assert_serve_refuses(
        &["serve", "--supergraph", file, "--listen", "127.0.0.1:0"],
        "https://example.com/tenancy/v0.1",
    );
}

/// Starts `seam args…` in the crate root and waits for it to say it listens; kills it then.
fn assert_serve_starts(args: &[&str]) {
    use std::io::{BufRead, BufReader};
    let mut child = Command::new(SEAM)
        .args(args)
        .current_dir(ROOT)
        .env_remove("SEAM_CONFIG")
        .env_remove("SEAM_LISTEN")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start seam");
    let stderr = child.stderr.take().expect("stderr");
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut listening = false;
    for line in BufReader::new(stderr).lines() {
        let Ok(line) = line else { break };
        listening = line.contains("listening on");
        seen.push(line);
        if listening || Instant::now() > deadline {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        listening,
        "`seam {}` did not start serving:\n{}",
        args.join(" "),
        seen.join("\n")
    );
}

#[test]
fn serve_enforces_the_authenticated_fields_it_composes() {
    let dir = TempDir::new("security-spec-composed");
    let accounts = r#"
type Query { me: String @authenticated }
"#;
    let config = config_with_sdls(&dir, &[("products", PRODUCTS), ("accounts", accounts)]);
    let config = config.to_str().expect("utf-8 path");
    let composed = run(&["compose", "--config", config], Duration::from_secs(30));
    let supergraph = String::from_utf8_lossy(&composed.stdout);
    assert!(
        composed.status.success()
            && supergraph.contains("me: String @join__field(graph: ACCOUNTS) @authenticated"),
        "`seam compose` keeps @authenticated:\n{supergraph}\n{}",
        String::from_utf8_lossy(&composed.stderr)
    );
    // Enforced (see tests/auth_directives.rs), so served.
    assert_serve_starts(&["serve", "--config", config, "--listen", "127.0.0.1:0"]);
}

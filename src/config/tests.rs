//! Unit tests of the config: parsing, `${VAR}` expansion and every validation rule.

use super::*;

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    move |name| vars.get(name).cloned()
}

fn parse_with(text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    Config::parse(
        text,
        Path::new("/etc/seam"),
        ConfigOrigin(Some(PathBuf::from("config/seam.yaml"))),
        &env(vars),
    )
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    parse_with(text, &[])
}

/// The error's message, for tests that assert on what the user reads.
fn error_of(text: &str) -> String {
    match parse(text) {
        Ok(config) => panic!("expected an error, got {config:?}"),
        Err(error) => error.to_string(),
    }
}

fn problems_of(text: &str) -> Vec<ConfigProblem> {
    match parse(text) {
        Err(ConfigError::Invalid { problems, .. }) => problems,
        other => panic!("expected validation problems, got {other:?}"),
    }
}

fn keys_of(text: &str) -> Vec<String> {
    problems_of(text).into_iter().map(|p| p.key).collect()
}

const FULL: &str = "\
listen: 0.0.0.0:4000
subgraphs:
  - name: accounts
    url: http://accounts:4001/graphql        # queries, mutations, _service, _entities
    # sdl: schemas/accounts.graphql
    subscription_url: ws://accounts:4001/ws
    timeout: 5s
  - name: events
    sdl: schemas/events.graphql
supergraph: /srv/supergraph.graphql
poll_interval: 10s
bridge:
  backend: redis
  url: redis://127.0.0.1:6379
";

#[test]
fn parses_the_documented_example() {
    let config = parse(FULL).unwrap();
    assert_eq!(config.listen, Some("0.0.0.0:4000".parse().unwrap()));
    assert_eq!(config.poll_interval, Some(Duration::from_secs(10)));
    assert_eq!(
        config.supergraph,
        Some(PathBuf::from("/srv/supergraph.graphql"))
    );
    assert_eq!(
        config.bridge,
        BridgeConfig {
            backend: BridgeBackend::Redis,
            url: Some("redis://127.0.0.1:6379".into()),
            prefix: None,
            publish_token: None,
        }
    );
    assert_eq!(
        config.subgraphs,
        vec![
            SubgraphConfig {
                name: "accounts".into(),
                url: Some("http://accounts:4001/graphql".into()),
                sdl: None,
                subscription_url: Some("ws://accounts:4001/ws".into()),
                timeout: Some(Duration::from_secs(5)),
                plain: None,
                merge: BTreeMap::new(),
            },
            SubgraphConfig {
                name: "events".into(),
                url: None,
                sdl: Some(PathBuf::from("/etc/seam/schemas/events.graphql")),
                subscription_url: None,
                timeout: None,
                plain: None,
                merge: BTreeMap::new(),
            },
        ]
    );
    assert_eq!(
        config.subgraphs[0].timeout_or_default(),
        Duration::from_secs(5)
    );
    assert_eq!(
        config.subgraphs[1].timeout_or_default(),
        DEFAULT_SUBGRAPH_TIMEOUT
    );
}

#[test]
fn defaults_for_optional_sections() {
    let config = parse("subgraphs:\n  - name: a\n    url: https://a.example/graphql\n").unwrap();
    assert_eq!(config.listen, None);
    assert_eq!(config.poll_interval, None);
    assert_eq!(config.supergraph, None);
    assert_eq!(config.bridge, BridgeConfig::default());
    assert_eq!(config.bridge.backend, BridgeBackend::Memory);
}

#[test]
fn a_supergraph_alone_is_enough_and_is_resolved_against_the_config_dir() {
    let config = parse("supergraph: schemas/supergraph.graphql\n").unwrap();
    assert!(config.subgraphs.is_empty());
    assert_eq!(
        config.supergraph,
        Some(PathBuf::from("/etc/seam/schemas/supergraph.graphql"))
    );
}

#[test]
fn durations_accept_humantime_forms() {
    let config = parse(
            "subgraphs:\n  - name: a\n    url: http://a/graphql\n    timeout: 250ms\npoll_interval: 1m 30s\n",
        )
        .unwrap();
    assert_eq!(
        config.subgraphs[0].timeout,
        Some(Duration::from_millis(250))
    );
    assert_eq!(config.poll_interval, Some(Duration::from_secs(90)));
}

#[test]
fn bad_durations_name_the_key_and_the_fix() {
    let message = error_of("poll_interval: 10\nsupergraph: s.graphql\n");
    assert!(
        message.starts_with(
            "config/seam.yaml: poll_interval: `10` has no unit; write e.g. `10s` or `10ms`"
        ),
        "{message}"
    );
    assert!(message.contains("line 1"), "{message}");

    let message =
        error_of("subgraphs:\n  - name: a\n    url: http://a/graphql\n    timeout: soon\n");
    assert!(
        message.starts_with("config/seam.yaml: subgraphs[0].timeout: `soon` is not a duration"),
        "{message}"
    );
}

#[test]
fn zero_durations_are_refused() {
    assert_eq!(
            keys_of("subgraphs:\n  - name: a\n    url: http://a/graphql\n    timeout: 0s\npoll_interval: 0s\n"),
            vec!["poll_interval", "subgraphs[0].timeout"]
        );
}

#[test]
fn unknown_keys_are_errors_with_their_path() {
    let message = error_of("subgraphs:\n  - name: a\n    url: http://a/graphql\n  - name: b\n    urll: http://b/graphql\n");
    assert!(
        message
            .starts_with("config/seam.yaml: subgraphs[1]: unknown field `urll`, expected one of"),
        "{message}"
    );
    assert!(message.contains("line 5"), "{message}");

    let message = error_of("supergraph: s.graphql\nlisten_on: 0.0.0.0:4000\n");
    assert!(message.contains("unknown field `listen_on`"), "{message}");

    let message = error_of("supergraph: s.graphql\nbridge:\n  backend: memory\n  topic: x\n");
    assert!(
        message.contains("bridge: unknown field `topic`"),
        "{message}"
    );
}

#[test]
fn unknown_bridge_backend_lists_the_choices() {
    let message = error_of("supergraph: s.graphql\nbridge:\n  backend: kafka\n");
    assert!(
        message.contains("bridge.backend: unknown variant `kafka`"),
        "{message}"
    );
    assert!(message.contains("`memory`, `redis`, `nats`"), "{message}");
}

#[test]
fn listen_must_be_an_ip_and_port() {
    let message = error_of("supergraph: s.graphql\nlisten: localhost\n");
    assert!(
        message.starts_with("config/seam.yaml: listen: `localhost` is not a listen address"),
        "{message}"
    );
    let message = error_of("supergraph: s.graphql\nlisten: 4000\n");
    assert!(
        message.contains("listen: `4000` is a port without an address; write e.g. `0.0.0.0:4000`"),
        "{message}"
    );
    let config = parse("supergraph: s.graphql\nlisten: '[::1]:8080'\n").unwrap();
    assert_eq!(config.listen, Some("[::1]:8080".parse().unwrap()));
}

#[test]
fn an_empty_config_says_what_is_missing() {
    assert_eq!(keys_of(""), vec!["subgraphs"]);
    assert_eq!(keys_of("# nothing yet\n\n"), vec!["subgraphs"]);
    assert_eq!(keys_of("subgraphs: []\n"), vec!["subgraphs"]);
    assert_eq!(keys_of("listen: 0.0.0.0:4000\n"), vec!["subgraphs"]);
}

#[test]
fn duplicate_names_are_refused() {
    let problems = problems_of(
            "subgraphs:\n  - name: a\n    url: http://a/graphql\n  - name: a\n    url: http://b/graphql\n",
        );
    assert_eq!(
        problems,
        vec![ConfigProblem {
            key: "subgraphs[1].name".into(),
            message: "duplicate subgraph name `a`, already used by subgraphs[0]".into(),
        }]
    );
}

#[test]
fn names_that_become_the_same_graph_value_are_refused() {
    let problems = problems_of(
            "subgraphs:\n  - name: user-api\n    url: http://a/graphql\n  - name: USER_API\n    url: http://b/graphql\n",
        );
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].key, "subgraphs[1].name");
    assert!(
        problems[0].message.contains("`USER_API`"),
        "{}",
        problems[0].message
    );
}

#[test]
fn names_must_be_graphql_identifiers() {
    for good in ["accounts", "user-api", "_private", "v2", "Reviews_2"] {
        assert_eq!(validate_subgraph_name(good), Ok(()), "{good}");
    }
    for bad in ["", "2fast", "-x", "my subgraph", "café", "a.b", "__meta"] {
        assert!(validate_subgraph_name(bad).is_err(), "{bad}");
    }
    let problems = problems_of("subgraphs:\n  - name: my graph\n    url: http://a/graphql\n");
    assert_eq!(problems[0].key, "subgraphs[0].name");
    assert_eq!(
        problems[0].message,
        "`my graph` is not a valid subgraph name (` ` is not allowed): names start with a \
             letter or `_` and contain only ASCII letters, digits, `_` and `-`"
    );
}

#[test]
fn a_subgraph_needs_a_url_or_an_sdl() {
    let problems = problems_of("subgraphs:\n  - name: events\n");
    assert_eq!(
        problems,
        vec![ConfigProblem {
            key: "subgraphs[0]".into(),
            message: "needs `url` (to fetch its SDL and send it queries) or `sdl` (a schema \
                          file), or both (subgraph `events`)"
                .into(),
        }]
    );
}

#[test]
fn urls_must_use_the_right_scheme() {
    let problems = problems_of(
            "subgraphs:\n  - name: a\n    url: ftp://a/graphql\n    subscription_url: http://a/ws\n  - name: b\n    url: not a url\n  - name: c\n    url: https://c/graphql\n    subscription_url: wss://c/ws\n",
        );
    let rendered: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
            rendered,
            vec![
                "subgraphs[0].url: `ftp://a/graphql` uses `ftp://`; expected http:// or https:// (subgraph `a`)",
                "subgraphs[0].subscription_url: `http://a/ws` uses `http://`; expected ws:// or wss:// (subgraph `a`)",
                "subgraphs[1].url: `not a url` is not a valid URL (relative URL without a base); expected http:// or https:// (subgraph `b`)",
            ]
        );
}

#[test]
fn bridge_url_rules() {
    let base = "supergraph: s.graphql\nbridge:\n";
    assert_eq!(
        keys_of(&format!("{base}  backend: redis\n")),
        vec!["bridge.url"]
    );
    assert_eq!(
        keys_of(&format!("{base}  backend: nats\n")),
        vec!["bridge.url"]
    );
    assert_eq!(
            problems_of(&format!("{base}  backend: redis\n  url: http://r:6379\n"))[0].message,
            "`http://r:6379` uses `http://`; expected redis:// or rediss:// or redis+unix:// or unix://"
        );
    assert_eq!(
        keys_of(&format!("{base}  url: redis://r:6379\n")),
        vec!["bridge.url"]
    );
    assert!(parse(&format!(
        "{base}  backend: nats\n  url: nats://n:4222,nats://m:4222\n"
    ))
    .is_ok());
    assert!(parse(&format!(
        "{base}  backend: redis\n  url: rediss://r:6380/0\n"
    ))
    .is_ok());
}

#[test]
fn bridge_prefix_and_publish_token() {
    let config = parse_with(
        "supergraph: s.graphql\nbridge:\n  backend: redis\n  url: redis://r:6379\n  prefix: \"seam:\"\n  publish_token: ${PUBLISH_TOKEN}\n",
        &[("PUBLISH_TOKEN", "s3cret")],
    )
    .unwrap();
    assert_eq!(config.bridge.prefix.as_deref(), Some("seam:"));
    assert_eq!(config.bridge.publish_token.as_deref(), Some("s3cret"));

    let base = "supergraph: s.graphql\nbridge:\n";
    assert_eq!(
        keys_of(&format!("{base}  prefix: app.\n")),
        vec!["bridge.prefix"]
    );
    assert!(parse(&format!(
        "{base}  backend: nats\n  url: nats://n:4222\n  prefix: app.\n"
    ))
    .is_ok());
    assert_eq!(
        problems_of(&format!(
            "{base}  backend: nats\n  url: nats://n:4222\n  prefix: \"my app.\"\n"
        ))[0]
            .message,
        "`my app.` contains ' '; NATS subjects cannot contain whitespace, `*` or `>`"
    );
    assert_eq!(
        keys_of(&format!(
            "{base}  backend: nats\n  url: nats://n:4222\n  prefix: a..b\n"
        )),
        vec!["bridge.prefix"]
    );
    assert_eq!(
        keys_of(&format!("{base}  publish_token: \"  \"\n")),
        vec!["bridge.publish_token"]
    );
    assert!(parse(&format!("{base}  publish_token: t0ken\n")).is_ok());
}

#[test]
fn all_problems_are_reported_together() {
    let message = error_of(
        "subgraphs:\n  - name: 1st\n  - name: b\n    url: ftp://b\nbridge:\n  backend: nats\n",
    );
    assert_eq!(
            message,
            "config/seam.yaml: 4 problems:\n  \
             subgraphs[0].name: `1st` is not a valid subgraph name: names start with a letter or `_` and contain only ASCII letters, digits, `_` and `-`\n  \
             subgraphs[0]: needs `url` (to fetch its SDL and send it queries) or `sdl` (a schema file), or both (subgraph `1st`)\n  \
             subgraphs[1].url: `ftp://b` uses `ftp://`; expected http:// or https:// (subgraph `b`)\n  \
             bridge.url: `backend: nats` needs a `url`"
        );
}

#[test]
fn expansion_substitutes_variables_and_defaults() {
    let lookup = env(&[("HOST", "accounts"), ("EMPTY", "")]);
    let expand = |text: &str| expand_env(text, &lookup);
    assert_eq!(
        expand("url: http://${HOST}:4001\n"),
        Ok("url: http://accounts:4001\n".into())
    );
    assert_eq!(expand("a: ${MISSING:-fallback}"), Ok("a: fallback".into()));
    assert_eq!(expand("a: ${HOST:-fallback}"), Ok("a: accounts".into()));
    assert_eq!(
        expand("a: ${EMPTY:-fallback}"),
        Ok("a: fallback".into()),
        "empty uses the default, as in sh"
    );
    assert_eq!(expand("a: '${EMPTY}'"), Ok("a: ''".into()));
    assert_eq!(expand("a: ${MISSING:-}"), Ok("a: ".into()));
    assert_eq!(
        expand("a: ${MISSING:-http://x:1/y}"),
        Ok("a: http://x:1/y".into())
    );
    assert_eq!(
        expand("a: \"${HOST}\" ${HOST}"),
        Ok("a: \"accounts\" accounts".into())
    );
    assert_eq!(
        expand("a: $${HOST} $HOST $$"),
        Ok("a: ${HOST} $HOST $$".into())
    );
    assert_eq!(expand("ünï: ${HOST}"), Ok("ünï: accounts".into()));
}

#[test]
fn expansion_leaves_comments_alone() {
    let lookup = env(&[("HOST", "h")]);
    let expand = |text: &str| expand_env(text, &lookup);
    assert_eq!(
        expand("# url: ${REDIS_URL}\n"),
        Ok("# url: ${REDIS_URL}\n".into())
    );
    assert_eq!(expand("  # ${X}\n"), Ok("  # ${X}\n".into()));
    assert_eq!(
        expand("url: ${HOST} # was ${OLD}\n"),
        Ok("url: h # was ${OLD}\n".into())
    );
    // `#` inside a value or inside quotes does not start a comment.
    assert_eq!(expand("a: x#${HOST}"), Ok("a: x#h".into()));
    assert_eq!(expand("a: 'x # ${HOST}'"), Ok("a: 'x # h'".into()));
    assert_eq!(
        expand("a: \"x \\\" # ${HOST}\""),
        Ok("a: \"x \\\" # h\"".into())
    );
    // An apostrophe inside a plain value does not open a quote.
    assert_eq!(
        expand("a: it's ${HOST} # ${OLD}"),
        Ok("a: it's h # ${OLD}".into())
    );
}

#[test]
fn expansion_errors_name_the_variable_and_line() {
    let lookup = env(&[]);
    assert_eq!(
        expand_env("a: 1\nb: ${REDIS_URL}\n", &lookup),
        Err(ExpandError::Unset {
            line: 2,
            name: "REDIS_URL".into()
        })
    );
    assert!(matches!(
        expand_env("a: ${OPEN\n", &lookup),
        Err(ExpandError::Malformed { line: 1, .. })
    ));
    assert!(matches!(
        expand_env("\n\na: ${not-a-name}", &lookup),
        Err(ExpandError::Malformed { line: 3, .. })
    ));
    assert!(matches!(
        expand_env("a: ${}", &lookup),
        Err(ExpandError::Malformed { line: 1, .. })
    ));

    let message =
        error_of("supergraph: s.graphql\nbridge:\n  backend: redis\n  url: ${REDIS_URL}\n");
    assert_eq!(
        message,
        "config/seam.yaml: line 4: environment variable `REDIS_URL` is not set (set it, or \
             give a default with `${REDIS_URL:-value}`)"
    );
    let message = error_of("a: ${OPEN\n");
    assert_eq!(
            message,
            "config/seam.yaml: line 1: `${OPEN` has no closing `}`; write `${VAR}` or `$${` for a literal `${`"
        );
}

#[test]
fn expansion_works_for_every_kind_of_value() {
    let config = parse_with(
            "listen: ${LISTEN}\nsubgraphs:\n  - name: ${NAME}\n    url: ${URL:-http://localhost:4001/graphql}\n    timeout: ${TIMEOUT:-2s}\nbridge:\n  backend: ${BACKEND:-memory}\n",
            &[("LISTEN", "127.0.0.1:5000"), ("NAME", "accounts"), ("TIMEOUT", "750ms")],
        )
        .unwrap();
    assert_eq!(config.listen, Some("127.0.0.1:5000".parse().unwrap()));
    assert_eq!(config.subgraphs[0].name, "accounts");
    assert_eq!(
        config.subgraphs[0].url.as_deref(),
        Some("http://localhost:4001/graphql")
    );
    assert_eq!(
        config.subgraphs[0].timeout,
        Some(Duration::from_millis(750))
    );
    assert_eq!(config.bridge.backend, BridgeBackend::Memory);
}

#[test]
fn load_reads_the_file_and_resolves_paths_against_its_directory() {
    let dir = std::env::temp_dir().join(format!("seam-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("seam.yaml");
    std::fs::write(
        &path,
        "subgraphs:\n  - name: events\n    sdl: schemas/events.graphql\n",
    )
    .unwrap();
    let config = Config::load(&path).unwrap();
    assert_eq!(
        config.subgraphs[0].sdl,
        Some(dir.join("schemas/events.graphql"))
    );

    std::fs::write(&path, "subgraphs:\n  - name: events\n    sdll: x\n").unwrap();
    let message = Config::load(&path).unwrap_err().to_string();
    assert!(
        message.starts_with(&format!(
            "{}: subgraphs[0]: unknown field `sdll`",
            path.display()
        )),
        "{message}"
    );

    let missing = dir.join("missing.yaml");
    let message = Config::load(&missing).unwrap_err().to_string();
    assert!(
        message.starts_with(&format!(
            "{}: cannot read the config file: ",
            missing.display()
        )),
        "{message}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn inline_text_is_labelled_config() {
    let message = Config::from_yaml_str("subgraphs: []\n", Path::new("."))
        .unwrap_err()
        .to_string();
    assert!(message.starts_with("config: subgraphs: "), "{message}");
}

#[test]
fn merge_entries_become_lookup_rules() {
    let config = parse(
        "subgraphs:
  - name: users
    url: http://users:4001/graphql
    merge:
      User: { key: id, query: userById }
      Member:
        key: \"orgId  id\"
        query: member
        args: { org: orgId }
  - name: files
    sdl: files.graphql
    plain: true
",
    )
    .unwrap();
    assert_eq!(config.subgraphs[0].plain, None);
    assert_eq!(config.subgraphs[1].plain, Some(true));
    assert_eq!(
        config.subgraphs[0].merge_rules(),
        vec![
            MergeRule {
                type_name: "Member".into(),
                key_fields: vec!["orgId".into(), "id".into()],
                query: "member".into(),
                arguments: vec![("org".into(), "orgId".into()), ("id".into(), "id".into())],
            },
            MergeRule {
                type_name: "User".into(),
                key_fields: vec!["id".into()],
                query: "userById".into(),
                arguments: vec![("id".into(), "id".into())],
            },
        ]
    );
    assert_eq!(config.subgraphs[0].merge_rules()[0].key(), "orgId id");
    assert!(config.subgraphs[1].merge_rules().is_empty());
}

#[test]
fn merge_entries_are_validated_with_their_key_path() {
    let problems = problems_of(
        "subgraphs:
  - name: users
    url: http://users:4001/graphql
    merge:
      User: { key: \"\", query: \" \" }
      Team: { key: \"id o-id\", query: team }
      __Bad: { key: id, query: byId }
      Org: { key: \"id { x }\", query: org-by-id, args: { \"the id\": id, org: nope } }
  - name: files
    sdl: files.graphql
    merge:
      File: { key: id, query: file }
  - name: fed
    url: http://fed:4001/graphql
    plain: false
    merge:
      Thing: { key: id, query: thing }
",
    );
    let rendered: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        rendered,
        vec![
            "subgraphs[0].merge.Org.key: `id { x }` selects nested fields; a lookup key lists \
             top-level fields only, e.g. `id` or `id orgId` (subgraph `users`)",
            "subgraphs[0].merge.Org.query: `org-by-id` is not a valid query field (a GraphQL \
             name) (subgraph `users`)",
            "subgraphs[0].merge.Org.args.org: `nope` is not a field of the key `id { x }`; each \
             argument takes a key field (subgraph `users`)",
            "subgraphs[0].merge.Org.args: `the id` is not a valid argument name (a GraphQL name) \
             (subgraph `users`)",
            "subgraphs[0].merge.Team.key: `o-id` is not a valid key field (a GraphQL name); a \
             lookup key lists field names, e.g. `id` or `id orgId` (subgraph `users`)",
            "subgraphs[0].merge.User.key: the key is empty; name the fields that identify a User, \
             e.g. `key: id` (subgraph `users`)",
            "subgraphs[0].merge.User.query: the query is empty; name the Query field that returns \
             a User by its key (subgraph `users`)",
            "subgraphs[0].merge.__Bad: `__Bad` is not a valid type name (a GraphQL name) \
             (subgraph `users`)",
            "subgraphs[1].merge: `merge` is for plain GraphQL services; add `plain: true` to say \
             the `sdl` file is one (subgraph `files`)",
            "subgraphs[1].merge: lookups are sent to the service, so `merge` needs a `url` \
             (subgraph `files`)",
            "subgraphs[2].merge: `merge` is for plain GraphQL services, but `plain: false` says \
             this is a federation subgraph; give its entities `@key` in its schema instead \
             (subgraph `fed`)",
        ]
    );
}

#[test]
fn merge_entries_refuse_unknown_keys() {
    let error = error_of(
        "subgraphs:\n  - name: users\n    url: http://u/graphql\n    merge:\n      User: { key: id, query: userById, lookup: x }\n",
    );
    assert!(error.contains("unknown field `lookup`"), "{error}");
    assert!(error.contains("subgraphs[0].merge"), "{error}");
}

fn parse_beside_supergraph(text: &str) -> Result<Config, ConfigError> {
    Config::parse_as(
        text,
        Path::new("/etc/seam"),
        ConfigOrigin(Some(PathBuf::from("config/seam.yaml"))),
        &env(&[]),
        ConfigRole::BesideSupergraph,
    )
}

#[test]
fn beside_a_supergraph_file_a_config_need_not_list_subgraphs() {
    let traffic_only = "traffic:\n  dedupe_client_requests: true\n  subgraphs:\n    held: { retry: { max_attempts: 1 } }\n";
    let config = parse_beside_supergraph(traffic_only).expect("traffic alone is valid");
    assert_eq!(config.traffic.dedupe_client_requests, Some(true));
    assert_eq!(config.traffic.for_subgraph("held").retry.max_attempts, 1);
    // On its own the same file describes nothing to serve.
    assert!(error_of(traffic_only).contains("no subgraphs and no `supergraph` file"));

    assert_eq!(
        parse_beside_supergraph("\n").expect("empty"),
        Config::default()
    );
    let timeout_only = parse_beside_supergraph(
        "subgraphs:\n  - name: held\n    timeout: 2s\nheaders:\n  subgraphs:\n    other:\n      request:\n        - propagate: { named: x-tenant }\n",
    )
    .expect("a timeout alone overrides the file's subgraph; `other` may be in the file");
    assert_eq!(
        timeout_only.subgraphs[0].timeout,
        Some(Duration::from_secs(2))
    );
    // The rules of every section still hold.
    let error = parse_beside_supergraph("traffic:\n  all:\n    retry: { max_attempts: 0 }\n")
        .expect_err("invalid")
        .to_string();
    assert!(error.contains("traffic.all.retry.max_attempts"), "{error}");
}

#[test]
fn compression_is_on_both_ways_by_default_and_each_key_can_change() {
    let config = parse("supergraph: s.graphql\n").unwrap();
    assert_eq!(
        config.compression,
        CompressionConfig {
            responses: true,
            min_response_bytes: 1024,
            requests: true,
        }
    );
    let config = parse(
        "supergraph: s.graphql\ncompression:\n  responses: false\n  min_response_bytes: 0\n  requests: false\n",
    )
    .unwrap();
    assert_eq!(
        config.compression,
        CompressionConfig {
            responses: false,
            min_response_bytes: 0,
            requests: false,
        }
    );
}

#[test]
fn compression_refuses_unknown_keys_and_thresholds_out_of_range() {
    let message = error_of("supergraph: s.graphql\ncompression:\n  level: 9\n");
    assert!(
        message.contains("compression: unknown field `level`"),
        "{message}"
    );
    let message = error_of("supergraph: s.graphql\ncompression:\n  min_response_bytes: 70000\n");
    assert!(
        message.contains("compression.min_response_bytes"),
        "{message}"
    );
    let message = error_of("supergraph: s.graphql\ncompression:\n  responses: sometimes\n");
    assert!(message.contains("compression.responses"), "{message}");
}

/// Header rules may not name what is never forwarded — `proxy-*` (any of them), `expect`, the
/// hop-by-hop ones — whether as the header to propagate, its new name or an inserted one.
#[test]
fn header_rules_naming_a_never_forwarded_header_are_refused() {
    for rule in [
        "- insert: { name: proxy-foo, value: x }",
        "- insert: { name: Proxy-Authorization, value: x }",
        "- propagate: { named: x-proxyish, rename: proxy-bar }",
        "- propagate: { named: expect }",
        "- propagate: { named: te }",
        "- insert: { name: sec-websocket-key, value: x }",
    ] {
        let text = format!(
            "subgraphs:\n  - name: a\n    url: http://127.0.0.1:1/graphql\nheaders:\n  all:\n    request:\n      {rule}\n"
        );
        let problems = problems_of(&text);
        assert!(
            problems
                .iter()
                .any(|p| p.message.contains("never forwarded")),
            "{rule}: {problems:?}"
        );
    }
    // A name that merely contains one of them is fine.
    let text = "subgraphs:\n  - name: a\n    url: http://127.0.0.1:1/graphql\nheaders:\n  all:\n    request:\n      - insert: { name: x-proxy-id, value: x }\n";
    assert!(parse(text).is_ok());
}

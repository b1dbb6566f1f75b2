//! Stitching plain GraphQL services (no federation) beside a federation subgraph.
//!
//! - `users` is plain: `Query.users`, `Query.userById(id:)`, and the config's
//!   `merge: { User: { key: id, query: userById } }` makes it where `User`s are looked up.
//! - `posts` is plain: `Query.posts(ids:)`, `Query.post(id:)`; a post's `author` is a `User`
//!   it knows only by `id`.
//! - `reviews` is a federation subgraph whose `Review.author` is a `User` stub
//!   (`@key(fields: "id", resolvable: false)`).
//!
//! Authors: u1 and u2 exist, u404 does not (the lookup answers null), and looking up
//! u-broken fails with an error.

mod common;
mod support;

use std::path::Path;
use std::sync::Arc;

use async_graphql::{EmptyMutation, EmptySubscription, Schema};
use axum::Router;
use serde_json::{json, Value};

use common::{recording, spawn_router, TestGateway, TestSubgraph};
use support::{closed_port_url, graphql_router};

mod users {
    use async_graphql::{Error, Object, Result, ID};

    pub struct User {
        pub id: &'static str,
        pub name: &'static str,
        pub email: Option<&'static str>,
    }

    pub const USERS: [User; 2] = [
        User {
            id: "u1",
            name: "Ada",
            email: Some("ada@example.com"),
        },
        User {
            id: "u2",
            name: "Brian",
            email: None,
        },
    ];

    pub struct UserObject(pub &'static User);

    #[Object(name = "User")]
    impl UserObject {
        async fn id(&self) -> ID {
            ID(self.0.id.into())
        }

        async fn name(&self) -> &str {
            self.0.name
        }

        async fn email(&self) -> Option<&str> {
            self.0.email
        }

        /// A field with an argument, to carry a client variable through a lookup.
        async fn greeting(&self, punctuation: Option<String>) -> String {
            format!("Hello, {}{}", self.0.name, punctuation.unwrap_or_default())
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn users(&self) -> Vec<UserObject> {
            USERS.iter().map(UserObject).collect()
        }

        async fn user_by_id(&self, id: ID) -> Result<Option<UserObject>> {
            if id.as_str() == "u-broken" {
                return Err(Error::new("the user store is down"));
            }
            Ok(USERS.iter().find(|u| u.id == id.as_str()).map(UserObject))
        }
    }
}

mod posts {
    use async_graphql::{Object, SimpleObject, ID};

    /// `posts` knows a user only by id.
    #[derive(SimpleObject)]
    pub struct User {
        pub id: ID,
    }

    pub struct Post {
        pub id: &'static str,
        pub title: &'static str,
        pub author: &'static str,
    }

    pub const POSTS: [Post; 5] = [
        Post {
            id: "p1",
            title: "Engines",
            author: "u1",
        },
        Post {
            id: "p2",
            title: "Pipes",
            author: "u2",
        },
        Post {
            id: "p3",
            title: "Notes",
            author: "u1",
        },
        Post {
            id: "p4",
            title: "Ghost",
            author: "u404",
        },
        Post {
            id: "p5",
            title: "Outage",
            author: "u-broken",
        },
    ];

    pub struct PostObject(pub &'static Post);

    #[Object(name = "Post")]
    impl PostObject {
        async fn id(&self) -> ID {
            ID(self.0.id.into())
        }

        async fn title(&self) -> &str {
            self.0.title
        }

        async fn author(&self) -> Option<User> {
            Some(User {
                id: ID(self.0.author.into()),
            })
        }
    }

    pub struct Query;

    #[Object]
    impl Query {
        /// The posts with these ids, in this order; the first three when no ids are given.
        async fn posts(&self, ids: Option<Vec<ID>>) -> Vec<PostObject> {
            match ids {
                None => POSTS[..3].iter().map(PostObject).collect(),
                Some(ids) => ids
                    .iter()
                    .filter_map(|id| POSTS.iter().find(|p| p.id == id.as_str()))
                    .map(PostObject)
                    .collect(),
            }
        }

        async fn post(&self, id: ID) -> Option<PostObject> {
            POSTS.iter().find(|p| p.id == id.as_str()).map(PostObject)
        }
    }
}

mod reviews {
    use async_graphql::{Object, SimpleObject, ID};

    #[derive(SimpleObject)]
    #[graphql(unresolvable = "id")]
    pub struct User {
        pub id: ID,
    }

    #[derive(SimpleObject)]
    pub struct Review {
        pub body: String,
        pub author: User,
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn reviews(&self) -> Vec<Review> {
            [("Sharp", "u2"), ("Kind", "u1")]
                .into_iter()
                .map(|(body, author)| Review {
                    body: body.into(),
                    author: User {
                        id: ID(author.into()),
                    },
                })
                .collect()
        }
    }
}

fn users_router() -> Router {
    graphql_router(Schema::new(users::Query, EmptyMutation, EmptySubscription))
}

fn posts_router() -> Router {
    graphql_router(Schema::new(posts::Query, EmptyMutation, EmptySubscription))
}

fn reviews_router() -> Router {
    graphql_router(
        Schema::build(reviews::Query, EmptyMutation, EmptySubscription)
            .enable_federation()
            .finish(),
    )
}

/// Config lines that make `users` the place `User`s are looked up.
const USERS_MERGE: &str = "    merge:\n      User: { key: id, query: userById }\n";

/// Starts the subgraphs, recording what they receive, and writes the config listing them with
/// each subgraph's extra YAML lines.
async fn start(subgraphs: Vec<(&str, Router, &str)>) -> (Vec<TestSubgraph>, seam::config::Config) {
    let mut yaml = String::from("subgraphs:\n");
    let mut started = Vec::new();
    for (name, router, extra) in subgraphs {
        let (router, requests) = recording(router);
        let addr = spawn_router(router).await;
        let url = format!("http://{addr}/graphql");
        yaml.push_str(&format!("  - name: {name}\n    url: {url}\n{extra}"));
        started.push(TestSubgraph {
            name: name.to_owned(),
            url,
            requests,
        });
    }
    let config = seam::config::Config::from_yaml_str(&yaml, Path::new(".")).expect("config");
    (started, config)
}

async fn serve(gateway: Arc<seam::Gateway>, subgraphs: Vec<TestSubgraph>) -> TestGateway {
    let addr = spawn_router(seam::http::router(gateway)).await;
    TestGateway {
        url: format!("http://{addr}/graphql"),
        base: format!("http://{addr}"),
        client: reqwest::Client::new(),
        subgraphs,
    }
}

/// A gateway composed from the config, as `seam serve --config` runs. Startup requests stay
/// recorded until cleared.
async fn stitched(
    subgraphs: Vec<(&str, Router, &str)>,
) -> Result<TestGateway, seam::startup::StartupError> {
    let (subgraphs, config) = start(subgraphs).await;
    let gateway = seam::startup::gateway_from_config(&config, &reqwest::Client::new()).await?;
    Ok(serve(gateway, subgraphs).await)
}

async fn blog() -> TestGateway {
    let gateway = stitched(vec![
        ("users", users_router(), USERS_MERGE),
        ("posts", posts_router(), ""),
        ("reviews", reviews_router(), ""),
    ])
    .await
    .expect("users, posts and reviews compose");
    gateway.clear_requests();
    gateway
}

fn queries(requests: &[Value]) -> Vec<&str> {
    requests
        .iter()
        .map(|r| r["query"].as_str().unwrap_or_default())
        .collect()
}

#[tokio::test]
async fn plain_services_are_read_by_introspection_when_service_is_missing() {
    let gateway = stitched(vec![
        ("users", users_router(), USERS_MERGE),
        ("reviews", reviews_router(), ""),
    ])
    .await
    .expect("compose");
    let users = gateway.requests_to("users");
    let asked = queries(&users);
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert_eq!(asked[0], "{ _service { sdl } }");
    assert!(asked[1].contains("__schema"), "{}", asked[1]);
    // The federation subgraph is asked for its SDL only.
    assert_eq!(
        queries(&gateway.requests_to("reviews")),
        ["{ _service { sdl } }"]
    );
}

#[tokio::test]
async fn plain_true_introspects_without_asking_for_service() {
    let gateway = stitched(vec![(
        "users",
        users_router(),
        "    plain: true\n    merge:\n      User: { key: id, query: userById }\n",
    )])
    .await
    .expect("compose");
    let users = gateway.requests_to("users");
    let asked = queries(&users);
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert!(asked[0].contains("__schema"), "{}", asked[0]);
    gateway.clear_requests();
    let answer = gateway.query(r#"{ userById(id: "u2") { name } }"#).await;
    assert_eq!(
        answer,
        json!({ "data": { "userById": { "name": "Brian" } } })
    );
}

#[tokio::test]
async fn root_fields_of_every_service_in_one_query() {
    let gateway = blog().await;
    let answer = gateway
        .query("{ users { id name } posts { title } reviews { body } }")
        .await;
    assert_eq!(
        answer,
        json!({ "data": {
            "users": [{ "id": "u1", "name": "Ada" }, { "id": "u2", "name": "Brian" }],
            "posts": [{ "title": "Engines" }, { "title": "Pipes" }, { "title": "Notes" }],
            "reviews": [{ "body": "Sharp" }, { "body": "Kind" }]
        } })
    );
    for name in ["users", "posts", "reviews"] {
        assert_eq!(gateway.requests_to(name).len(), 1, "{name}");
    }
}

#[tokio::test]
async fn authors_of_a_list_are_looked_up_in_one_deduplicated_request() {
    let gateway = blog().await;
    let answer = gateway
        .query("{ posts { title author { id name email } } }")
        .await;
    assert_eq!(
        answer,
        json!({ "data": { "posts": [
            { "title": "Engines", "author": { "id": "u1", "name": "Ada", "email": "ada@example.com" } },
            { "title": "Pipes", "author": { "id": "u2", "name": "Brian", "email": null } },
            { "title": "Notes", "author": { "id": "u1", "name": "Ada", "email": "ada@example.com" } }
        ] } })
    );
    let lookups = gateway.requests_to("users");
    assert_eq!(
        lookups,
        vec![json!({
            "query": "query($seam__a0:ID!,$seam__a1:ID!){_0:userById(id:$seam__a0){name email} \
                      _1:userById(id:$seam__a1){name email}}",
            "variables": { "seam__a0": "u1", "seam__a1": "u2" }
        })]
    );
}

#[tokio::test]
async fn client_variables_travel_with_the_lookup() {
    let gateway = blog().await;
    let answer = gateway
        .query_with(
            "query($p: String) { post(id: \"p2\") { author { greeting(punctuation: $p) } } }",
            json!({ "p": "!" }),
        )
        .await;
    assert_eq!(
        answer,
        json!({ "data": { "post": { "author": { "greeting": "Hello, Brian!" } } } })
    );
    assert_eq!(
        gateway.requests_to("users"),
        vec![json!({
            "query": "query($seam__a0:ID!,$p:String){_0:userById(id:$seam__a0){greeting(punctuation: $p)}}",
            "variables": { "seam__a0": "u2", "p": "!" }
        })]
    );
}

#[tokio::test]
async fn a_lookup_that_finds_nothing_leaves_the_fields_null() {
    let gateway = blog().await;
    let answer = gateway
        .query(r#"{ post(id: "p4") { title author { id email } } }"#)
        .await;
    assert_eq!(
        answer,
        json!({ "data": { "post": { "title": "Ghost", "author": { "id": "u404", "email": null } } } })
    );
    assert_eq!(gateway.requests_to("users").len(), 1);

    // `User.name` is non-null: without a user, the nullable author is null instead.
    let answer = gateway
        .query(r#"{ post(id: "p4") { title author { id name } } }"#)
        .await;
    assert_eq!(
        answer,
        json!({
            "data": { "post": { "title": "Ghost", "author": null } },
            "errors": [{
                "message": "Cannot return null for non-nullable field",
                "path": ["post", "author", "name"],
                "extensions": { "code": "NULL_IN_NON_NULL_FIELD" }
            }]
        })
    );
}

#[tokio::test]
async fn a_lookup_error_is_reported_at_the_clients_path() {
    let gateway = blog().await;
    let answer = gateway
        .query(r#"{ posts(ids: ["p1", "p5", "p3"]) { title author { email } } }"#)
        .await;
    assert_eq!(
        answer["data"],
        json!({ "posts": [
            { "title": "Engines", "author": { "email": "ada@example.com" } },
            { "title": "Outage", "author": { "email": null } },
            { "title": "Notes", "author": { "email": "ada@example.com" } }
        ] })
    );
    let errors = answer["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{answer}");
    assert_eq!(errors[0]["message"], "the user store is down");
    assert_eq!(errors[0]["path"], json!(["posts", 1, "author"]));
    // u1 is asked once, though two posts name it.
    let lookups = gateway.requests_to("users");
    assert_eq!(lookups.len(), 1);
    assert_eq!(
        lookups[0]["variables"],
        json!({ "seam__a0": "u1", "seam__a1": "u-broken" })
    );
}

#[tokio::test]
async fn a_federation_subgraph_crosses_to_a_plain_service() {
    let gateway = blog().await;
    let answer = gateway.query("{ reviews { body author { name } } }").await;
    assert_eq!(
        answer,
        json!({ "data": { "reviews": [
            { "body": "Sharp", "author": { "name": "Brian" } },
            { "body": "Kind", "author": { "name": "Ada" } }
        ] } })
    );
    let lookups = gateway.requests_to("users");
    assert_eq!(lookups.len(), 1);
    assert_eq!(
        lookups[0]["variables"],
        json!({ "seam__a0": "u2", "seam__a1": "u1" })
    );
}

#[tokio::test]
async fn a_precomposed_supergraph_served_with_the_config_uses_the_lookups() {
    let (subgraphs, config) = start(vec![
        ("users", users_router(), USERS_MERGE),
        ("posts", posts_router(), ""),
    ])
    .await;
    // `seam compose`, then `seam serve --supergraph FILE --config FILE`.
    let client = reqwest::Client::new();
    let sdls = seam::sources::load_subgraph_sdls(&config, &client)
        .await
        .expect("sdls");
    let supergraph = seam::compose::compose(&sdls).expect("compose");
    let gateway = seam::startup::gateway_from_supergraph(&supergraph, Some(&config))
        .expect("gateway from supergraph");
    let gateway = serve(gateway, subgraphs).await;
    gateway.clear_requests();
    let answer = gateway
        .query(r#"{ post(id: "p1") { author { name } } }"#)
        .await;
    assert_eq!(
        answer,
        json!({ "data": { "post": { "author": { "name": "Ada" } } } })
    );
    assert_eq!(
        queries(&gateway.requests_to("users")),
        ["query($seam__a0:ID!){_0:userById(id:$seam__a0){name}}"]
    );
}

/// `inventory`'s `Product.weight` is an Int; `shipping`'s is a String.
mod conflicting {
    use async_graphql::{Object, SimpleObject};

    #[derive(SimpleObject)]
    pub struct Product {
        pub upc: String,
        pub weight: i32,
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn products(&self) -> Vec<Product> {
            Vec::new()
        }
    }

    pub mod shipping {
        use async_graphql::{Object, SimpleObject};

        #[derive(SimpleObject)]
        pub struct Product {
            pub upc: String,
            pub weight: String,
        }

        pub struct Query;

        #[Object]
        impl Query {
            async fn shipments(&self) -> Vec<Product> {
                Vec::new()
            }
        }
    }
}

#[tokio::test]
async fn a_type_conflict_is_a_composition_error_naming_both_services() {
    let inventory = graphql_router(Schema::new(
        conflicting::Query,
        EmptyMutation,
        EmptySubscription,
    ));
    let shipping = graphql_router(Schema::new(
        conflicting::shipping::Query,
        EmptyMutation,
        EmptySubscription,
    ));
    let Err(error) = stitched(vec![
        ("inventory", inventory, ""),
        ("shipping", shipping, ""),
    ])
    .await
    else {
        panic!("the conflict must fail composition");
    };
    let seam::startup::StartupError::Composition(errors) = &error else {
        panic!("expected a composition error, got {error}");
    };
    let messages: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.code().as_str(), e.message()))
        .collect();
    assert_eq!(
        messages,
        [(
            "FIELD_TYPE_MISMATCH",
            "Product.weight is defined in subgraphs \"inventory\" and \"shipping\" with types \
             Int! and String!, which are incompatible: one must be a subtype of the other (a \
             member of the union or an implementation of the interface, or the same type non-null)"
        )]
    );
}

#[tokio::test]
async fn a_plain_service_that_is_down_is_a_clear_error() {
    let closed = closed_port_url().await;
    let yaml = format!(
        "subgraphs:\n  - name: users\n    url: {closed}\n{USERS_MERGE}  - name: posts\n    url: {closed}\n    plain: true\n"
    );
    let config = seam::config::Config::from_yaml_str(&yaml, Path::new(".")).expect("config");
    let Err(error) = seam::startup::gateway_from_config(&config, &reqwest::Client::new()).await
    else {
        panic!("a service that is down must fail startup");
    };
    let message = error.to_string();
    assert!(message.starts_with("2 subgraphs failed:\n"), "{message}");
    for name in ["users", "posts"] {
        let expected = format!("subgraph `{name}` at {closed}: cannot reach the subgraph: ");
        assert!(message.contains(&expected), "{message}");
    }
}

#[tokio::test]
async fn the_plan_shows_which_lookup_field_fetches_a_plain_services_entities() {
    let (_subgraphs, config) = start(vec![
        ("users", users_router(), USERS_MERGE),
        ("posts", posts_router(), ""),
    ])
    .await;
    let client = reqwest::Client::new();
    let sdl = seam::startup::supergraph_sdl(&config, &client)
        .await
        .expect("composes");
    let supergraph = seam::startup::supergraph_model(&sdl, Some(&config)).expect("model");
    let plan = seam::plan::plan_text(
        &supergraph,
        "{ posts { title author { name } } }",
        None,
        Default::default(),
    )
    .expect("plans");
    assert!(
        plan.contains("Fetch(service: \"users\", lookup: userById)"),
        "{plan}"
    );
    // Without the config's `merge:` the same supergraph would send `_entities` to `users`.
    let bare = seam::supergraph::Supergraph::parse(&sdl).expect("parses");
    let plan = seam::plan::plan_text(
        &bare,
        "{ posts { title author { name } } }",
        None,
        Default::default(),
    )
    .expect("plans");
    assert!(!plan.contains("lookup:"), "{plan}");
}

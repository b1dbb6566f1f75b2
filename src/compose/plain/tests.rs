//! Plain services composed beside each other and beside federation subgraphs.

use apollo_compiler::Schema;

use crate::compose::{compose, ErrorCode};
use crate::config::MergeRule;
use crate::sources::{SubgraphKind, SubgraphSdl};

fn plain(name: &str, sdl: &str, merge: Vec<MergeRule>) -> SubgraphSdl {
    SubgraphSdl {
        name: name.to_string(),
        url: Some(format!("http://{name}:4000/graphql")),
        sdl: sdl.to_string(),
        kind: SubgraphKind::Plain,
        merge,
    }
}

fn federation(name: &str, sdl: &str) -> SubgraphSdl {
    SubgraphSdl {
        name: name.to_string(),
        url: Some(format!("http://{name}:4000/graphql")),
        sdl: format!(
            "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.3\", \
             import: [\"@key\", \"@shareable\"])\n{sdl}"
        ),
        ..SubgraphSdl::default()
    }
}

fn lookup(type_name: &str, key: &str, query: &str) -> MergeRule {
    let key_fields: Vec<String> = key.split(' ').map(str::to_string).collect();
    MergeRule {
        type_name: type_name.into(),
        arguments: key_fields.iter().map(|f| (f.clone(), f.clone())).collect(),
        key_fields,
        query: query.into(),
    }
}

const USERS: &str = r#"
"Someone who writes"
type User { id: ID! name: String! email: String }
type Query {
  users: [User!]!
  "Looks a user up"
  userById(id: ID!): User
}
"#;

const POSTS: &str = r#"
type Post { id: ID! title: String! author: User! }
type User { id: ID! }
type Query { posts: [Post!]! }
"#;

fn users() -> SubgraphSdl {
    plain("users", USERS, vec![lookup("User", "id", "userById")])
}

fn compose_ok(subgraphs: &[SubgraphSdl]) -> String {
    let supergraph = compose(subgraphs).unwrap_or_else(|errors| panic!("{errors}"));
    Schema::parse_and_validate(&supergraph, "supergraph.graphql").expect("a valid supergraph");
    crate::supergraph::Supergraph::parse(&supergraph).expect("the model reads it");
    supergraph
}

fn errors_of(subgraphs: &[SubgraphSdl]) -> Vec<(ErrorCode, String)> {
    match compose(subgraphs) {
        Ok(supergraph) => panic!("composition should have failed:\n{supergraph}"),
        Err(errors) => errors
            .iter()
            .map(|e| (e.code(), e.message().to_string()))
            .collect(),
    }
}

#[test]
fn plain_services_are_stitched_by_their_lookups() {
    let posts = plain("posts", POSTS, Vec::new());
    let reviews = federation(
        "reviews",
        r#"
        type Review @key(fields: "id") { id: ID! body: String! author: User! }
        type User @key(fields: "id", resolvable: false) { id: ID! }
        type Query { reviews: [Review!]! }
        "#,
    );
    insta::assert_snapshot!(compose_ok(&[users(), posts, reviews]));
}

#[test]
fn a_field_type_conflict_names_both_services() {
    let a = plain(
        "a",
        "type Query { a: User } type User { id: ID! age: Int }",
        Vec::new(),
    );
    let b = plain(
        "b",
        "type Query { b: User } type User { id: ID! age: String }",
        Vec::new(),
    );
    assert_eq!(
        errors_of(&[a, b]),
        vec![(
            ErrorCode::FieldTypeMismatch,
            "User.age is defined in subgraphs \"a\" and \"b\" with types Int and String, which \
             are incompatible: one must be a subtype of the other (a member of the union or an \
             implementation of the interface, or the same type non-null)"
                .to_string()
        )]
    );
}

#[test]
fn a_kind_conflict_names_both_services() {
    let a = plain(
        "a",
        "type Query { a: Role } type Role { id: ID! }",
        Vec::new(),
    );
    let b = plain(
        "b",
        "type Query { b: Role } enum Role { ADMIN }",
        Vec::new(),
    );
    assert_eq!(
        errors_of(&[a, b]),
        vec![(
            ErrorCode::TypeKindMismatch,
            "Type Role is defined with different kinds: an object type in subgraph \"a\" and an \
             enum in subgraph \"b\""
                .to_string()
        )]
    );
}

#[test]
fn a_root_field_in_two_services_is_a_conflict() {
    let a = plain("a", "type Query { me: String shared: Int }", Vec::new());
    let b = plain("b", "type Query { shared: Int other: Int }", Vec::new());
    let c = federation("c", "type Query { me: String @shareable }");
    assert_eq!(
        errors_of(&[a, b, c]),
        vec![
            (
                ErrorCode::RootFieldConflict,
                "Root field Query.me is offered by subgraphs \"a\" and \"c\"; a plain service's \
                 root fields cannot be shared, so rename or remove all but one"
                    .to_string()
            ),
            (
                ErrorCode::RootFieldConflict,
                "Root field Query.shared is offered by subgraphs \"a\" and \"b\"; a plain \
                 service's root fields cannot be shared, so rename or remove all but one"
                    .to_string()
            ),
        ]
    );
}

#[test]
fn lookups_that_do_not_fit_the_schema_are_errors() {
    let sdl = r#"
        type Query {
          users: [User]
          userById(id: ID!): User
          usersByIds(ids: [ID!]!): [User]
          userInTenant(id: ID!, tenant: String!): User
        }
        type User { id: ID! name: String friend: User }
        interface Node { id: ID! }
    "#;
    let cases = [
        (
            lookup("Account", "id", "userById"),
            "[users] `merge` names type Account, which this service does not define",
        ),
        (
            lookup("Node", "id", "userById"),
            "[users] `merge` names Node, which is an interface in this service; only object \
             types can be looked up",
        ),
        (
            lookup("User", "uid", "userById"),
            "[users] the merge key of User selects \"uid\", which User does not have",
        ),
        (
            lookup("User", "friend", "userById"),
            "[users] the merge key of User selects User.friend of type User; key fields of a \
             lookup must be scalars or enums",
        ),
        (
            lookup("User", "id", "user"),
            "[users] the merge lookup for User is Query.user, which this service does not have",
        ),
        (
            lookup("User", "id", "usersByIds"),
            "[users] the merge lookup Query.usersByIds returns [User]; a lookup must return one \
             User (or null) for a key",
        ),
        (
            lookup("User", "name", "userById"),
            "[users] the merge lookup Query.userById has no argument \"name\" to take the key \
             field User.name (map the argument to it under `args:`)",
        ),
        (
            lookup("User", "id", "userInTenant"),
            "[users] the merge lookup Query.userInTenant has the required argument \"tenant\", \
             which no key field of User fills",
        ),
    ];
    for (rule, message) in cases {
        let service = plain("users", sdl, vec![rule]);
        assert_eq!(
            errors_of(&[service]),
            vec![(ErrorCode::MergeLookupInvalid, message.to_string())]
        );
    }
}

#[test]
fn merge_on_a_federation_subgraph_is_an_error() {
    let mut accounts = federation(
        "accounts",
        r#"type Query { me: User } type User @key(fields: "id") { id: ID! }"#,
    );
    accounts.merge = vec![lookup("User", "id", "me")];
    assert_eq!(
        errors_of(&[accounts]),
        vec![(
            ErrorCode::MergeLookupInvalid,
            "[accounts] the config has a `merge` entry for User, but this is a federation \
             subgraph (it answers `_service`); give User `@key(fields: \"id\")` in its schema \
             instead"
                .to_string()
        )]
    );
}

#[test]
fn renamed_roots_and_arguments_mapped_by_name() {
    let members = plain(
        "members",
        r#"
        schema { query: RootQuery }
        type RootQuery { member(org: ID!, memberId: ID!): Member }
        type Member { orgId: ID! id: ID! role: String }
        "#,
        vec![MergeRule {
            type_name: "Member".into(),
            key_fields: vec!["orgId".into(), "id".into()],
            query: "member".into(),
            arguments: vec![
                ("org".into(), "orgId".into()),
                ("memberId".into(), "id".into()),
            ],
        }],
    );
    let teams = plain(
        "teams",
        "type Query { team: Team } type Team { lead: Member } type Member { orgId: ID! id: ID! }",
        Vec::new(),
    );
    let supergraph = compose_ok(&[members, teams]);
    assert!(
        supergraph.contains(
            "type Member\n  @join__type(graph: MEMBERS, key: \"orgId id\")\n  \
             @join__type(graph: TEAMS, key: \"orgId id\", resolvable: false)\n"
        ),
        "{supergraph}"
    );
    assert!(
        supergraph.contains("member(org: ID!, memberId: ID!): Member @join__field(graph: MEMBERS)"),
        "{supergraph}"
    );
}

#[test]
fn a_plain_service_adds_fields_to_a_federation_entity() {
    let accounts = federation(
        "accounts",
        r#"type Query { me: User } type User @key(fields: "id") { id: ID! name: String! }"#,
    );
    let profiles = plain(
        "profiles",
        "type Query { profile(id: ID!): User } type User { id: ID! bio: String }",
        vec![lookup("User", "id", "profile")],
    );
    let supergraph = compose_ok(&[accounts, profiles]);
    assert!(
        supergraph.contains(
            "type User\n  @join__type(graph: ACCOUNTS, key: \"id\")\n  \
             @join__type(graph: PROFILES, key: \"id\")\n{\n  id: ID!\n  \
             name: String! @join__field(graph: ACCOUNTS)\n  \
             bio: String @join__field(graph: PROFILES)\n}"
        ),
        "{supergraph}"
    );
}

/// A field only a service without a lookup has cannot be reached from another service's root
/// field: the planning error names that field, not the root field whose rest it was.
#[test]
fn an_unreachable_field_under_a_root_field_is_the_one_named() {
    let users = plain("users", USERS, Vec::new());
    let writings = plain(
        "writings",
        "type User { id: ID! posts: [String!] } type Query { writer: User }",
        Vec::new(),
    );
    let sdl = compose_ok(&[users, writings]);
    let supergraph = crate::supergraph::Supergraph::parse(&sdl).expect("model");
    for (query, named) in [
        ("{ users { id posts } }", "User.posts"),
        ("{ users { id ... on User { name posts } } }", "User.posts"),
        ("{ users { id name } writer { name } }", "User.name"),
    ] {
        let error = crate::plan::plan_text(&supergraph, query, None, Default::default())
            .expect_err("cannot be planned");
        let message = error.to_string();
        assert!(message.contains(named), "{query}: {message}");
        assert!(!message.contains("Query.users"), "{query}: {message}");
    }
}

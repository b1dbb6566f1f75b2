//! Directives composition keeps: access control, `@composeDirective`d custom directives and
//! `@oneOf`, with the links and definitions Apollo's composition prints for them.

use super::{assert_single_error, compose_errors, compose_valid, raw};
use crate::compose::ErrorCode;
use crate::sources::SubgraphSdl;
use crate::supergraph::Supergraph;

fn accounts() -> SubgraphSdl {
    raw(
        "accounts",
        r#"
        extend schema
          @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@tag", "@authenticated", "@requiresScopes", "@policy", "@composeDirective"])
          @link(url: "https://myspecs.dev/myDirective/v1.0", import: ["@myDirective"])
          @composeDirective(name: "@myDirective")
        directive @myDirective(why: String) on FIELD_DEFINITION | OBJECT
        directive @oneOf on INPUT_OBJECT
        type Query {
          me: User @authenticated
          find(by: UserBy!): User @tag(name: "public")
        }
        input UserBy @oneOf { id: ID email: String }
        type User @key(fields: "id") @myDirective(why: "type") {
          id: ID!
          email: String @requiresScopes(scopes: [["read:email"], ["admin"]]) @myDirective(why: "field")
          secret: String @policy(policies: [["owner"]])
        }
        "#,
    )
}

fn orders() -> SubgraphSdl {
    raw(
        "orders",
        r#"
        extend schema
          @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated", "@requiresScopes"])
        type User @key(fields: "id") @authenticated {
          id: ID!
          orders: [String] @requiresScopes(scopes: [["read:orders"]])
        }
        "#,
    )
}

#[test]
fn access_control_custom_and_one_of_directives_are_kept() {
    let supergraph = compose_valid(&[accounts(), orders()]);
    insta::assert_snapshot!(supergraph);
}

#[test]
fn the_model_reads_what_composition_kept() {
    let supergraph = compose_valid(&[accounts(), orders()]);
    let model = Supergraph::parse(&supergraph).expect("our supergraph parses");
    assert!(model
        .field_access("Query", "me")
        .is_some_and(|me| me.authenticated));
    assert!(model
        .type_access("User")
        .is_some_and(|user| user.authenticated));
    assert_eq!(
        model
            .field_access("User", "orders")
            .map(|orders| orders.requires_scopes.clone()),
        Some(vec![vec!["read:orders".to_string()]])
    );
    // Clients see the composed directive and `@oneOf`, not the access rules.
    let api = &model.api_schema;
    assert!(api.directive_definitions.contains_key("myDirective"));
    assert!(api.directive_definitions.contains_key("oneOf"));
    assert!(!api.directive_definitions.contains_key("requiresScopes"));
    // Seam enforces the access rules, so it serves the supergraph.
    assert!(model.check_specs_implemented().is_ok());
}

#[test]
fn requirements_of_several_subgraphs_all_apply() {
    let a = raw(
        "a",
        r#"
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@requiresScopes", "@policy"])
        type Query { doc: Doc @shareable @requiresScopes(scopes: [["read"], ["admin"]]) @policy(policies: [["p1"]]) }
        type Doc @key(fields: "id") { id: ID! }
        "#,
    );
    let b = raw(
        "b",
        r#"
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@requiresScopes"])
        type Query { doc: Doc @shareable @requiresScopes(scopes: [["docs"]]) }
        type Doc @key(fields: "id") { id: ID! }
        "#,
    );
    let supergraph = compose_valid(&[a, b]);
    assert!(
        supergraph.contains(
            r#"doc: Doc @requiresScopes(scopes: [["admin", "docs"], ["docs", "read"]]) @policy(policies: [["p1"]])"#
        ),
        "{supergraph}"
    );
}

#[test]
fn a_composed_directive_must_come_from_a_linked_spec() {
    let a = raw(
        "a",
        r#"
        extend schema
          @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@composeDirective"])
          @composeDirective(name: "@loose")
        directive @loose on FIELD_DEFINITION
        type Query { hello: String @loose }
        "#,
    );
    assert_single_error(
        &[a],
        ErrorCode::DirectiveCompositionError,
        "[a] @composeDirective(name: \"@loose\"): the directive is not imported from a spec the \
         subgraph @links, so the supergraph could not say what it means",
    );
}

#[test]
fn a_composed_directive_must_be_defined() {
    let a = raw(
        "a",
        r#"
        extend schema
          @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@composeDirective"])
          @link(url: "https://myspecs.dev/missing/v1.0", import: ["@missing"])
          @composeDirective(name: "@missing")
        type Query { hello: String }
        "#,
    );
    assert_single_error(
        &[a],
        ErrorCode::DirectiveCompositionError,
        "[a] @composeDirective(name: \"@missing\"): the subgraph does not define this directive",
    );
}

#[test]
fn a_composed_directive_is_named_with_its_at_sign() {
    let a = raw(
        "a",
        r#"
        extend schema
          @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@composeDirective"])
          @link(url: "https://myspecs.dev/c/v1.0", import: ["@c"])
          @composeDirective(name: "c")
        directive @c on FIELD_DEFINITION
        type Query { hello: String @c }
        "#,
    );
    assert_single_error(
        &[a],
        ErrorCode::DirectiveCompositionError,
        "[a] @composeDirective(name: \"c\"): the name must start with \"@\" (the directive, as in \"@x\")",
    );
}

#[test]
fn custom_directives_without_compose_directive_are_dropped() {
    let a = raw(
        "a",
        r#"
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
        directive @private on FIELD_DEFINITION
        type Query { hello: String @private }
        "#,
    );
    let supergraph = compose_valid(&[a]);
    assert!(!supergraph.contains("private"), "{supergraph}");
}

#[test]
fn requirements_spread_to_interfaces_and_from_interface_objects() {
    let a = raw(
        "a",
        r#"
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@authenticated", "@requiresScopes"])
        type Query { nodes: [Node!]! }
        interface Node @key(fields: "id") { id: ID! }
        interface Named { name: String }
        type Page implements Node & Named @key(fields: "id") @requiresScopes(scopes: [["pages"]]) {
          id: ID!
          name: String @authenticated
        }
        type Post implements Node & Named @key(fields: "id") { id: ID! name: String }
        "#,
    );
    let b = raw(
        "b",
        r#"
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@interfaceObject", "@policy"])
        type Node @key(fields: "id") @interfaceObject {
          id: ID!
          secret: String @policy(policies: [["owner"]])
        }
        "#,
    );
    let supergraph = compose_valid(&[a, b]);
    let model = Supergraph::parse(&supergraph).expect("our supergraph parses");
    let scopes = |type_name: &str| {
        model
            .type_access(type_name)
            .map(|access| access.requires_scopes.clone())
            .unwrap_or_default()
    };
    let pages = vec![vec!["pages".to_string()]];
    // Up from Page to both of its interfaces, as Apollo composes it; not across to Post.
    assert_eq!(scopes("Node"), pages);
    assert_eq!(scopes("Named"), pages);
    assert!(scopes("Post").is_empty());
    assert!(model
        .field_access("Named", "name")
        .is_some_and(|name| name.authenticated));
    assert!(model
        .field_access("Post", "name")
        .is_some_and(|name| !name.authenticated));
    // Down from the interface object's field to every implementation.
    for object in ["Page", "Post"] {
        assert_eq!(
            model
                .field_access(object, "secret")
                .map(|secret| secret.policies.clone()),
            Some(vec![vec!["owner".to_string()]]),
            "{object}.secret"
        );
    }
}

fn with_custom(name: &str, body: &str) -> SubgraphSdl {
    raw(
        name,
        &format!(
            r#"
        extend schema
          @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@composeDirective"])
          @link(url: "https://myspecs.dev/audit/v1.0", import: ["@audit", "@owner"])
          @composeDirective(name: "@audit")
          @composeDirective(name: "@owner")
        directive @audit(note: String) repeatable on FIELD_DEFINITION | OBJECT
        directive @owner(team: String) on FIELD_DEFINITION | OBJECT
        {body}
        "#
        ),
    )
}

#[test]
fn repeatable_custom_directives_keep_every_distinct_application() {
    let a = with_custom(
        "a",
        r#"
        type Query { item: Item @shareable }
        type Item @key(fields: "id") @audit(note: "pii") @audit(note: "billing") @owner(team: "core") {
          id: ID!
          price: Int @shareable @audit(note: "money") @audit(note: "tax") @owner(team: "pricing")
        }
        "#,
    );
    let b = with_custom(
        "b",
        r#"
        type Query { item: Item @shareable }
        type Item @key(fields: "id") @audit(note: "pii") @audit(note: "retention") @owner(team: "ops") {
          id: ID!
          price: Int @shareable @audit(note: "tax") @owner(team: "finance")
        }
        "#,
    );
    let supergraph = compose_valid(&[a, b]);
    let item = supergraph
        .lines()
        .skip_while(|line| !line.starts_with("type Item"))
        .take_while(|line| !line.starts_with('}'))
        .collect::<Vec<_>>()
        .join("\n");
    for note in ["pii", "billing", "retention", "money", "tax"] {
        let needle = format!("@audit(note: \"{note}\")");
        assert_eq!(
            item.matches(&needle).count(),
            1,
            "{needle} once in:\n{item}"
        );
    }
    // Not repeatable: one application per element, the first subgraph's.
    assert_eq!(item.matches("@owner(").count(), 2, "{item}");
    assert!(item.contains("@owner(team: \"core\")"), "{item}");
    assert!(item.contains("@owner(team: \"pricing\")"), "{item}");
    // The result is a valid supergraph whose API schema keeps the applications.
    let model = Supergraph::parse(&supergraph).expect("our supergraph parses");
    let api = model.api_schema.to_string();
    assert_eq!(api.matches("@audit(note: \"").count(), 5, "{api}");
}

/// Users' protected `email`, and an orders subgraph that reads it through `@requires` and
/// `@fromContext` with the requirements given to each reading field.
fn transitive(requires_on: &str, context_on: &str) -> Vec<SubgraphSdl> {
    let link = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@external", "@requires", "@authenticated", "@requiresScopes", "@policy", "@context", "@fromContext"])"#;
    let users = format!(
        r#"{link}
        type Query {{ user(id: ID!): User }}
        type User @key(fields: "id") {{
          id: ID!
          email: String @shareable @requiresScopes(scopes: [["read:email"], ["admin"]])
          name: String
        }}"#
    );
    let orders = format!(
        r#"{link}
        type Query {{ orders: [Order] }}
        type User @key(fields: "id") @context(name: "owner") {{
          id: ID!
          email: String @external
          name: String @external
          emailCopy: String @requires(fields: "email") {requires_on}
          nameCopy: String @requires(fields: "name")
          orders: [Order]
        }}
        type Order @key(fields: "id") {{
          id: ID!
          owner: User
          ownerEmail(e: String @fromContext(field: "$owner {{ email }}")): String {context_on}
          ownerMail(e: String @fromContext(field: "$owner ... on User {{ email }}")): String {context_on}
        }}"#
    );
    vec![raw("users", &users), raw("orders", &orders)]
}

#[test]
fn fields_reading_protected_fields_need_their_requirements() {
    let errors = compose_errors(&transitive("", ""));
    let codes: Vec<ErrorCode> = errors.iter().map(|(code, _)| *code).collect();
    assert_eq!(
        codes,
        vec![ErrorCode::MissingTransitiveAuthRequirements; 3],
        "{errors:?}"
    );
    let said = |field: &str| errors.iter().any(|(_, message)| message.contains(field));
    assert!(said("\"User.emailCopy\""), "{errors:?}");
    assert!(said("\"User.email\""), "{errors:?}");
    assert!(said("\"Order.ownerEmail\""), "{errors:?}");
    // Through a type condition too.
    assert!(said("\"Order.ownerMail\""), "{errors:?}");
    // Only one of the alternatives is not enough.
    let errors = compose_errors(&transitive(
        r#"@requiresScopes(scopes: [["read:email"], ["other"]])"#,
        r#"@requiresScopes(scopes: [["admin"]])"#,
    ));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].1.contains("\"User.emailCopy\""), "{errors:?}");
    // The same requirements, or stricter ones, compose.
    compose_valid(&transitive(
        r#"@requiresScopes(scopes: [["read:email"], ["admin"]])"#,
        r#"@requiresScopes(scopes: [["admin", "audit"]])"#,
    ));
}

/// GraphQL's list coercion lets `[[Scope!]!]!` be written one level short; composition must
/// read such an application as its nested form, alone and merged with another subgraph's.
#[test]
fn scopes_and_policies_one_level_short_are_coerced() {
    let a = raw(
        "a",
        r#"
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@requiresScopes", "@policy"])
        type Query {
          one: String @requiresScopes(scopes: ["admin"])
          either: String @requiresScopes(scopes: ["admin", "ops"])
          bare: String @policy(policies: "hr")
          doc: Doc @shareable @requiresScopes(scopes: ["read"])
          odd: String @requiresScopes(scopes: [[ADMIN, 1]])
          nested: String @policy(policies: [[["hr"]]])
        }
        type Doc @key(fields: "id") { id: ID! }
        "#,
    );
    let b = raw(
        "b",
        r#"
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@shareable", "@requiresScopes"])
        type Query { doc: Doc @shareable @requiresScopes(scopes: [["docs"]]) }
        type Doc @key(fields: "id") { id: ID! }
        "#,
    );
    let supergraph = compose_valid(&[a, b]);
    let model = Supergraph::parse(&supergraph).expect("our supergraph parses");
    let access = |field: &str| {
        model
            .field_access("Query", field)
            .cloned()
            .unwrap_or_default()
    };
    let lists = |alternatives: &[&[&str]]| -> Vec<Vec<String>> {
        alternatives
            .iter()
            .map(|all| all.iter().map(|s| s.to_string()).collect())
            .collect()
    };
    assert_eq!(access("one").requires_scopes, lists(&[&["admin"]]));
    assert_eq!(
        access("either").requires_scopes,
        lists(&[&["admin"], &["ops"]])
    );
    assert_eq!(access("bare").policies, lists(&[&["hr"]]));
    assert_eq!(access("doc").requires_scopes, lists(&[&["docs", "read"]]));
    // The scalars take any literal; one that is not a string is a scope by its text, never
    // an item left out (which would make the alternative free).
    assert_eq!(access("odd").requires_scopes, lists(&[&["ADMIN", "1"]]));
    assert_eq!(access("nested").policies, lists(&[&[r#"["hr"]"#]]));
}

/// `@link(import:)` is a list, but a lone entry may be written without it, as input coercion
/// allows: the directive is imported all the same.
#[test]
fn a_lone_import_entry_imports_its_directive() {
    let a = raw(
        "a",
        r#"
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: "@key")
        type Query { user: User }
        type User @key(fields: "id") { id: ID! name: String }
        "#,
    );
    let b = raw(
        "b",
        r#"
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: { name: "@key", as: "@id" })
        type User @id(fields: "id") { id: ID! age: Int }
        "#,
    );
    let supergraph = compose_valid(&[a, b]);
    assert!(
        supergraph.contains(r#"@join__type(graph: A, key: "id")"#)
            && supergraph.contains(r#"@join__type(graph: B, key: "id")"#),
        "{supergraph}"
    );
}

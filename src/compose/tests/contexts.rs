//! `@context` / `@fromContext`: what the supergraph keeps of them, and the errors for a context
//! nobody sets or a selection the setting types cannot answer.

use super::{compose_errors, compose_valid, raw};
use crate::compose::ErrorCode;
use crate::sources::SubgraphSdl;
use crate::supergraph::Supergraph;

const LINK: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.8", import: ["@key", "@context", "@fromContext", "@external"])"#;

fn shop() -> SubgraphSdl {
    raw(
        "shop",
        &format!(
            r#"{LINK}
            type Query {{ stores: [Store!]! }}
            type Store @key(fields: "id") {{ id: ID! currency: String! products: [Product!]! }}
            type Product @key(fields: "upc") {{ upc: ID! }}
            "#
        ),
    )
}

fn pricing(store: &str, argument: &str) -> SubgraphSdl {
    raw(
        "pricing",
        &format!(
            r#"{LINK}
            type Store @key(fields: "id") {store} {{ id: ID! currency: String! @external }}
            type Product @key(fields: "upc") {{
              upc: ID!
              price(amount: Int, {argument}): String
            }}
            "#
        ),
    )
}

#[test]
fn contexts_reach_the_supergraph_and_leave_the_api_schema() {
    let sdl = compose_valid(&[
        shop(),
        pricing(
            r#"@context(name: "store")"#,
            r#"currency: String @fromContext(field: "$store { currency }")"#,
        ),
    ]);
    assert!(
        sdl.contains(r#"@link(url: "https://specs.apollo.dev/context/v0.1", for: SECURITY)"#),
        "{sdl}"
    );
    assert!(sdl.contains(r#"@context(name: "pricing__store")"#), "{sdl}");
    assert!(
        sdl.contains(
            r#"price(amount: Int): String @join__field(graph: PRICING, contextArguments: [{context: "pricing__store", name: "currency", type: "String", selection: " { currency }"}])"#
        ),
        "{sdl}"
    );
    let supergraph = Supergraph::parse(&sdl).expect("the model reads it");
    let price = supergraph
        .api_schema
        .type_field("Product", "price")
        .expect("Product.price is in the API schema");
    let arguments: Vec<&str> = price.arguments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(arguments, ["amount"]);
    assert!(!supergraph
        .api_schema
        .directive_definitions
        .contains_key("context"));
    let source = supergraph
        .field_source("Product", "price", crate::supergraph::SubgraphId(0))
        .expect("pricing resolves Product.price");
    assert_eq!(source.context_arguments.len(), 1);
    assert_eq!(&*source.context_arguments[0].context, "pricing__store");
}

/// Asserts the first error composition reports is `code` with `message` (an `@external` field
/// that only a broken context read is then unused too, and reported after it).
fn assert_first_error(subgraphs: &[SubgraphSdl], code: ErrorCode, message: &str) {
    let errors = compose_errors(subgraphs);
    assert_eq!(
        errors.first(),
        Some(&(code, message.to_string())),
        "{errors:?}"
    );
}

#[test]
fn a_context_nobody_sets_is_an_error() {
    assert_first_error(
        &[
            shop(),
            pricing(
                "",
                r#"currency: String @fromContext(field: "$store { currency }")"#,
            ),
        ],
        ErrorCode::ContextNotSet,
        "[pricing] Context \"store\" is used at location \"Product.price(currency:)\" but is never \
         set: no type of the subgraph has @context(name: \"store\")",
    );
}

#[test]
fn a_selection_the_setting_type_cannot_answer_is_an_error() {
    assert_first_error(
        &[
            shop(),
            pricing(
                r#"@context(name: "store")"#,
                r#"currency: String @fromContext(field: "$store { code }")"#,
            ),
        ],
        ErrorCode::ContextInvalidSelection,
        "[pricing] Context \"store\" is used in \"Product.price(currency:)\" but the selection \
         \"code\" on Store names field \"code\", which Store does not have",
    );
    let errors = compose_errors(&[
        shop(),
        pricing(
            r#"@context(name: "store")"#,
            r#"currency: String @fromContext(field: "$store { currency } { id }")"#,
        ),
    ]);
    assert_eq!(
        errors.first().map(|e| e.0),
        Some(ErrorCode::ContextInvalidSelection),
        "{errors:?}"
    );
}

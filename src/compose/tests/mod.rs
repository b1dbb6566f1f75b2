//! Composition tests: each case is a handful of small subgraph SDLs and either the composed
//! supergraph (an insta snapshot) or the errors composition must report.

mod cases;
mod contexts;
mod cost;
mod demo;
mod directives;
mod errors;
mod executable;
mod externals;
mod federation1;
mod inaccessible;
mod interfaces;
mod overrides;
mod satisfiability;
mod subtypes;
mod values;

use apollo_compiler::Schema;

use super::{compose, ErrorCode};
use crate::sources::SubgraphSdl;
use crate::supergraph::Supergraph;

/// The `@link` a Federation 2 subgraph (async-graphql, for one) puts in front of its SDL.
const FED2_LINK: &str = r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@override", "@inaccessible", "@tag", "@interfaceObject"])"#;

/// A Federation 2 subgraph served at `http://<name>:4000/graphql`.
fn fed2(name: &str, sdl: &str) -> SubgraphSdl {
    SubgraphSdl {
        name: name.to_string(),
        url: Some(format!("http://{name}:4000/graphql")),
        sdl: format!("{FED2_LINK}\n{sdl}"),
        ..SubgraphSdl::default()
    }
}

/// A subgraph linking federation v2.`minor` with every directive imported.
fn fed2_at(minor: u32, name: &str, sdl: &str) -> SubgraphSdl {
    let link = format!(
        r#"extend schema @link(url: "https://specs.apollo.dev/federation/v2.{minor}", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@override", "@inaccessible", "@tag", "@interfaceObject"])"#
    );
    SubgraphSdl {
        name: name.to_string(),
        url: Some(format!("http://{name}:4000/graphql")),
        sdl: format!("{link}\n{sdl}"),
        ..SubgraphSdl::default()
    }
}

/// A subgraph whose SDL is used as given: Federation 1 when it has no `@link`.
fn raw(name: &str, sdl: &str) -> SubgraphSdl {
    SubgraphSdl {
        name: name.to_string(),
        url: Some(format!("http://{name}:4000/graphql")),
        sdl: sdl.to_string(),
        ..SubgraphSdl::default()
    }
}

/// Composes, checks the supergraph validates, that the gateway's model reads it, and that it
/// does not depend on the subgraphs' order.
fn compose_valid(subgraphs: &[SubgraphSdl]) -> String {
    let supergraph = match compose(subgraphs) {
        Ok(supergraph) => supergraph,
        Err(errors) => panic!("composition failed:\n{errors}"),
    };
    if let Err(invalid) = Schema::parse_and_validate(&supergraph, "supergraph.graphql") {
        panic!("invalid supergraph:\n{}\n{supergraph}", invalid.errors);
    }
    if let Err(error) = Supergraph::parse(&supergraph) {
        panic!("the model cannot read the supergraph: {error}\n{supergraph}");
    }
    let reversed: Vec<SubgraphSdl> = subgraphs.iter().rev().cloned().collect();
    assert_eq!(
        compose(&reversed).ok().as_deref(),
        Some(supergraph.as_str()),
        "the supergraph depends on the order of the subgraphs"
    );
    supergraph
}

/// Composes subgraphs that must fail, returning each error's code and message.
fn compose_errors(subgraphs: &[SubgraphSdl]) -> Vec<(ErrorCode, String)> {
    match compose(subgraphs) {
        Ok(supergraph) => panic!("composition succeeded but should have failed:\n{supergraph}"),
        Err(errors) => errors
            .iter()
            .map(|error| (error.code(), error.message().to_string()))
            .collect(),
    }
}

/// Asserts composition fails with exactly one error, with this code and message.
fn assert_single_error(subgraphs: &[SubgraphSdl], code: ErrorCode, message: &str) {
    assert_eq!(compose_errors(subgraphs), vec![(code, message.to_string())]);
}

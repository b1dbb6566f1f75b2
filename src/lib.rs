//! Seam: a GraphQL federation gateway.
//!
//! The modules follow the pipeline: `config ▶ sources ▶ compose ▶ supergraph ▶ plan ▶ execute ▶ http`.

pub mod bridge;
pub mod compose;
pub mod config;
pub mod demo;
pub mod execute;
pub mod gateway;
pub mod http;
pub mod pipeline;
pub mod plan;
pub mod response;
pub mod sources;
pub mod startup;
pub mod subscriptions;
pub mod supergraph;

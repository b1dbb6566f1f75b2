//! Seam: a GraphQL federation gateway.
//!
//! The modules follow the pipeline, bottom to top: `config ▶ sources ▶ compose ▶ supergraph ▶
//! plan ▶ execute ▶ traffic ▶ subscriptions ▶ pipeline ▶ http ▶ startup`. Each uses only the
//! ones before it; `context` (one request's context) and `response` (errors, the JSON tree)
//! are shared by all. `auth` (tokens, and the access rules' filtering) sits beside `plan`: it
//! reads the supergraph model and is used by the pipeline and the subgraph client's header
//! rules.

pub mod auth;
pub mod bridge;
pub mod compose;
pub mod config;
pub mod context;
pub mod demo;
mod execute;
pub mod http;
pub mod pipeline;
pub mod plan;
pub mod response;
pub mod sources;
pub mod startup;
pub mod subscriptions;
pub mod supergraph;
pub mod telemetry;
pub mod traffic;

pub use context::{RequestContext, Transport};
pub use pipeline::{Gateway, GraphqlRequest};

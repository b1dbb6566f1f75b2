//! Subscriptions: event sources (bridge topics, subgraph subscriptions), the per-event execution
//! of the rest of the plan, and fan-out to clients. Client protocols live in `crate::http`.

pub mod upstream;

use bytes::Bytes;
use futures::stream::BoxStream;

/// The responses of one subscription, each a complete GraphQL response body
/// (`{"data":…}` / `{"errors":…}`), in order. The stream ends when the subscription completes
/// (the source ended, or a fatal error was sent as the last item).
pub type ResponseStream = BoxStream<'static, Bytes>;

mod engine;
mod event_value;
pub mod events;
mod execution;
pub mod hub;
pub mod publish;
mod ring;
mod subgraph;
pub mod template;

pub(crate) use engine::start;
pub use events::{EventModel, EventModelError};
pub(crate) use execution::{Schema, Start};
pub use hub::Hub;

//! Admit: whether the operation may run over the transport it came on — GraphQL over HTTP never
//! runs a mutation for a GET, and a subscription needs a transport that can stream.

use super::respond::{Answer, Outcome};
use crate::context::Transport;
use crate::plan::OperationKind;
use crate::response::GraphqlError;

pub(super) fn admit(kind: OperationKind, transport: Transport) -> Result<(), Answer> {
    match kind {
        OperationKind::Mutation if !transport.allows_mutations() => Err(Answer::refuse(
            Outcome::MethodNotAllowed,
            &[GraphqlError::new(
                "mutations must be sent with POST",
                "METHOD_NOT_ALLOWED",
            )],
        )),
        OperationKind::Subscription if !transport.streams() => Err(Answer::refuse(
            Outcome::RequestError,
            &[GraphqlError::new(
                "subscriptions are served over WebSocket, SSE (`Accept: text/event-stream`) or \
                 multipart (`Accept: multipart/mixed;subscriptionSpec=1.0`), not a plain HTTP \
                 request",
                "SUBSCRIPTION_NOT_SUPPORTED",
            )],
        )),
        OperationKind::Query | OperationKind::Mutation if transport == Transport::Subscription => {
            Err(Answer::refuse(
                Outcome::RequestError,
                &[GraphqlError::new(
                    format!("expected a subscription, got a {}", kind.keyword()),
                    "NOT_A_SUBSCRIPTION",
                )],
            ))
        }
        _ => Ok(()),
    }
}

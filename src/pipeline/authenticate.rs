//! Authenticate: the request's token ▶ its identity in the request context, or a 401 with
//! `UNAUTHENTICATED`. First of the stages, so the rate limit can key on a claim and every later
//! stage reads the identity from the context.

use std::sync::Arc;

use super::{Answer, Gateway, Outcome};
use crate::auth::{AuthError, Authenticator};
use crate::context::RequestContext;

impl Gateway {
    /// Checks a WebSocket connection's token once, at `connection_init`, so a client with a bad
    /// token is refused the connection (as the WebSocket protocols expect) rather than each of
    /// its operations. Every operation is still authenticated on its own: a token may expire
    /// while the socket is open.
    pub async fn authenticate_connection(&self, context: &RequestContext) -> Result<(), AuthError> {
        if !self.authenticator.is_enabled() {
            return Ok(());
        }
        self.authenticator
            .authenticate(&context.headers)
            .await
            .map(drop)
            .inspect_err(|error| tracing::debug!(%error, "refused a WebSocket connection's token"))
    }
}

pub(super) async fn authenticate(
    authenticator: &Authenticator,
    context: Arc<RequestContext>,
) -> Result<Arc<RequestContext>, Answer> {
    if !authenticator.is_enabled() {
        return Ok(context);
    }
    match authenticator.authenticate(&context.headers).await {
        Ok(None) => Ok(context),
        Ok(Some(identity)) => {
            // One copy of the context per authenticated request: the edge made it before the
            // token was checked, and the identity must travel with it to the subgraph client.
            let mut context = Arc::unwrap_or_clone(context);
            context.identity = Some(Arc::new(identity));
            Ok(Arc::new(context))
        }
        Err(error) => {
            tracing::debug!(%error, "refused a request's token");
            Err(Answer::refuse(
                Outcome::Unauthenticated,
                &[error.to_graphql()],
            ))
        }
    }
}

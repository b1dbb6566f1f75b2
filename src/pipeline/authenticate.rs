//! Authenticate: the request's token ▶ its identity in the request context, or a 401 with
//! `UNAUTHENTICATED`. First of the stages, so the rate limit can key on a claim and every later
//! stage reads the identity from the context.

use std::sync::Arc;

use super::{Answer, Outcome};
use crate::auth::Authenticator;
use crate::context::RequestContext;

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

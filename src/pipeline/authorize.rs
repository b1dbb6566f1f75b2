//! Authorize: a validated operation ▶ what to plan and what to shape the response with, for the
//! request's rights (`@authenticated`, `@requiresScopes`, `@policy`; see `crate::auth::filter`).
//! Runs inside `prepare`, so its result is cached with the plan, keyed by the rights.

use apollo_compiler::executable::Operation;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Node};

use super::validate::Validated;
use crate::auth::filter::{filter, Filtered};
use crate::auth::Rights;
use crate::response::GraphqlError;
use crate::supergraph::Supergraph;

/// The operation to plan when it differs from the client's (fields were removed).
pub(super) struct PlanInstead {
    pub document: Valid<ExecutableDocument>,
    pub operation: Node<Operation>,
}

/// Filters `validated` for `rights`: the client's operation (now with its unauthorized fields
/// marked) and, when something was removed, the operation to plan instead. With `reject`, any
/// removal refuses the request; a subscription whose root field is removed is refused always,
/// as it would have nothing to subscribe to.
pub(super) fn authorize(
    supergraph: &Supergraph,
    mut validated: Validated,
    rights: &Rights,
    reject: bool,
) -> Result<(Validated, Option<PlanInstead>), Vec<GraphqlError>> {
    if !supergraph.access.any_rule {
        return Ok((validated, None));
    }
    match filter(
        supergraph,
        &validated.document,
        &validated.operation,
        rights,
    ) {
        Filtered::Unchanged => Ok((validated, None)),
        Filtered::Changed(filtered) => {
            if reject || filtered.subscription_root_removed {
                return Err(filtered.rejection());
            }
            let filtered = *filtered;
            validated.document = filtered.shape_document;
            validated.operation = filtered.shape_operation;
            Ok((
                validated,
                Some(PlanInstead {
                    document: filtered.plan_document,
                    operation: filtered.plan_operation,
                }),
            ))
        }
    }
}

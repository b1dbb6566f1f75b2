//! Plan: a validated (and authorized) operation ▶ the query plan that runs it across the
//! subgraphs.

use crate::plan::{plan_operation, PlannedOperation};
use crate::response::GraphqlError;
use crate::supergraph::{ActiveLabels, Supergraph};

use super::authorize::PlanInstead;
use super::validate::Validated;

/// Plans `instead` when authorization removed fields, else the operation itself; the response
/// is shaped with `validated`'s operation either way.
pub(super) fn plan(
    supergraph: &Supergraph,
    validated: Validated,
    instead: Option<PlanInstead>,
    labels: ActiveLabels,
) -> Result<PlannedOperation, Vec<GraphqlError>> {
    let (document, operation) = match &instead {
        Some(instead) => (&instead.document, &instead.operation),
        None => (&validated.document, &validated.operation),
    };
    let plan = plan_operation(supergraph, document, operation, labels)
        .map_err(|e| vec![GraphqlError::new(e.to_string(), "QUERY_PLANNING_FAILED")])?;
    Ok(PlannedOperation {
        document: validated.document,
        operation: validated.operation,
        plan,
    })
}

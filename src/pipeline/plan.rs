//! Plan: a validated operation ▶ the query plan that runs it across the subgraphs.

use crate::plan::{plan_operation, PlannedOperation};
use crate::response::GraphqlError;
use crate::supergraph::{ActiveLabels, Supergraph};

use super::validate::Validated;

pub(super) fn plan(
    supergraph: &Supergraph,
    validated: Validated,
    labels: ActiveLabels,
) -> Result<PlannedOperation, Vec<GraphqlError>> {
    let plan = plan_operation(
        supergraph,
        &validated.document,
        &validated.operation,
        labels,
    )
    .map_err(|e| vec![GraphqlError::new(e.to_string(), "QUERY_PLANNING_FAILED")])?;
    Ok(PlannedOperation {
        document: validated.document,
        operation: validated.operation,
        plan,
    })
}

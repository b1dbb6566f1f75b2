//! An event as the value of its root field: the subscription's plan without the root fetch (the
//! event stands in for its answer), and the event projected onto what that fetch would have
//! asked, so the rest of the plan finds the response keys and the entity keys it expects.

use apollo_compiler::ast::DirectiveList;
use apollo_compiler::schema::ExtendedType;
use compact_str::CompactString;
use serde_json::Map;

use crate::plan::selection::{Field, Selection, SelectionSet};
use crate::plan::{FetchNode, PlanNode, QueryPlan};
use crate::response::{Object, Value};
use crate::supergraph::{SubgraphId, Supergraph};

/// What runs for each event of a subscription.
#[derive(Debug, Clone)]
pub struct EventPlan {
    /// The plan without the root fetch to the event subgraph (its root is `None` when the
    /// event answers everything the client selected).
    pub rest: QueryPlan,
    /// The subscribed root field as the event subgraph would have been asked for it: client
    /// aliases, plus `__typename` and the keys that later fetches need.
    pub field: Field,
    /// The root fetch taken out: for a subgraph that resolves the field itself, the operation
    /// to subscribe with.
    pub fetch: Box<FetchNode>,
}

/// Splits `plan` at the root fetch of `graph` that selects `response_key`; `None` when the plan
/// has no such fetch (the field is not that subgraph's).
pub fn split_plan(plan: &QueryPlan, graph: SubgraphId, response_key: &str) -> Option<EventPlan> {
    let mut found = None;
    let rest = plan
        .root
        .as_ref()
        .and_then(|root| strip(root, graph, response_key, &mut found));
    let (field, fetch) = found?;
    Some(EventPlan {
        rest: QueryPlan {
            kind: plan.kind,
            root: rest,
            non_null_roots: Vec::new(),
        },
        field,
        fetch,
    })
}

fn strip(
    node: &PlanNode,
    graph: SubgraphId,
    response_key: &str,
    found: &mut Option<(Field, Box<FetchNode>)>,
) -> Option<PlanNode> {
    match node {
        PlanNode::Fetch(fetch)
            if fetch.entity.is_none() && fetch.merge_path.is_empty() && fetch.subgraph == graph =>
        {
            *found = fetch
                .selection
                .items()
                .iter()
                .find_map(|s| match s {
                    Selection::Field(f) if f.response_key() == response_key => Some(f.clone()),
                    _ => None,
                })
                .map(|field| (field, fetch.clone()));
            None
        }
        PlanNode::Fetch(_) | PlanNode::Batch(_) => Some(node.clone()),
        PlanNode::Sequence(nodes) | PlanNode::Parallel(nodes) => {
            let mut kept: Vec<PlanNode> = nodes
                .iter()
                .filter_map(|n| strip(n, graph, response_key, found))
                .collect();
            match kept.len() {
                0 => None,
                1 => kept.pop(),
                _ if matches!(node, PlanNode::Sequence(_)) => Some(PlanNode::Sequence(kept)),
                _ => Some(PlanNode::Parallel(kept)),
            }
        }
        PlanNode::Condition {
            variable,
            if_true,
            if_false,
        } => {
            let if_true = if_true
                .as_deref()
                .and_then(|n| strip(n, graph, response_key, found))
                .map(Box::new);
            let if_false = if_false
                .as_deref()
                .and_then(|n| strip(n, graph, response_key, found))
                .map(Box::new);
            (if_true.is_some() || if_false.is_some()).then(|| PlanNode::Condition {
                variable: variable.clone(),
                if_true,
                if_false,
            })
        }
    }
}

/// Projects events onto a root field's selection.
pub struct Projector<'a> {
    pub supergraph: &'a Supergraph,
    pub variables: &'a Map<String, serde_json::Value>,
}

impl Projector<'_> {
    /// The response tree the root fetch would have produced: `{<response key>: event}`, with
    /// the event cut to the selection, renamed to its response keys, and `__typename` filled in
    /// where the schema knows the type (an event for an object type may leave it out).
    pub fn root(&self, field: &Field, root_type: &str, event: &Value) -> Value {
        let mut root = Object::with_capacity(1);
        root.push(
            CompactString::from(field.response_key().as_str()),
            self.field_value(field, root_type, event),
        );
        Value::Object(root)
    }

    /// `value` as the value of `parent_type.field`, cut to the field's selection.
    pub fn field_value(&self, field: &Field, parent_type: &str, value: &Value) -> Value {
        let static_type = self.field_type(parent_type, field.name.as_str());
        self.value(value, &field.selections, static_type.as_deref())
    }

    fn value(&self, value: &Value, selections: &SelectionSet, static_type: Option<&str>) -> Value {
        match value {
            Value::Object(object) if !selections.is_empty() => {
                let typename = match object.get("__typename") {
                    Some(Value::String(name)) => Some(name.to_string()),
                    _ => static_type
                        .filter(|t| {
                            matches!(
                                self.supergraph.schema.types.get(*t),
                                Some(ExtendedType::Object(_))
                            )
                        })
                        .map(str::to_owned),
                };
                let mut out = Object::with_capacity(selections.items().len());
                self.object(
                    object,
                    selections,
                    typename.as_deref(),
                    static_type,
                    &mut out,
                );
                Value::Object(out)
            }
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.value(item, selections, static_type))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    fn object(
        &self,
        object: &Object,
        selections: &SelectionSet,
        typename: Option<&str>,
        static_type: Option<&str>,
        out: &mut Object,
    ) {
        for selection in selections.items() {
            match selection {
                Selection::Field(field) => {
                    if !self.included(&field.directives) {
                        continue;
                    }
                    let key = field.response_key().as_str();
                    let value = if field.name == "__typename" {
                        match typename {
                            Some(name) => Value::String(name.into()),
                            None => continue,
                        }
                    } else {
                        let Some(value) = object.get(field.name.as_str()) else {
                            continue;
                        };
                        let child_type = typename
                            .or(static_type)
                            .and_then(|t| self.field_type(t, field.name.as_str()));
                        self.value(value, &field.selections, child_type.as_deref())
                    };
                    match out.get_mut(key) {
                        Some(existing) => merge(existing, value),
                        None => out.push(CompactString::from(key), value),
                    }
                }
                Selection::Fragment(fragment) => {
                    if !self.included(&fragment.directives) {
                        continue;
                    }
                    let applies = match (&fragment.type_condition, typename) {
                        (None, _) => true,
                        (Some(condition), Some(t)) => self.supergraph.satisfies(t, condition),
                        (Some(condition), None) => Some(condition.as_str()) == static_type,
                    };
                    if applies {
                        self.object(object, &fragment.selections, typename, static_type, out);
                    }
                }
            }
        }
    }

    /// The named type of `type_name.field` in the supergraph.
    fn field_type(&self, type_name: &str, field: &str) -> Option<String> {
        let fields = match self.supergraph.schema.types.get(type_name)? {
            ExtendedType::Object(o) => &o.fields,
            ExtendedType::Interface(i) => &i.fields,
            _ => return None,
        };
        Some(fields.get(field)?.ty.inner_named_type().to_string())
    }

    fn included(&self, directives: &DirectiveList) -> bool {
        crate::execute::included(directives, self.variables)
    }
}

/// Two selections of one response key (a field and a fragment's field): objects are combined.
fn merge(existing: &mut Value, value: Value) {
    match (existing, value) {
        (Value::Object(target), Value::Object(source)) => {
            for (key, value) in source.into_entries() {
                match target.get_mut(&key) {
                    Some(slot) => merge(slot, value),
                    None => target.push(key, value),
                }
            }
        }
        (Value::Array(target), Value::Array(source)) => {
            for (slot, value) in target.iter_mut().zip(source) {
                merge(slot, value);
            }
        }
        _ => {}
    }
}

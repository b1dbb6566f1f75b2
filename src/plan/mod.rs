//! Query planning: one client operation ▶ a tree of subgraph fetches.
//!
//! Plans depend only on the document and the schema, never on variable values: `@skip`/`@include`
//! on variables become `Condition` nodes, so one cached plan serves every request of a document.

mod alias_apart;
mod builder;
mod display;
mod lookup;
pub mod selection;

use apollo_compiler::executable::Operation;
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Name, Node};

use crate::supergraph::{ActiveLabels, SubgraphId, SubgraphName, Supergraph};
pub use selection::SelectionSet;

/// Where a client field aliased `__typename` (`{ __typename: name }`) is fetched. Fetches add
/// the object's real `__typename` beside client fields (entity jumps, abstract types), so the two
/// cannot share the key. The gateway's other aliases (`seam__price` for a `@requires` input) are
/// chosen to avoid every key the client uses, so only this one key needs moving.
const TYPENAME_ALIAS: &str = "seam__client_typename";

/// Where a client field is in the data a subgraph returns: its response key, except for a field
/// aliased `__typename`, which is fetched under [`TYPENAME_ALIAS`]. Shaping reads the value from
/// there and [`client_key`] maps error paths back, so the move never shows in a response.
pub fn fetch_key<'a>(response_key: &'a str, field_name: &str) -> &'a str {
    if response_key == "__typename" && field_name != "__typename" {
        TYPENAME_ALIAS
    } else {
        response_key
    }
}

/// The prefix of the response keys and variables the gateway adds to subgraph fetches.
const RESERVED_PREFIX: &str = "seam__";

/// Response keys the planner gives fields it adds whatever the client's keys are: the client's
/// `__typename` under an alias ([`TYPENAME_ALIAS`]), context values (`seam__context_<name>`,
/// `builder/context.rs`) and keys set apart by type (`seam__<Type>__<key>`, `alias_apart.rs`).
/// Other `seam__` names stay the client's: the planner picks around them. A client operation
/// using one of these is refused, since it would collide in the fetch.
pub fn is_reserved_alias(alias: &str) -> bool {
    if alias == TYPENAME_ALIAS {
        return true;
    }
    alias
        .strip_prefix(RESERVED_PREFIX)
        .is_some_and(|rest| rest.starts_with("context_") || rest.contains("__"))
}

/// Variable names the gateway gives its own values in subgraph fetches: `$representations`
/// (entity fetches), `$contextualArgument_<n>_<i>` (`builder/context.rs`) and `$seam__…`
/// (stitching lookups). The client's variables are passed on beside them under their own names.
pub fn is_reserved_variable(name: &str) -> bool {
    name == "representations"
        || name.starts_with("contextualArgument_")
        || name.starts_with(RESERVED_PREFIX)
}

/// The client's response key for a key in a subgraph's data: [`fetch_key`] undone.
pub fn client_key(fetch_key: &str) -> &str {
    if fetch_key == TYPENAME_ALIAS {
        "__typename"
    } else {
        fetch_key
    }
}

/// How many lists wrap a type (`[[Int!]]!` is 2): the list steps a path takes below a field.
fn list_depth(ty: &apollo_compiler::ast::Type) -> usize {
    let mut depth = 0;
    let mut ty = ty;
    while let apollo_compiler::ast::Type::List(inner)
    | apollo_compiler::ast::Type::NonNullList(inner) = ty
    {
        depth += 1;
        ty = inner;
    }
    depth
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathElement {
    /// A response key in the fetched data: the client's, moved by [`fetch_key`] where needed.
    Key(Name),
    /// Every element of a list.
    List,
}

#[derive(Debug, Clone)]
pub enum PlanNode {
    Fetch(Box<FetchNode>),
    /// Entity fetches to one subgraph that run at the same point of the plan, sent as one request.
    Batch(Box<BatchFetch>),
    Sequence(Vec<PlanNode>),
    Parallel(Vec<PlanNode>),
    /// Runs `if_true` when the boolean variable is true, else `if_false`.
    Condition {
        variable: Name,
        if_true: Option<Box<PlanNode>>,
        if_false: Option<Box<PlanNode>>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OperationKind {
    Query,
    Mutation,
    Subscription,
}

impl OperationKind {
    pub fn keyword(self) -> &'static str {
        match self {
            OperationKind::Query => "query",
            OperationKind::Mutation => "mutation",
            OperationKind::Subscription => "subscription",
        }
    }
}

#[derive(Debug, Clone)]
pub struct FetchNode {
    pub subgraph: SubgraphId,
    pub service_name: SubgraphName,
    /// Where the results are merged into the response; empty for root fetches. Like a `Flatten` node.
    pub merge_path: Vec<PathElement>,
    /// The subgraph operation, ready to send.
    pub operation: String,
    /// Client variables the operation uses; their values are forwarded.
    pub variable_usages: Vec<Name>,
    pub selection: SelectionSet,
    /// `Some` for an `_entities` fetch.
    pub entity: Option<EntityFetch>,
    /// Top-level response keys a root fetch provides: where errors go if the fetch fails.
    pub root_keys: Vec<Name>,
    /// Keys the fetch aliased to keep fields of different shapes apart, to be renamed back in
    /// its answer before it is merged; inner ones last. Usually empty.
    pub renames: Vec<KeyRename>,
}

/// Entity fetches to one subgraph whose dependencies are all met at the same step of the plan,
/// sent as one request: each entry is one `_entities` field of the operation, and the fetches of
/// an entry ask for the same selection, so they share one representation list (and a repeated
/// entity is asked for once). One entry is the plain `_entities(representations:
/// $representations)` operation; more are aliased `_0`, `_1`, … with variables named by
/// [`BatchFetch::representations`].
#[derive(Debug, Clone)]
pub struct BatchFetch {
    pub subgraph: SubgraphId,
    pub service_name: SubgraphName,
    /// The subgraph operation, ready to send.
    pub operation: String,
    /// Client variables the operation uses (the members' together); their values are forwarded.
    pub variable_usages: Vec<Name>,
    /// The `_entities` fields of the operation, in order; each holds at least one fetch.
    pub entries: Vec<Vec<FetchNode>>,
    /// Variable name of entry `i`'s representations: `representations` for a single entry, else
    /// this prefix and `i` (the prefix is chosen to differ from every client variable).
    pub representations: Name,
}

impl BatchFetch {
    /// The response key of entry `i`'s `_entities` field.
    pub fn entry_key(&self, i: usize) -> String {
        if self.entries.len() == 1 {
            "_entities".to_owned()
        } else {
            format!("_{i}")
        }
    }

    /// The variable that carries entry `i`'s representations.
    pub fn entry_variable(&self, i: usize) -> String {
        if self.entries.len() == 1 {
            self.representations.to_string()
        } else {
            format!("{}{i}", self.representations)
        }
    }

    /// Every fetch of the batch, entry by entry.
    pub fn fetches(&self) -> impl Iterator<Item = &FetchNode> {
        self.entries.iter().flatten()
    }
}

/// A key put back after a fetch answers: on each object at `path` (from the fetch's data, or
/// from each `_entities` item) whose `__typename` is one of `types`, `from` becomes `to`.
#[derive(Debug, Clone)]
pub struct KeyRename {
    pub path: Vec<PathElement>,
    pub types: Vec<Name>,
    pub from: Name,
    pub to: Name,
}

#[derive(Debug, Clone)]
pub struct EntityFetch {
    pub types: Vec<EntityType>,
    /// Stitching: `Some` when every type is fetched from a plain service through its lookup
    /// field rather than `_entities`.
    pub lookup: Option<LookupFetch>,
    /// Variables whose values are read from each entity's ancestors (`@fromContext`); empty for
    /// most fetches. Entities whose values differ are sent in separate requests.
    pub contexts: Vec<ContextVariable>,
}

/// A variable of an entity fetch that passes a context value as a field argument
/// (`contextualArgument_1_0`, as Apollo Router names them).
#[derive(Debug, Clone)]
pub struct ContextVariable {
    pub name: Name,
    /// The argument's type in the subgraph, as GraphQL text.
    pub ty: String,
    /// Where the value may come from, nearest ancestor first; the first that applies to an
    /// entity gives its value, and none gives `null`.
    pub sources: Vec<ContextSource>,
}

/// One ancestor that can set a context value.
#[derive(Debug, Clone)]
pub struct ContextSource {
    /// How many elements of the fetch's merge path lead to the ancestor.
    pub depth: usize,
    /// The ancestor's object types that set the context (for an interface met through an
    /// `@interfaceObject`, the interface and its implementations); an ancestor without
    /// `__typename` in the response was planned as the only type at its place, and applies.
    pub types: Vec<Name>,
    /// What is read from the ancestor (under the planner's aliases); the value is the one field
    /// that applies, projected on its own selection.
    pub selection: SelectionSet,
}

/// An entity fetch from a plain (stitched) service: one aliased lookup field per
/// representation, built per request because the number of representations varies.
#[derive(Debug, Clone)]
pub struct LookupFetch {
    /// One per entity type, in the order of [`EntityFetch::types`].
    pub types: Vec<LookupType>,
    /// The definitions of the client variables the selections use (`$first:Int`),
    /// comma-separated, without parentheses.
    pub variable_definitions: String,
}

#[derive(Debug, Clone)]
pub struct LookupType {
    pub lookup: std::sync::Arc<crate::supergraph::Lookup>,
    /// The selection fetched for each entity of the type, compact GraphQL text with braces.
    pub selection: String,
}

#[derive(Debug, Clone)]
pub struct EntityType {
    /// The type condition in the fetch; also the representations' `__typename` when
    /// `object_types` is not empty.
    pub name: Name,
    /// For an interface fetched from an `@interfaceObject` subgraph: the concrete types of the
    /// objects sent as representations of `name`. Empty: objects whose `__typename` is `name`.
    pub object_types: Vec<Name>,
    /// `__typename`, the key fields and any `@requires` fields, projected from the object in the response.
    pub representation: SelectionSet,
    /// Top-level key fields: an entity whose key is null or missing is not sent.
    pub key_fields: Vec<Name>,
    /// The non-null fields below the top level of `representation` (in the fetched subgraph's
    /// types), each as the steps that lead to it: one missing from an object that is there
    /// means its owner never gave it (the owner nulled that object's entity), and the entity is
    /// not sent rather than sent with a null the subgraph's schema forbids.
    pub non_null_nested: Vec<Vec<RequiredStep>>,
    /// The first field the fetch adds to such an entity: where its error goes if the fetch fails.
    pub error_key: Option<Name>,
}

/// One step of a path into a representation: the response key, under a fragment's type
/// condition when there is one (the step applies only to objects of that type).
#[derive(Debug, Clone, PartialEq)]
pub struct RequiredStep {
    pub condition: Option<Name>,
    pub key: Name,
}

#[derive(Debug, Clone)]
pub struct QueryPlan {
    pub kind: OperationKind,
    pub root: Option<PlanNode>,
    /// A mutation's root response keys whose fields are non-null: once one of them is settled
    /// as null the whole `data` is null, and the mutation fields after it must not run (their
    /// effects would be invisible to the client). Empty for other operations.
    pub non_null_roots: Vec<Name>,
}

impl QueryPlan {
    /// The bytes of subgraph operation text the plan holds: the bulk of its memory.
    pub fn text_size(&self) -> usize {
        fn size(node: &PlanNode) -> usize {
            match node {
                PlanNode::Fetch(fetch) => fetch.operation.len() + 64,
                PlanNode::Batch(batch) => {
                    batch.operation.len()
                        + batch
                            .fetches()
                            .map(|f| f.operation.len() + 64)
                            .sum::<usize>()
                }
                PlanNode::Sequence(nodes) | PlanNode::Parallel(nodes) => {
                    nodes.iter().map(size).sum()
                }
                PlanNode::Condition {
                    if_true, if_false, ..
                } => if_true.as_deref().map_or(0, size) + if_false.as_deref().map_or(0, size),
            }
        }
        self.root.as_ref().map_or(0, size)
    }
}

/// An operation ready to run: the validated document, the operation chosen in it, and its
/// plan. Made once per document and shared by every request (and subscription) that runs it.
#[derive(Debug)]
pub struct PlannedOperation {
    pub document: Valid<ExecutableDocument>,
    pub operation: Node<Operation>,
    pub plan: QueryPlan,
}

impl PlannedOperation {
    pub fn kind(&self) -> OperationKind {
        self.plan.kind
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("no subgraph can resolve field {type_name}.{field}")]
    Unresolvable { type_name: String, field: String },
    #[error("cannot reach field {type_name}.{field} from subgraph {from}: no key of {type_name} in {to} that {from} can provide")]
    NoKey {
        type_name: String,
        field: String,
        from: String,
        to: String,
    },
    #[error("cannot pass the context argument {argument} of {type_name}.{field}: {message}")]
    Context {
        type_name: String,
        field: String,
        argument: String,
        message: String,
    },
    #[error("the schema has no root type for {0} operations")]
    NoRootType(&'static str),
    #[error(
        "field `{key}` is selected in one object under more than {max} different sets of \
         @skip/@include conditions that cannot be merged"
    )]
    TooManyConditionalRepeats { key: String, max: usize },
}

pub fn plan_operation(
    supergraph: &Supergraph,
    document: &Valid<ExecutableDocument>,
    operation: &Operation,
    labels: ActiveLabels,
) -> Result<QueryPlan, PlanError> {
    builder::build(supergraph, document, operation, labels)
}

/// Plans the operation in `query` and prints the plan; the message of the first error otherwise.
/// `labels` are the progressive-override labels to plan for.
pub fn plan_text(
    supergraph: &Supergraph,
    query: &str,
    operation_name: Option<&str>,
    labels: ActiveLabels,
) -> Result<String, String> {
    let document =
        ExecutableDocument::parse_and_validate(&supergraph.api_schema, query, "query.graphql")
            .map_err(|e| e.errors.to_string())?;
    let operation = document
        .operations
        .get(operation_name)
        .map_err(|e| e.message().to_string())?;
    let plan =
        plan_operation(supergraph, &document, operation, labels).map_err(|e| e.to_string())?;
    Ok(plan.to_string())
}

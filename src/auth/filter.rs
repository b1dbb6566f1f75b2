//! Authorization filtering: an operation ▶ the operation to plan, without the fields the
//! request's [`Rights`] do not reach, and the operation to shape the response with, where those
//! fields are marked so they answer null with an `UNAUTHORIZED_FIELD_OR_TYPE` error at their
//! paths (and, when non-null, null their parent as the spec's null propagation says).
//!
//! The rules follow Apollo Router's:
//! - a field needs what its own directives ask, what its parent type asks (so a fragment on a
//!   protected type gives nothing of it), and what the type it returns asks;
//! - an interface or union asks what each of its possible types asks, and an interface field
//!   what the field asks on each implementation, since which object comes back is known only
//!   at run time. Apollo's composition writes these onto the interface already; doing it here
//!   too keeps supergraphs from other composers just as safe.
//!
//! Removing a field never sends a subgraph anything it would not have been asked for: a
//! selection left empty keeps only `__typename`, so its parent is still fetched and answers
//! with its unauthorized fields null.

use std::collections::HashMap;

use apollo_compiler::executable::{Field, Fragment, Operation, Selection, SelectionSet};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use apollo_compiler::{name, ExecutableDocument, Name, Node};

use super::Rights;
use crate::response::{GraphqlError, PathSegment};
use crate::supergraph::{possible_types, Supergraph};

/// The directive the filter puts on a field the request may not see, in the document the
/// response is shaped with (never sent anywhere).
pub const UNAUTHORIZED_MARK: &str = "seam__unauthorized";

/// The error code of a field or type the request may not see.
pub const UNAUTHORIZED_CODE: &str = "UNAUTHORIZED_FIELD_OR_TYPE";

/// At most this many paths are reported when a request is refused whole; a document can name
/// a protected field through a fragment spread thousands of times.
const MAX_REPORTED_PATHS: usize = 100;

/// What filtering one operation gave.
pub enum Filtered {
    /// The rights reach everything the operation asks for.
    Unchanged,
    Changed(Box<FilteredOperation>),
}

pub struct FilteredOperation {
    /// What to plan: the operation without the unauthorized fields.
    pub plan_document: Valid<ExecutableDocument>,
    pub plan_operation: Node<Operation>,
    /// What to shape the response with: the client's operation with the unauthorized fields
    /// marked with [`UNAUTHORIZED_MARK`].
    pub shape_document: Valid<ExecutableDocument>,
    pub shape_operation: Node<Operation>,
    /// Where the removed fields are in the operation (response keys, no list indices).
    pub removed: Vec<Vec<String>>,
    /// Whether a root field was removed from a subscription, which then has nothing to run.
    pub subscription_root_removed: bool,
}

impl FilteredOperation {
    /// The errors of a request refused whole (`auth.reject_unauthorized`).
    pub fn rejection(&self) -> Vec<GraphqlError> {
        self.removed
            .iter()
            .map(|path| {
                GraphqlError::new("Unauthorized field or type", UNAUTHORIZED_CODE).with_path(
                    path.iter()
                        .map(|key| PathSegment::Key(key.clone()))
                        .collect(),
                )
            })
            .collect()
    }
}

/// Filters `operation` of `document` for `rights`.
pub fn filter(
    supergraph: &Supergraph,
    document: &Valid<ExecutableDocument>,
    operation: &Node<Operation>,
    rights: &Rights,
) -> Filtered {
    let mut filter = Filter {
        supergraph,
        rights,
        types: HashMap::new(),
        fragments: HashMap::new(),
    };
    // Fragments first, so the spreads in the operation find them filtered. A changed fragment
    // that the operation does not spread (another operation of the document does) changes
    // nothing here.
    for name in document.fragments.keys() {
        filter.fragment(document, name);
    }
    let root = filter.selection_set(&operation.selection_set);
    if !root.changed {
        return Filtered::Unchanged;
    }
    let subscription_root_removed = operation.operation_type
        == apollo_compiler::ast::OperationType::Subscription
        && root.removed_here;
    let with_root = |set: SelectionSet| {
        let mut operation = operation.clone();
        operation.make_mut().selection_set = set;
        operation
    };
    let plan_operation = with_root(root.plan);
    let shape_operation = with_root(root.shape);
    let mut plan_document = (**document).clone();
    let mut shape_document = (**document).clone();
    for (name, fragment) in &filter.fragments {
        let Some(fragment) = fragment else { continue };
        if let Some(slot) = plan_document.fragments.get_mut(name) {
            slot.make_mut().selection_set = fragment.plan.clone();
        }
        if let Some(slot) = shape_document.fragments.get_mut(name) {
            slot.make_mut().selection_set = fragment.shape.clone();
        }
    }
    // Fragments left with nothing to plan are spread nowhere in the plan document any more.
    plan_document.fragments.retain(|name, _| {
        !matches!(filter.fragments.get(name), Some(Some(fragment)) if fragment.plan.is_empty())
    });
    replace_operation(&mut plan_document, &plan_operation);
    replace_operation(&mut shape_document, &shape_operation);
    Filtered::Changed(Box::new(FilteredOperation {
        // Removing selections (and adding `__typename` where a set would be left empty) keeps
        // a valid document valid; the marks are a directive only the shaper reads.
        plan_document: Valid::assume_valid(plan_document),
        plan_operation,
        shape_document: Valid::assume_valid(shape_document),
        shape_operation,
        removed: root.removed,
        subscription_root_removed,
    }))
}

fn replace_operation(document: &mut ExecutableDocument, operation: &Node<Operation>) {
    match &operation.name {
        Some(name) => {
            document
                .operations
                .named
                .insert(name.clone(), operation.clone());
        }
        None => document.operations.anonymous = Some(operation.clone()),
    }
}

struct Filter<'a> {
    supergraph: &'a Supergraph,
    rights: &'a Rights,
    /// Whether the rights reach a type (an abstract type: each of its possible types).
    types: HashMap<Name, bool>,
    /// Each named fragment filtered once; `None` while it is being filtered.
    fragments: HashMap<Name, Option<FilteredSet>>,
}

#[derive(Clone)]
struct FilteredSet {
    plan: SelectionSet,
    shape: SelectionSet,
    changed: bool,
    /// Whether a field of this very set (not a nested one) was removed.
    removed_here: bool,
    /// Paths of removed fields, relative to the set (for fragments spread in many places).
    removed: Vec<Vec<String>>,
}

impl Filter<'_> {
    fn selection_set(&mut self, set: &SelectionSet) -> FilteredSet {
        let mut out = FilteredSet {
            plan: SelectionSet::new(set.ty.clone()),
            shape: SelectionSet::new(set.ty.clone()),
            changed: false,
            removed_here: false,
            removed: Vec::new(),
        };
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => {
                    let key = field.response_key().to_string();
                    if !self.field_allowed(&set.ty, field) {
                        out.changed = true;
                        out.removed_here = true;
                        push_capped(&mut out.removed, vec![key]);
                        let mut marked = field.clone();
                        marked.make_mut().directives.push(Node::new(
                            apollo_compiler::ast::Directive {
                                name: name!("seam__unauthorized"),
                                arguments: Vec::new(),
                            },
                        ));
                        out.shape.push(marked);
                        continue;
                    }
                    if field.selection_set.is_empty() {
                        out.plan.push(field.clone());
                        out.shape.push(field.clone());
                        continue;
                    }
                    let inner = self.selection_set(&field.selection_set);
                    if !inner.changed {
                        out.plan.push(field.clone());
                        out.shape.push(field.clone());
                        continue;
                    }
                    out.changed = true;
                    for mut relative in inner.removed {
                        relative.insert(0, key.clone());
                        push_capped(&mut out.removed, relative);
                    }
                    let mut plan = inner.plan;
                    if plan.is_empty() {
                        plan.push(self.typename(&plan));
                    }
                    out.plan.push(with_selection_set(field, plan));
                    out.shape.push(with_selection_set(field, inner.shape));
                }
                Selection::InlineFragment(fragment) => {
                    let inner = self.selection_set(&fragment.selection_set);
                    if !inner.changed {
                        out.plan.push(fragment.clone());
                        out.shape.push(fragment.clone());
                        continue;
                    }
                    out.changed = true;
                    out.removed_here |= inner.removed_here;
                    for relative in inner.removed {
                        push_capped(&mut out.removed, relative);
                    }
                    if !inner.plan.is_empty() {
                        let mut plan = fragment.clone();
                        plan.make_mut().selection_set = inner.plan;
                        out.plan.push(plan);
                    }
                    let mut shape = fragment.clone();
                    shape.make_mut().selection_set = inner.shape;
                    out.shape.push(shape);
                }
                Selection::FragmentSpread(spread) => {
                    // Filtered on its own, before any set that spreads it (see `fragment`).
                    let Some(Some(inner)) = self.fragments.get(&spread.fragment_name).cloned()
                    else {
                        out.plan.push(spread.clone());
                        out.shape.push(spread.clone());
                        continue;
                    };
                    out.shape.push(spread.clone());
                    if !inner.plan.is_empty() {
                        out.plan.push(spread.clone());
                    }
                    if inner.changed {
                        out.changed = true;
                        out.removed_here |= inner.removed_here;
                        for relative in inner.removed {
                            push_capped(&mut out.removed, relative);
                        }
                    }
                }
            }
        }
        out
    }

    /// The named fragment filtered (memoized). Fragments cannot spread themselves (validation
    /// refuses cycles), so the recursion ends.
    fn fragment(&mut self, document: &ExecutableDocument, name: &Name) -> Option<&FilteredSet> {
        if !self.fragments.contains_key(name) {
            let definition: &Node<Fragment> = document.fragments.get(name)?;
            self.fragments.insert(name.clone(), None);
            self.spread_fragments(document, &definition.selection_set);
            let filtered = self.selection_set(&definition.selection_set);
            self.fragments.insert(name.clone(), Some(filtered));
        }
        self.fragments.get(name)?.as_ref()
    }

    /// Filters the fragments `set` spreads before `set` itself, so spreads find them done.
    fn spread_fragments(&mut self, document: &ExecutableDocument, set: &SelectionSet) {
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => self.spread_fragments(document, &field.selection_set),
                Selection::InlineFragment(inline) => {
                    self.spread_fragments(document, &inline.selection_set)
                }
                Selection::FragmentSpread(spread) => {
                    self.fragment(document, &spread.fragment_name);
                }
            }
        }
    }

    fn typename(&self, set: &SelectionSet) -> Field {
        match set.new_field(&self.supergraph.api_schema, name!("__typename")) {
            Ok(field) => field,
            // Every composite type has `__typename`; this keeps the type honest without a panic.
            Err(_) => Field::new(
                name!("__typename"),
                Node::new(apollo_compiler::schema::FieldDefinition {
                    description: None,
                    name: name!("__typename"),
                    arguments: Vec::new(),
                    ty: apollo_compiler::ty!(String!),
                    directives: Default::default(),
                }),
            ),
        }
    }

    fn field_allowed(&mut self, parent: &Name, field: &Field) -> bool {
        let name = field.name.as_str();
        if name.starts_with("__") {
            return true;
        }
        if !self.type_allowed(parent) {
            return false;
        }
        let supergraph = self.supergraph;
        let satisfied = |type_name: &str| {
            supergraph
                .field_access(type_name, name)
                .is_none_or(|access| self.rights.satisfy(access))
        };
        if !satisfied(parent) {
            return false;
        }
        if matches!(
            supergraph.schema.types.get(parent),
            Some(ExtendedType::Interface(_))
        ) && !possible_types(&supergraph.schema, parent)
            .iter()
            .all(|object| satisfied(object))
        {
            return false;
        }
        self.type_allowed(field.ty().inner_named_type())
    }

    fn type_allowed(&mut self, type_name: &Name) -> bool {
        if let Some(known) = self.types.get(type_name) {
            return *known;
        }
        let supergraph = self.supergraph;
        let own = |name: &str| {
            supergraph
                .type_access(name)
                .is_none_or(|access| self.rights.satisfy(access))
        };
        let allowed = own(type_name)
            && (!supergraph.is_abstract(type_name)
                || possible_types(&supergraph.schema, type_name)
                    .iter()
                    .all(|object| own(object)));
        self.types.insert(type_name.clone(), allowed);
        allowed
    }
}

fn push_capped(paths: &mut Vec<Vec<String>>, path: Vec<String>) {
    if paths.len() < MAX_REPORTED_PATHS {
        paths.push(path);
    }
}

fn with_selection_set(field: &Node<Field>, set: SelectionSet) -> Node<Field> {
    let mut field = field.clone();
    field.make_mut().selection_set = set;
    field
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::SubgraphSdl;

    const SDL: &str = r#"
        extend schema @link(url: "https://specs.apollo.dev/federation/v2.9",
            import: ["@key", "@authenticated", "@requiresScopes"])
        type Query { me: User users: [User!]! }
        type Subscription { secrets: String @authenticated ticks: Int }
        type User @key(fields: "id") {
          id: ID!
          email: String @requiresScopes(scopes: [["read:email"]])
          name: String
        }
    "#;

    fn supergraph() -> Supergraph {
        let sdl = crate::compose::compose(&[SubgraphSdl {
            name: "accounts".into(),
            url: Some("http://accounts/graphql".into()),
            sdl: SDL.into(),
            ..SubgraphSdl::default()
        }])
        .expect("composes");
        Supergraph::parse(&sdl).expect("parses")
    }

    fn run(supergraph: &Supergraph, query: &str, rights: &Rights) -> Filtered {
        let document =
            ExecutableDocument::parse_and_validate(&supergraph.api_schema, query, "q.graphql")
                .expect("valid");
        let operation = document
            .operations
            .get(None)
            .expect("one operation")
            .clone();
        filter(supergraph, &document, &operation, rights)
    }

    fn changed(filtered: Filtered) -> FilteredOperation {
        match filtered {
            Filtered::Changed(filtered) => *filtered,
            Filtered::Unchanged => panic!("nothing was filtered"),
        }
    }

    #[test]
    fn a_fragment_left_empty_is_dropped_from_the_plan_and_its_parent_keeps_typename() {
        let supergraph = supergraph();
        let filtered = changed(run(
            &supergraph,
            "{ users { ...Contact } } fragment Contact on User { email }",
            &Rights::default(),
        ));
        let plan = filtered.plan_document.serialize().no_indent().to_string();
        assert!(!plan.contains("Contact"), "{plan}");
        assert!(plan.contains("users { __typename }"), "{plan}");
        let shape = filtered.shape_document.serialize().no_indent().to_string();
        assert!(shape.contains("email @seam__unauthorized"), "{shape}");
        assert_eq!(
            filtered.removed,
            vec![vec!["users".to_string(), "email".into()]]
        );
        // With the scope nothing is filtered.
        let reader = Rights {
            authenticated: true,
            scopes: vec!["read:email".into()],
            policies: Vec::new(),
        };
        assert!(matches!(
            run(
                &supergraph,
                "{ users { ...Contact } } fragment Contact on User { email }",
                &reader
            ),
            Filtered::Unchanged
        ));
    }

    #[test]
    fn a_subscription_whose_root_field_is_withheld_is_flagged() {
        let supergraph = supergraph();
        let filtered = changed(run(
            &supergraph,
            "subscription { secrets }",
            &Rights::default(),
        ));
        assert!(filtered.subscription_root_removed);
        assert_eq!(filtered.rejection()[0].code(), Some(UNAUTHORIZED_CODE));
        assert!(matches!(
            run(&supergraph, "subscription { ticks }", &Rights::default()),
            Filtered::Unchanged
        ));
    }

    #[test]
    fn a_fragment_only_another_operation_spreads_changes_nothing() {
        let supergraph = supergraph();
        let document = ExecutableDocument::parse_and_validate(
            &supergraph.api_schema,
            "query Names { users { name } } query Mails { users { ...Contact } }
             fragment Contact on User { email }",
            "q.graphql",
        )
        .expect("valid");
        let names = document
            .operations
            .get(Some("Names"))
            .expect("Names")
            .clone();
        assert!(matches!(
            filter(&supergraph, &document, &names, &Rights::default()),
            Filtered::Unchanged
        ));
        let mails = document
            .operations
            .get(Some("Mails"))
            .expect("Mails")
            .clone();
        assert!(matches!(
            filter(&supergraph, &document, &mails, &Rights::default()),
            Filtered::Changed(_)
        ));
    }

    #[test]
    fn refusals_report_a_bounded_number_of_paths() {
        let supergraph = supergraph();
        let aliases: String = (0..500).map(|i| format!("e{i}: email ")).collect();
        let filtered = changed(run(
            &supergraph,
            &format!("{{ users {{ {aliases} }} }}"),
            &Rights::default(),
        ));
        assert_eq!(filtered.removed.len(), MAX_REPORTED_PATHS);
    }
}

//! Arranging fetch groups into a plan tree: each group after the ones it depends on, independent
//! ones in parallel, mutation root fields in order, variable conditions as `Condition` nodes; and
//! each group's subgraph operation text.

use super::*;

impl Builder<'_> {
    /// Arranges the groups into a plan: each group after the ones it depends on, independent ones
    /// in parallel, and entity groups to one subgraph that can start together as one batch.
    pub(super) fn arrange(&self, kind: OperationKind, operation: &Operation) -> Option<PlanNode> {
        let fetches: Vec<FetchNode> = (0..self.groups.len())
            .map(|i| self.fetch_node(i, kind, operation))
            .collect();
        let units = self.batch_units(kind, &fetches);
        let mut unit_of = vec![0; self.groups.len()];
        for (u, members) in units.iter().enumerate() {
            for &g in members {
                unit_of[g] = u;
            }
        }
        let mut unit_deps: Vec<Vec<usize>> = units
            .iter()
            .enumerate()
            .map(|(u, members)| {
                let mut deps: Vec<usize> = members
                    .iter()
                    .flat_map(|&g| self.groups[g].deps.iter().map(|&d| unit_of[d]))
                    .filter(|&d| d != u)
                    .collect();
                deps.sort_unstable();
                deps.dedup();
                deps
            })
            .collect();
        let mut fetches: Vec<Option<FetchNode>> = fetches.into_iter().map(Some).collect();
        let nodes: Vec<PlanNode> = units
            .iter()
            .map(|members| {
                let mut members: Vec<FetchNode> =
                    members.iter().filter_map(|&g| fetches[g].take()).collect();
                match members.len() {
                    1 => PlanNode::Fetch(Box::new(members.remove(0))),
                    _ => PlanNode::Batch(Box::new(super::batch::batch_fetch(
                        self.supergraph,
                        members,
                        operation,
                    ))),
                }
            })
            .collect();
        // A dependency also reached through another one adds no ordering; without it more plans
        // are trees, where each fetch starts as soon as its own parent is done.
        let reduced: Vec<Vec<usize>> = unit_deps
            .iter()
            .map(|direct| {
                direct
                    .iter()
                    .copied()
                    .filter(|&d| !direct.iter().any(|&o| o != d && reaches(&unit_deps, o, d)))
                    .collect()
            })
            .collect();
        unit_deps = reduced;
        let conditions = |u: usize| &self.groups[units[u][0]].conditions;
        let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
        for (u, deps) in unit_deps.iter().enumerate() {
            for d in deps {
                children.entry(*d).or_default().push(u);
            }
        }
        let roots: Vec<usize> = (0..units.len())
            .filter(|&u| unit_deps[u].is_empty())
            .collect();
        let tree_shaped = unit_deps.iter().all(|d| d.len() <= 1);
        let arranged = Arranged {
            nodes: &nodes,
            children: &children,
            conditions: &conditions,
        };
        let segment = |members: &[usize]| -> Option<PlanNode> {
            if tree_shaped {
                let nodes: Vec<PlanNode> = members
                    .iter()
                    .filter(|&&u| unit_deps[u].is_empty())
                    .map(|&u| arranged.tree_node(u, &[]))
                    .collect();
                parallel(nodes)
            } else {
                // Merged groups may wait for groups created after them, so levels are computed
                // by walking dependencies rather than in creation order. The units of a batch
                // share a level.
                let mut level: HashMap<usize, usize> = HashMap::new();
                let unit_level: Vec<(usize, usize)> = members
                    .iter()
                    .map(|&u| (u, self.level_of(units[u][0], &mut level)))
                    .collect();
                let depth = unit_level.iter().map(|&(_, l)| l + 1).max().unwrap_or(0);
                let steps: Vec<PlanNode> = (0..depth)
                    .filter_map(|l| {
                        parallel(
                            unit_level
                                .iter()
                                .filter(|&&(_, at)| at == l)
                                .map(|&(u, _)| {
                                    with_conditions(conditions(u), &[], nodes[u].clone())
                                })
                                .collect(),
                        )
                    })
                    .collect();
                sequence(steps)
            }
        };
        match kind {
            OperationKind::Mutation => {
                let mut steps = Vec::new();
                for &root in &roots {
                    let mut members = vec![root];
                    let mut k = 0;
                    while k < members.len() {
                        for c in children.get(&members[k]).into_iter().flatten() {
                            if !members.contains(c) {
                                members.push(*c);
                            }
                        }
                        k += 1;
                    }
                    members.sort_unstable();
                    steps.extend(segment(&members));
                }
                sequence(steps)
            }
            _ => {
                let all: Vec<usize> = (0..units.len()).collect();
                segment(&all)
            }
        }
    }

    /// One more than the deepest group `index` waits for; 0 for groups that wait for none.
    pub(super) fn level_of(&self, index: usize, memo: &mut HashMap<usize, usize>) -> usize {
        if let Some(&l) = memo.get(&index) {
            return l;
        }
        let l = self.groups[index]
            .deps
            .iter()
            .map(|&d| self.level_of(d, memo) + 1)
            .max()
            .unwrap_or(0);
        memo.insert(index, l);
        l
    }

    fn fetch_node(&self, index: usize, kind: OperationKind, operation: &Operation) -> FetchNode {
        let group = &self.groups[index];
        let subgraph = self.supergraph.subgraph(group.subgraph);
        let mut text = String::new();
        let mut variables = Vec::new();
        match &group.entity_types {
            None => {
                let mut selection = group.root_selection.clone();
                let renames = crate::plan::alias_apart::alias_apart(
                    self.supergraph,
                    group.subgraph,
                    operation.object_type(),
                    &mut selection,
                );
                selection.variables(&mut variables);
                let directives =
                    operation_directives(self.supergraph, operation, false, &mut variables);
                let keyword = if kind == OperationKind::Mutation {
                    "mutation"
                } else {
                    "query"
                };
                text.push_str(keyword);
                write_variable_definitions(operation, &variables, false, &mut text);
                text.push_str(&directives);
                selection.write_compact(&mut text);
                FetchNode {
                    subgraph: group.subgraph,
                    service_name: subgraph.name.clone(),
                    merge_path: Vec::new(),
                    operation: text,
                    variable_usages: variables,
                    root_keys: selection.top_level_keys(),
                    selection,
                    entity: None,
                    renames,
                }
            }
            Some(types) => {
                let mut selection = SelectionSet::default();
                let mut entity_types = Vec::new();
                for entry in types {
                    let non_null_nested = super::required::non_null_nested(
                        self.supergraph,
                        group.subgraph,
                        &entry.name,
                        &entry.representation,
                    );
                    entity_types.push(EntityType {
                        name: entry.name.clone(),
                        object_types: entry.object_types.clone(),
                        representation: entry.representation.clone(),
                        key_fields: entry.key_fields.clone(),
                        non_null_nested,
                        error_key: entry.fields.top_level_keys().into_iter().next(),
                    });
                    selection.add_fragment(Fragment {
                        type_condition: Some(entry.name.clone()),
                        directives: DirectiveList::new(),
                        selections: entry.fields.clone(),
                    });
                }
                let renames = crate::plan::alias_apart::alias_apart(
                    self.supergraph,
                    group.subgraph,
                    &Name::new_static_unchecked("_Entity"),
                    &mut selection,
                );
                selection.variables(&mut variables);
                // Context variables are the gateway's own, not the client's.
                variables.retain(|v| !group.contexts.iter().any(|c| &c.name == v));
                // Stitching: a plain service's entities go through its lookup fields, which
                // carry no operation directives, so declare none of their variables.
                let lookup = crate::plan::lookup::lookup_types(
                    self.supergraph,
                    group.subgraph,
                    types.iter().map(|entry| (&entry.name, &entry.fields)),
                )
                .map(|types| {
                    let mut definitions = String::new();
                    write_variable_definitions(operation, &variables, false, &mut definitions);
                    crate::plan::lookup::fetch(types, &definitions)
                });
                let directives =
                    operation_directives(self.supergraph, operation, true, &mut variables);
                text.push_str("query");
                write_variable_definitions(operation, &variables, true, &mut text);
                if !group.contexts.is_empty() {
                    text.pop(); // the `)` of the definitions, which go on
                    for context in &group.contexts {
                        text.push_str(&format!(",${}:{}", context.name, context.ty));
                    }
                    text.push(')');
                }
                text.push_str(&directives);
                text.push_str("{_entities(representations:$representations)");
                selection.write_compact(&mut text);
                text.push('}');
                FetchNode {
                    subgraph: group.subgraph,
                    service_name: subgraph.name.clone(),
                    merge_path: group.merge_path.clone(),
                    operation: text,
                    variable_usages: variables,
                    selection,
                    entity: Some(EntityFetch {
                        types: entity_types,
                        lookup,
                        contexts: group.contexts.clone(),
                    }),
                    root_keys: Vec::new(),
                    renames,
                }
            }
        }
    }
}

/// The plan's units as they are placed in a tree: each after its one dependency.
struct Arranged<'a, C: Fn(usize) -> &'a Conditions> {
    nodes: &'a [PlanNode],
    children: &'a HashMap<usize, Vec<usize>>,
    conditions: &'a C,
}

impl<'a, C: Fn(usize) -> &'a Conditions> Arranged<'a, C> {
    fn tree_node(&self, unit: usize, outer_conditions: &[(Name, bool)]) -> PlanNode {
        let conditions = (self.conditions)(unit);
        let kids: Vec<PlanNode> = self
            .children
            .get(&unit)
            .into_iter()
            .flatten()
            .map(|&c| self.tree_node(c, conditions))
            .collect();
        let fetch = self.nodes[unit].clone();
        let node = match parallel(kids) {
            // A lone sequence after the fetch continues this one rather than nesting in it.
            Some(PlanNode::Sequence(mut rest)) => {
                rest.insert(0, fetch);
                PlanNode::Sequence(rest)
            }
            Some(after) => PlanNode::Sequence(vec![fetch, after]),
            None => fetch,
        };
        with_conditions(conditions, outer_conditions, node)
    }
}

/// Whether unit `a` waits for unit `b`, directly or through others.
fn reaches(deps: &[Vec<usize>], a: usize, b: usize) -> bool {
    let mut stack = vec![a];
    let mut seen = vec![false; deps.len()];
    while let Some(u) = stack.pop() {
        for &d in &deps[u] {
            if d == b {
                return true;
            }
            if !seen[d] {
                seen[d] = true;
                stack.push(d);
            }
        }
    }
    false
}

/// The client's directives on the operation (`query @cached(ttl: 60)`) as fetch text, which every
/// fetch of the operation carries; the variables they use are added to the fetch's. An entity
/// fetch (`entity`) is a `query` whatever the operation is, so it carries only those a query may
/// have: `mutation @audit` with `@audit on MUTATION` would make the subgraph refuse the fetch.
pub(super) fn operation_directives(
    supergraph: &Supergraph,
    operation: &Operation,
    entity: bool,
    variables: &mut Vec<Name>,
) -> String {
    let mut text = String::new();
    if operation.directives.is_empty() {
        return text;
    }
    let allowed = |directive: &Node<apollo_compiler::ast::Directive>| {
        !entity
            || supergraph
                .api_schema
                .directive_definitions
                .get(&directive.name)
                .is_some_and(|definition| {
                    definition
                        .locations
                        .contains(&apollo_compiler::ast::DirectiveLocation::Query)
                })
    };
    let directives = DirectiveList(
        operation
            .directives
            .iter()
            .filter(|d| allowed(d))
            .cloned()
            .collect(),
    );
    crate::plan::selection::directive_variables(&directives, variables);
    crate::plan::selection::write_directives(&directives, &mut text);
    text
}

pub(super) fn write_variable_definitions(
    operation: &Operation,
    used: &[Name],
    entities: bool,
    out: &mut String,
) {
    if used.is_empty() && !entities {
        return;
    }
    out.push('(');
    let mut first = true;
    if entities {
        out.push_str("$representations:[_Any!]!");
        first = false;
    }
    for name in used {
        if let Some(def) = operation.variables.iter().find(|v| &v.name == name) {
            if !first {
                out.push(',');
            }
            first = false;
            out.push('$');
            out.push_str(name);
            out.push(':');
            out.push_str(&def.ty.to_string());
            // Kept so the subgraph validates the operation as the client wrote it: a nullable
            // variable with a default may stand where a non-null value is expected.
            if let Some(default) = &def.default_value {
                out.push('=');
                out.push_str(&default.to_string());
            }
        }
    }
    out.push(')');
}

fn parallel(mut nodes: Vec<PlanNode>) -> Option<PlanNode> {
    match nodes.len() {
        0 => None,
        1 => nodes.pop(),
        _ => Some(PlanNode::Parallel(nodes)),
    }
}

/// A sequence of steps; a step that is itself a sequence is spliced in, since order is all it adds.
fn sequence(steps: Vec<PlanNode>) -> Option<PlanNode> {
    let mut nodes = Vec::with_capacity(steps.len());
    for step in steps {
        match step {
            PlanNode::Sequence(inner) => nodes.extend(inner),
            other => nodes.push(other),
        }
    }
    match nodes.len() {
        0 => None,
        1 => nodes.pop(),
        _ => Some(PlanNode::Sequence(nodes)),
    }
}

fn with_conditions(
    conditions: &[(Name, bool)],
    already: &[(Name, bool)],
    node: PlanNode,
) -> PlanNode {
    conditions
        .iter()
        .rev()
        .filter(|c| !already.contains(c))
        .fold(node, |node, (variable, value)| {
            let node = Some(Box::new(node));
            if *value {
                PlanNode::Condition {
                    variable: variable.clone(),
                    if_true: node,
                    if_false: None,
                }
            } else {
                PlanNode::Condition {
                    variable: variable.clone(),
                    if_true: None,
                    if_false: node,
                }
            }
        })
}

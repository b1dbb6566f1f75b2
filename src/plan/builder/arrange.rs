//! Arranging fetch groups into a plan tree: each group after the ones it depends on, independent
//! ones in parallel, mutation root fields in order, variable conditions as `Condition` nodes; and
//! each group's subgraph operation text.

use super::*;

impl Builder<'_> {
    /// Arranges the groups into a plan: each group after the ones it depends on, independent ones in parallel.
    pub(super) fn arrange(&self, kind: OperationKind, operation: &Operation) -> Option<PlanNode> {
        let fetches: Vec<FetchNode> = (0..self.groups.len())
            .map(|i| self.fetch_node(i, kind, operation))
            .collect();
        // A dependency also reached through another one adds no ordering; without it more plans
        // are trees, where each fetch starts as soon as its own parent is done.
        let deps: Vec<Vec<usize>> = (0..self.groups.len())
            .map(|i| {
                let direct = &self.groups[i].deps;
                direct
                    .iter()
                    .copied()
                    .filter(|&d| !direct.iter().any(|&o| o != d && self.depends_on(o, d)))
                    .collect()
            })
            .collect();
        let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
        for (i, group_deps) in deps.iter().enumerate() {
            for d in group_deps {
                children.entry(*d).or_default().push(i);
            }
        }
        let roots: Vec<usize> = (0..self.groups.len())
            .filter(|&i| deps[i].is_empty())
            .collect();
        let tree_shaped = deps.iter().all(|d| d.len() <= 1);
        let segment = |members: &[usize]| -> Option<PlanNode> {
            if tree_shaped {
                let nodes: Vec<PlanNode> = members
                    .iter()
                    .filter(|&&i| deps[i].is_empty())
                    .map(|&i| self.tree_node(i, &fetches, &children, &[]))
                    .collect();
                parallel(nodes)
            } else {
                // Merged groups may wait for groups created after them, so levels are computed
                // by walking dependencies rather than in creation order.
                let mut level: HashMap<usize, usize> = HashMap::new();
                for &i in members {
                    self.level_of(i, &mut level);
                }
                let depth = level.values().copied().max().map_or(0, |m| m + 1);
                let steps: Vec<PlanNode> = (0..depth)
                    .filter_map(|l| {
                        parallel(
                            members
                                .iter()
                                .filter(|i| level.get(i) == Some(&l))
                                .map(|&i| {
                                    with_conditions(
                                        &self.groups[i].conditions,
                                        &[],
                                        PlanNode::Fetch(Box::new(fetches[i].clone())),
                                    )
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
                let all: Vec<usize> = (0..self.groups.len()).collect();
                segment(&all)
            }
        }
    }

    /// One more than the deepest group `index` waits for; 0 for groups that wait for none.
    fn level_of(&self, index: usize, memo: &mut HashMap<usize, usize>) -> usize {
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

    fn tree_node(
        &self,
        index: usize,
        fetches: &[FetchNode],
        children: &HashMap<usize, Vec<usize>>,
        outer_conditions: &[(Name, bool)],
    ) -> PlanNode {
        let group = &self.groups[index];
        let kids: Vec<PlanNode> = children
            .get(&index)
            .into_iter()
            .flatten()
            .map(|&c| self.tree_node(c, fetches, children, &group.conditions))
            .collect();
        let fetch = PlanNode::Fetch(Box::new(fetches[index].clone()));
        let node = match parallel(kids) {
            // A lone sequence after the fetch continues this one rather than nesting in it.
            Some(PlanNode::Sequence(mut rest)) => {
                rest.insert(0, fetch);
                PlanNode::Sequence(rest)
            }
            Some(after) => PlanNode::Sequence(vec![fetch, after]),
            None => fetch,
        };
        with_conditions(&group.conditions, outer_conditions, node)
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
                let keyword = if kind == OperationKind::Mutation {
                    "mutation"
                } else {
                    "query"
                };
                text.push_str(keyword);
                write_variable_definitions(operation, &variables, false, &mut text);
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
                    entity_types.push(EntityType {
                        name: entry.name.clone(),
                        object_types: entry.object_types.clone(),
                        representation: entry.representation.clone(),
                        key_fields: entry.key_fields.clone(),
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
                // Stitching: a plain service's entities go through its lookup fields.
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
                text.push_str("query");
                write_variable_definitions(operation, &variables, true, &mut text);
                if !group.contexts.is_empty() {
                    text.pop(); // the `)` of the definitions, which go on
                    for context in &group.contexts {
                        text.push_str(&format!(",${}:{}", context.name, context.ty));
                    }
                    text.push(')');
                }
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

fn write_variable_definitions(
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

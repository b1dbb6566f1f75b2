//! Human-readable plans, in the shape Apollo's tools print them, for `seam plan` and snapshots.

use std::fmt;

use super::selection::push_indent;
use super::{PathElement, PlanNode, QueryPlan};

impl fmt::Display for QueryPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::from("QueryPlan {\n");
        if let Some(root) = &self.root {
            write_node(root, 1, &mut out);
        }
        out.push_str("}\n");
        f.write_str(&out)
    }
}

pub fn path_string(path: &[PathElement]) -> String {
    path.iter()
        .map(|p| match p {
            PathElement::Key(k) => k.as_str(),
            PathElement::List => "@",
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn write_node(node: &PlanNode, indent: usize, out: &mut String) {
    push_indent(indent, out);
    match node {
        PlanNode::Fetch(fetch) => {
            let flatten = !fetch.merge_path.is_empty();
            let indent = if flatten {
                out.push_str(&format!(
                    "Flatten(path: \"{}\") {{\n",
                    path_string(&fetch.merge_path)
                ));
                push_indent(indent + 1, out);
                indent + 1
            } else {
                indent
            };
            // A plain service's entities are looked up through its own root fields (stitching).
            let lookups: Vec<&str> = fetch
                .entity
                .as_ref()
                .and_then(|e| e.lookup.as_ref())
                .map(|l| {
                    l.types
                        .iter()
                        .map(|t| t.lookup.query_field.as_str())
                        .collect()
                })
                .unwrap_or_default();
            if lookups.is_empty() {
                out.push_str(&format!("Fetch(service: \"{}\") {{\n", fetch.service_name));
            } else {
                out.push_str(&format!(
                    "Fetch(service: \"{}\", lookup: {}) {{\n",
                    fetch.service_name,
                    lookups.join(", ")
                ));
            }
            if let Some(entity) = &fetch.entity {
                push_indent(indent + 1, out);
                out.push_str("{\n");
                for ty in &entity.types {
                    push_indent(indent + 2, out);
                    out.push_str(&format!("... on {} ", ty.name));
                    ty.representation.write_pretty(indent + 2, out);
                    out.push('\n');
                }
                // Context values, each read from the nearest ancestor that sets it.
                for context in &entity.contexts {
                    for source in &context.sources {
                        push_indent(indent + 2, out);
                        let ancestor = path_string(&fetch.merge_path[..source.depth]);
                        let mut selection = String::new();
                        source.selection.write_compact(&mut selection);
                        out.push_str(&format!(
                            "${} <- \"{ancestor}\" ... on {} {selection}\n",
                            context.name,
                            source
                                .types
                                .iter()
                                .map(|t| t.as_str())
                                .collect::<Vec<_>>()
                                .join(" | "),
                        ));
                    }
                }
                push_indent(indent + 1, out);
                out.push_str("} =>\n");
            }
            push_indent(indent + 1, out);
            fetch.selection.write_pretty(indent + 1, out);
            out.push('\n');
            push_indent(indent, out);
            out.push_str("},\n");
            if flatten {
                push_indent(indent - 1, out);
                out.push_str("},\n");
            }
        }
        PlanNode::Sequence(nodes) | PlanNode::Parallel(nodes) => {
            out.push_str(if matches!(node, PlanNode::Sequence(_)) {
                "Sequence {\n"
            } else {
                "Parallel {\n"
            });
            for n in nodes {
                write_node(n, indent + 1, out);
            }
            push_indent(indent, out);
            out.push_str("},\n");
        }
        PlanNode::Condition {
            variable,
            if_true,
            if_false,
        } => {
            out.push_str(&format!("Condition(if: ${variable}) {{\n"));
            if let Some(n) = if_true {
                push_indent(indent + 1, out);
                out.push_str("Then {\n");
                write_node(n, indent + 2, out);
                push_indent(indent + 1, out);
                out.push_str("},\n");
            }
            if let Some(n) = if_false {
                push_indent(indent + 1, out);
                out.push_str("Else {\n");
                write_node(n, indent + 2, out);
                push_indent(indent + 1, out);
                out.push_str("},\n");
            }
            push_indent(indent, out);
            out.push_str("},\n");
        }
    }
}

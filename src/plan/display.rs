//! Human-readable plans, in the shape Apollo's tools print them, for `seam plan` and snapshots.

use std::fmt;

use super::selection::push_indent;
use super::{BatchFetch, FetchNode, PathElement, PlanNode, QueryPlan};

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
        PlanNode::Fetch(fetch) => write_fetch(fetch, indent, out),
        PlanNode::Batch(batch) => write_batch(batch, indent, out),
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

/// A fetch, under a `Flatten` that names its merge path when it has one. The caller has written
/// the indent of the first line.
fn write_fetch(fetch: &FetchNode, indent: usize, out: &mut String) {
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
    write_body(std::slice::from_ref(fetch), indent, out);
    push_indent(indent, out);
    out.push_str("},\n");
    if flatten {
        push_indent(indent - 1, out);
        out.push_str("},\n");
    }
}

/// A batch: one request whose `_entities` fields are listed by response key, each with the merge
/// paths of the fetches that share its representations and the selection they ask for.
fn write_batch(batch: &BatchFetch, indent: usize, out: &mut String) {
    out.push_str(&format!(
        "BatchFetch(service: \"{}\") {{\n",
        batch.service_name
    ));
    for (i, entry) in batch.entries.iter().enumerate() {
        push_indent(indent + 1, out);
        out.push_str(&format!("{}: ", batch.entry_key(i)));
        let paths: Vec<String> = entry
            .iter()
            .map(|f| format!("\"{}\"", path_string(&f.merge_path)))
            .collect();
        out.push_str("Flatten(paths: [\n");
        for path in &paths {
            push_indent(indent + 2, out);
            out.push_str(path);
            out.push_str(",\n");
        }
        push_indent(indent + 1, out);
        out.push_str("]) {\n");
        write_body(entry, indent + 1, out);
        push_indent(indent + 1, out);
        out.push_str("},\n");
    }
    push_indent(indent, out);
    out.push_str("},\n");
}

/// What a fetch (or the fetches of one batch entry, which ask for the same) sends and selects,
/// inside its braces: the representations, then the selection.
fn write_body(fetches: &[FetchNode], indent: usize, out: &mut String) {
    let Some(fetch) = fetches.first() else {
        return;
    };
    if let Some(entity) = &fetch.entity {
        push_indent(indent + 1, out);
        out.push_str("{\n");
        // Fetches that share representations may reach their entities through different keys.
        let mut lines: Vec<String> = Vec::new();
        for ty in fetches
            .iter()
            .filter_map(|f| f.entity.as_ref())
            .flat_map(|e| &e.types)
        {
            let mut line = String::new();
            push_indent(indent + 2, &mut line);
            line.push_str(&format!("... on {} ", ty.name));
            ty.representation.write_pretty(indent + 2, &mut line);
            line.push('\n');
            if !lines.contains(&line) {
                lines.push(line);
            }
        }
        lines.iter().for_each(|line| out.push_str(line));
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
}

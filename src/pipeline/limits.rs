//! Limits: structural bounds on the operation, checked on the syntax tree before validation and
//! planning see it, so that a document built to be expensive costs no more than its own size.
//!
//! Every measure counts fragments as if they were expanded, but each fragment is measured once,
//! so a fragment spread twice per level for thirty levels is refused at once, never expanded.

use std::collections::HashMap;

use apollo_compiler::ast::{Definition, Document, FragmentDefinition, Selection};
use apollo_compiler::Name;

use crate::response::GraphqlError;

/// Refuses an operation nested deeper than `max_depth` fields.
pub(super) fn check_depth(
    document: &Document,
    operation_name: Option<&str>,
    max_depth: usize,
) -> Result<(), Vec<GraphqlError>> {
    let mut operations = document.definitions.iter().filter_map(|d| match d {
        Definition::OperationDefinition(op) => Some(op),
        _ => None,
    });
    let operation = match operation_name {
        Some(name) => operations.find(|op| op.name.as_deref() == Some(name)),
        None => {
            let first = operations.next();
            // With several operations and no name, validation reports the ambiguity.
            first.filter(|_| operations.next().is_none())
        }
    };
    let Some(operation) = operation else {
        return Ok(());
    };
    let fragments: HashMap<&Name, &FragmentDefinition> = document
        .definitions
        .iter()
        .filter_map(|d| match d {
            Definition::FragmentDefinition(f) => Some((&f.name, &**f)),
            _ => None,
        })
        .collect();
    let mut measure = Depth {
        fragments,
        memo: HashMap::new(),
    };
    let depth = measure.of(&operation.selection_set);
    if depth > max_depth {
        return Err(vec![GraphqlError::new(
            format!("the operation is nested {depth} levels deep; the limit is {max_depth}"),
            "MAX_DEPTH_LIMIT",
        )]);
    }
    Ok(())
}

struct Depth<'a> {
    fragments: HashMap<&'a Name, &'a FragmentDefinition>,
    /// `None` while a fragment is being measured: a spread of it then is a cycle, which
    /// validation refuses; here it counts as nothing so the walk ends.
    memo: HashMap<&'a Name, Option<usize>>,
}

impl<'a> Depth<'a> {
    fn of(&mut self, selections: &'a [Selection]) -> usize {
        let mut deepest = 0;
        for selection in selections {
            let depth = match selection {
                Selection::Field(field) => 1 + self.of(&field.selection_set),
                Selection::InlineFragment(fragment) => self.of(&fragment.selection_set),
                Selection::FragmentSpread(spread) => self.fragment(&spread.fragment_name),
            };
            deepest = deepest.max(depth);
        }
        deepest
    }

    fn fragment(&mut self, name: &'a Name) -> usize {
        if let Some(known) = self.memo.get(name) {
            return known.unwrap_or(0);
        }
        let Some(fragment) = self.fragments.get(name).copied() else {
            return 0;
        };
        self.memo.insert(name, None);
        let depth = self.of(&fragment.selection_set);
        self.memo.insert(name, Some(depth));
        depth
    }
}

//! `@skip`/`@include` while planning: literal conditions are settled here (a selection they
//! exclude is dropped), and variable ones travel with the fetch groups they guard.

use apollo_compiler::ast::{Directive, DirectiveList, Value};
use apollo_compiler::{Name, Node};

use super::Conditions;
use crate::plan::selection::conditional_directives;

/// `None` when a literal `@skip(if: true)`/`@include(if: false)` removes the selection.
pub(super) fn conditions_of(
    directives: &DirectiveList,
    inherited: &[(Name, bool)],
) -> Option<Conditions> {
    let mut out = inherited.to_vec();
    for d in conditional_directives(directives) {
        let wanted = d.name == "include";
        match d.specified_argument_by_name("if").map(|v| &**v) {
            Some(Value::Boolean(b)) if *b != wanted => return None,
            Some(Value::Variable(v)) => {
                let cond = (v.clone(), wanted);
                if !out.contains(&cond) {
                    out.push(cond);
                }
            }
            _ => {}
        }
    }
    Some(out)
}

/// The `@skip`/`@include` whose `if` is a variable. Literal ones are settled while collecting: a
/// selection they exclude is dropped, and one they include needs no directive in any fetch.
pub(super) fn variable_conditions(
    directives: &DirectiveList,
) -> impl Iterator<Item = &Node<Directive>> {
    conditional_directives(directives).filter(|d| {
        matches!(
            d.specified_argument_by_name("if").map(|v| &**v),
            Some(Value::Variable(_))
        )
    })
}

/// The directives of a selection other than `@skip`/`@include`: executable directives every
/// subgraph defines, which the subgraph resolving the field applies.
pub(super) fn client_directives(
    directives: &DirectiveList,
) -> impl Iterator<Item = &Node<Directive>> {
    directives
        .iter()
        .filter(|d| d.name != "skip" && d.name != "include")
}

/// Whether a literal `@skip(if: true)`/`@include(if: false)` removes the selection.
pub(super) fn statically_excluded(directives: &DirectiveList) -> bool {
    conditional_directives(directives).any(|d| {
        let wanted = d.name == "include";
        matches!(d.specified_argument_by_name("if").map(|v| &**v), Some(Value::Boolean(b)) if *b != wanted)
    })
}

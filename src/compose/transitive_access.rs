//! A field that reads other fields to resolve — through `@requires`, or an argument
//! `@fromContext` — hands their values to its subgraph, which can pass them on in its answer.
//! So it must ask at least what they ask (`@authenticated`, `@requiresScopes`, `@policy`), or a
//! client without rights reads a protected value through it (Apollo:
//! `MISSING_TRANSITIVE_AUTH_REQUIREMENTS`).
//!
//! Requirements are read from the merged supergraph, after they have spread to interfaces: a
//! selected field's own, its parent type's and its return type's. A field's requirements
//! satisfy another's when every way of meeting the first meets the second: each alternative of
//! its scopes (or policies) includes some alternative of the other's. `@requiresScopes` and
//! `@policy` also count as `@authenticated`, since neither can hold without a token.

use std::collections::HashMap;

use apollo_compiler::ast::{Directive, Selection};
use apollo_compiler::{Name, Node};

use super::access::{requirements, AUTHENTICATED, POLICY, REQUIRES_SCOPES};
use super::errors::{CompositionError, ErrorCode};
use super::fieldset::parse_selection_set;
use super::model::{SuperType, Supergraph};
use super::subgraph::Subgraph;

/// What one place asks of a request: `@authenticated`, and alternatives of scopes and policies
/// (each list one `@requiresScopes`/`@policy` application; all of them must hold).
#[derive(Default)]
struct Requirements {
    authenticated: bool,
    scopes: Vec<Vec<Vec<String>>>,
    policies: Vec<Vec<Vec<String>>>,
}

impl Requirements {
    fn add(&mut self, directives: &[Node<Directive>]) {
        for directive in directives {
            match directive.name.as_str() {
                AUTHENTICATED => self.authenticated = true,
                REQUIRES_SCOPES => self.scopes.push(requirements(directive, "scopes")),
                POLICY => self.policies.push(requirements(directive, "policies")),
                _ => {}
            }
        }
    }

    fn is_empty(&self) -> bool {
        !self.authenticated && self.scopes.is_empty() && self.policies.is_empty()
    }

    /// Whether meeting `self` always meets `needed`.
    fn satisfies(&self, needed: &Requirements) -> bool {
        let authenticated =
            self.authenticated || !self.scopes.is_empty() || !self.policies.is_empty();
        (!needed.authenticated || authenticated)
            && implies_all(&self.scopes, &needed.scopes)
            && implies_all(&self.policies, &needed.policies)
    }
}

/// Whether the conjunction `have` of alternatives implies each of `needed`.
fn implies_all(have: &[Vec<Vec<String>>], needed: &[Vec<Vec<String>>]) -> bool {
    needed.iter().all(|need| {
        // An empty list of alternatives asks nothing.
        need.is_empty()
            || have.iter().any(|alternatives| {
                !alternatives.is_empty()
                    && alternatives.iter().all(|held| {
                        need.iter()
                            .any(|option| option.iter().all(|item| held.contains(item)))
                    })
            })
    })
}

pub(super) fn check(
    supergraph: &Supergraph,
    subgraphs: &[Subgraph],
    errors: &mut Vec<CompositionError>,
) {
    let types = supergraph.types_by_name();
    let requirements_of = |type_name: &Name, field: &Name| {
        let mut have = Requirements::default();
        if let Some(ty) = types.get(type_name) {
            have.add(&ty.directives);
            if let Some(field) = ty.fields.get(field) {
                have.add(&field.directives);
            }
        }
        have
    };
    for subgraph in subgraphs {
        for (type_name, ty) in &subgraph.types {
            for (field_name, field) in &ty.fields {
                let mut reads: Vec<(&Name, &str, String)> = Vec::new();
                if let Some(requires) = &field.requires {
                    reads.push((type_name, requires.as_str(), "@requires".to_owned()));
                }
                for context_use in &field.context_arguments {
                    // `{ email }`, or type conditions: `... on User { email }`.
                    let inner = super::contexts::field_set_of(&context_use.selection);
                    let what = format!("@fromContext on argument \"{}\"", context_use.argument);
                    for (setter, setter_type) in &subgraph.types {
                        if setter_type.contexts.contains(&context_use.context) {
                            reads.push((setter, inner, what.clone()));
                        }
                    }
                }
                if reads.is_empty() {
                    continue;
                }
                let have = requirements_of(type_name, field_name);
                for (on, fields, what) in reads {
                    let Ok(selections) = parse_selection_set(fields) else {
                        // Field set errors are reported where field sets are checked.
                        continue;
                    };
                    let mut read = Vec::new();
                    collect(&types, on, &selections, &mut read);
                    for (owner, read_field) in read {
                        let mut needed = requirements_of(&owner, &read_field);
                        if let Some(ty) = types
                            .get(&owner)
                            .and_then(|t| t.fields.get(&read_field))
                            .and_then(|f| types.get(f.ty.inner_named_type()))
                        {
                            needed.add(&ty.directives);
                        }
                        if needed.is_empty() || have.satisfies(&needed) {
                            continue;
                        }
                        errors.push(CompositionError::new(
                            ErrorCode::MissingTransitiveAuthRequirements,
                            format!(
                                "[{}] Field \"{type_name}.{field_name}\" does not specify \
                                 necessary @authenticated, @requiresScopes and/or @policy auth \
                                 requirements to access the transitive field \
                                 \"{owner}.{read_field}\" data from its {what} selection",
                                subgraph.name
                            ),
                        ));
                    }
                }
            }
        }
    }
}

/// Every `(type, field)` the selections read from `on` down, through inline fragments.
fn collect(
    types: &HashMap<&Name, &SuperType>,
    on: &Name,
    selections: &[Selection],
    read: &mut Vec<(Name, Name)>,
) {
    for selection in selections {
        match selection {
            Selection::Field(field) => {
                if field.name.starts_with("__") {
                    continue;
                }
                read.push((on.clone(), field.name.clone()));
                let below = types
                    .get(on)
                    .and_then(|ty| ty.fields.get(&field.name))
                    .map(|f| f.ty.inner_named_type().clone());
                if let Some(below) = below {
                    collect(types, &below, &field.selection_set, read);
                }
            }
            Selection::InlineFragment(inline) => {
                let on = inline.type_condition.as_ref().unwrap_or(on);
                collect(types, on, &inline.selection_set, read);
            }
            Selection::FragmentSpread(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compose::access::dnf;

    fn scopes(applications: &[&[&[&str]]]) -> Requirements {
        Requirements {
            scopes: applications.iter().map(|a| dnf(a)).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn scopes_satisfy_what_every_alternative_covers() {
        let needed = scopes(&[&[&["read:email"], &["admin"]]]);
        assert!(scopes(&[&[&["admin"]]]).satisfies(&needed));
        assert!(scopes(&[&[&["read:email", "x"]]]).satisfies(&needed));
        assert!(scopes(&[&[&["admin"], &["read:email"]]]).satisfies(&needed));
        // One alternative (`x`) reaches the field without either scope.
        assert!(!scopes(&[&[&["admin"], &["x"]]]).satisfies(&needed));
        assert!(!Requirements::default().satisfies(&needed));
        // Two applications on the requiring side hold together.
        assert!(scopes(&[&[&["x"]], &[&["admin"]]]).satisfies(&needed));
    }

    #[test]
    fn authentication_is_implied_by_scopes_and_policies() {
        let needed = Requirements {
            authenticated: true,
            ..Default::default()
        };
        assert!(scopes(&[&[&["a"]]]).satisfies(&needed));
        assert!(!Requirements::default().satisfies(&needed));
        let policy = Requirements {
            policies: vec![dnf(&[&["p"]])],
            ..Default::default()
        };
        assert!(policy.satisfies(&needed));
        assert!(!scopes(&[&[&["a"]]]).satisfies(&policy));
    }
}

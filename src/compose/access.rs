//! The access-control directives `@authenticated`, `@requiresScopes` and `@policy`: kept in the
//! supergraph so the gateway can enforce them, under the links and definitions Apollo prints.
//!
//! A field or type several subgraphs mark gets every subgraph's requirement at once: the
//! scopes (or policies) are lists of alternatives, each a list of what must all hold, and
//! requiring two such lists together is their conjunction, put back into that form the way
//! Apollo's composition does it (`DNF_CONJUNCTION`), so both print the same supergraph.

use std::collections::{HashMap, HashSet};

use apollo_compiler::ast::{Argument, Directive, Value};
use apollo_compiler::{Name, Node};

use super::merge::merge_directives;
use super::model::SuperType;
use super::subgraph::{Subgraph, TypeKind};

pub(super) const AUTHENTICATED: &str = "authenticated";
pub(super) const REQUIRES_SCOPES: &str = "requiresScopes";
pub(super) const POLICY: &str = "policy";

/// Which of the three specs the supergraph links, because some subgraph applies its directive.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AccessSpecs {
    pub authenticated: bool,
    pub requires_scopes: bool,
    pub policy: bool,
}

impl AccessSpecs {
    /// The `@link`s, in the order Apollo prints them.
    pub fn links(self) -> Vec<&'static str> {
        let mut links = Vec::new();
        if self.authenticated {
            links.push(
                r#"@link(url: "https://specs.apollo.dev/authenticated/v0.1", for: SECURITY)"#,
            );
        }
        if self.requires_scopes {
            links.push(
                r#"@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)"#,
            );
        }
        if self.policy {
            links.push(r#"@link(url: "https://specs.apollo.dev/policy/v0.1", for: SECURITY)"#);
        }
        links
    }

    /// `(name, definition)` of each linked spec's directive.
    pub fn definitions(self) -> Vec<(String, String)> {
        const LOCATIONS: &str = "FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM";
        let mut definitions = Vec::new();
        if self.authenticated {
            definitions.push((
                AUTHENTICATED.to_string(),
                format!("directive @authenticated on {LOCATIONS}"),
            ));
        }
        if self.requires_scopes {
            definitions.push((
                REQUIRES_SCOPES.to_string(),
                format!(
                    "directive @requiresScopes(scopes: [[requiresScopes__Scope!]!]!) on {LOCATIONS}"
                ),
            ));
        }
        if self.policy {
            definitions.push((
                POLICY.to_string(),
                format!("directive @policy(policies: [[policy__Policy!]!]!) on {LOCATIONS}"),
            ));
        }
        definitions
    }

    /// The scalars the directives' arguments use.
    pub fn scalars(self) -> Vec<&'static str> {
        let mut scalars = Vec::new();
        if self.policy {
            scalars.push("scalar policy__Policy");
        }
        if self.requires_scopes {
            scalars.push("scalar requiresScopes__Scope");
        }
        scalars
    }
}

fn is_access_directive(directive: &Directive) -> bool {
    matches!(
        directive.name.as_str(),
        AUTHENTICATED | REQUIRES_SCOPES | POLICY
    )
}

/// Spreads requirements the way Apollo does, so that no way of selecting a value skips them:
/// down from an `@interfaceObject`'s fields to the implementations' fields (and their other
/// interfaces'), then up from object types and their fields to the interfaces they implement.
pub(super) fn propagate(types: &mut [SuperType], subgraphs: &[Subgraph]) {
    let index: HashMap<Name, usize> = types
        .iter()
        .enumerate()
        .map(|(position, ty)| (ty.name.clone(), position))
        .collect();
    let implementations = |interface: &Name| -> Vec<Name> {
        types
            .iter()
            .filter(|ty| ty.kind == TypeKind::Object && ty.interfaces.contains(interface))
            .map(|ty| ty.name.clone())
            .collect()
    };
    let interfaces_of = |object: &Name| -> Vec<Name> {
        index
            .get(object)
            .map(|position| types[*position].interfaces.clone())
            .unwrap_or_default()
    };

    // (type, field, directive): what to add where; `None` for the type itself.
    let mut downward: Vec<(Name, Option<Name>, Node<Directive>)> = Vec::new();
    let mut upward: Vec<(Name, Option<Name>, Node<Directive>)> = Vec::new();
    for ty in subgraphs
        .iter()
        .flat_map(|subgraph| subgraph.types.values())
    {
        if ty.kind != TypeKind::Object {
            continue;
        }
        if ty.interface_object {
            for field in ty.fields.values().filter(|field| !field.external) {
                for directive in field.directives.iter().filter(|d| is_access_directive(d)) {
                    for object in implementations(&ty.name) {
                        downward.push((
                            object.clone(),
                            Some(field.name.clone()),
                            directive.clone(),
                        ));
                        for other in interfaces_of(&object).into_iter().filter(|i| *i != ty.name) {
                            downward.push((other, Some(field.name.clone()), directive.clone()));
                        }
                    }
                }
            }
            continue;
        }
        let interfaces = interfaces_of(&ty.name);
        for directive in ty.directives.iter().filter(|d| is_access_directive(d)) {
            for interface in &interfaces {
                upward.push((interface.clone(), None, directive.clone()));
            }
        }
        for field in ty.fields.values().filter(|field| !field.external) {
            for directive in field.directives.iter().filter(|d| is_access_directive(d)) {
                for interface in &interfaces {
                    upward.push((
                        interface.clone(),
                        Some(field.name.clone()),
                        directive.clone(),
                    ));
                }
            }
        }
    }
    for (type_name, field, directive) in downward.into_iter().chain(upward) {
        let Some(ty) = index.get(&type_name).map(|position| &mut types[*position]) else {
            continue;
        };
        let directives = match &field {
            None => &mut ty.directives,
            Some(field) => match ty.fields.get_mut(field) {
                Some(field) => &mut field.directives,
                None => continue,
            },
        };
        merge_directives(directives, std::slice::from_ref(&directive));
    }
}

/// Combines `directive` into an application of the same directive already in `into`, for
/// `@requiresScopes` and `@policy`; returns whether it did (otherwise the caller adds it).
pub(super) fn merge_application(into: &mut [Node<Directive>], directive: &Node<Directive>) -> bool {
    let argument = match directive.name.as_str() {
        REQUIRES_SCOPES => "scopes",
        POLICY => "policies",
        _ => return false,
    };
    let Some(existing) = into.iter_mut().find(|d| d.name == directive.name) else {
        return false;
    };
    let merged = dnf_conjunction(vec![
        requirements(existing, argument),
        requirements(directive, argument),
    ]);
    *existing = Node::new(Directive {
        name: directive.name.clone(),
        arguments: vec![Node::new(Argument {
            name: Name::new_unchecked(argument),
            value: Node::new(Value::List(
                merged
                    .into_iter()
                    .map(|all| {
                        Node::new(Value::List(
                            all.into_iter()
                                .map(|item| Node::new(Value::String(item)))
                                .collect(),
                        ))
                    })
                    .collect(),
            )),
        })],
    });
    true
}

/// The alternatives of a `@requiresScopes(scopes:)` or `@policy(policies:)` argument, with
/// GraphQL's list coercion (`["a"]` is `[["a"]]`).
pub(crate) fn requirements(directive: &Directive, argument: &str) -> Vec<Vec<String>> {
    crate::supergraph::access::alternatives(directive.specified_argument_by_name(argument))
}

/// The conjunction of requirements in disjunctive normal form, as Apollo computes it: the
/// cartesian product of the alternatives, each alternative's items sorted and deduplicated,
/// and any alternative that includes another one dropped (it can never be the one needed).
fn dnf_conjunction(values: Vec<Vec<Vec<String>>>) -> Vec<Vec<String>> {
    let mut distinct: Vec<Vec<Vec<String>>> = Vec::new();
    for value in values {
        // An empty list of alternatives means no requirement.
        let mut value = if value.is_empty() {
            vec![Vec::new()]
        } else {
            value
        };
        for all in &mut value {
            all.sort();
        }
        value.sort_by_key(|all| json_key(all));
        if !distinct.contains(&value) {
            distinct.push(value);
        }
    }
    let mut values = distinct.into_iter();
    let Some(mut result) = values.next() else {
        return Vec::new();
    };
    for current in values {
        let mut product = Vec::new();
        let mut seen = HashSet::new();
        for accumulated in &result {
            for alternative in &current {
                let mut candidate = accumulated.clone();
                candidate.extend(
                    alternative
                        .iter()
                        .filter(|item| !accumulated.contains(item))
                        .cloned(),
                );
                candidate.sort();
                if seen.insert(candidate.clone()) {
                    product.push(candidate);
                }
            }
        }
        result = without_subsumed(product);
    }
    result
}

/// Apollo orders alternatives by their JSON text; sorting the same way keeps the output equal.
fn json_key(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_default()
}

fn without_subsumed(mut alternatives: Vec<Vec<String>>) -> Vec<Vec<String>> {
    alternatives.sort_by_key(Vec::len);
    let mut kept: Vec<Vec<String>> = Vec::new();
    for candidate in alternatives {
        let redundant = kept
            .iter()
            .any(|smaller| smaller.iter().all(|item| candidate.contains(item)));
        if !redundant {
            kept.push(candidate);
        }
    }
    kept
}

/// Alternatives written as string slices, for tests.
#[cfg(test)]
pub(super) fn dnf(alternatives: &[&[&str]]) -> Vec<Vec<String>> {
    alternatives
        .iter()
        .map(|all| all.iter().map(|item| item.to_string()).collect())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{dnf, dnf_conjunction};

    #[test]
    fn conjunction_of_alternatives() {
        // (a OR b) AND c = (a AND c) OR (b AND c)
        assert_eq!(
            dnf_conjunction(vec![dnf(&[&["a"], &["b"]]), dnf(&[&["c"]])]),
            dnf(&[&["a", "c"], &["b", "c"]])
        );
        // (a OR b) AND a = a: (a AND b) includes a, so it is dropped.
        assert_eq!(
            dnf_conjunction(vec![dnf(&[&["a"], &["b"]]), dnf(&[&["a"]])]),
            dnf(&[&["a"]])
        );
        // The same requirement twice is that requirement.
        assert_eq!(
            dnf_conjunction(vec![dnf(&[&["b", "a"]]), dnf(&[&["a", "b"]])]),
            dnf(&[&["a", "b"]])
        );
        // No requirement AND c = c.
        assert_eq!(
            dnf_conjunction(vec![dnf(&[]), dnf(&[&["c"]])]),
            dnf(&[&["c"]])
        );
    }
}

//! Output field types that differ between subgraphs by subtyping.
//!
//! A subgraph may type a shared field more precisely than another: `Book` where another says
//! `Media` (a union with `Book` as a member) or `Item` (an interface `Book` implements), `Int!`
//! where another says `Int`. Every value either subgraph returns is then a value of the more
//! general type, so that one is the supergraph's type, and each subgraph's own type goes into
//! `@join__field(type:)` for the planner. These are Apollo's rules (its `isStrictSubtype` with
//! the default rules: union membership, interface implementation, non-null to nullable, and
//! each of those inside lists), applied to the union members and interface implementations of
//! the merged schema, since a subgraph may not know every member of a union another defines.

use std::collections::{HashMap, HashSet};

use apollo_compiler::ast::Type;
use apollo_compiler::Name;

use super::subgraph::Subgraph;

/// Union membership and interface implementation, merged over every subgraph.
#[derive(Debug, Default)]
pub(super) struct Subtyping {
    /// Union ▶ its members in any subgraph.
    members: HashMap<Name, HashSet<Name>>,
    /// Object or interface ▶ the interfaces it implements in any subgraph.
    implements: HashMap<Name, HashSet<Name>>,
}

impl Subtyping {
    pub fn collect(subgraphs: &[Subgraph]) -> Self {
        let mut subtyping = Subtyping::default();
        for ty in subgraphs
            .iter()
            .flat_map(|subgraph| subgraph.types.values())
        {
            if !ty.members.is_empty() {
                subtyping
                    .members
                    .entry(ty.name.clone())
                    .or_default()
                    .extend(ty.members.iter().cloned());
            }
            if !ty.implements.is_empty() {
                subtyping
                    .implements
                    .entry(ty.name.clone())
                    .or_default()
                    .extend(ty.implements.iter().cloned());
            }
        }
        subtyping
    }

    /// The supergraph type of an output field typed `types` in its subgraphs: the one every
    /// other is a subtype of, chosen the way Apollo does (each type against the most general so
    /// far). `None` when some type is neither a subtype nor a supertype of it.
    pub fn most_general<'a>(&self, mut types: impl Iterator<Item = &'a Type>) -> Option<Type> {
        let mut general = types.next()?;
        for ty in types {
            if ty == general || self.is_strict_subtype(general, ty) {
                continue;
            }
            if self.is_strict_subtype(ty, general) {
                general = ty;
            } else {
                return None;
            }
        }
        Some(general.clone())
    }

    pub fn is_subtype(&self, ty: &Type, maybe_subtype: &Type) -> bool {
        ty == maybe_subtype || self.is_strict_subtype(ty, maybe_subtype)
    }

    fn is_strict_subtype(&self, ty: &Type, maybe_subtype: &Type) -> bool {
        match maybe_subtype {
            Type::List(item) => match ty {
                Type::List(general_item) => self.is_subtype(general_item, item),
                _ => false,
            },
            Type::NonNullNamed(_) | Type::NonNullList(_) => {
                let nullable = maybe_subtype.clone().nullable();
                if ty.is_non_null() {
                    self.is_subtype(&ty.clone().nullable(), &nullable)
                } else {
                    self.is_subtype(ty, &nullable)
                }
            }
            Type::Named(name) => match ty {
                Type::Named(general) => self.is_direct_subtype(general, name),
                _ => false,
            },
        }
    }

    /// `name` is a member of the union `general`, or implements the interface `general`.
    fn is_direct_subtype(&self, general: &Name, name: &Name) -> bool {
        self.members
            .get(general)
            .is_some_and(|members| members.contains(name))
            || self
                .implements
                .get(name)
                .is_some_and(|interfaces| interfaces.contains(general))
    }
}

#[cfg(test)]
mod tests {
    use apollo_compiler::ast::Type;
    use apollo_compiler::Name;

    use super::Subtyping;

    fn named(name: &str) -> Name {
        Name::new_unchecked(name)
    }

    fn ty(text: &str) -> Type {
        let inner = text.trim_end_matches('!');
        let non_null = text.ends_with('!');
        let base = match inner.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            Some(item) => Type::List(Box::new(ty(item))),
            None => Type::Named(named(inner)),
        };
        if non_null {
            base.non_null()
        } else {
            base
        }
    }

    fn subtyping() -> Subtyping {
        let mut subtyping = Subtyping::default();
        subtyping
            .members
            .insert(named("Media"), [named("Book"), named("Movie")].into());
        subtyping
            .implements
            .insert(named("Book"), [named("Item")].into());
        subtyping
    }

    fn merged(types: &[&str]) -> Option<String> {
        let types: Vec<Type> = types.iter().map(|text| ty(text)).collect();
        subtyping()
            .most_general(types.iter())
            .map(|ty| ty.to_string())
    }

    #[test]
    fn the_most_general_type_wins() {
        assert_eq!(merged(&["Book", "Media"]).as_deref(), Some("Media"));
        assert_eq!(merged(&["Item", "Book"]).as_deref(), Some("Item"));
        assert_eq!(merged(&["Int!", "Int"]).as_deref(), Some("Int"));
        assert_eq!(merged(&["Book!", "Media"]).as_deref(), Some("Media"));
        assert_eq!(merged(&["Book!", "Media!"]).as_deref(), Some("Media!"));
        assert_eq!(merged(&["[Book!]!", "[Media]"]).as_deref(), Some("[Media]"));
        assert_eq!(
            merged(&["Book", "Book!", "Media"]).as_deref(),
            Some("Media")
        );
    }

    #[test]
    fn types_that_are_not_subtypes_do_not_merge() {
        // A nullable object is not a value of a non-null union, nor the other way round.
        assert_eq!(merged(&["Book", "Media!"]), None);
        assert_eq!(merged(&["Movie", "Item"]), None);
        assert_eq!(merged(&["Book", "Movie"]), None);
        assert_eq!(merged(&["[Book]", "Book"]), None);
        // Apollo does not widen two types to a third: `[Int!]` and `[Int]!` have no winner.
        assert_eq!(merged(&["[Int!]", "[Int]!"]), None);
    }
}

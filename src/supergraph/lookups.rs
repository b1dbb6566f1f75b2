//! Stitched entities: a plain GraphQL service has no `_entities` field, so the objects it can
//! look up (its config's `merge:` entries) are fetched through a root field of its own, e.g.
//! `userById(id:)`. The config, not the supergraph SDL, says which field that is, so lookups
//! are handed to the model after parsing ([`Supergraph::with_lookups`]).

use std::collections::HashMap;
use std::sync::Arc;

use apollo_compiler::schema::ExtendedType;
use apollo_compiler::Name;

use super::{ActiveLabels, SubgraphId, Supergraph, SupergraphError};

/// One `merge:` entry of the config, as the gateway uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityLookup {
    pub graph: SubgraphId,
    pub type_name: Name,
    /// The `Query` field of `graph` that returns one `type_name` given its key.
    pub query_field: Name,
    /// `(argument, key field)`: which key field each argument of the lookup takes.
    pub arguments: Vec<(Name, Name)>,
}

/// A lookup with its argument types read from the supergraph, ready to build requests from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub query_field: Name,
    pub arguments: Vec<LookupArgument>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupArgument {
    pub name: Name,
    pub key_field: Name,
    /// The argument's type as GraphQL text (`ID!`), for the variable that carries the key.
    pub ty: String,
}

/// Lookups by (graph, entity type).
#[derive(Debug, Clone, Default)]
pub(super) struct Lookups(HashMap<(SubgraphId, Name), Arc<Lookup>>);

impl Supergraph {
    /// The model with entities of `lookups`' types in their graphs fetched through the lookup
    /// field instead of `_entities`. Each lookup field must be a `Query` field of its graph and
    /// take every argument named; its argument types become the request's variable types.
    pub fn with_lookups(mut self, lookups: Vec<EntityLookup>) -> Result<Self, SupergraphError> {
        for lookup in lookups {
            let resolved = self.resolve_lookup(&lookup)?;
            self.lookups
                .0
                .insert((lookup.graph, lookup.type_name), Arc::new(resolved));
        }
        Ok(self)
    }

    /// How entities of `type_name` are fetched from `graph`, when not through `_entities`.
    pub fn lookup(&self, graph: SubgraphId, type_name: &str) -> Option<&Arc<Lookup>> {
        if self.lookups.0.is_empty() {
            return None;
        }
        let type_name = Name::new(type_name).ok()?;
        self.lookups.0.get(&(graph, type_name))
    }

    fn resolve_lookup(&self, lookup: &EntityLookup) -> Result<Lookup, SupergraphError> {
        let graph_name = self
            .subgraphs
            .get(lookup.graph.0 as usize)
            .map_or("?", |subgraph| &*subgraph.name.0);
        let invalid = |message: String| SupergraphError::InvalidLookup {
            subgraph: graph_name.to_string(),
            type_name: lookup.type_name.to_string(),
            message,
        };
        let query_root = self
            .schema
            .schema_definition
            .query
            .as_ref()
            .map(|root| root.name.clone());
        let field = query_root
            .as_ref()
            .and_then(|root| match self.schema.types.get(root) {
                Some(ExtendedType::Object(object)) => object.fields.get(&lookup.query_field),
                _ => None,
            })
            .ok_or_else(|| {
                invalid(format!(
                    "the supergraph has no field Query.{}",
                    lookup.query_field
                ))
            })?;
        let root = query_root.as_deref().unwrap_or("Query");
        if !self
            .field_resolvers(root, &lookup.query_field, ActiveLabels::default())
            .contains(&lookup.graph)
        {
            return Err(invalid(format!(
                "Query.{} is not resolved by subgraph `{graph_name}`",
                lookup.query_field
            )));
        }
        let mut arguments = Vec::with_capacity(lookup.arguments.len());
        for (argument, key_field) in &lookup.arguments {
            let definition = field
                .arguments
                .iter()
                .find(|a| &a.name == argument)
                .ok_or_else(|| {
                    invalid(format!(
                        "Query.{} has no argument `{argument}`",
                        lookup.query_field
                    ))
                })?;
            arguments.push(LookupArgument {
                name: argument.clone(),
                key_field: key_field.clone(),
                ty: definition.ty.to_string(),
            });
        }
        Ok(Lookup {
            query_field: lookup.query_field.clone(),
            arguments,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::MergeRule;
    use crate::sources::{SubgraphKind, SubgraphSdl};

    fn users_supergraph() -> Supergraph {
        let users = SubgraphSdl {
            name: "users".into(),
            url: Some("http://users:4000/graphql".into()),
            sdl: "type Query { userById(id: ID!, locale: String = \"en\"): User } \
                  type User { id: ID! name: String }"
                .into(),
            kind: SubgraphKind::Plain,
            merge: vec![MergeRule {
                type_name: "User".into(),
                key_fields: vec!["id".into()],
                query: "userById".into(),
                arguments: vec![("id".into(), "id".into())],
            }],
        };
        let sdl = crate::compose::compose(&[users]).expect("compose");
        Supergraph::parse(&sdl).expect("parse")
    }

    fn lookup(query_field: &str, argument: &str) -> EntityLookup {
        EntityLookup {
            graph: SubgraphId(0),
            type_name: Name::new_unchecked("User"),
            query_field: Name::new_unchecked(query_field),
            arguments: vec![(Name::new_unchecked(argument), Name::new_unchecked("id"))],
        }
    }

    #[test]
    fn lookups_take_their_argument_types_from_the_supergraph() {
        let supergraph = users_supergraph()
            .with_lookups(vec![lookup("userById", "id")])
            .expect("a valid lookup");
        let found = supergraph.lookup(SubgraphId(0), "User").expect("lookup");
        assert_eq!(
            **found,
            Lookup {
                query_field: Name::new_unchecked("userById"),
                arguments: vec![LookupArgument {
                    name: Name::new_unchecked("id"),
                    key_field: Name::new_unchecked("id"),
                    ty: "ID!".into(),
                }],
            }
        );
        assert!(supergraph.lookup(SubgraphId(0), "Query").is_none());
        assert!(supergraph.lookup(SubgraphId(1), "User").is_none());
    }

    #[test]
    fn lookups_the_supergraph_cannot_serve_are_refused() {
        let error = users_supergraph()
            .with_lookups(vec![lookup("user", "id")])
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the `merge` lookup of User in subgraph `users` cannot be used: the supergraph has \
             no field Query.user"
        );
        let error = users_supergraph()
            .with_lookups(vec![lookup("userById", "key")])
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the `merge` lookup of User in subgraph `users` cannot be used: Query.userById has \
             no argument `key`"
        );
    }
}

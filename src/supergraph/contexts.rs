//! Contexts (`@context` on types, `contextArguments` of `@join__field`, join v0.5): a subgraph
//! field can take an argument whose value is read from the nearest ancestor object that sets a
//! named context, instead of from the client. The supergraph names each context
//! `<subgraph>__<name>`, so two subgraphs' contexts of one name never mix.
//!
//! The model keeps which types set each context; the planner asks which object types count as
//! setting it (an object type sets the contexts of its interfaces and of the unions it belongs
//! to, since it is what an ancestor of that abstract type is at run time).

use std::collections::HashMap;
use std::sync::Arc;

use apollo_compiler::ast::Value;
use apollo_compiler::schema::{Directive, ExtendedType};
use apollo_compiler::{Name, Schema};

use super::SupergraphError;

/// One argument a field takes from a context rather than from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextArgument {
    /// The supergraph's name of the context (`catalog__shop`).
    pub context: Arc<str>,
    /// The argument of the field in its subgraph that receives the value.
    pub name: Name,
    /// The argument's type in that subgraph, as GraphQL text (`String`, `[ID!]`).
    pub ty: String,
    /// What is read from the ancestor, as written after `$name` in `@fromContext` (`{ currency }`,
    /// `... on Store { currency } ... on Market { currency }`).
    pub selection: String,
}

/// The types that set each context, by the context's supergraph name.
#[derive(Debug, Default)]
pub(super) struct Contexts {
    setters: HashMap<Arc<str>, Vec<Name>>,
}

impl Contexts {
    pub(super) fn read(schema: &Schema) -> Self {
        let mut setters: HashMap<Arc<str>, Vec<Name>> = HashMap::new();
        for (type_name, ty) in &schema.types {
            for directive in ty.directives().get_all("context") {
                let Some(name) = directive
                    .specified_argument_by_name("name")
                    .and_then(|v| v.as_str())
                else {
                    continue;
                };
                let types = setters.entry(name.into()).or_default();
                if !types.contains(type_name) {
                    types.push(type_name.clone());
                }
            }
        }
        Contexts { setters }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.setters.is_empty()
    }

    /// The type that makes an object of `object_type` set `context`: the object type itself, an
    /// interface it implements or a union it belongs to. `None` when it does not set it.
    pub(super) fn setter_for(
        &self,
        schema: &Schema,
        object_type: &str,
        context: &str,
    ) -> Option<&Name> {
        let setters = self.setters.get(context)?;
        setters.iter().find(|setter| {
            setter.as_str() == object_type
                || match schema.types.get(setter.as_str()) {
                    Some(ExtendedType::Interface(_)) => matches!(
                        schema.types.get(object_type),
                        Some(ExtendedType::Object(o)) if o.implements_interfaces.contains(setter.as_str())
                    ),
                    Some(ExtendedType::Union(u)) => u.members.contains(object_type),
                    _ => false,
                }
        })
    }
}

/// The field set of a context selection: `{ currency }` ▶ `currency`. A selection of type
/// conditions (`... on Store { currency }`), or one whose first brace closes before its end, is
/// returned as it is (trimmed).
pub fn context_field_set(selection: &str) -> &str {
    let trimmed = selection.trim();
    let Some(inner) = trimmed.strip_prefix('{') else {
        return trimmed;
    };
    let mut depth = 1usize;
    for (at, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return if at + 1 == inner.len() {
                        inner[..at].trim()
                    } else {
                        trimmed
                    };
                }
            }
            _ => {}
        }
    }
    trimmed
}

/// The `contextArguments` of one `@join__field`.
pub(super) fn read_arguments(
    directive: &Directive,
    coordinate: &str,
) -> Result<Vec<ContextArgument>, SupergraphError> {
    let Some(value) = directive.specified_argument_by_name("contextArguments") else {
        return Ok(Vec::new());
    };
    let items: Vec<&Value> = match &**value {
        Value::List(items) => items.iter().map(|i| &**i).collect(),
        Value::Null => Vec::new(),
        single => vec![single],
    };
    let invalid = |message: String| SupergraphError::InvalidDirective {
        directive: "join__field",
        coordinate: coordinate.to_owned(),
        message,
    };
    let mut out = Vec::new();
    for item in items {
        let Value::Object(fields) = item else {
            return Err(invalid("a contextArguments entry is not an object".into()));
        };
        let text = |key: &str| {
            fields
                .iter()
                .find(|(name, _)| name == key)
                .and_then(|(_, v)| v.as_str())
                .map(str::to_owned)
                .ok_or_else(|| invalid(format!("a contextArguments entry has no `{key}` string")))
        };
        let name = text("name")?;
        out.push(ContextArgument {
            context: text("context")?.into(),
            name: Name::new(&name)
                .map_err(|_| invalid(format!("`{name}` is not an argument name")))?,
            ty: text("type")?,
            selection: text("selection")?,
        });
    }
    Ok(out)
}

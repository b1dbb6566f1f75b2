//! `@inaccessible` rules: the API schema (what clients see) is the supergraph without its
//! `@inaccessible` elements, and it must still be a valid schema that does not leak them. These
//! are the cases Apollo refuses, checked on the merged supergraph:
//!
//! - a visible field, argument or input field whose type is inaccessible;
//! - an inaccessible query root type;
//! - a visible type whose fields, values or members are all inaccessible;
//! - an inaccessible field or argument implementing a visible interface field or argument;
//! - a required argument or input field that is inaccessible while its parent is visible, or an
//!   inaccessible interface argument that a visible implementation requires;
//! - a visible default value using an inaccessible enum value or input field;
//! - the same for the arguments of directives clients write.
//!
//! Messages say in which subgraphs the element is marked, since that is where the fix goes.

use apollo_compiler::ast::{DirectiveDefinition, Type, Value};
use apollo_compiler::{Name, Node};

use super::errors::{quoted_list, subgraphs_word, CompositionError, ErrorCode};
use super::model::{SuperField, SuperInputValue, SuperType, Supergraph};
use super::subgraph::{Subgraph, TypeKind};
use super::values::is_inaccessible;

pub(crate) fn check(
    supergraph: &Supergraph,
    subgraphs: &[Subgraph],
    errors: &mut Vec<CompositionError>,
) {
    if !supergraph.uses_inaccessible {
        return;
    }
    let checker = Checker {
        supergraph,
        subgraphs,
    };
    for ty in &supergraph.types {
        if is_inaccessible(&ty.directives) {
            if ty.name == "Query" {
                errors.push(CompositionError::new(
                    ErrorCode::QueryRootTypeInaccessible,
                    format!(
                        "Type Query is @inaccessible{}, but it is the query root type, which \
                         clients must see",
                        checker.marked(&ty.name, None, None)
                    ),
                ));
            }
            continue;
        }
        checker.check_children(ty, errors);
        match ty.kind {
            TypeKind::Object | TypeKind::Interface => checker.check_fields(ty, errors),
            TypeKind::InputObject => checker.check_input_fields(ty, errors),
            _ => {}
        }
    }
    for directive in &supergraph.executable {
        checker.check_directive_arguments(directive, errors);
    }
}

struct Checker<'a> {
    supergraph: &'a Supergraph,
    subgraphs: &'a [Subgraph],
}

impl Checker<'_> {
    fn ty(&self, name: &str) -> Option<&SuperType> {
        self.supergraph.types.iter().find(|ty| ty.name == name)
    }

    fn type_is_hidden(&self, name: &Name) -> bool {
        self.ty(name)
            .is_some_and(|ty| is_inaccessible(&ty.directives))
    }

    /// ` (marked in subgraph "a")`: where the type, field or argument (or input field or enum
    /// value, which are looked up as fields and arguments are) carries `@inaccessible`.
    fn marked(&self, type_name: &Name, field: Option<&Name>, argument: Option<&Name>) -> String {
        let names: Vec<&str> = self
            .subgraphs
            .iter()
            .filter(|subgraph| {
                let Some(ty) = subgraph.types.get(type_name) else {
                    return false;
                };
                let directives = match (field, argument) {
                    (None, _) => Some(&ty.directives),
                    (Some(field), None) => ty
                        .fields
                        .get(field)
                        .map(|f| &f.directives)
                        .or_else(|| ty.input_fields.get(field).map(|f| &f.directives))
                        .or_else(|| ty.values.get(field).map(|v| &v.directives)),
                    (Some(field), Some(argument)) => ty
                        .fields
                        .get(field)
                        .and_then(|f| f.args.get(argument))
                        .map(|a| &a.directives),
                };
                directives.is_some_and(|directives| is_inaccessible(directives))
            })
            .map(|subgraph| subgraph.name.as_str())
            .collect();
        if names.is_empty() {
            String::new()
        } else {
            format!(
                " (marked in {} {})",
                subgraphs_word(names.len()),
                quoted_list(&names)
            )
        }
    }

    fn referenced(&self, referenced: &Type, referencer: &str, errors: &mut Vec<CompositionError>) {
        let name = referenced.inner_named_type();
        if self.type_is_hidden(name) {
            errors.push(CompositionError::new(
                ErrorCode::ReferencedInaccessible,
                format!(
                    "Type {name} is @inaccessible{}, but {referencer}, which clients see, \
                     refers to it",
                    self.marked(name, None, None)
                ),
            ));
        }
    }

    /// A type whose children are all hidden would be empty in the API schema.
    fn check_children(&self, ty: &SuperType, errors: &mut Vec<CompositionError>) {
        let (all_hidden, children) = match ty.kind {
            TypeKind::Object | TypeKind::Interface | TypeKind::InputObject => (
                ty.fields
                    .values()
                    .all(|field| is_inaccessible(&field.directives)),
                "fields",
            ),
            TypeKind::Enum => (
                ty.values
                    .values()
                    .all(|value| is_inaccessible(&value.directives)),
                "values",
            ),
            TypeKind::Union => (
                ty.members.iter().all(|member| self.type_is_hidden(member)),
                "members",
            ),
            TypeKind::Scalar => return,
        };
        if all_hidden {
            errors.push(CompositionError::new(
                ErrorCode::OnlyInaccessibleChildren,
                format!(
                    "Type {} is visible to clients, but all of its {children} are @inaccessible",
                    ty.name
                ),
            ));
        }
    }

    fn check_fields(&self, ty: &SuperType, errors: &mut Vec<CompositionError>) {
        for field in ty.fields.values() {
            let coordinate = format!("{}.{}", ty.name, field.name);
            if is_inaccessible(&field.directives) {
                for interface in self.visible_interface_fields(ty, &field.name) {
                    errors.push(CompositionError::new(
                        ErrorCode::ImplementedByInaccessible,
                        format!(
                            "Field {coordinate} is @inaccessible{}, but it implements \
                             {interface}.{}, which clients see",
                            self.marked(&ty.name, Some(&field.name), None),
                            field.name
                        ),
                    ));
                }
                continue;
            }
            self.referenced(&field.ty, &format!("field {coordinate}"), errors);
            for argument in &field.args {
                self.check_argument(ty, field, argument, errors);
            }
        }
    }

    /// The interfaces of `ty` that clients see with a field `field` they see.
    fn visible_interface_fields<'t>(&self, ty: &'t SuperType, field: &Name) -> Vec<&'t Name> {
        ty.interfaces
            .iter()
            .filter(|interface| {
                self.ty(interface).is_some_and(|interface| {
                    !is_inaccessible(&interface.directives)
                        && interface
                            .fields
                            .get(field)
                            .is_some_and(|field| !is_inaccessible(&field.directives))
                })
            })
            .collect()
    }

    fn check_argument(
        &self,
        ty: &SuperType,
        field: &SuperField,
        argument: &SuperInputValue,
        errors: &mut Vec<CompositionError>,
    ) {
        let coordinate = format!("{}.{}({}:)", ty.name, field.name, argument.name);
        if !is_inaccessible(&argument.directives) {
            self.referenced(&argument.ty, &format!("argument {coordinate}"), errors);
            if let Some(default) = &argument.default {
                self.check_default(default, &argument.ty, &coordinate, errors);
            }
            return;
        }
        let marked = self.marked(&ty.name, Some(&field.name), Some(&argument.name));
        let required =
            |argument: &SuperInputValue| argument.ty.is_non_null() && argument.default.is_none();
        if required(argument) {
            errors.push(CompositionError::new(
                ErrorCode::RequiredInaccessible,
                format!(
                    "Argument {coordinate} is @inaccessible{marked}, but it is required, so \
                     clients could not call {}.{}",
                    ty.name, field.name
                ),
            ));
        }
        // Implementations that clients see must not require what the interface hides.
        if ty.kind == TypeKind::Interface {
            for implementation in &self.supergraph.types {
                if !implementation.interfaces.contains(&ty.name)
                    || is_inaccessible(&implementation.directives)
                {
                    continue;
                }
                let Some(implementing) = implementation.fields.get(&field.name) else {
                    continue;
                };
                let required_there = !is_inaccessible(&implementing.directives)
                    && implementing.args.iter().any(|arg| {
                        arg.name == argument.name
                            && !is_inaccessible(&arg.directives)
                            && required(arg)
                    });
                if required_there {
                    errors.push(CompositionError::new(
                        ErrorCode::RequiredInaccessible,
                        format!(
                            "Argument {coordinate} is @inaccessible{marked}, but the \
                             implementation {}.{}({}:), which clients see, requires it",
                            implementation.name, field.name, argument.name
                        ),
                    ));
                }
            }
        }
        for interface in self.visible_interface_fields(ty, &field.name) {
            let visible =
                self.ty(interface)
                    .and_then(|interface| interface.fields.get(&field.name))
                    .is_some_and(|interface_field| {
                        interface_field.args.iter().any(|arg| {
                            arg.name == argument.name && !is_inaccessible(&arg.directives)
                        })
                    });
            if visible {
                errors.push(CompositionError::new(
                    ErrorCode::ImplementedByInaccessible,
                    format!(
                        "Argument {coordinate} is @inaccessible{marked}, but it implements \
                         {interface}.{}({}:), which clients see",
                        field.name, argument.name
                    ),
                ));
            }
        }
    }

    /// The arguments of a directive clients write: a visible one must not use a hidden type or
    /// value, and a required one cannot be hidden (clients could not use the directive).
    fn check_directive_arguments(
        &self,
        directive: &DirectiveDefinition,
        errors: &mut Vec<CompositionError>,
    ) {
        for argument in &directive.arguments {
            let coordinate = format!("@{}({}:)", directive.name, argument.name);
            if is_inaccessible(&argument.directives) {
                if argument.ty.is_non_null() && argument.default_value.is_none() {
                    errors.push(CompositionError::new(
                        ErrorCode::RequiredInaccessible,
                        format!(
                            "Argument {coordinate} is @inaccessible, but it is required, so \
                             clients could not use @{}",
                            directive.name
                        ),
                    ));
                }
                continue;
            }
            self.referenced(&argument.ty, &format!("argument {coordinate}"), errors);
            if let Some(default) = &argument.default_value {
                self.check_default(default, &argument.ty, &coordinate, errors);
            }
        }
    }

    fn check_input_fields(&self, ty: &SuperType, errors: &mut Vec<CompositionError>) {
        for field in ty.fields.values() {
            let coordinate = format!("{}.{}", ty.name, field.name);
            if is_inaccessible(&field.directives) {
                if field.ty.is_non_null() && field.default.is_none() {
                    errors.push(CompositionError::new(
                        ErrorCode::RequiredInaccessible,
                        format!(
                            "Input field {coordinate} is @inaccessible{}, but it is required, so \
                             clients could not send a {}",
                            self.marked(&ty.name, Some(&field.name), None),
                            ty.name
                        ),
                    ));
                }
                continue;
            }
            self.referenced(&field.ty, &format!("input field {coordinate}"), errors);
            if let Some(default) = &field.default {
                self.check_default(default, &field.ty, &coordinate, errors);
            }
        }
    }

    /// Walks a visible default value: an enum value or input field in it must be visible too.
    fn check_default(
        &self,
        value: &Node<Value>,
        ty: &Type,
        owner: &str,
        errors: &mut Vec<CompositionError>,
    ) {
        let named = ty.inner_named_type();
        match (value.as_ref(), ty) {
            (Value::List(items), Type::List(item_ty) | Type::NonNullList(item_ty)) => {
                for item in items {
                    self.check_default(item, item_ty, owner, errors);
                }
            }
            // A single value is coerced to a one-item list.
            (_, Type::List(item_ty) | Type::NonNullList(item_ty)) => {
                self.check_default(value, item_ty, owner, errors)
            }
            (Value::Enum(enum_value), _) => {
                let hidden = self
                    .ty(named)
                    .and_then(|ty| ty.values.get(enum_value))
                    .is_some_and(|value| is_inaccessible(&value.directives));
                if hidden {
                    errors.push(CompositionError::new(
                        ErrorCode::DefaultValueUsesInaccessible,
                        format!(
                            "Enum value {named}.{enum_value} is @inaccessible{}, but the default \
                             value of {owner}, which clients see, uses it",
                            self.marked(named, Some(enum_value), None)
                        ),
                    ));
                }
            }
            (Value::Object(entries), _) => {
                let Some(input) = self.ty(named) else { return };
                for (key, entry) in entries {
                    let Some(field) = input.fields.get(key) else {
                        continue;
                    };
                    if is_inaccessible(&field.directives) {
                        errors.push(CompositionError::new(
                            ErrorCode::DefaultValueUsesInaccessible,
                            format!(
                                "Input field {named}.{key} is @inaccessible{}, but the default \
                                 value of {owner}, which clients see, uses it",
                                self.marked(named, Some(key), None)
                            ),
                        ));
                    }
                    self.check_default(entry, &field.ty, owner, errors);
                }
            }
            _ => {}
        }
    }
}

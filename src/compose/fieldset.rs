//! Checking the field sets of `@key`, `@requires` and `@provides` against their subgraph, and
//! recording which fields they select.
//!
//! A field set is parsed as the selection set `{ <fields> }` with apollo-compiler's parser and
//! then walked against the subgraph's own types, so errors can say exactly which field of which
//! type is missing.

use std::collections::HashSet;

use apollo_compiler::ast::{self, Definition, OperationType, Selection};
use apollo_compiler::Name;

use super::errors::{CompositionError, ErrorCode};
use super::subgraph::{FieldCoordinate, Subgraph, TypeKind};

/// What a subgraph's field sets select, for the sharing and override rules.
#[derive(Debug, Default)]
pub(crate) struct FieldSetUsage {
    pub key_fields: HashSet<FieldCoordinate>,
    /// Fields selected by a key declared on a type extension.
    pub extension_key_fields: HashSet<FieldCoordinate>,
    pub used_fields: HashSet<FieldCoordinate>,
    pub provided_fields: HashSet<FieldCoordinate>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FieldSetKind {
    Key,
    Requires,
    Provides,
    /// A `@fromContext` selection, checked against a type that sets the context.
    Context,
}

impl FieldSetKind {
    /// The code of a directive inside the field set; `None` where one is allowed.
    fn directive_in_fields(self) -> Option<ErrorCode> {
        match self {
            FieldSetKind::Key => Some(ErrorCode::KeyDirectiveInFieldsArg),
            FieldSetKind::Provides => Some(ErrorCode::ProvidesDirectiveInFieldsArg),
            FieldSetKind::Requires => Some(ErrorCode::RequiresDirectiveInFieldsArg),
            FieldSetKind::Context => None,
        }
    }

    fn invalid_fields(self) -> ErrorCode {
        match self {
            FieldSetKind::Key => ErrorCode::KeyInvalidFields,
            FieldSetKind::Requires => ErrorCode::RequiresInvalidFields,
            FieldSetKind::Provides => ErrorCode::ProvidesInvalidFields,
            FieldSetKind::Context => ErrorCode::ContextInvalidSelection,
        }
    }
}

pub(crate) fn check_field_sets(
    subgraph: &Subgraph,
    errors: &mut Vec<CompositionError>,
) -> FieldSetUsage {
    let mut usage = FieldSetUsage::default();
    for (type_name, ty) in &subgraph.types {
        for key in &ty.keys {
            let context = format!("@key(fields: \"{}\") on {type_name}", key.fields);
            let selected = Walk::run(
                subgraph,
                FieldSetKind::Key,
                context,
                type_name,
                &key.fields,
                errors,
            );
            if key.extension {
                usage.extension_key_fields.extend(selected.iter().cloned());
            }
            usage.key_fields.extend(selected.iter().cloned());
            usage.used_fields.extend(selected);
        }
        for (field_name, field) in &ty.fields {
            if let Some(requires) = &field.requires {
                let context =
                    format!("@requires(fields: \"{requires}\") on {type_name}.{field_name}");
                let selected = Walk::run(
                    subgraph,
                    FieldSetKind::Requires,
                    context,
                    type_name,
                    requires,
                    errors,
                );
                usage.used_fields.extend(selected);
            }
            if let Some(provides) = &field.provides {
                let context =
                    format!("@provides(fields: \"{provides}\") on {type_name}.{field_name}");
                let target = field.ty.inner_named_type();
                let target_is_composite = subgraph
                    .types
                    .get(target)
                    .is_some_and(|target| target.kind.is_composite());
                if !target_is_composite {
                    errors.push(CompositionError::new(
                        ErrorCode::ProvidesOnNonObjectField,
                        format!(
                            "[{}] {context} is invalid: {type_name}.{field_name} returns {}, \
                             but only fields returning an object or interface can @provides",
                            subgraph.name, field.ty
                        ),
                    ));
                    continue;
                }
                let selected = Walk::run(
                    subgraph,
                    FieldSetKind::Provides,
                    context,
                    target,
                    provides,
                    errors,
                );
                usage.provided_fields.extend(selected.iter().cloned());
                usage.used_fields.extend(selected);
            }
        }
    }
    usage
}

/// Checks a `@fromContext` selection (`fields`, without braces) against `type_name`, a type that
/// sets the context, and returns every field it selects: those are used, `@external` or not.
pub(crate) fn check_context_selection(
    subgraph: &Subgraph,
    context: String,
    type_name: &Name,
    fields: &str,
    errors: &mut Vec<CompositionError>,
) -> Vec<FieldCoordinate> {
    Walk::run(
        subgraph,
        FieldSetKind::Context,
        context,
        type_name,
        fields,
        errors,
    )
}

/// One field set being walked.
struct Walk<'a> {
    subgraph: &'a Subgraph,
    kind: FieldSetKind,
    /// How messages name the directive, e.g. `@key(fields: "id") on Product`.
    context: String,
    errors: &'a mut Vec<CompositionError>,
    selected: Vec<FieldCoordinate>,
}

impl<'a> Walk<'a> {
    /// Checks `fields` against `type_name` and returns every field it selects.
    fn run(
        subgraph: &'a Subgraph,
        kind: FieldSetKind,
        context: String,
        type_name: &Name,
        fields: &str,
        errors: &'a mut Vec<CompositionError>,
    ) -> Vec<FieldCoordinate> {
        let mut walk = Walk {
            subgraph,
            kind,
            context,
            errors,
            selected: Vec::new(),
        };
        match parse_selection_set(fields) {
            Ok(selections) => walk.selections(type_name, &selections, false),
            Err(reason) => walk.error(kind.invalid_fields(), format!("cannot be parsed: {reason}")),
        }
        walk.selected
    }

    fn error(&mut self, code: ErrorCode, problem: String) {
        self.errors.push(CompositionError::new(
            code,
            format!("[{}] {} {problem}", self.subgraph.name, self.context),
        ));
    }

    /// `external_above` is true below an `@external` field: Federation 2 requires a leaf of a
    /// `@requires` or `@provides` to be `@external` unless a field above it is, because only
    /// what comes from elsewhere needs requiring or providing; the fields on the way to it may
    /// be the subgraph's own (`author { yearsOfExperience }` with only the leaf external).
    fn selections(&mut self, type_name: &Name, selections: &[Selection], external_above: bool) {
        let invalid = self.kind.invalid_fields();
        for selection in selections {
            match selection {
                Selection::Field(field) => self.field(type_name, field, external_above),
                Selection::InlineFragment(fragment) => {
                    // `@skip`/`@include` on a fragment would drop key fields from the fetch.
                    let what = || format!("a fragment on {type_name}");
                    if self.has_directives(&fragment.directives, what) {
                        continue;
                    }
                    match &fragment.type_condition {
                        None => self.selections(type_name, &fragment.selection_set, external_above),
                        Some(condition) => {
                            let is_composite = self
                                .subgraph
                                .types
                                .get(condition)
                                .is_some_and(|ty| ty.kind.is_composite());
                            if is_composite {
                                self.selections(condition, &fragment.selection_set, external_above);
                            } else {
                                self.error(
                                    invalid,
                                    format!(
                                        "has a fragment on \"{condition}\", which is not an \
                                         object, interface or union of the subgraph"
                                    ),
                                );
                            }
                        }
                    }
                }
                Selection::FragmentSpread(spread) => self.error(
                    invalid,
                    format!(
                        "spreads fragment \"{}\"; field sets cannot use named fragments",
                        spread.fragment_name
                    ),
                ),
            }
        }
    }

    /// Reports `directives` on `what` when this kind of field set cannot hold any; whether it
    /// did.
    fn has_directives(
        &mut self,
        directives: &ast::DirectiveList,
        what: impl FnOnce() -> String,
    ) -> bool {
        let Some(code) = self
            .kind
            .directive_in_fields()
            .filter(|_| !directives.is_empty())
        else {
            return false;
        };
        self.error(
            code,
            format!(
                "applies a directive to {}; field sets cannot hold directives",
                what()
            ),
        );
        true
    }

    fn field(&mut self, type_name: &Name, field: &ast::Field, external_above: bool) {
        let invalid = self.kind.invalid_fields();
        let coordinate = format!("{type_name}.{}", field.name);
        // The gateway writes and reads representations by field name: an alias would put the
        // value under a name the subgraph does not expect.
        if let Some(alias) = &field.alias {
            if self.kind != FieldSetKind::Context {
                self.error(
                    invalid,
                    format!(
                        "uses the alias \"{alias}\" for {coordinate}; field sets cannot use \
                         aliases"
                    ),
                );
            }
        }
        self.has_directives(&field.directives, || coordinate.clone());
        if field.name == "__typename" {
            // A subgraph always knows an object's type: requiring it asks the gateway for
            // nothing the subgraph lacks. Apollo refuses it as a leaf that is not external.
            if self.kind == FieldSetKind::Requires && !external_above && self.subgraph.fed2 {
                self.error(
                    ErrorCode::RequiresFieldsMissingExternal,
                    format!(
                        "requires {coordinate}, which the subgraph resolves itself; a required \
                         field must come from another subgraph"
                    ),
                );
            }
            return;
        }
        let Some(parent) = self.subgraph.types.get(type_name) else {
            return;
        };
        let Some(definition) = parent.fields.get(&field.name) else {
            self.error(
                invalid,
                format!(
                    "names field \"{}\", which {type_name} does not have",
                    field.name
                ),
            );
            return;
        };
        // A key field is selected without arguments, so one that takes any (even optional
        // ones) would be read with values the subgraph chose, not a stable identity. A provided
        // one would answer every client's arguments with the one value the subgraph provides.
        if field.arguments.is_empty() && !definition.args.is_empty() {
            match self.kind {
                FieldSetKind::Key => self.error(
                    ErrorCode::KeyFieldsHasArgs,
                    format!("selects {coordinate}, which takes arguments; key fields cannot"),
                ),
                FieldSetKind::Provides => self.error(
                    ErrorCode::ProvidesFieldsHasArgs,
                    format!(
                        "provides {coordinate}, which takes arguments; a provided field cannot"
                    ),
                ),
                _ => {}
            }
        }
        // `@requires` may pass arguments (`price(currency: "EUR")`): the gateway fetches that
        // value for the representation. Keys and provided fields are selected as they are.
        if !field.arguments.is_empty()
            && !matches!(self.kind, FieldSetKind::Requires | FieldSetKind::Context)
        {
            let code = match self.kind {
                FieldSetKind::Key => ErrorCode::KeyFieldsHasArgs,
                _ => invalid,
            };
            self.error(
                code,
                format!("passes arguments to {coordinate}; field sets cannot have arguments"),
            );
        }
        self.selected
            .push((type_name.clone(), definition.name.clone()));

        let is_leaf = field.selection_set.is_empty();
        if is_leaf && !external_above && self.subgraph.fed2 && !definition.external {
            match self.kind {
                FieldSetKind::Requires => self.error(
                    ErrorCode::RequiresFieldsMissingExternal,
                    format!(
                        "requires {coordinate}, which is not marked @external in this subgraph"
                    ),
                ),
                FieldSetKind::Provides => self.error(
                    ErrorCode::ProvidesFieldsMissingExternal,
                    format!(
                        "provides {coordinate}, which is not marked @external in this subgraph"
                    ),
                ),
                FieldSetKind::Key | FieldSetKind::Context => {}
            }
        }

        let field_type = definition.ty.inner_named_type();
        let field_kind = self.subgraph.types.get(field_type).map(|ty| ty.kind);
        match field_kind {
            Some(kind) if kind.is_composite() => {
                if self.kind == FieldSetKind::Key && kind != TypeKind::Object {
                    self.error(
                        ErrorCode::KeyFieldsSelectInvalidType,
                        format!(
                            "selects {coordinate}, which returns {}, {}; \
                             keys cannot select interface or union fields",
                            definition.ty,
                            kind.describe()
                        ),
                    );
                } else if field.selection_set.is_empty() {
                    self.error(
                        invalid,
                        format!(
                            "selects {coordinate} of type {} without selecting any of its fields",
                            definition.ty
                        ),
                    );
                } else {
                    let external_above = external_above
                        || is_external_somewhere(self.subgraph, type_name, &definition.name);
                    self.selections(field_type, &field.selection_set, external_above);
                }
            }
            _ => {
                if !field.selection_set.is_empty() {
                    self.error(
                        invalid,
                        format!(
                            "selects fields of {coordinate}, but its type {} has no fields",
                            definition.ty
                        ),
                    );
                }
            }
        }
    }
}

/// The fields a field set selects directly on its type (not inside sub-selections); empty when
/// it does not parse, which `check_field_sets` reports.
pub(crate) fn top_level_fields(fields: &str) -> Vec<Name> {
    let mut names = Vec::new();
    let mut pending = parse_selection_set(fields).unwrap_or_default();
    while let Some(selection) = pending.pop() {
        match selection {
            Selection::Field(field) => names.push(field.name.clone()),
            Selection::InlineFragment(fragment) if fragment.type_condition.is_none() => {
                pending.extend(fragment.selection_set.iter().cloned())
            }
            _ => {}
        }
    }
    names
}

/// A Federation 1 `@requires` or `@provides` field set without the leaf fields the subgraph
/// resolves itself (those not `@external`): Apollo's upgrade to Federation 2 drops them, since
/// requiring or providing what a subgraph already resolves means nothing. `Ok(None)` when
/// nothing is dropped, `Ok(Some(None))` when nothing is left.
pub(crate) fn without_own_leaf_fields(
    subgraph: &Subgraph,
    type_name: &Name,
    fields: &str,
) -> Option<Option<String>> {
    let selections = parse_selection_set(fields).ok()?;
    let mut dropped = false;
    let kept = keep_external(subgraph, type_name, &selections, &mut dropped);
    if !dropped {
        return None;
    }
    Some((!kept.is_empty()).then(|| kept.join(" ")))
}

fn keep_external(
    subgraph: &Subgraph,
    type_name: &Name,
    selections: &[Selection],
    dropped: &mut bool,
) -> Vec<String> {
    let mut kept = Vec::new();
    for selection in selections {
        let (inner_type, name, sub_selections) = match selection {
            Selection::Field(field) => {
                let Some(definition) = subgraph
                    .types
                    .get(type_name)
                    .and_then(|ty| ty.fields.get(&field.name))
                else {
                    kept.push(selection.serialize().no_indent().to_string());
                    continue;
                };
                if is_external_somewhere(subgraph, type_name, &field.name) {
                    kept.push(selection.serialize().no_indent().to_string());
                    continue;
                }
                if field.selection_set.is_empty() {
                    *dropped = true;
                    continue;
                }
                (
                    definition.ty.inner_named_type().clone(),
                    field.name.to_string(),
                    &field.selection_set,
                )
            }
            Selection::InlineFragment(fragment) => {
                let condition = fragment.type_condition.clone();
                let name = match &condition {
                    Some(condition) => format!("... on {condition}"),
                    None => "...".to_string(),
                };
                (
                    condition.unwrap_or_else(|| type_name.clone()),
                    name,
                    &fragment.selection_set,
                )
            }
            Selection::FragmentSpread(_) => {
                kept.push(selection.serialize().no_indent().to_string());
                continue;
            }
        };
        let inner = keep_external(subgraph, &inner_type, sub_selections, dropped);
        if inner.is_empty() {
            *dropped = true;
        } else {
            kept.push(format!("{name} {{ {} }}", inner.join(" ")));
        }
    }
    kept
}

/// The field is `@external`, or it is an interface field some implementation marks `@external`.
fn is_external_somewhere(subgraph: &Subgraph, type_name: &Name, field_name: &Name) -> bool {
    let Some(ty) = subgraph.types.get(type_name) else {
        return false;
    };
    let external = |ty: &super::subgraph::SubgraphType| {
        ty.fields
            .get(field_name)
            .is_some_and(|field| field.external)
    };
    external(ty)
        || (ty.kind == TypeKind::Interface
            && subgraph
                .types
                .values()
                .filter(|implementation| implementation.implements.contains(type_name))
                .any(external))
}

/// Parses `fields` as the body of an anonymous query, which is what a field set is.
pub(super) fn parse_selection_set(fields: &str) -> Result<Vec<Selection>, String> {
    let source = format!("{{ {fields} }}");
    let document = ast::Document::parse(source, "fields.graphql").map_err(|invalid| {
        invalid
            .errors
            .iter()
            .next()
            .map(|diagnostic| diagnostic.error.to_string())
            .unwrap_or_else(|| "invalid selection".to_string())
    })?;
    match document.definitions.as_slice() {
        [Definition::OperationDefinition(operation)]
            if operation.operation_type == OperationType::Query
                && operation.name.is_none()
                && operation.variables.is_empty()
                && operation.directives.is_empty() =>
        {
            Ok(operation.selection_set.clone())
        }
        _ => Err("it is not a single selection set".to_string()),
    }
}

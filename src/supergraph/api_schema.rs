//! The API schema: the supergraph as clients see it. Federation machinery (`join__*`, `link__*`,
//! `@link`, the cost spec's directives) and every `@inaccessible` element are removed, so
//! validation and introspection of client operations never expose them.

use apollo_compiler::schema::{ExtendedType, Type};
use apollo_compiler::validation::Valid;
use apollo_compiler::{Name, Node, Schema};

use super::SupergraphError;

/// Directives that only mean something to the gateway.
fn is_machinery_directive(name: &str) -> bool {
    name.starts_with("join__")
        || name.starts_with("link__")
        || name == "link"
        || name == "inaccessible"
        || name == "core"
        || name == "tag"
        // `@context` and `@fromContext` (the context spec) tell the gateway where contextual
        // arguments come from; clients never send those arguments.
        || name == "context"
        || name.starts_with("context__")
}

/// `linked` names other directives of linked specs the supergraph applies (`@cost`,
/// `@listSize` under their supergraph names): clients see none of them, as in Apollo's API
/// schema.
pub(super) fn derive(
    supergraph: &Valid<Schema>,
    linked: &[Name],
) -> Result<Valid<Schema>, SupergraphError> {
    let machinery = |name: &str| is_machinery_directive(name) || linked.iter().any(|l| l == name);
    let mut schema: Schema = (**supergraph).clone();
    let inaccessible: std::collections::HashSet<Name> = schema
        .types
        .iter()
        .filter(|(_, t)| t.directives().has("inaccessible"))
        .map(|(n, _)| n.clone())
        .collect();
    let hidden_type = |ty: &Type| {
        inaccessible.contains(ty.inner_named_type()) || ty.inner_named_type().starts_with("join__")
    };

    let spec_prefixes = linked_type_prefixes(supergraph);
    schema.types.retain(|name, ty| {
        !(inaccessible.contains(name)
            || spec_prefixes
                .iter()
                .any(|prefix| name.starts_with(prefix.as_str()))
            || name.starts_with("join__")
            || name.starts_with("link__")
            || (name.starts_with("core__") && !ty.is_built_in()))
    });
    schema
        .directive_definitions
        .retain(|name, def| def.is_built_in() || !machinery(name));
    // Directives clients write: their inaccessible arguments (and those of hidden types) are
    // not part of the API.
    for def in schema.directive_definitions.values_mut() {
        if def.is_built_in() {
            continue;
        }
        let def = def.make_mut();
        def.arguments
            .retain(|a| !a.directives.has("inaccessible") && !hidden_type(&a.ty));
        for arg in &mut def.arguments {
            arg.make_mut().directives.retain(|d| !machinery(&d.name));
        }
    }
    {
        let def = schema.schema_definition.make_mut();
        def.directives.retain(|d| !machinery(&d.name));
        // A root type that is inaccessible as a whole is not part of the API.
        if def
            .mutation
            .as_ref()
            .is_some_and(|m| inaccessible.contains(&m.name))
        {
            def.mutation = None;
        }
        if def
            .subscription
            .as_ref()
            .is_some_and(|m| inaccessible.contains(&m.name))
        {
            def.subscription = None;
        }
    }

    for ty in schema.types.values_mut() {
        match ty {
            ExtendedType::Object(obj) => {
                let obj = obj.make_mut();
                obj.directives.retain(|d| !machinery(&d.name));
                obj.implements_interfaces
                    .retain(|i| !inaccessible.contains(&i.name));
                clean_fields(&mut obj.fields, &hidden_type, &machinery);
            }
            ExtendedType::Interface(iface) => {
                let iface = iface.make_mut();
                iface.directives.retain(|d| !machinery(&d.name));
                iface
                    .implements_interfaces
                    .retain(|i| !inaccessible.contains(&i.name));
                clean_fields(&mut iface.fields, &hidden_type, &machinery);
            }
            ExtendedType::Union(union_) => {
                let union_ = union_.make_mut();
                union_.directives.retain(|d| !machinery(&d.name));
                union_.members.retain(|m| !inaccessible.contains(&m.name));
            }
            ExtendedType::Enum(enum_) => {
                let enum_ = enum_.make_mut();
                enum_.directives.retain(|d| !machinery(&d.name));
                enum_
                    .values
                    .retain(|_, v| !v.directives.has("inaccessible"));
                for value in enum_.values.values_mut() {
                    value.make_mut().directives.retain(|d| !machinery(&d.name));
                }
            }
            ExtendedType::InputObject(input) => {
                let input = input.make_mut();
                input.directives.retain(|d| !machinery(&d.name));
                input
                    .fields
                    .retain(|_, f| !f.directives.has("inaccessible") && !hidden_type(&f.ty));
                for field in input.fields.values_mut() {
                    field.make_mut().directives.retain(|d| !machinery(&d.name));
                }
            }
            ExtendedType::Scalar(scalar) => {
                let scalar: &mut apollo_compiler::schema::ScalarType = Node::make_mut(scalar);
                scalar.directives.retain(|d| !machinery(&d.name));
            }
        }
    }
    schema
        .validate()
        .map_err(|e| SupergraphError::InvalidSchema(format!("API schema: {}", e.errors)))
}

/// `<namespace>__` for every spec the supergraph links (`requiresScopes__` for the scopes'
/// scalar, say): such types belong to the spec, not to what clients query.
fn linked_type_prefixes(supergraph: &Schema) -> Vec<String> {
    supergraph
        .schema_definition
        .directives
        .get_all("link")
        .filter_map(|link| {
            let named = link
                .specified_argument_by_name("as")
                .and_then(|name| name.as_str());
            let url = link.specified_argument_by_name("url")?.as_str()?;
            let mut segments = url.trim_end_matches('/').rsplit('/');
            let version = segments.next()?;
            let namespace =
                named.or_else(|| version.starts_with('v').then(|| segments.next())?)?;
            Some(format!("{namespace}__"))
        })
        .collect()
}

/// Removes inaccessible fields and arguments (and those of hidden types) and machinery directives,
/// for object and interface types alike.
fn clean_fields(
    fields: &mut apollo_compiler::collections::IndexMap<
        apollo_compiler::Name,
        apollo_compiler::schema::Component<apollo_compiler::schema::FieldDefinition>,
    >,
    hidden_type: &dyn Fn(&Type) -> bool,
    machinery: &dyn Fn(&str) -> bool,
) {
    fields.retain(|_, f| !f.directives.has("inaccessible") && !hidden_type(&f.ty));
    for field in fields.values_mut() {
        let field = field.make_mut();
        field.directives.retain(|d| !machinery(&d.name));
        field
            .arguments
            .retain(|a| !a.directives.has("inaccessible") && !hidden_type(&a.ty));
        for arg in &mut field.arguments {
            arg.make_mut().directives.retain(|d| !machinery(&d.name));
        }
    }
}

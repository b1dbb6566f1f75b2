//! `@cost` and `@listSize` (demand control, federation v2.9) through composition.
//!
//! Apollo keeps both directives in the supergraph, so gateways can estimate what an operation
//! costs the subgraphs. Seam does the same, the way Apollo does it, so that Seam's supergraph and
//! Apollo's give every gateway the same weights:
//!
//! - each subgraph's applications are checked where Apollo checks them ([`read_subgraph`]);
//! - an element defined in several subgraphs gets the largest weight, and for list sizes the
//!   largest assumed size, every slicing argument and sized field, and
//!   `requireOneSlicingArgument` only where every subgraph agrees ([`merge_application`]);
//! - the supergraph links the cost spec and uses the names the subgraphs apply the directives
//!   under (`@cost`, an import's `as:`, `@federation__cost`), which must be the same in every
//!   subgraph ([`supergraph_names`]).
//!
//! Inside composition the directives carry their canonical names (`cost`, `listSize`), like
//! `@tag` and `@inaccessible`; [`name_applications`] gives them the supergraph's names last.

use std::fmt::Write as _;

use apollo_compiler::ast::{Argument, Directive, FieldDefinition, Value};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::{Name, Node, Schema};

use super::errors::{join_with_and, quoted_list, subgraphs_word, CompositionError, ErrorCode};
use super::links::FederationNames;
use super::model::SuperType;
use super::subgraph::Subgraph;

const COST_SPEC_URL: &str = "https://specs.apollo.dev/cost/v0.1";
const COST: &str = "cost";
const LIST_SIZE: &str = "listSize";
/// The federation version that introduced both directives.
const FIRST_MINOR_VERSION: u32 = 9;

/// The names one subgraph applies the directives under; `None` when it does not apply one.
#[derive(Debug, Clone, Default)]
pub(crate) struct UsedNames {
    pub cost: Option<Name>,
    pub list_size: Option<Name>,
}

/// How the supergraph names the two directives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SupergraphNames {
    cost: Name,
    list_size: Name,
    /// A subgraph applies `@listSize`, so the link imports it; otherwise its definition keeps the
    /// spec's prefixed name (`cost__listSize`), as Apollo prints it.
    list_size_imported: bool,
}

/// Checks a subgraph's `@cost` and `@listSize` applications and returns the names it applies
/// them under. `schema` is the subgraph as written, before root types are renamed.
pub(crate) fn read_subgraph(
    subgraph: &str,
    schema: &Schema,
    names: &FederationNames,
    errors: &mut Vec<CompositionError>,
) -> UsedNames {
    let mut reader = Reader {
        subgraph,
        schema,
        names,
        errors,
        used: UsedNames::default(),
    };
    for (type_name, ty) in &schema.types {
        if ty.is_built_in() || names.is_federation_type(type_name, ty.is_scalar()) {
            continue;
        }
        reader.read_type(type_name, ty);
    }
    let used = reader.used;
    if names.fed2 && names.minor_version < FIRST_MINOR_VERSION {
        for local in [&used.cost, &used.list_size].into_iter().flatten() {
            errors.push(CompositionError::new(
                ErrorCode::InvalidLinkDirectiveUsage,
                format!(
                    "[{subgraph}] @{local} needs federation v2.{FIRST_MINOR_VERSION} or later, \
                     but the subgraph links federation v2.{}",
                    names.minor_version
                ),
            ));
        }
    }
    used
}

/// Where a directive is applied, as far as the two directives' locations care.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    /// An object, scalar or enum type: the locations `@cost` allows on types.
    WeightedType,
    OtherType,
    ObjectField,
    InterfaceField,
    Argument,
    InputField,
    EnumValue,
}

struct Reader<'a> {
    subgraph: &'a str,
    schema: &'a Schema,
    names: &'a FederationNames,
    errors: &'a mut Vec<CompositionError>,
    used: UsedNames,
}

impl Reader<'_> {
    fn read_type(&mut self, type_name: &Name, ty: &ExtendedType) {
        let place = match ty {
            ExtendedType::Object(_) | ExtendedType::Scalar(_) | ExtendedType::Enum(_) => {
                Place::WeightedType
            }
            _ => Place::OtherType,
        };
        for directive in ty.directives().iter() {
            self.read_directive(directive, place, type_name.as_str(), None);
        }
        let (fields, place) = match ty {
            ExtendedType::Object(object) => (&object.fields, Place::ObjectField),
            ExtendedType::Interface(interface) => (&interface.fields, Place::InterfaceField),
            ExtendedType::InputObject(input) => {
                for (name, field) in &input.fields {
                    let coordinate = format!("{type_name}.{name}");
                    for directive in field.directives.iter() {
                        self.read_directive(directive, Place::InputField, &coordinate, None);
                    }
                }
                return;
            }
            ExtendedType::Enum(enum_type) => {
                for (name, value) in &enum_type.values {
                    let coordinate = format!("{type_name}.{name}");
                    for directive in value.directives.iter() {
                        self.read_directive(directive, Place::EnumValue, &coordinate, None);
                    }
                }
                return;
            }
            _ => return,
        };
        for (name, field) in fields {
            let coordinate = format!("{type_name}.{name}");
            for directive in field.directives.iter() {
                self.read_directive(directive, place, &coordinate, Some(field));
            }
            for argument in &field.arguments {
                let coordinate = format!("{type_name}.{name}({}:)", argument.name);
                for directive in argument.directives.iter() {
                    self.read_directive(directive, Place::Argument, &coordinate, None);
                }
            }
        }
    }

    fn read_directive(
        &mut self,
        directive: &Node<Directive>,
        place: Place,
        coordinate: &str,
        field: Option<&FieldDefinition>,
    ) {
        let local = &directive.name;
        match self.names.canonical(local) {
            Some(COST) => {
                self.used.cost.get_or_insert_with(|| local.clone());
                self.check_cost(directive, place, coordinate);
            }
            Some(LIST_SIZE) => {
                self.used.list_size.get_or_insert_with(|| local.clone());
                match (place, field) {
                    (Place::ObjectField | Place::InterfaceField, Some(field)) => {
                        self.check_list_size(directive, coordinate, field)
                    }
                    _ => self.misplaced(local, coordinate),
                }
            }
            _ => {}
        }
    }

    fn check_cost(&mut self, directive: &Directive, place: Place, coordinate: &str) {
        let local = &directive.name;
        match place {
            Place::WeightedType | Place::ObjectField | Place::Argument | Place::InputField => {}
            Place::InterfaceField => {
                self.error(
                    ErrorCode::CostAppliedToInterfaceField,
                    format!(
                        "@{local} cannot be applied to the interface field {coordinate}: \
                         implementations resolve it, so weigh their fields instead"
                    ),
                );
                return;
            }
            Place::OtherType | Place::EnumValue => {
                self.misplaced(local, coordinate);
                return;
            }
        }
        let weight = directive.specified_argument_by_name("weight");
        if weight.is_none_or(|weight| int_value(weight).is_none()) {
            let found = weight.map_or("nothing".to_string(), |w| w.serialize().to_string());
            self.error(
                ErrorCode::InvalidGraphql,
                format!("@{local} on {coordinate} needs an Int `weight`, got {found}"),
            );
        }
    }

    fn check_list_size(
        &mut self,
        directive: &Directive,
        coordinate: &str,
        field: &FieldDefinition,
    ) {
        let local = &directive.name;
        if let Some(size) = directive.specified_argument_by_name("assumedSize") {
            match int_value(size) {
                Some(size) if size < 0 => self.error(
                    ErrorCode::ListSizeInvalidAssumedSize,
                    format!(
                        "@{local} on {coordinate} assumes {size} items; a size cannot be negative"
                    ),
                ),
                Some(_) => {}
                None => self.error(
                    ErrorCode::InvalidGraphql,
                    format!(
                        "@{local} on {coordinate} needs an Int `assumedSize`, got {}",
                        size.serialize()
                    ),
                ),
            }
        }
        for name in string_list(directive, "slicingArguments") {
            let problem = match field.arguments.iter().find(|arg| arg.name == name.as_str()) {
                None => "is not an argument of the field",
                Some(arg) if arg.ty.is_list() || arg.ty.inner_named_type() != "Int" => {
                    "is not of type Int or Int!"
                }
                Some(_) => continue,
            };
            self.error(
                ErrorCode::ListSizeInvalidSlicingArgument,
                format!("@{local} on {coordinate}: the slicing argument \"{name}\" {problem}"),
            );
        }
        let sized_fields = string_list(directive, "sizedFields");
        let returned = field.ty.inner_named_type();
        for name in &sized_fields {
            let sized = match self.schema.types.get(returned) {
                Some(ExtendedType::Object(object)) => object.fields.get(name.as_str()),
                Some(ExtendedType::Interface(interface)) => interface.fields.get(name.as_str()),
                _ => None,
            };
            let problem = match sized {
                None => format!("is not a field of {returned}"),
                Some(sized) if !sized.ty.is_list() => format!("({returned}.{name}) is not a list"),
                Some(_) => continue,
            };
            self.error(
                ErrorCode::ListSizeInvalidSizedField,
                format!("@{local} on {coordinate}: the sized field \"{name}\" {problem}"),
            );
        }
        if !field.ty.is_list() && sized_fields.is_empty() {
            self.error(
                ErrorCode::ListSizeAppliedToNonList,
                format!(
                    "@{local} on {coordinate}: the field does not return a list; name the lists \
                     of the object it returns in `sizedFields`"
                ),
            );
        }
    }

    fn misplaced(&mut self, local: &Name, coordinate: &str) {
        self.error(
            ErrorCode::InvalidGraphql,
            format!("@{local} cannot be applied to {coordinate}"),
        );
    }

    fn error(&mut self, code: ErrorCode, message: String) {
        self.errors.push(CompositionError::new(
            code,
            format!("[{}] {message}", self.subgraph),
        ));
    }
}

/// An `Int` literal that fits GraphQL's 32-bit `Int`.
fn int_value(value: &Value) -> Option<i32> {
    match value {
        Value::Int(int) => int.try_to_i32().ok(),
        _ => None,
    }
}

/// A `[String!]` argument's strings; a lone string counts as a list of one, as input coercion
/// has it.
fn string_list(directive: &Directive, argument: &str) -> Vec<String> {
    match directive
        .specified_argument_by_name(argument)
        .map(|v| v.as_ref())
    {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|item| item.as_str())
            .map(str::to_string)
            .collect(),
        Some(Value::String(one)) => vec![one.to_string()],
        _ => Vec::new(),
    }
}

/// Merges one subgraph's `@cost` or `@listSize` into an element's directives (canonical names);
/// returns `false`, touching nothing, for any other directive. An application that agrees with
/// the one already there changes nothing, so a single subgraph's arguments print as written.
pub(crate) fn merge_application(
    into: &mut Vec<Node<Directive>>,
    directive: &Node<Directive>,
) -> bool {
    let name = directive.name.as_str();
    if name != COST && name != LIST_SIZE {
        return false;
    }
    match into
        .iter_mut()
        .find(|existing| existing.name == directive.name)
    {
        None => into.push(directive.clone()),
        Some(existing) if existing.arguments == directive.arguments => {}
        Some(existing) if name == COST => {
            let weight = |d: &Directive| {
                d.specified_argument_by_name("weight")
                    .and_then(|w| int_value(w))
            };
            if weight(directive) > weight(existing) {
                *existing = directive.clone();
            }
        }
        Some(existing) => *existing = Node::new(merged_list_size(existing, directive)),
    }
    true
}

/// Two different `@listSize`s of one field, merged as Apollo merges them, with the arguments in
/// the order the directive defines them.
fn merged_list_size(first: &Directive, second: &Directive) -> Directive {
    let mut arguments = Vec::new();
    let both = [first, second];
    let sizes = both.iter().filter_map(|d| {
        d.specified_argument_by_name("assumedSize")
            .and_then(|v| int_value(v))
    });
    if let Some(size) = sizes.max() {
        arguments.push(argument("assumedSize", Value::Int(size.into())));
    }
    for list in ["slicingArguments", "sizedFields"] {
        let present = both
            .iter()
            .any(|d| d.specified_argument_by_name(list).is_some());
        if !present {
            continue;
        }
        let mut union: Vec<String> = Vec::new();
        for item in string_list(first, list)
            .into_iter()
            .chain(string_list(second, list))
        {
            if !union.contains(&item) {
                union.push(item);
            }
        }
        let items = union
            .into_iter()
            .map(|item| Node::new(Value::String(item)))
            .collect();
        arguments.push(argument(list, Value::List(items)));
    }
    let require_one = both.iter().filter_map(|d| {
        match d
            .specified_argument_by_name("requireOneSlicingArgument")
            .map(|v| v.as_ref())
        {
            Some(Value::Boolean(value)) => Some(*value),
            _ => None,
        }
    });
    let mut seen = false;
    let mut all = true;
    for value in require_one {
        seen = true;
        all &= value;
    }
    if seen {
        arguments.push(argument("requireOneSlicingArgument", Value::Boolean(all)));
    }
    Directive {
        name: first.name.clone(),
        arguments,
    }
}

fn argument(name: &str, value: Value) -> Node<Argument> {
    Node::new(Argument {
        name: Name::new_unchecked(name),
        value: Node::new(value),
    })
}

/// The names the supergraph gives the directives, or `None` when no subgraph applies either
/// (then the cost spec is not linked). Apollo links the spec when any subgraph applies one of
/// them, even where merging drops the element that carried it.
pub(crate) fn supergraph_names(
    subgraphs: &[Subgraph],
    errors: &mut Vec<CompositionError>,
) -> Option<SupergraphNames> {
    let cost = agreed_name(subgraphs, COST, |used| used.cost.as_ref(), errors);
    let list_size = agreed_name(subgraphs, LIST_SIZE, |used| used.list_size.as_ref(), errors);
    if cost.is_none() && list_size.is_none() {
        return None;
    }
    let cost = cost.unwrap_or_else(|| Name::new_unchecked(COST));
    Some(SupergraphNames {
        list_size_imported: list_size.is_some(),
        list_size: list_size
            .unwrap_or_else(|| Name::new_unchecked(&format!("{COST}__{LIST_SIZE}"))),
        cost,
    })
}

/// The one name every subgraph that applies the directive uses for it.
fn agreed_name(
    subgraphs: &[Subgraph],
    canonical: &str,
    used: impl Fn(&UsedNames) -> Option<&Name>,
    errors: &mut Vec<CompositionError>,
) -> Option<Name> {
    let mut by_name: Vec<(&Name, Vec<&str>)> = Vec::new();
    for subgraph in subgraphs {
        let Some(name) = used(&subgraph.cost_names) else {
            continue;
        };
        match by_name.iter_mut().find(|(seen, _)| *seen == name) {
            Some((_, users)) => users.push(&subgraph.name),
            None => by_name.push((name, vec![subgraph.name.as_str()])),
        }
    }
    if by_name.len() > 1 {
        let described: Vec<String> = by_name
            .iter()
            .map(|(name, users)| {
                format!(
                    "@{name} in {} {}",
                    subgraphs_word(users.len()),
                    quoted_list(users)
                )
            })
            .collect();
        errors.push(CompositionError::new(
            ErrorCode::LinkImportNameMismatch,
            format!(
                "@{canonical} is applied under different names: {}; the supergraph has one name \
                 for it, so import it under the same name in every subgraph",
                join_with_and(&described)
            ),
        ));
    }
    by_name.first().map(|(name, _)| (*name).clone())
}

/// Gives every `@cost` and `@listSize` application the supergraph's name.
pub(crate) fn name_applications(types: &mut [SuperType], names: &SupergraphNames) {
    if names.cost == COST && names.list_size == LIST_SIZE {
        return;
    }
    let rename = |directives: &mut Vec<Node<Directive>>| {
        for directive in directives.iter_mut() {
            let name = match directive.name.as_str() {
                COST => &names.cost,
                LIST_SIZE => &names.list_size,
                _ => continue,
            };
            directive.make_mut().name = name.clone();
        }
    };
    for ty in types {
        rename(&mut ty.directives);
        for field in ty.fields.values_mut() {
            rename(&mut field.directives);
            for arg in &mut field.args {
                rename(&mut arg.directives);
            }
        }
        for value in ty.values.values_mut() {
            rename(&mut value.directives);
        }
    }
}

/// The cost spec's `@link` on the schema definition, with the imports the names need.
pub(crate) fn link(names: &SupergraphNames) -> String {
    let mut imports = Vec::new();
    // `@cost` is the spec's own directive: it needs no import under its own name.
    if names.cost != COST {
        imports.push(format!("{{name: \"@{COST}\", as: \"@{}\"}}", names.cost));
    }
    if names.list_size_imported {
        if names.list_size == LIST_SIZE {
            imports.push(format!("\"@{LIST_SIZE}\""));
        } else {
            imports.push(format!(
                "{{name: \"@{LIST_SIZE}\", as: \"@{}\"}}",
                names.list_size
            ));
        }
    }
    let mut link = format!("@link(url: \"{COST_SPEC_URL}\"");
    if !imports.is_empty() {
        let _ = write!(link, ", import: [{}]", imports.join(", "));
    }
    link.push(')');
    link
}

/// `(name, definition)` of both directives: the supergraph defines both whichever it applies.
pub(crate) fn definitions(names: &SupergraphNames) -> [(String, String); 2] {
    [
        (
            names.cost.to_string(),
            format!(
                "directive @{}(weight: Int!) on ARGUMENT_DEFINITION | ENUM | FIELD_DEFINITION | \
                 INPUT_FIELD_DEFINITION | OBJECT | SCALAR",
                names.cost
            ),
        ),
        (
            names.list_size.to_string(),
            format!(
                "directive @{}(assumedSize: Int, slicingArguments: [String!], sizedFields: \
                 [String!], requireOneSlicingArgument: Boolean = true) on FIELD_DEFINITION",
                names.list_size
            ),
        ),
    ]
}

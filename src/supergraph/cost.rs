//! The cost model: `@cost` weights and `@listSize` list sizes, read from any supergraph (Seam's,
//! Apollo's, Hive's) and indexed once per schema, so estimating an operation's cost asks a hash
//! map per field instead of walking directives.
//!
//! Supergraphs link the cost spec (`@link(url: "https://specs.apollo.dev/cost/v0.1", ...)`) and
//! apply its directives under the names the subgraphs chose: `@cost` or an import's `as:`, and
//! `@listSize`, `@cost__listSize` or an `as:`. The names are read from the link, never assumed.
//! Weights are `Int`s in Apollo's spec and strings in newer supergraphs; both are read.

use std::collections::HashMap;

use apollo_compiler::ast::{DirectiveList, FieldDefinition, Value};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::{Name, Node, Schema};

use super::SupergraphError;

const COST_SPEC_PREFIX: &str = "https://specs.apollo.dev/cost/";

/// Everything the supergraph says about what its fields cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostModel {
    /// `@cost` on object, scalar and enum types: what a field, argument or input field of that
    /// type weighs unless it carries a `@cost` of its own.
    type_weights: HashMap<Name, f64>,
    /// Per object or interface type, its fields that carry `@cost`, `@listSize` or weighted
    /// arguments; the others cost what their type costs.
    fields: HashMap<Name, HashMap<Name, FieldCost>>,
    /// Every field of every input object type, weighted or not: arguments are costed by walking
    /// their values, which needs each input field's type.
    input_fields: HashMap<Name, HashMap<Name, InputFieldCost>>,
    /// The names the supergraph applies the cost spec's directives under; the API schema drops
    /// them, as it drops every linked spec's directives.
    directive_names: Vec<Name>,
}

/// What one output field says about its cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldCost {
    /// `@cost` on the field itself, which replaces its type's weight.
    pub weight: Option<f64>,
    /// `@cost` on its arguments.
    pub arguments: HashMap<Name, f64>,
    pub list_size: Option<ListSize>,
}

/// `@listSize`: how many items a list field returns.
#[derive(Debug, Clone, PartialEq)]
pub struct ListSize {
    /// The size when no slicing argument says otherwise.
    pub assumed_size: Option<u32>,
    /// Arguments whose value is the size (the largest one given wins). A path reaches into an
    /// input object (`input.pagination.first`); most are one argument name.
    pub slicing_arguments: Vec<Vec<Name>>,
    /// Lists inside the returned object that have the size instead of the field itself
    /// (`edges` of a connection).
    pub sized_fields: Vec<SizedField>,
    /// A request must give exactly one slicing argument.
    pub require_one_slicing_argument: bool,
}

/// One `sizedFields` entry: a field of the returned type, or a path into it
/// (`"results { page }"` sizes `page` inside `results`).
#[derive(Debug, Clone, PartialEq)]
pub struct SizedField {
    pub name: Name,
    /// Empty when the field itself is the sized list.
    pub nested: Vec<SizedField>,
}

/// One input object field, for costing argument values.
#[derive(Debug, Clone, PartialEq)]
pub struct InputFieldCost {
    /// Its named type, to follow nested input objects and read the type's weight.
    pub type_name: Name,
    /// `@cost` on the input field itself.
    pub weight: Option<f64>,
}

impl CostModel {
    /// Reads the cost information of a supergraph. A supergraph that does not link the cost spec
    /// gives an empty model, in which only the default costs apply.
    pub fn read(schema: &Schema) -> Result<Self, SupergraphError> {
        let mut model = CostModel::default();
        let Some(names) = DirectiveNames::of(schema) else {
            return Ok(model);
        };
        model.directive_names = vec![names.cost.clone(), names.list_size.clone()];
        for (type_name, ty) in &schema.types {
            if ty.is_built_in()
                || type_name.starts_with("join__")
                || type_name.starts_with("link__")
            {
                continue;
            }
            match ty {
                ExtendedType::Object(_) | ExtendedType::Scalar(_) | ExtendedType::Enum(_) => {
                    let directives = ty.directives().iter().map(|d| &d.node);
                    if let Some(weight) = names.weight(directives, type_name)? {
                        model.type_weights.insert(type_name.clone(), weight);
                    }
                }
                _ => {}
            }
            let fields = match ty {
                ExtendedType::Object(object) => &object.fields,
                ExtendedType::Interface(interface) => &interface.fields,
                ExtendedType::InputObject(input) => {
                    let mut fields = HashMap::new();
                    for (name, field) in &input.fields {
                        let coordinate = format!("{type_name}.{name}");
                        let weight = names.weight(field.directives.iter(), &coordinate)?;
                        let type_name = field.ty.inner_named_type().clone();
                        fields.insert(name.clone(), InputFieldCost { type_name, weight });
                    }
                    model.input_fields.insert(type_name.clone(), fields);
                    continue;
                }
                _ => continue,
            };
            let mut costs = HashMap::new();
            for (name, field) in fields {
                let cost = names.field(schema, type_name, field)?;
                if cost != FieldCost::default() {
                    costs.insert(name.clone(), cost);
                }
            }
            if !costs.is_empty() {
                model.fields.insert(type_name.clone(), costs);
            }
        }
        Ok(model)
    }

    /// `@cost` of an object, scalar or enum type.
    pub fn type_weight(&self, type_name: &str) -> Option<f64> {
        self.type_weights.get(type_name).copied()
    }

    /// The cost information of `type_name.field_name`, when it has any.
    pub fn field(&self, type_name: &str, field_name: &str) -> Option<&FieldCost> {
        self.fields.get(type_name)?.get(field_name)
    }

    /// The input fields of an input object type; `None` for any other type.
    pub fn input_fields(&self, type_name: &str) -> Option<&HashMap<Name, InputFieldCost>> {
        self.input_fields.get(type_name)
    }

    /// The names of the cost spec's directives in this supergraph (none without the spec).
    pub fn directive_names(&self) -> &[Name] {
        &self.directive_names
    }
}

/// The names a supergraph gives the cost spec's directives.
struct DirectiveNames {
    cost: Name,
    list_size: Name,
}

impl DirectiveNames {
    /// Read from the cost spec's `@link`: `@cost` is the spec's own directive and takes the
    /// link's name (`cost`, or its `as:`), `@listSize` is `<name>__listSize`, and an import
    /// overrides either. A supergraph written by hand without the link may still define
    /// `@cost`; then the plain names apply.
    fn of(schema: &Schema) -> Option<Self> {
        let link = schema
            .schema_definition
            .directives
            .get_all("link")
            .find(|link| {
                link.specified_argument_by_name("url")
                    .and_then(|url| url.as_str())
                    .is_some_and(|url| url.starts_with(COST_SPEC_PREFIX))
            });
        let Some(link) = link else {
            return schema
                .directive_definitions
                .contains_key("cost")
                .then(|| DirectiveNames {
                    cost: Name::new_unchecked("cost"),
                    list_size: Name::new_unchecked("listSize"),
                });
        };
        let namespace = link
            .specified_argument_by_name("as")
            .and_then(|name| name.as_str())
            .unwrap_or("cost");
        let mut names = DirectiveNames {
            cost: Name::new(namespace).ok()?,
            list_size: Name::new(&format!("{namespace}__listSize")).ok()?,
        };
        for import in super::link_imports::link_imports(link) {
            let (imported, local) = (import.name, import.local);
            let Ok(local) = Name::new(local.trim_start_matches('@')) else {
                continue;
            };
            match imported {
                "@cost" => names.cost = local,
                "@listSize" => names.list_size = local,
                _ => {}
            }
        }
        Some(names)
    }

    /// The weight of a `@cost` among `directives`, if there is one.
    fn weight<'a>(
        &self,
        directives: impl IntoIterator<Item = &'a Node<apollo_compiler::ast::Directive>>,
        coordinate: &str,
    ) -> Result<Option<f64>, SupergraphError> {
        let Some(cost) = directives.into_iter().find(|d| d.name == self.cost) else {
            return Ok(None);
        };
        let weight = match cost
            .specified_argument_by_name("weight")
            .map(|v| v.as_ref())
        {
            Some(Value::Int(int)) => int.try_to_f64().ok(),
            Some(Value::Float(float)) => float.try_to_f64().ok(),
            Some(Value::String(text)) => text.trim().parse::<f64>().ok(),
            _ => None,
        };
        match weight.filter(|weight| weight.is_finite()) {
            Some(weight) => Ok(Some(weight)),
            None => Err(invalid(
                "cost",
                coordinate,
                "`weight` must be a number (an Int, or a string holding one)",
            )),
        }
    }

    fn field(
        &self,
        schema: &Schema,
        type_name: &Name,
        field: &FieldDefinition,
    ) -> Result<FieldCost, SupergraphError> {
        let coordinate = format!("{type_name}.{}", field.name);
        let mut cost = FieldCost {
            weight: self.weight(field.directives.iter(), &coordinate)?,
            ..FieldCost::default()
        };
        for argument in &field.arguments {
            let coordinate = format!("{coordinate}({}:)", argument.name);
            if let Some(weight) = self.weight(argument.directives.iter(), &coordinate)? {
                cost.arguments.insert(argument.name.clone(), weight);
            }
        }
        cost.list_size = self.list_size(schema, &field.directives, field, &coordinate)?;
        Ok(cost)
    }

    fn list_size(
        &self,
        schema: &Schema,
        directives: &DirectiveList,
        field: &FieldDefinition,
        coordinate: &str,
    ) -> Result<Option<ListSize>, SupergraphError> {
        let Some(directive) = directives.iter().find(|d| d.name == self.list_size) else {
            return Ok(None);
        };
        let argument = |name: &str| {
            directive
                .specified_argument_by_name(name)
                .map(|v| v.as_ref())
        };
        let assumed_size = match argument("assumedSize") {
            None | Some(Value::Null) => None,
            Some(Value::Int(int)) => match int.try_to_i32().ok().map(u32::try_from) {
                Some(Ok(size)) => Some(size),
                _ => {
                    return Err(invalid(
                        "listSize",
                        coordinate,
                        "`assumedSize` must be an Int from 0 up",
                    ))
                }
            },
            Some(_) => {
                return Err(invalid(
                    "listSize",
                    coordinate,
                    "`assumedSize` must be an Int",
                ))
            }
        };
        let mut slicing_arguments = Vec::new();
        for text in strings(argument("slicingArguments")) {
            let path: Option<Vec<Name>> = text
                .split('.')
                .map(|part| Name::new(part.trim()).ok())
                .collect();
            match path {
                Some(path) if field.arguments.iter().any(|arg| arg.name == path[0]) => {
                    slicing_arguments.push(path)
                }
                _ => {
                    return Err(invalid(
                        "listSize",
                        coordinate,
                        &format!("the slicing argument \"{text}\" is not an argument of the field"),
                    ))
                }
            }
        }
        let mut sized_fields = Vec::new();
        for text in strings(argument("sizedFields")) {
            let parsed = parse_sized_fields(&text).filter(|parsed| !parsed.is_empty());
            let returned = schema.types.get(field.ty.inner_named_type());
            let known = |sized: &SizedField| match returned {
                Some(ExtendedType::Object(object)) => object.fields.contains_key(&sized.name),
                Some(ExtendedType::Interface(interface)) => {
                    interface.fields.contains_key(&sized.name)
                }
                _ => false,
            };
            match parsed {
                Some(parsed) if parsed.iter().all(known) => sized_fields.extend(parsed),
                _ => {
                    return Err(invalid(
                        "listSize",
                        coordinate,
                        &format!(
                            "the sized field \"{text}\" is not a field of {}",
                            field.ty.inner_named_type()
                        ),
                    ))
                }
            }
        }
        let require_one_slicing_argument = match argument("requireOneSlicingArgument") {
            None | Some(Value::Null) => true,
            Some(Value::Boolean(value)) => *value,
            Some(_) => {
                return Err(invalid(
                    "listSize",
                    coordinate,
                    "`requireOneSlicingArgument` must be a Boolean",
                ))
            }
        };
        Ok(Some(ListSize {
            assumed_size,
            slicing_arguments,
            sized_fields,
            require_one_slicing_argument,
        }))
    }
}

/// A `[String!]` argument's strings; a lone string counts as a list of one.
fn strings(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::List(items)) => items
            .iter()
            .filter_map(|item| item.as_str())
            .map(str::to_string)
            .collect(),
        Some(Value::String(one)) => vec![one.to_string()],
        _ => Vec::new(),
    }
}

/// Parses a `sizedFields` entry: field names, each optionally followed by `{ ... }` with the
/// names inside it (`"results { page }"`). `None` when it is not that shape.
fn parse_sized_fields(text: &str) -> Option<Vec<SizedField>> {
    let spaced = text.replace('{', " { ").replace('}', " } ");
    let mut tokens = spaced.split_whitespace().peekable();
    let fields = parse_sized_level(&mut tokens, 0)?;
    tokens.next().is_none().then_some(fields)
}

/// Nesting past this is refused rather than followed: no schema needs it, and the parser
/// recurses once per level.
const MAX_SIZED_FIELD_DEPTH: usize = 16;

fn parse_sized_level<'a>(
    tokens: &mut std::iter::Peekable<impl Iterator<Item = &'a str>>,
    depth: usize,
) -> Option<Vec<SizedField>> {
    if depth > MAX_SIZED_FIELD_DEPTH {
        return None;
    }
    let mut fields: Vec<SizedField> = Vec::new();
    while let Some(&token) = tokens.peek() {
        match token {
            "}" => break,
            "{" => {
                tokens.next();
                let nested = parse_sized_level(tokens, depth + 1)?;
                if tokens.next() != Some("}") || nested.is_empty() {
                    return None;
                }
                let parent = fields
                    .last_mut()
                    .filter(|parent| parent.nested.is_empty())?;
                parent.nested = nested;
            }
            name => {
                tokens.next();
                fields.push(SizedField {
                    name: Name::new(name).ok()?,
                    nested: Vec::new(),
                });
            }
        }
    }
    Some(fields)
}

fn invalid(directive: &'static str, coordinate: &str, message: &str) -> SupergraphError {
    SupergraphError::InvalidDirective {
        directive,
        coordinate: coordinate.to_owned(),
        message: message.to_owned(),
    }
}

#[cfg(test)]
mod tests;

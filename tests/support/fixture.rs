//! A generic test subgraph: a real async-graphql server (built with `async_graphql::dynamic`)
//! from a subgraph SDL and JSON data, so a federation case is data, not resolver code.
//!
//! # Data
//! ```json
//! { "Product": [ { "upc": "1", "name": "Table", "category": { "id": "c1" } } ],
//!   "Category": [ { "id": "c1", "name": "Furniture" } ],
//!   "Query": { "topProducts": [ { "upc": "1" } ] } }
//! ```
//! - A type name maps to its table (a list of rows). `Query`/`Mutation` map root field names to
//!   values.
//! - An object value is a reference when its fields (bar `__typename`) match exactly one row of
//!   its type's table: it is completed from that row, so references stay small. A value of an
//!   interface or union type names its concrete type with `__typename` (or matches exactly one
//!   row among the tables of the possible types).
//! - A root field without a data entry: its arguments that name a field of the return type
//!   filter that type's table (`product(upc: "1")`; `node(id:)` searches every implementing
//!   type); a list then answers the matching rows (the whole table without such arguments), a
//!   single value the first match.
//! - `_entities`: a representation finds the row of its `__typename`'s table (or of the tables of
//!   the implementing types, for an entity interface) whose fields equal any of the type's
//!   `@key` field sets, nested and compound keys included; no such row answers `null`. When the
//!   subgraph has no table at all for the type, the representation itself is the entity (an
//!   entity that only contributes `@requires` or computed fields needs no table). The
//!   representation's fields are merged into the row, which is how `@external` fields reach
//!   `@requires` computations.
//! - Any other field reads the parent's field of the same name; `computed` and `fail` override
//!   that per `(type, field)`.

#![allow(dead_code)]

mod data;
mod output;

use std::collections::HashMap;
use std::sync::Arc;

use apollo_compiler::ast;
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::Schema as SdlSchema;
use async_graphql::dynamic::{
    Enum, Field, FieldFuture, FieldValue, InputObject, InputValue, Interface, InterfaceField,
    Object, ResolverContext, Scalar, Schema, TypeRef, Union,
};
use async_graphql::{Name, Value as GqlValue};
use async_graphql_axum::GraphQL;
use axum::Router;
use serde_json::{Map, Value};

use data::FieldSelection;
use output::FixtureExtension;

/// Computes a field from its parent object (representation fields included) and its arguments
/// (a JSON object); the result is completed like data.
pub type Computed = Arc<dyn Fn(&Value, &Value) -> Value + Send + Sync>;

/// Federation plumbing the fixture defines itself; the SDL's own definitions of them (some
/// printers include them) are skipped.
const FEDERATION_TYPES: [&str; 3] = ["_Service", "_Any", "_Entity"];
const FEDERATION_ROOT_FIELDS: [&str; 2] = ["_service", "_entities"];

pub struct FixtureSubgraph {
    sdl: String,
    data: Value,
    computed: HashMap<(String, String), Computed>,
    failures: HashMap<(String, String), String>,
    plain: bool,
}

impl FixtureSubgraph {
    pub fn new(sdl: impl Into<String>) -> Self {
        FixtureSubgraph {
            sdl: sdl.into(),
            data: Value::Object(Map::new()),
            computed: HashMap::new(),
            failures: HashMap::new(),
            plain: false,
        }
    }

    /// `<dir>/<name>.graphql` as the SDL and `<dir>/<name>.json` (when present) as the data.
    pub fn load(dir: &std::path::Path, name: &str) -> Self {
        let sdl_path = dir.join(format!("{name}.graphql"));
        let sdl = std::fs::read_to_string(&sdl_path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", sdl_path.display()));
        let data_path = dir.join(format!("{name}.json"));
        let fixture = Self::new(sdl);
        match std::fs::read_to_string(&data_path) {
            Ok(text) => fixture.data(
                serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{} is not JSON: {e}", data_path.display())),
            ),
            Err(_) => fixture,
        }
    }

    pub fn data(mut self, data: Value) -> Self {
        self.data = data;
        self
    }

    pub fn computed(
        mut self,
        type_name: &str,
        field: &str,
        compute: impl Fn(&Value, &Value) -> Value + Send + Sync + 'static,
    ) -> Self {
        self.computed
            .insert((type_name.to_owned(), field.to_owned()), Arc::new(compute));
        self
    }

    /// Makes `type_name.field` answer a GraphQL error with `message`.
    pub fn fail(mut self, type_name: &str, field: &str, message: &str) -> Self {
        self.failures
            .insert((type_name.to_owned(), field.to_owned()), message.to_owned());
        self
    }

    /// A plain GraphQL service: no `_service`, no `_entities` (for stitching).
    pub fn plain(mut self) -> Self {
        self.plain = true;
        self
    }

    /// The executable schema; panics with the reason when the SDL or data cannot make one.
    pub fn schema(self) -> Schema {
        self.try_schema()
            .unwrap_or_else(|e| panic!("fixture subgraph: {e}"))
    }

    pub fn try_schema(self) -> Result<Schema, String> {
        let model = Arc::new(Model::new(self)?);
        build_schema(&model)
    }

    /// The schema served at POST `/graphql`.
    pub fn router(self) -> Router {
        Router::new().route_service("/graphql", GraphQL::new(self.schema()))
    }

    /// Like [`FixtureSubgraph::router`], but every operation is first validated by
    /// apollo-compiler against the served schema, as graphql-js servers (Apollo Server) do.
    /// async-graphql skips one of the spec's rules — fields answering under one response key
    /// must have the same shape, even on different object types — so without this a fetch a
    /// stricter subgraph refuses would pass unnoticed.
    pub fn strict_router(self) -> Router {
        let schema = self.schema();
        let served = match SdlSchema::parse(schema.sdl(), "subgraph.graphql") {
            Ok(parsed) => parsed,
            // Federation directives the printed SDL uses without defining them: the types,
            // which are what operations are checked against, are all there.
            Err(with_errors) => with_errors.partial,
        };
        let served = Arc::new(apollo_compiler::validation::Valid::assume_valid(served));
        let router = Router::new().route_service("/graphql", GraphQL::new(schema));
        router.layer(axum::middleware::from_fn(
            move |request: axum::extract::Request, next: axum::middleware::Next| {
                let served = served.clone();
                async move {
                    let (parts, body) = request.into_parts();
                    let bytes = axum::body::to_bytes(body, usize::MAX)
                        .await
                        .unwrap_or_default();
                    let query = serde_json::from_slice::<Value>(&bytes)
                        .ok()
                        .and_then(|body| body["query"].as_str().map(str::to_owned));
                    if let Some(query) = query {
                        let checked = apollo_compiler::ExecutableDocument::parse_and_validate(
                            &served,
                            query,
                            "operation.graphql",
                        );
                        if let Err(invalid) = checked {
                            let body = serde_json::json!({ "errors": [{
                                "message": invalid.errors.to_string(),
                                "extensions": { "code": "GRAPHQL_VALIDATION_FAILED" }
                            }] });
                            return axum::response::IntoResponse::into_response((
                                axum::http::StatusCode::BAD_REQUEST,
                                axum::Json(body),
                            ));
                        }
                    }
                    next.run(axum::extract::Request::from_parts(
                        parts,
                        axum::body::Body::from(bytes),
                    ))
                    .await
                }
            },
        ))
    }
}

/// Everything a resolver needs, shared by all of them.
struct Model {
    sdl: String,
    schema: SdlSchema,
    tables: Map<String, Value>,
    computed: HashMap<(String, String), Computed>,
    failures: HashMap<(String, String), String>,
    /// `@key` field sets by type name (objects and entity interfaces).
    keys: HashMap<String, Vec<Vec<FieldSelection>>>,
    plain: bool,
    query_type: String,
    mutation_type: Option<String>,
}

impl Model {
    fn new(fixture: FixtureSubgraph) -> Result<Self, String> {
        let document = ast::Document::parse(&fixture.sdl, "subgraph.graphql")
            .map_err(|e| format!("the SDL does not parse:\n{}", e.errors))?;
        // A subgraph SDL is not a valid schema on its own (federation directives are not
        // defined, Fed v1 extends types it never defines): keep what could be built.
        let schema = match SdlSchema::builder()
            .adopt_orphan_extensions()
            .add_ast(&document)
            .build()
        {
            Ok(schema) => schema,
            Err(partial) => partial.partial,
        };
        let tables = match fixture.data {
            Value::Object(tables) => tables,
            Value::Null => Map::new(),
            other => return Err(format!("the data must be a JSON object, not {other}")),
        };
        let mut keys = HashMap::new();
        for (name, ty) in &schema.types {
            let directives = match ty {
                ExtendedType::Object(object) => &object.directives,
                ExtendedType::Interface(interface) => &interface.directives,
                _ => continue,
            };
            let field_sets: Vec<Vec<FieldSelection>> = directives
                .iter()
                .filter(|d| d.name == "key" || d.name == "federation__key")
                .filter_map(|d| d.specified_argument_by_name("fields"))
                .filter_map(|fields| fields.as_str())
                .map(data::parse_field_set)
                .collect();
            if !field_sets.is_empty() {
                keys.insert(name.to_string(), field_sets);
            }
        }
        let query_type = schema
            .schema_definition
            .query
            .as_ref()
            .map(|n| n.to_string())
            .unwrap_or_else(|| "Query".to_owned());
        let mutation_type = schema
            .schema_definition
            .mutation
            .as_ref()
            .map(|n| n.to_string())
            .or_else(|| {
                schema
                    .types
                    .contains_key("Mutation")
                    .then(|| "Mutation".to_owned())
            });
        Ok(Model {
            sdl: fixture.sdl,
            schema,
            tables,
            computed: fixture.computed,
            failures: fixture.failures,
            keys,
            plain: fixture.plain,
            query_type,
            mutation_type,
        })
    }

    fn is_root(&self, type_name: &str) -> bool {
        type_name == self.query_type || Some(type_name) == self.mutation_type.as_deref()
    }

    /// Object types that get into the `_Entity` union: those with a key, and the implementations
    /// of entity interfaces.
    fn entity_types(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for (name, ty) in &self.schema.types {
            if let ExtendedType::Object(object) = ty {
                let keyed = self.keys.contains_key(name.as_str())
                    || object
                        .implements_interfaces
                        .iter()
                        .any(|i| self.keys.contains_key(i.as_str()));
                if keyed && !self.is_root(name) {
                    names.push(name.to_string());
                }
            }
        }
        names
    }

    /// Resolves `type_name.field` for one parent: failure, computation, or data.
    fn resolve(
        &self,
        type_name: &str,
        field: &ast::FieldDefinition,
        parent: &Value,
        args: Value,
    ) -> Result<Value, String> {
        let key = (type_name.to_owned(), field.name.to_string());
        if let Some(message) = self.failures.get(&key) {
            return Err(message.clone());
        }
        if let Some(compute) = self.computed.get(&key) {
            return Ok(compute(parent, &args));
        }
        if self.is_root(type_name) {
            return Ok(self.root_value(type_name, field, &args));
        }
        Ok(parent
            .get(field.name.as_str())
            .cloned()
            .unwrap_or(Value::Null))
    }
}

fn build_schema(model: &Arc<Model>) -> Result<Schema, String> {
    let mutation = model.mutation_type.as_deref();
    let mut builder = Schema::build(&model.query_type, mutation, None).extension(FixtureExtension);
    let mut has_query = false;
    for (name, ty) in &model.schema.types {
        if ty.is_built_in() || FEDERATION_TYPES.contains(&name.as_str()) {
            continue;
        }
        builder = match ty {
            ExtendedType::Scalar(_) => builder.register(Scalar::new(name.as_str())),
            ExtendedType::Enum(e) => builder
                .register(Enum::new(name.as_str()).items(e.values.keys().map(|v| v.as_str()))),
            ExtendedType::Union(u) => builder.register(
                u.members
                    .iter()
                    .fold(Union::new(name.as_str()), |union, m| {
                        union.possible_type(m.as_str())
                    }),
            ),
            ExtendedType::InputObject(input) => {
                let mut object = InputObject::new(name.as_str());
                for field in input.fields.values() {
                    object = object.field(input_value(field)?);
                }
                builder.register(object)
            }
            ExtendedType::Interface(interface) => {
                let mut dynamic = Interface::new(name.as_str());
                for i in &interface.implements_interfaces {
                    dynamic = dynamic.implement(i.as_str());
                }
                for field in interface.fields.values() {
                    let mut dynamic_field =
                        InterfaceField::new(field.name.as_str(), type_ref(&field.ty));
                    for arg in &field.arguments {
                        dynamic_field = dynamic_field.argument(input_value(arg)?);
                    }
                    dynamic = dynamic.field(dynamic_field);
                }
                builder.register(dynamic)
            }
            ExtendedType::Object(object) => {
                let is_query = name.as_str() == model.query_type;
                has_query |= is_query;
                let mut dynamic = Object::new(name.as_str());
                for i in &object.implements_interfaces {
                    dynamic = dynamic.implement(i.as_str());
                }
                for field in object.fields.values() {
                    if is_query && FEDERATION_ROOT_FIELDS.contains(&field.name.as_str()) {
                        continue;
                    }
                    dynamic = dynamic.field(object_field(model, name.as_str(), field)?);
                }
                if is_query && !model.plain {
                    dynamic = add_federation_fields(model, dynamic);
                }
                builder.register(dynamic)
            }
        };
    }
    if !has_query {
        if model.plain {
            return Err("a plain subgraph needs a Query type".to_owned());
        }
        builder = builder.register(add_federation_fields(
            model,
            Object::new(model.query_type.as_str()),
        ));
    }
    if !model.plain {
        builder = register_federation_types(model, builder);
    }
    builder.finish().map_err(|e| format!("invalid schema: {e}"))
}

fn object_field(
    model: &Arc<Model>,
    type_name: &str,
    field: &ast::FieldDefinition,
) -> Result<Field, String> {
    let resolver_model = model.clone();
    let owner = type_name.to_owned();
    let definition = field.clone();
    let mut dynamic = Field::new(
        field.name.as_str(),
        type_ref(&field.ty),
        move |ctx: ResolverContext| {
            // Root fields have no JSON parent.
            let parent = ctx
                .parent_value
                .downcast_ref::<Value>()
                .unwrap_or(&Value::Null);
            let args = arguments_json(&ctx);
            let answer = resolver_model
                .resolve(&owner, &definition, parent, args)
                .and_then(|value| {
                    output::field_value(&resolver_model, &definition.ty, value, &ctx)
                });
            finished(answer)
        },
    );
    for arg in &field.arguments {
        dynamic = dynamic.argument(input_value(arg)?);
    }
    Ok(dynamic)
}

/// `_service { sdl }` (the SDL verbatim, which Seam composes from) and, when any type has a key,
/// `_entities`.
fn add_federation_fields(model: &Arc<Model>, query: Object) -> Object {
    let query = query.field(Field::new(
        "_service",
        TypeRef::named_nn("_Service"),
        |_| FieldFuture::Value(Some(FieldValue::owned_any(Value::Null))),
    ));
    if model.keys.is_empty() {
        return query;
    }
    let entities_model = model.clone();
    query.field(
        Field::new(
            "_entities",
            TypeRef::named_nn_list("_Entity"),
            move |ctx: ResolverContext| {
                let representations = ctx
                    .args
                    .get("representations")
                    .map(|r| r.as_value().clone())
                    .unwrap_or(GqlValue::Null);
                let answer = json(representations).and_then(|representations| {
                    output::entities(&entities_model, representations, &ctx)
                });
                finished(answer)
            },
        )
        .argument(InputValue::new(
            "representations",
            TypeRef::named_nn_list_nn("_Any"),
        )),
    )
}

fn register_federation_types(
    model: &Arc<Model>,
    builder: async_graphql::dynamic::SchemaBuilder,
) -> async_graphql::dynamic::SchemaBuilder {
    let sdl = model.sdl.clone();
    let service = Object::new("_Service").field(Field::new(
        "sdl",
        TypeRef::named(TypeRef::STRING),
        move |_| FieldFuture::Value(Some(FieldValue::value(sdl.clone()))),
    ));
    let builder = builder.register(service);
    if model.keys.is_empty() {
        return builder;
    }
    let entity = model
        .entity_types()
        .iter()
        .fold(Union::new("_Entity"), |union, name| {
            union.possible_type(name.as_str())
        });
    builder.register(Scalar::new("_Any")).register(entity)
}

fn finished<'a>(answer: Result<Option<FieldValue<'static>>, String>) -> FieldFuture<'a> {
    match answer {
        Ok(value) => FieldFuture::Value(value),
        Err(message) => FieldFuture::new(async move {
            Err::<Option<FieldValue>, _>(async_graphql::Error::new(message))
        }),
    }
}

/// The field's arguments (defaults applied) as a JSON object.
fn arguments_json(ctx: &ResolverContext) -> Value {
    let mut args = Map::new();
    for (name, value) in ctx.args.as_index_map() {
        if let Ok(value) = value.clone().into_json() {
            args.insert(name.to_string(), value);
        }
    }
    Value::Object(args)
}

fn json(value: GqlValue) -> Result<Value, String> {
    value.into_json().map_err(|e| e.to_string())
}

fn type_ref(ty: &ast::Type) -> TypeRef {
    match ty {
        ast::Type::Named(name) => TypeRef::named(name.as_str()),
        ast::Type::NonNullNamed(name) => TypeRef::named_nn(name.as_str()),
        ast::Type::List(inner) => TypeRef::List(Box::new(type_ref(inner))),
        ast::Type::NonNullList(inner) => {
            TypeRef::NonNull(Box::new(TypeRef::List(Box::new(type_ref(inner)))))
        }
    }
}

fn input_value(definition: &ast::InputValueDefinition) -> Result<InputValue, String> {
    let value = InputValue::new(definition.name.as_str(), type_ref(&definition.ty));
    Ok(match &definition.default_value {
        Some(default) => value.default_value(const_value(default)?),
        None => value,
    })
}

fn const_value(value: &ast::Value) -> Result<GqlValue, String> {
    Ok(match value {
        ast::Value::Null => GqlValue::Null,
        ast::Value::Enum(name) => GqlValue::Enum(Name::new(name.as_str())),
        ast::Value::Variable(name) => return Err(format!("a default value uses ${name}")),
        ast::Value::String(s) => GqlValue::String(s.clone()),
        ast::Value::Boolean(b) => GqlValue::Boolean(*b),
        ast::Value::Int(i) => GqlValue::Number(
            i.as_str()
                .parse::<i64>()
                .map_err(|e| format!("default {}: {e}", i.as_str()))?
                .into(),
        ),
        ast::Value::Float(f) => {
            let number = f
                .try_to_f64()
                .map_err(|_| format!("default {} overflows", f.as_str()))?;
            serde_json::Number::from_f64(number)
                .map(GqlValue::Number)
                .ok_or_else(|| format!("default {} is not a number", f.as_str()))?
        }
        ast::Value::List(items) => GqlValue::List(
            items
                .iter()
                .map(|item| const_value(item))
                .collect::<Result<_, _>>()?,
        ),
        ast::Value::Object(fields) => GqlValue::Object(
            fields
                .iter()
                .map(|(name, item)| Ok((Name::new(name.as_str()), const_value(item)?)))
                .collect::<Result<_, String>>()?,
        ),
    })
}

//! Shaping: the merged response tree projected onto the client's operation and written straight
//! out as JSON bytes.
//!
//! Projection applies aliases, fragments, `@skip`/`@include`, `__typename` and field order, and the
//! spec's null propagation: a null in a non-null position discards what was written for the nearest
//! nullable ancestor (the output buffer is truncated back to where that value began) and writes `null`.
//! Values are coerced as the spec's result coercion says: one that does not fit its field's type
//! (an object for a `String`, a string for an `Int`, an enum value the schema lacks) is null with
//! a `RESPONSE_VALIDATION_FAILED` error at its path. A field the request may not see (marked by
//! the auth filter, and never fetched) is null with an `UNAUTHORIZED_FIELD_OR_TYPE` error at
//! its path, and propagates like any null.

use apollo_compiler::executable::{DirectiveList, Field, Selection, SelectionSet};
use apollo_compiler::schema::{ExtendedType, Type};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Node, Schema};
use std::collections::hash_map::Entry;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Bound;
use std::rc::Rc;

use compact_str::CompactString;
use serde_json::Map;

use crate::response::value::{write_json_string, KeyLookup, Object, Value};

use crate::auth::filter::{UNAUTHORIZED_CODE, UNAUTHORIZED_MARK};
use crate::response::{GraphqlError, PathSegment};

pub struct ShapeInput<'a> {
    /// The API schema the operation was validated against.
    pub schema: &'a Valid<Schema>,
    pub document: &'a ExecutableDocument,
    pub selection_set: &'a SelectionSet,
    pub root_type: &'a str,
    pub variables: &'a Map<String, serde_json::Value>,
    /// Objects whose completing fetch failed (see `ExecutionOutput::failed_objects`).
    pub failed_objects: &'a [Vec<PathSegment>],
    /// The response's expected size in bytes (0: unknown), to allocate its buffer once.
    pub capacity: usize,
    /// `limits.max_response_bytes` (`None`: no limit): aliases can repeat a large selection,
    /// so the written response is bounded too, not only the merged tree.
    pub max_bytes: Option<usize>,
}

/// The response a query gets instead of one larger than `limits.max_response_bytes`: it failed
/// while executing, so it has `data`, null (GraphQL over HTTP).
pub fn too_large_body(limit: usize) -> Vec<u8> {
    let error = GraphqlError::new(
        format!(
            "the response would be larger than the gateway's limit of {limit} bytes \
             (limits.max_response_bytes); ask for fewer fields or smaller lists"
        ),
        "RESPONSE_TOO_LARGE",
    );
    let mut out = b"{\"data\":null,\"errors\":".to_vec();
    let _ = serde_json::to_writer(&mut out, &[error]);
    out.push(b'}');
    out
}

/// A non-null position was null: the nearest nullable ancestor becomes null.
struct Bubble;

#[derive(Clone, Copy)]
enum PathRef<'a> {
    Key(&'a str),
    Index(usize),
}

/// One response key of an object: the field written, with every selection merged under its key.
struct Collected<'a> {
    field: &'a Node<Field>,
    subsets: Vec<&'a SelectionSet>,
    /// Every selection under this key is one the request may not see.
    unauthorized: bool,
    /// What the field's named type is, looked up once for every value written under this key.
    kind: Kind<'a>,
}

/// A named type as shaping treats it. Every object of a response has fields and most of them
/// are leaves: finding each value's type by name in the schema was a hash lookup per value.
#[derive(Clone, Copy)]
enum Kind<'a> {
    Builtin(Builtin),
    Defined(&'a ExtendedType),
    /// A name the API schema lacks (validation makes it unreachable): written as it came.
    Unknown,
}

/// Shared so a cached list can be iterated while the shaper writes.
type CollectedFields<'a> = Rc<[Collected<'a>]>;

/// What one walk of a selection found (see `Shaper::scan`).
#[derive(Default)]
struct Scan {
    /// It asks for `__typename`, or selects something under a fragment on an object type.
    wants_type: bool,
    /// It selects some field that `@skip`/`@include` leave in.
    selects: bool,
}

struct Shaper<'a> {
    input: &'a ShapeInput<'a>,
    /// Per selection set (by address) and runtime type: the fields to write. See `collected`.
    collected_cache: HashMap<usize, Vec<(CompactString, CollectedFields<'a>)>, ahash::RandomState>,
    out: Vec<u8>,
    path: Vec<PathRef<'a>>,
    errors: Vec<GraphqlError>,
    /// The paths of `errors`, in order: a null at, below or above one of them is already
    /// explained (above: a subgraph propagated the error's null up to the nearest nullable
    /// position, as the spec says, and one error is all the client gets for it). Ordered, so the
    /// errors below a position are one range, where a set of every prefix would be quadratic in
    /// a hostile subgraph's long paths; a lookup per level for the positions above.
    error_paths: BTreeSet<Vec<PathSegment>>,
    /// `failed_objects`: a null directly inside one of them is explained by the failed fetch.
    failed_objects: HashSet<&'a [PathSegment], ahash::RandomState>,
    /// The response passed `max_bytes`: writing stops and the response is the refusal.
    too_large: bool,
}

/// Writes `{"data": ..., "errors": [...]}` for the operation; with how many errors it holds,
/// shaping's own included.
pub fn shape_response(
    input: &ShapeInput<'_>,
    data: &Value,
    mut errors: Vec<GraphqlError>,
) -> (Vec<u8>, usize) {
    super::visible_paths::cut_to_client_paths(&mut errors, input.document, input.selection_set);
    let error_paths = errors.iter().filter_map(|e| e.path.clone()).collect();
    let failed_objects = input.failed_objects.iter().map(Vec::as_slice).collect();
    let mut shaper = Shaper {
        input,
        collected_cache: HashMap::default(),
        out: Vec::with_capacity(input.capacity.max(4096)),
        path: Vec::new(),
        errors,
        error_paths,
        failed_objects,
        too_large: false,
    };
    shaper.out.extend_from_slice(b"{\"data\":");
    let start = shaper.out.len();
    let root = data.as_object();
    let written = match root {
        Some(object) => shaper.write_object(object, &[input.selection_set], input.root_type),
        None => Err(Bubble),
    };
    // Positions check the limit before they write; the last value written (one long string
    // with nothing after it) is checked here.
    if let (true, Some(limit)) = (shaper.over_limit(), input.max_bytes) {
        return (too_large_body(limit), 1);
    }
    if written.is_err() {
        shaper.out.truncate(start);
        shaper.out.extend_from_slice(b"null");
    }
    if !shaper.errors.is_empty() {
        shaper.out.extend_from_slice(b",\"errors\":");
        let _ = serde_json::to_writer(&mut shaper.out, &shaper.errors);
    }
    shaper.out.push(b'}');
    (shaper.out, shaper.errors.len())
}

impl<'a> Shaper<'a> {
    fn write_object(
        &mut self,
        object: &'a Object,
        sets: &[&'a SelectionSet],
        runtime_type: &str,
    ) -> Result<(), Bubble> {
        let fields = self.collected(sets, runtime_type);
        let values = KeyLookup::new(object);
        self.out.push(b'{');
        for (i, collected) in fields.iter().enumerate() {
            if self.over_limit() {
                return Err(Bubble);
            }
            let field = collected.field;
            let key = field.response_key().as_str();
            if i > 0 {
                self.out.push(b',');
            }
            self.out.push(b'"');
            self.out.extend_from_slice(key.as_bytes());
            self.out.extend_from_slice(b"\":");
            self.path.push(PathRef::Key(key));
            let result = match field.name.as_str() {
                _ if collected.unauthorized => self.unauthorized(field.ty()),
                "__typename" => {
                    write_json_string(&mut self.out, runtime_type);
                    Ok(())
                }
                // Introspection answers were shaped by the introspection executor already.
                "__schema" | "__type" => {
                    match values.get(key) {
                        Some(value) => value.write_json(&mut self.out),
                        None => self.out.extend_from_slice(b"null"),
                    }
                    Ok(())
                }
                _ => {
                    let at = crate::plan::fetch_key(key, &field.name);
                    self.write_value(
                        field.ty(),
                        collected.kind,
                        values.get(at),
                        &collected.subsets,
                    )
                }
            };
            self.path.pop();
            result?;
        }
        self.out.push(b'}');
        Ok(())
    }

    /// The fields to write for an object of `runtime_type` under `sets`, one per response key.
    /// Every object of a list shares its selection and usually its type, and `@skip`/`@include`
    /// values are fixed for the request, so the answer is computed once per response and reused.
    fn collected(&mut self, sets: &[&'a SelectionSet], runtime_type: &str) -> CollectedFields<'a> {
        let [set] = sets else {
            return self.collect_fields(sets, runtime_type).into();
        };
        let slot = self
            .collected_cache
            .entry(std::ptr::from_ref(*set) as usize)
            .or_default();
        if let Some((_, hit)) = slot.iter().find(|(t, _)| t == runtime_type) {
            return hit.clone();
        }
        let fields: CollectedFields<'a> = self.collect_fields(sets, runtime_type).into();
        self.collected_cache
            .entry(std::ptr::from_ref(*set) as usize)
            .or_default()
            .push((runtime_type.into(), fields.clone()));
        fields
    }

    fn collect_fields(&self, sets: &[&'a SelectionSet], runtime_type: &str) -> Vec<Collected<'a>> {
        let mut raw: Vec<&'a Node<Field>> = Vec::with_capacity(8);
        for set in sets {
            self.collect(set, runtime_type, &mut raw);
        }
        let mut out: Vec<Collected<'a>> = Vec::with_capacity(raw.len());
        // The same response key selected more than once: their selections merge into the first.
        // Keys are found by hash, since a client may select 100,000 aliases side by side.
        let mut by_key: HashMap<&'a str, usize, ahash::RandomState> =
            HashMap::with_capacity_and_hasher(raw.len(), ahash::RandomState::default());
        for field in raw {
            let unauthorized = is_unauthorized(field);
            match by_key.entry(field.response_key().as_str()) {
                Entry::Occupied(at) => {
                    let collected = &mut out[*at.get()];
                    collected.subsets.push(&field.selection_set);
                    collected.unauthorized &= unauthorized;
                }
                Entry::Vacant(slot) => {
                    slot.insert(out.len());
                    out.push(Collected {
                        field,
                        subsets: vec![&field.selection_set],
                        unauthorized,
                        kind: self.kind_of(field.ty().inner_named_type().as_str()),
                    });
                }
            }
        }
        out
    }

    fn kind_of(&self, name: &str) -> Kind<'a> {
        let schema: &'a Schema = self.input.schema;
        match Builtin::of(name) {
            Some(scalar) => Kind::Builtin(scalar),
            None => schema.types.get(name).map_or(Kind::Unknown, Kind::Defined),
        }
    }

    fn write_value(
        &mut self,
        ty: &Type,
        kind: Kind<'a>,
        value: Option<&'a Value>,
        sets: &[&'a SelectionSet],
    ) -> Result<(), Bubble> {
        let start = self.out.len();
        match self.write_inner(ty, kind, value, sets) {
            Ok(()) => Ok(()),
            Err(Bubble) if ty.is_non_null() => Err(Bubble),
            Err(Bubble) => {
                self.out.truncate(start);
                self.out.extend_from_slice(b"null");
                Ok(())
            }
        }
    }

    fn write_inner(
        &mut self,
        ty: &Type,
        kind: Kind<'a>,
        value: Option<&'a Value>,
        sets: &[&'a SelectionSet],
    ) -> Result<(), Bubble> {
        let value = match value {
            None | Some(Value::Null) => {
                if ty.is_non_null() {
                    self.null_error(value.is_none());
                    return Err(Bubble);
                }
                self.out.extend_from_slice(b"null");
                return Ok(());
            }
            Some(v) => v,
        };
        match ty {
            Type::List(inner) | Type::NonNullList(inner) => {
                let Value::Array(items) = value else {
                    return self.invalid_value("a list");
                };
                self.out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.out.push(b',');
                    }
                    self.path.push(PathRef::Index(i));
                    let result = self.write_value(inner, kind, Some(item), sets);
                    self.path.pop();
                    result?;
                }
                self.out.push(b']');
                Ok(())
            }
            Type::Named(name) | Type::NonNullNamed(name) => {
                let schema = self.input.schema;
                match kind {
                    Kind::Builtin(scalar) => self.write_builtin_scalar(scalar, value),
                    Kind::Defined(ExtendedType::Object(_)) => match value {
                        Value::Object(object) => self.write_object(object, sets, name.as_str()),
                        _ => self.invalid_value("an object"),
                    },
                    Kind::Defined(ExtendedType::Interface(_) | ExtendedType::Union(_)) => {
                        let Value::Object(object) = value else {
                            return self.invalid_value("an object");
                        };
                        let runtime = object.get("__typename").and_then(Value::as_str);
                        // A member the API schema doesn't know (e.g. @inaccessible) must not leak out.
                        match runtime {
                            Some(t)
                                if matches!(schema.types.get(t), Some(ExtendedType::Object(_)))
                                    && schema.is_subtype(name.as_str(), t) =>
                            {
                                self.write_object(object, sets, t)
                            }
                            // An `@interfaceObject` subgraph names objects after the interface. The
                            // plan fetches the concrete type from the owner whenever the selection
                            // depends on it, so only the interface's own fields are left to write.
                            Some(t) if t == name.as_str() && !self.wants_concrete_type(sets) => {
                                self.write_object(object, sets, t)
                            }
                            _ => self.invalid_value("an object with a known __typename"),
                        }
                    }
                    Kind::Defined(ExtendedType::Enum(e)) => match value {
                        Value::String(s) if e.values.contains_key(s.as_str()) => {
                            s.write_json(&mut self.out);
                            Ok(())
                        }
                        _ => self.invalid_value("a value of the enum"),
                    },
                    _ => {
                        value.write_json(&mut self.out);
                        Ok(())
                    }
                }
            }
        }
    }

    /// A field the request may not see: null with an error at its path, propagating when the
    /// field is non-null.
    fn unauthorized(&mut self, ty: &Type) -> Result<(), Bubble> {
        let path = self.current_path();
        self.push_error(
            GraphqlError::new("Unauthorized field or type", UNAUTHORIZED_CODE),
            path,
        );
        if ty.is_non_null() {
            return Err(Bubble);
        }
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    /// A value that does not fit its field's type: null, with an error at its path. The client
    /// learns what was expected, never the value itself.
    fn invalid_value(&mut self, expected: &str) -> Result<(), Bubble> {
        let path = self.current_path();
        self.push_error(
            GraphqlError::new(
                format!("Invalid value from a subgraph: expected {expected}"),
                "RESPONSE_VALIDATION_FAILED",
            ),
            path,
        );
        // Treated as null: it propagates like one.
        Err(Bubble)
    }

    /// Result coercion of the built-in scalars, as the spec has it: a value is passed on only
    /// when it is one of the type's values (an `Int` within 32 bits; an `ID` may come as an
    /// integer and is written as a string). Numbers are checked from their text, without a parse
    /// on the common path.
    fn write_builtin_scalar(&mut self, scalar: Builtin, value: &Value) -> Result<(), Bubble> {
        match (scalar, value) {
            (Builtin::String | Builtin::Id, Value::String(s)) => s.write_json(&mut self.out),
            (Builtin::Boolean, Value::Bool(_)) | (Builtin::Float, Value::Number(_)) => {
                value.write_json(&mut self.out)
            }
            (Builtin::Int, Value::Number(n)) if fits_int(n) => {
                self.out.extend_from_slice(n.as_bytes())
            }
            (Builtin::Id, Value::Number(n)) if is_integer(n) => write_json_string(&mut self.out, n),
            (Builtin::String, _) => return self.invalid_value("a String"),
            (Builtin::Id, _) => return self.invalid_value("an ID"),
            (Builtin::Boolean, _) => return self.invalid_value("a Boolean"),
            (Builtin::Int, _) => return self.invalid_value("an Int"),
            (Builtin::Float, _) => return self.invalid_value("a Float"),
        }
        Ok(())
    }

    /// Records why a non-null position is null, unless an error at this position, above it or
    /// below it, or the failed fetch that was to complete the object holding it, explains it
    /// already. A `missing` field is also explained by an error at a sibling field: a subgraph
    /// nulls a whole entity for one failed non-null field (`nickname`), and the fields it
    /// dropped with it (`email`) are that same failure, not one of their own.
    fn null_error(&mut self, missing: bool) {
        let path = self.current_path();
        let parent = &path[..path.len().saturating_sub(1)];
        let explained = self.failed_objects.contains(parent)
            || self.has_error_below(&path)
            || (missing && self.has_error_at_a_field_of(parent))
            || (0..=path.len()).any(|end| self.error_paths.contains(&path[..end]));
        if !explained {
            self.push_error(
                GraphqlError::new(
                    "Cannot return null for non-nullable field",
                    "NULL_IN_NON_NULL_FIELD",
                ),
                path,
            );
        }
    }

    /// Whether the response has passed `max_bytes`; once it has, every position unwinds (as a
    /// null would) without writing more.
    fn over_limit(&mut self) -> bool {
        if !self.too_large {
            self.too_large = self
                .input
                .max_bytes
                .is_some_and(|limit| self.out.len() > limit);
        }
        self.too_large
    }

    /// Whether an error is at a field of the object at `object` (not deeper): the subgraph's
    /// reason for nulling that object's entity.
    fn has_error_at_a_field_of(&self, object: &[PathSegment]) -> bool {
        self.error_paths
            .range::<[PathSegment], _>((Bound::Excluded(object), Bound::Unbounded))
            .take_while(|below| below.starts_with(object))
            .any(|below| below.len() == object.len() + 1)
    }

    fn has_error_below(&self, path: &[PathSegment]) -> bool {
        self.error_paths
            .range::<[PathSegment], _>((Bound::Excluded(path), Bound::Unbounded))
            .next()
            .is_some_and(|below| below.starts_with(path))
    }

    fn push_error(&mut self, error: GraphqlError, path: Vec<PathSegment>) {
        self.error_paths.insert(path.clone());
        self.errors.push(error.with_path(path));
    }

    fn current_path(&self) -> Vec<PathSegment> {
        self.path
            .iter()
            .map(|p| match p {
                PathRef::Key(k) => PathSegment::Key((*k).to_owned()),
                PathRef::Index(i) => PathSegment::Index(*i),
            })
            .collect()
    }

    /// The spec's CollectFields, flattened into one ordered list; duplicates are merged when written.
    fn collect(&self, set: &'a SelectionSet, runtime_type: &str, out: &mut Vec<&'a Node<Field>>) {
        for selection in &set.selections {
            match selection {
                Selection::Field(field) => {
                    if self.included(&field.directives) {
                        out.push(field);
                    }
                }
                Selection::InlineFragment(fragment) => {
                    let applies = fragment
                        .type_condition
                        .as_ref()
                        .is_none_or(|c| self.satisfies(runtime_type, c));
                    if applies && self.included(&fragment.directives) {
                        self.collect(&fragment.selection_set, runtime_type, out);
                    }
                }
                Selection::FragmentSpread(spread) => {
                    let Some(fragment) = self.input.document.fragments.get(&spread.fragment_name)
                    else {
                        continue;
                    };
                    if self.satisfies(runtime_type, fragment.type_condition())
                        && self.included(&spread.directives)
                    {
                        self.collect(&fragment.selection_set, runtime_type, out);
                    }
                }
            }
        }
    }

    /// Whether `sets` ask for `__typename` or select on an object type: an object that names its
    /// interface cannot answer them.
    fn wants_concrete_type(&self, sets: &[&'a SelectionSet]) -> bool {
        sets.iter().any(|set| self.scan(set).wants_type)
    }

    /// One walk of `set` for [`Shaper::wants_concrete_type`]. What `@skip`/`@include` leave out
    /// wants nothing (the plan fetched no concrete type for it), and a fragment on an object
    /// type wants the type only if it selects something that is left in: one whose fields are
    /// all left out writes nothing, whatever the type.
    fn scan(&self, set: &'a SelectionSet) -> Scan {
        let schema = self.input.schema;
        let is_object = |t: &str| matches!(schema.types.get(t), Some(ExtendedType::Object(_)));
        let mut out = Scan::default();
        for selection in &set.selections {
            let (condition, inner) = match selection {
                Selection::Field(field) => {
                    if self.included(&field.directives) {
                        out.selects = true;
                        out.wants_type |= field.name == "__typename";
                    }
                    continue;
                }
                Selection::InlineFragment(fragment) => {
                    if !self.included(&fragment.directives) {
                        continue;
                    }
                    (fragment.type_condition.as_deref(), &fragment.selection_set)
                }
                Selection::FragmentSpread(spread) => {
                    if !self.included(&spread.directives) {
                        continue;
                    }
                    let Some(fragment) = self.input.document.fragments.get(&spread.fragment_name)
                    else {
                        continue;
                    };
                    (
                        Some(fragment.type_condition().as_str()),
                        &fragment.selection_set,
                    )
                }
            };
            let inner = self.scan(inner);
            out.selects |= inner.selects;
            out.wants_type |=
                inner.wants_type || (inner.selects && condition.is_some_and(&is_object));
            if out.wants_type {
                break;
            }
        }
        out
    }

    fn satisfies(&self, runtime_type: &str, condition: &str) -> bool {
        runtime_type == condition || self.input.schema.is_subtype(condition, runtime_type)
    }

    fn included(&self, directives: &DirectiveList) -> bool {
        super::included(directives, self.input.variables)
    }
}

/// Whether the auth filter marked the field (see `crate::auth::filter`). Fields rarely carry
/// directives, so this is an empty-list check nearly always.
fn is_unauthorized(field: &Field) -> bool {
    !field.directives.is_empty() && field.directives.has(UNAUTHORIZED_MARK)
}

/// The built-in scalars, told apart once per value by the type's name.
#[derive(Clone, Copy)]
enum Builtin {
    String,
    Int,
    Float,
    Boolean,
    Id,
}

impl Builtin {
    fn of(name: &str) -> Option<Self> {
        match name {
            "String" => Some(Self::String),
            "Int" => Some(Self::Int),
            "Float" => Some(Self::Float),
            "Boolean" => Some(Self::Boolean),
            "ID" => Some(Self::Id),
            _ => None,
        }
    }
}

/// Whether a JSON number's text is an integer within 32 bits. Short texts of digits (nearly all
/// of them) are accepted without a parse.
fn fits_int(text: &str) -> bool {
    (is_integer(text) && text.trim_start_matches('-').len() <= 9) || text.parse::<i32>().is_ok()
}

/// Whether a JSON number's text is an integer of any size (an `ID` may be a 64-bit snowflake).
fn is_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Used by tests and the HTTP edge to build an error-only body.
pub fn errors_body(errors: &[GraphqlError]) -> Vec<u8> {
    let mut out = b"{\"errors\":".to_vec();
    let _ = serde_json::to_writer(&mut out, errors);
    out.push(b'}');
    out
}

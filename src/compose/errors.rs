//! Composition errors: each one names the subgraph(s), the type and the field it is about,
//! and carries a stable code so tools and tests can match on it without parsing the message.

use std::fmt;

/// What went wrong, as a stable identifier.
///
/// The codes follow Apollo Federation's composition error codes where one exists, so that
/// someone who knows rover's output recognises them; `INVALID_SUPERGRAPH` is ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// A subgraph SDL does not parse, or is not a well-formed type system document.
    InvalidGraphql,
    /// Two subgraph names are the same, or one is empty.
    InvalidSubgraphName,
    /// A type is an object in one subgraph and, say, an enum in another.
    TypeKindMismatch,
    /// A field's types in two subgraphs are not subtypes of one another (output fields), or
    /// differ by more than nullability (input fields).
    FieldTypeMismatch,
    /// An argument's type differs between subgraphs by more than nullability.
    FieldArgumentTypeMismatch,
    /// An argument has different default values in different subgraphs.
    ArgumentDefaultMismatch,
    /// An input field has different default values in different subgraphs.
    InputFieldDefaultMismatch,
    /// A field is resolved by several subgraphs but not `@shareable` in all of them.
    InvalidFieldSharing,
    /// A `@key` does not parse or selects fields the type does not have.
    KeyInvalidFields,
    /// A `@key` selects a field whose type is an interface or a union.
    KeyFieldsSelectInvalidType,
    /// A `@key` passes arguments to a field.
    KeyFieldsHasArgs,
    /// `@shareable` on an interface or an interface field.
    InvalidShareableUsage,
    /// An `@external` field lacks an argument the resolving subgraphs' field has.
    ExternalArgumentMissing,
    /// A subgraph names another type than its root `Query`/`Mutation`/`Subscription` like that
    /// root: the supergraph names the roots so, and the two would collide.
    RootQueryUsed,
    RootMutationUsed,
    RootSubscriptionUsed,
    /// An object implements an interface in the supergraph but lacks one of the interface's
    /// fields (added to the interface in a subgraph that does not define the object).
    InterfaceFieldNoImplem,
    /// `@requires` or `@provides` on an interface field: only object fields are resolved.
    RequiresUnsupportedOnInterface,
    ProvidesUnsupportedOnInterface,
    /// A `@provides` selects a field that takes arguments: the subgraph provides one value,
    /// whatever arguments a client passes.
    ProvidesFieldsHasArgs,
    /// An `@external` field's type is not the type the resolving subgraphs give it or a more
    /// general one: the subgraph would be sent values its own schema says cannot occur.
    ExternalTypeMismatch,
    /// A directive inside a `@key`, `@provides` or `@requires` field set: a field set names
    /// fields, and a directive would change what the gateway fetches.
    KeyDirectiveInFieldsArg,
    ProvidesDirectiveInFieldsArg,
    RequiresDirectiveInFieldsArg,
    /// A `@requires` does not parse or selects fields the type does not have.
    RequiresInvalidFields,
    MissingTransitiveAuthRequirements,
    /// A `@requires` selects a field that is not `@external` (Federation 2).
    RequiresFieldsMissingExternal,
    /// A `@provides` does not parse or selects fields the returned type does not have.
    ProvidesInvalidFields,
    /// A `@provides` selects a field that is not `@external` (Federation 2).
    ProvidesFieldsMissingExternal,
    /// A `@provides` is on a field that does not return an object or interface.
    ProvidesOnNonObjectField,
    /// A field is `@external` in every subgraph that defines it: no subgraph resolves it.
    ExternalMissingOnBase,
    /// A required argument is missing from the field in some subgraph.
    RequiredArgumentMissingInSomeSubgraph,
    /// A required input field is missing from the input type in some subgraph.
    RequiredInputFieldMissingInSomeSubgraph,
    /// No input field is defined in every subgraph that defines the input type.
    EmptyMergedInputType,
    /// No enum value is defined in every subgraph that defines an input-only enum.
    EmptyMergedEnumType,
    /// An enum used both as input and output has different values in different subgraphs.
    EnumValueMismatch,
    /// `@override(from:)` names the subgraph the field is in.
    OverrideFromSelfError,
    /// `@override(from:)` names a subgraph whose field is itself overridden.
    OverrideSourceHasOverride,
    /// An interface field is marked `@external` (Federation 2), which means nothing: interface
    /// fields are resolved by their implementations.
    ExternalOnInterface,
    /// `@fromContext` names a context that no type of the subgraph sets with `@context`.
    ContextNotSet,
    /// A `@fromContext` selection is not valid on a type that sets the context, or does not
    /// parse.
    ContextInvalidSelection,
    /// An `@external` field is used by no `@key`, `@requires` or `@provides` and implements no
    /// interface field (Federation 2).
    ExternalUnused,
    /// A Federation 1 type has only unused `@external` fields, which the upgrade to Federation 2
    /// removes, yet another element of the subgraph refers to it.
    TypeWithOnlyUnusedExternal,
    /// A Federation 1 subgraph extends a type that no subgraph defines.
    ExtensionWithNoBase,
    /// `@key` on an interface in a subgraph that links a federation spec older than v2.3.
    KeyUnsupportedOnInterface,
    /// An entity interface's `@key` is missing (or not resolvable) on an implementation in the same
    /// subgraph.
    InterfaceKeyNotOnImplementation,
    /// A subgraph with a resolvable `@key` on an interface lacks one of the interface's
    /// implementations in the supergraph.
    InterfaceKeyMissingImplementationType,
    /// An `@interfaceObject` has no `@key`, or no subgraph defines the entity interface it stands
    /// for.
    InterfaceObjectUsageError,
    /// `@override` on an `@external` field, on a field of an `@interfaceObject`, or taking over a
    /// field that uses `@requires` or `@provides`.
    OverrideCollisionWithAnotherDirective,
    /// `@override` on an interface field.
    OverrideOnInterface,
    /// `@override(label:)` is neither a flag name nor `percent(x)` with x from 0 to 100.
    OverrideLabelInvalid,
    /// An `@inaccessible` type is the type of a field, argument or input field that clients see.
    ReferencedInaccessible,
    /// The query root type is `@inaccessible`.
    QueryRootTypeInaccessible,
    /// A required argument or input field is `@inaccessible` while clients see its parent.
    RequiredInaccessible,
    /// An `@inaccessible` field or argument implements an interface field or argument clients see.
    ImplementedByInaccessible,
    /// A type clients see has only `@inaccessible` fields, values or members.
    OnlyInaccessibleChildren,
    /// A default value clients see uses an `@inaccessible` enum value or input field.
    DefaultValueUsesInaccessible,
    /// A subgraph uses a federation directive its linked federation version does not have
    /// (`@cost` or `@listSize` before v2.9).
    InvalidLinkDirectiveUsage,
    /// Subgraphs apply the same spec directive under different names (`@cost` and `@weight`).
    LinkImportNameMismatch,
    /// `@cost` on an interface field: only the implementations' fields are resolved.
    CostAppliedToInterfaceField,
    /// `@listSize` on a field that returns no list and names no `sizedFields`.
    ListSizeAppliedToNonList,
    /// `@listSize(assumedSize:)` is negative.
    ListSizeInvalidAssumedSize,
    /// A `@listSize(slicingArguments:)` entry is not an `Int` argument of the field.
    ListSizeInvalidSlicingArgument,
    /// A `@listSize(sizedFields:)` entry is not a list field of the returned type.
    ListSizeInvalidSizedField,
    /// No subgraph defines a query root type.
    NoQueries,
    /// `@composeDirective` names a directive the subgraph does not define or does not take from
    /// a linked spec, so the supergraph could not say where it comes from.
    DirectiveCompositionError,
    /// A field clients can ask for is defined only in subgraphs that cannot get to its parent
    /// type; the message names a query that could not be answered.
    SatisfiabilityError,
    /// The composed supergraph failed GraphQL validation; the message says why.
    InvalidSupergraph,
    // Stitching (`plain.rs`): Seam's own codes, as Apollo has no plain services.
    /// A config `merge:` entry does not fit the service's schema, or names a federation subgraph.
    MergeLookupInvalid,
    /// A plain service offers a root field that another subgraph offers too.
    RootFieldConflict,
}

impl ErrorCode {
    /// The code in SCREAMING_SNAKE_CASE, as printed and as sent in `extensions.code`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidGraphql => "INVALID_GRAPHQL",
            ErrorCode::InvalidSubgraphName => "INVALID_SUBGRAPH_NAME",
            ErrorCode::TypeKindMismatch => "TYPE_KIND_MISMATCH",
            ErrorCode::FieldTypeMismatch => "FIELD_TYPE_MISMATCH",
            ErrorCode::FieldArgumentTypeMismatch => "FIELD_ARGUMENT_TYPE_MISMATCH",
            ErrorCode::ArgumentDefaultMismatch => "FIELD_ARGUMENT_DEFAULT_MISMATCH",
            ErrorCode::InputFieldDefaultMismatch => "INPUT_FIELD_DEFAULT_MISMATCH",
            ErrorCode::InvalidFieldSharing => "INVALID_FIELD_SHARING",
            ErrorCode::KeyInvalidFields => "KEY_INVALID_FIELDS",
            ErrorCode::KeyFieldsSelectInvalidType => "KEY_FIELDS_SELECT_INVALID_TYPE",
            ErrorCode::KeyFieldsHasArgs => "KEY_FIELDS_HAS_ARGS",
            ErrorCode::InvalidShareableUsage => "INVALID_SHAREABLE_USAGE",
            ErrorCode::ExternalArgumentMissing => "EXTERNAL_ARGUMENT_MISSING",
            ErrorCode::RootQueryUsed => "ROOT_QUERY_USED",
            ErrorCode::RootMutationUsed => "ROOT_MUTATION_USED",
            ErrorCode::RootSubscriptionUsed => "ROOT_SUBSCRIPTION_USED",
            ErrorCode::InterfaceFieldNoImplem => "INTERFACE_FIELD_NO_IMPLEM",
            ErrorCode::RequiresUnsupportedOnInterface => "REQUIRES_UNSUPPORTED_ON_INTERFACE",
            ErrorCode::ProvidesUnsupportedOnInterface => "PROVIDES_UNSUPPORTED_ON_INTERFACE",
            ErrorCode::ProvidesFieldsHasArgs => "PROVIDES_FIELDS_HAS_ARGS",
            ErrorCode::ExternalTypeMismatch => "EXTERNAL_TYPE_MISMATCH",
            ErrorCode::KeyDirectiveInFieldsArg => "KEY_DIRECTIVE_IN_FIELDS_ARG",
            ErrorCode::ProvidesDirectiveInFieldsArg => "PROVIDES_DIRECTIVE_IN_FIELDS_ARG",
            ErrorCode::RequiresDirectiveInFieldsArg => "REQUIRES_DIRECTIVE_IN_FIELDS_ARG",
            ErrorCode::RequiresInvalidFields => "REQUIRES_INVALID_FIELDS",
            ErrorCode::MissingTransitiveAuthRequirements => "MISSING_TRANSITIVE_AUTH_REQUIREMENTS",
            ErrorCode::RequiresFieldsMissingExternal => "REQUIRES_FIELDS_MISSING_EXTERNAL",
            ErrorCode::ProvidesInvalidFields => "PROVIDES_INVALID_FIELDS",
            ErrorCode::ProvidesFieldsMissingExternal => "PROVIDES_FIELDS_MISSING_EXTERNAL",
            ErrorCode::ProvidesOnNonObjectField => "PROVIDES_ON_NON_OBJECT_FIELD",
            ErrorCode::ExternalMissingOnBase => "EXTERNAL_MISSING_ON_BASE",
            ErrorCode::RequiredArgumentMissingInSomeSubgraph => {
                "REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH"
            }
            ErrorCode::RequiredInputFieldMissingInSomeSubgraph => {
                "REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH"
            }
            ErrorCode::EmptyMergedInputType => "EMPTY_MERGED_INPUT_TYPE",
            ErrorCode::EmptyMergedEnumType => "EMPTY_MERGED_ENUM_TYPE",
            ErrorCode::EnumValueMismatch => "ENUM_VALUE_MISMATCH",
            ErrorCode::OverrideFromSelfError => "OVERRIDE_FROM_SELF_ERROR",
            ErrorCode::OverrideSourceHasOverride => "OVERRIDE_SOURCE_HAS_OVERRIDE",
            ErrorCode::ExternalOnInterface => "EXTERNAL_ON_INTERFACE",
            ErrorCode::ExternalUnused => "EXTERNAL_UNUSED",
            ErrorCode::ContextNotSet => "CONTEXT_NOT_SET",
            ErrorCode::ContextInvalidSelection => "CONTEXT_INVALID_SELECTION",
            ErrorCode::TypeWithOnlyUnusedExternal => "TYPE_WITH_ONLY_UNUSED_EXTERNAL",
            ErrorCode::ExtensionWithNoBase => "EXTENSION_WITH_NO_BASE",
            ErrorCode::KeyUnsupportedOnInterface => "KEY_UNSUPPORTED_ON_INTERFACE",
            ErrorCode::InterfaceKeyNotOnImplementation => "INTERFACE_KEY_NOT_ON_IMPLEMENTATION",
            ErrorCode::InterfaceKeyMissingImplementationType => {
                "INTERFACE_KEY_MISSING_IMPLEMENTATION_TYPE"
            }
            ErrorCode::InterfaceObjectUsageError => "INTERFACE_OBJECT_USAGE_ERROR",
            ErrorCode::OverrideCollisionWithAnotherDirective => {
                "OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE"
            }
            ErrorCode::OverrideOnInterface => "OVERRIDE_ON_INTERFACE",
            ErrorCode::OverrideLabelInvalid => "OVERRIDE_LABEL_INVALID",
            ErrorCode::ReferencedInaccessible => "REFERENCED_INACCESSIBLE",
            ErrorCode::QueryRootTypeInaccessible => "QUERY_ROOT_TYPE_INACCESSIBLE",
            ErrorCode::RequiredInaccessible => "REQUIRED_INACCESSIBLE",
            ErrorCode::ImplementedByInaccessible => "IMPLEMENTED_BY_INACCESSIBLE",
            ErrorCode::OnlyInaccessibleChildren => "ONLY_INACCESSIBLE_CHILDREN",
            ErrorCode::DefaultValueUsesInaccessible => "DEFAULT_VALUE_USES_INACCESSIBLE",
            ErrorCode::InvalidLinkDirectiveUsage => "INVALID_LINK_DIRECTIVE_USAGE",
            ErrorCode::LinkImportNameMismatch => "LINK_IMPORT_NAME_MISMATCH",
            ErrorCode::CostAppliedToInterfaceField => "COST_APPLIED_TO_INTERFACE_FIELD",
            ErrorCode::ListSizeAppliedToNonList => "LIST_SIZE_APPLIED_TO_NON_LIST",
            ErrorCode::ListSizeInvalidAssumedSize => "LIST_SIZE_INVALID_ASSUMED_SIZE",
            ErrorCode::ListSizeInvalidSlicingArgument => "LIST_SIZE_INVALID_SLICING_ARGUMENT",
            ErrorCode::ListSizeInvalidSizedField => "LIST_SIZE_INVALID_SIZED_FIELD",
            ErrorCode::NoQueries => "NO_QUERIES",
            ErrorCode::InvalidSupergraph => "INVALID_SUPERGRAPH",
            ErrorCode::SatisfiabilityError => "SATISFIABILITY_ERROR",
            ErrorCode::DirectiveCompositionError => "DIRECTIVE_COMPOSITION_ERROR",
            ErrorCode::MergeLookupInvalid => "MERGE_LOOKUP_INVALID",
            ErrorCode::RootFieldConflict => "ROOT_FIELD_CONFLICT",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One reason composition failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CompositionError {
    code: ErrorCode,
    message: String,
}

impl CompositionError {
    pub(crate) fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        CompositionError {
            code,
            message: message.into(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The human-readable explanation, naming subgraphs, type and field.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Every reason composition failed: composition reports all the problems it can find at once,
/// so a user fixes their subgraphs in one round rather than one error per attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompositionErrors(Vec<CompositionError>);

impl CompositionErrors {
    pub(crate) fn new(errors: Vec<CompositionError>) -> Self {
        CompositionErrors(errors)
    }

    pub fn errors(&self) -> &[CompositionError] {
        &self.0
    }

    pub fn iter(&self) -> std::slice::Iter<'_, CompositionError> {
        self.0.iter()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for CompositionErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.0.iter().enumerate() {
            if index > 0 {
                writeln!(f)?;
            }
            write!(f, "error[{}]: {}", error.code, error.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for CompositionErrors {}

impl IntoIterator for CompositionErrors {
    type Item = CompositionError;
    type IntoIter = std::vec::IntoIter<CompositionError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a CompositionErrors {
    type Item = &'a CompositionError;
    type IntoIter = std::slice::Iter<'a, CompositionError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// `"a"`, `"a" and "b"`, `"a", "b" and "c"`: how messages list subgraph names.
pub(crate) fn quoted_list<S: AsRef<str>>(names: &[S]) -> String {
    let quoted: Vec<String> = names
        .iter()
        .map(|name| format!("\"{}\"", name.as_ref()))
        .collect();
    join_with_and(&quoted)
}

/// `a`, `a and b`, `a, b and c`.
pub(crate) fn join_with_and<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [only] => only.as_ref().to_string(),
        [init @ .., last] => {
            let init: Vec<&str> = init.iter().map(AsRef::as_ref).collect();
            format!("{} and {}", init.join(", "), last.as_ref())
        }
    }
}

/// "subgraph" or "subgraphs", to agree with a list of names.
pub(crate) fn subgraphs_word(count: usize) -> &'static str {
    if count == 1 {
        "subgraph"
    } else {
        "subgraphs"
    }
}

//! The bombs: each is parsed without parser limits (the parse stage's own limits are not what
//! is tested here) and must be measured without being expanded.

use std::time::{Duration, Instant};

use apollo_compiler::ast::Document;

use super::*;

fn parse(query: &str) -> Document {
    Document::parse(query, "bomb.graphql").unwrap_or_else(|invalid| invalid.partial)
}

fn shape_of(query: &str) -> OperationShape {
    check_operation_limits(&parse(query), None, &unlimited()).unwrap()
}

/// Every operation limit off, so a test measures instead of being refused.
fn unlimited() -> LimitsConfig {
    LimitsConfig {
        max_depth: Limit::Unlimited,
        max_aliases: Limit::Unlimited,
        max_root_fields: Limit::Unlimited,
        max_directives: Limit::Unlimited,
        max_fields: Limit::Unlimited,
        ..LimitsConfig::default()
    }
}

fn code_of(query: &str, limits: &LimitsConfig) -> String {
    let error = check_operation_limits(&parse(query), None, limits).unwrap_err();
    error.code().unwrap_or_default().to_owned()
}

/// Runs `work` on its own thread and fails the test if it has not finished within a minute:
/// a measurement that expanded a bomb would take years, not a slow minute. Returns how long
/// it took, for the report.
fn finishes<T: Send + 'static>(name: &str, work: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let started = Instant::now();
        let value = work();
        let _ = done.send((value, started.elapsed()));
    });
    let (value, took) = result
        .recv_timeout(Duration::from_secs(60))
        .unwrap_or_else(|_| panic!("{name}: not measured within a minute"));
    eprintln!("{name}: measured in {took:?}");
    value
}

/// `fragment F0 on Query { ...F1 ...F1 }` down to a leaf, `levels` deep: 2^levels fields
/// once expanded, in about 40 bytes per level.
fn fragment_chain(levels: usize) -> String {
    let mut query = String::from("query Bomb { ...F0 }\n");
    for level in 0..levels {
        let next = level + 1;
        query.push_str(&format!(
            "fragment F{level} on Query {{ ...F{next} ...F{next} }}\n"
        ));
    }
    query.push_str(&format!("fragment F{levels} on Query {{ __typename }}\n"));
    query
}

#[test]
fn a_fragment_chain_bomb_is_refused_without_expanding_it() {
    let query = fragment_chain(30);
    assert!(
        query.len() < 1_400,
        "the bomb is small: {} bytes",
        query.len()
    );
    let limits = LimitsConfig::default();
    let error = finishes("fragment chain, 30 levels", move || {
        check_operation_limits(&parse(&query), None, &limits).unwrap_err()
    });
    assert_eq!(error.code(), Some("MAX_ROOT_FIELDS_LIMIT"));
    assert!(error.message.contains("1073741824"), "{}", error.message);
    assert!(error.message.contains("250"), "{}", error.message);
}

#[test]
fn a_fragment_chain_beyond_counting_saturates() {
    let query = fragment_chain(100);
    let shape = finishes("fragment chain, 100 levels", move || shape_of(&query));
    assert_eq!(shape.fields, u64::MAX);
    assert_eq!(shape.root_fields, u64::MAX);
    assert_eq!(shape.depth, 1);
    let error = check_operation_limits(&parse(&fragment_chain(100)), None, &{
        LimitsConfig {
            max_root_fields: Limit::Unlimited,
            ..LimitsConfig::default()
        }
    })
    .unwrap_err();
    assert_eq!(error.code(), Some("MAX_FIELDS_LIMIT"));
    assert!(error.message.contains("over 10^19"), "{}", error.message);
}

#[test]
fn a_hundred_thousand_aliases_are_refused() {
    let mut query = String::from("{ ");
    for index in 0..100_000 {
        query.push_str(&format!("a{index}: __typename "));
    }
    query.push('}');
    let document = finishes("parse 100k aliases", move || parse(&query));
    let limits = LimitsConfig {
        max_root_fields: Limit::Unlimited,
        ..LimitsConfig::default()
    };
    let error = finishes("100k aliases", move || {
        check_operation_limits(&document, None, &limits).unwrap_err()
    });
    assert_eq!(error.code(), Some("MAX_ALIASES_LIMIT"));
    assert!(
        error.message.contains("100000 aliases"),
        "{}",
        error.message
    );
    assert!(error.message.contains("limit is 1000"), "{}", error.message);
}

#[test]
fn deep_nesting_is_refused_with_the_measured_depth() {
    let depth = 300;
    let query = format!("{}x{}", "{ a ".repeat(depth - 1) + "{ ", " }".repeat(depth));
    let document = finishes("300 levels", move || {
        Document::parse(&query, "deep.graphql").unwrap()
    });
    let error = check_operation_limits(&document, None, &LimitsConfig::default()).unwrap_err();
    assert_eq!(error.code(), Some("MAX_DEPTH_LIMIT"));
    assert!(
        error.message.contains(&format!("nested {depth} levels")),
        "{}",
        error.message
    );
    assert!(error.message.contains("limit is 64"), "{}", error.message);
}

#[test]
fn depth_counts_through_fragments_and_inline_fragments() {
    let query = "{ a { ...F } } fragment F on T { b { ... on T { c { d } } } }";
    assert_eq!(shape_of(query).depth, 4);
    let limits = LimitsConfig {
        max_depth: Limit::Max(3),
        ..LimitsConfig::default()
    };
    assert_eq!(code_of(query, &limits), "MAX_DEPTH_LIMIT");
    let limits = LimitsConfig {
        max_depth: Limit::Max(4),
        ..LimitsConfig::default()
    };
    assert!(check_operation_limits(&parse(query), None, &limits).is_ok());
}

#[test]
fn fragment_cycles_end_and_count_the_cycle_once() {
    let query = "query { ...A } \
                 fragment A on Query { a ...B } \
                 fragment B on Query { b ...A } \
                 fragment C on Query { ...C }";
    let shape = finishes("fragment cycle", move || shape_of(query));
    assert_eq!(shape.fields, 2);
    assert_eq!(shape.root_fields, 2);
    let self_cycle = "query { x ...C } fragment C on Query { c ...C ...C }";
    assert_eq!(shape_of(self_cycle).fields, 2);
}

#[test]
fn unknown_fragments_count_as_empty() {
    let query = "{ a ...Missing b { ...AlsoMissing c } }";
    let shape = shape_of(query);
    assert_eq!(shape.fields, 3);
    assert_eq!(shape.depth, 2);
}

#[test]
fn directives_on_fragments_count_once_per_expansion() {
    // F carries one directive on its definition and one inside; it is spread three times,
    // each spread with a directive of its own; the operation has one, its variable one.
    let query = "query Q($v: Boolean @var) @op { \
                   ...F @include(if: $v) \
                   x { ...F @skip(if: false) } \
                   ... on Query @include(if: true) { ...F @skip(if: false) } \
                 } \
                 fragment F on Query @frag { f @deprecated }";
    let shape = shape_of(query);
    assert_eq!(shape.directives, 2 + 3 + 3 * 2 + 1);
    let limits = LimitsConfig {
        max_directives: Limit::Max(11),
        ..LimitsConfig::default()
    };
    assert_eq!(code_of(query, &limits), "MAX_DIRECTIVES_LIMIT");
}

#[test]
fn a_directive_bomb_on_a_fragment_is_multiplied_by_its_spreads() {
    let directives = "@skip(if: false) ".repeat(100);
    let mut query = String::from("{ ");
    for _ in 0..20 {
        query.push_str("...D ");
    }
    query.push_str(&format!(
        "}} fragment D on Query {{ __typename {directives} }}"
    ));
    assert_eq!(shape_of(&query).directives, 2_000);
    assert_eq!(
        code_of(&query, &LimitsConfig::default()),
        "MAX_DIRECTIVES_LIMIT"
    );
}

#[test]
fn root_fields_count_through_fragments() {
    let query = "{ a b ... on Query { c } ...R } fragment R on Query { d e { f g } }";
    let shape = shape_of(query);
    assert_eq!(shape.root_fields, 5);
    assert_eq!(shape.fields, 7);
    let limits = LimitsConfig {
        max_root_fields: Limit::Max(4),
        ..LimitsConfig::default()
    };
    assert_eq!(code_of(query, &limits), "MAX_ROOT_FIELDS_LIMIT");
}

#[test]
fn the_selected_operation_is_measured() {
    let query = "query Small { a } query Big { a b c d e }";
    let limits = LimitsConfig {
        max_root_fields: Limit::Max(2),
        ..LimitsConfig::default()
    };
    let document = parse(query);
    assert!(check_operation_limits(&document, Some("Small"), &limits).is_ok());
    let error = check_operation_limits(&document, Some("Big"), &limits).unwrap_err();
    assert_eq!(error.code(), Some("MAX_ROOT_FIELDS_LIMIT"));
    // Which one is meant is for validation to say.
    assert!(check_operation_limits(&document, None, &limits).is_ok());
    assert!(check_operation_limits(&document, Some("Other"), &limits).is_ok());
}

#[test]
fn a_long_fragment_chain_does_not_recurse_per_fragment() {
    // 20,000 fragments each spreading the next once: a recursive walk would need 20,000
    // nested calls; this one keeps its own stack.
    let mut query = String::from("{ ...F0 }\n");
    for level in 0..20_000 {
        query.push_str(&format!(
            "fragment F{level} on Query {{ f{level} ...F{} }}\n",
            level + 1
        ));
    }
    let shape = finishes("20k-fragment chain", move || shape_of(&query));
    assert_eq!(shape.fields, 20_000);
}

#[test]
fn switched_off_limits_do_not_refuse() {
    let query = fragment_chain(30);
    assert!(check_operation_limits(&parse(&query), None, &unlimited()).is_ok());
}

#[test]
fn the_introspection_query_fits_the_defaults() {
    let query = INTROSPECTION_QUERY;
    let shape = shape_of(query);
    eprintln!("introspection query: {shape:?}");
    assert!(check_operation_limits(&parse(query), None, &LimitsConfig::default()).is_ok());
}

/// The introspection query GraphiQL and most client tooling send, with its nested `TypeRef`.
const INTROSPECTION_QUERY: &str = "
query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) {
    name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason
  }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } }
}
";

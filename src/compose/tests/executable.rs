//! Executable directives in composition, and default values that must fit the merged types.

use super::*;

/// The API schema of `subgraphs` composed, as clients see it.
fn api(subgraphs: &[SubgraphSdl]) -> apollo_compiler::validation::Valid<Schema> {
    let sdl = compose_valid(subgraphs);
    Supergraph::parse(&sdl)
        .unwrap_or_else(|e| panic!("{e}"))
        .api_schema
        .clone()
}

#[test]
fn an_enum_only_directive_arguments_use_keeps_the_values_every_subgraph_has() {
    let api = api(&[
        fed2(
            "a",
            "enum Mode { A B }\ndirective @x(m: Mode) on FIELD\ntype Query { a: Int }",
        ),
        fed2(
            "b",
            "enum Mode { A C }\ndirective @x(m: Mode) on FIELD\ntype Query { b: Int }",
        ),
    ]);
    let apollo_compiler::schema::ExtendedType::Enum(mode) = &api.types["Mode"] else {
        panic!("Mode is an enum");
    };
    assert_eq!(
        mode.values.keys().map(|k| k.as_str()).collect::<Vec<_>>(),
        ["A"]
    );
}

#[test]
fn the_description_most_subgraphs_give_wins() {
    let sdl = compose_valid(&[
        fed2(
            "a",
            "\"one\" type P @shareable { x: Int }\ntype Query { a: P }",
        ),
        fed2(
            "b",
            "\"two\" type P @shareable { x: Int }\ntype Query { b: P }",
        ),
        fed2(
            "c",
            "\"two\" type P @shareable { x: Int }\ntype Query { c: P }",
        ),
    ]);
    assert!(sdl.contains("\"\"\"two\"\"\"\ntype P"), "{sdl}");
    assert!(!sdl.contains("\"one\""), "{sdl}");
}

/// Only the directives the supergraph keeps make their arguments' enums inputs: a directive one
/// subgraph defines alone never reaches clients, so an output enum whose values differ still
/// merges as an output (Apollo composes this; an input use would be ENUM_VALUE_MISMATCH).
#[test]
fn a_directive_not_composed_does_not_make_its_enum_an_input() {
    let api = api(&[
        fed2(
            "a",
            "enum Color { RED GREEN }\ntype Query { a: Color }\ndirective @paint(c: Color) on FIELD",
        ),
        fed2("b", "enum Color { RED BLUE }\ntype Query { b: Color }"),
    ]);
    let apollo_compiler::schema::ExtendedType::Enum(color) = &api.types["Color"] else {
        panic!("Color is an enum");
    };
    let mut values: Vec<&str> = color.values.keys().map(|k| k.as_str()).collect();
    values.sort_unstable();
    assert_eq!(values, ["BLUE", "GREEN", "RED"]);
    assert!(!api.directive_definitions.contains_key("paint"));
}

#[test]
fn directive_arguments_keep_inaccessible_deprecated_and_tag() {
    let sdl = compose_valid(&[
        fed2(
            "a",
            r#"directive @x(m: Int @inaccessible, n: Int, o: Int @deprecated(reason: "r") @tag(name: "t")) on FIELD
type Query { a: Int }"#,
        ),
        fed2(
            "b",
            "directive @x(m: Int, n: Int, o: Int) on FIELD\ntype Query { b: Int }",
        ),
    ]);
    assert!(sdl.contains("inaccessible/v0.2"), "{sdl}");
    let api = Supergraph::parse(&sdl)
        .unwrap_or_else(|e| panic!("{e}"))
        .api_schema;
    let x = &api.directive_definitions["x"];
    let names: Vec<&str> = x.arguments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["n", "o"], "{x}");
    assert!(x.arguments[1].directives.has("deprecated"), "{x}");
    assert!(!x.arguments[1].directives.has("tag"), "{x}");
}

#[test]
fn directive_arguments_follow_the_inaccessible_rules() {
    let errors = compose_errors(&[
        fed2(
            "a",
            "directive @x(m: Int! @inaccessible) on FIELD\ntype Query { a: Int }",
        ),
        fed2("b", "directive @x(m: Int!) on FIELD\ntype Query { b: Int }"),
    ]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, ErrorCode::RequiredInaccessible, "{errors:?}");

    let errors = compose_errors(&[
        fed2(
            "a",
            "enum Mode @inaccessible { A B }\ndirective @x(m: Mode) on FIELD\ntype Query { a: Int }",
        ),
        fed2(
            "b",
            "enum Mode @inaccessible { A B }\ndirective @x(m: Mode) on FIELD\ntype Query { b: Int }",
        ),
    ]);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, ErrorCode::ReferencedInaccessible, "{errors:?}");
    assert!(errors[0].1.contains("@x(m:)"), "{errors:?}");
}

#[test]
fn defaults_that_name_what_the_merge_left_out_are_invalid() {
    let cases = [
        (
            "input I { x: Int, y: Int }\ntype Query { a(i: I = {x: 1, y: 2}): Int }",
            "input I { x: Int }\ntype Query { b(i: I): Int }",
            "Query.a(i:)",
            "I.y",
        ),
        (
            "enum E { A B }\ntype Query { a(e: E = B): Int }",
            "enum E { A C }\ntype Query { b(e: E): Int }",
            "Query.a(e:)",
            "E.B",
        ),
        (
            "enum E { A B }\ntype Query { a(e: [E] = [A, B]): Int }",
            "enum E { A }\ntype Query { b(e: E): Int }",
            "Query.a(e:)",
            "E.B",
        ),
        (
            "enum M { A B }\ndirective @x(m: M = B) on FIELD\ntype Query { a: Int }",
            // b's own default names a value b lacks: it is kept (both subgraphs have it) and
            // caught once merged.
            "enum M { A }\ndirective @x(m: M = B) on FIELD\ntype Query { b(m: M): Int }",
            "@x(m:)",
            "M.B",
        ),
    ];
    for (a, b, owner, named) in cases {
        let errors = compose_errors(&[fed2("a", a), fed2("b", b)]);
        assert!(
            errors
                .iter()
                .any(|(code, message)| *code == ErrorCode::InvalidGraphql
                    && message.contains(owner)
                    && message.contains(named)),
            "{a}\n{b}\n{errors:?}"
        );
    }
    // An input field's default both its subgraphs give, naming a value a third one lacks.
    let errors = compose_errors(&[
        fed2(
            "a",
            "enum E { A B }\ninput I { e: E = B }\ntype Query { a(i: I): Int }",
        ),
        fed2(
            "b",
            "enum E { A B }\ninput I { e: E = B }\ntype Query { b(i: I): Int }",
        ),
        fed2("c", "enum E { A }\ntype Query { c(e: E): Int }"),
    ]);
    assert!(
        errors
            .iter()
            .any(|(code, message)| *code == ErrorCode::InvalidGraphql
                && message.contains("I.e")
                && message.contains("E.B")),
        "{errors:?}"
    );
    // A default that fits what every subgraph keeps is fine.
    compose_valid(&[
        fed2("a", "enum E { A B }\ntype Query { a(e: [E] = [A]): Int }"),
        fed2("b", "enum E { A }\ntype Query { b(e: E): Int }"),
    ]);
}

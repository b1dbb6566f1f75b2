//! The model's reading of Apollo's supergraph output: progressive `@override` labels and
//! `@interfaceObject` fields (the fixture was printed by Apollo's composition).

use super::*;

fn supergraph() -> Supergraph {
    Supergraph::parse(include_str!("tests/override_labels.graphql")).expect("fixture parses")
}

fn graph(s: &Supergraph, name: &str) -> SubgraphId {
    let index = s
        .subgraphs
        .iter()
        .position(|g| &*g.name.0 == name)
        .expect("graph exists");
    SubgraphId(index as u16)
}

#[test]
fn an_overridden_field_moves_only_while_its_label_is_on() {
    let s = supergraph();
    let (a, b) = (graph(&s, "a"), graph(&s, "b"));
    let off = ActiveLabels::default();
    let on = s.labels_named(&["new-email".to_owned()]);
    assert_eq!(s.field_resolvers("User", "email", off), vec![b]);
    assert_eq!(s.field_resolvers("User", "email", on), vec![a]);
    // Other labels are not touched by switching one on.
    assert_eq!(s.field_resolvers("User", "name", on), vec![b]);
}

#[test]
fn custom_labels_come_from_the_config_and_percent_labels_from_a_draw() {
    let s = supergraph();
    let email = s
        .override_labels
        .iter()
        .position(|l| &**l == "new-email")
        .expect("label read");
    assert!(s.draw_labels(&["new-email".to_owned()]).contains(email));
    assert!(!s.draw_labels(&[]).contains(email));
    let half = s
        .override_labels
        .iter()
        .position(|l| &**l == "percent(50)")
        .expect("label read");
    let never = s
        .override_labels
        .iter()
        .position(|l| &**l == "percent(0)")
        .expect("label read");
    let draws = 10_000;
    let mut on = 0;
    for _ in 0..draws {
        let labels = s.draw_labels(&[]);
        assert!(!labels.contains(never), "percent(0) is never on");
        on += usize::from(labels.contains(half));
    }
    // Binomial(10000, 0.5): 4000..6000 is 20 standard deviations wide.
    assert!(
        (4000..6000).contains(&on),
        "percent(50) was on {on} times of {draws}"
    );
}

#[test]
fn implementation_fields_from_an_interface_object_have_no_resolver_of_their_own() {
    let s = supergraph();
    let b = graph(&s, "b");
    assert!(s
        .field_resolvers("Book", "rating", ActiveLabels::default())
        .is_empty());
    assert!(s.is_interface_object_in("Media", b));
    let from: Vec<_> = s
        .interface_objects_of("Book")
        .map(|(i, _)| i.to_string())
        .collect();
    assert_eq!(from, vec!["Media"]);
    assert_eq!(s.entity_graphs("Media"), vec![graph(&s, "a")]);
}

#[test]
fn labels_past_the_sixty_fourth_are_never_on() {
    let labels = ActiveLabels(u64::MAX);
    assert!(labels.contains(63));
    assert!(!labels.contains(64));
    assert_eq!(ActiveLabels::default().with(70), ActiveLabels::default());
}

/// Apollo's composition of subgraphs using `@authenticated`, `@requiresScopes`, `@policy` and a
/// `@composeDirective`d `@myDirective`.
fn access_supergraph() -> Supergraph {
    Supergraph::parse(include_str!("tests/access.graphql")).expect("fixture parses")
}

#[test]
fn access_requirements_are_read_per_type_and_field() {
    let s = access_supergraph();
    let scopes = |alternatives: &[&[&str]]| -> Vec<Vec<String>> {
        alternatives
            .iter()
            .map(|all| all.iter().map(|scope| scope.to_string()).collect())
            .collect()
    };
    let me = s.field_access("Query", "me").expect("Query.me");
    assert!(me.authenticated);
    assert!(me.requires_scopes.is_empty() && me.policies.is_empty());
    let user = s.type_access("User").expect("User");
    assert!(user.authenticated);
    let email = s.field_access("User", "email").expect("User.email");
    assert!(!email.authenticated);
    assert_eq!(
        email.requires_scopes,
        scopes(&[&["read:email"], &["admin"]])
    );
    let secret = s.field_access("User", "secret").expect("User.secret");
    assert_eq!(secret.policies, scopes(&[&["owner"]]));
    assert!(s.field_access("User", "id").is_some_and(|id| id.is_empty()));
    assert!(s.field_access("User", "missing").is_none());
}

/// An access rule renamed by a single `import:` entry written without its list is still read
/// (and enforced) under its new name.
#[test]
fn access_rules_renamed_by_a_lone_import_entry_are_read() {
    let sdl = include_str!("tests/access.graphql")
        .replace(
            r#"@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY)"#,
            r#"@link(url: "https://specs.apollo.dev/requiresScopes/v0.1", for: SECURITY, import: { name: "@requiresScopes", as: "@scopes" })"#,
        )
        .replace("@requiresScopes(scopes:", "@scopes(scopes:");
    assert!(
        sdl.contains("@scopes(scopes: [[\"read:email\"]"),
        "fixture changed"
    );
    let s = Supergraph::parse(&sdl).expect("renamed fixture parses");
    let email = s.field_access("User", "email").expect("User.email");
    assert_eq!(
        email.requires_scopes,
        vec![vec!["read:email".to_string()], vec!["admin".to_string()]]
    );
}

#[test]
fn clients_see_composed_directives_but_not_access_rules() {
    let s = access_supergraph();
    let api = &s.api_schema;
    for hidden in [
        "authenticated",
        "requiresScopes",
        "policy",
        "link",
        "join__field",
    ] {
        assert!(
            !api.directive_definitions.contains_key(hidden),
            "@{hidden} in the API schema"
        );
    }
    assert!(!api.types.contains_key("requiresScopes__Scope"));
    assert!(api.directive_definitions.contains_key("myDirective"));
    let ExtendedType::Object(user) = &api.types["User"] else {
        panic!("User is an object type");
    };
    assert!(user.directives.has("myDirective"));
    assert!(!user.directives.has("authenticated"));
}

#[test]
fn security_specs_seam_does_not_implement_are_refused_by_name() {
    // The access-control specs are enforced (`crate::auth`), so they are served.
    assert!(access_supergraph().check_specs_implemented().is_ok());
    let sdl = include_str!("tests/access.graphql").replacen(
        "@link(url: \"https://specs.apollo.dev/authenticated/v0.1\", for: SECURITY)",
        "@link(url: \"https://specs.apollo.dev/authenticated/v0.1\", for: SECURITY)\n  \
         @link(url: \"https://example.com/tenancy/v0.1\", for: SECURITY)",
        1,
    );
    assert_ne!(sdl, include_str!("tests/access.graphql"));
    let message = Supergraph::parse(&sdl)
        .expect("parses")
        .check_specs_implemented()
        .expect_err("tenancy is not implemented")
        .to_string();
    assert!(
        message.contains("https://example.com/tenancy/v0.1") && message.contains("SECURITY"),
        "{message}"
    );
    // Join, link, inaccessible, tag and cost are implemented.
    let plain = Supergraph::parse(include_str!("tests/override_labels.graphql")).expect("parses");
    assert!(plain.check_specs_implemented().is_ok());
}

#[test]
fn an_execution_spec_seam_does_not_implement_is_refused() {
    let sdl = include_str!("tests/override_labels.graphql").replacen(
        "@link(url: \"https://specs.apollo.dev/link/v1.0\")",
        "@link(url: \"https://specs.apollo.dev/link/v1.0\")\n  \
         @link(url: \"https://example.com/batching/v0.1\", for: EXECUTION)",
        1,
    );
    assert_ne!(sdl, include_str!("tests/override_labels.graphql"));
    let s = Supergraph::parse(&sdl).expect("parses");
    let message = s
        .check_specs_implemented()
        .expect_err("batching is not implemented")
        .to_string();
    assert!(
        message.contains("https://example.com/batching/v0.1 for EXECUTION"),
        "{message}"
    );
}

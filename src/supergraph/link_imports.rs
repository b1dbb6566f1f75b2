//! What a `@link(import:)` brings in, read once for every spec Seam knows.
//!
//! `import` is `[link__Import]`, each entry a name (`"@key"`) or `{ name: "@key", as: "@id" }`.
//! GraphQL's list coercion also lets a schema write a single entry without the list
//! (`import: "@key"`): such an entry counts like a list of one, or a renamed directive would go
//! unnoticed (an access rule applied under its new name would not be enforced).

use apollo_compiler::ast::{Directive, Value};

/// One entry of `import:`: the name the spec gives and the name this schema uses, each as
/// written (a directive's with its `@`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Import<'a> {
    pub name: &'a str,
    pub local: &'a str,
}

/// The entries of `link`'s `import:`; malformed entries (no `name`, not a string) are left out,
/// as validation refuses them.
pub(crate) fn link_imports(link: &Directive) -> Vec<Import<'_>> {
    let Some(value) = link.specified_argument_by_name("import") else {
        return Vec::new();
    };
    let entries = match value.as_ref() {
        Value::List(items) => items.iter().map(|item| item.as_ref()).collect(),
        single => vec![single],
    };
    entries.into_iter().filter_map(entry).collect()
}

fn entry(value: &Value) -> Option<Import<'_>> {
    match value {
        Value::String(name) => Some(Import {
            name: name.as_str(),
            local: name.as_str(),
        }),
        Value::Object(fields) => {
            let field = |key: &str| {
                fields
                    .iter()
                    .find(|(name, _)| name == key)
                    .and_then(|(_, value)| value.as_str())
            };
            let name = field("name")?;
            Some(Import {
                name,
                local: field("as").unwrap_or(name),
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imports_of(link: &str) -> Vec<(String, String)> {
        let sdl = format!("extend schema {link}\ntype Query {{ a: Int }}");
        let document = apollo_compiler::ast::Document::parse(&sdl, "link.graphql").expect("parses");
        let Some(apollo_compiler::ast::Definition::SchemaExtension(schema)) =
            document.definitions.first()
        else {
            panic!("no schema extension");
        };
        link_imports(&schema.directives[0])
            .into_iter()
            .map(|i| (i.name.to_string(), i.local.to_string()))
            .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn a_list_a_single_entry_and_renames_are_read_alike() {
        let url = r#"url: "https://specs.apollo.dev/federation/v2.9""#;
        assert_eq!(
            imports_of(&format!(
                r#"@link({url}, import: ["@key", {{ name: "@requiresScopes", as: "@scopes" }}, "Scope"])"#
            )),
            pairs(&[
                ("@key", "@key"),
                ("@requiresScopes", "@scopes"),
                ("Scope", "Scope")
            ])
        );
        assert_eq!(
            imports_of(&format!(r#"@link({url}, import: "@key")"#)),
            pairs(&[("@key", "@key")])
        );
        assert_eq!(
            imports_of(&format!(
                r#"@link({url}, import: {{ name: "@policy", as: "@allowed" }})"#
            )),
            pairs(&[("@policy", "@allowed")])
        );
        assert_eq!(
            imports_of(&format!(r#"@link({url}, import: [{{ as: "@x" }}, 3])"#)),
            pairs(&[])
        );
        assert!(imports_of(&format!("@link({url})")).is_empty());
    }
}

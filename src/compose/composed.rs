//! Custom directives a subgraph asks to keep with `@composeDirective(name: "@x")`.
//!
//! Composition drops directives it does not know, since it cannot tell what merging them means;
//! `@composeDirective` opts one in. As in Apollo, the directive must come from a spec the
//! subgraph `@link`s, so the supergraph can link the same spec: its definition, its applications
//! and that link reach the supergraph, and the API schema keeps the directive.

use apollo_compiler::ast::DirectiveDefinition;
use apollo_compiler::{Name, Node, Schema};

use super::errors::{CompositionError, ErrorCode};
use super::links::{string_argument, FederationNames};

#[derive(Debug, Clone)]
pub(crate) struct ComposedDirective {
    pub name: Name,
    pub definition: Node<DirectiveDefinition>,
    /// The URL of the spec the subgraph links it from.
    pub url: String,
}

/// The directives `@composeDirective` keeps in one subgraph; errors for those it cannot keep.
pub(super) fn read_subgraph(
    subgraph: &str,
    schema: &Schema,
    names: &FederationNames,
    errors: &mut Vec<CompositionError>,
) -> Vec<ComposedDirective> {
    let schema_directives = &schema.schema_definition.directives;
    let mut composed = Vec::new();
    for application in schema_directives.iter() {
        if names.canonical(&application.name) != Some("composeDirective") {
            continue;
        }
        let Some(requested) = string_argument(application, "name") else {
            continue;
        };
        let local = requested.trim_start_matches('@');
        let mut refuse = |problem: &str| {
            errors.push(CompositionError::new(
                ErrorCode::DirectiveCompositionError,
                format!("[{subgraph}] @composeDirective(name: \"{requested}\"): {problem}"),
            ));
        };
        if !requested.starts_with('@') {
            refuse("the name must start with \"@\" (the directive, as in \"@x\")");
            continue;
        }
        if names.canonical(local).is_some() {
            refuse(
                "federation directives compose by their own rules, not through @composeDirective",
            );
            continue;
        }
        let Some(definition) = schema
            .directive_definitions
            .get(local)
            .filter(|definition| !definition.is_built_in())
        else {
            refuse("the subgraph does not define this directive");
            continue;
        };
        let url = schema_directives
            .get_all("link")
            .filter_map(|link| Some((link, string_argument(link, "url")?)))
            .find(|(link, url)| links_directive(link, url, local))
            .map(|(_, url)| url.to_string());
        let Some(url) = url else {
            refuse(
                "the directive is not imported from a spec the subgraph @links, so the \
                 supergraph could not say what it means",
            );
            continue;
        };
        if !composed
            .iter()
            .any(|known: &ComposedDirective| known.name == local)
        {
            composed.push(ComposedDirective {
                name: definition.name.clone(),
                definition: definition.clone(),
                url,
            });
        }
    }
    composed
}

/// Whether the `@link` of `url` brings in the directive `local`: it imports it, or it is the
/// spec's own directive, named after the spec (or after the link's `as:`).
fn links_directive(link: &apollo_compiler::ast::Directive, url: &str, local: &str) -> bool {
    let own_name = string_argument(link, "as").or_else(|| spec_name(url));
    if own_name == Some(local) {
        return true;
    }
    crate::supergraph::link_imports::link_imports(link)
        .iter()
        .any(|import| import.local.trim_start_matches('@') == local)
}

/// The spec's name in its URL: the path segment before the version (`…/myDirective/v1.0`).
fn spec_name(url: &str) -> Option<&str> {
    let mut segments = url.trim_end_matches('/').rsplit('/');
    let version = segments.next()?;
    version.starts_with('v').then(|| segments.next()).flatten()
}

/// Every subgraph's composed directives, the first definition of each name winning.
pub(super) fn merge<'a>(
    per_subgraph: impl Iterator<Item = &'a [ComposedDirective]>,
) -> Vec<ComposedDirective> {
    let mut merged: Vec<ComposedDirective> = Vec::new();
    for directive in per_subgraph.flatten() {
        if !merged.iter().any(|known| known.name == directive.name) {
            merged.push(directive.clone());
        }
    }
    merged
}

/// Keeps one application per element of each composed directive that is not `repeatable`:
/// merging kept every distinct application, since only the definition tells which may repeat.
pub(super) fn drop_repeats(types: &mut [super::model::SuperType], composed: &[ComposedDirective]) {
    let single: Vec<&Name> = composed
        .iter()
        .filter(|directive| !directive.definition.repeatable)
        .map(|directive| &directive.name)
        .collect();
    if single.is_empty() {
        return;
    }
    let keep_first = |directives: &mut Vec<Node<apollo_compiler::ast::Directive>>| {
        let mut seen: Vec<&Name> = Vec::new();
        directives.retain(|directive| {
            let Some(name) = single.iter().find(|name| ***name == directive.name) else {
                return true;
            };
            if seen.contains(name) {
                return false;
            }
            seen.push(name);
            true
        });
    };
    for ty in types {
        keep_first(&mut ty.directives);
        for field in ty.fields.values_mut() {
            keep_first(&mut field.directives);
            for arg in &mut field.args {
                keep_first(&mut arg.directives);
            }
        }
        for value in ty.values.values_mut() {
            keep_first(&mut value.directives);
        }
    }
}

/// One `@link` per spec, importing its composed directives.
pub(super) fn links(composed: &[ComposedDirective]) -> Vec<String> {
    let mut urls: Vec<&str> = Vec::new();
    for directive in composed {
        if !urls.contains(&directive.url.as_str()) {
            urls.push(&directive.url);
        }
    }
    urls.into_iter()
        .map(|url| {
            let imports: Vec<String> = composed
                .iter()
                .filter(|directive| directive.url == url)
                .map(|directive| format!("\"@{}\"", directive.name))
                .collect();
            format!(
                "@link(url: {}, import: [{}])",
                crate::sources::string_literal(url),
                imports.join(", ")
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::spec_name;

    #[test]
    fn spec_names_come_before_the_version() {
        assert_eq!(
            spec_name("https://myspecs.dev/myDirective/v1.0"),
            Some("myDirective")
        );
        assert_eq!(spec_name("https://myspecs.dev/hello/v0.1/"), Some("hello"));
        assert_eq!(spec_name("https://myspecs.dev/unversioned"), None);
    }
}

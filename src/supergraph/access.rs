//! What `@authenticated`, `@requiresScopes` and `@policy` require of a type or field, read once
//! from the supergraph so the auth stage only looks the answer up.
//!
//! The directives' names come from the specs' `@link`s (`as:` renames a spec, `import:` may
//! rename a directive), never assumed; a supergraph that links none of the specs requires
//! nothing.

use std::collections::BTreeSet;

use apollo_compiler::ast::{Directive, Value};
use apollo_compiler::{Name, Schema};

const AUTHENTICATED_SPEC: &str = "https://specs.apollo.dev/authenticated/";
const REQUIRES_SCOPES_SPEC: &str = "https://specs.apollo.dev/requiresScopes/";
const POLICY_SPEC: &str = "https://specs.apollo.dev/policy/";

/// What a client must have to get a type or a field. Empty lists require nothing; otherwise the
/// client needs every entry of one of the inner lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessRequirements {
    pub authenticated: bool,
    pub requires_scopes: Vec<Vec<String>>,
    pub policies: Vec<Vec<String>>,
}

impl AccessRequirements {
    pub fn is_empty(&self) -> bool {
        !self.authenticated && self.requires_scopes.is_empty() && self.policies.is_empty()
    }
}

/// Every scope and policy a supergraph's access rules name, and whether it has any rule: what
/// a request's rights are measured against (`crate::auth::Rights`).
#[derive(Debug, Clone, Default)]
pub struct AccessVocabulary {
    pub any_rule: bool,
    pub scopes: BTreeSet<String>,
    pub policies: BTreeSet<String>,
}

impl AccessVocabulary {
    pub fn add(&mut self, requirements: &AccessRequirements) {
        if requirements.is_empty() {
            return;
        }
        self.any_rule = true;
        self.scopes
            .extend(requirements.requires_scopes.iter().flatten().cloned());
        self.policies
            .extend(requirements.policies.iter().flatten().cloned());
    }
}

/// The names the supergraph applies the three directives under.
#[derive(Debug, Clone, Default)]
pub(super) struct AccessNames {
    authenticated: Option<Name>,
    requires_scopes: Option<Name>,
    policy: Option<Name>,
}

impl AccessNames {
    pub fn read(schema: &Schema) -> Self {
        let mut names = AccessNames::default();
        for link in schema.schema_definition.directives.get_all("link") {
            let Some(url) = link
                .specified_argument_by_name("url")
                .and_then(|url| url.as_str())
            else {
                continue;
            };
            let (slot, spec) = if url.starts_with(AUTHENTICATED_SPEC) {
                (&mut names.authenticated, "authenticated")
            } else if url.starts_with(REQUIRES_SCOPES_SPEC) {
                (&mut names.requires_scopes, "requiresScopes")
            } else if url.starts_with(POLICY_SPEC) {
                (&mut names.policy, "policy")
            } else {
                continue;
            };
            let namespace = link
                .specified_argument_by_name("as")
                .and_then(|name| name.as_str())
                .unwrap_or(spec);
            let local = imported_name(link, spec).unwrap_or_else(|| namespace.to_string());
            *slot = Name::new(&local).ok();
        }
        names
    }

    /// The requirements the directives of one type or field state.
    pub fn requirements<'a>(
        &self,
        directives: impl IntoIterator<Item = &'a Directive>,
    ) -> AccessRequirements {
        let directives: Vec<&Directive> = directives.into_iter().collect();
        let applied = |name: &Option<Name>| {
            let name = name.as_ref()?;
            directives.iter().copied().find(|d| d.name == *name)
        };
        AccessRequirements {
            authenticated: applied(&self.authenticated).is_some(),
            requires_scopes: applied(&self.requires_scopes)
                .map(|d| alternatives(d.specified_argument_by_name("scopes")))
                .unwrap_or_default(),
            policies: applied(&self.policy)
                .map(|d| alternatives(d.specified_argument_by_name("policies")))
                .unwrap_or_default(),
        }
    }

    /// The names to leave out of the API schema: clients do not see access rules.
    pub fn directive_names(&self) -> impl Iterator<Item = &Name> {
        [&self.authenticated, &self.requires_scopes, &self.policy]
            .into_iter()
            .flatten()
    }
}

/// The local name of `@spec` when the link imports it (possibly under `as:`).
fn imported_name(link: &Directive, spec: &str) -> Option<String> {
    let wanted = format!("@{spec}");
    super::link_imports::link_imports(link)
        .into_iter()
        .find(|import| import.name == wanted)
        .map(|import| import.local.trim_start_matches('@').to_string())
}

/// The alternatives of a `@requiresScopes(scopes:)` or `@policy(policies:)` argument, coerced
/// the way GraphQL coerces input to `[[T!]!]!`: a single value stands for a list of one, at
/// either level, so `scopes: ["a", "b"]` means `[["a"], ["b"]]` (a or b) and `scopes: "a"`
/// means `[["a"]]`. Reading only the nested form left such a field open to every client.
/// The item types are custom scalars, which validation lets take any literal: an item that is
/// not a string counts as its GraphQL text (`ADMIN`, `1`, `["a"]`), a scope a token must hold
/// like any other, so no literal can make a rule require less than it says.
pub(crate) fn alternatives(value: Option<&apollo_compiler::Node<Value>>) -> Vec<Vec<String>> {
    let scope = |item: &Value| match item {
        Value::String(text) => text.to_string(),
        other => other.serialize().no_indent().to_string(),
    };
    match value.map(|value| value.as_ref()) {
        Some(Value::List(alternatives)) => alternatives
            .iter()
            .map(|all| match all.as_ref() {
                Value::List(items) => items.iter().map(|item| scope(item)).collect(),
                one => vec![scope(one)],
            })
            .collect(),
        Some(one) => vec![vec![scope(one)]],
        None => Vec::new(),
    }
}

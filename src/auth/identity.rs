//! Who a request is: the claims of its verified token, with the scopes and policies they grant
//! read once, when the token is verified, so every later check is a lookup.

use serde_json::{Map, Value};

use crate::config::AuthConfig;

/// A verified token's claims and what they grant.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub claims: Map<String, Value>,
    /// The scope claim's entries (for `@requiresScopes`), sorted and deduplicated.
    pub scopes: Vec<String>,
    /// The `auth.policies` whose claims match (for `@policy`), sorted.
    pub policies: Vec<String>,
}

impl Identity {
    pub fn new(claims: Map<String, Value>, config: &AuthConfig) -> Self {
        let mut scopes = words(claim(&claims, &config.scope_claim));
        scopes.sort();
        scopes.dedup();
        let policies = config
            .policies
            .iter()
            .filter(|(_, rule)| {
                rule.claims.iter().all(|(name, wanted)| {
                    let held = claim(&claims, name);
                    wanted.values().iter().any(|value| holds(held, &value.0))
                })
            })
            .map(|(name, _)| name.clone())
            .collect();
        Identity {
            claims,
            scopes,
            policies,
        }
    }

    /// Who the token names, as one string that outlives the token: its issuer and subject, or,
    /// for a token without `sub`, every claim but those that change when the same client gets a
    /// fresh token (`exp`, `iat`, `nbf`, `jti`). Binds what a client reserved (an SSE stream) to
    /// that client across its token refreshes.
    pub fn principal(&self) -> String {
        match self.claims.get("sub") {
            Some(sub) => format!(
                "iss={};sub={}",
                self.claims.get("iss").map(claim_text).unwrap_or_default(),
                claim_text(sub)
            ),
            None => {
                let lasting: Map<String, Value> = self
                    .claims
                    .iter()
                    .filter(|(name, _)| !matches!(name.as_str(), "exp" | "iat" | "nbf" | "jti"))
                    .map(|(name, value)| (name.clone(), value.clone()))
                    .collect();
                Value::Object(lasting).to_string()
            }
        }
    }

    /// The claim at a dotted name (`realm_access.roles`); a name with a dot that is itself a
    /// claim (`https://example.com/roles`) is found as it is first.
    pub fn claim(&self, name: &str) -> Option<&Value> {
        claim(&self.claims, name)
    }
}

fn claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(name) {
        return Some(value);
    }
    let mut parts = name.split('.');
    let mut value = claims.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

/// A claim's entries: a space-separated string's words (the OAuth 2.0 `scope` form) or a list's
/// strings.
fn words(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(text)) => text.split_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

/// Whether a claim matches one wanted value: equal to it, or holding it as an entry.
fn holds(held: Option<&Value>, wanted: &str) -> bool {
    match held {
        Some(Value::String(text)) => text == wanted || text.split_whitespace().any(|w| w == wanted),
        Some(Value::Array(items)) => items.iter().any(|item| holds(Some(item), wanted)),
        Some(Value::Number(n)) => n.to_string() == wanted,
        Some(Value::Bool(b)) => b.to_string() == wanted,
        _ => false,
    }
}

/// A claim's value as header text: strings as they are, other values as their JSON text.
pub fn claim_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use serde_json::json;

    fn config(yaml: &str) -> AuthConfig {
        let text = format!("subgraphs:\n  - name: a\n    url: http://a/\n{yaml}");
        Config::from_yaml_str(&text, std::path::Path::new("."))
            .expect("config")
            .auth
    }

    fn identity(claims: Value, config: &AuthConfig) -> Identity {
        let Value::Object(claims) = claims else {
            panic!("claims are an object")
        };
        Identity::new(claims, config)
    }

    #[test]
    fn scopes_come_from_a_string_or_a_list() {
        let plain = config("");
        assert_eq!(
            identity(json!({"scope": "b a  b"}), &plain).scopes,
            ["a", "b"]
        );
        assert_eq!(
            identity(json!({"scope": ["x", "y", 3]}), &plain).scopes,
            ["x", "y"]
        );
        let custom = config("auth:\n  scope_claim: permissions\n");
        assert_eq!(
            identity(json!({"scope": "a", "permissions": ["p"]}), &custom).scopes,
            ["p"]
        );
    }

    #[test]
    fn policies_are_granted_when_every_listed_claim_matches() {
        let config = config(
            "auth:\n  policies:\n    admin:\n      claims:\n        role: [admin, root]\n        realm.tier: 3\n    reader:\n      claims:\n        groups: readers\n",
        );
        let granted = |claims| identity(claims, &config).policies;
        assert_eq!(
            granted(json!({"role": "root", "realm": {"tier": 3}, "groups": ["a", "readers"]})),
            ["admin", "reader"]
        );
        assert_eq!(granted(json!({"role": "admin"})), Vec::<String>::new());
        assert_eq!(granted(json!({"groups": "writers readers"})), ["reader"]);
        assert_eq!(granted(json!({})), Vec::<String>::new());
    }
}

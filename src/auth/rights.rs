//! What one request may see of one supergraph: the part of its identity that the supergraph's
//! `@authenticated`, `@requiresScopes` and `@policy` ask about.
//!
//! Prepared operations are cached per [`Rights`], so two requests share a filtered plan exactly
//! when every access rule answers the same for both. Scopes and policies the supergraph never
//! names are left out, so tokens that differ only in them share the cache entry, and a
//! supergraph without access rules gives every request the same (empty) rights.

use std::collections::BTreeSet;

use crate::supergraph::{AccessRequirements, AccessVocabulary};

use super::Identity;

/// The access-relevant part of an identity, for one supergraph.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Rights {
    pub authenticated: bool,
    /// Held scopes the supergraph names, sorted.
    pub scopes: Vec<String>,
    /// Granted policies the supergraph names, sorted.
    pub policies: Vec<String>,
}

impl Rights {
    /// The rights `identity` (`None`: an anonymous request) has in a supergraph whose access
    /// rules name `vocabulary`.
    pub fn of(vocabulary: &AccessVocabulary, identity: Option<&Identity>) -> Rights {
        let Some(identity) = identity.filter(|_| vocabulary.any_rule) else {
            return Rights::default();
        };
        let named = |held: &[String], named: &BTreeSet<String>| {
            held.iter()
                .filter(|entry| named.contains(*entry))
                .cloned()
                .collect()
        };
        Rights {
            authenticated: true,
            scopes: named(&identity.scopes, &vocabulary.scopes),
            policies: named(&identity.policies, &vocabulary.policies),
        }
    }
}

impl Rights {
    /// Whether these rights meet one set of requirements: authenticated when asked, and every
    /// entry of at least one alternative of the scopes and of the policies.
    pub fn satisfy(&self, requirements: &AccessRequirements) -> bool {
        let any_group = |groups: &[Vec<String>], held: &[String]| {
            groups.is_empty()
                || groups
                    .iter()
                    .any(|group| group.iter().all(|entry| held.contains(entry)))
        };
        (!requirements.authenticated || self.authenticated)
            && any_group(&requirements.requires_scopes, &self.scopes)
            && any_group(&requirements.policies, &self.policies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn requirements(authenticated: bool, scopes: &[&[&str]]) -> AccessRequirements {
        AccessRequirements {
            authenticated,
            requires_scopes: scopes
                .iter()
                .map(|group| group.iter().map(|s| s.to_string()).collect())
                .collect(),
            policies: Vec::new(),
        }
    }

    #[test]
    fn scopes_need_every_entry_of_one_alternative() {
        let rights = Rights {
            authenticated: true,
            scopes: vec!["a".into(), "b".into()],
            policies: Vec::new(),
        };
        assert!(rights.satisfy(&requirements(true, &[&["a", "b"]])));
        assert!(rights.satisfy(&requirements(false, &[&["x"], &["b"]])));
        assert!(!rights.satisfy(&requirements(false, &[&["a", "c"]])));
        assert!(!Rights::default().satisfy(&requirements(true, &[])));
        assert!(Rights::default().satisfy(&requirements(false, &[])));
    }
}

//! `headers:` — which client headers reach the subgraphs, and which Seam adds or removes.
//!
//! Nothing is forwarded unless a rule says so: a subgraph must not receive a client's
//! `Authorization` or cookies by accident. The shape follows the one users know from Apollo
//! Router and Hive Router: rules for `all` subgraphs, then rules per subgraph, applied in order.

use std::collections::BTreeMap;

use http::{HeaderName, HeaderValue};
use serde::Deserialize;

use super::ConfigProblem;

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadersConfig {
    /// Rules for every subgraph, applied first.
    #[serde(default)]
    pub all: HeaderRules,
    /// Rules for one subgraph by name, applied after `all`.
    #[serde(default)]
    pub subgraphs: BTreeMap<String, HeaderRules>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderRules {
    /// Rules for the requests Seam sends (HTTP requests and subscription sockets), in order.
    #[serde(default)]
    pub request: Vec<HeaderRule>,
}

/// One rule: a YAML map with exactly one of its keys, e.g. `- propagate: { named: authorization }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderRule {
    /// Copy a client header: `named` (optionally `rename`d, with a `default` when the client
    /// sent none) or every header whose name `matching` matches.
    #[serde(default)]
    pub propagate: Option<Propagate>,
    /// Set a header to a fixed value (`${VAR}` works, like everywhere in the config), or to a
    /// claim of the request's verified JWT.
    #[serde(default)]
    pub insert: Option<Insert>,
    /// Drop a header that an earlier rule added: `named` or `matching`.
    #[serde(default)]
    pub remove: Option<Remove>,
}

/// What one rule does.
pub enum RuleKind<'a> {
    Propagate(&'a Propagate),
    Insert(&'a Insert),
    Remove(&'a Remove),
}

impl HeaderRule {
    /// The rule's action; `None` when it names none or several (a config error).
    pub fn kind(&self) -> Option<RuleKind<'_>> {
        match (&self.propagate, &self.insert, &self.remove) {
            (Some(p), None, None) => Some(RuleKind::Propagate(p)),
            (None, Some(i), None) => Some(RuleKind::Insert(i)),
            (None, None, Some(r)) => Some(RuleKind::Remove(r)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Propagate {
    #[serde(default)]
    pub named: Option<String>,
    /// A regular expression over the lower-case header name (unanchored: use `^…$`).
    #[serde(default)]
    pub matching: Option<String>,
    #[serde(default)]
    pub rename: Option<String>,
    #[serde(default)]
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Insert {
    pub name: String,
    /// A fixed value; exactly one of `value` and `claim`.
    #[serde(default)]
    pub value: Option<String>,
    /// The value of this claim of the request's verified JWT (a dotted name reaches into
    /// objects); requests without a token, or without the claim, get no header. Strings are
    /// sent as they are, other JSON values as their JSON text.
    #[serde(default)]
    pub claim: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Remove {
    #[serde(default)]
    pub named: Option<String>,
    #[serde(default)]
    pub matching: Option<String>,
}

/// Headers that describe one connection or one message, not the client's request, so they are
/// never forwarded (RFC 9110 §7.6.1 hop-by-hop headers, plus the ones Seam writes itself for
/// each subgraph request and the WebSocket handshake's own).
pub fn is_never_forwarded(name: &str) -> bool {
    const NEVER: &[&str] = &[
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "content-type",
        "content-encoding",
        "accept",
        "accept-encoding",
        // `100-continue` is this message's handshake with Seam, not the subgraph's business.
        "expect",
        // Read as HTTP_PROXY by CGI-style servers (httpoxy).
        "proxy",
    ];
    let prefixed = |prefix: &str| {
        name.get(..prefix.len())
            .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
    };
    NEVER.iter().any(|n| name.eq_ignore_ascii_case(n))
        || prefixed("proxy-")
        || prefixed("sec-websocket-")
}

impl HeadersConfig {
    /// Every broken rule, by key. `known_subgraphs` is `None` when the subgraphs come from a
    /// supergraph file, whose names are not known yet.
    pub(super) fn problems(&self, known_subgraphs: Option<&[&str]>, out: &mut Vec<ConfigProblem>) {
        self.all.problems("headers.all", out);
        for (name, rules) in &self.subgraphs {
            let at = format!("headers.subgraphs.{name}");
            if let Some(known) = known_subgraphs {
                if !known.contains(&name.as_str()) {
                    out.push(ConfigProblem {
                        key: at.clone(),
                        message: format!(
                            "no subgraph is named `{name}`; the subgraphs are: {}",
                            known.join(", ")
                        ),
                    });
                }
            }
            rules.problems(&at, out);
        }
    }
}

impl HeaderRules {
    fn problems(&self, at: &str, out: &mut Vec<ConfigProblem>) {
        for (index, rule) in self.request.iter().enumerate() {
            let at = format!("{at}.request[{index}]");
            let mut problem = |key: String, message: String| {
                out.push(ConfigProblem { key, message });
            };
            let Some(kind) = rule.kind() else {
                problem(
                    at,
                    "a rule is one of `propagate`, `insert` or `remove`, each in its own list item"
                        .into(),
                );
                continue;
            };
            match kind {
                RuleKind::Propagate(p) => {
                    let at = format!("{at}.propagate");
                    match (&p.named, &p.matching) {
                        (Some(_), Some(_)) | (None, None) => problem(
                            at.clone(),
                            "give exactly one of `named` (one header) or `matching` (a regex)"
                                .into(),
                        ),
                        (None, Some(_)) if p.rename.is_some() || p.default.is_some() => problem(
                            at.clone(),
                            "`rename` and `default` go with `named`, not `matching`".into(),
                        ),
                        _ => {}
                    }
                    if let Some(named) = &p.named {
                        check_forwardable(named, &format!("{at}.named"), &mut problem);
                    }
                    if let Some(rename) = &p.rename {
                        check_forwardable(rename, &format!("{at}.rename"), &mut problem);
                    }
                    if let Some(default) = &p.default {
                        check_value(default, &format!("{at}.default"), &mut problem);
                    }
                    if let Some(pattern) = &p.matching {
                        check_regex(pattern, &format!("{at}.matching"), &mut problem);
                    }
                }
                RuleKind::Insert(insert) => {
                    let at = format!("{at}.insert");
                    check_forwardable(&insert.name, &format!("{at}.name"), &mut problem);
                    match (&insert.value, &insert.claim) {
                        (Some(value), None) => {
                            check_value(value, &format!("{at}.value"), &mut problem)
                        }
                        (None, Some(claim)) if claim.is_empty() => {
                            problem(format!("{at}.claim"), "name a claim".into())
                        }
                        (None, Some(_)) => {}
                        _ => problem(
                            at.clone(),
                            "give exactly one of `value` (fixed) or `claim` (from the JWT)".into(),
                        ),
                    }
                }
                RuleKind::Remove(remove) => {
                    let at = format!("{at}.remove");
                    match (&remove.named, &remove.matching) {
                        (Some(_), Some(_)) | (None, None) => problem(
                            at.clone(),
                            "give exactly one of `named` (one header) or `matching` (a regex)"
                                .into(),
                        ),
                        (Some(named), None) => {
                            if HeaderName::from_bytes(named.as_bytes()).is_err() {
                                problem(
                                    format!("{at}.named"),
                                    format!("`{named}` is not a valid header name"),
                                );
                            }
                        }
                        (None, Some(pattern)) => {
                            check_regex(pattern, &format!("{at}.matching"), &mut problem)
                        }
                    }
                }
            }
        }
    }
}

fn check_forwardable(name: &str, key: &str, problem: &mut impl FnMut(String, String)) {
    if HeaderName::from_bytes(name.as_bytes()).is_err() {
        problem(key.into(), format!("`{name}` is not a valid header name"));
    } else if is_never_forwarded(name) {
        problem(
            key.into(),
            format!(
                "`{name}` describes the connection or is set by Seam itself, so it is never \
                 forwarded"
            ),
        );
    }
}

fn check_value(value: &str, key: &str, problem: &mut impl FnMut(String, String)) {
    if HeaderValue::from_str(value).is_err() {
        problem(
            key.into(),
            "not a valid header value (control characters or non-ASCII text)".into(),
        );
    }
}

fn check_regex(pattern: &str, key: &str, problem: &mut impl FnMut(String, String)) {
    if let Err(error) = regex::Regex::new(pattern) {
        problem(
            key.into(),
            format!("`{pattern}` is not a valid regular expression: {error}"),
        );
    }
}

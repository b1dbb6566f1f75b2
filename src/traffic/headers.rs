//! Header rules: which of the client's headers a subgraph request carries, and which Seam adds
//! or removes (`headers:` in the config). One compiled rule list per subgraph — the `all` rules
//! followed by the subgraph's own — applied to every HTTP request and subscription socket.

use std::sync::Arc;
use std::task::{Context, Poll};

use http::{HeaderMap, HeaderName, HeaderValue};
use regex::Regex;

use super::SubgraphRequest;
use crate::auth::{claim_text, Identity};
use crate::config::{is_never_forwarded, HeaderRule, HeadersConfig, RuleKind};

#[derive(Debug, Clone)]
enum Rule {
    Propagate {
        name: HeaderName,
        rename: Option<HeaderName>,
        default: Option<HeaderValue>,
    },
    PropagateMatching(Regex),
    Insert(HeaderName, HeaderValue),
    /// Set a header to a claim of the request's verified token (a dotted name).
    InsertClaim(HeaderName, String),
    Remove(HeaderName),
    RemoveMatching(Regex),
}

/// The compiled rules of one subgraph.
#[derive(Debug, Clone, Default)]
pub struct HeaderRuleSet {
    rules: Vec<Rule>,
}

impl HeaderRuleSet {
    /// The rules for `subgraph`. Config validation has already refused rules that do not
    /// compile, so any left here are skipped rather than reported twice.
    pub fn for_subgraph(config: &HeadersConfig, subgraph: &str) -> Self {
        let own = config.subgraphs.get(subgraph).into_iter();
        let rules = std::iter::once(&config.all)
            .chain(own)
            .flat_map(|rules| rules.request.iter())
            .filter_map(compile)
            .collect();
        HeaderRuleSet { rules }
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The headers to send for a request without an identity (health checks, tests).
    pub fn apply(&self, client: &HeaderMap) -> HeaderMap {
        self.apply_for(client, None)
    }

    /// The headers to send, from the client's and its verified token's claims. Hop-by-hop and
    /// Seam-owned headers never pass, whatever a rule says (validation refuses naming them;
    /// this catches regex matches).
    pub fn apply_for(&self, client: &HeaderMap, identity: Option<&Identity>) -> HeaderMap {
        let mut out = HeaderMap::new();
        for rule in &self.rules {
            match rule {
                Rule::Propagate {
                    name,
                    rename,
                    default,
                } => {
                    let target = rename.as_ref().unwrap_or(name);
                    let mut values = client.get_all(name).iter().peekable();
                    if values.peek().is_none() {
                        if let Some(default) = default {
                            out.insert(target.clone(), default.clone());
                        }
                        continue;
                    }
                    out.remove(target);
                    for value in values {
                        out.append(target.clone(), value.clone());
                    }
                }
                Rule::PropagateMatching(pattern) => {
                    for name in client.keys() {
                        // A header an earlier rule set (an insert, a claim, a named rule) is
                        // left as it is: a pattern never lets a client replace the gateway's
                        // value or add a second one beside it.
                        let forwarded = pattern.is_match(name.as_str())
                            && !is_never_forwarded(name.as_str())
                            && !listed_in_connection(client, name)
                            && !out.contains_key(name);
                        if !forwarded {
                            continue;
                        }
                        for value in client.get_all(name) {
                            out.append(name.clone(), value.clone());
                        }
                    }
                }
                Rule::Insert(name, value) => {
                    out.insert(name.clone(), value.clone());
                }
                Rule::InsertClaim(name, claim) => {
                    let value = identity
                        .and_then(|identity| identity.claim(claim))
                        .and_then(|value| HeaderValue::from_str(&claim_text(value)).ok());
                    if let Some(value) = value {
                        out.insert(name.clone(), value);
                    }
                }
                Rule::Remove(name) => {
                    out.remove(name);
                }
                Rule::RemoveMatching(pattern) => {
                    let doomed: Vec<HeaderName> = out
                        .keys()
                        .filter(|name| pattern.is_match(name.as_str()))
                        .cloned()
                        .collect();
                    for name in doomed {
                        out.remove(name);
                    }
                }
            }
        }
        out
    }
}

/// Whether the client's `Connection` header names `name`: such a header is hop-by-hop for this
/// connection (RFC 9110, 7.6.1) and is not passed on by a pattern.
fn listed_in_connection(client: &HeaderMap, name: &HeaderName) -> bool {
    client
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|token| token.trim().eq_ignore_ascii_case(name.as_str()))
}

fn compile(rule: &HeaderRule) -> Option<Rule> {
    let name = |text: &str| HeaderName::from_bytes(text.as_bytes()).ok();
    let forwardable = |text: &str| name(text).filter(|_| !is_never_forwarded(text));
    match rule.kind()? {
        RuleKind::Propagate(p) => match (&p.named, &p.matching) {
            (Some(named), None) => Some(Rule::Propagate {
                name: forwardable(named)?,
                rename: match &p.rename {
                    Some(rename) => Some(forwardable(rename)?),
                    None => None,
                },
                default: match &p.default {
                    Some(default) => Some(HeaderValue::from_str(default).ok()?),
                    None => None,
                },
            }),
            (None, Some(pattern)) => Regex::new(pattern).ok().map(Rule::PropagateMatching),
            _ => None,
        },
        RuleKind::Insert(insert) => match (&insert.value, &insert.claim) {
            (Some(value), None) => Some(Rule::Insert(
                forwardable(&insert.name)?,
                HeaderValue::from_str(value).ok()?,
            )),
            (None, Some(claim)) => {
                Some(Rule::InsertClaim(forwardable(&insert.name)?, claim.clone()))
            }
            _ => None,
        },
        RuleKind::Remove(remove) => match (&remove.named, &remove.matching) {
            (Some(named), None) => name(named).map(Rule::Remove),
            (None, Some(pattern)) => Regex::new(pattern).ok().map(Rule::RemoveMatching),
            _ => None,
        },
    }
}

/// The tower layer that fills a subgraph request's headers from its context.
#[derive(Clone)]
pub(super) struct HeaderRulesLayer(pub Arc<HeaderRuleSet>);

impl<S> tower::Layer<S> for HeaderRulesLayer {
    type Service = WithHeaderRules<S>;

    fn layer(&self, inner: S) -> Self::Service {
        WithHeaderRules {
            rules: self.0.clone(),
            inner,
        }
    }
}

#[derive(Clone)]
pub(super) struct WithHeaderRules<S> {
    rules: Arc<HeaderRuleSet>,
    inner: S,
}

impl<S: tower::Service<SubgraphRequest>> tower::Service<SubgraphRequest> for WithHeaderRules<S> {
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: SubgraphRequest) -> S::Future {
        if !self.rules.is_empty() {
            request.headers = self.rules.apply_for(
                &request.context.headers,
                request.context.identity.as_deref(),
            );
        }
        self.inner.call(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn rules(yaml: &str, subgraph: &str) -> HeaderRuleSet {
        let text = format!(
            "subgraphs:\n  - name: a\n    url: http://a/\n  - name: b\n    url: http://b/\n{yaml}"
        );
        let config = Config::from_yaml_str(&text, std::path::Path::new(".")).expect("config");
        HeaderRuleSet::for_subgraph(&config.headers, subgraph)
    }

    fn client(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                HeaderName::from_bytes(name.as_bytes()).expect("name"),
                HeaderValue::from_str(value).expect("value"),
            );
        }
        headers
    }

    fn sorted(headers: &HeaderMap) -> Vec<(String, String)> {
        let mut out: Vec<_> = headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("?").to_owned()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn nothing_is_forwarded_without_a_rule() {
        let set = rules("", "a");
        assert!(set
            .apply(&client(&[("authorization", "secret")]))
            .is_empty());
    }

    #[test]
    fn rules_apply_in_order_all_first_then_the_subgraphs_own() {
        let yaml = r#"
headers:
  all:
    request:
      - propagate: { named: Authorization }
      - propagate: { named: x-tenant, rename: x-tenant-id, default: public }
      - propagate: { matching: "^x-trace-" }
      - insert: { name: x-gateway, value: seam }
  subgraphs:
    b:
      request:
        - remove: { named: authorization }
        - remove: { matching: "^x-trace-b" }
        - insert: { name: x-gateway, value: seam-b }
"#;
        let input = client(&[
            ("authorization", "Bearer t"),
            ("x-trace-a", "1"),
            ("x-trace-b", "2"),
            ("cookie", "c=1"),
            ("connection", "close"),
        ]);
        assert_eq!(
            sorted(&rules(yaml, "a").apply(&input)),
            vec![
                ("authorization".into(), "Bearer t".into()),
                ("x-gateway".into(), "seam".into()),
                ("x-tenant-id".into(), "public".into()),
                ("x-trace-a".into(), "1".into()),
                ("x-trace-b".into(), "2".into()),
            ]
        );
        assert_eq!(
            sorted(&rules(yaml, "b").apply(&input)),
            vec![
                ("x-gateway".into(), "seam-b".into()),
                ("x-tenant-id".into(), "public".into()),
                ("x-trace-a".into(), "1".into()),
            ]
        );
    }

    #[test]
    fn a_rename_carries_every_value_and_the_client_value_beats_the_default() {
        let yaml = "headers:\n  all:\n    request:\n      - propagate: { named: x-a, rename: x-b, default: d }\n";
        let out = rules(yaml, "a").apply(&client(&[("x-a", "1"), ("x-a", "2")]));
        let values: Vec<_> = out.get_all("x-b").iter().collect();
        assert_eq!(values, vec!["1", "2"]);
    }

    #[test]
    fn regex_rules_never_forward_hop_by_hop_headers() {
        let yaml = "headers:\n  all:\n    request:\n      - propagate: { matching: \".*\" }\n";
        let input = client(&[
            ("connection", "keep-alive"),
            ("host", "seam"),
            ("content-length", "5"),
            ("te", "trailers"),
            ("upgrade", "websocket"),
            ("sec-websocket-key", "k"),
            ("x-ok", "yes"),
        ]);
        assert_eq!(
            sorted(&rules(yaml, "a").apply(&input)),
            vec![("x-ok".into(), "yes".into())]
        );
    }

    #[test]
    fn regex_rules_skip_what_the_connection_header_names_hop_by_hop() {
        let yaml = "headers:\n  all:\n    request:\n      - propagate: { matching: \"^x-\" }\n";
        let input = client(&[
            ("connection", "keep-alive, X-Hop"),
            ("connection", "x-also"),
            ("x-hop", "1"),
            ("x-also", "2"),
            ("x-ok", "yes"),
        ]);
        assert_eq!(
            sorted(&rules(yaml, "a").apply(&input)),
            vec![("x-ok".into(), "yes".into())]
        );
    }

    #[test]
    fn a_regex_rule_leaves_what_earlier_rules_set_alone() {
        let yaml = r#"
headers:
  all:
    request:
      - insert: { name: x-api-key, value: k123 }
      - propagate: { named: x-tenant, default: public }
      - propagate: { matching: "^x-" }
      - insert: { name: x-user, value: from-gateway }
"#;
        let input = client(&[
            ("x-tenant", "t1"),
            ("x-api-key", "forged"),
            ("x-user", "forged"),
        ]);
        let out = rules(yaml, "a").apply(&input);
        let values = |name: &str| -> Vec<_> { out.get_all(name).iter().collect() };
        assert_eq!(values("x-tenant"), vec!["t1"], "not t1 twice");
        assert_eq!(
            values("x-api-key"),
            vec!["k123"],
            "the client cannot replace it"
        );
        assert_eq!(values("x-user"), vec!["from-gateway"]);
        let kept = rules(yaml, "a").apply(&client(&[]));
        assert_eq!(
            kept.get_all("x-api-key").iter().collect::<Vec<_>>(),
            vec!["k123"]
        );
    }

    #[test]
    fn rules_that_would_forward_connection_headers_are_config_errors() {
        let text = "subgraphs:\n  - name: a\n    url: http://a/\nheaders:\n  all:\n    request:\n      - propagate: { named: Host }\n      - insert: { name: content-length, value: '1' }\n      - propagate: { matching: '(' }\n      - remove: {}\n  subgraphs:\n    nope:\n      request: []\n";
        let error = Config::from_yaml_str(text, std::path::Path::new("."))
            .expect_err("invalid")
            .to_string();
        for key in [
            "headers.all.request[0].propagate.named",
            "headers.all.request[1].insert.name",
            "headers.all.request[2].propagate.matching",
            "headers.all.request[3].remove",
            "headers.subgraphs.nope",
        ] {
            assert!(error.contains(key), "{key} missing from: {error}");
        }
    }
}

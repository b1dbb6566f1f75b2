//! The `Accept` header as RFC 9110 §12.5.1 reads it: media ranges with weights, where `q=0`
//! refuses a type and the most specific range that matches a type decides its weight. Clients
//! list several types (urql sends JSON types and `text/event-stream` together), so whether a type
//! is *mentioned* says little; which one the client prefers, and which it refuses, says what to
//! answer with.

use axum::http::{header, HeaderMap};

/// The media ranges of every `Accept` header of a request.
pub(crate) struct Accept {
    ranges: Vec<Range>,
    /// No `Accept` header at all: anything goes (`*/*`).
    absent: bool,
}

struct Range {
    /// `type/subtype`, lower-cased.
    essence: String,
    /// The parameters other than `q`, lower-cased, as written (`subscriptionspec="1.0"`).
    params: String,
    q: f32,
}

impl Accept {
    pub(crate) fn of(headers: &HeaderMap) -> Self {
        let mut ranges = Vec::new();
        let mut absent = true;
        for value in headers.get_all(header::ACCEPT) {
            absent = false;
            let Ok(value) = value.to_str() else {
                continue;
            };
            // Commas separate ranges; none of the parameters clients send holds one.
            for range in value.split(',') {
                let mut parts = range.split(';');
                let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
                if essence.is_empty() {
                    continue;
                }
                let mut q = 1.0;
                let mut params = Vec::new();
                for param in parts {
                    let param = param.trim().to_ascii_lowercase();
                    match param.strip_prefix("q=") {
                        // A weight that does not read as one is taken as 1, as the range
                        // itself still names the type.
                        Some(weight) => {
                            q = weight
                                .trim()
                                .parse::<f32>()
                                .ok()
                                .filter(|q| q.is_finite())
                                .unwrap_or(1.0)
                        }
                        None => params.push(param),
                    }
                }
                ranges.push(Range {
                    essence,
                    params: params.join(";"),
                    q: q.clamp(0.0, 1.0),
                });
            }
        }
        Accept { ranges, absent }
    }

    /// The weight of the media type `essence` (lower case): the highest of the exact ranges
    /// naming it, else — when `wildcards` — of `type/*`, else of `*/*`. 0 when no range matches: the client
    /// does not accept it. Streams are never chosen through a wildcard: a client that sends
    /// `*/*` expects one response.
    pub(crate) fn weight(&self, essence: &str, wildcards: bool) -> f32 {
        self.weight_where(essence, wildcards, |_| true)
    }

    /// Like [`Accept::weight`], counting only the exact ranges whose parameters pass `params`.
    pub(crate) fn weight_where(
        &self,
        essence: &str,
        wildcards: bool,
        params: impl Fn(&str) -> bool,
    ) -> f32 {
        let best = |matches: &dyn Fn(&Range) -> bool| {
            self.ranges
                .iter()
                .filter(|r| matches(r))
                .map(|r| r.q)
                .fold(None, |best: Option<f32>, q| {
                    Some(best.map_or(q, |b| b.max(q)))
                })
        };
        if let Some(q) = best(&|r| r.essence == essence && params(&r.params)) {
            return q;
        }
        if !wildcards {
            return 0.0;
        }
        if self.absent {
            return 1.0;
        }
        let family = essence.split('/').next().unwrap_or_default();
        best(&|r| r.essence.strip_suffix("/*") == Some(family))
            .or_else(|| best(&|r| r.essence == "*/*"))
            .unwrap_or(0.0)
    }
}

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// Whether the client prefers `application/graphql-response+json` (with its status codes) to
/// `application/json`: it names it, not refused, at least as high as plain JSON.
pub(crate) fn prefers_graphql_response_json(headers: &HeaderMap) -> bool {
    let accept = Accept::of(headers);
    let weight = accept.weight(GRAPHQL_RESPONSE_JSON, false);
    weight > 0.0 && weight >= accept.weight("application/json", true)
}

/// How the client asked to be answered over HTTP.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Delivery {
    /// One JSON response.
    Plain,
    /// Server-sent events, `Accept: text/event-stream`. With `single_as_json`, the client
    /// accepts JSON at least as much: a subscription streams, and an operation with one
    /// response (or a refused one) gets it as plain JSON.
    Sse { single_as_json: bool },
    /// Apollo's multipart subscriptions; a query still gets one JSON response.
    Multipart,
}

impl Delivery {
    pub(crate) fn of(headers: &HeaderMap) -> Self {
        let accept = Accept::of(headers);
        let sse = accept.weight("text/event-stream", false);
        // Apollo Client sends the `deferSpec` flavour with every query: a different protocol,
        // answered with plain JSON.
        let multipart = accept.weight_where("multipart/mixed", false, |params| {
            params.contains("subscriptionspec")
        });
        let json = accept
            .weight(GRAPHQL_RESPONSE_JSON, false)
            .max(accept.weight("application/json", true));
        if sse > 0.0 && sse >= multipart {
            Delivery::Sse {
                single_as_json: json > 0.0 && json >= sse,
            }
        } else if multipart > 0.0 {
            Delivery::Multipart
        } else {
            Delivery::Plain
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::ACCEPT, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    fn accept(values: &[&str]) -> Accept {
        Accept::of(&headers(values))
    }

    #[test]
    fn weights_come_from_the_most_specific_range() {
        let a = accept(&["text/event-stream;q=0, application/json;q=0.5, */*;q=0.1"]);
        assert_eq!(a.weight("text/event-stream", false), 0.0);
        assert_eq!(a.weight("text/event-stream", true), 0.0);
        assert_eq!(a.weight("application/json", true), 0.5);
        assert_eq!(a.weight("application/graphql-response+json", true), 0.1);
        assert_eq!(a.weight("application/graphql-response+json", false), 0.0);
        let a = accept(&["application/*;q=0.3", "TEXT/Event-Stream"]);
        assert_eq!(a.weight("application/json", true), 0.3);
        assert_eq!(a.weight("text/event-stream", false), 1.0);
    }

    fn delivery(values: &[&str]) -> Delivery {
        Delivery::of(&headers(values))
    }

    #[test]
    fn delivery_follows_weights_and_refusals() {
        let sse_only = Delivery::Sse {
            single_as_json: false,
        };
        let sse_or_json = Delivery::Sse {
            single_as_json: true,
        };
        // graphql-sse's client.
        assert_eq!(delivery(&["text/event-stream"]), sse_only);
        // urql's default.
        assert_eq!(
            delivery(&["application/graphql-response+json, application/graphql+json, application/json, text/event-stream, multipart/mixed"]),
            sse_or_json
        );
        assert_eq!(
            delivery(&["text/event-stream, application/json;q=0.5"]),
            sse_only
        );
        assert_eq!(
            delivery(&["text/event-stream;q=0, application/json"]),
            Delivery::Plain
        );
        // Apollo Client 3 and 4.
        assert_eq!(
            delivery(&[
                "multipart/mixed;boundary=\"graphql\";subscriptionSpec=1.0,application/json"
            ]),
            Delivery::Multipart
        );
        assert_eq!(
            delivery(&["multipart/mixed;subscriptionSpec=\"1.0\";q=0, application/json"]),
            Delivery::Plain
        );
        assert_eq!(
            delivery(&["multipart/mixed;deferSpec=20220824, application/json"]),
            Delivery::Plain
        );
        assert_eq!(delivery(&["*/*"]), Delivery::Plain);
        assert_eq!(delivery(&[]), Delivery::Plain);
    }

    #[test]
    fn graphql_response_json_when_preferred_and_not_refused() {
        let prefers = |values: &[&str]| prefers_graphql_response_json(&headers(values));
        assert!(prefers(&[
            "application/graphql-response+json, application/json"
        ]));
        assert!(prefers(&[
            "application/json",
            "application/graphql-response+json"
        ]));
        assert!(!prefers(&[
            "application/graphql-response+json;q=0, application/json"
        ]));
        assert!(!prefers(&[
            "application/graphql-response+json;q=0.5, application/json"
        ]));
        assert!(!prefers(&["*/*"]));
        assert!(!prefers(&[]));
    }

    #[test]
    fn no_header_accepts_anything_but_a_stream() {
        let a = accept(&[]);
        assert_eq!(a.weight("application/json", true), 1.0);
        assert_eq!(a.weight("text/event-stream", false), 0.0);
    }

    #[test]
    fn parameters_pick_among_ranges_of_one_type() {
        let a = accept(&[
            "multipart/mixed;deferSpec=20220824, multipart/mixed;subscriptionSpec=\"1.0\";q=0.4",
        ]);
        let subscriptions = |p: &str| p.contains("subscriptionspec");
        assert_eq!(a.weight_where("multipart/mixed", false, subscriptions), 0.4);
        let a = accept(&["multipart/mixed;deferSpec=20220824"]);
        assert_eq!(a.weight_where("multipart/mixed", false, subscriptions), 0.0);
        let a = accept(&["application/json;q=nonsense"]);
        assert_eq!(a.weight("application/json", true), 1.0);
        let a = accept(&["application/json;q=NaN"]);
        assert_eq!(a.weight("application/json", true), 1.0);
    }
}

//! Event subgraphs: SDL files listed in the config without a URL, whose `Subscription` fields are
//! fed by bridge topics (`@subscribe`) and whose `Mutation` fields publish to one (`@publish`).
//!
//! A join supergraph keeps no trace of these directives, so they are read from the event
//! subgraphs' own SDL at startup into an [`EventModel`] that the gateway keeps beside the
//! supergraph (as it keeps stitching lookups), swapped with it on reload.

use std::collections::HashMap;
use std::path::PathBuf;

use apollo_compiler::ast::{self, Definition, Directive, FieldDefinition, OperationType};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::{Name, Node};

use super::template::{EventFilter, TopicTemplate};
use crate::config::Config;
use crate::supergraph::{SubgraphId, Supergraph};

/// The `@link` URL of Seam's bridge directives (any version: only the path is compared).
pub const BRIDGE_SPEC: &str = "https://seam.dev/bridge/";

/// What the event subgraphs declare, by root field name.
#[derive(Debug, Clone, Default)]
pub struct EventModel {
    graphs: Vec<SubgraphId>,
    subscriptions: HashMap<Name, SubscribeField>,
    publications: HashMap<Name, PublishField>,
}

/// A `Subscription` field with `@subscribe(topic:, filter:)`.
#[derive(Debug, Clone)]
pub struct SubscribeField {
    pub graph: SubgraphId,
    pub topic: TopicTemplate,
    pub filter: Option<EventFilter>,
}

/// A `Mutation` field with `@publish(topic:)`.
#[derive(Debug, Clone)]
pub struct PublishField {
    pub graph: SubgraphId,
    pub topic: TopicTemplate,
}

#[derive(Debug, thiserror::Error)]
pub enum EventModelError {
    #[error("cannot read the SDL of event subgraph `{subgraph}` ({}): {source}", path.display())]
    Read {
        subgraph: String,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("event subgraph `{subgraph}`: {message}")]
    Subgraph { subgraph: String, message: String },
    #[error("event subgraph `{subgraph}`, field {type_name}.{field}: {message}")]
    Field {
        subgraph: String,
        type_name: String,
        field: String,
        message: String,
    },
}

impl EventModel {
    /// Reads the event subgraphs of `config` (entries with `sdl` and no `url`). The files are
    /// small and read once per (re)load, so they are read synchronously.
    pub fn from_config(config: &Config, supergraph: &Supergraph) -> Result<Self, EventModelError> {
        let mut sdls = Vec::new();
        for subgraph in &config.subgraphs {
            let (None, Some(path)) = (&subgraph.url, &subgraph.sdl) else {
                continue;
            };
            let sdl = std::fs::read_to_string(path).map_err(|source| EventModelError::Read {
                subgraph: subgraph.name.clone(),
                path: path.clone(),
                source,
            })?;
            sdls.push((subgraph.name.clone(), sdl));
        }
        Self::build(&sdls, supergraph)
    }

    /// The model of event subgraphs given as `(name, SDL)`.
    pub fn build(
        sdls: &[(String, String)],
        supergraph: &Supergraph,
    ) -> Result<Self, EventModelError> {
        let mut model = EventModel::default();
        for (name, sdl) in sdls {
            read_subgraph(name, sdl, supergraph, &mut model)?;
        }
        Ok(model)
    }

    pub fn is_empty(&self) -> bool {
        self.graphs.is_empty()
    }

    /// Whether `graph` is an event subgraph (answered by the gateway, never over HTTP).
    pub fn is_event_graph(&self, graph: SubgraphId) -> bool {
        self.graphs.contains(&graph)
    }

    pub fn subscription(&self, field: &str) -> Option<&SubscribeField> {
        self.subscriptions.get(field)
    }

    pub fn publication(&self, field: &str) -> Option<&PublishField> {
        self.publications.get(field)
    }
}

/// The local names a subgraph gives `@subscribe` and `@publish`.
struct DirectiveNames {
    subscribe: String,
    publish: String,
}

impl DirectiveNames {
    /// From the subgraph's `@link(url: "https://seam.dev/bridge/v0.1", import: [...])`; the plain
    /// names when the subgraph has no such link (a file written before the link existed).
    fn read(document: &ast::Document) -> Self {
        let mut names = DirectiveNames {
            subscribe: "subscribe".to_owned(),
            publish: "publish".to_owned(),
        };
        let links = document.definitions.iter().flat_map(|d| match d {
            Definition::SchemaDefinition(s) => s.directives.iter().collect::<Vec<_>>(),
            Definition::SchemaExtension(s) => s.directives.iter().collect(),
            _ => Vec::new(),
        });
        for link in links.filter(|d| d.name == "link") {
            let url = link
                .specified_argument_by_name("url")
                .and_then(|v| v.as_str());
            if !url.is_some_and(|u| u.starts_with(BRIDGE_SPEC)) {
                continue;
            }
            for import in crate::supergraph::link_imports::link_imports(link) {
                let (canonical, local) = (import.name, import.local);
                let local = local.trim_start_matches('@').to_owned();
                match canonical.trim_start_matches('@') {
                    "subscribe" => names.subscribe = local,
                    "publish" => names.publish = local,
                    _ => {}
                }
            }
        }
        names
    }
}

fn read_subgraph(
    name: &str,
    sdl: &str,
    supergraph: &Supergraph,
    model: &mut EventModel,
) -> Result<(), EventModelError> {
    let subgraph_error = |message: String| EventModelError::Subgraph {
        subgraph: name.to_owned(),
        message,
    };
    let graph = supergraph
        .subgraphs
        .iter()
        .position(|s| *s.name.0 == *name)
        .map(|i| SubgraphId(i as u16))
        .ok_or_else(|| subgraph_error("the supergraph has no subgraph of this name".to_owned()))?;
    let document = ast::Document::parse(sdl, format!("{name}.graphql"))
        .map_err(|e| subgraph_error(format!("the SDL does not parse: {}", e.errors)))?;
    let names = DirectiveNames::read(&document);
    let roots = root_type_names(&document);
    model.graphs.push(graph);

    for definition in &document.definitions {
        let (type_name, fields) = match definition {
            Definition::ObjectTypeDefinition(t) => (&t.name, &t.fields),
            Definition::ObjectTypeExtension(t) => (&t.name, &t.fields),
            _ => continue,
        };
        let kind = roots
            .iter()
            .find(|(_, root)| root == type_name)
            .map(|(kind, _)| *kind);
        for field in fields {
            let field_error = |message: String| EventModelError::Field {
                subgraph: name.to_owned(),
                type_name: type_name.to_string(),
                field: field.name.to_string(),
                message,
            };
            let subscribe = directive(field, &names.subscribe);
            let publish = directive(field, &names.publish);
            match kind {
                Some(OperationType::Subscription) => {
                    let directive = subscribe.ok_or_else(|| {
                        field_error(format!(
                            "an event subgraph has no URL, so each of its subscription fields \
                             needs @{}(topic: ...)",
                            names.subscribe
                        ))
                    })?;
                    let subscribed = subscribe_field(graph, field, directive, supergraph)
                        .map_err(field_error)?;
                    if model
                        .subscriptions
                        .insert(field.name.clone(), subscribed)
                        .is_some()
                    {
                        return Err(field_error(
                            "another event subgraph already subscribes this field".to_owned(),
                        ));
                    }
                }
                Some(OperationType::Mutation) => {
                    let directive = publish.ok_or_else(|| {
                        field_error(format!(
                            "an event subgraph has no URL, so each of its mutation fields needs \
                             @{}(topic: ...)",
                            names.publish
                        ))
                    })?;
                    let topic = topic_of(field, directive).map_err(field_error)?;
                    if model
                        .publications
                        .insert(field.name.clone(), PublishField { graph, topic })
                        .is_some()
                    {
                        return Err(field_error(
                            "another event subgraph already publishes through this field"
                                .to_owned(),
                        ));
                    }
                }
                Some(OperationType::Query) => {
                    return Err(field_error(
                        "an event subgraph has no URL, so it cannot resolve query fields"
                            .to_owned(),
                    ))
                }
                None if subscribe.is_some() || publish.is_some() => {
                    return Err(field_error(format!(
                        "@{} belongs on subscription fields and @{} on mutation fields",
                        names.subscribe, names.publish
                    )))
                }
                None => {}
            }
        }
    }
    Ok(())
}

/// The subgraph's root type names: its schema definition's, else the conventional ones.
fn root_type_names(document: &ast::Document) -> Vec<(OperationType, Name)> {
    let mut roots: Vec<(OperationType, Name)> = Vec::new();
    for definition in &document.definitions {
        let operations = match definition {
            Definition::SchemaDefinition(s) => &s.root_operations,
            Definition::SchemaExtension(s) => &s.root_operations,
            _ => continue,
        };
        for operation in operations {
            let (kind, name) = &**operation;
            roots.push((*kind, name.clone()));
        }
    }
    for (kind, name) in [
        (OperationType::Query, "Query"),
        (OperationType::Mutation, "Mutation"),
        (OperationType::Subscription, "Subscription"),
    ] {
        if !roots.iter().any(|(k, _)| *k == kind) {
            roots.push((kind, Name::new_static_unchecked(name)));
        }
    }
    roots
}

fn directive<'a>(field: &'a FieldDefinition, name: &str) -> Option<&'a Node<Directive>> {
    field.directives.iter().find(|d| d.name == name)
}

fn subscribe_field(
    graph: SubgraphId,
    field: &FieldDefinition,
    directive: &Directive,
    supergraph: &Supergraph,
) -> Result<SubscribeField, String> {
    let topic = topic_of(field, directive)?;
    let filter = match directive
        .specified_argument_by_name("filter")
        .filter(|v| !v.is_null())
    {
        None => None,
        Some(value) => {
            let text = value
                .as_str()
                .ok_or_else(|| "`filter` must be a string".to_owned())?;
            let filter = EventFilter::parse(text)?;
            check_arguments(field, filter.arguments(), "the filter")?;
            Some(filter)
        }
    };
    // An event is one JSON object, so it can only be the value of a field of an object,
    // interface or union type (not a list: a list of events is several events).
    let ty = &field.ty;
    let composite = matches!(
        supergraph.schema.types.get(ty.inner_named_type()),
        Some(ExtendedType::Object(_) | ExtendedType::Interface(_) | ExtendedType::Union(_))
    );
    if ty.is_list() || !composite {
        return Err(format!(
            "a subscribed field must return an object, interface or union type (one event), \
             not {ty}"
        ));
    }
    Ok(SubscribeField {
        graph,
        topic,
        filter,
    })
}

fn topic_of(field: &FieldDefinition, directive: &Directive) -> Result<TopicTemplate, String> {
    let text = directive
        .specified_argument_by_name("topic")
        .and_then(|v| v.as_str())
        .ok_or_else(|| format!("@{} needs a `topic` string", directive.name))?;
    let topic = TopicTemplate::parse(text)?;
    check_arguments(field, topic.arguments(), "the topic")?;
    Ok(topic)
}

fn check_arguments<'a>(
    field: &FieldDefinition,
    used: impl Iterator<Item = &'a super::template::ArgumentPath>,
    what: &str,
) -> Result<(), String> {
    for path in used {
        if !field.arguments.iter().any(|a| a.name == path.argument()) {
            return Err(format!(
                "{what} uses `{{{path}}}`, but the field has no argument `{}`",
                path.argument()
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::{SubgraphKind, SubgraphSdl};

    const REVIEWS: &str = "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.3\", \
        import: [\"@key\"]) type Query { review(id: ID!): Review } \
        type Review @key(fields: \"id\") { id: ID! body: String }";

    fn model(events: &str) -> Result<EventModel, EventModelError> {
        let subgraph = |name: &str, url: Option<&str>, sdl: &str| SubgraphSdl {
            name: name.into(),
            url: url.map(str::to_owned),
            sdl: sdl.into(),
            kind: SubgraphKind::Federation,
            merge: Vec::new(),
        };
        let sdl = crate::compose::compose(&[
            subgraph("reviews", Some("http://reviews/graphql"), REVIEWS),
            subgraph("events", None, events),
        ])
        .expect("compose");
        let supergraph = Supergraph::parse(&sdl).expect("parse");
        EventModel::build(&[("events".into(), events.into())], &supergraph)
    }

    fn events(fields: &str) -> String {
        format!(
            "extend schema @link(url: \"https://specs.apollo.dev/federation/v2.3\", import: [\"@key\"]) \
             @link(url: \"https://seam.dev/bridge/v0.1\", import: [{{ name: \"@subscribe\", as: \"@onTopic\" }}, \"@publish\"]) \
             type Review @key(fields: \"id\", resolvable: false) {{ id: ID! }} {fields}"
        )
    }

    #[test]
    fn directives_are_read_under_their_imported_names() {
        let model = model(&events(
            "type Subscription { reviewAdded(upc: ID): Review @onTopic(topic: \"r.{args.upc}\") } \
             type Mutation { announce(id: ID!): Boolean @publish(topic: \"r\") }",
        ))
        .expect("a valid event subgraph");
        let subscribed = model.subscription("reviewAdded").expect("subscribed");
        assert_eq!(subscribed.graph, SubgraphId(0));
        assert!(model.is_event_graph(SubgraphId(0)));
        assert!(!model.is_event_graph(SubgraphId(1)));
        assert!(model.publication("announce").is_some());
    }

    #[test]
    fn mistakes_name_the_field() {
        let error = |fields: &str| model(&events(fields)).unwrap_err().to_string();
        assert_eq!(
            error("type Subscription { reviewAdded: Review }"),
            "event subgraph `events`, field Subscription.reviewAdded: an event subgraph has no \
             URL, so each of its subscription fields needs @onTopic(topic: ...)"
        );
        assert_eq!(
            error("type Subscription { reviews: [Review] @onTopic(topic: \"r\") }"),
            "event subgraph `events`, field Subscription.reviews: a subscribed field must return \
             an object, interface or union type (one event), not [Review]"
        );
        assert_eq!(
            error("type Subscription { r(upc: ID): Review @onTopic(topic: \"r\", filter: \"upc == {args.id}\") }"),
            "event subgraph `events`, field Subscription.r: the filter uses `{args.id}`, but the \
             field has no argument `id`"
        );
        assert_eq!(
            error("type Query { latest: Review }"),
            "event subgraph `events`, field Query.latest: an event subgraph has no URL, so it \
             cannot resolve query fields"
        );
    }
}

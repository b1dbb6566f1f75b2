//! Federation parity for abstract types: interfaces and unions whose members live in different
//! subgraphs, subgraphs that know only some members, entity interfaces and `@interfaceObject`.
//! Every query goes through the three gateways of [`Parity`] (Seam's own composition, Apollo's
//! and Hive's supergraphs) over the same fixture subgraphs; expected answers are worked out by
//! hand from the scenario's JSON data.

mod common;
mod support;

use serde_json::json;

use common::{scenario_dir, Parity};
use support::fixture::FixtureSubgraph;

fn snapshot_plan(parity: &Parity, name: &str, query: &str) {
    insta::with_settings!({ description => query, omit_expression => true }, {
        insta::assert_snapshot!(name, parity.plan(query));
    });
}

/// Queries the first gateway alone and counts the calls each named subgraph received (the
/// request records are shared by the three gateways).
async fn calls_per_subgraph(parity: &Parity, query: &str, subgraphs: &[&str]) -> Vec<usize> {
    parity.clear_requests();
    let answer = parity.gateways[0].1.query(query).await;
    assert!(answer.get("errors").is_none(), "{answer}");
    subgraphs
        .iter()
        .map(|name| parity.requests_to(name).len())
        .collect()
}

// ---- abstract_members ----
// catalog: Book, Movie (Node & Media), union SearchResult = Book | Movie, node(id:), shelves.
// music: Song (Node & Media), Book with audiobookMinutes only, union SearchResult = Song | Book.
// reviews: interface Media { id } implemented by Book and Song (rating, reviews); no Movie.

async fn abstract_members() -> Parity {
    let dir = scenario_dir("abstract_members");
    Parity::start(
        "abstract_members",
        vec![
            ("catalog", FixtureSubgraph::load(&dir, "catalog").router()),
            ("music", FixtureSubgraph::load(&dir, "music").router()),
            ("reviews", FixtureSubgraph::load(&dir, "reviews").router()),
        ],
    )
    .await
}

const PER_TYPE_TITLES: &str = "{ recentlyReviewed { __typename id title ... on Book { author } ... on Song { length } ... on Movie { director } } }";

const DEEP_FRAGMENTS: &str = "{ shelves { name items { ...Item } } }
fragment Item on SearchResult { __typename ... on Media { title ... on Book { ...BookBits } } ... on Movie { director } }
fragment BookBits on Book { id reviews { body about { __typename ... on Node { id } ... on Media { title } ... on Song { length } } } }";

#[tokio::test]
async fn abstract_members_plan_interface_field_per_concrete_type() {
    let parity = abstract_members().await;
    snapshot_plan(&parity, "abstract_members_per_type_titles", PER_TYPE_TITLES);
}

#[tokio::test]
async fn abstract_members_plan_deep_fragments() {
    let parity = abstract_members().await;
    snapshot_plan(&parity, "abstract_members_deep_fragments", DEEP_FRAGMENTS);
}

#[tokio::test]
async fn abstract_members_interface_list_drops_unknown_implementations() {
    abstract_members()
        .await
        .assert_query(
            "{ library { __typename title ... on Book { rating author } ... on Song { length } } }",
            json!({}),
            json!({ "data": { "library": [
                { "__typename": "Book", "title": "Dune", "rating": 5, "author": "Herbert" },
                { "__typename": "Movie", "title": "Alien" },
                { "__typename": "Book", "title": "Emma", "rating": 3, "author": "Austen" },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn abstract_members_interface_in_another_subgraph_reaches_reviews() {
    abstract_members()
        .await
        .assert_query(
            "{ playlist { __typename title ... on Song { rating reviews { body } } } }",
            json!({}),
            json!({ "data": { "playlist": [
                { "__typename": "Song", "title": "Bolero", "rating": 4,
                  "reviews": [ { "body": "Hypnotic" }, { "body": "Long" } ] },
                { "__typename": "Song", "title": "Clair de Lune", "rating": 2, "reviews": [] },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn abstract_members_interface_field_resolved_per_concrete_type() {
    abstract_members()
        .await
        .assert_query(
            PER_TYPE_TITLES,
            json!({}),
            json!({ "data": { "recentlyReviewed": [
                { "__typename": "Book", "id": "b2", "title": "Emma", "author": "Austen" },
                { "__typename": "Song", "id": "s1", "title": "Bolero", "length": 900 },
                { "__typename": "Book", "id": "b1", "title": "Dune", "author": "Herbert" },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn abstract_members_union_members_fetched_where_they_live() {
    abstract_members()
        .await
        .assert_query(
            "{ hits { __typename ... on Book { title audiobookMinutes } ... on Song { title rating } ... on Movie { director } } }",
            json!({}),
            json!({ "data": { "hits": [
                { "__typename": "Song", "title": "Clair de Lune", "rating": 2 },
                { "__typename": "Book", "title": "Dune", "audiobookMinutes": 1260 },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn abstract_members_union_in_subgraph_that_knows_some_members() {
    abstract_members()
        .await
        .assert_query(
            "{ search { __typename ... on Song { length } ... on Movie { title } ... on Book { title audiobookMinutes } } }",
            json!({}),
            json!({ "data": { "search": [
                { "__typename": "Movie", "title": "Alien" },
                { "__typename": "Book", "title": "Emma", "audiobookMinutes": null },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn abstract_members_node_lookups() {
    abstract_members()
        .await
        .assert_query(
            r#"{ b: node(id: "b1") { __typename id ... on Media { title } ... on Book { rating } ... on Song { length } }
                 s: node(id: "s1") { id }
                 m: node(id: "m1") { ... on Movie { director } } }"#,
            json!({}),
            json!({ "data": {
                "b": { "__typename": "Book", "id": "b1", "title": "Dune", "rating": 5 },
                "s": null,
                "m": { "director": "Scott" },
            } }),
        )
        .await;
}

#[tokio::test]
async fn abstract_members_node_lookup_with_variables_and_named_fragments() {
    abstract_members()
        .await
        .assert_query(
            "query($id: ID!) { node(id: $id) { ...N } } fragment N on Node { __typename ... on Book { audiobookMinutes reviews { body } } }",
            json!({ "id": "b1" }),
            json!({ "data": { "node": {
                "__typename": "Book", "audiobookMinutes": 1260, "reviews": [ { "body": "Epic" } ],
            } } }),
        )
        .await;
}

#[tokio::test]
async fn abstract_members_fragments_nested_several_levels() {
    abstract_members()
        .await
        .assert_query(
            DEEP_FRAGMENTS,
            json!({}),
            json!({ "data": { "shelves": [
                { "name": "Sci-fi", "items": [
                    { "__typename": "Book", "title": "Dune", "id": "b1", "reviews": [
                        { "body": "Epic", "about": { "__typename": "Book", "id": "b1", "title": "Dune" } },
                    ] },
                    { "__typename": "Movie", "title": "Alien", "director": "Scott" },
                ] },
                { "name": "Classics", "items": [
                    { "__typename": "Book", "title": "Emma", "id": "b2", "reviews": [] },
                ] },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn abstract_members_back_to_the_subgraph_of_the_concrete_type() {
    abstract_members()
        .await
        .assert_query(
            "{ playlist { ... on Song { reviews { about { ... on Media { __typename title } } } } } }",
            json!({}),
            json!({ "data": { "playlist": [
                { "reviews": [
                    { "about": { "__typename": "Song", "title": "Bolero" } },
                    { "about": { "__typename": "Song", "title": "Bolero" } },
                ] },
                { "reviews": [] },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn abstract_members_typename_needs_no_entity_fetch() {
    let parity = abstract_members().await;
    let query = "{ recentlyReviewed { __typename } hits { __typename } }";
    parity
        .assert_query(
            query,
            json!({}),
            json!({ "data": {
                "recentlyReviewed": [
                    { "__typename": "Book" }, { "__typename": "Song" }, { "__typename": "Book" },
                ],
                "hits": [ { "__typename": "Song" }, { "__typename": "Book" } ],
            } }),
        )
        .await;
    assert_eq!(
        calls_per_subgraph(&parity, query, &["catalog", "music", "reviews"]).await,
        vec![0, 1, 1]
    );
}

// ---- interface_object ----
// media owns the entity interface Media @key(id) with Book and Movie; ratings sees Media as an
// @interfaceObject (rating, headline @requires(title)); feed only returns unresolvable
// references to its interface object Media.

async fn interface_object() -> Parity {
    let dir = scenario_dir("interface_object");
    Parity::start(
        "interface_object",
        vec![
            ("feed", FixtureSubgraph::load(&dir, "feed").router()),
            ("media", FixtureSubgraph::load(&dir, "media").router()),
            (
                "ratings",
                FixtureSubgraph::load(&dir, "ratings")
                    .computed("Media", "headline", |media, _| {
                        // No title among the inputs answers null, which the non-null field shows.
                        json!(media["title"].as_str().map(str::to_uppercase))
                    })
                    .router(),
            ),
        ],
    )
    .await
}

const FROM_OWNER: &str = "{ media { title rating } }";
const FROM_INTERFACE_OBJECT: &str = "{ topRated { rating __typename ... on Book { author } } }";
const REQUIRES_ON_INTERFACE_OBJECT: &str = "{ topRated { id headline } }";
const UNRESOLVABLE: &str =
    "{ feed { note media { __typename id title rating ... on Movie { director } } } }";

#[tokio::test]
async fn interface_object_plans() {
    let parity = interface_object().await;
    snapshot_plan(&parity, "interface_object_from_owner", FROM_OWNER);
    snapshot_plan(
        &parity,
        "interface_object_from_interface_object",
        FROM_INTERFACE_OBJECT,
    );
    snapshot_plan(
        &parity,
        "interface_object_requires",
        REQUIRES_ON_INTERFACE_OBJECT,
    );
    snapshot_plan(&parity, "interface_object_unresolvable", UNRESOLVABLE);
}

#[tokio::test]
async fn interface_object_fields_from_the_owner() {
    interface_object()
        .await
        .assert_query(
            FROM_OWNER,
            json!({}),
            json!({ "data": { "media": [
                { "title": "Dune", "rating": 5 },
                { "title": "Alien", "rating": 4 },
                { "title": "Emma", "rating": 2 },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn interface_object_concrete_types_from_the_interface_object() {
    interface_object()
        .await
        .assert_query(
            FROM_INTERFACE_OBJECT,
            json!({}),
            json!({ "data": { "topRated": [
                { "rating": 5, "__typename": "Book", "author": "Herbert" },
                { "rating": 4, "__typename": "Movie" },
            ] } }),
        )
        .await;
}

/// `__typename` or a fragment on an implementation that `@skip`/`@include` leave out needs no
/// concrete type, literal or by variable: the objects are written by the interface's fields.
#[tokio::test]
async fn interface_object_skipped_typename_and_fragments_need_no_concrete_type() {
    let parity = interface_object().await;
    let expected = json!({ "data": { "topRated": [ { "rating": 5 }, { "rating": 4 } ] } });
    for query in [
        "{ topRated { __typename @skip(if: true) rating } }",
        "{ topRated { rating __typename @include(if: false) } }",
        "{ topRated { rating ... on Book @skip(if: true) { author } } }",
        "query($no: Boolean! = false) { topRated { rating __typename @include(if: $no) } }",
        "query($no: Boolean! = false) { topRated { rating ... on Book @include(if: $no) { author } } }",
        // A fragment whose every field is left out writes nothing, whatever the type.
        "{ topRated { rating ... on Movie { id @skip(if: true) } } }",
        "{ topRated { rating ...M } } fragment M on Movie { director @include(if: false) }",
    ] {
        parity.assert_query(query, json!({}), expected.clone()).await;
    }
    // A fragment on an implementation selecting only what the interface already selected
    // still needs each object's real type.
    parity
        .assert_query(
            "{ topRated { ...F ... on Book { ...F } } } fragment F on Media { id }",
            json!({}),
            json!({ "data": { "topRated": [ { "id": "1" }, { "id": "2" } ] } }),
        )
        .await;
    // On a plain object too: the condition stays with the gateway (async-graphql subgraphs
    // refuse a variable used only on `__typename` as unused).
    for (tool, answer) in parity
        .answers(
            "query($no: Boolean! = false) { feed { note __typename @include(if: $no) } }",
            json!({}),
        )
        .await
    {
        assert!(answer.get("errors").is_none(), "{tool}: {answer}");
        let feed = answer["data"]["feed"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(!feed.is_empty(), "{tool}: {answer}");
        assert!(
            feed.iter()
                .all(|item| item.get("__typename").is_none() && item["note"].is_string()),
            "{tool}: {answer}"
        );
    }
}

#[tokio::test]
async fn interface_object_typename_alone_asks_the_owner() {
    interface_object()
        .await
        .assert_query(
            "{ topRated { __typename } }",
            json!({}),
            json!({ "data": { "topRated": [ { "__typename": "Book" }, { "__typename": "Movie" } ] } }),
        )
        .await;
}

#[tokio::test]
async fn interface_object_own_fields_need_no_owner() {
    let parity = interface_object().await;
    let query = "{ topRated { id rating } }";
    parity
        .assert_query(
            query,
            json!({}),
            json!({ "data": { "topRated": [ { "id": "1", "rating": 5 }, { "id": "2", "rating": 4 } ] } }),
        )
        .await;
    assert_eq!(
        calls_per_subgraph(&parity, query, &["media", "ratings", "feed"]).await,
        vec![0, 1, 0]
    );
}

#[tokio::test]
async fn interface_object_interface_fields_from_the_owner() {
    interface_object()
        .await
        .assert_query(
            "{ topRated { title ... on Movie { director } } }",
            json!({}),
            json!({ "data": { "topRated": [ { "title": "Dune" }, { "title": "Alien", "director": "Scott" } ] } }),
        )
        .await;
}

#[tokio::test]
async fn interface_object_requires_from_the_interface_object() {
    interface_object()
        .await
        .assert_query(
            REQUIRES_ON_INTERFACE_OBJECT,
            json!({}),
            json!({ "data": { "topRated": [
                { "id": "1", "headline": "DUNE" },
                { "id": "2", "headline": "ALIEN" },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn interface_object_field_beside_a_requires_field_is_fetched_once() {
    // Books and movies are planned one after the other: a movie's rating must join the fetch
    // that already sends every medium with its title for headline, not get one of its own.
    let parity = interface_object().await;
    for query in [
        "{ media { rating headline } }",
        r#"{ oneMedia(id: "2") { rating headline } }"#,
    ] {
        for (label, gateway) in &parity.gateways {
            gateway.clear_requests();
            let answer = gateway.query(query).await;
            assert_eq!(answer.get("errors"), None, "{label}: {answer}");
            let sent = gateway.requests_to("ratings");
            assert_eq!(sent.len(), 1, "{label}: {sent:?}");
            let text = sent[0]["query"].as_str().unwrap_or_default();
            assert_eq!(text.matches("rating").count(), 1, "{label}: {text}");
        }
    }
    parity
        .assert_query(
            "{ media { rating headline } }",
            json!({}),
            json!({ "data": { "media": [
                { "rating": 5, "headline": "DUNE" },
                { "rating": 4, "headline": "ALIEN" },
                { "rating": 2, "headline": "EMMA" },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn interface_object_requires_beside_a_client_alias_named_like_its_input() {
    // `title` is the client's name for `id`; headline, planned through the owner for books,
    // requires the real title, which must not land on the client's key (nor the client's
    // value in headline's input).
    let parity = interface_object().await;
    let book = json!({ "title": "1", "headline": "DUNE" });
    for (query, movie) in [
        (
            "{ topRated { ... on Book { title: id headline } } }",
            json!({}),
        ),
        (
            "{ topRated { title: id ... on Book { headline } } }",
            json!({ "title": "2" }),
        ),
        (
            "{ topRated { ... on Book { headline } ... on Media { title: id } } }",
            json!({ "title": "2" }),
        ),
    ] {
        parity
            .assert_query(
                query,
                json!({}),
                json!({ "data": { "topRated": [book.clone(), movie] } }),
            )
            .await;
    }
    // The alias in a fragment on an implementation, the field needing the input on the
    // interface: the fetch of the interface's fields answers for books too.
    for (query, book, movie) in [
        (
            "{ topRated { ... on Book { title: id } headline } }",
            json!({ "title": "1", "headline": "DUNE" }),
            json!({ "headline": "ALIEN" }),
        ),
        (
            "{ topRated { ... on Book { id: title } headline } }",
            json!({ "id": "Dune", "headline": "DUNE" }),
            json!({ "headline": "ALIEN" }),
        ),
        (
            "{ topRated { ... on Book { title: author } headline } }",
            json!({ "title": "Herbert", "headline": "DUNE" }),
            json!({ "headline": "ALIEN" }),
        ),
        (
            "{ topRated { ...B ... on Movie { title: director } headline } } \
             fragment B on Book { title: author }",
            json!({ "title": "Herbert", "headline": "DUNE" }),
            json!({ "title": "Scott", "headline": "ALIEN" }),
        ),
        (
            "{ topRated { ... on Book { id: similar { rating } } title } }",
            json!({ "id": [{ "rating": 2 }], "title": "Dune" }),
            json!({ "title": "Alien" }),
        ),
        // The owner fetch's key beside a client alias in the interface's own fields.
        (
            "{ topRated { similar { ... on Media { id: rating } ... on Book { headline } } } }",
            json!({ "similar": [{ "id": 2, "headline": "EMMA" }] }),
            json!({ "similar": [] }),
        ),
        // The same field on the interface and, conditional, in a fragment on an implementation:
        // one selection of the fetched object, whose owner key must avoid the client's `id`.
        (
            "query($v: Boolean = true) { topRated { similar { id: similar { rating } } \
             ... on Movie { similar @include(if: $v) { __typename } } } }",
            json!({ "similar": [{ "id": [{ "rating": 5 }, { "rating": 4 }] }] }),
            json!({ "similar": [] }),
        ),
        // The same field twice under conditions neither of which includes the other.
        (
            "query($a: Boolean = true, $b: Boolean = false) { topRated @include(if: $a) \
             { id: title } topRated @skip(if: $b) { ... on Movie { headline } } }",
            json!({ "id": "Dune" }),
            json!({ "id": "Alien", "headline": "ALIEN" }),
        ),
    ] {
        parity
            .assert_query(
                query,
                json!({}),
                json!({ "data": { "topRated": [book, movie] } }),
            )
            .await;
    }
}

#[tokio::test]
async fn interface_object_requires_inside_concrete_fragments() {
    interface_object()
        .await
        .assert_query(
            "{ media { ... on Movie { headline } ... on Book { rating } } }",
            json!({}),
            json!({ "data": { "media": [
                { "rating": 5 },
                { "headline": "ALIEN" },
                { "rating": 2 },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn interface_object_field_on_a_single_entity() {
    interface_object()
        .await
        .assert_query(
            r#"query($id: ID!) { oneMedia(id: $id) { __typename ... on Movie { rating director } } none: oneMedia(id: "9") { rating } }"#,
            json!({ "id": "2" }),
            json!({ "data": {
                "oneMedia": { "__typename": "Movie", "rating": 4, "director": "Scott" },
                "none": null,
            } }),
        )
        .await;
}

#[tokio::test]
async fn interface_object_unresolvable_references() {
    interface_object()
        .await
        .assert_query(
            UNRESOLVABLE,
            json!({}),
            json!({ "data": { "feed": [
                { "note": "new", "media": { "__typename": "Movie", "id": "2", "title": "Alien", "rating": 4, "director": "Scott" } },
                { "note": "classic", "media": { "__typename": "Book", "id": "3", "title": "Emma", "rating": 2 } },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn interface_object_unresolvable_references_only_ids() {
    let parity = interface_object().await;
    let query = "{ feed { media { id } } }";
    parity
        .assert_query(
            query,
            json!({}),
            json!({ "data": { "feed": [ { "media": { "id": "2" } }, { "media": { "id": "3" } } ] } }),
        )
        .await;
    assert_eq!(
        calls_per_subgraph(&parity, query, &["media", "ratings", "feed"]).await,
        vec![0, 0, 1]
    );
}

#[tokio::test]
async fn interface_object_plan_requires_for_one_implementation() {
    let parity = interface_object().await;
    snapshot_plan(
        &parity,
        "interface_object_requires_for_one_implementation",
        "{ media { ... on Movie { headline } ... on Book { rating } } }",
    );
}

#[tokio::test]
async fn interface_object_requires_typename_and_concrete_fields_together() {
    interface_object()
        .await
        .assert_query(
            "{ topRated { kind: __typename headline ... on Movie { director } ... on Media { rating } } }",
            json!({}),
            json!({ "data": { "topRated": [
                { "kind": "Book", "headline": "DUNE", "rating": 5 },
                { "kind": "Movie", "headline": "ALIEN", "director": "Scott", "rating": 4 },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn interface_object_skipped_concrete_fragment() {
    let query = "query($withAuthor: Boolean!) { topRated { rating ... on Book @include(if: $withAuthor) { author } } }";
    let parity = interface_object().await;
    parity
        .assert_query(
            query,
            json!({ "withAuthor": false }),
            json!({ "data": { "topRated": [ { "rating": 5 }, { "rating": 4 } ] } }),
        )
        .await;
    parity
        .assert_query(
            query,
            json!({ "withAuthor": true }),
            json!({ "data": { "topRated": [ { "rating": 5, "author": "Herbert" }, { "rating": 4 } ] } }),
        )
        .await;
}

#[tokio::test]
async fn abstract_members_interface_fragment_on_a_member_that_does_not_implement_it_there() {
    // music's Book implements neither Media nor Node; catalog's does.
    abstract_members()
        .await
        .assert_query(
            "{ hits { ... on Node { id } ... on Media { __typename title } } }",
            json!({}),
            json!({ "data": { "hits": [
                { "id": "s2", "__typename": "Song", "title": "Clair de Lune" },
                { "id": "b1", "__typename": "Book", "title": "Dune" },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn interface_object_nested_interface_objects_get_concrete_types() {
    interface_object()
        .await
        .assert_query(
            "{ topRated { id similar { __typename id title } } }",
            json!({}),
            json!({ "data": { "topRated": [
                { "id": "1", "similar": [ { "__typename": "Book", "id": "3", "title": "Emma" } ] },
                { "id": "2", "similar": [] },
            ] } }),
        )
        .await;
}

#[tokio::test]
async fn interface_object_from_owner_to_interface_object_and_back() {
    let parity = interface_object().await;
    let query =
        "{ media { title similar { ... on Book { author } ... on Movie { director } rating } } }";
    snapshot_plan(&parity, "interface_object_and_back", query);
    parity
        .assert_query(
            query,
            json!({}),
            json!({ "data": { "media": [
                { "title": "Dune", "similar": [ { "author": "Austen", "rating": 2 } ] },
                { "title": "Alien", "similar": [] },
                { "title": "Emma", "similar": [
                    { "author": "Herbert", "rating": 5 },
                    { "director": "Scott", "rating": 4 },
                ] },
            ] } }),
        )
        .await;
}

/// Fragments on implementations selecting only fields the `@interfaceObject` subgraph answers
/// itself still need each object's real type (from the owner), and every occurrence of a field
/// counts: two fragments, or the interface and a fragment, may select different fields below
/// the same response key.
#[tokio::test]
async fn interface_object_fragments_on_implementations_with_its_own_fields() {
    let parity = interface_object().await;
    let cases = [
        (
            "{ topRated { ... on Book { rating } } }",
            json!({ "topRated": [ { "rating": 5 }, {} ] }),
        ),
        (
            "{ topRated { id ... on Movie { id } } }",
            json!({ "topRated": [ { "id": "1" }, { "id": "2" } ] }),
        ),
        (
            "{ topRated { ... on Movie { rating headline } } }",
            json!({ "topRated": [ {}, { "rating": 4, "headline": "ALIEN" } ] }),
        ),
        (
            "{ topRated { ... on Book { similar { id } } ... on Book { similar { rating } } } }",
            json!({ "topRated": [ { "similar": [ { "id": "3", "rating": 2 } ] }, {} ] }),
        ),
        (
            "{ topRated { similar { id } ... on Book { similar { rating } } } }",
            json!({ "topRated": [
                { "similar": [ { "id": "3", "rating": 2 } ] },
                { "similar": [] },
            ] }),
        ),
        (
            "query($b: Boolean = true) { topRated { ... on Book @include(if: $b) { r: rating } } }",
            json!({ "topRated": [ { "r": 5 }, {} ] }),
        ),
        (
            "{ media { similar { ... on Movie { rating } } } }",
            json!({ "media": [
                { "similar": [ {} ] },
                { "similar": [] },
                { "similar": [ {}, { "rating": 4 } ] },
            ] }),
        ),
        (
            "fragment R on Media { rating } { topRated { ... on Book { ...R } } }",
            json!({ "topRated": [ { "rating": 5 }, {} ] }),
        ),
    ];
    for (query, data) in cases {
        parity
            .assert_query(query, json!({}), json!({ "data": data }))
            .await;
    }
    // One named fragment spread under two conditions is two occurrences.
    parity
        .assert_query(
            "fragment R on Media { rating } query($a: Boolean!, $b: Boolean!) { topRated { \
             ... on Book @include(if: $a) { ...R } ... on Movie @include(if: $b) { ...R } } }",
            json!({ "a": false, "b": true }),
            json!({ "data": { "topRated": [ {}, { "rating": 4 } ] } }),
        )
        .await;
}

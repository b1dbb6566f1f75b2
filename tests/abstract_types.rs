//! Interfaces and unions across subgraphs, composed by Seam.
//!
//! - `media` owns `interface Media { id title }`, the entities `Book` and `Movie` that implement
//!   it, `union SearchResult = Book | Movie | Draft` (`Draft` is `@inaccessible`), and the root
//!   lists `media`, `search` and `recent`.
//! - `details` adds `pages`, `creator` (the author) and `adaptations` to `Book` and
//!   `durationMinutes` and `basedOn` to `Movie`; `Book.title` is `@shareable` here and in media.
//! - `studio` adds `creator` (the director) to `Movie`: `Media.creator` is resolved by `details`
//!   for books and by `studio` for movies.
//! - `editorial` knows `Book` only by its key, as the one member it has of
//!   `union Featured = Book | Podcast`; `podcasts` owns `Podcast`, its other member.

mod common;
mod support;

use async_graphql::{EmptyMutation, EmptySubscription, Schema};
use axum::Router;
use serde_json::{json, Value};

use common::TestGateway;
use support::{graphql_router, representations, scripted};

/// id, title, pages or minutes, creator, the other side of the adaptation.
struct Work {
    id: &'static str,
    title: &'static str,
    length: i32,
    creator: &'static str,
    other: &'static str,
}

const BOOKS: [Work; 2] = [
    Work {
        id: "b1",
        title: "Dune",
        length: 412,
        creator: "Frank Herbert",
        other: "m1",
    },
    Work {
        id: "b2",
        title: "Solaris",
        length: 204,
        creator: "Stanisław Lem",
        other: "m2",
    },
];

const MOVIES: [Work; 2] = [
    Work {
        id: "m1",
        title: "Dune: Part One",
        length: 155,
        creator: "Denis Villeneuve",
        other: "b1",
    },
    Work {
        id: "m2",
        title: "Solaris",
        length: 167,
        creator: "Andrei Tarkovsky",
        other: "b2",
    },
];

fn book(id: &str) -> Option<&'static Work> {
    BOOKS.iter().find(|w| w.id == id)
}

fn movie(id: &str) -> Option<&'static Work> {
    MOVIES.iter().find(|w| w.id == id)
}

mod media {
    use async_graphql::{Interface, Object, Union, ID};

    use super::{book, movie, Work, BOOKS, MOVIES};

    pub struct Book(pub &'static Work);

    #[Object]
    impl Book {
        async fn id(&self) -> ID {
            ID(self.0.id.into())
        }

        #[graphql(shareable)]
        async fn title(&self) -> String {
            self.0.title.into()
        }
    }

    pub struct Movie(pub &'static Work);

    #[Object]
    impl Movie {
        async fn id(&self) -> ID {
            ID(self.0.id.into())
        }

        async fn title(&self) -> String {
            self.0.title.into()
        }
    }

    /// Work in progress: a member of `SearchResult` that clients must never see.
    pub struct Draft;

    #[Object(inaccessible)]
    impl Draft {
        async fn id(&self) -> ID {
            ID("d1".into())
        }

        async fn title(&self) -> String {
            "Untitled draft".into()
        }
    }

    #[derive(Interface)]
    #[graphql(field(name = "id", ty = "ID"), field(name = "title", ty = "String"))]
    pub enum Media {
        Book(Book),
        Movie(Movie),
    }

    #[derive(Union)]
    pub enum SearchResult {
        Book(Book),
        Movie(Movie),
        Draft(Draft),
    }

    pub struct Query;

    #[Object]
    impl Query {
        /// Books and movies interleaved: b1, m1, b2, m2.
        async fn media(&self) -> Vec<Media> {
            BOOKS
                .iter()
                .zip(MOVIES.iter())
                .flat_map(|(b, m)| [Media::Book(Book(b)), Media::Movie(Movie(m))])
                .collect()
        }

        /// Books, then movies, whose title contains `term`.
        async fn search(&self, term: String) -> Vec<SearchResult> {
            let books = BOOKS
                .iter()
                .filter(|w| w.title.contains(&term))
                .map(|w| SearchResult::Book(Book(w)));
            let movies = MOVIES
                .iter()
                .filter(|w| w.title.contains(&term))
                .map(|w| SearchResult::Movie(Movie(w)));
            books.chain(movies).collect()
        }

        /// Recently touched: a book, a draft (inaccessible), a movie.
        async fn recent(&self) -> Vec<Option<SearchResult>> {
            vec![
                Some(SearchResult::Book(Book(&BOOKS[0]))),
                Some(SearchResult::Draft(Draft)),
                Some(SearchResult::Movie(Movie(&MOVIES[1]))),
            ]
        }

        #[graphql(entity)]
        async fn find_book_by_id(&self, id: ID) -> Option<Book> {
            book(&id).map(Book)
        }

        #[graphql(entity)]
        async fn find_movie_by_id(&self, id: ID) -> Option<Movie> {
            movie(&id).map(Movie)
        }
    }
}

mod details {
    use async_graphql::{Interface, Object, ID};

    use super::{book, movie, Work, BOOKS};

    pub struct Book(pub &'static Work);

    #[Object]
    impl Book {
        async fn id(&self) -> ID {
            ID(self.0.id.into())
        }

        #[graphql(shareable)]
        async fn title(&self) -> String {
            self.0.title.into()
        }

        async fn pages(&self) -> i32 {
            self.0.length
        }

        /// The author.
        async fn creator(&self) -> String {
            self.0.creator.into()
        }

        async fn adaptations(&self) -> Vec<Movie> {
            movie(self.0.other).map(Movie).into_iter().collect()
        }

        /// The other books. An interface list from a subgraph where only `Book` implements it.
        async fn similar(&self) -> Vec<Media> {
            BOOKS
                .iter()
                .filter(|b| b.id != self.0.id)
                .map(|b| Media::Book(Book(b)))
                .collect()
        }
    }

    pub struct Movie(pub &'static Work);

    #[Object]
    impl Movie {
        async fn id(&self) -> ID {
            ID(self.0.id.into())
        }

        async fn duration_minutes(&self) -> i32 {
            self.0.length
        }

        async fn based_on(&self) -> Option<Book> {
            book(self.0.other).map(Book)
        }
    }

    /// Only `creator` is added here, and only books implement it here.
    #[derive(Interface)]
    #[graphql(field(name = "id", ty = "ID"), field(name = "creator", ty = "String"))]
    pub enum Media {
        Book(Book),
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn book_of_the_day(&self) -> Book {
            Book(&BOOKS[1])
        }

        #[graphql(entity)]
        async fn find_book_by_id(&self, id: ID) -> Option<Book> {
            book(&id).map(Book)
        }

        #[graphql(entity)]
        async fn find_movie_by_id(&self, id: ID) -> Option<Movie> {
            movie(&id).map(Movie)
        }
    }
}

mod studio {
    use async_graphql::{Interface, Object, ID};

    use super::{movie, Work};

    pub struct Movie(pub &'static Work);

    #[Object]
    impl Movie {
        async fn id(&self) -> ID {
            ID(self.0.id.into())
        }

        /// The director.
        async fn creator(&self) -> String {
            self.0.creator.into()
        }
    }

    #[derive(Interface)]
    #[graphql(field(name = "id", ty = "ID"), field(name = "creator", ty = "String"))]
    pub enum Media {
        Movie(Movie),
    }

    pub struct Query;

    #[Object]
    impl Query {
        #[graphql(entity)]
        async fn find_movie_by_id(&self, id: ID) -> Option<Movie> {
            movie(&id).map(Movie)
        }
    }
}

mod editorial {
    use async_graphql::{SimpleObject, Union, ID};

    /// Only the key: editorial points at books, media and details describe them.
    #[derive(SimpleObject)]
    #[graphql(unresolvable = "id")]
    pub struct Book {
        pub id: ID,
    }

    /// Editorial knows no other member; `podcasts` adds `Podcast`.
    #[derive(Union)]
    pub enum Featured {
        Book(Book),
    }

    pub struct Query;

    #[async_graphql::Object]
    impl Query {
        async fn featured(&self) -> Vec<Featured> {
            ["b2", "b1"]
                .into_iter()
                .map(|id| Featured::Book(Book { id: ID(id.into()) }))
                .collect()
        }
    }
}

mod podcasts {
    use async_graphql::{Object, Union, ID};

    pub struct Podcast;

    #[Object]
    impl Podcast {
        async fn id(&self) -> ID {
            ID("p1".into())
        }

        async fn title(&self) -> String {
            "Frontier Tales".into()
        }

        async fn episodes(&self) -> i32 {
            42
        }
    }

    #[derive(Union)]
    pub enum Featured {
        Podcast(Podcast),
    }

    pub struct Query;

    #[Object]
    impl Query {
        async fn podcast_picks(&self) -> Vec<Featured> {
            vec![Featured::Podcast(Podcast)]
        }

        #[graphql(entity)]
        async fn find_podcast_by_id(&self, id: ID) -> Option<Podcast> {
            (id.as_str() == "p1").then_some(Podcast)
        }
    }
}

fn routers() -> Vec<(&'static str, Router)> {
    vec![
        (
            "media",
            graphql_router(
                Schema::build(media::Query, EmptyMutation, EmptySubscription)
                    .enable_federation()
                    .finish(),
            ),
        ),
        (
            "details",
            graphql_router(
                Schema::build(details::Query, EmptyMutation, EmptySubscription)
                    .enable_federation()
                    .finish(),
            ),
        ),
        (
            "studio",
            graphql_router(
                Schema::build(studio::Query, EmptyMutation, EmptySubscription)
                    .enable_federation()
                    .register_output_type::<studio::Media>()
                    .finish(),
            ),
        ),
        (
            "editorial",
            graphql_router(
                Schema::build(editorial::Query, EmptyMutation, EmptySubscription)
                    .enable_federation()
                    .finish(),
            ),
        ),
        (
            "podcasts",
            graphql_router(
                Schema::build(podcasts::Query, EmptyMutation, EmptySubscription)
                    .enable_federation()
                    .finish(),
            ),
        ),
    ]
}

async fn gateway() -> TestGateway {
    TestGateway::compose(routers()).await
}

/// The response's `data`, insisting there are no errors.
async fn ok_data(gw: &TestGateway, query: &str) -> Value {
    let response = gw.query(query).await;
    assert!(response.get("errors").is_none(), "errors: {response}");
    response["data"].clone()
}

/// Every subgraph query `name` received, as text.
fn queries_to(gw: &TestGateway, name: &str) -> Vec<String> {
    gw.requests_to(name)
        .iter()
        .map(|r| r["query"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The `__typename` of every representation `name` received.
fn represented_types(gw: &TestGateway, name: &str) -> Vec<String> {
    gw.requests_to(name)
        .iter()
        .flat_map(representations)
        .map(|r| r["__typename"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn interface_list_with_inline_fragments_per_type() {
    let gw = gateway().await;
    let data = ok_data(
        &gw,
        "{ media { __typename id title ... on Book { pages } ... on Movie { durationMinutes } } }",
    )
    .await;
    assert_eq!(
        data,
        json!({ "media": [
            { "__typename": "Book", "id": "b1", "title": "Dune", "pages": 412 },
            { "__typename": "Movie", "id": "m1", "title": "Dune: Part One", "durationMinutes": 155 },
            { "__typename": "Book", "id": "b2", "title": "Solaris", "pages": 204 },
            { "__typename": "Movie", "id": "m2", "title": "Solaris", "durationMinutes": 167 },
        ] })
    );
    assert_eq!(gw.requests_to("media").len(), 1);
    assert_eq!(
        gw.requests_to("details").len(),
        1,
        "books and movies are one `_entities` call"
    );
    assert_eq!(gw.requests_to("studio").len(), 0);
}

#[tokio::test]
async fn interface_field_is_resolved_per_concrete_type_by_different_subgraphs() {
    let gw = gateway().await;
    let data = ok_data(&gw, "{ media { __typename title creator } }").await;
    assert_eq!(
        data,
        json!({ "media": [
            { "__typename": "Book", "title": "Dune", "creator": "Frank Herbert" },
            { "__typename": "Movie", "title": "Dune: Part One", "creator": "Denis Villeneuve" },
            { "__typename": "Book", "title": "Solaris", "creator": "Stanisław Lem" },
            { "__typename": "Movie", "title": "Solaris", "creator": "Andrei Tarkovsky" },
        ] })
    );
    assert_eq!(represented_types(&gw, "details"), ["Book", "Book"]);
    assert_eq!(represented_types(&gw, "studio"), ["Movie", "Movie"]);
}

#[tokio::test]
async fn union_with_inline_fragments_and_without_typename() {
    let gw = gateway().await;
    let data = ok_data(
        &gw,
        r#"{ search(term: "Dune") {
              ... on Book { id title pages }
              ... on Movie { id title durationMinutes }
           } }"#,
    )
    .await;
    assert_eq!(
        data,
        json!({ "search": [
            { "id": "b1", "title": "Dune", "pages": 412 },
            { "id": "m1", "title": "Dune: Part One", "durationMinutes": 155 },
        ] })
    );
}

#[tokio::test]
async fn fragment_on_an_interface_inside_a_union() {
    let gw = gateway().await;
    let data = ok_data(
        &gw,
        r#"{ search(term: "Solaris") {
              __typename
              ... on Media { id creator }
              ... on Movie { durationMinutes }
           } }"#,
    )
    .await;
    assert_eq!(
        data,
        json!({ "search": [
            { "__typename": "Book", "id": "b2", "creator": "Stanisław Lem" },
            { "__typename": "Movie", "id": "m2", "creator": "Andrei Tarkovsky", "durationMinutes": 167 },
        ] })
    );
}

#[tokio::test]
async fn fragments_for_types_that_never_occur_add_nothing_and_fetch_nothing() {
    let gw = gateway().await;
    // "Part" matches only a movie: the Book fragment applies to nothing.
    let data = ok_data(
        &gw,
        r#"{ search(term: "Part") { ... on Book { pages creator } } }"#,
    )
    .await;
    assert_eq!(data, json!({ "search": [{}] }));
    assert_eq!(
        gw.requests_to("details").len(),
        0,
        "no book, no call for book fields"
    );
}

#[tokio::test]
async fn named_fragments_nested_several_levels() {
    let gw = gateway().await;
    let query = r#"
        query Nested {
          search(term: "Dune") { ...Result }
        }
        fragment Result on SearchResult {
          __typename
          ...MediaFields
          ... on Book { ...BookFields }
        }
        fragment MediaFields on Media {
          id
          kind: __typename
          ... on Movie { durationMinutes ...Credits }
        }
        fragment Credits on Media { creator }
        fragment BookFields on Book {
          pages
          adaptations {
            __typename
            ...MediaFields
            basedOn { __typename ...MediaFields title ...Credits }
          }
        }
    "#;
    let data = ok_data(&gw, query).await;
    assert_eq!(
        data,
        json!({ "search": [
            {
                "__typename": "Book",
                "id": "b1",
                "kind": "Book",
                "pages": 412,
                "adaptations": [{
                    "__typename": "Movie",
                    "id": "m1",
                    "kind": "Movie",
                    "durationMinutes": 155,
                    "creator": "Denis Villeneuve",
                    "basedOn": {
                        "__typename": "Book",
                        "id": "b1",
                        "kind": "Book",
                        "title": "Dune",
                        "creator": "Frank Herbert",
                    },
                }],
            },
            {
                "__typename": "Movie",
                "id": "m1",
                "kind": "Movie",
                "durationMinutes": 155,
                "creator": "Denis Villeneuve",
            },
        ] })
    );
}

#[tokio::test]
async fn typename_at_every_level_with_aliases() {
    let gw = gateway().await;
    let data = ok_data(
        &gw,
        r#"{
            t: __typename
            media {
              __typename
              ... on Book { a: __typename adaptations { __typename basedOn { __typename } } }
              ... on Movie { m: __typename }
            }
            featured { __typename }
        }"#,
    )
    .await;
    assert_eq!(
        data,
        json!({
            "t": "Query",
            "media": [
                { "__typename": "Book", "a": "Book", "adaptations": [
                    { "__typename": "Movie", "basedOn": { "__typename": "Book" } }
                ] },
                { "__typename": "Movie", "m": "Movie" },
                { "__typename": "Book", "a": "Book", "adaptations": [
                    { "__typename": "Movie", "basedOn": { "__typename": "Book" } }
                ] },
                { "__typename": "Movie", "m": "Movie" },
            ],
            "featured": [{ "__typename": "Book" }, { "__typename": "Book" }],
        })
    );
}

#[tokio::test]
async fn shareable_field_is_fetched_from_one_subgraph_only() {
    let gw = gateway().await;
    // details resolves both `title` and `pages`: media is not needed at all.
    let data = ok_data(&gw, "{ bookOfTheDay { title pages } }").await;
    assert_eq!(
        data,
        json!({ "bookOfTheDay": { "title": "Solaris", "pages": 204 } })
    );
    assert_eq!(
        gw.total_requests(),
        1,
        "one fetch: {:?}",
        queries_to(&gw, "media")
    );

    // From media's root list, `title` comes with the list; details is asked only for `pages`.
    gw.clear_requests();
    let data = ok_data(&gw, "{ media { ... on Book { title pages } } }").await;
    assert_eq!(
        data,
        json!({ "media": [
            { "title": "Dune", "pages": 412 },
            {},
            { "title": "Solaris", "pages": 204 },
            {},
        ] })
    );
    let details = queries_to(&gw, "details");
    assert_eq!(details.len(), 1);
    assert!(
        !details[0].contains("title"),
        "title fetched twice: {}",
        details[0]
    );
}

#[tokio::test]
async fn union_member_known_to_only_one_of_its_subgraphs() {
    let gw = gateway().await;
    let data = ok_data(
        &gw,
        r#"{ featured {
              __typename
              ... on Book { id title pages }
              ... on Podcast { title episodes }
           } }"#,
    )
    .await;
    assert_eq!(
        data,
        json!({ "featured": [
            { "__typename": "Book", "id": "b2", "title": "Solaris", "pages": 204 },
            { "__typename": "Book", "id": "b1", "title": "Dune", "pages": 412 },
        ] })
    );
    let editorial = queries_to(&gw, "editorial");
    assert_eq!(editorial.len(), 1);
    assert!(
        !editorial[0].contains("Podcast"),
        "editorial does not know Podcast: {}",
        editorial[0]
    );
    assert_eq!(gw.requests_to("podcasts").len(), 0);

    // The other side of the union, from the subgraph that knows only Podcast.
    gw.clear_requests();
    let data = ok_data(&gw,
        r#"{ podcastPicks { __typename ... on Book { pages } ... on Podcast { title episodes } } }"#,
    )
    .await;
    assert_eq!(
        data,
        json!({ "podcastPicks": [
            { "__typename": "Podcast", "title": "Frontier Tales", "episodes": 42 },
        ] })
    );
    let podcasts = queries_to(&gw, "podcasts");
    assert!(
        podcasts.iter().all(|q| !q.contains("Book")),
        "podcasts does not know Book: {podcasts:?}"
    );
}

#[tokio::test]
async fn inaccessible_union_member_is_not_leaked() {
    let gw = gateway().await;
    let response = gw
        .query("{ recent { __typename ... on Book { title } ... on Movie { title } } }")
        .await;
    assert_eq!(
        response["data"],
        json!({ "recent": [
            { "__typename": "Book", "title": "Dune" },
            null,
            { "__typename": "Movie", "title": "Solaris" },
        ] }),
        "{response}"
    );
    let errors = response["errors"]
        .as_array()
        .expect("an error for the hidden item");
    assert_eq!(errors.len(), 1, "{response}");
    assert_eq!(errors[0]["path"], json!(["recent", 1]), "{response}");
    let text = response.to_string();
    assert!(
        !text.contains("Draft") && !text.contains("draft"),
        "the hidden type leaks: {text}"
    );

    // Nor does the API schema show it.
    let data = ok_data(
        &gw,
        r#"{ union: __type(name: "SearchResult") { possibleTypes { name } }
             draft: __type(name: "Draft") { name } }"#,
    )
    .await;
    assert_eq!(
        data,
        json!({
            "union": { "possibleTypes": [{ "name": "Book" }, { "name": "Movie" }] },
            "draft": null,
        })
    );
}

#[tokio::test]
async fn same_entity_through_interface_and_union_is_fetched_once_per_subgraph() {
    let gw = gateway().await;
    let data = ok_data(
        &gw,
        r#"{
            media { ... on Book { pages } }
            search(term: "Dune") { ... on Book { creator } ... on Movie { creator } }
        }"#,
    )
    .await;
    assert_eq!(
        data,
        json!({
            "media": [{ "pages": 412 }, {}, { "pages": 204 }, {}],
            "search": [{ "creator": "Frank Herbert" }, { "creator": "Denis Villeneuve" }],
        })
    );
    assert_eq!(
        gw.requests_to("media").len(),
        1,
        "both root fields in one fetch"
    );
}

#[tokio::test]
async fn interface_from_a_subgraph_that_knows_fewer_implementations() {
    let gw = gateway().await;
    // details's `Media` has only `Book`: the Movie fragment must not reach it, and `title` of a
    // book (shareable) may come from details itself.
    let data = ok_data(
        &gw,
        r#"{ bookOfTheDay { id similar {
              __typename id creator
              ... on Book { title pages }
              ... on Movie { durationMinutes }
           } } }"#,
    )
    .await;
    assert_eq!(
        data,
        json!({ "bookOfTheDay": { "id": "b2", "similar": [
            { "__typename": "Book", "id": "b1", "creator": "Frank Herbert", "title": "Dune", "pages": 412 },
        ] } })
    );
}

#[tokio::test]
async fn one_alias_on_different_concrete_types_from_different_subgraphs() {
    let gw = gateway().await;
    let data = ok_data(
        &gw,
        r#"{ media {
              ... on Book { length: pages who: creator }
              ... on Movie { length: durationMinutes who: creator }
           } }"#,
    )
    .await;
    assert_eq!(
        data,
        json!({ "media": [
            { "length": 412, "who": "Frank Herbert" },
            { "length": 155, "who": "Denis Villeneuve" },
            { "length": 204, "who": "Stanisław Lem" },
            { "length": 167, "who": "Andrei Tarkovsky" },
        ] })
    );
}

#[tokio::test]
async fn skip_and_include_on_fragments_of_abstract_types() {
    let gw = gateway().await;
    let query = r#"query ($books: Boolean!, $movies: Boolean!) {
        media {
          __typename
          ... on Book @include(if: $books) { pages }
          ...MovieLength @skip(if: $movies)
        }
      }
      fragment MovieLength on Movie { durationMinutes }"#;
    let response = gw
        .query_with(query, json!({ "books": true, "movies": true }))
        .await;
    assert_eq!(
        response,
        json!({ "data": { "media": [
            { "__typename": "Book", "pages": 412 },
            { "__typename": "Movie" },
            { "__typename": "Book", "pages": 204 },
            { "__typename": "Movie" },
        ] } })
    );
    let response = gw
        .query_with(query, json!({ "books": false, "movies": false }))
        .await;
    assert_eq!(
        response,
        json!({ "data": { "media": [
            { "__typename": "Book" },
            { "__typename": "Movie", "durationMinutes": 155 },
            { "__typename": "Book" },
            { "__typename": "Movie", "durationMinutes": 167 },
        ] } })
    );
}

#[tokio::test]
async fn object_of_a_type_outside_the_union_is_not_leaked() {
    // An editorial subgraph that answers a Movie (a real type, but no member of Featured).
    let editorial_sdl = Schema::build(editorial::Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .finish()
        .sdl_with_options(
            async_graphql::SDLExportOptions::new()
                .federation()
                .compose_directive(),
        );
    let mut subgraphs = routers();
    subgraphs.retain(|(name, _)| *name != "editorial");
    subgraphs.push((
        "editorial",
        scripted(&editorial_sdl, |_| {
            json!({ "data": { "featured": [
                { "__typename": "Book", "id": "b2" },
                { "__typename": "Movie", "id": "m1" },
            ] } })
        }),
    ));
    let gw = TestGateway::compose(subgraphs).await;
    for query in [
        "{ featured { __typename ... on Book { title } } }",
        "{ featured { __typename } }",
    ] {
        gw.clear_requests();
        let response = gw.query(query).await;
        // `featured: [Featured!]!`: the bad item nulls the list, and the list the whole data.
        assert_eq!(response["data"], Value::Null, "{response}");
        let errors = response["errors"].as_array().expect("errors");
        assert_eq!(errors.len(), 1, "{response}");
        assert_eq!(errors[0]["path"], json!(["featured", 1]), "{response}");
        assert_eq!(
            errors[0]["extensions"]["code"], "RESPONSE_VALIDATION_FAILED",
            "{response}"
        );
        assert!(!response.to_string().contains("Movie"), "{response}");
        assert!(
            represented_types(&gw, "media").iter().all(|t| t == "Book"),
            "no entity fetch for the stray Movie"
        );
    }
}

//! The reviews subgraph: owns `Review`, adds `reviews` to `User` and `Product`, and
//! `@provides` the author's username (kept here, equal to accounts') so that the gateway
//! can skip a hop to accounts.

use std::sync::{Arc, RwLock};

use ahash::AHashMap;
use async_graphql::{Context, EmptySubscription, Error, Object, Result, Schema, ID};

use super::data;
use crate::bridge::SharedBridge;

pub(crate) type ReviewsSchema = Schema<Query, Mutation, EmptySubscription>;

pub(crate) fn schema(dataset: data::Dataset) -> ReviewsSchema {
    schema_with_bridge(dataset, None)
}

/// With a bridge, `addReview` announces each new review on [`super::REVIEW_ADDED_TOPIC`], the
/// way a real service would tell the gateway's subscribers.
pub(crate) fn schema_with_bridge(
    dataset: data::Dataset,
    bridge: Option<SharedBridge>,
) -> ReviewsSchema {
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .data(Reviews::generate(dataset))
        .data(ReviewEvents(bridge))
        .finish()
}

/// Where `addReview` publishes; `None` when nobody listens (tests, benchmarks).
struct ReviewEvents(Option<SharedBridge>);

/// Reviews' view of a user: the key plus the username it provides.
struct Author {
    id: ID,
    username: String,
}

struct ReviewRecord {
    id: ID,
    body: String,
    rating: i32,
    product_upc: Arc<str>,
    author: Arc<Author>,
}

/// The reviews, indexed by product and by author; `addReview` appends under the write lock.
#[derive(Default)]
struct ReviewIndex {
    /// In id order, which is the order of `topReviews`.
    all: Vec<Arc<ReviewRecord>>,
    by_product: AHashMap<Arc<str>, Vec<Arc<ReviewRecord>>>,
    by_author: AHashMap<ID, Vec<Arc<ReviewRecord>>>,
}

impl ReviewIndex {
    fn insert(&mut self, review: Arc<ReviewRecord>) {
        self.by_product
            .entry(review.product_upc.clone())
            .or_default()
            .push(review.clone());
        self.by_author
            .entry(review.author.id.clone())
            .or_default()
            .push(review.clone());
        self.all.push(review);
    }
}

struct Reviews {
    /// The catalogue's UPCs, so that `addReview` refuses unknown products.
    products: AHashMap<String, Arc<str>>,
    authors: AHashMap<ID, Arc<Author>>,
    index: RwLock<ReviewIndex>,
}

impl Reviews {
    fn generate(dataset: data::Dataset) -> Self {
        let upcs: Vec<Arc<str>> = data::products(dataset)
            .into_iter()
            .map(|seed| Arc::from(seed.upc))
            .collect();
        let authors: Vec<Arc<Author>> = data::users(dataset)
            .into_iter()
            .map(|seed| {
                Arc::new(Author {
                    id: ID(seed.id),
                    username: seed.username,
                })
            })
            .collect();
        let mut index = ReviewIndex::default();
        for seed in data::reviews(dataset) {
            index.insert(Arc::new(ReviewRecord {
                id: ID(seed.id),
                body: seed.body,
                rating: seed.rating,
                product_upc: upcs[seed.product].clone(),
                author: authors[seed.author].clone(),
            }));
        }
        Reviews {
            products: upcs.into_iter().map(|u| (u.to_string(), u)).collect(),
            authors: authors.into_iter().map(|a| (a.id.clone(), a)).collect(),
            index: RwLock::new(index),
        }
    }
}

pub(crate) struct Review(Arc<ReviewRecord>);

#[Object]
impl Review {
    async fn id(&self) -> &ID {
        &self.0.id
    }

    async fn body(&self) -> &str {
        &self.0.body
    }

    /// From 1 to 5.
    async fn rating(&self) -> i32 {
        self.0.rating
    }

    #[graphql(provides = "username")]
    async fn author(&self) -> User {
        User(self.0.author.clone())
    }

    async fn product(&self) -> Product {
        Product(self.0.product_upc.clone())
    }
}

pub(crate) struct User(Arc<Author>);

#[Object]
impl User {
    async fn id(&self) -> &ID {
        &self.0.id
    }

    #[graphql(external)]
    async fn username(&self) -> &str {
        &self.0.username
    }

    async fn reviews(&self, ctx: &Context<'_>) -> Result<Vec<Review>> {
        let index = data::read(&ctx.data::<Reviews>()?.index);
        Ok(reviews_of(index.by_author.get(&self.0.id)))
    }
}

pub(crate) struct Product(Arc<str>);

#[Object]
impl Product {
    async fn upc(&self) -> &str {
        &self.0
    }

    async fn reviews(&self, ctx: &Context<'_>) -> Result<Vec<Review>> {
        let index = data::read(&ctx.data::<Reviews>()?.index);
        Ok(reviews_of(index.by_product.get(&self.0)))
    }
}

fn reviews_of(records: Option<&Vec<Arc<ReviewRecord>>>) -> Vec<Review> {
    records
        .map(|records| records.iter().cloned().map(Review).collect())
        .unwrap_or_default()
}

pub(crate) struct Query;

#[Object]
impl Query {
    /// The first `first` reviews in id order.
    async fn top_reviews(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(data::DEFAULT_FIRST)")] first: Option<i32>,
    ) -> Result<Vec<Review>> {
        let index = data::read(&ctx.data::<Reviews>()?.index);
        let count = data::clamp_first(first, index.all.len());
        Ok(index.all[..count].iter().cloned().map(Review).collect())
    }

    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>> {
        let reviews = ctx.data::<Reviews>()?;
        Ok(reviews.authors.get(&id).cloned().map(User))
    }

    #[graphql(entity)]
    async fn find_product_by_upc(&self, ctx: &Context<'_>, upc: String) -> Result<Option<Product>> {
        let reviews = ctx.data::<Reviews>()?;
        Ok(reviews.products.get(&upc).cloned().map(Product))
    }

    #[graphql(entity)]
    async fn find_review_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Review>> {
        let index = data::read(&ctx.data::<Reviews>()?.index);
        let position = id
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .filter(|&i| i < index.all.len());
        Ok(position.map(|i| Review(index.all[i].clone())))
    }
}

pub(crate) struct Mutation;

/// Also what an explicit `rating: null` means.
const DEFAULT_RATING: i32 = 5;

#[Object]
impl Mutation {
    /// Adds a review with the next id. The product and author must exist and the rating
    /// must be between 1 and 5.
    async fn add_review(
        &self,
        ctx: &Context<'_>,
        product_upc: String,
        author_id: ID,
        body: String,
        #[graphql(default_with = "Some(DEFAULT_RATING)")] rating: Option<i32>,
    ) -> Result<Review> {
        let reviews = ctx.data::<Reviews>()?;
        let product_upc = reviews
            .products
            .get(&product_upc)
            .cloned()
            .ok_or_else(|| Error::new(format!("no product with upc {product_upc:?}")))?;
        let author = reviews
            .authors
            .get(&author_id)
            .cloned()
            .ok_or_else(|| Error::new(format!("no user with id {:?}", author_id.as_str())))?;
        let rating = rating.unwrap_or(DEFAULT_RATING);
        if !(1..=5).contains(&rating) {
            return Err(Error::new(format!(
                "rating must be between 1 and 5, got {rating}"
            )));
        }
        let review = {
            let mut index = data::write(&reviews.index);
            let review = Arc::new(ReviewRecord {
                id: ID((index.all.len() + 1).to_string()),
                body,
                rating,
                product_upc,
                author,
            });
            index.insert(review.clone());
            review
        };
        if let Ok(ReviewEvents(Some(bridge))) = ctx.data::<ReviewEvents>() {
            // The event carries the review's key (the gateway fetches the rest for each
            // subscriber's selection) and its product's, which subscriptions filter on.
            let event = serde_json::json!({
                "__typename": "Review",
                "id": review.id.as_str(),
                "product": { "upc": &*review.product_upc },
            });
            if let Err(e) = bridge
                .publish(super::REVIEW_ADDED_TOPIC, event.to_string().into())
                .await
            {
                // The review is stored either way; subscribers miss this one event.
                tracing::warn!(error = %e, "could not announce a new review");
            }
        }
        Ok(Review(review))
    }
}

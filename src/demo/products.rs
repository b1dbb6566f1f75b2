//! The products subgraph: owns `Product` and points at `Warehouse` through a compound key
//! it cannot resolve itself (`resolvable: false`), which inventory owns.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;

use ahash::AHashMap;
use async_graphql::{Context, EmptySubscription, Object, Result, Schema, SimpleObject};

use super::data;

pub(crate) type ProductsSchema = Schema<Query, Mutation, EmptySubscription>;

pub(crate) fn schema(dataset: data::Dataset) -> ProductsSchema {
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .data(Catalogue::generate(dataset))
        .finish()
}

struct ProductRecord {
    upc: String,
    name: String,
    /// Atomic so that `setPrice` never makes readers wait.
    price_cents: AtomicI32,
    weight_grams: i32,
    warehouse: Option<Warehouse>,
}

struct Catalogue {
    /// In UPC order, which is the order of `topProducts`.
    products: Vec<Arc<ProductRecord>>,
    by_upc: AHashMap<String, usize>,
}

impl Catalogue {
    fn generate(dataset: data::Dataset) -> Self {
        let products: Vec<_> = data::products(dataset)
            .into_iter()
            .map(|seed| {
                Arc::new(ProductRecord {
                    upc: seed.upc,
                    name: seed.name,
                    price_cents: AtomicI32::new(seed.price_cents),
                    weight_grams: seed.weight_grams,
                    warehouse: seed.warehouse.map(|i| Warehouse {
                        region: data::WAREHOUSES[i].region,
                        code: data::WAREHOUSES[i].code,
                    }),
                })
            })
            .collect();
        let by_upc = products
            .iter()
            .enumerate()
            .map(|(i, p)| (p.upc.clone(), i))
            .collect();
        Catalogue { products, by_upc }
    }

    fn by_upc(&self, upc: &str) -> Option<Product> {
        let index = *self.by_upc.get(upc)?;
        Some(Product(self.products[index].clone()))
    }
}

/// Only the key: the warehouse's details live in inventory.
#[derive(SimpleObject, Clone, Copy)]
#[graphql(unresolvable = "region code")]
pub(crate) struct Warehouse {
    region: &'static str,
    code: &'static str,
}

pub(crate) struct Product(Arc<ProductRecord>);

#[Object]
impl Product {
    async fn upc(&self) -> &str {
        &self.0.upc
    }

    #[graphql(shareable)]
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// In cents.
    async fn price(&self) -> i32 {
        self.0.price_cents.load(Ordering::Relaxed)
    }

    /// In grams.
    async fn weight(&self) -> i32 {
        self.0.weight_grams
    }

    async fn warehouse(&self) -> Option<Warehouse> {
        self.0.warehouse
    }
}

pub(crate) struct Query;

#[Object]
impl Query {
    /// The first `first` products in UPC order.
    async fn top_products(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(data::DEFAULT_FIRST)")] first: Option<i32>,
    ) -> Result<Vec<Product>> {
        let catalogue = ctx.data::<Catalogue>()?;
        let count = data::clamp_first(first, catalogue.products.len());
        Ok(catalogue.products[..count]
            .iter()
            .cloned()
            .map(Product)
            .collect())
    }

    async fn product(&self, ctx: &Context<'_>, upc: String) -> Result<Option<Product>> {
        Ok(ctx.data::<Catalogue>()?.by_upc(&upc))
    }

    #[graphql(entity)]
    async fn find_product_by_upc(&self, ctx: &Context<'_>, upc: String) -> Result<Option<Product>> {
        Ok(ctx.data::<Catalogue>()?.by_upc(&upc))
    }
}

pub(crate) struct Mutation;

#[Object]
impl Mutation {
    /// Returns null for an unknown UPC, like `product(upc:)`.
    async fn set_price(
        &self,
        ctx: &Context<'_>,
        upc: String,
        price: i32,
    ) -> Result<Option<Product>> {
        let product = ctx.data::<Catalogue>()?.by_upc(&upc);
        if let Some(product) = &product {
            product.0.price_cents.store(price, Ordering::Relaxed);
        }
        Ok(product)
    }
}

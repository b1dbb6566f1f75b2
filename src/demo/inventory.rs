//! The inventory subgraph: extends `Product` with stock and a shipping estimate that
//! `@requires` the price and weight products owns, and owns `Warehouse` (compound key).

use std::sync::Arc;

use ahash::AHashMap;
use async_graphql::{
    Context, EmptyMutation, EmptySubscription, Error, Object, Result, Schema, SimpleObject,
};

use super::data;

pub(crate) type InventorySchema = Schema<Query, EmptyMutation, EmptySubscription>;

pub(crate) fn schema(dataset: data::Dataset) -> InventorySchema {
    Schema::build(Query, EmptyMutation, EmptySubscription)
        .enable_federation()
        .data(Inventory::generate(dataset))
        .finish()
}

struct StockRecord {
    upc: String,
    /// A copy of the catalogue name (`@shareable`), equal to what products serves.
    name: String,
    in_stock: bool,
}

struct Inventory {
    stock: AHashMap<String, Arc<StockRecord>>,
}

impl Inventory {
    fn generate(dataset: data::Dataset) -> Self {
        let stock = data::products(dataset)
            .into_iter()
            .map(|seed| {
                let record = StockRecord {
                    upc: seed.upc.clone(),
                    name: seed.name,
                    in_stock: seed.in_stock,
                };
                (seed.upc, Arc::new(record))
            })
            .collect();
        Inventory { stock }
    }
}

#[derive(SimpleObject)]
pub(crate) struct Warehouse {
    region: &'static str,
    code: &'static str,
    name: &'static str,
    city: &'static str,
}

impl From<&data::WarehouseSeed> for Warehouse {
    fn from(seed: &data::WarehouseSeed) -> Self {
        Warehouse {
            region: seed.region,
            code: seed.code,
            name: seed.name,
            city: seed.city,
        }
    }
}

/// A product as inventory sees it: its own stock record plus the `@external` price and
/// weight the gateway sent in the representation (absent when not fetched via `_entities`).
pub(crate) struct Product {
    stock: Arc<StockRecord>,
    price: Option<i32>,
    weight: Option<i32>,
}

impl Product {
    fn external(value: Option<i32>, field: &str) -> Result<i32> {
        value.ok_or_else(|| {
            Error::new(format!(
                "`{field}` is external: the representation must carry it"
            ))
        })
    }
}

#[Object]
impl Product {
    async fn upc(&self) -> &str {
        &self.stock.upc
    }

    /// In cents; owned by products.
    #[graphql(external)]
    async fn price(&self) -> Result<i32> {
        Self::external(self.price, "price")
    }

    /// In grams; owned by products.
    #[graphql(external)]
    async fn weight(&self) -> Result<i32> {
        Self::external(self.weight, "weight")
    }

    async fn in_stock(&self) -> bool {
        self.stock.in_stock
    }

    #[graphql(shareable)]
    async fn name(&self) -> &str {
        &self.stock.name
    }

    /// Shipping cost in cents: free above $1000, otherwise half a cent per gram.
    #[graphql(requires = "price weight")]
    async fn shipping_estimate(&self) -> Result<i32> {
        match (self.price, self.weight) {
            (Some(price), Some(_)) if price > data::FREE_SHIPPING_ABOVE_CENTS => Ok(0),
            (Some(_), Some(weight)) => Ok(weight / 2),
            _ => Err(Error::new(
                "shippingEstimate requires `price` and `weight` in the Product representation",
            )),
        }
    }
}

pub(crate) struct Query;

#[Object]
impl Query {
    async fn warehouses(&self) -> Vec<Warehouse> {
        data::WAREHOUSES.iter().map(Warehouse::from).collect()
    }

    /// `price` and `weight` are not part of the key: async-graphql reads such entity
    /// arguments from the representation as the `@requires` fields. They are optional so
    /// that a representation without them still resolves the other fields.
    #[graphql(entity)]
    async fn find_product_by_upc(
        &self,
        ctx: &Context<'_>,
        #[graphql(key)] upc: String,
        price: Option<i32>,
        weight: Option<i32>,
    ) -> Result<Option<Product>> {
        let inventory = ctx.data::<Inventory>()?;
        Ok(inventory.stock.get(&upc).map(|stock| Product {
            stock: stock.clone(),
            price,
            weight,
        }))
    }

    #[graphql(entity)]
    async fn find_warehouse_by_region_and_code(
        &self,
        region: String,
        code: String,
    ) -> Option<Warehouse> {
        data::WAREHOUSES
            .iter()
            .find(|w| w.region == region && w.code == code)
            .map(Warehouse::from)
    }
}

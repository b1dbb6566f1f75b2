//! The accounts subgraph: owns `User`, reachable by either of two keys (`id`, `username`).

use std::sync::{Arc, RwLock};

use ahash::AHashMap;
use async_graphql::{Context, EmptySubscription, Object, Result, Schema, ID};

use super::data;

pub(crate) type AccountsSchema = Schema<Query, Mutation, EmptySubscription>;

pub(crate) fn schema(dataset: data::Dataset) -> AccountsSchema {
    Schema::build(Query, Mutation, EmptySubscription)
        .enable_federation()
        .data(Accounts::generate(dataset))
        .finish()
}

struct UserRecord {
    id: ID,
    username: String,
    /// The only field a mutation changes; a lock per user keeps readers of other users free.
    name: RwLock<String>,
    birth_year: i32,
}

struct Accounts {
    users: Vec<Arc<UserRecord>>,
    by_id: AHashMap<String, usize>,
    by_username: AHashMap<String, usize>,
}

impl Accounts {
    fn generate(dataset: data::Dataset) -> Self {
        let users: Vec<_> = data::users(dataset)
            .into_iter()
            .map(|seed| {
                Arc::new(UserRecord {
                    id: ID(seed.id),
                    username: seed.username,
                    name: RwLock::new(seed.name.to_owned()),
                    birth_year: seed.birth_year,
                })
            })
            .collect();
        let by_id = users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.id.0.clone(), i))
            .collect();
        let by_username = users
            .iter()
            .enumerate()
            .map(|(i, u)| (u.username.clone(), i))
            .collect();
        Accounts {
            users,
            by_id,
            by_username,
        }
    }

    fn by_id(&self, id: &str) -> Option<User> {
        let index = *self.by_id.get(id)?;
        Some(User(self.users[index].clone()))
    }

    fn by_username(&self, username: &str) -> Option<User> {
        let index = *self.by_username.get(username)?;
        Some(User(self.users[index].clone()))
    }
}

pub(crate) struct User(Arc<UserRecord>);

#[Object]
impl User {
    async fn id(&self) -> &ID {
        &self.0.id
    }

    async fn username(&self) -> &str {
        &self.0.username
    }

    async fn name(&self) -> String {
        data::read(&self.0.name).clone()
    }

    async fn birth_year(&self) -> i32 {
        self.0.birth_year
    }
}

pub(crate) struct Query;

#[Object]
impl Query {
    /// The signed-in user; the demo has no authentication, so it is always user 1.
    async fn me(&self, ctx: &Context<'_>) -> Result<Option<User>> {
        Ok(ctx.data::<Accounts>()?.users.first().cloned().map(User))
    }

    async fn user(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>> {
        Ok(ctx.data::<Accounts>()?.by_id(&id))
    }

    async fn users(&self, ctx: &Context<'_>) -> Result<Vec<User>> {
        let accounts = ctx.data::<Accounts>()?;
        Ok(accounts.users.iter().cloned().map(User).collect())
    }

    /// Declared before the username resolver so that the SDL lists `@key(fields: "id")` first.
    #[graphql(entity)]
    async fn find_user_by_id(&self, ctx: &Context<'_>, id: ID) -> Result<Option<User>> {
        Ok(ctx.data::<Accounts>()?.by_id(&id))
    }

    #[graphql(entity)]
    async fn find_user_by_username(
        &self,
        ctx: &Context<'_>,
        username: String,
    ) -> Result<Option<User>> {
        Ok(ctx.data::<Accounts>()?.by_username(&username))
    }
}

pub(crate) struct Mutation;

#[Object]
impl Mutation {
    /// Returns null for an unknown id, like `user(id:)`.
    async fn update_name(&self, ctx: &Context<'_>, id: ID, name: String) -> Result<Option<User>> {
        let user = ctx.data::<Accounts>()?.by_id(&id);
        if let Some(user) = &user {
            *data::write(&user.0.name) = name;
        }
        Ok(user)
    }
}

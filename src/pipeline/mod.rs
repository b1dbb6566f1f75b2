pub(crate) mod cost;

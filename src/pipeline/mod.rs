pub(crate) mod limits;

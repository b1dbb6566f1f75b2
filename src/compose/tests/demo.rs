//! The demo subgraphs in `schemas/`, which `seam demo` serves.

use super::{compose_valid, raw};

#[test]
fn demo_subgraphs_compose() {
    let subgraphs: Vec<_> = ["accounts", "inventory", "products", "reviews"]
        .into_iter()
        .map(|name| {
            let path = format!("{}/schemas/{name}.graphql", env!("CARGO_MANIFEST_DIR"));
            let sdl = std::fs::read_to_string(&path)
                .unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
            raw(name, &sdl)
        })
        .collect();
    insta::assert_snapshot!(compose_valid(&subgraphs));
}

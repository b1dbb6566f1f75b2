//! Seam: a GraphQL federation gateway.

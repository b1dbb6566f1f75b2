//! The bundled example subgraphs.

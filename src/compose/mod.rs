//! Composition: subgraph SDLs into one supergraph SDL.

//! The edge Worker (see the crate description).

//! The conversion pipeline (see the crate description).

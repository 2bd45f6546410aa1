//! Pure signing core (see the crate description).

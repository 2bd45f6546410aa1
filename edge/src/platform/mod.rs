//! The shells that give the core its ports: the Cloudflare Worker, and native code.

#[cfg(target_arch = "wasm32")]
mod d1;
#[cfg(not(target_arch = "wasm32"))]
pub mod native;
#[cfg(target_arch = "wasm32")]
mod webcrypto;
#[cfg(target_arch = "wasm32")]
pub mod worker;

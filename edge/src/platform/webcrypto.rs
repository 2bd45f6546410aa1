//! Ed25519 through workerd's WebCrypto (`crypto.subtle`), which runs the runtime's native
//! code rather than our wasm. The imported key is kept for the isolate's life: importing
//! costs about as much as a verification.

use crate::error::{Error, Result};
use js_sys::{Array, Promise, Uint8Array};
use std::cell::RefCell;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto, WorkerGlobalScope};

const ALGORITHM: &str = "Ed25519";

thread_local! {
    /// The last public key imported, with its `CryptoKey` (one per isolate in practice).
    static IMPORTED: RefCell<Option<([u8; 32], CryptoKey)>> = const { RefCell::new(None) };
}

fn subtle() -> SubtleCrypto {
    js_sys::global()
        .unchecked_into::<WorkerGlobalScope>()
        .crypto()
        .expect("Workers have crypto")
        .subtle()
}

fn js_error(what: &str, error: &JsValue) -> Error {
    Error::Runtime(format!("WebCrypto {what}: {error:?}"))
}

async fn key(subtle: &SubtleCrypto, public_key: &[u8; 32]) -> Result<CryptoKey> {
    let cached = IMPORTED.with_borrow(|imported| {
        imported
            .as_ref()
            .filter(|(raw, _)| raw == public_key)
            .map(|(_, key)| key.clone())
    });
    if let Some(key) = cached {
        return Ok(key);
    }
    let raw = Uint8Array::from(public_key.as_slice());
    let usages = Array::of1(&JsValue::from_str("verify"));
    let promise = subtle
        .import_key_with_str("raw", &raw, ALGORITHM, false, &usages)
        .map_err(|e| js_error("importKey", &e))?;
    let key: CryptoKey = JsFuture::from(promise)
        .await
        .map_err(|e| js_error("importKey", &e))?
        .unchecked_into();
    IMPORTED.set(Some((*public_key, key.clone())));
    Ok(key)
}

pub async fn verify_ed25519(
    public_key: &[u8; 32],
    message: &[u8],
    signature: &[u8; 64],
) -> Result<bool> {
    let subtle = subtle();
    let key = key(&subtle, public_key).await?;
    let promise: Promise = subtle
        .verify_with_str_and_u8_array_and_u8_array(ALGORITHM, &key, signature, message)
        .map_err(|e| js_error("verify", &e))?;
    let valid = JsFuture::from(promise)
        .await
        .map_err(|e| js_error("verify", &e))?;
    Ok(valid.as_bool() == Some(true))
}

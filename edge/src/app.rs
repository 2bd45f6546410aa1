//! The application: its configuration and its platform, and the services handlers take from
//! them (catalog, object storage, randomness). Dispatching a request is `dispatch`'s job;
//! nothing here knows a handler.

use crate::catalog::Catalog;
use crate::config::Config;
use crate::ports::Platform;
use crate::storage::Storage;
use model::Timestamp;
use std::rc::Rc;

pub struct App<P> {
    /// Shared: the Worker parses it once per isolate.
    pub config: Rc<Config>,
    pub platform: P,
}

impl<P: Platform> App<P> {
    pub fn new(config: impl Into<Rc<Config>>, platform: P) -> Self {
        App {
            config: config.into(),
            platform,
        }
    }

    /// Object storage, signing as of `now`.
    pub fn storage(&self, now: Timestamp) -> Storage<'_, P::Http> {
        Storage {
            s3: &self.config.s3,
            http: self.platform.http(),
            now,
        }
    }

    pub fn catalog(&self) -> Catalog<'_, P::Db> {
        Catalog::new(self.platform.db())
    }

    pub fn random_bytes<const N: usize>(&self) -> [u8; N] {
        let mut bytes = [0u8; N];
        self.platform.fill_random(&mut bytes);
        bytes
    }
}

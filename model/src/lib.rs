//! The platform's shared vocabulary, one definition for every layer: ids, email and role,
//! bucket names and object keys with the key layout *and its inverse*, the accepted video
//! containers, the edge↔origin job event, video status, time, and secrets.
//!
//! Pure: no I/O, no clock, no randomness (the random bytes of ids are parameters), so it
//! builds and behaves the same natively and on `wasm32-unknown-unknown`. Every type here is
//! validated on the way in: once a value exists, it is well-formed, and serde input goes
//! through the same checks as `parse`.

/// `Display`, `Debug`, `AsRef<str>`, `FromStr` and string serde for a newtype over `String`
/// with `parse(&str) -> Result<Self>` and `as_str()`.
macro_rules! string_newtype {
    ($name:ident) => {
        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.as_str())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::Error;

            fn from_str(s: &str) -> $crate::Result<Self> {
                Self::parse(s)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                let text = <::std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).map_err(::serde::de::Error::custom)
            }
        }
    };
}

pub mod account;
pub mod claim;
pub mod container;
mod error;
pub mod hls;
pub mod ids;
pub mod job;
pub mod ladder;
pub mod layout;
pub mod secret;
pub mod storage;
pub mod storyboard;
pub mod text;
pub mod time;
pub mod video;

pub use account::{Email, Role};
pub use container::{FileType, VideoContainer};
pub use error::{Error, Result};
pub use ids::{UserId, VideoId};
pub use secret::Secret;
pub use storage::{BucketName, ObjectKey};
pub use time::Timestamp;
pub use video::{FileName, LadderStatus, Title, VideoStatus};

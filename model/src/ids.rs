//! Time-ordered ids: UUID v7 in canonical text form (lowercase, hyphenated), so ids sort by
//! creation time, which keyset pagination relies on.

use crate::time::Timestamp;
use crate::{Error, Result};

macro_rules! uuid_v7_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The id for a creation time and ten random bytes the caller draws (this crate
            /// makes no randomness). Times before 1970 count as 1970.
            pub fn new(created: Timestamp, random: [u8; 10]) -> Self {
                let unix_ms = u64::try_from(created.unix_ms()).unwrap_or(0);
                let uuid = uuid::Builder::from_unix_timestamp_millis(unix_ms, &random).into_uuid();
                Self(uuid.hyphenated().to_string())
            }

            /// Accepts a hyphenated UUID v7 in either case; keeps it lowercase.
            pub fn parse(text: &str) -> Result<Self> {
                parse_uuid_v7(text, $kind).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        string_newtype!($name);
    };
}

uuid_v7_id!(
    /// A video's id.
    VideoId,
    "video id"
);
uuid_v7_id!(
    /// A user's id (the JWT `sub`).
    UserId,
    "user id"
);

fn parse_uuid_v7(text: &str, kind: &'static str) -> Result<String> {
    let invalid = |reason| Error::InvalidId { kind, reason };
    // Only the 36-character hyphenated form: ids appear in keys and URLs, where one spelling
    // per id keeps them unique.
    if text.len() != 36 {
        return Err(invalid("not a hyphenated UUID"));
    }
    let uuid = uuid::Uuid::try_parse(text).map_err(|_| invalid("not a hyphenated UUID"))?;
    if uuid.get_version_num() != 7 || uuid.get_variant() != uuid::Variant::RFC4122 {
        return Err(invalid("not a UUID v7"));
    }
    Ok(uuid.hyphenated().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANDOM: [u8; 10] = [0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66];

    #[test]
    fn video_id_is_canonical_uuid_v7_text() {
        let id = VideoId::new(Timestamp::from_unix_ms(0x0190_1234_5678), RANDOM);
        assert_eq!(id.as_str(), "01901234-5678-7fee-9dcc-bbaa99887766");
        assert_eq!(VideoId::parse(id.as_str()).unwrap(), id);
        assert_eq!(id.to_string(), id.as_str());
    }

    #[test]
    fn ids_sort_by_creation_time() {
        let earlier = UserId::new(Timestamp::from_unix_ms(1_700_000_000_000), [0xff; 10]);
        let later = UserId::new(Timestamp::from_unix_ms(1_700_000_000_001), [0; 10]);
        assert!(earlier < later);
    }

    #[test]
    fn id_parse_normalizes_case_and_refuses_other_forms() {
        let id = VideoId::parse("01901234-5678-7FEE-9DCC-BBAA99887766").unwrap();
        assert_eq!(id.as_str(), "01901234-5678-7fee-9dcc-bbaa99887766");
        for bad in [
            "",
            "0190123456787fee9dccbbaa99887766",
            "{01901234-5678-7fee-9dcc-bbaa99887766}",
            "01901234-5678-7fee-9dcc-bbaa9988776g",
            "01901234-5678-4fee-9dcc-bbaa99887766", // v4
            "01901234-5678-7fee-1dcc-bbaa99887766", // NCS variant
        ] {
            assert!(
                matches!(
                    VideoId::parse(bad),
                    Err(Error::InvalidId {
                        kind: "video id",
                        ..
                    })
                ),
                "{bad:?}"
            );
        }
        assert!(matches!(
            UserId::parse("nope"),
            Err(Error::InvalidId {
                kind: "user id",
                ..
            })
        ));
    }

    #[test]
    fn ids_serialize_as_strings_and_validate_on_the_way_in() {
        let id = UserId::new(Timestamp::from_unix_ms(1), RANDOM);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<UserId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<UserId>("\"not-an-id\"").is_err());
    }
}

//! Validated identifiers and names: once a value of these types exists, it is well-formed, so
//! handlers and storage code never re-check (or forget to check) raw strings.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// `Display`, `Debug`, `AsRef<str>`, `FromStr` and string serde for a newtype over `String`
/// with `parse(&str) -> Result<Self>` and `as_str()`: serde input goes through `parse`, so a
/// deserialized value is as validated as a parsed one.
macro_rules! string_newtype {
    ($name:ident) => {
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.as_str())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self> {
                Self::parse(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}

/// A UUID v7 id in its canonical text form (lowercase, hyphenated). Time-ordered, so ids sort
/// by creation time, which keyset pagination relies on.
macro_rules! uuid_v7_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The id for a creation time (`unix_ms`, milliseconds since the Unix epoch) and ten
            /// random bytes the caller draws (this crate makes no randomness).
            pub fn new(unix_ms: u64, random: [u8; 10]) -> Self {
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

/// A normalized email address (trimmed, lowercase).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;
    const MAX_LOCAL_LEN: usize = 64;

    /// Trims and lowercases, then requires exactly one `@`, a non-empty local part (≤ 64
    /// bytes), a dotted domain (or `localhost`, for the dev admin), ≤ 254 bytes in all, and no
    /// whitespace or control characters.
    pub fn parse(input: &str) -> Result<Self> {
        let email = input.trim().to_lowercase();
        if email.is_empty() {
            return Err(Error::InvalidEmail("empty"));
        }
        if email.len() > Self::MAX_LEN {
            return Err(Error::InvalidEmail("longer than 254 bytes"));
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(Error::InvalidEmail(
                "contains whitespace or control characters",
            ));
        }
        let (local, domain) = email
            .split_once('@')
            .filter(|(_, domain)| !domain.contains('@'))
            .ok_or(Error::InvalidEmail("needs exactly one '@'"))?;
        if local.is_empty() {
            return Err(Error::InvalidEmail("empty local part"));
        }
        if local.len() > Self::MAX_LOCAL_LEN {
            return Err(Error::InvalidEmail("local part longer than 64 bytes"));
        }
        let dotted = domain.contains('.') && domain.split('.').all(|label| !label.is_empty());
        if !(dotted || domain == "localhost") {
            return Err(Error::InvalidEmail(
                "domain must be dotted (example.com) or localhost",
            ));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype!(Email);

/// What a user may do: admins see and manage everything, members their own videos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Member,
}

impl Role {
    /// `"admin"` or `"member"`, exactly.
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "admin" => Ok(Role::Admin),
            "member" => Ok(Role::Member),
            other => Err(Error::InvalidRole(other.to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// An S3 object key. Keys never contain user text: the constructors below build every key
/// the platform writes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey(String);

impl ObjectKey {
    /// S3's limit, in UTF-8 bytes.
    pub const MAX_LEN: usize = 1024;

    /// 1..=1024 bytes, no control characters (XML 1.0 cannot carry most of them, and they
    /// have no business in a key), no leading `/` (it would double the path separator).
    pub fn parse(key: &str) -> Result<Self> {
        if key.is_empty() {
            return Err(Error::InvalidObjectKey("empty"));
        }
        if key.len() > Self::MAX_LEN {
            return Err(Error::InvalidObjectKey("longer than 1024 bytes"));
        }
        if key.starts_with('/') {
            return Err(Error::InvalidObjectKey("starts with '/'"));
        }
        if key.chars().any(char::is_control) {
            return Err(Error::InvalidObjectKey("contains control characters"));
        }
        Ok(Self(key.to_string()))
    }

    /// `uploads/{id}/source.{ext}`: where the browser uploads the original.
    pub fn source(video: &VideoId, container: &VideoContainer) -> Self {
        Self(format!("uploads/{video}/source.{}", container.extension()))
    }

    /// `videos/{id}/{name}`: a conversion output (`video.mp4`, `thumb.jpg`, `hls/…`). `name`
    /// must be relative and free of `.`/`..` segments so it cannot leave the video's folder.
    pub fn output(video: &VideoId, name: &str) -> Result<Self> {
        if name.is_empty()
            || name.starts_with('/')
            || name
                .split('/')
                .any(|segment| segment == "." || segment == "..")
        {
            return Err(Error::InvalidObjectKey(
                "output name must be a relative path without '.' or '..' segments",
            ));
        }
        Self::parse(&format!("videos/{video}/{name}"))
    }

    /// `uploads/{id}/`: every source object of a video.
    pub fn source_prefix(video: &VideoId) -> Self {
        Self(format!("uploads/{video}/"))
    }

    /// `videos/{id}/`: every output object of a video.
    pub fn output_prefix(video: &VideoId) -> Self {
        Self(format!("videos/{video}/"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype!(ObjectKey);

/// An S3 bucket name under AWS's general-purpose naming rules.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BucketName(String);

impl BucketName {
    /// 3..=63 characters of `a-z 0-9 . -`, starting and ending with a letter or digit, no
    /// `..`, `.-` or `-.` (so every dot-separated label is a DNS label), not an IPv4 address,
    /// and none of the prefixes and suffixes AWS reserves.
    pub fn parse(name: &str) -> Result<Self> {
        const RESERVED_PREFIXES: [&str; 2] = ["xn--", "sthree-"];
        const RESERVED_SUFFIXES: [&str; 5] =
            ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
        let invalid = |reason| Err(Error::InvalidBucketName(reason));
        if !(3..=63).contains(&name.len()) {
            return invalid("must be 3 to 63 characters");
        }
        if !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        {
            return invalid("only lowercase letters, digits, '.' and '-' are allowed");
        }
        let alphanumeric = |b: Option<&u8>| b.is_some_and(u8::is_ascii_alphanumeric);
        if !alphanumeric(name.as_bytes().first()) || !alphanumeric(name.as_bytes().last()) {
            return invalid("must start and end with a letter or digit");
        }
        if ["..", ".-", "-."].iter().any(|pair| name.contains(pair)) {
            return invalid("a dot must sit between letters or digits");
        }
        if name.parse::<std::net::Ipv4Addr>().is_ok() {
            return invalid("must not be an IP address");
        }
        if RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
            || RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s))
        {
            return invalid("uses a prefix or suffix AWS reserves");
        }
        Ok(Self(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

string_newtype!(BucketName);

/// The video containers the platform accepts for upload, by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VideoContainer {
    Mp4,
    Mov,
    M4v,
    Mkv,
    Webm,
    Avi,
    Wmv,
    Flv,
    Mpg,
    Mpeg,
    Ts,
    M2ts,
    ThreeGp,
    Ogv,
}

impl VideoContainer {
    pub const ALL: [VideoContainer; 14] = [
        Self::Mp4,
        Self::Mov,
        Self::M4v,
        Self::Mkv,
        Self::Webm,
        Self::Avi,
        Self::Wmv,
        Self::Flv,
        Self::Mpg,
        Self::Mpeg,
        Self::Ts,
        Self::M2ts,
        Self::ThreeGp,
        Self::Ogv,
    ];

    /// The container named by a file name's extension (case-insensitive).
    pub fn from_file_name(file_name: &str) -> Result<Self> {
        let extension = file_name
            .rsplit_once('.')
            .map(|(_, extension)| extension)
            .ok_or_else(|| Error::UnsupportedContainer(file_name.to_string()))?;
        Self::from_extension(extension)
    }

    /// The container for an extension without the dot (case-insensitive).
    pub fn from_extension(extension: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|container| container.extension().eq_ignore_ascii_case(extension))
            .ok_or_else(|| Error::UnsupportedContainer(extension.to_string()))
    }

    /// The lowercase extension, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Mp4 => "mp4",
            Self::Mov => "mov",
            Self::M4v => "m4v",
            Self::Mkv => "mkv",
            Self::Webm => "webm",
            Self::Avi => "avi",
            Self::Wmv => "wmv",
            Self::Flv => "flv",
            Self::Mpg => "mpg",
            Self::Mpeg => "mpeg",
            Self::Ts => "ts",
            Self::M2ts => "m2ts",
            Self::ThreeGp => "3gp",
            Self::Ogv => "ogv",
        }
    }

    /// The registered (or conventional) media type.
    pub fn mime_type(self) -> &'static str {
        match self {
            Self::Mp4 => "video/mp4",
            Self::Mov => "video/quicktime",
            Self::M4v => "video/x-m4v",
            Self::Mkv => "video/x-matroska",
            Self::Webm => "video/webm",
            Self::Avi => "video/x-msvideo",
            Self::Wmv => "video/x-ms-wmv",
            Self::Flv => "video/x-flv",
            Self::Mpg | Self::Mpeg => "video/mpeg",
            Self::Ts | Self::M2ts => "video/mp2t",
            Self::ThreeGp => "video/3gpp",
            Self::Ogv => "video/ogg",
        }
    }
}

/// Whether an upload's declared `fileType` is acceptable: `video/*` or
/// `application/octet-stream` (what browsers send for unknown types), case-insensitive, with
/// any `; parameters` ignored.
pub fn accepts_file_type(file_type: &str) -> bool {
    // It is signed into a Content-Type header: printable ASCII only.
    if !file_type.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return false;
    }
    let essence = file_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let is_token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    essence == "application/octet-stream" || essence.strip_prefix("video/").is_some_and(is_token)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RANDOM: [u8; 10] = [0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66];

    #[test]
    fn video_id_is_canonical_uuid_v7_text() {
        let id = VideoId::new(0x0190_1234_5678, RANDOM);
        assert_eq!(id.as_str(), "01901234-5678-7fee-9dcc-bbaa99887766");
        assert_eq!(VideoId::parse(id.as_str()).unwrap(), id);
        assert_eq!(id.to_string(), id.as_str());
    }

    #[test]
    fn ids_sort_by_creation_time() {
        let earlier = UserId::new(1_700_000_000_000, [0xff; 10]);
        let later = UserId::new(1_700_000_000_001, [0; 10]);
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
        let id = UserId::new(1, RANDOM);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<UserId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<UserId>("\"not-an-id\"").is_err());
    }

    #[test]
    fn email_normalizes() {
        let email = Email::parse("  Admin@LocalHost ").unwrap();
        assert_eq!(email.as_str(), "admin@localhost");
        assert_eq!(
            Email::parse("a.b+c@x.example").unwrap().as_str(),
            "a.b+c@x.example"
        );
    }

    #[test]
    fn email_refuses_malformed_addresses() {
        let long_local = format!("{}@x.io", "a".repeat(65));
        let long_total = format!("a@{}.io", "b".repeat(250));
        for bad in [
            "",
            "   ",
            "no-at.example",
            "two@@example.com",
            "a@b@example.com",
            "@example.com",
            "a@example",
            "a@.example.com",
            "a@example..com",
            "a@example.com.",
            "a b@example.com",
            "a\u{7}@example.com",
            long_local.as_str(),
            long_total.as_str(),
        ] {
            assert!(
                matches!(Email::parse(bad), Err(Error::InvalidEmail(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn role_parses_and_serializes_lowercase() {
        assert_eq!(Role::parse("admin").unwrap(), Role::Admin);
        assert_eq!("member".parse::<Role>().unwrap(), Role::Member);
        assert_eq!(serde_json::to_string(&Role::Admin).unwrap(), "\"admin\"");
        assert_eq!(
            serde_json::from_str::<Role>("\"member\"").unwrap(),
            Role::Member
        );
        assert_eq!(
            Role::parse("Admin"),
            Err(Error::InvalidRole("Admin".into()))
        );
        assert!(serde_json::from_str::<Role>("\"root\"").is_err());
    }

    #[test]
    fn object_keys_for_a_video() {
        let id = VideoId::new(1_700_000_000_000, RANDOM);
        assert_eq!(
            ObjectKey::source(&id, &VideoContainer::ThreeGp).as_str(),
            format!("uploads/{id}/source.3gp")
        );
        assert_eq!(
            ObjectKey::output(&id, "hls/seg 1.ts").unwrap().as_str(),
            format!("videos/{id}/hls/seg 1.ts")
        );
        assert_eq!(
            ObjectKey::source_prefix(&id).as_str(),
            format!("uploads/{id}/")
        );
        assert_eq!(
            ObjectKey::output_prefix(&id).as_str(),
            format!("videos/{id}/")
        );
        for bad in ["", "/abs", "../x", "a/../../x", "./x", "a/."] {
            assert!(
                matches!(ObjectKey::output(&id, bad), Err(Error::InvalidObjectKey(_))),
                "{bad:?}"
            );
        }
        assert!(ObjectKey::output(&id, &"x".repeat(1024)).is_err());
    }

    #[test]
    fn object_key_rules() {
        assert!(ObjectKey::parse("a b/ü+%~x").is_ok());
        assert!(ObjectKey::parse(&"k".repeat(1024)).is_ok());
        for bad in ["", "/x", "a\nb", "a\u{0}b", "a\u{7f}b", "a\u{85}b"] {
            assert!(
                matches!(ObjectKey::parse(bad), Err(Error::InvalidObjectKey(_))),
                "{bad:?}"
            );
        }
        assert!(ObjectKey::parse(&"k".repeat(1025)).is_err());
        assert!(serde_json::from_str::<ObjectKey>("\"/x\"").is_err());
    }

    #[test]
    fn bucket_name_rules() {
        for good in ["incoming", "media", "my.bucket-1", "a1b", &"a".repeat(63)] {
            assert!(BucketName::parse(good).is_ok(), "{good:?}");
        }
        for bad in [
            "ab",
            &"a".repeat(64),
            "Upper",
            "under_score",
            "-start",
            "end-",
            ".dot",
            "a..b",
            "a.-b",
            "a-.b",
            "192.168.5.4",
            "xn--bucket",
            "sthree-x",
            "x-s3alias",
            "x--ol-s3",
        ] {
            assert!(
                matches!(BucketName::parse(bad), Err(Error::InvalidBucketName(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn containers_by_file_name() {
        assert_eq!(
            VideoContainer::from_file_name("Holiday.MP4").unwrap(),
            VideoContainer::Mp4
        );
        assert_eq!(
            VideoContainer::from_file_name("a.b.3GP").unwrap(),
            VideoContainer::ThreeGp
        );
        assert_eq!(
            VideoContainer::from_file_name("x.m2ts")
                .unwrap()
                .mime_type(),
            "video/mp2t"
        );
        for container in VideoContainer::ALL {
            let name = format!("clip.{}", container.extension().to_uppercase());
            assert_eq!(VideoContainer::from_file_name(&name).unwrap(), container);
            assert!(container.mime_type().starts_with("video/"));
            assert!(accepts_file_type(container.mime_type()));
        }
        for bad in ["noextension", "x.txt", "x.", "x.mp4.exe"] {
            assert!(
                matches!(
                    VideoContainer::from_file_name(bad),
                    Err(Error::UnsupportedContainer(_))
                ),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn file_types() {
        for good in [
            "video/mp4",
            "VIDEO/QuickTime",
            "video/mp4; codecs=\"avc1\"",
            " application/octet-stream ",
            "Application/Octet-Stream;x=y",
        ] {
            assert!(accepts_file_type(good), "{good:?}");
        }
        for bad in [
            "",
            "video/",
            "video",
            "audio/mp4",
            "image/png",
            "video/m p4",
            "text/video",
            "video/mp4; x=\u{e9}",
            "video/mp4\u{7f}",
            "video/mp4\n",
        ] {
            assert!(!accepts_file_type(bad), "{bad:?}");
        }
    }
}

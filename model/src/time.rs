//! The platform's one time type: an instant in Unix milliseconds. The catalog stores it as
//! an integer, the API and job events show it as RFC 3339 (UTC), and the signing code takes it
//! as a parameter. Nothing here reads a clock.

use std::ops::{Add, Sub};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Error, Result};

/// An instant, as milliseconds since the Unix epoch (negative before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(i64);

impl Timestamp {
    pub const UNIX_EPOCH: Timestamp = Timestamp(0);

    pub const fn from_unix_ms(ms: i64) -> Self {
        Self(ms)
    }

    pub const fn from_unix_secs(secs: i64) -> Self {
        Self(secs.saturating_mul(1000))
    }

    pub const fn unix_ms(self) -> i64 {
        self.0
    }

    /// Whole seconds, rounded down (also before the epoch).
    pub const fn unix_secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// The same instant as a `SystemTime` (what `aws-sigv4` takes).
    pub fn to_system_time(self) -> SystemTime {
        let magnitude = Duration::from_millis(self.0.unsigned_abs());
        if self.0 >= 0 {
            UNIX_EPOCH + magnitude
        } else {
            UNIX_EPOCH - magnitude
        }
    }

    /// A clock reading, to the millisecond (saturating far outside ±292 million years).
    pub fn from_system_time(time: SystemTime) -> Self {
        let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        match time.duration_since(UNIX_EPOCH) {
            Ok(after) => Self(ms(after)),
            Err(before) => Self(-ms(before.duration())),
        }
    }

    /// This instant truncated to whole seconds (what SigV4 and JWTs carry).
    pub const fn whole_seconds(self) -> Self {
        Self::from_unix_secs(self.unix_secs())
    }

    /// This instant rounded down to a multiple of `step` since the epoch (whole seconds
    /// when `step` is), so every instant of the same step gives the same answer.
    pub fn floor(self, step: Duration) -> Self {
        let step = i64::try_from(step.as_millis()).unwrap_or(i64::MAX).max(1);
        Self(self.0 - self.0.rem_euclid(step))
    }

    /// How long after `earlier` this is; zero when it is not after it.
    pub fn since(self, earlier: Timestamp) -> Duration {
        Duration::from_millis(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }

    /// RFC 3339 in UTC: `2025-01-02T03:04:05Z`, with milliseconds only when there are some.
    pub fn rfc3339(self) -> String {
        let nanos = i128::from(self.0) * 1_000_000;
        time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .ok()
            .and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default()
    }

    /// Parses RFC 3339 (any offset); keeps milliseconds. Only instants [`Self::rfc3339`]
    /// can write back (years 0000 to 9999 in UTC): an offset can carry a local year-0000 or
    /// year-9999 time beyond them.
    pub fn parse_rfc3339(text: &str) -> Result<Self> {
        let parsed =
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .map_err(|e| Error::InvalidTime(format!("{text:?} is not RFC 3339: {e}")))?;
        let ms = parsed.unix_timestamp_nanos().div_euclid(1_000_000);
        i64::try_from(ms)
            .ok()
            .filter(|ms| (RFC3339_MIN_MS..=RFC3339_MAX_MS).contains(ms))
            .map(Self)
            .ok_or_else(|| Error::InvalidTime(format!("{text:?} is out of range")))
    }
}

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z: the span RFC 3339 can write in UTC.
const RFC3339_MIN_MS: i64 = -62_167_219_200_000;
const RFC3339_MAX_MS: i64 = 253_402_300_799_999;

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

impl Add<Duration> for Timestamp {
    type Output = Timestamp;

    /// Saturates at the end of representable time.
    fn add(self, duration: Duration) -> Timestamp {
        Timestamp(self.0.saturating_add(millis(duration)))
    }
}

impl Sub<Duration> for Timestamp {
    type Output = Timestamp;

    fn sub(self, duration: Duration) -> Timestamp {
        Timestamp(self.0.saturating_sub(millis(duration)))
    }
}

/// On the wire (API, job events): an RFC 3339 string.
impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse_rfc3339(&text).map_err(serde::de::Error::custom)
    }
}

/// In the catalog: an integer of milliseconds (`#[serde(with = "model::time::unix_ms")]`).
pub mod unix_ms {
    use super::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &Timestamp, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(time.unix_ms())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
        i64::deserialize(deserializer).map(Timestamp::from_unix_ms)
    }
}

/// The same for a column that may be NULL (`#[serde(with = "model::time::unix_ms_option")]`).
pub mod unix_ms_option {
    use super::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        time: &Option<Timestamp>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match time {
            Some(time) => serializer.serialize_i64(time.unix_ms()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Timestamp>, D::Error> {
        Option::<i64>::deserialize(deserializer).map(|ms| ms.map(Timestamp::from_unix_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floor_rounds_down_to_whole_steps() {
        let step = Duration::from_secs(150);
        assert_eq!(
            Timestamp::from_unix_ms(300_999).floor(step),
            Timestamp::from_unix_secs(300)
        );
        assert_eq!(
            Timestamp::from_unix_ms(449_999).floor(step),
            Timestamp::from_unix_secs(300)
        );
        assert_eq!(
            Timestamp::from_unix_ms(-1).floor(step),
            Timestamp::from_unix_secs(-150)
        );
    }

    #[test]
    fn rfc3339_both_ways() {
        let t = Timestamp::from_unix_secs(1_735_787_045);
        assert_eq!(t.rfc3339(), "2025-01-02T03:04:05Z");
        let ms = Timestamp::from_unix_ms(1_735_787_045_120);
        assert_eq!(ms.rfc3339(), "2025-01-02T03:04:05.12Z");
        assert_eq!(Timestamp::parse_rfc3339(&ms.rfc3339()).unwrap(), ms);
        assert_eq!(
            Timestamp::parse_rfc3339("2025-01-02T04:04:05+01:00").unwrap(),
            t
        );
        assert!(Timestamp::parse_rfc3339("yesterday").is_err());
        // Found by fuzzing: local times whose UTC instant has no RFC 3339 spelling (it wrote
        // back as an empty string).
        for edge in ["0000-01-01T00:00:00+00:01", "9999-12-31T23:59:59-00:01"] {
            assert!(
                matches!(Timestamp::parse_rfc3339(edge), Err(Error::InvalidTime(_))),
                "{edge}"
            );
        }
        for extreme in ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z"] {
            let t = Timestamp::parse_rfc3339(extreme).unwrap();
            assert_eq!(t.rfc3339(), extreme);
        }
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2025-01-02T03:04:05Z\""
        );
    }

    #[test]
    fn arithmetic_and_conversions() {
        let t = Timestamp::from_unix_ms(1_500);
        assert_eq!(t.unix_secs(), 1);
        assert_eq!(Timestamp::from_unix_ms(-1).unix_secs(), -1);
        assert_eq!(t.whole_seconds(), Timestamp::from_unix_ms(1_000));
        assert_eq!(t + Duration::from_secs(2), Timestamp::from_unix_ms(3_500));
        assert_eq!(
            t - Duration::from_millis(500),
            Timestamp::from_unix_ms(1_000)
        );
        assert_eq!(
            Timestamp::from_unix_ms(i64::MAX - 1) + Duration::from_secs(9),
            Timestamp::from_unix_ms(i64::MAX)
        );
        assert_eq!(
            (t + Duration::from_secs(3)).since(t),
            Duration::from_secs(3)
        );
        assert_eq!(t.since(t + Duration::from_secs(3)), Duration::ZERO);
        for ms in [0, 1_700_000_000_123, -2_500] {
            let t = Timestamp::from_unix_ms(ms);
            assert_eq!(Timestamp::from_system_time(t.to_system_time()), t);
        }
    }
}

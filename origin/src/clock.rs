//! Time is an input: handlers read it from a [`Clock`] so tests can pin it.

use std::time::SystemTime;

use aws_sdk_mediaconvert::primitives::{DateTime, DateTimeFormat};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> SystemTime;
}

/// The machine's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock stuck at one instant (tests, fixtures).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub SystemTime);

impl Clock for FixedClock {
    fn now(&self) -> SystemTime {
        self.0
    }
}

/// RFC 3339 in UTC, e.g. `2025-01-02T03:04:05Z` (fractions only when non-zero).
pub fn rfc3339(t: SystemTime) -> String {
    DateTime::from(t)
        .fmt(DateTimeFormat::DateTime)
        .expect("a SystemTime formats as RFC 3339")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn formats_rfc3339() {
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_735_787_045)),
            "2025-01-02T03:04:05Z"
        );
    }
}

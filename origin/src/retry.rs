//! The one backoff every retry loop of the origin uses: S3 calls, calls to the edge, the
//! local outbox and the local job queue.

use std::time::Duration;

/// `base`, doubled each attempt, at most `max`; `attempts` bounds the tries (`None`: keep
/// trying, for loops that must not give up, such as the local outbox).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub attempts: Option<u32>,
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    /// The wait after failed attempt number `attempt` (0-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        self.base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.max)
    }

    /// Whether another try may follow failed attempt number `attempt` (0-based).
    pub fn allows_retry_after(&self, attempt: u32) -> bool {
        self.attempts.is_none_or(|attempts| attempt + 1 < attempts)
    }

    /// S3 calls: four tries over about three seconds.
    pub const S3: Backoff = Backoff {
        attempts: Some(4),
        base: Duration::from_millis(400),
        max: Duration::from_secs(2),
    };

    /// Calls to the edge: five tries over about 15 s, within the invocation's deadline;
    /// after that the error goes back to the runtime and AWS redelivers the whole event.
    pub const WEBHOOK: Backoff = Backoff {
        attempts: Some(5),
        base: Duration::from_secs(1),
        max: Duration::from_secs(8),
    };

    /// The local outbox: keeps trying, at most every 10 s.
    pub const OUTBOX: Backoff = Backoff {
        attempts: None,
        base: Duration::from_millis(250),
        max: Duration::from_secs(10),
    };

    /// A local job that failed in a way worth retrying: every 5 s.
    pub const LOCAL_JOB: Backoff = Backoff {
        attempts: None,
        base: Duration::from_secs(5),
        max: Duration::from_secs(5),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_up_to_its_cap_and_bounds_the_tries() {
        let delays: Vec<u64> = (0..6)
            .map(|n| Backoff::WEBHOOK.delay(n).as_secs())
            .collect();
        assert_eq!(delays, [1, 2, 4, 8, 8, 8]);
        assert!(Backoff::WEBHOOK.allows_retry_after(3));
        assert!(!Backoff::WEBHOOK.allows_retry_after(4));
        assert!(Backoff::OUTBOX.allows_retry_after(1_000_000));
        assert_eq!(Backoff::LOCAL_JOB.delay(9), Duration::from_secs(5));
    }
}

//! A client-side request budget, so that a burst from the outbox waits here instead of
//! earning 429s from a provider.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

/// Allows at most `limit` acquisitions in any window of `window`.
///
/// It keeps the times of the last `limit` acquisitions (a sliding-window log) rather than a
/// token bucket's refill rate, because the provider's promise is a count per window and the
/// log can prove it never exceeds that count, whatever the timing of the burst. It runs on
/// tokio's clock, so tests can check it with a paused clock.
#[derive(Debug)]
pub struct RateLimiter {
    limit: usize,
    window: Duration,
    recent: Mutex<VecDeque<Instant>>,
}

impl RateLimiter {
    /// # Panics
    /// If `limit` is zero: such a limiter could never let a request through.
    pub fn new(limit: usize, window: Duration) -> Self {
        assert!(limit > 0, "a rate limit must allow at least one request");
        RateLimiter {
            limit,
            window,
            recent: Mutex::new(VecDeque::with_capacity(limit)),
        }
    }

    /// Waits until one more request fits in the budget, and counts it.
    pub async fn acquire(&self) {
        // Holding the lock while sleeping queues waiters in arrival order (tokio's mutex is
        // fair), and the one sleeping is the next to be let through.
        let mut recent = self.recent.lock().await;
        let now = Instant::now();
        while recent
            .front()
            .is_some_and(|oldest| now.duration_since(*oldest) >= self.window)
        {
            recent.pop_front();
        }
        if recent.len() >= self.limit {
            let oldest = recent.pop_front().expect("a full log is not empty");
            tokio::time::sleep_until(oldest + self.window).await;
        }
        recent.push_back(Instant::now());
    }
}

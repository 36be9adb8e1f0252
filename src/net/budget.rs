//! One memory budget for every answer being read at once, whatever session or server it comes
//! from. A single answer may be large (up to `MAX_FRAME_BYTES`), but a hostile server that
//! streams several at once must not take the process with it: each reader holds a
//! [`Reservation`] for what it has buffered, and one that would push the total over the budget
//! stops reading that answer (the call fails with a finding; the session stays).

use std::sync::atomic::{AtomicUsize, Ordering};

/// The default budget in MiB (`--max-buffered-mb`).
pub const DEFAULT_MB: usize = 1024;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static LIMIT: AtomicUsize = AtomicUsize::new(DEFAULT_MB * 1024 * 1024);

/// Sets the budget for the process (at start).
pub fn set_limit_mb(mb: usize) {
    LIMIT.store(mb.saturating_mul(1024 * 1024), Ordering::Relaxed);
}

/// The budget in MiB, for messages.
pub fn limit_mb() -> usize {
    LIMIT.load(Ordering::Relaxed) / (1024 * 1024)
}

/// The budget would be exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverBudget;

impl std::fmt::Display for OverBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the answers being read at once went over mcpscope's memory budget ({} MiB, --max-buffered-mb); this one was dropped",
            limit_mb()
        )
    }
}

/// What one reader has buffered, counted against the budget until dropped.
#[derive(Debug, Default)]
pub struct Reservation {
    held: usize,
}

impl Reservation {
    pub fn new() -> Self {
        Reservation::default()
    }

    /// Holds `bytes` in all (more or less than before); refused, holding what it held, when
    /// the total would go over the budget.
    pub fn resize(&mut self, bytes: usize) -> Result<(), OverBudget> {
        if bytes > self.held {
            let more = bytes - self.held;
            let before = IN_USE.fetch_add(more, Ordering::AcqRel);
            if before.saturating_add(more) > LIMIT.load(Ordering::Relaxed) {
                IN_USE.fetch_sub(more, Ordering::AcqRel);
                return Err(OverBudget);
            }
        } else {
            IN_USE.fetch_sub(self.held - bytes, Ordering::AcqRel);
        }
        self.held = bytes;
        Ok(())
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        IN_USE.fetch_sub(self.held, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_share_one_budget_and_give_it_back() {
        // The budget is the process's; the default leaves room for this test's few bytes.
        let limit = LIMIT.load(Ordering::Relaxed);
        let mut a = Reservation::new();
        let mut b = Reservation::new();
        a.resize(limit / 2).unwrap();
        assert_eq!(b.resize(limit / 2 + limit / 4), Err(OverBudget));
        a.resize(limit / 4).unwrap();
        b.resize(limit / 2 + limit / 4).unwrap();
        drop(a);
        drop(b);
        let mut c = Reservation::new();
        c.resize(limit - 1024).unwrap();
    }
}

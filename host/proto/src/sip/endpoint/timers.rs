//! The endpoint's one timer queue, and the generator of tags and branches.
//!
//! Every transaction and every 2xx retransmission record has at most one pending
//! wake-up: the earliest of its own timers. The queue holds exactly those
//! instants, ordered, so [`Endpoint::poll_timeout`](super::Endpoint::poll_timeout)
//! is the first entry and never reports an instant for a timer that was cancelled
//! (a stale heap entry would make tests that assert exact instants lie).

use std::collections::BTreeSet;
use std::time::Instant;

use super::{ClientTxnId, ServerTxnId};

/// Who owns a wake-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Owner {
    Server(ServerTxnId),
    Client(ClientTxnId),
    Pending2xx(u64),
}

#[derive(Debug, Clone, Default)]
pub(super) struct TimerQueue {
    set: BTreeSet<(Instant, Owner)>,
}

impl TimerQueue {
    /// Moves `owner`'s wake-up from `*scheduled` to `next`.
    pub(super) fn update(
        &mut self,
        owner: Owner,
        scheduled: &mut Option<Instant>,
        next: Option<Instant>,
    ) {
        if *scheduled == next {
            return;
        }
        if let Some(old) = scheduled.take() {
            self.set.remove(&(old, owner));
        }
        if let Some(at) = next {
            self.set.insert((at, owner));
            *scheduled = Some(at);
        }
    }

    /// The earliest wake-up.
    pub(super) fn first(&self) -> Option<Instant> {
        self.set.first().map(|(t, _)| *t)
    }

    /// Removes and returns every wake-up due at `now`, earliest first.
    pub(super) fn take_due(&mut self, now: Instant) -> Vec<Owner> {
        let mut due = Vec::new();
        while let Some(&(at, owner)) = self.set.first() {
            if at > now {
                break;
            }
            self.set.remove(&(at, owner));
            due.push(owner);
        }
        due
    }

    pub(super) fn len(&self) -> usize {
        self.set.len()
    }
}

/// SplitMix64: small, fast, and good enough for tags and branches, which must be
/// unique but not unpredictable to an attacker who can read our messages anyway.
#[derive(Debug, Clone)]
pub(super) struct Rng(u64);

impl Rng {
    pub(super) fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// 16 hex digits: a To or From tag (RFC 3261 §19.3 wants 32 random bits at least).
    pub(super) fn tag(&mut self) -> String {
        format!("{:016x}", self.next_u64())
    }

    /// A branch with the RFC 3261 magic cookie.
    pub(super) fn branch(&mut self) -> String {
        format!("z9hG4bK{:016x}", self.next_u64())
    }
}

/// A seed that differs per process, from the standard library's randomly keyed
/// hasher, so the default configuration needs no extra dependency.
pub(super) fn process_seed() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x766f_7867_6174_6521);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn queue_moves_and_drains_in_order() {
        let t0 = Instant::now();
        let mut q = TimerQueue::default();
        let (mut a, mut b) = (None, None);
        q.update(
            Owner::Pending2xx(1),
            &mut a,
            Some(t0 + Duration::from_secs(2)),
        );
        q.update(
            Owner::Pending2xx(2),
            &mut b,
            Some(t0 + Duration::from_secs(1)),
        );
        assert_eq!(q.first(), Some(t0 + Duration::from_secs(1)));
        q.update(
            Owner::Pending2xx(2),
            &mut b,
            Some(t0 + Duration::from_secs(3)),
        );
        assert_eq!(q.len(), 2);
        assert_eq!(q.first(), Some(t0 + Duration::from_secs(2)));
        q.update(Owner::Pending2xx(1), &mut a, None);
        assert_eq!(a, None);
        assert_eq!(
            q.take_due(t0 + Duration::from_secs(5)),
            [Owner::Pending2xx(2)]
        );
        assert_eq!(q.first(), None);
    }

    #[test]
    fn rng_is_deterministic_per_seed() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert_eq!(a.tag(), b.tag());
        assert!(a.branch().starts_with("z9hG4bK"));
        assert_ne!(Rng::new(1).next_u64(), Rng::new(2).next_u64());
    }
}

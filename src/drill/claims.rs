//! The Slack notifications the drill's alerts count as their delivery: alerts induced together
//! never count the same one.

use std::cell::Cell;

/// The Slack notifications alerts induced together have counted as theirs, since the count
/// when they began: no two alerts count the same notification as their delivery.
/// A restarted Alertmanager (the drill stops it for AlertmanagerDown) counts from zero again,
/// and so do the claims.
#[derive(Debug, Clone, Default)]
pub(crate) struct Claims {
    base: Cell<Option<f64>>,
    claimed: Cell<f64>,
    last: Cell<f64>,
}

impl Claims {
    /// From now on, each delivery counts one notification sent since `sent` of its own.
    pub(crate) fn begin(&self, sent: f64) {
        self.base.set(Some(sent));
        self.claimed.set(0.0);
        self.last.set(sent);
    }

    /// Whether, of `sent` so far, a notification is left that no alert counted; it is the
    /// caller's then.
    pub(crate) fn claim(&self, sent: f64) -> bool {
        let Some(base) = self.base.get() else {
            return true;
        };
        if sent < self.last.get() {
            // Alertmanager restarted: its count, and the claims on it, start from zero.
            self.begin(0.0);
            return self.claim(sent);
        }
        self.last.set(sent);
        let left = sent - base - self.claimed.get() >= 1.0;
        if left {
            self.claimed.set(self.claimed.get() + 1.0);
        }
        left
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two alerts never count one notification, and a restarted Alertmanager's count (from
    /// zero) still pays the claims made after it.
    #[test]
    fn each_notification_is_claimed_once() {
        let claims = Claims::default();
        // Before it begins: every notification counts.
        assert!(claims.claim(3.0));
        claims.begin(10.0);
        assert!(!claims.claim(10.0));
        assert!(claims.claim(11.0));
        assert!(!claims.claim(11.0));
        assert!(claims.claim(13.0) && claims.claim(13.0) && !claims.claim(13.0));
        // Restarted: 1 sent since.
        assert!(claims.claim(1.0));
        assert!(!claims.claim(1.0));
        assert!(claims.claim(2.0));
    }
}

//! The server's notion of now: the system clock, shifted or frozen at run
//! time (`POST /admin/clock`, [`super::Server::advance_clock`]), so a test
//! sees a token expire or a refresh token age out without sleeping. Every
//! time-based rule of the server reads it: token `iat`/`exp`, code expiry,
//! refresh token age, sessions, key retirement and the purge.

use std::sync::Mutex;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::time;

/// The latest instant the clock may show: 9999-12-31T23:59:59Z.
pub const MAX_EPOCH: i64 = 253_402_300_799;

/// Where the clock stands, as `GET /admin/clock` shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ClockState {
    /// The server's now, in seconds since the epoch.
    pub now: i64,
    /// Seconds the server's now is ahead of the system clock (negative: behind).
    pub offset: i64,
    /// True when the clock stands still (`freeze`) until advanced or reset.
    pub frozen: bool,
}

#[derive(Debug, Default)]
struct Setting {
    offset: i64,
    frozen: Option<i64>,
}

#[derive(Debug, Default)]
pub struct Clock {
    setting: Mutex<Setting>,
}

impl Clock {
    fn lock(&self) -> std::sync::MutexGuard<'_, Setting> {
        // Two integers: nothing can be half-written.
        self.setting.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Now, in seconds since the epoch.
    pub fn now(&self) -> i64 {
        let setting = self.lock();
        setting
            .frozen
            .unwrap_or_else(|| time::now().saturating_add(setting.offset))
    }

    pub fn state(&self) -> ClockState {
        let setting = self.lock();
        let system = time::now();
        let now = setting
            .frozen
            .unwrap_or_else(|| system.saturating_add(setting.offset));
        ClockState {
            now,
            offset: now - system,
            frozen: setting.frozen.is_some(),
        }
    }

    /// Move the clock by `seconds` (back when negative); a frozen clock stays frozen.
    pub fn advance(&self, seconds: i64) -> Result<ClockState> {
        {
            let mut setting = self.lock();
            let now = setting
                .frozen
                .unwrap_or_else(|| time::now().saturating_add(setting.offset));
            let target = now.saturating_add(seconds);
            check_epoch(target, "advancing the clock")?;
            match &mut setting.frozen {
                Some(frozen) => *frozen = target,
                None => setting.offset = setting.offset.saturating_add(seconds),
            }
        }
        Ok(self.state())
    }

    /// Stop the clock at `epoch` until it is advanced or reset.
    pub fn freeze(&self, epoch: i64) -> Result<ClockState> {
        check_epoch(epoch, "freezing the clock")?;
        self.lock().frozen = Some(epoch);
        Ok(self.state())
    }

    /// Back to the system clock.
    pub fn reset(&self) -> ClockState {
        *self.lock() = Setting::default();
        self.state()
    }
}

fn check_epoch(epoch: i64, what: &str) -> Result<()> {
    if (0..=MAX_EPOCH).contains(&epoch) {
        return Ok(());
    }
    Err(Error::invalid_argument(format!(
        "{what} would put it at {epoch}: the clock stays between 0 (1970) and {MAX_EPOCH} (year 9999)"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_freeze_reset() {
        let clock = Clock::default();
        let system = time::now();
        assert!((clock.now() - system).abs() <= 1);
        let state = clock.advance(3600).unwrap();
        assert!((state.offset - 3600).abs() <= 1 && !state.frozen);
        clock.freeze(1_000_000).unwrap();
        assert_eq!(clock.now(), 1_000_000);
        assert_eq!(clock.advance(-10).unwrap().now, 999_990);
        assert!(clock.advance(-2_000_000).is_err(), "before 1970");
        assert!(clock.freeze(MAX_EPOCH + 1).is_err());
        assert_eq!(clock.now(), 999_990, "a refused change changes nothing");
        assert!(!clock.reset().frozen);
        assert!((clock.now() - time::now()).abs() <= 1);
    }
}

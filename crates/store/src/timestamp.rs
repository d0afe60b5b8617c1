//! Points in time as the store keeps them: UTC milliseconds since the Unix epoch.
//!
//! Why a plain `i64` newtype and not `time::OffsetDateTime` or `chrono` at the API boundary:
//! - it is exactly what the database stores (an `INTEGER`), so nothing is lost or rounded
//!   between the engine and the file, and comparisons in SQL and in Rust agree;
//! - it carries no time zone, so no caller can hand us local time by mistake; the UI
//!   formats in the user's zone, at the edge;
//! - the engine's sans-IO logic passes `now` in as a number it already has, and the store
//!   never reads the clock inside logic;
//! - it keeps a date crate out of every downstream crate's public API.
//!
//! The `time` crate is used only inside, to format RFC 3339 for reports.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A UTC instant in milliseconds since 1970-01-01T00:00:00Z.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    /// Converts a wall-clock reading (for the engine's edge, which owns the clock).
    /// Times before the epoch become negative; absurdly far times saturate.
    pub fn from_system_time(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => UnixMillis(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
            Err(e) => UnixMillis(
                i64::try_from(e.duration().as_millis())
                    .map(|ms| -ms)
                    .unwrap_or(i64::MIN),
            ),
        }
    }

    /// The raw milliseconds.
    pub fn as_millis(self) -> i64 {
        self.0
    }

    /// This instant minus `d`, saturating at the representable range.
    pub fn saturating_sub(self, d: Duration) -> Self {
        UnixMillis(
            self.0
                .saturating_sub(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
        )
    }

    /// Milliseconds from `earlier` to `self`, or zero when `earlier` is later (clock steps).
    pub fn millis_since(self, earlier: UnixMillis) -> i64 {
        self.0.saturating_sub(earlier.0).max(0)
    }

    /// RFC 3339 in UTC with whole seconds, e.g. `2026-03-01T12:34:56Z`; `None` outside the
    /// years the `time` crate represents (±9999).
    pub fn to_rfc3339(self) -> Option<String> {
        self.to_offset_date_time()?.format(&Rfc3339).ok()
    }

    /// A compact UTC stamp for file names, e.g. `20260301T123456Z`.
    pub(crate) fn to_file_stamp(self) -> Option<String> {
        let t = self.to_offset_date_time()?;
        Some(format!(
            "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ))
    }

    /// Whole seconds (floored) as an `OffsetDateTime` in UTC.
    fn to_offset_date_time(self) -> Option<OffsetDateTime> {
        OffsetDateTime::from_unix_timestamp(self.0.div_euclid(1000)).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_utc_whole_seconds() {
        // 2026-03-01T12:34:56.789Z
        let t = UnixMillis(1_772_368_496_789);
        assert_eq!(t.to_rfc3339().as_deref(), Some("2026-03-01T12:34:56Z"));
        assert_eq!(t.to_file_stamp().as_deref(), Some("20260301T123456Z"));
        assert_eq!(
            UnixMillis(-1).to_rfc3339().as_deref(),
            Some("1969-12-31T23:59:59Z")
        );
        assert_eq!(UnixMillis(i64::MAX).to_rfc3339(), None);
    }

    #[test]
    fn system_time_round_trip_and_arithmetic() {
        let t = UNIX_EPOCH + Duration::from_millis(1_500);
        assert_eq!(UnixMillis::from_system_time(t), UnixMillis(1_500));
        let before = UNIX_EPOCH - Duration::from_millis(2_000);
        assert_eq!(UnixMillis::from_system_time(before), UnixMillis(-2_000));
        assert_eq!(
            UnixMillis(10_000).saturating_sub(Duration::from_secs(3)),
            UnixMillis(7_000)
        );
        assert_eq!(UnixMillis(5).millis_since(UnixMillis(9)), 0);
        assert_eq!(UnixMillis(9).millis_since(UnixMillis(5)), 4);
    }
}

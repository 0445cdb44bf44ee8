//! A [`UserStore`] that fails on cue: wraps a real store and answers the
//! next calls of a named method with a backend error, so tests inject store
//! faults at any step of a flow (the notifier's reads and conditional
//! writes, the sender's sent-record and quota) and count what comes out.
//! Everything else goes to the wrapped store unchanged.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use pricehound::domain::user::{
    Alert, AlertId, AlertTarget, Contact, Lang, TrackedPage, UsageEvent, UsageStats, User, UserId,
    Watch,
};
use pricehound::domain::{ItemId, SourceId};
use pricehound::store::{
    AlertStore, Payloads, StoreError, TrackedPageStore, Tracking, Untracking, UpdateGuard,
    UsageLog, UserProfiles, UserStore, Watches,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub struct FaultyUsers {
    inner: Arc<dyn UserStore>,
    /// Method name → how many of its next calls fail.
    pending: Mutex<HashMap<&'static str, usize>>,
    /// Method name → how many calls were failed so far.
    injected: Mutex<HashMap<&'static str, usize>>,
}

impl FaultyUsers {
    pub fn new(inner: Arc<dyn UserStore>) -> FaultyUsers {
        FaultyUsers {
            inner,
            pending: Mutex::default(),
            injected: Mutex::default(),
        }
    }

    /// The next `times` calls of `method` (its name in the store traits,
    /// e.g. `"put_payload"`) fail with a backend error.
    pub fn fail_next(&self, method: &'static str, times: usize) {
        *self.lock_pending().entry(method).or_default() += times;
    }

    /// How many calls of `method` were failed.
    pub fn injected(&self, method: &str) -> usize {
        let injected = self.injected.lock().unwrap_or_else(|e| e.into_inner());
        injected.get(method).copied().unwrap_or(0)
    }

    /// Faults injected so far, over every method.
    pub fn injected_total(&self) -> usize {
        let injected = self.injected.lock().unwrap_or_else(|e| e.into_inner());
        injected.values().sum()
    }

    fn lock_pending(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, usize>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn fault(&self, method: &'static str) -> Result<(), StoreError> {
        let mut pending = self.lock_pending();
        match pending.get_mut(method) {
            Some(n) if *n > 0 => {
                *n -= 1;
                let mut injected = self.injected.lock().unwrap_or_else(|e| e.into_inner());
                *injected.entry(method).or_default() += 1;
                Err(StoreError::Backend(format!("injected fault in {method}")))
            }
            _ => Ok(()),
        }
    }
}

/// Implements a store trait for [`FaultyUsers`]: each method fails if cued,
/// else forwards. (The `#[async_trait]` is inside the macro so it sees the
/// expanded methods.)
macro_rules! forward {
    ($trait:ident { $($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)* }) => {
        #[async_trait]
        impl $trait for FaultyUsers {
            $(
                async fn $name(&self, $($arg: $ty),*) -> Result<$ret, StoreError> {
                    self.fault(stringify!($name))?;
                    self.inner.$name($($arg),*).await
                }
            )*
        }
    };
}

forward! {
    UserProfiles {
        touch_user(contact: &Contact) -> (User, bool);
        user(id: UserId) -> Option<User>;
        set_language(id: UserId, lang: Option<Lang>) -> ();
        mark_blocked(id: UserId) -> u32;
    }
}

forward! {
    Watches {
        add_watch(watch: &Watch) -> bool;
        remove_watch(user: UserId, item: &ItemId) -> bool;
        watches(user: UserId) -> Vec<Watch>;
        clear_watches(user: UserId) -> u32;
        set_purchased(user: UserId, item: &ItemId, at: Option<DateTime<Utc>>) -> bool;
    }
}

forward! {
    AlertStore {
        put_alert(alert: &Alert) -> ();
        update_alert(before: &Alert, after: &Alert) -> bool;
        alerts(user: UserId) -> Vec<Alert>;
        active_alerts_for(targets: &[AlertTarget]) -> Vec<Alert>;
        delete_alert(user: UserId, id: &AlertId) -> bool;
        alert_quota_hit(user: UserId, day_start: DateTime<Utc>) -> u32;
        alert_quota_used(user: UserId, day_start: DateTime<Utc>) -> u32;
        alert_quota_release(user: UserId, day_start: DateTime<Utc>) -> ();
    }
}

forward! {
    TrackedPageStore {
        track_page(page: &TrackedPage) -> Tracking;
        untrack_page(user: UserId, source: &SourceId) -> Untracking;
        tracked_pages_of(user: UserId) -> Vec<TrackedPage>;
        tracked_page_count() -> u64;
        tracked_pages() -> Vec<TrackedPage>;
        claim_track_job(user: UserId, now: DateTime<Utc>, until: DateTime<Utc>) -> bool;
        release_track_job(user: UserId) -> ();
        track_quota_hit(user: UserId, day_start: DateTime<Utc>) -> u32;
    }
}

forward! {
    UpdateGuard {
        claim_update(update_id: i64, now: DateTime<Utc>) -> bool;
        throttle_hit(user: UserId, window_start: DateTime<Utc>) -> u32;
    }
}

forward! {
    Payloads {
        put_payload(key: &str, value: &str, expires_at: DateTime<Utc>) -> ();
        payload(key: &str, now: DateTime<Utc>) -> Option<String>;
        claim_payload(key: &str, value: &str, expires_at: DateTime<Utc>, now: DateTime<Utc>) -> bool;
    }
}

forward! {
    UsageLog {
        record_usage(event: &UsageEvent) -> ();
        usage_stats(now: DateTime<Utc>) -> UsageStats;
    }
}

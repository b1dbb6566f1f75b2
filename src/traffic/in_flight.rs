//! A table of work in flight that identical requests join instead of repeating: the mechanism
//! under both subgraph request sharing (`dedupe`) and client query sharing
//! (`crate::pipeline::share`).
//!
//! The table holds each piece of work weakly — the callers waiting for it own it — so work every
//! caller has left is dropped with them, and an entry leaves the table the moment its work ends
//! or is dropped. An answer therefore reaches only the callers that were waiting when it came;
//! the next identical request starts afresh.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use futures::future::{BoxFuture, FutureExt, Shared, WeakShared};

/// Work in flight as every waiting caller holds it.
pub type Joint<T> = Shared<BoxFuture<'static, T>>;

/// An entry: the work's id (so a finished piece of work never removes a newer one under the same
/// key) and a handle that does not keep the work alive.
type Entry<T> = (u64, WeakShared<BoxFuture<'static, T>>);

pub struct InFlightTable<K, T> {
    entries: Mutex<HashMap<K, Entry<T>, ahash::RandomState>>,
    next_id: AtomicU64,
}

impl<K, T> Default for InFlightTable<K, T> {
    fn default() -> Self {
        InFlightTable {
            entries: Mutex::new(HashMap::default()),
            next_id: AtomicU64::new(0),
        }
    }
}

impl<K, T> InFlightTable<K, T>
where
    K: Hash + Eq + Clone + Send + Sync + 'static,
    T: Clone + Send + Sync + 'static,
{
    /// The work in flight for `key`, or `start()`'s, entered under `key` until it ends or every
    /// caller has dropped it. The flag says whether this call started it.
    pub fn join_or_start<F>(self: &Arc<Self>, key: K, start: impl FnOnce() -> F) -> (Joint<T>, bool)
    where
        F: Future<Output = T> + Send + 'static,
    {
        let mut entries = self.entries();
        if let Some(joint) = entries.get(&key).and_then(|(_, weak)| weak.upgrade()) {
            return (joint, false);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let forget = Forget {
            table: self.clone(),
            key: key.clone(),
            id,
        };
        let work = start();
        let joint: Joint<T> = async move {
            let answer = work.await;
            // From now on an identical request starts afresh: the answer is not kept.
            drop(forget);
            answer
        }
        .boxed()
        .shared();
        // Work that has not been polled can always be downgraded; were it not, this caller would
        // simply run it unshared.
        if let Some(weak) = joint.downgrade() {
            entries.insert(key, (id, weak));
        }
        (joint, true)
    }

    /// Entries in flight.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    /// The entries; a thread that panicked while holding them cannot have left them half-changed
    /// (each change is one insert or one remove), so they stay usable.
    fn entries(&self) -> MutexGuard<'_, HashMap<K, Entry<T>, ahash::RandomState>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Removes its work's entry when the work ends or is dropped, unless newer work took its place.
struct Forget<K: Hash + Eq, T> {
    table: Arc<InFlightTable<K, T>>,
    key: K,
    id: u64,
}

impl<K: Hash + Eq, T> Drop for Forget<K, T> {
    fn drop(&mut self) {
        let mut entries = self.table.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.get(&self.key).is_some_and(|(at, _)| *at == self.id) {
            entries.remove(&self.key);
        }
    }
}

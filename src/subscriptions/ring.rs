//! The queue of one shared subscription: the responses its task produced that some client has
//! not read yet, in order, and each client's place in them.
//!
//! Why not tokio's broadcast channel: there only a client can let go of what it has not read,
//! and a client whose connection has stopped reading (its task is stuck in a write) never does,
//! so a handful of such clients with large events held hundreds of megabytes each. Here the
//! producer decides: a client whose stream (a WebSocket connection, an SSE or multipart stream)
//! has more than its byte budget waiting, across all its subscriptions, is dropped from the
//! queue when the next response comes, and what only it held is freed at once. It learns this
//! on its next read.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::Notify;

use crate::context::StreamQueue;

/// What a shared subscription sends its clients.
#[derive(Clone)]
pub(super) enum Delivery {
    Response(Bytes),
    /// The source ended: clients end their streams.
    Complete,
}

impl Delivery {
    fn size(&self) -> usize {
        match self {
            Delivery::Response(body) => body.len(),
            Delivery::Complete => 0,
        }
    }
}

/// What a client's read found.
pub(super) enum Read {
    Item(Delivery),
    /// Nothing new yet.
    Empty,
    /// The client fell more than the queue's length behind: this many responses were lost.
    Lagged(u64),
    /// The client's stream had more than `limit` bytes waiting; it was dropped from the queue.
    Evicted {
        limit: usize,
    },
}

struct Entry {
    delivery: Delivery,
    /// Clients that will still read it; it is freed when none is left.
    unread: usize,
}

struct Reader {
    /// The sequence number of the next response this client reads.
    cursor: u64,
    /// Bytes this subscription put in the client's stream queue that it has not read.
    waiting: usize,
    queue: Arc<StreamQueue>,
    /// What the client's stream may have waiting before this subscription drops it.
    limit: usize,
    /// Out of the queue (dropped for its stream's bytes, or for lagging): it reads nothing more.
    evicted: bool,
}

#[derive(Default)]
struct State {
    /// The sequence number of `entries[0]`.
    head: u64,
    entries: VecDeque<Entry>,
    readers: HashMap<u64, Reader>,
    next_id: u64,
    /// Readers not evicted: each counts as a reader of every response pushed.
    live: usize,
    ended: bool,
}

pub(super) struct Ring {
    state: Mutex<State>,
    pushed: Notify,
    /// Responses kept for the slowest client; one further behind has lost some.
    capacity: usize,
    /// Counts the clients dropped for falling behind, by either measure (the hub's count).
    dropped: Arc<AtomicU64>,
}

impl Ring {
    pub fn new(capacity: usize, dropped: Arc<AtomicU64>) -> Self {
        Ring {
            state: Mutex::default(),
            pushed: Notify::new(),
            capacity,
            dropped,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new client, which reads the responses pushed from now on; `queue` is its stream's,
    /// which may have `limit` bytes waiting.
    pub fn join(&self, queue: Arc<StreamQueue>, limit: usize) -> u64 {
        let mut state = self.lock();
        let id = state.next_id;
        state.next_id += 1;
        let cursor = state.head + state.entries.len() as u64;
        state.readers.insert(
            id,
            Reader {
                cursor,
                waiting: 0,
                queue,
                limit,
                evicted: false,
            },
        );
        state.live += 1;
        id
    }

    /// Queues `delivery` for every client. A client whose stream already had more than its
    /// limit waiting, with something of this subscription among it, is evicted instead: each
    /// subscription may always have one response waiting, so a burst of one large event to
    /// many subscriptions of a stream that reads does not drop them, while a stream that has
    /// stopped reading holds at most the limit and one response per subscription. The oldest
    /// response is dropped past `capacity`.
    pub fn push(&self, delivery: Delivery) {
        let size = delivery.size();
        {
            let mut state = self.lock();
            let State {
                head,
                entries,
                readers,
                live,
                ended,
                ..
            } = &mut *state;
            if *ended {
                return;
            }
            *ended = matches!(delivery, Delivery::Complete);
            if size > 0 {
                for reader in readers.values_mut().filter(|r| !r.evicted) {
                    let before = reader.queue.add(size);
                    let behind = reader.waiting > 0;
                    reader.waiting += size;
                    if behind && before > reader.limit {
                        retire(reader, *head, entries, live);
                        self.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            entries.push_back(Entry {
                delivery,
                unread: *live,
            });
            while entries.len() > self.capacity {
                entries.pop_front();
                *head += 1;
            }
            free_read(head, entries);
        }
        self.pushed.notify_waiters();
    }

    /// Ends the clients' streams after what they have not read yet (once; later pushes are
    /// ignored).
    pub fn end(&self) {
        self.push(Delivery::Complete);
    }

    pub fn try_read(&self, id: u64) -> Read {
        let mut state = self.lock();
        let State {
            head,
            entries,
            readers,
            live,
            ended,
            ..
        } = &mut *state;
        let Some(reader) = readers.get_mut(&id) else {
            return Read::Item(Delivery::Complete);
        };
        if reader.evicted {
            return Read::Evicted {
                limit: reader.limit,
            };
        }
        if reader.cursor < *head {
            // The client's stream ends with this: it reads nothing more.
            let lost = *head - reader.cursor;
            retire(reader, *head, entries, live);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            free_read(head, entries);
            return Read::Lagged(lost);
        }
        let Some(entry) = entries.get_mut((reader.cursor - *head) as usize) else {
            // A client that joined once the source had ended finds nothing more to come.
            return if *ended {
                Read::Item(Delivery::Complete)
            } else {
                Read::Empty
            };
        };
        entry.unread = entry.unread.saturating_sub(1);
        let delivery = entry.delivery.clone();
        reader.cursor += 1;
        let size = delivery.size().min(reader.waiting);
        reader.waiting -= size;
        reader.queue.remove(size);
        free_read(head, entries);
        Read::Item(delivery)
    }

    /// The client's next read, waiting for a response when there is none yet.
    pub async fn read(&self, id: u64) -> Read {
        loop {
            let pushed = self.pushed.notified();
            let mut pushed = std::pin::pin!(pushed);
            // Registered before the check, so a push between the two is not missed.
            pushed.as_mut().enable();
            match self.try_read(id) {
                Read::Empty => pushed.await,
                read => return read,
            }
        }
    }

    /// The client is gone: what only it still had to read is freed.
    pub fn leave(&self, id: u64) {
        let mut state = self.lock();
        let State {
            head,
            entries,
            readers,
            live,
            ..
        } = &mut *state;
        let Some(mut reader) = readers.remove(&id) else {
            return;
        };
        retire(&mut reader, *head, entries, live);
        free_read(head, entries);
    }
}

/// Takes `reader` out of the queue, once: off every response it has not read, its waiting bytes
/// given back to its stream, no longer counted as a reader of new responses.
fn retire(reader: &mut Reader, head: u64, entries: &mut VecDeque<Entry>, live: &mut usize) {
    if std::mem::replace(&mut reader.evicted, true) {
        return;
    }
    *live -= 1;
    let first = reader.cursor.saturating_sub(head) as usize;
    for entry in entries.iter_mut().skip(first) {
        entry.unread = entry.unread.saturating_sub(1);
    }
    reader.queue.remove(reader.waiting);
    reader.waiting = 0;
}

/// Frees the responses every client has read. Later responses have at least as many readers
/// as earlier ones (a client reads in order, and one that joins counts only for later ones),
/// so those read by all are always at the front.
fn free_read(head: &mut u64, entries: &mut VecDeque<Entry>) {
    while entries.front().is_some_and(|e| e.unread == 0) {
        entries.pop_front();
        *head += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(len: usize) -> Delivery {
        Delivery::Response(Bytes::from(vec![b'x'; len]))
    }

    fn read_len(ring: &Ring, id: u64) -> Option<usize> {
        match ring.try_read(id) {
            Read::Item(Delivery::Response(body)) => Some(body.len()),
            _ => None,
        }
    }

    fn held(ring: &Ring) -> usize {
        ring.lock().entries.len()
    }

    #[test]
    fn a_response_is_freed_once_every_client_read_it() {
        let ring = Ring::new(8, Arc::default());
        let queue = StreamQueue::new();
        let a = ring.join(queue.clone(), 1 << 20);
        let b = ring.join(queue.clone(), 1 << 20);
        ring.push(response(10));
        assert_eq!(queue.waiting(), 20);
        assert_eq!(read_len(&ring, a), Some(10));
        assert_eq!(held(&ring), 1);
        assert_eq!(read_len(&ring, b), Some(10));
        assert_eq!(held(&ring), 0);
        assert_eq!(queue.waiting(), 0);
        assert!(matches!(ring.try_read(a), Read::Empty));
    }

    #[test]
    fn a_client_joining_later_reads_only_what_comes_after() {
        let ring = Ring::new(8, Arc::default());
        let queue = StreamQueue::new();
        let a = ring.join(queue.clone(), 1 << 20);
        ring.push(response(1));
        let b = ring.join(queue.clone(), 1 << 20);
        ring.push(response(2));
        assert_eq!(read_len(&ring, b), Some(2));
        assert_eq!(read_len(&ring, a), Some(1));
        assert_eq!(read_len(&ring, a), Some(2));
        assert_eq!(held(&ring), 0);
    }

    #[test]
    fn a_client_over_its_stream_budget_is_evicted_and_its_responses_freed() {
        let ring = Ring::new(256, Arc::default());
        let slow_queue = StreamQueue::new();
        let fast_queue = StreamQueue::new();
        let slow = ring.join(slow_queue.clone(), 100);
        let fast = ring.join(fast_queue.clone(), 100);
        for _ in 0..3 {
            ring.push(response(60));
            assert_eq!(read_len(&ring, fast), Some(60));
        }
        // 60, then 120 waiting: the third push found more than 100 waiting and evicted.
        assert!(matches!(ring.try_read(slow), Read::Evicted { limit: 100 }));
        assert_eq!(ring.dropped.load(Ordering::Relaxed), 1);
        assert_eq!(held(&ring), 0, "nothing is kept for the evicted client");
        assert_eq!(slow_queue.waiting(), 0);
        assert_eq!(fast_queue.waiting(), 0);
        ring.push(response(60));
        assert_eq!(read_len(&ring, fast), Some(60));
    }

    #[test]
    fn the_budget_is_shared_by_the_subscriptions_of_one_stream() {
        let first = Ring::new(256, Arc::default());
        let second = Ring::new(256, Arc::default());
        let queue = StreamQueue::new();
        let a = first.join(queue.clone(), 100);
        let b = second.join(queue.clone(), 100);
        first.push(response(80));
        second.push(response(80));
        assert_eq!(queue.waiting(), 160);
        // The stream has 160 waiting: the next response to either subscription evicts.
        first.push(response(1));
        assert!(matches!(first.try_read(a), Read::Evicted { .. }));
        assert_eq!(queue.waiting(), 80);
        assert_eq!(read_len(&second, b), Some(80));
        assert_eq!(queue.waiting(), 0);
    }

    #[test]
    fn a_burst_to_many_subscriptions_of_a_stream_keeps_one_response_each() {
        let rings: Vec<Ring> = (0..3).map(|_| Ring::new(256, Arc::default())).collect();
        let queue = StreamQueue::new();
        let ids: Vec<u64> = rings.iter().map(|r| r.join(queue.clone(), 100)).collect();
        for ring in &rings {
            ring.push(response(80));
        }
        assert_eq!(
            queue.waiting(),
            240,
            "over the limit, but one response each"
        );
        // A subscription still behind when its next response comes is dropped.
        rings[0].push(response(80));
        assert!(matches!(rings[0].try_read(ids[0]), Read::Evicted { .. }));
        for (ring, id) in rings.iter().zip(&ids).skip(1) {
            assert_eq!(read_len(ring, *id), Some(80));
        }
        assert_eq!(queue.waiting(), 0);
    }

    #[test]
    fn one_large_response_alone_is_delivered_whatever_its_size() {
        let ring = Ring::new(256, Arc::default());
        let queue = StreamQueue::new();
        let id = ring.join(queue, 100);
        ring.push(response(1000));
        assert_eq!(read_len(&ring, id), Some(1000));
    }

    #[test]
    fn past_the_capacity_a_slow_client_has_lagged() {
        let ring = Ring::new(4, Arc::default());
        let queue = StreamQueue::new();
        let id = ring.join(queue.clone(), 1 << 20);
        for _ in 0..6 {
            ring.push(response(1));
        }
        assert_eq!(held(&ring), 4);
        assert!(matches!(ring.try_read(id), Read::Lagged(2)));
        assert_eq!(
            held(&ring),
            0,
            "freed as soon as the client learns it lagged"
        );
        assert_eq!(queue.waiting(), 0);
        assert_eq!(ring.dropped.load(Ordering::Relaxed), 1);
        ring.leave(id);
        assert_eq!(held(&ring), 0);
    }

    #[test]
    fn a_client_leaving_frees_what_only_it_had_to_read() {
        let ring = Ring::new(8, Arc::default());
        let queue = StreamQueue::new();
        let a = ring.join(queue.clone(), 1 << 20);
        let b = ring.join(queue.clone(), 1 << 20);
        ring.push(response(5));
        ring.push(response(5));
        assert_eq!(read_len(&ring, a), Some(5));
        assert_eq!(read_len(&ring, a), Some(5));
        ring.leave(b);
        assert_eq!(held(&ring), 0);
        assert_eq!(queue.waiting(), 0);
    }

    #[test]
    fn the_end_is_read_after_the_responses_and_only_once_pushed() {
        let ring = Ring::new(8, Arc::default());
        let id = ring.join(StreamQueue::new(), 1 << 20);
        ring.push(response(3));
        ring.end();
        ring.end();
        ring.push(response(3));
        assert_eq!(read_len(&ring, id), Some(3));
        assert!(matches!(ring.try_read(id), Read::Item(Delivery::Complete)));
        assert_eq!(held(&ring), 0);
    }

    #[test]
    fn a_client_joining_after_the_end_reads_the_end() {
        let ring = Ring::new(8, Arc::default());
        let first = ring.join(StreamQueue::new(), 1 << 20);
        ring.end();
        let late = ring.join(StreamQueue::new(), 1 << 20);
        assert!(matches!(
            ring.try_read(late),
            Read::Item(Delivery::Complete)
        ));
        assert!(matches!(
            ring.try_read(first),
            Read::Item(Delivery::Complete)
        ));
    }

    #[tokio::test]
    async fn a_waiting_read_wakes_on_a_push() {
        let ring = Arc::new(Ring::new(8, Arc::default()));
        let id = ring.join(StreamQueue::new(), 1 << 20);
        let (parked, is_parked) = tokio::sync::oneshot::channel();
        let reader = tokio::spawn({
            let ring = ring.clone();
            async move {
                // Nothing to read yet: the read waits for the push below.
                assert!(matches!(ring.try_read(id), Read::Empty));
                let _ = parked.send(());
                matches!(ring.read(id).await, Read::Item(Delivery::Response(_)))
            }
        });
        is_parked.await.expect("the reader started");
        ring.push(response(1));
        let woke = tokio::time::timeout(std::time::Duration::from_secs(30), reader).await;
        assert!(woke.expect("woken").expect("reader"));
    }
}

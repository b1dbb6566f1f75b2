//! The reserved streams of GraphQL over SSE's single-connection mode, and the operations each
//! carries. A stream is reserved by token (`PUT`), opened once (`GET`), fed by operations sent
//! separately (`POST`, stopped by `DELETE`), and forgotten when its client goes away or when it
//! is never opened in time.
//!
//! An operation's responses are handed to its stream's body, which alone polls them: nothing
//! here runs on its own, so a stream that ends drops every operation it carried, and with them
//! their upstream subscriptions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Waker};
use std::time::Duration;

use bytes::Bytes;
use futures::stream::{self, StreamExt};
use tokio_util::sync::CancellationToken;

use crate::context::StreamQueue;
use crate::http::clients::StreamingSlot;
use crate::subscriptions::ResponseStream;

/// The reserved and open streams, by token.
#[derive(Default)]
pub(crate) struct Streams {
    reservations: Mutex<HashMap<Box<str>, Arc<Reservation>>>,
    /// Reservations not opened yet, per client: each holds a streaming client's place, so
    /// without a cap one client could reserve them all and lock every other streaming client
    /// out until they lapse.
    unopened: Arc<Mutex<HashMap<Box<str>, usize>>>,
}

/// Why a stream could not be reserved.
#[derive(Debug)]
pub(super) enum ReserveError {
    /// The client holds this many reservations it has not opened.
    TooManyUnopened { limit: usize },
    /// No randomness for the token.
    Random(getrandom::Error),
}

/// One unopened reservation counted against its client; the count drops when the stream opens
/// or the reservation ends.
struct UnopenedPermit {
    counts: Arc<Mutex<HashMap<Box<str>, usize>>>,
    client: Box<str>,
}

impl Drop for UnopenedPermit {
    fn drop(&mut self) {
        let mut counts = lock_counts(&self.counts);
        if let Some(count) = counts.get_mut(&self.client) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.client);
            }
        }
    }
}

fn lock_counts(
    counts: &Mutex<HashMap<Box<str>, usize>>,
) -> MutexGuard<'_, HashMap<Box<str>, usize>> {
    // Every change under the lock is one step, so a panic elsewhere leaves it usable.
    counts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What an unopened reservation holds: a streaming client's place and, when its client is
/// known, its count against the client's cap.
struct Held {
    slot: StreamingSlot,
    _unopened: Option<UnopenedPermit>,
}

/// One reserved stream.
pub(super) struct Reservation {
    /// Who reserved it (the authenticated principal); requests that use it must be the same.
    pub(super) owner: Option<String>,
    state: Mutex<State>,
    /// What the stream has waiting, across the operations it carries.
    pub(super) queue: Arc<StreamQueue>,
}

struct State {
    /// The streaming client's place, held from the reservation on; the body takes it when the
    /// stream opens, so `None` means the stream is (or was) open.
    held: Option<Held>,
    /// The stream ended; operations arriving later have nowhere to go.
    closed: bool,
    /// The operations started on this stream and not yet ended, by the client's id.
    operations: HashMap<Arc<str>, (OperationKey, Phase)>,
    /// Distinguishes an operation from an earlier one under the same id.
    next_serial: u64,
    /// Operations with responses ready, waiting for the body to take them.
    arrived: Vec<Operation>,
    /// Operations the body carries that the client stopped.
    stopped: Vec<OperationKey>,
    /// The open body, woken when `arrived` or `stopped` grows.
    waker: Option<Waker>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Going through the pipeline; nothing to stream yet.
    Preparing,
    /// Handed to the stream (in `arrived` or taken by the body).
    Streaming,
}

/// One run of an operation on a stream.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct OperationKey {
    /// The operation's id as a JSON string, ready to be written into each of its events.
    pub(super) quoted_id: Bytes,
    serial: u64,
}

/// An operation's responses on their way to the stream.
pub(super) struct Operation {
    pub(super) key: OperationKey,
    pub(super) responses: ResponseStream,
}

/// Why an operation cannot start on a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refused {
    /// The stream already runs an operation with this id.
    Duplicate,
    /// The stream runs as many operations as it may.
    TooMany { limit: usize },
    /// The client stopped the operation before it was ready to stream.
    Stopped,
    /// The stream ended meanwhile.
    Closed,
}

impl Streams {
    /// Reserves a stream for `owner`, holding `slot` until it ends; unopened, it is dropped
    /// after `timeout` or when `shutdown` fires. `client` (the principal, else the peer
    /// address) may hold at most `max_unopened` reservations it has not opened. Returns its
    /// token: 128 random bits in hex, which only the reserving client learns, since the token
    /// alone opens the stream.
    pub(super) fn reserve(
        self: &Arc<Self>,
        owner: Option<String>,
        client: Option<Box<str>>,
        max_unopened: Option<usize>,
        slot: StreamingSlot,
        timeout: Duration,
        shutdown: CancellationToken,
    ) -> Result<Box<str>, ReserveError> {
        let unopened = match (client, max_unopened) {
            (Some(client), Some(limit)) => {
                let mut counts = lock_counts(&self.unopened);
                let count = counts.entry(client.clone()).or_default();
                if *count >= limit {
                    return Err(ReserveError::TooManyUnopened { limit });
                }
                *count += 1;
                Some(UnopenedPermit {
                    counts: self.unopened.clone(),
                    client,
                })
            }
            _ => None,
        };
        let reservation = Arc::new(Reservation {
            owner,
            state: Mutex::new(State {
                held: Some(Held {
                    slot,
                    _unopened: unopened,
                }),
                closed: false,
                operations: HashMap::new(),
                next_serial: 0,
                arrived: Vec::new(),
                stopped: Vec::new(),
                waker: None,
            }),
            queue: StreamQueue::new(),
        });
        let token = loop {
            let token = new_token().map_err(ReserveError::Random)?;
            let mut reservations = self.lock();
            if !reservations.contains_key(&token) {
                reservations.insert(token.clone(), reservation);
                break token;
            }
        };
        let streams = Arc::downgrade(self);
        let expiring = token.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep(timeout) => {}
                () = shutdown.cancelled() => {}
            }
            if let Some(streams) = streams.upgrade() {
                streams.expire(&expiring);
            }
        });
        Ok(token)
    }

    pub(super) fn find(&self, token: &str) -> Option<Arc<Reservation>> {
        self.lock().get(token).cloned()
    }

    /// Forgets the stream (its body ended).
    pub(super) fn remove(&self, token: &str) {
        self.lock().remove(token);
    }

    /// Drops the reservation unless its stream was opened; its operations and its streaming
    /// client's place go with it.
    fn expire(&self, token: &str) {
        let mut reservations = self.lock();
        let unopened = reservations
            .get(token)
            .is_some_and(|reservation| reservation.state().held.is_some());
        if unopened {
            if let Some(reservation) = reservations.remove(token) {
                drop(reservations);
                reservation.close();
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Box<str>, Arc<Reservation>>> {
        // A panic while the map was held leaves it consistent (every change is one call).
        self.reservations
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

fn new_token() -> Result<Box<str>, getrandom::Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl Reservation {
    fn state(&self) -> MutexGuard<'_, State> {
        // Every change under the lock is a single step, so a panic elsewhere leaves it usable.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Opens the stream: its streaming client's place, or `None` when it was opened before
    /// (only one stream may ever serve a reservation).
    pub(super) fn open(&self) -> Option<StreamingSlot> {
        // The client's count of unopened reservations drops with the rest of `Held`.
        let held = self.state().held.take()?;
        Some(held.slot)
    }

    /// Starts operation `id`, at most `limit` at once on this stream.
    pub(super) fn begin(&self, id: &str, limit: usize) -> Result<OperationKey, Refused> {
        let mut state = self.state();
        if state.closed {
            return Err(Refused::Closed);
        }
        if state.operations.contains_key(id) {
            return Err(Refused::Duplicate);
        }
        if state.operations.len() >= limit {
            return Err(Refused::TooMany { limit });
        }
        let quoted_id = Bytes::from(serde_json::Value::from(id).to_string());
        let key = OperationKey {
            quoted_id,
            serial: state.next_serial,
        };
        state.next_serial += 1;
        state
            .operations
            .insert(id.into(), (key.clone(), Phase::Preparing));
        Ok(key)
    }

    /// Hands a started operation's responses to the stream; they are dropped instead when the
    /// client stopped the operation meanwhile or the stream ended.
    pub(super) fn attach(
        &self,
        key: &OperationKey,
        responses: ResponseStream,
    ) -> Result<(), Refused> {
        let mut state = self.state();
        if state.closed {
            return Err(Refused::Closed);
        }
        let Some((_, phase)) = state
            .operations
            .values_mut()
            .find(|(running, _)| running == key)
        else {
            // Stopped while it was prepared: the client no longer wants it.
            return Err(Refused::Stopped);
        };
        *phase = Phase::Streaming;
        state.arrived.push(Operation {
            key: key.clone(),
            responses,
        });
        state.wake();
        Ok(())
    }

    /// Forgets an operation that ended: refused by the pipeline, or streamed to its end.
    pub(super) fn finished(&self, key: &OperationKey) {
        let mut state = self.state();
        state.operations.retain(|_, (running, _)| running != key);
    }

    /// Stops operation `id` (a `DELETE`): its responses are dropped and the stream sends its
    /// `complete`. Unknown ids are ignored, as the operation may just have ended by itself.
    pub(super) fn stop(&self, id: &str) {
        let mut state = self.state();
        let Some((key, phase)) = state.operations.remove(id) else {
            return;
        };
        if phase == Phase::Preparing {
            // `attach` will find it gone and drop its responses.
            return;
        }
        if let Some(waiting) = state.arrived.iter_mut().find(|op| op.key == key) {
            // Not taken by the body yet: only its `complete` is left to send.
            waiting.responses = stream::empty().boxed();
        } else {
            state.stopped.push(key);
            state.wake();
        }
    }

    /// What the body has to take up: operations that arrived and operations stopped since it
    /// last looked. The body is woken when there is more.
    pub(super) fn take_news(&self, cx: &Context<'_>) -> (Vec<Operation>, Vec<OperationKey>) {
        let mut state = self.state();
        match &mut state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        (
            std::mem::take(&mut state.arrived),
            std::mem::take(&mut state.stopped),
        )
    }

    /// Ends the stream: later operations are refused, and those waiting are dropped.
    pub(super) fn close(&self) {
        let waiting = {
            let mut state = self.state();
            state.closed = true;
            state.operations.clear();
            state.stopped.clear();
            state.waker = None;
            (std::mem::take(&mut state.arrived), state.held.take())
        };
        // Dropped outside the lock: ending a subscription may take a moment. An unopened
        // reservation's place among the streaming clients is freed with it.
        drop(waiting);
    }
}

impl State {
    fn wake(&mut self) {
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
}

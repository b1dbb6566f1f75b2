//! A span exporter whose exports run on the tokio runtime, for the SDK's thread-based batch
//! processor.
//!
//! Why not the SDK's batch processor that runs as a tokio task: it wakes its task for every span
//! that ends (each span is a message on the task's channel), so a request's eight spans cost
//! eight task wake-ups and polls, often across threads — at full sampling, a large share of all
//! the tracing overhead. The thread-based processor instead queues spans where the worker does
//! not wait on them and is woken once per full batch or timer. Its worker thread blocks on each
//! export, and the OTLP exporters (hyper, reqwest, tonic) need a tokio runtime: so each export
//! is handed to the runtime that started telemetry and the worker waits for it there.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

pub(super) struct OnRuntime<E> {
    inner: Arc<E>,
    runtime: tokio::runtime::Handle,
}

impl<E> OnRuntime<E> {
    pub(super) fn new(inner: E, runtime: tokio::runtime::Handle) -> Self {
        OnRuntime {
            inner: Arc::new(inner),
            runtime,
        }
    }
}

impl<E> fmt::Debug for OnRuntime<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OnRuntime")
    }
}

impl<E: SpanExporter + 'static> SpanExporter for OnRuntime<E> {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let inner = self.inner.clone();
        // A runtime that has shut down cancels the task: the batch is lost, as it would be.
        self.runtime
            .spawn(async move { inner.export(batch).await })
            .await
            .map_err(|error| {
                OTelSdkError::InternalFailure(format!("the export task failed: {error}"))
            })?
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn force_flush(&self) -> OTelSdkResult {
        self.inner.force_flush()
    }

    fn set_resource(&mut self, resource: &Resource) {
        // The provider sets the resource while it is built, before any export holds a clone.
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.set_resource(resource);
        }
    }
}

//! `--otlp URL`: every session's traffic (ours, tapped and proxied alike) as OpenTelemetry traces
//! sent to a collector over OTLP/HTTP (protobuf, `URL/v1/traces`), with the OpenTelemetry crates:
//! the SDK's batch processor and the OTLP exporter. A follower reads the event stream through the
//! typed reader, like every other consumer, and makes one span per request with its answer:
//! method, the tool, resource or prompt it acts on, status and error code, duration, the session
//! and server names. The server's (and client's) notifications are span events of the request
//! they concern (by progress token, else the newest open request of the session). A request
//! whose `_meta.traceparent` names a W3C trace context becomes a span of that trace, child of
//! the span it names; others start a trace of their own.
//!
//! Never in the way: spans wait in a bounded queue, and one that would go past it is dropped and
//! counted ([`Otlp::dropped`], said in the log), never waited for. Strings that may carry a
//! session's secrets (URIs, error messages) are scrubbed as exports scrub them. This file is
//! the export and the follower's loop; how events become spans is `otlp/spans.rs`.

mod spans;

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::{
    Resource,
    error::OTelSdkResult,
    trace::{BatchConfigBuilder, BatchSpanProcessor, SpanData, SpanExporter, SpanProcessor},
};
use tokio::sync::watch;

use self::spans::Spans;
use crate::{events::EventBus, session::Sessions};

/// Spans waiting to be exported; past this, new ones are dropped and counted.
const QUEUE: usize = 8192;

/// The exporter, counting what it has taken off the queue.
#[derive(Debug)]
struct Counting {
    inner: opentelemetry_otlp::SpanExporter,
    pending: Arc<AtomicUsize>,
}

impl SpanExporter for Counting {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let n = batch.len();
        let done = self.inner.export(batch).await;
        self.pending.fetch_sub(n, Ordering::Relaxed);
        done
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.inner.shutdown_with_timeout(timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        self.inner.set_resource(resource);
    }
}

/// The running export.
pub struct Otlp {
    processor: BatchSpanProcessor,
    pending: Arc<AtomicUsize>,
    dropped: AtomicU64,
}

impl Otlp {
    /// The exporter for a collector at `url` (its base: `/v1/traces` is added).
    pub fn new(url: &str) -> Result<Otlp, String> {
        let parsed = url::Url::parse(url).map_err(|e| format!("--otlp {url:?}: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(format!("--otlp {url:?}: an http(s) URL of a collector"));
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let endpoint = format!("{}/v1/traces", url.trim_end_matches('/'));
        let inner = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(endpoint)
            .with_timeout(Duration::from_secs(5))
            .build()
            .map_err(|e| format!("--otlp: {e}"))?;
        let pending = Arc::new(AtomicUsize::new(0));
        let mut processor = BatchSpanProcessor::builder(Counting {
            inner,
            pending: pending.clone(),
        })
        .with_batch_config(
            BatchConfigBuilder::default()
                // Above ours, so the SDK never drops on its own: we count what is dropped.
                .with_max_queue_size(QUEUE * 2)
                .with_max_export_batch_size(512)
                .with_scheduled_delay(Duration::from_millis(500))
                .build(),
        )
        .build();
        processor.set_resource(
            &Resource::builder_empty()
                .with_service_name("mcpscope")
                .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
                .build(),
        );
        Ok(Otlp {
            processor,
            pending,
            dropped: AtomicU64::new(0),
        })
    }

    /// Spans dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    fn offer(&self, span: SpanData) {
        if self.pending.fetch_add(1, Ordering::Relaxed) >= QUEUE {
            self.pending.fetch_sub(1, Ordering::Relaxed);
            if self.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
                tracing::warn!(
                    "the OTLP queue is full: spans are dropped (and counted) until the collector catches up"
                );
            }
            return;
        }
        self.processor.on_end(span);
    }

    /// Follows the event stream until `stop`, then sends what is queued.
    pub async fn follow(
        self,
        bus: EventBus,
        sessions: Arc<Sessions>,
        mut stop: watch::Receiver<bool>,
    ) {
        let mut watch = bus.watch();
        let mut after = bus.newest_seq();
        let mut spans = Spans::default();
        loop {
            let batch = bus.next_after(after, 1024);
            if let Some(last) = batch.records.last() {
                after = last.seq;
                for record in &batch.records {
                    if let Ok(stamped) = record.read() {
                        for span in spans.observe(stamped, &sessions) {
                            self.offer(span);
                        }
                    }
                }
                continue;
            }
            tokio::select! {
                changed = watch.changed() => if changed.is_err() { break },
                _ = stop.wait_for(|s| *s) => break,
            }
        }
        let dropped = self.dropped();
        if dropped > 0 {
            tracing::warn!(dropped, "OTLP: spans dropped because the queue was full");
        }
        let processor = self.processor;
        let _ = tokio::task::spawn_blocking(move || processor.shutdown()).await;
    }
}

//! Traces for an OpenTelemetry collector, when the environment names one: the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`), over HTTP with
//! `OTEL_EXPORTER_OTLP_PROTOCOL` `http/protobuf` (the default) or `http/json`;
//! `OTEL_SERVICE_NAME` (`laurel` by default) and the batch settings (`OTEL_BSP_*`) as the
//! specification defines them. Each request is a span named by its route's template, a child
//! of the caller's trace when it sends `traceparent`, and each commit a span within it.

use std::future::Future;
use std::pin::Pin;

use anyhow::{Context, bail};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::Layer;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::registry::LookupSpan;

/// Sends the spans still waiting when dropped (the server stopping).
pub struct Traces(SdkTracerProvider);

impl Drop for Traces {
    fn drop(&mut self) {
        if let Err(e) = self.0.shutdown() {
            errln!("laurel: the last traces were not sent: {e}");
        }
    }
}

/// Whether the environment names a collector.
fn wanted() -> bool {
    [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()))
}

/// The layer that turns `laurel`'s spans into traces for the collector the environment names,
/// and what flushes them; `None` when it names none.
pub fn layer<S>() -> anyhow::Result<Option<(impl Layer<S>, Traces)>>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    if !wanted() {
        return Ok(None);
    }
    let protocol = match std::env::var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        .or_else(|_| std::env::var("OTEL_EXPORTER_OTLP_PROTOCOL"))
        .as_deref()
    {
        Err(_) | Ok("http/protobuf") => Protocol::HttpBinary,
        Ok("http/json") => Protocol::HttpJson,
        Ok(other) => bail!(
            "OTEL_EXPORTER_OTLP_PROTOCOL is `{other}`: laurel sends traces over HTTP, \
             `http/protobuf` or `http/json`"
        ),
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(Ureq::new())
        .with_protocol(protocol)
        .build()
        .context("the OpenTelemetry exporter (OTEL_EXPORTER_OTLP_ENDPOINT)")?;
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "laurel".to_owned());
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            opentelemetry_sdk::Resource::builder()
                .with_service_name(service)
                .build(),
        )
        .build();
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    let layer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("laurel"))
        .with_filter(Targets::new().with_target("laurel", tracing::Level::INFO));
    Ok(Some((layer, Traces(provider))))
}

/// The exporter's HTTP client: the one the server already uses for its own calls. The batch
/// processor sends from a thread of its own, where a blocking call holds nothing else up.
#[derive(Debug)]
struct Ureq(ureq::Agent);

impl Ureq {
    fn new() -> Self {
        Self(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(std::time::Duration::from_secs(10)))
                .build()
                .into(),
        )
    }
}

impl HttpClient for Ureq {
    fn send_bytes<'life0, 'async_trait>(
        &'life0 self,
        request: Request<Bytes>,
    ) -> Pin<Box<dyn Future<Output = Result<Response<Bytes>, HttpError>> + Send + 'async_trait>>
    where
        Self: 'async_trait,
        'life0: 'async_trait,
    {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let mut answer = self.0.run(Request::from_parts(parts, body.to_vec()))?;
            let status = answer.status();
            let body = answer.body_mut().read_to_vec()?;
            Ok(Response::builder().status(status).body(Bytes::from(body))?)
        })
    }
}

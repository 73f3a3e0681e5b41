"""OpenTelemetry tracing: one trace from the API request through the workflow and activity to
each vendor call.

`setup_tracing` installs a tracer provider named after the process, honouring the standard
variables: `OTEL_SERVICE_NAME`, `OTEL_TRACES_EXPORTER` (`console`, `otlp`, or `none`, the
default) and, for `otlp`, `OTEL_EXPORTER_OTLP_ENDPOINT` (needs the
`opentelemetry-exporter-otlp-proto-http` package, which is not a default dependency). Spans are
created and propagated whatever the exporter, so tests can read them. Temporal carries the
context across processes through `TracingInterceptor` (see `runtime.temporal.connect`).
"""

from __future__ import annotations

import logging
import os

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

log = logging.getLogger(__name__)


def setup_tracing(default_service: str) -> None:
    """Install the process's tracer provider (once; a provider already set is kept)."""
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    service = os.environ.get("OTEL_SERVICE_NAME", default_service)
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    exporter_name = os.environ.get("OTEL_TRACES_EXPORTER", "none").lower()
    if exporter_name == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    elif exporter_name == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[import-not-found]
                OTLPSpanExporter,
            )
        except ImportError:
            log.warning(
                "OTEL_TRACES_EXPORTER=otlp but opentelemetry-exporter-otlp-proto-http is not "
                "installed; traces are not exported"
            )
        else:
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


tracer = trace.get_tracer("integrations")

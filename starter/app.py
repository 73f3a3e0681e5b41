"""The FastAPI application: wiring, lifespan, error answers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from opentelemetry import propagate
from opentelemetry.trace import SpanKind

from runtime.keyring import KeyRing, keyring_from_settings
from runtime.settings import Settings, get_settings
from runtime.tracing import tracer
from starter.deps import AppState
from starter.routes import catalogue, codec, integrations, records, syncs
from starter.temporal_gateway import TemporalGateway, TemporalUnavailable
from store.records import InvalidCursor
from store.store import Store

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, keyring: KeyRing | None = None) -> FastAPI:
    settings = settings or get_settings()
    ring = keyring or keyring_from_settings(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await Store.open(settings.resolved_database_url(), ring)
        gateway = TemporalGateway.from_settings(settings, ring)
        app.state.services = AppState(settings=settings, store=store, temporal=gateway)
        try:
            yield
        finally:
            await store.close()

    app = FastAPI(
        title="Integrations worker API",
        version="0.1.0",
        description="Register integrations, test them, trigger syncs, read synced records.",
        lifespan=lifespan,
    )
    app.include_router(catalogue.router)
    app.include_router(integrations.router)
    app.include_router(syncs.router)
    app.include_router(records.router)
    app.include_router(codec.router)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[o.strip() for o in settings.codec_cors_origins.split(",") if o.strip()],
        allow_methods=["POST", "OPTIONS"],
        allow_headers=["content-type", "x-namespace", "authorization"],
    )

    @app.middleware("http")
    async def trace_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """A server span per request, joined to the caller's trace (W3C traceparent); the
        Temporal calls made while handling it become its children."""
        with tracer.start_as_current_span(
            f"{request.method} {request.url.path}",
            context=propagate.extract(request.headers),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": request.method},
        ) as span:
            response = await call_next(request)
            route = request.scope.get("route")
            if route is not None and hasattr(route, "path"):
                span.update_name(f"{request.method} {route.path}")
            span.set_attribute("http.response.status_code", response.status_code)
            return response

    @app.exception_handler(TemporalUnavailable)
    async def temporal_down(_: Request, exc: TemporalUnavailable) -> JSONResponse:
        log.warning("temporal unavailable: %s", exc)
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(InvalidCursor)
    async def bad_cursor(_: Request, exc: InvalidCursor) -> JSONResponse:
        return JSONResponse(
            {"detail": [{"loc": ["query", "cursor"], "msg": str(exc), "type": "value_error"}]},
            status_code=422,
        )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app

"""The one way this service builds a Temporal client: pydantic converter + encryption codec."""

from __future__ import annotations

import dataclasses

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from runtime.codec import EncryptionCodec
from runtime.keyring import KeyRing
from runtime.search_attributes import ALL_KEYS


def data_converter(keyring: KeyRing) -> DataConverter:
    return dataclasses.replace(pydantic_data_converter, payload_codec=EncryptionCodec(keyring))


async def connect(
    address: str, namespace: str, keyring: KeyRing, *, metrics_bind: str = ""
) -> Client:
    """A client with the pydantic converter, the encryption codec and tracing. With
    `metrics_bind` (host:port), the client gets its own SDK runtime whose metrics (the SDK's
    and the product's, see `activities.metrics`) are served there for Prometheus."""
    runtime = None
    if metrics_bind:
        runtime = Runtime(
            telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=metrics_bind))
        )
    return await Client.connect(
        address,
        namespace=namespace,
        data_converter=data_converter(keyring),
        interceptors=[TracingInterceptor()],  # also applies to workers built on this client
        runtime=runtime,
    )


async def ensure_search_attributes(client: Client) -> None:
    """Register the product's search attributes if the cluster lacks them (idempotent)."""
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=client.namespace)
    )
    missing = {
        key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
        for key in ALL_KEYS
        if key.name not in existing.custom_attributes
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=client.namespace, search_attributes=missing)
        )

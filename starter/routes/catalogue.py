"""`GET /api/integration-types/`: the catalogue of integration types."""

from __future__ import annotations

from fastapi import APIRouter

from connectors.registry import CATALOGUE
from starter.schemas import IntegrationTypeOut

router = APIRouter(tags=["catalogue"])


@router.get("/api/integration-types/")
async def list_types() -> list[IntegrationTypeOut]:
    return [
        IntegrationTypeOut(
            type_id=entry.spec.type_id,
            display_name=entry.spec.display_name,
            category=entry.spec.category,
            auth_kind=entry.spec.auth_kind,
            status=entry.status,
            config_fields=[f.model_dump() for f in entry.spec.config_fields],
            credential_fields=[f.model_dump() for f in entry.spec.credential_fields],
            resources=[r.model_dump() for r in entry.spec.resources],
            default_base_url=entry.spec.default_base_url,
        )
        for entry in CATALOGUE.values()
    ]

"""`GET .../records/`: synced records in unified form, in change order, keyset-paged."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.exceptions import RequestValidationError

from connectors.models import UNIFIED_MODELS
from starter.deps import CurrentIntegration, State
from starter.schemas import RecordOutModel, RecordsOut

router = APIRouter(prefix="/api/tenants/{tenant_slug}/integrations", tags=["records"])


@router.get("/{integration_id}/records/")
async def list_records(
    integration: CurrentIntegration,
    state: State,
    model: Annotated[str | None, Query(description="a unified model name")] = None,
    modified_after: Annotated[datetime | None, Query()] = None,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    include_raw: Annotated[bool, Query()] = False,
    include_deleted: Annotated[bool, Query()] = True,
) -> RecordsOut:
    if model is not None and model not in UNIFIED_MODELS:
        raise RequestValidationError(
            [
                {
                    "loc": ["query", "model"],
                    "msg": f"unknown model {model!r}; valid models: {', '.join(UNIFIED_MODELS)}",
                    "type": "value_error",
                    "input": model,
                }
            ]
        )
    if modified_after is not None and modified_after.tzinfo is None:
        raise RequestValidationError(
            [
                {
                    "loc": ["query", "modified_after"],
                    "msg": "modified_after needs a timezone, e.g. 2025-10-24T10:30:00Z",
                    "type": "value_error",
                    "input": str(modified_after),
                }
            ]
        )
    page = await state.store.records.page(
        integration_id=integration.id,
        model=model,
        modified_after=modified_after,
        cursor=cursor,
        limit=limit,
        include_deleted=include_deleted,
    )
    return RecordsOut(
        records=[
            RecordOutModel(
                id=r.id,
                model=r.model,
                vendor_id=r.vendor_id,
                data=r.data,
                raw=r.raw if include_raw else None,
                modified_at=r.modified_at,
                deleted=r.deleted,
            )
            for r in page.records
        ],
        next_cursor=page.next_cursor,
    )

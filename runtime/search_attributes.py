"""The product's search attributes: every workflow carries tenant, integration type and id."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

TENANT = SearchAttributeKey.for_keyword("IntegrationTenant")
INTEGRATION_TYPE = SearchAttributeKey.for_keyword("IntegrationType")
INTEGRATION_ID = SearchAttributeKey.for_keyword("IntegrationId")
INTEGRATION_HEALTH = SearchAttributeKey.for_keyword("IntegrationHealth")
CASE_STATUS = SearchAttributeKey.for_keyword("CaseStatus")

ALL_KEYS = [TENANT, INTEGRATION_TYPE, INTEGRATION_ID, INTEGRATION_HEALTH, CASE_STATUS]


def cli_flags() -> list[str]:
    """`--search-attribute Name=Keyword` flags for `temporal server start-dev`."""
    flags: list[str] = []
    for key in ALL_KEYS:
        flags += ["--search-attribute", f"{key.name}=Keyword"]
    return flags


def for_integration(
    tenant: str, integration_type: str, integration_id: str
) -> TypedSearchAttributes:
    return TypedSearchAttributes(
        [
            SearchAttributePair(TENANT, tenant),
            SearchAttributePair(INTEGRATION_TYPE, integration_type),
            SearchAttributePair(INTEGRATION_ID, integration_id),
        ]
    )

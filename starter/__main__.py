"""`python -m starter` (console script `integrations-api`): run the HTTP API with uvicorn."""

from __future__ import annotations

import uvicorn

from runtime.logs import setup_logging
from runtime.settings import get_settings
from runtime.tracing import setup_tracing
from starter.app import create_app


def main() -> None:
    settings = get_settings()
    setup_logging(settings.log_level)
    setup_tracing("integrations-api")
    uvicorn.run(
        create_app(settings),
        host=settings.api_host,
        port=settings.api_port,
        log_level=settings.log_level.lower(),
        access_log=False,
    )


if __name__ == "__main__":
    main()

"""Settings from environment variables (pydantic-settings); every variable is in the README.

The embedded defaults need nothing set: a Temporal dev server started by the dev command, a
SQLite file and a generated dev key under `var/`. Production sets `TEMPORAL_ADDRESS`,
`DATABASE_URL` and `ENCRYPTION_KEYS`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    temporal_address: str = Field(
        "127.0.0.1:7233", description="host:port of the Temporal frontend"
    )
    temporal_namespace: str = "default"
    temporal_task_queue: str = "integrations"
    temporal_ui_port: int = 8233

    var_dir: Path = Field(ROOT / "var", description="runtime state: SQLite files, dev key, logs")
    database_url: str = Field(
        "", description="SQLAlchemy async URL; empty means sqlite+aiosqlite under VAR_DIR"
    )

    encryption_keys: str = Field(
        "",
        description="key ring 'kid:base64key[,kid:base64key…]', 32-byte AES keys; "
        "empty means a dev key generated into VAR_DIR/dev.keys",
    )
    encryption_active_key: str = Field("", description="kid used to encrypt; default the first")

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    codec_auth_token: str = Field(
        "", description="bearer token the codec endpoint requires; empty means none (loopback dev)"
    )
    codec_cors_origins: str = Field(
        "http://localhost:8233,http://127.0.0.1:8233",
        description="origins allowed to call the codec endpoint (the Temporal UI)",
    )

    sandbox_host: str = "127.0.0.1"
    sandbox_port: int = 8766

    worker_max_concurrent_activities: int = 20
    worker_metrics_bind: str = Field(
        "", description="host:port where the worker serves Prometheus metrics; empty = off"
    )
    vendor_timeout_seconds: float = 30.0
    log_level: str = "INFO"

    def resolved_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+asyncpg://" + url[len("postgresql://") :]
            return url
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{self.var_dir / 'integrations.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

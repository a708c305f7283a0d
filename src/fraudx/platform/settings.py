"""Node settings, read from ``FRAUDX_*`` environment variables (and a ``.env`` file)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from fraudx.platform.geo import is_country


class Settings(BaseSettings):
    """Everything a node needs to know about itself; validated when the node starts."""

    model_config = SettingsConfigDict(env_prefix="FRAUDX_", env_file=".env", extra="ignore")

    home: Path = Field(
        default=Path(".fraudx"), description="Directory for the node's own files (database, keys)."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default is a SQLite file fraudx.sqlite3 in FRAUDX_HOME. "
        "PostgreSQL: postgresql+psycopg://user@host/db",
    )
    node_id: str = Field(default="fraudx-local", description="This node's stable name.")
    country: str = Field(default="TH", description="ISO 3166 alpha-2 country running the node.")
    timezone: str = Field(default="UTC", description="IANA timezone of the node's lead agency.")
    extra_categories: str = Field(
        default="",
        description="Indicator categories beyond the built-in ones, as NAME:DAYS (default "
        "lifetime) separated by commas, e.g. loan_scam:180,investment_scam:365.",
    )
    peer_pull_seconds: float = Field(
        default=0.5, gt=0, description="How often `fraudx serve` pulls from each peer node."
    )
    token_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long a verified API token is trusted without the DB."
    )
    nats_url: str | None = Field(
        default=None, description="NATS server for alert delivery by JetStream, nats://host:4222."
    )
    alert_max_attempts: int = Field(
        default=8, ge=1, description="Webhook/NATS attempts before a delivery is dead-lettered."
    )
    alert_retry_seconds: float = Field(
        default=2.0, gt=0, description="First retry delay; doubles each attempt (with jitter)."
    )
    alert_surge_agencies: int = Field(
        default=3, ge=2, description="Surge: this many distinct agencies looking one up…"
    )
    alert_surge_minutes: int = Field(default=60, ge=1, description="…within this many minutes.")
    alert_sighting_minutes: int = Field(
        default=10,
        ge=0,
        description="Sighting alerts: later hits on one identifier for one reporting agency "
        "within this many minutes of its alert are counted into that alert (0: one each).",
    )

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        value = value.strip().upper()
        if not is_country(value):
            raise ValueError(f"{value!r} is not an ISO 3166 alpha-2 country code")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA timezone") from exc
        return value

    @field_validator("node_id")
    @classmethod
    def _node_id(cls, value: str) -> str:
        value = value.strip()
        if not value or len(value) > 64 or not all(c.isalnum() or c in "-_." for c in value):
            raise ValueError("use 1 to 64 letters, digits, '-', '_' or '.'")
        return value

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.home / 'fraudx.sqlite3').resolve()}"
        return self

    @property
    def db_url(self) -> str:
        """The effective database URL (never None after validation)."""
        assert self.database_url is not None
        return self.database_url

"""The composition root: one node's platform and capability services, built from settings."""

from __future__ import annotations

from dataclasses import dataclass

from fraudx.platform.clock import Clock
from fraudx.platform.ids import IdFactory
from fraudx.platform.runtime import Platform
from fraudx.platform.settings import Settings
from fraudx.platform.tasks import BackgroundTask


@dataclass
class Node:
    """Everything one FraudX deployment runs. Capabilities add their services here."""

    platform: Platform

    @classmethod
    def open(
        cls, settings: Settings, *, clock: Clock | None = None, ids: IdFactory | None = None
    ) -> Node:
        return cls(platform=Platform.open(settings, clock=clock, ids=ids))

    def background_tasks(self) -> list[BackgroundTask]:
        """What ``fraudx serve`` runs beside the API (dispatchers, index refresh, expiry)."""
        return []

    @property
    def settings(self) -> Settings:
        return self.platform.settings

    def close(self) -> None:
        self.platform.close()

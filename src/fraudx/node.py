"""The composition root: one node's platform and capability services, built from settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fraudx.exchange.service import ExchangeService
from fraudx.exchange.sync import PeerSync, Publisher, Syncer
from fraudx.platform.clock import Clock
from fraudx.platform.ids import IdFactory
from fraudx.platform.runtime import Platform
from fraudx.platform.settings import Settings
from fraudx.platform.tasks import BackgroundTask
from fraudx.registry.drafting import Drafter
from fraudx.registry.index import LookupIndex
from fraudx.registry.indexer import IndexFollower, IndexKeeper
from fraudx.registry.lookups import LookupService
from fraudx.registry.model import Categories
from fraudx.registry.recorder import ReadRecorder, RecorderFlusher
from fraudx.registry.service import RegistryService
from fraudx.registry.tasks import ExpirySweeper

log = logging.getLogger("fraudx.node")


@dataclass
class Node:
    """Everything one FraudX deployment runs. Capabilities add their services here."""

    platform: Platform
    registry: RegistryService
    lookups: LookupService
    index: IndexKeeper
    recorder: ReadRecorder
    exchange: ExchangeService

    @classmethod
    def open(
        cls, settings: Settings, *, clock: Clock | None = None, ids: IdFactory | None = None
    ) -> Node:
        platform = Platform.open(settings, clock=clock, ids=ids)
        categories = Categories.from_setting(settings.extra_categories)
        keeper = IndexKeeper(platform.db, LookupIndex(categories))
        recorder = ReadRecorder(platform.db, platform.clock, platform.ids, platform.audit)
        registry = RegistryService(
            platform,
            categories,
            keeper,
            recorder,
            Drafter(categories, settings.extra_categories),
        )
        return cls(
            platform=platform,
            registry=registry,
            lookups=LookupService(platform.db, platform.clock, keeper, recorder),
            index=keeper,
            recorder=recorder,
            exchange=ExchangeService(platform, registry),
        )

    def background_tasks(self) -> list[BackgroundTask]:
        """What ``fraudx serve`` runs beside the API (dispatchers, index refresh, expiry)."""
        return [
            IndexFollower(self.index),
            RecorderFlusher(self.recorder),
            ExpirySweeper(self.registry),
            Publisher(self.exchange, Syncer(self.exchange)),
            PeerSync(Syncer(self.exchange), self.settings.peer_pull_seconds),
        ]

    @property
    def settings(self) -> Settings:
        return self.platform.settings

    def close(self) -> None:
        try:
            self.recorder.flush()  # read records still waiting for their batch
        except Exception:
            log.exception("could not write the last read records")
        self.registry.close()
        self.platform.close()

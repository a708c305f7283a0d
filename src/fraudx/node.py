"""The composition root: one node's platform and capability services, built from settings."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from fraudx.alerts.channels import NatsSender, WebhookSender
from fraudx.alerts.delivery import Dispatcher, RetryPolicy, Sender
from fraudx.alerts.model import ChannelType
from fraudx.alerts.rules import RuleEngine
from fraudx.alerts.sealing import Sealer
from fraudx.alerts.service import AlertService
from fraudx.alerts.tasks import RuleRunner
from fraudx.exchange.service import ExchangeService
from fraudx.exchange.sync import PeerSync, Publisher, Syncer
from fraudx.platform.clock import Clock
from fraudx.platform.ids import IdFactory
from fraudx.platform.memory import MemoryTrimmer
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
    alerts: AlertService
    exchange: ExchangeService

    @classmethod
    def open(
        cls, settings: Settings, *, clock: Clock | None = None, ids: IdFactory | None = None
    ) -> Node:
        platform = Platform.open(settings, clock=clock, ids=ids)
        categories = Categories.from_setting(settings.extra_categories)
        keeper = IndexKeeper(platform.db, LookupIndex(categories))
        recorder = ReadRecorder(platform.db, platform.clock, platform.ids, platform.audit)
        lookups = LookupService(platform.db, platform.clock, keeper, recorder)
        rules = RuleEngine(
            platform,
            lookups,
            surge_agencies=settings.alert_surge_agencies,
            surge_minutes=settings.alert_surge_minutes,
            sighting_minutes=settings.alert_sighting_minutes,
        )
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
            lookups=lookups,
            index=keeper,
            recorder=recorder,
            alerts=AlertService(platform, rules, Sealer(settings.home / "alerts.key")),
            exchange=ExchangeService(platform, registry),
        )

    def alert_dispatchers(self) -> list[Dispatcher]:
        """One dispatcher per push backend (webhooks; NATS when FRAUDX_NATS_URL is set)."""
        policy = RetryPolicy(self.settings.alert_max_attempts, self.settings.alert_retry_seconds)
        senders: list[tuple[ChannelType, Sender]] = [(ChannelType.WEBHOOK, WebhookSender())]
        if self.settings.nats_url:
            senders.append((ChannelType.NATS, NatsSender(self.settings.nats_url)))
        db, clock, sealer = self.platform.db, self.platform.clock, self.alerts.sealer
        engine = self.alerts.engine
        return [
            Dispatcher(db, clock, sealer, {c: s}, policy, bell=engine.bell, touched=engine.touched)
            for c, s in senders
        ]

    def background_tasks(self) -> list[BackgroundTask]:
        """What ``fraudx serve`` runs beside the API (dispatchers, index refresh, expiry)."""
        return [
            IndexFollower(self.index),
            RecorderFlusher(self.recorder),
            ExpirySweeper(self.registry),
            RuleRunner(self.alerts.engine, self.platform.db.bell),
            *self.alert_dispatchers(),
            Publisher(self.exchange, Syncer(self.exchange)),
            PeerSync(Syncer(self.exchange), self.settings.peer_pull_seconds),
            MemoryTrimmer(),
        ]

    @property
    def settings(self) -> Settings:
        return self.platform.settings

    def close(self) -> None:
        try:
            self.recorder.flush(final=True)  # read records still waiting for their batch
        except Exception:
            log.exception("could not write the last read records")
        self.registry.close()
        self.platform.close()

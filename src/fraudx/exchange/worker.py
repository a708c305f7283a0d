"""Publishing a large backlog in a worker process.

A bulk import leaves hundreds of thousands of changes to publish as STIX. Published in
the server's own process, that work holds its interpreter for seconds at a time, and
peers pulling the new objects, like every API call, wait their turn for it. Beyond a
threshold (``Settings.publish_worker_bytes``) the node's publisher hands the backlog to
a process of its own, which opens the same database, publishes until it has caught up
and exits: a node at rest keeps no second process. The server goes on publishing until
the worker says it has started (its imports take about a second), and publishers take
turns, each pass reading the position it continues from. Stopping the worker midway
loses nothing: each pass commits its objects and the publisher's position together.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.connection import Connection

from fraudx.platform.settings import Settings


class PublishingWorker:
    """A worker process publishing everything pending, started at once."""

    def __init__(self, settings: Settings) -> None:
        context = multiprocessing.get_context("spawn")  # no copy of the server's threads
        self._answer, answer = context.Pipe(duplex=False)
        # Daemonic: ended with the server if the server goes first.
        self._process = context.Process(
            target=_publish_all, args=(settings, answer), name="fraudx-publisher", daemon=True
        )
        self._process.start()
        answer.close()
        self._started = False

    def running(self) -> bool:
        return self._process.is_alive()

    def started(self) -> bool:
        """Whether it has opened the database and begun publishing."""
        if not self._started and self._answer.poll():
            self._started = self._answer.recv() == STARTED
        return self._started

    def result(self) -> int:
        """How many objects it published, once it has ended; RuntimeError if it failed."""
        self._process.join()
        if self._process.exitcode == 0 and self.started() and self._answer.poll():
            count: int = self._answer.recv()
            return count
        raise RuntimeError(f"the publishing worker ended with exit code {self._process.exitcode}")

    def stop(self) -> None:
        """End it now if it still runs (its current pass rolls back, to be done again)."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join(10)
        self._answer.close()


STARTED = "started"


def _publish_all(settings: Settings, answer: Connection) -> None:
    # Publishing alone, with its own connections: not a whole node, whose imports
    # (alerts, the look-up index, the API's models) would double the worker's start.
    from fraudx.exchange.policy import POLICY_FILE, load_policy
    from fraudx.exchange.publishing import Publishing
    from fraudx.platform.clock import SystemClock
    from fraudx.platform.db import Database

    db = Database(settings.db_url)
    try:
        policy = load_policy(settings.home / POLICY_FILE)
        publishing = Publishing(db, SystemClock(), settings.node_id, policy)
        answer.send(STARTED)
        answer.send(publishing.publish_all())
    finally:
        db.dispose()

"""Publishing a large backlog in a worker process.

A bulk import leaves hundreds of thousands of changes to publish as STIX. Published in
the server's own process, that work holds its interpreter for seconds at a time, and
peers pulling the new objects, like every API call, wait their turn for it. Beyond a
threshold (``Settings.publish_worker_bytes``) the node's publisher hands the backlog to
a process of its own, which opens the same database, publishes until it has caught up
and exits: a node at rest keeps no second process.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from fraudx.platform.settings import Settings


def publish_in_worker(settings: Settings) -> int:
    """Publish everything pending in a new process; returns how many objects it wrote.
    Its errors are raised here."""
    context = multiprocessing.get_context("spawn")  # no copy of the server's threads
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(_publish_all, settings).result()


def _publish_all(settings: Settings) -> int:
    from fraudx.node import Node  # the worker's own node, with its own connections

    node = Node.open(settings)
    try:
        return node.exchange.publish_all()
    finally:
        node.close()

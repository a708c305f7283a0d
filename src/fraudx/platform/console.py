"""What every command-line room shares: consoles, opening the node, one-line errors."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console

from fraudx.platform.agencies.model import Principal, operator
from fraudx.platform.runtime import Platform
from fraudx.platform.settings import Settings

#: Results go to stdout, everything meant for the person at the keyboard to stderr, so
#: that ``TOKEN=$(fraudx token create …)`` captures the token alone. Piped output is not
#: cut to 80 columns: ids in it must stay whole.
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True)


@contextmanager
def open_platform(*, upgrade_empty: bool = True) -> Iterator[Platform]:
    """The local node's platform, its schema checked (and created when the DB is empty)."""
    platform = Platform.open(Settings())
    try:
        platform.ensure_schema(upgrade_empty=upgrade_empty)
        yield platform
    finally:
        platform.close()


def local_operator() -> Principal:
    """Commands run on the node's machine act as its administrator, named by the OS user."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        user = "unknown"
    return operator(user)

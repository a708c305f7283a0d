"""Key files in FRAUDX_HOME: written once, readable by the node's user only."""

from __future__ import annotations

import os
from pathlib import Path


def create_secret_file(path: Path, content: bytes) -> bool:
    """Write ``content`` to a new file with mode 0600; False if the file already exists.

    O_EXCL: two processes starting at once must not each write a different key; the one
    that loses the race reads the winner's file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    return True

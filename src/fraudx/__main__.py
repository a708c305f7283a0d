"""``python -m fraudx``: the same as the ``fraudx`` command."""

from fraudx.cli import main

main()

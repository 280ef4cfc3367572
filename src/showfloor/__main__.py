"""``python -m showfloor``."""

from showfloor.cli import run

run()

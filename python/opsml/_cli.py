"""The `opsml` command installed with the wheel: the Rust command line, run in-process."""

import sys

from opsml._opsml import _cli_main


def main() -> None:
    """Runs `opsml` with this process's arguments and exits with its status."""
    sys.stdout.flush()
    sys.stderr.flush()
    sys.exit(_cli_main(sys.argv))

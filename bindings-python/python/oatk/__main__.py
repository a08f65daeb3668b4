"""``python -m oatk`` and the ``oatk`` console script: the Rust CLI, unchanged.

    oatk with_private private_key.pem with_jwks certs.json claims '{"hello": "world"}' token
    oatk --help
"""

import signal
import sys
from typing import List, Optional

from . import _oatk


def cli(argv: Optional[List[str]] = None) -> None:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and exit with its status."""
    args = sys.argv[1:] if argv is None else list(argv)
    sys.stdout.flush()
    sys.stderr.flush()
    # Behave exactly as the Rust binary: Ctrl-C ends the process, except where
    # the CLI handles it itself (`server run` stops gracefully and exits 0).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(_oatk.cli(args))


if __name__ == "__main__":
    cli()

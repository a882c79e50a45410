"""Entry point of ``python -m segmentation``."""

from __future__ import annotations

import sys

from segmentation.cli import main

if __name__ == "__main__":
    sys.exit(main())

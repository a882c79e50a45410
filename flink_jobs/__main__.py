"""``python -m flink_jobs``: submit and manage the offer pipeline."""

from __future__ import annotations

import sys

from flink_jobs.cli import main

if __name__ == "__main__":
    sys.exit(main())

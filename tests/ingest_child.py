"""Run an ingest with the hashing embedder in a child process, for kill and concurrency tests.

    python tests/ingest_child.py INDEX_DIR [--slow SECONDS] [--remove NAME] FILE...

--slow sleeps at every fsync of a directory, which stretches the publishing of a new
generation so that a kill lands in it often.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import index.store.embedded as store  # noqa: E402
from index.embedder import HashingEmbedder  # noqa: E402
from ingest.pipeline import IngestRun  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("index_dir", type=Path)
    parser.add_argument("files", nargs="*", type=Path)
    parser.add_argument("--slow", type=float, default=0.0)
    parser.add_argument("--remove", action="append", default=[])
    args = parser.parse_args()
    if args.slow:
        real_fsync_dir = store._fsync_dir

        def slow_fsync_dir(directory: Path) -> None:
            time.sleep(args.slow)
            real_fsync_dir(directory)

        store._fsync_dir = slow_fsync_dir
    run = IngestRun(args.index_dir, embedder_factory=HashingEmbedder, multilingual_factory=lambda: None,
                    log=sys.stdout.write)
    summary = run.execute(args.files, remove=args.remove)
    sys.stdout.write(summary.render())
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())

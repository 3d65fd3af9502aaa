"""The names of the files that every generation and store folder share.

Kept apart from `embedded` (which loads FAISS) so that `verify` can check a store with the
same names without importing the store itself.
"""

CURRENT = "CURRENT"
MANIFEST = "manifest.json"
# Written beside the manifest by publish(): the manifest's own sha256, so a flipped bit in a
# title or a checksum is caught too. Generations written before it existed have none.
MANIFEST_CHECKSUM = "manifest.sha256"
# And a second copy of the manifest, so that a damaged one does not lose the list of reports.
MANIFEST_COPY = "manifest.copy.json"
SOURCES = "sources"
SOURCE_INFO_SUFFIX = ".json"  # sources/<sha256>.json: the report's name, title and year
# The background process adding multilingual vectors (ingest/background.py) keeps its process
# id here, and its output in the log beside it.
MULTILINGUAL_WORKER_PID = "multilingual.pid"
MULTILINGUAL_WORKER_LOG = "multilingual.log"

# One command to set up and start the app, one to set up and run the tests.
#   make run    → virtual environment, requirements, index of corpus/ (if none yet), app on http://localhost:8501
#   make test   → the same set-up, Debian's chromium and tesseract (when root), then the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.requirements-installed
export HF_HUB_OFFLINE := 1
export HF_HUB_DISABLE_PROGRESS_BARS := 1
export TRANSFORMERS_VERBOSITY := error

.PHONY: setup index run test eval bench clean

setup: $(STAMP)

$(STAMP): requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -r requirements.txt
	touch $@

index: setup
	$(BIN)/python -m ingest

run: setup
	test -f store/CURRENT || $(BIN)/python -m ingest
	$(BIN)/python -m streamlit run app.py

test: setup
	./scripts/ensure-debian-packages
	$(BIN)/python -m pytest

# Retrieval quality on a shelf: the extract, the report PDFs in tests/data/shelf and the synthetic
# table annex in tests/data/tables (scripts/make_table_pdf.py); every
# question file, with and without the multilingual model, a hit counted with its evidence and then
# by page alone (--by-page). Prints figures; fails only on a crash.
SHELF_STORE ?= .eval/shelf-store
QUESTIONS   := $(sort $(wildcard tests/data/*questions*.jsonl tests/data/*noanswer*.jsonl tests/data/*albanian*.jsonl))

eval: setup
	$(BIN)/python -m ingest --multilingual-pass now --index-dir $(SHELF_STORE) corpus tests/data/shelf tests/data/tables
	$(BIN)/python -m index eval --index-dir $(SHELF_STORE) --summary $(QUESTIONS)
	$(BIN)/python -m index eval --index-dir $(SHELF_STORE) --summary --without-multilingual $(QUESTIONS)
	$(BIN)/python -m index eval --index-dir $(SHELF_STORE) --summary --by-page $(QUESTIONS)
	$(BIN)/python -m index eval --index-dir $(SHELF_STORE) --summary --by-page --without-multilingual $(QUESTIONS)

# Speed and memory beside the bare-model floors and the LlamaIndex peer (its own venv, made on
# first use outside the repo: BENCH_PEER_VENV, default /work/peer-venv). See benchmarks/README.md.
# BENCH_ARGS=--quick for a 1–2 minute run.
bench: setup
	./scripts/ensure-debian-packages
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

clean:
	rm -rf store .eval test-artifacts .pytest_cache

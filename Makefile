# Two commands a new user needs: `make demo` and `make test`.
# Both create .venv when missing and are idempotent: the install step is skipped
# while pyproject.toml is unchanged (the stamp file records the last install).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.hoimg-installed
# Numba's on-disk cache lives beside the sources by default; keep it in the venv instead,
# in a folder named by a hash of the kernel sources. Numba checks only the timestamp of the
# file of the function it compiled, not of the kernels that function calls from other
# files: after a `git pull` that changes only a callee, the old machine code would be
# loaded. (A pip upgrade rewrites every file, so installed copies do not have this trap.)
KERNEL_HASH := $(shell cat $$(grep -rl --include='*.py' -e numba src/hoimg | sort) | cksum | cut -d' ' -f1)
export NUMBA_CACHE_DIR := $(CURDIR)/$(VENV)/numba-cache/$(KERNEL_HASH)
export MPLBACKEND := Agg

.PHONY: demo test bench samples lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,dask]"
	touch $(STAMP)

# Exit code 1 means "some images failed, the rest finished": still show the evaluation.
demo: $(STAMP)
	$(BIN)/hoimg analyze data/samples --out results/demo --resume || [ $$? -eq 1 ]
	$(BIN)/hoimg evaluate results/demo data/samples/truth.json

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	$(BIN)/python benchmarks/run_all.py

# Regenerates data/samples/ bit for bit (see data/samples/README.md).
samples: $(STAMP)
	$(BIN)/python -m hoimg.phantom.samples data/samples

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) results .pytest_cache

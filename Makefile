# mailwright: `make run` to try it, `make test` to check it.
# Meson + Ninja do the work; this file only names the steps.

PYTEST  ?= /usr/bin/python3 -m pytest
RUNDIR  ?= $(CURDIR)/run
FUZZ_SECONDS ?= 5

.PHONY: all deps build build-asan run test unit integration fuzz fuzz-build \
	fuzz-replay docs check-docs bench clean

all: build

deps:
	@./scripts/install-deps.sh

build/build.ninja:
	meson setup build --buildtype=debugoptimized

build: deps build/build.ninja
	ninja -C build

build-asan/build.ninja:
	meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined \
	    -Db_lundef=false -Dwerror=true

build-asan: deps build-asan/build.ninja
	ninja -C build-asan

run: build
	@./scripts/run-demo.sh "$(CURDIR)/build/mailwright" "$(RUNDIR)"

unit: build-asan
	meson test -C build-asan --print-errorlogs

integration: build-asan
	MAILWRIGHT_BIN=$(CURDIR)/build-asan/mailwright $(PYTEST) -q tests/integration

build-fuzz/build.ninja:
	CC=clang meson setup build-fuzz --buildtype=debug -Dfuzz=true \
	    -Db_sanitize=address,undefined -Db_lundef=false \
	    -Dc_args=-fsanitize=fuzzer-no-link

fuzz-build: deps build-fuzz/build.ninja
	ninja -C build-fuzz

# Replays every corpus, then fuzzes each target briefly.
fuzz-replay: fuzz-build
	@./tests/fuzz/run.sh build-fuzz/tests/fuzz 0

fuzz: fuzz-build
	@./tests/fuzz/run.sh build-fuzz/tests/fuzz $(FUZZ_SECONDS)

docs: build
	./build/mailwright conf --docs > docs/configuration.md

check-docs: build
	@./build/mailwright conf --docs | diff -u docs/configuration.md - \
	    || { echo "docs/configuration.md is stale: run 'make docs'"; exit 1; }

test: build-asan build
	$(MAKE) check-docs
	meson test -C build-asan --print-errorlogs
	$(MAKE) fuzz
	MAILWRIGHT_BIN=$(CURDIR)/build-asan/mailwright $(PYTEST) -q tests/integration

bench: build
	./bench/run.sh

clean:
	rm -rf build build-asan build-fuzz

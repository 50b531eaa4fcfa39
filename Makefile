# Sextant's front door. `make run` and `make test` are the README's quick start; CI runs
# `.ci/run`, which calls `make test` and then the unit tests under the sanitizers.
BUILD_DIR ?= build
SANITIZE_DIR ?= build-sanitize
FUZZ_DIR ?= build-fuzz
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 30
CMAKE_FLAGS ?=

.PHONY: all bootstrap configure build run test test-unit sanitize sanitize-thread bench fuzz format clean
.PHONY: promql-report

all: build

bootstrap:
	@scripts/bootstrap

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

configure: bootstrap $(BUILD_DIR)/CMakeCache.txt

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Builds, then runs `sextant local` in the foreground (Ctrl-C stops it).
run: build
	$(BUILD_DIR)/sextant local

# Every test: unit, integration (real Prometheus, promtool) and e2e (the built binary).
test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) --timeout 300

test-unit: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) -L unit

# The unit tests again, built with AddressSanitizer and UndefinedBehaviorSanitizer.
sanitize: bootstrap
	cmake -S . -B $(SANITIZE_DIR) -DSEXTANT_SANITIZE=address,undefined -DSEXTANT_BUILD_BENCH=OFF \
	  -DCMAKE_BUILD_TYPE=Debug $(CMAKE_FLAGS)
	cmake --build $(SANITIZE_DIR) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir $(SANITIZE_DIR) --output-on-failure -j $(JOBS) -L unit

# The storage's tests (concurrent append, query and compaction) under ThreadSanitizer.
TSAN_DIR ?= build-tsan
sanitize-thread: bootstrap
	cmake -S . -B $(TSAN_DIR) -DSEXTANT_SANITIZE=thread -DSEXTANT_BUILD_BENCH=OFF \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)
	cmake --build $(TSAN_DIR) -j $(JOBS) --target tsdb_tests
	@set -e; for t in $(TSAN_DIR)/tests/aggregator_tsdb_*_test; do echo "== $$t"; \
	  TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 $$t --gtest_brief=1; done

# Runs Prometheus v2.53.5's PromQL test scripts (promql-testdata/*.test; PROMQL_TESTDATA overrides
# the directory) and prints per file how many evals pass, fail or are skipped, with each failure.
promql-report: configure
	cmake --build $(BUILD_DIR) -j $(JOBS) --target promql_script_report
	$(BUILD_DIR)/tests/promql_script_report

# Builds and runs the benchmarks (bench/*_bench.cc).
bench: build
	@set -e; for b in $(BUILD_DIR)/bench/*_bench; do echo "== $$b"; $$b --benchmark_min_time=0.2; done
	@echo "== bench/collector_vs_node_exporter.sh"; bench/collector_vs_node_exporter.sh $(BUILD_DIR)/sextant
	@echo "== bench/ingest_vs_prometheus.sh"; bench/ingest_vs_prometheus.sh $(BUILD_DIR)/sextant
	@echo "== bench/promql_vs_prometheus.sh"; bench/promql_vs_prometheus.sh $(BUILD_DIR)/sextant
	@echo "== autoscaler_sync"; $(BUILD_DIR)/bench/autoscaler_sync --policies=10000 --syncs=4
	@echo "== autoscaler_reaction"; $(BUILD_DIR)/bench/autoscaler_reaction --trials=100

# Builds the libFuzzer targets with clang and runs each for FUZZ_SECONDS from its seed corpus.
fuzz: bootstrap
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_DIR) -DSEXTANT_FUZZ=ON -DSEXTANT_BUILD_BENCH=OFF $(CMAKE_FLAGS)
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzz_targets
	FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run_fuzzers.sh $(FUZZ_DIR)/tests/fuzz

format:
	git ls-files '*.cc' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR) $(TSAN_DIR) $(FUZZ_DIR)

# The two commands a new user needs: `make run` and `make test`.
# Both install missing Debian packages first (scripts/install-deps.sh).

BUILD      ?= build
BUILD_ASAN ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_ARGS ?=

.PHONY: all deps deps-test build run test test-asan test-valgrind clean deps-fuzz fuzz fuzz-ci

all: build

deps:
	@sh scripts/install-deps.sh

deps-test:
	@sh scripts/install-deps.sh test

# Configure once: CMake's own makefiles re-run it when a CMakeLists.txt
# changes. Configuring on every `make` rewrote the build files and cost
# rebuilds; pass CMAKE_ARGS to configure again with other options.
$(BUILD)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DLEDGER_WERROR=ON -DCMAKE_RULE_MESSAGES=OFF $(CMAKE_ARGS) >/dev/null
ifneq ($(strip $(CMAKE_ARGS)),)
.PHONY: $(BUILD)/CMakeCache.txt
endif

# Quiet: warnings, errors and one line per target (CMAKE_RULE_MESSAGES=OFF
# above); V=1 shows every command.
BUILD_FLAGS = -j $(JOBS) -- --no-print-directory $(if $(V),VERBOSE=1)

build: deps $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) $(BUILD_FLAGS)

# Builds ledgerd and the two tools the README's quick start runs against it
# (ledgerctl, raw_request), not the tests.
run: deps $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) --target ledgerd ledgerctl raw_request $(BUILD_FLAGS)
	$(BUILD)/bin/ledgerd

test: deps-test build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

# The whole suite again with AddressSanitizer and UndefinedBehaviorSanitizer.
test-asan: deps-test
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DLEDGER_WERROR=ON -DLEDGER_SANITIZE=ON $(CMAKE_ARGS)
	cmake --build $(BUILD_ASAN) -j $(JOBS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	    ctest --test-dir $(BUILD_ASAN) --output-on-failure -j $(JOBS)

# The request decoder under libFuzzer (clang, ASan, UBSan): `make fuzz` runs
# it for 10 minutes, `make fuzz-ci` for one. New inputs go to
# $(BUILD_FUZZ)/corpus, crashes to $(BUILD_FUZZ)/artifacts; the seeds in
# tests/corpus/request are only read. Keep a crash by copying it there.
BUILD_FUZZ ?= build-fuzz

deps-fuzz:
	@sh scripts/install-deps.sh fuzz

fuzz: deps-fuzz
	$(call run_fuzzer,600)

fuzz-ci: deps-fuzz
	$(call run_fuzzer,60)

define run_fuzzer
	cmake -S . -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLEDGER_FUZZ=ON \
	    -DLEDGER_WERROR=OFF $(CMAKE_ARGS)
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target fuzz_request
	mkdir -p $(BUILD_FUZZ)/corpus $(BUILD_FUZZ)/artifacts
	cp -n tests/corpus/request/* $(BUILD_FUZZ)/corpus/
	$(BUILD_FUZZ)/bin/fuzz_request -max_total_time=$(1) -max_len=65536 -rss_limit_mb=256 -timeout=10 \
	    -print_final_stats=1 -artifact_prefix=$(BUILD_FUZZ)/artifacts/ \
	    $(BUILD_FUZZ)/corpus tests/corpus/request
endef

# The integration tests once more with every ledgerd under valgrind: any
# memory error or definite leak makes the worker exit 99, and the test fail.
VALGRIND = valgrind --quiet --error-exitcode=99 --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite
test-valgrind: deps-test
	@sh scripts/install-deps.sh valgrind
	cmake -S . -B build-valgrind -DCMAKE_BUILD_TYPE=Debug -DLEDGER_WERROR=ON $(CMAKE_ARGS)
	cmake --build build-valgrind -j $(JOBS)
	LEDGER_TEST_WRAPPER="$(VALGRIND)" ctest --test-dir build-valgrind --output-on-failure -j $(JOBS) \
	    -R 'test_worker_ops|test_worker_lifecycle|test_group_commit|test_client$$'

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) build-valgrind

# The Makefile is a thin driver over CMake: `make` builds build/tender, `make test` installs what
# is missing and runs every test, `make run` starts a local Tender on 127.0.0.1:4242.
JOBS ?= $(shell nproc)

.PHONY: all tender asan test unit integration run bench bench-soak fuzz format deps clean

all: tender

build/Makefile: CMakeLists.txt
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

# Only the server: the unit tests run from the ASan+UBSan build (`make unit`), so CI does not
# compile them a second time at -O2 (~30 s of a 2-core build).
tender: build/Makefile
	@cmake --build build -j $(JOBS) --target tender

build-asan/Makefile: CMakeLists.txt
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DTENDER_SANITIZE=ON >/dev/null

asan: build-asan/Makefile
	@cmake --build build-asan -j $(JOBS)

deps:
	@scripts/deps.sh

test:
	@scripts/test.sh

unit: asan
	@ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 build-asan/unit_tests --jobs $(JOBS)

integration: tender
	@scripts/integration.sh

run:
	@scripts/run.sh

bench:
	@scripts/bench.sh

bench-soak:
	@scripts/bench-soak.sh

fuzz:
	@scripts/fuzz.sh

format:
	@clang-format -i $$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'tests/*.h')

clean:
	rm -rf build build-asan build-fuzz

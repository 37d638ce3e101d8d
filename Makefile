# Front door: `make` builds, `make run` starts the service on its embedded defaults,
# `make test` builds with ASan+UBSan and runs every test, then fuzzes every parser briefly,
# `make fuzz` fuzzes every parser for FUZZ_SECONDS each (clang), `make bench` measures signing,
# verification and local hashing (Release), `make bench-verify` verification alone,
# `make bench-hash` the hashing of `inkan sign` against `openssl dgst`, `make bench-mixed`
# authorizations and signatures side by side (Release), `make soak` a 10-minute
# mixed load and 20 SIGKILLs of inkand and inkan-sam (Release). `make install` installs under
# PREFIX (DESTDIR honoured), `make deb` builds the Debian package (docs/install.md).
BUILD      ?= build
TESTBUILD  ?= build-test
DATA       ?= var
LISTEN     ?= 127.0.0.1:8443
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
PREFIX     ?= /usr/local
DEBBUILD   ?= build-deb
FUZZBUILD  ?= build-fuzz
FUZZ_SECONDS ?= 60
# Seconds per harness of the short fuzz that ends `make test`.
TEST_FUZZ_SECONDS ?= 10

.PHONY: all deps run test fuzz bench bench-verify bench-audit bench-hash bench-mixed soak install deb clean

all: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# Binaries in PREFIX/bin (inkan) and PREFIX/sbin (inkand, inkan-sam), man pages, docs, the
# systemd unit, sysusers.d and tmpfiles.d files, the configuration in SYSCONFDIR/inkan (/etc
# with PREFIX=/usr), the data directory LOCALSTATEDIR/lib/inkan. Users and units are not
# activated here (docs/install.md); the .deb does that.
install: all
	DESTDIR="$(DESTDIR)" cmake --install $(BUILD)

# The .deb, with the Debian tools (debian/), built on a copy of the tree: into $(DEBBUILD)/.
deb:
	@./scripts/deps.sh deb
	JOBS=$(JOBS) ./scripts/deb.sh $(DEBBUILD)

deps:
	@./scripts/deps.sh run

run: all
	@./scripts/run.sh $(BUILD) $(DATA) $(LISTEN)

# The optimised build of `make run` is built too, so its warnings fail the tests as well.
test: all
	@./scripts/deps.sh test
	cmake -S . -B $(TESTBUILD) -DCMAKE_BUILD_TYPE=Debug -DINKAN_SANITIZE=ON >/dev/null
	cmake --build $(TESTBUILD) -j $(JOBS)
	cd $(TESTBUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(TEST_FUZZ_SECONDS)

# The libFuzzer harnesses of tests/fuzz (clang, ASan+UBSan, own build directory), each for
# FUZZ_SECONDS on a copy of its seeds in $(FUZZBUILD)/fuzz-run; fails on any crash or leak.
fuzz: deps
	@./scripts/deps.sh test
	CC=clang cmake -S . -B $(FUZZBUILD) -DCMAKE_BUILD_TYPE=Debug -DINKAN_FUZZ=ON >/dev/null
	cmake --build $(FUZZBUILD) -j $(JOBS) --target fuzz-harnesses
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./scripts/fuzz.sh $(FUZZBUILD)

# The signing and verification benchmarks on an optimised build (not the sanitizer one);
# BENCH_ARGS e.g. --json for the signing one, VERIFY_BENCH_ARGS (default: BENCH_ARGS' --json)
# e.g. "-n 1000 -k rsa3072" for the verification one.
VERIFY_BENCH_ARGS ?= $(filter --json,$(BENCH_ARGS))
bench: deps
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build-bench -j $(JOBS) --target inkan-bench inkan-verify-bench inkan-hash-bench inkand inkan-sam inkan-cli
	build-bench/inkan-bench $(BENCH_ARGS)
	build-bench/inkan-verify-bench $(VERIFY_BENCH_ARGS)
	build-bench/inkan-hash-bench $(filter --json,$(BENCH_ARGS))

bench-verify: deps
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build-bench -j $(JOBS) --target inkan-verify-bench inkan-cli
	build-bench/inkan-verify-bench $(VERIFY_BENCH_ARGS)

# The audit log: durable appends/s (group commit vs one commit each) and verification
# records/s over a log of a million records; AUDIT_BENCH_ARGS e.g. "-n 2000000 --json".
bench-audit: deps
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build-bench -j $(JOBS) --target inkan-audit-bench
	build-bench/inkan-audit-bench $(AUDIT_BENCH_ARGS)

# The local hashing of `inkan sign` on a 1 GiB file against `openssl dgst -sha256` (same run).
bench-hash: deps
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build-bench -j $(JOBS) --target inkan-hash-bench
	build-bench/inkan-hash-bench $(filter --json,$(BENCH_ARGS))

# Authorizations (Argon2id PIN checks) and signatures side by side, each phase against the
# machine's limit measured in the same run (Release); MIXED_BENCH_ARGS e.g. --json.
bench-mixed: deps
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build-bench -j $(JOBS) --target inkan-mixed-bench inkand inkan-sam inkan-cli
	build-bench/inkan-mixed-bench $(MIXED_BENCH_ARGS)

# Soak and crash loop on the optimised build (docs/performance.md): 64 connections from their own
# loopback addresses for 10 minutes, then 20 SIGKILLs under signing load; fails on any error of
# a well-formed request, RSS growth over 10 % after warm-up, or a signature without its audit
# record. SOAK_ARGS e.g. "--json" or "-d 120 --crash 5".
soak: deps
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build build-bench -j $(JOBS) --target inkan-soak inkand inkan-sam inkan-cli
	build-bench/inkan-soak --crash 20 $(SOAK_ARGS)

clean:
	rm -rf $(BUILD) $(TESTBUILD) $(FUZZBUILD) $(DEBBUILD)

# Thin wrapper around Meson: installs what the build and the tests need (Debian 12, as root),
# builds, and runs the demo or the whole test suite.

BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
PYTHON     ?= /usr/bin/python3

# Debian packages: build dependencies, then what the tests and the bench use
# (tshark and scapy for independent counts, pmacct 1.7.7 as the reference).
BUILD_PKGS = meson ninja-build pkg-config gcc libpcap-dev libxxhash-dev libjansson-dev libsqlite3-dev libpq-dev libmariadb-dev librdkafka-dev librabbitmq-dev libmicrohttpd-dev libnetfilter-log-dev libmaxminddb-dev libndpi-dev
TEST_PKGS  = python3 python3-pytest python3-scapy tshark tcpdump pmacct softflowd nfdump iproute2 clang procps valgrind sqlite3 postgresql mariadb-server rabbitmq-server python3-pika chromium python3-prometheus-client man-db groff-base systemd dpkg-dev debhelper fakeroot lintian bird2 frr gobgpd exabgp nftables libmaxmind-db-writer-perl libndpi-bin

.PHONY: all deps test-deps build demo test unit asan tsan e2e e2e-asan bench bench-memory bench-bgp bench-live bench-compare clean install deb

all: build

deps:
	@./scripts/ensure-packages $(BUILD_PKGS)

test-deps: deps
	@./scripts/ensure-packages $(TEST_PKGS)

# Under CI every warning is an error (the build already asks for warning_level=3 and more).
MESON_WERROR = $(if $(CI),-Dwerror=true)

$(BUILD)/build.ninja:
	meson setup $(BUILD) $(MESON_WERROR)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

# The main job on the embedded default: pmacctd on the bundled capture, accounting table to stdout.
demo: build
	$(BUILD)/pmacctd -f examples/demo.conf

unit: build
	meson test -C $(BUILD) --print-errorlogs

# The unit tests and the fuzz corpus again under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: deps
	@[ -f $(ASAN_BUILD)/build.ninja ] || meson setup $(ASAN_BUILD) $(MESON_WERROR) -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
	ninja -C $(ASAN_BUILD)
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 meson test -C $(ASAN_BUILD) --print-errorlogs

# The threaded parts under ThreadSanitizer: the ring, table and gauge tests, pmacctd with three plugins
# on the demo capture, and nfacctd's two receive threads feeding tee at once (a data race fails
# the run).
tsan: test-deps
	@[ -f $(TSAN_BUILD)/build.ninja ] || meson setup $(TSAN_BUILD) $(MESON_WERROR) -Db_sanitize=thread -Dbuildtype=debug
	ninja -C $(TSAN_BUILD)
	meson test -C $(TSAN_BUILD) --print-errorlogs ring agg health gauge bgp_rib bgp_session bgp_daemon
	TSAN_OPTIONS=halt_on_error=1:exitcode=66 $(TSAN_BUILD)/pmacctd -f tests/e2e/configs/tsan.conf >/dev/null
	TSAN_OPTIONS=halt_on_error=1:exitcode=66 NFACCTD=$(abspath $(TSAN_BUILD))/nfacctd \
	$(PYTHON) -m pytest -q tests/e2e/test_tee_workers.py

# `make install [PREFIX=/usr/local] [DESTDIR=/tmp/root]`: binaries, manual pages, SQL scripts,
# examples and systemd units (docs/install.md).
PREFIX ?= /usr/local
install: build
	meson configure $(BUILD) -Dprefix=$(PREFIX)
	DESTDIR=$(DESTDIR) meson install -C $(BUILD) --no-rebuild --quiet

# Debian packages from debian/ (into ..), as docs/install.md describes.
deb: deps
	./scripts/ensure-packages dpkg-dev debhelper fakeroot
	dpkg-buildpackage -us -uc -b

# Two pytest processes at once (E2E_SHARDS), each module whole in one: most of an e2e test
# is waiting on a daemon, so two shards take about half the time (tests/e2e/run_shards.py).
e2e: build
	$(PYTHON) tests/e2e/run_shards.py

# The end-to-end tests of the parsers facing the network and capture files again, with the
# daemons built under AddressSanitizer + UndefinedBehaviorSanitizer (leaks fail a daemon's exit
# status, so the tests' exit checks catch them); the reference comparisons are not repeated
# (CI is emptied: under CI a missing reference would stop the run instead of skipping).
E2E_ASAN_TESTS = tests/e2e/test_nfacctd.py tests/e2e/test_sfacctd.py \
	tests/e2e/test_nfacctd_features.py tests/e2e/test_pmacctd_files.py \
	tests/e2e/test_collector_workers.py tests/e2e/test_router_exports.py \
	tests/e2e/test_nf_primitives_179.py tests/e2e/test_bad_inputs.py \
	tests/e2e/test_check_config.py tests/e2e/test_print_failures.py \
	tests/e2e/test_bgp_session.py tests/e2e/test_bgp_replay.py tests/e2e/test_bgp_enrich.py
e2e-asan: asan build
	CI= ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	PMACCTD=$(abspath $(ASAN_BUILD))/pmacctd NFACCTD=$(abspath $(ASAN_BUILD))/nfacctd \
	SFACCTD=$(abspath $(ASAN_BUILD))/sfacctd PMACCT=$(abspath $(ASAN_BUILD))/pmacct \
	PMBGPD=$(abspath $(ASAN_BUILD))/pmbgpd \
	PCAPGEN=$(abspath $(BUILD))/pcapgen REF_PMACCTD=/nonexistent REF_NFACCTD=/nonexistent \
	REF_SFACCTD=/nonexistent $(PYTHON) tests/e2e/run_shards.py $(E2E_ASAN_TESTS)

test: test-deps build unit asan tsan e2e e2e-asan

bench: test-deps build
	bench/run.sh

# every side-by-side comparison of bench/README.md in one run, one log (root; about 30 minutes)
bench-compare: test-deps build
	bench/compare.sh $(BUILD)

# live capture at rising rates into a veth in a namespace, ours beside pmacctd 1.7.7 (root; bench/README.md)
bench-live: test-deps build
	bench/live.sh $(BUILD)

# resident memory per table entry, ours beside pmacct 1.7.7 (bench/README.md, "Memory per entry")
bench-memory: test-deps build
	bench/memory.sh $(BUILD)

# BGP full tables from build/bgpgen: convergence, RSS per route, lookups per CPU-s (bench/bgp.py)
bench-bgp: test-deps build
	bench/bgp.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)

# markbook: `make` builds ./markbook, `make test` runs every test, `make run`
# serves the sample course.

CC      ?= gcc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c17 -Wall -Wextra -Werror -D_GNU_SOURCE -Iappliance -Ibuild
LDLIBS  = -lcivetweb -lsqlite3 -lcrypt -lcjson -lpthread -lm
PYTHON  = /usr/bin/python3

BUILD   = build
BIN     = markbook
SRCS    = appliance/course.c appliance/sandbox.c appliance/report.c \
          appliance/grader.c appliance/fsutil.c appliance/sha256.c appliance/msg.c \
          appliance/points.c appliance/store.c appliance/auth.c appliance/csv.c \
          appliance/queue.c appliance/web.c appliance/api.c \
          appliance/roster.c appliance/request.c appliance/api_admin.c \
          appliance/json.c appliance/term.c appliance/wire.c appliance/worker.c
OBJS    = $(SRCS:appliance/%.c=$(BUILD)/%.o) $(BUILD)/embedded.o \
          $(BUILD)/static.o $(BUILD)/schema.o
HARNESS = $(shell find appliance/harness -name '*.py' | sort)
STATIC  = $(shell find static -type f | sort)
UNIT    = $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(wildcard tests/unit/test_*.c))
# Fuzz targets (tests/fuzz/fuzz_NAME.c); each also replays tests/fuzz/NAME/ as a unit test.
FUZZ    = $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
REPLAY  = $(FUZZ:%=$(BUILD)/unit/test_fuzz_%)

all: $(BIN)

$(BIN): $(BUILD)/main.o $(OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: appliance/%.c appliance/*.h | $(BUILD)
	$(CC) $(CFLAGS) -c -o $@ $<

# The Python harness is embedded so the binary is the only file to copy.
$(BUILD)/embedded.c: tools/embed.py $(HARNESS) | $(BUILD)
	$(PYTHON) tools/embed.py --pyc appliance/harness $@

# So are the web UI and the database schema.
$(BUILD)/static.c: tools/embed.py $(STATIC) | $(BUILD)
	$(PYTHON) tools/embed.py static $@ embedded_static

$(BUILD)/schema.c: tools/embed.py schema.sql | $(BUILD)
	$(PYTHON) tools/embed.py schema.sql $@ embedded_schema

$(BUILD)/embedded.o $(BUILD)/static.o $(BUILD)/schema.o: $(BUILD)/%.o: $(BUILD)/%.c appliance/embedded.h
	$(CC) $(CFLAGS) -c -o $@ $<

# For the tests only, never to serve a class: markbook with the grading
# child's fault injection compiled in (worker.c, MARKBOOK_FAULTS), which the
# crash tests use to make a grading process crash on purpose.
FAULTS  = $(BUILD)/markbook-faults
$(FAULTS): $(BUILD)/main.o $(filter-out $(BUILD)/worker.o,$(OBJS)) $(BUILD)/worker-faults.o
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/worker-faults.o: appliance/worker.c appliance/*.h | $(BUILD)
	$(CC) $(CFLAGS) -DMARKBOOK_FAULTS -c -o $@ $<

$(BUILD)/unit/%: tests/unit/%.c tests/unit/unit.h $(OBJS) | $(BUILD)
	@mkdir -p $(BUILD)/unit
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(OBJS) $(LDLIBS)

$(BUILD):
	mkdir -p $(BUILD)

# Installs only what is missing; a no-op on a machine that has everything.
deps:
	@tools/install-deps.sh --check >/dev/null 2>&1 || tools/install-deps.sh

unit: $(UNIT)
	@fail=0; for t in $(UNIT); do $$t || fail=1; done; exit $$fail

test: deps markbook $(FAULTS) $(UNIT) $(REPLAY)
	tools/run-tests

# Serves the sample course in this folder; the database is markbook.db here.
run: deps markbook
	./markbook serve --course . --db markbook.db

# The same build and the whole suite again with AddressSanitizer and UBSan
# (./markbook-asan, objects in build-asan/). Every report goes to a file in
# build-asan/reports/; any such file fails the run, so a finding in a server
# the tests merely stop is not lost.
ASAN_CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fno-sanitize-recover=all
test-asan: deps
	CFLAGS="$(ASAN_CFLAGS)" $(MAKE) --no-print-directory CC=clang BUILD=build-asan \
	    BIN=markbook-asan markbook-asan asan-unit
	tools/run-asan

asan-unit: $(UNIT) $(REPLAY) $(FAULTS)

$(BUILD)/unit/test_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c $(OBJS) | $(BUILD)
	@mkdir -p $(BUILD)/unit
	$(CC) $(CFLAGS) -DFUZZ_NAME='"$*"' -o $@ $< tests/fuzz/replay.c $(OBJS) $(LDLIBS)

# libFuzzer on each target for FUZZ_SECONDS (make fuzz FUZZ_SECONDS=600); a
# crash is copied into tests/fuzz/NAME/, where make test replays it from then on.
# Only some targets: make fuzz FUZZ="json roster".
FUZZ_SECONDS ?= 60
FUZZ_CFLAGS = -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
              -fno-sanitize-recover=all
fuzz: deps
	CFLAGS="$(FUZZ_CFLAGS)" $(MAKE) --no-print-directory CC=clang BUILD=build-fuzz \
	    fuzz-bins
	tools/run-fuzz $(FUZZ_SECONDS) $(FUZZ)

fuzz-bins: $(FUZZ:%=$(BUILD)/fuzz/fuzz_%)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(OBJS) | $(BUILD)
	@mkdir -p $(BUILD)/fuzz
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< $(OBJS) $(LDLIBS)

# Only the valgrind check of make test (markbook serve under memcheck, a mix of
# real HTTP requests for VALGRIND_ROUNDS rounds and three times as many), with
# its figures: make valgrind VALGRIND_ROUNDS=5 for a longer run.
valgrind: deps markbook
	$(PYTHON) -m pytest -p no:cacheprovider -q -s tests/e2e/test_server_valgrind.py

# The classroom burst's students (tools/bench-server), in C, so that the
# generator's own waits (Python threads queue for the GIL) are not timed
# as the server's.
$(BUILD)/bench-load: tools/bench-load.c $(BUILD)/fsutil.o | $(BUILD)
	$(CC) $(CFLAGS) -o $@ $^ -lcjson -lpthread

bench-grade: deps markbook
	tools/bench-grade

bench-calls: deps markbook
	tools/bench-calls

bench-server: deps markbook $(BUILD)/bench-load
	tools/bench-server

# Every benchmark; the figures are kept in bench/results.md.
bench: deps markbook $(BUILD)/bench-load
	@mkdir -p bench
	tools/bench-run > bench/results.md.new && mv bench/results.md.new bench/results.md
	@cat bench/results.md

clean:
	rm -rf $(BUILD) markbook build-asan markbook-asan build-fuzz

.PHONY: all deps unit test test-asan asan-unit fuzz fuzz-bins valgrind run bench bench-grade bench-calls \
	bench-server clean

# postern — one non-recursive Makefile.  `make`, `make asan`, `make check`,
# `make run`, `make fuzz`, `make bench`, `make install`, `make deps`.

CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
DESTDIR ?=
PKGS     = openssl libbsd libcdb

WARN     = -Wall -Wextra -Werror -Wformat=2 -Wshadow -Wpointer-arith \
           -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
HARDEN   = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
CFLAGS  ?= -O2 -g
ALL_CFLAGS = -std=gnu11 $(WARN) $(HARDEN) $(CFLAGS) -Icommon \
           -DPOSTERN_CONF_DEFAULT='"$(PREFIX)/etc/postern/postern.conf"' \
           $(shell pkg-config --cflags $(PKGS) 2>/dev/null) -MMD -MP
LDFLAGS_ALL = -pie -Wl,-z,relro,-z,now -Wl,--as-needed $(LDFLAGS)
LIBS     = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lssl -lcrypto -lbsd -lcdb) -lcrypt -lresolv

# Every program is <folder>/<name>.c plus <folder>/<name>_*.c (and the
# folder's SHARED_ sources); one binary per role.
PROGRAMS = master/master master/postern auth/auth smtpd/smtpd queue/queue deliver/local deliver/remote \
           pop3d/pop3-login pop3d/pop3 imapd/imap-login imapd/imap queue/sendmail queue/mailq bench/smtp-load bench/smtp-sink
PRESENT  = $(foreach p,$(PROGRAMS),$(if $(wildcard $(p).c),$(p)))
BINS     = $(foreach p,$(PRESENT),$(BUILD)/$(notdir $(p)))

LIB_SRCS = $(sort $(wildcard common/*.c))
LIB_OBJS = $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
LIB      = $(BUILD)/libpostern.a

UNIT_SRCS = $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS = $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

# Test-only programs (tests/tools/*.c), driven by the integration tests.
TOOL_SRCS = $(sort $(wildcard tests/tools/*.c))
TOOL_BINS = $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)

FUZZ_SRCS = $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BUILD = build-fuzz
FUZZ_BINS = $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_BUILD)/%)
FUZZ_SECONDS ?= 30

.SECONDARY:
.PHONY: all asan unit check integration fuzz fuzz-run run bench install deps \
        clean have-deps
all: $(BINS) $(UNIT_BINS) $(TOOL_BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# Sources shared by the programs of one folder (the delivery agents' core),
# and those one program borrows from another of its folder.
SHARED_deliver = $(wildcard deliver/agent*.c)
EXTRA_pop3-login = pop3d/pop3_cmd.c
# The IMAP command parser: the imap program gets it through its own
# imapd/imap_*.c; imap-login borrows it.
EXTRA_imap-login = imapd/imap_parse.c imapd/imap_token.c imapd/imap_fetch.c \
           imapd/imap_search.c

define program
$(BUILD)/$(notdir $(1)): $(patsubst %.c,$(BUILD)/obj/%.o,$(1).c $(wildcard $(1)_*.c) \
    $(SHARED_$(patsubst %/,%,$(dir $(1)))) $(EXTRA_$(notdir $(1)))) $(LIB)
	$$(CC) $$(ALL_CFLAGS) $$(LDFLAGS_ALL) -o $$@ $$^ $$(LIBS)
endef
$(foreach p,$(PRESENT),$(eval $(call program,$(p))))

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS_ALL) -o $@ $^ $(LIBS)

asan:
	$(MAKE) BUILD=build-asan \
	    CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	    LDFLAGS="-fsanitize=address,undefined" all

unit: $(UNIT_BINS) $(TOOL_BINS)
	@fail=0; for t in $(UNIT_BINS); do echo "== $$t"; $$t || fail=1; done; \
	 if [ $$fail -ne 0 ]; then echo "unit tests failed"; exit 1; fi

# Fuzz targets link the library compiled once with clang's sanitizers and
# libFuzzer's coverage instrumentation (fuzzer-no-link: no main) into its
# own archive.  Some targets #include the service module they test, so every
# service source is a prerequisite (only the target itself is compiled).
FUZZ_CFLAGS = -g -O1 -fsanitize=address,undefined -Icommon -MMD -MP
FUZZ_LIB_OBJS = $(LIB_SRCS:%.c=$(FUZZ_BUILD)/obj/%.o)
FUZZ_LIB = $(FUZZ_BUILD)/libpostern-fuzz.a
SVC_SRCS = $(wildcard queue/*.c deliver/*.c smtpd/*.c auth/*.c master/*.c pop3d/*.c imapd/*.c imapd/*.h)
$(FUZZ_BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/%: tests/fuzz/%.c $(FUZZ_LIB) $(SVC_SRCS)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(LIBS)

fuzz: $(FUZZ_BINS)

fuzz-run: fuzz
	@for f in $(FUZZ_BINS); do n=$$(basename $$f); echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$n; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=1024 $(FUZZ_BUILD)/corpus/$$n \
	      tests/fuzz/corpus/$$n 2>$(FUZZ_BUILD)/$$n.log >/dev/null \
	  || { tail -40 $(FUZZ_BUILD)/$$n.log; exit 1; }; done

have-deps:
	@sh tests/deps.sh --check >/dev/null 2>&1 || sh tests/deps.sh

deps:
	sh tests/deps.sh

integration: all
	POSTERN_BUILD=$(CURDIR)/$(BUILD) /usr/bin/python3 -m pytest -q tests/integration

check: have-deps
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) fuzz-run FUZZ_SECONDS=5
	$(MAKE) integration

run: have-deps
	$(MAKE) all
	sh tests/devinstance.sh

bench: have-deps
	$(MAKE) all
	sh bench/run.sh

install: all
	sh install.sh --prefix $(PREFIX) $(if $(DESTDIR),--destdir $(DESTDIR)) --build $(BUILD)

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
-include $(shell find $(FUZZ_BUILD) -maxdepth 3 -name '*.d' 2>/dev/null)

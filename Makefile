# weir - plain make, no configure step.  Every tools/NAME.c becomes
# $(BIN)/weir-NAME linked against every lib/ module; `make SAN=1` builds the
# same with ASan+UBSan into build-san/ so both builds can live side by side.
.SUFFIXES:
# keep build/tools/*.o: make would delete them as intermediates, which costs
# a recompile every time and ends `make demo` with an rm line
.SECONDARY:

PREFIX ?= /usr/local
ifeq ($(origin CC),default)
CC = cc
endif
PKGS = rdkafka libarchive libzstd snappy zlib liblz4 libbrotlienc libbrotlidec

ifdef SAN
BUILD = build-san
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT = -O1 -g
else
BUILD = build
SANFLAGS =
OPT = -O2 -g
endif
BIN = $(BUILD)/bin

CFLAGS_ALL = -std=gnu11 $(OPT) -Wall -Wextra -Werror -Wno-unused-parameter -D_GNU_SOURCE \
	-Ilib $(SANFLAGS) $(shell pkg-config --cflags $(PKGS) 2>/dev/null) $(CFLAGS)
LDLIBS_ALL = $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm -lpthread $(LDLIBS)

LIB_SRC = $(sort $(wildcard lib/*.c))
LIB_OBJ = $(LIB_SRC:lib/%.c=$(BUILD)/lib/%.o)
TOOL_SRC = $(sort $(wildcard tools/*.c))
TOOLS = $(TOOL_SRC:tools/%.c=$(BIN)/weir-%)

all: deps-ok $(TOOLS) $(BIN)/weir

deps-ok:
	@sh scripts/deps.sh

$(BUILD)/lib/%.o: lib/%.c $(wildcard lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/libweir.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(BUILD)/tools/%.o: tools/%.c $(wildcard lib/*.h)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BIN)/weir-%: $(BUILD)/tools/%.o $(BUILD)/libweir.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS) -o $@ $< $(BUILD)/libweir.a $(LDLIBS_ALL)

$(BIN)/weir: scripts/weir.sh
	@mkdir -p $(@D)
	cp scripts/weir.sh $@
	chmod +x $@

# The suite runs against the sanitizer build: it is the one that finds bugs.
check: deps-ok
	$(MAKE) SAN=1 all
	$(MAKE) all
	WEIR_BIN=$(CURDIR)/build-san/bin WEIR_FAST_BIN=$(CURDIR)/build/bin bats --print-output-on-failure tests tests/crash

check-fast: all
	WEIR_BIN=$(CURDIR)/build/bin WEIR_FAST_BIN=$(CURDIR)/build/bin bats tests tests/crash

demo: all
	sh scripts/demo.sh

bench: all
	sh bench/run.sh

fuzz: deps-ok
	sh scripts/fuzz.sh

soak: all
	WEIR_BIN=$(CURDIR)/build/bin WEIR_SOAK=1 bats tests/crash

install: all
	mkdir -p $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions
	cp $(TOOLS) $(BIN)/weir $(DESTDIR)$(PREFIX)/bin/
	cp man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	cp man/*.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	cp man/*.7 $(DESTDIR)$(PREFIX)/share/man/man7/
	cp scripts/weir.bash-completion $(DESTDIR)$(PREFIX)/share/bash-completion/completions/weir
	# bash-completion loads a command's file on first use, by the command's name
	for t in $(notdir $(TOOLS)); do ln -sf weir $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$t; done

clean:
	rm -rf build build-san

.PHONY: all deps-ok check check-fast demo bench fuzz soak install clean

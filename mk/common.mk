# SPDX-License-Identifier: GPL-2.0
#
# common.mk - the one build preamble, included by every Makefile of the
# project (top level, lib/, tools/, tests/*/), so that `make -C tests/dev`
# builds exactly as `make tests` does: same compiler, same warnings (all
# errors), same output tree, same quiet/verbose switch.
#
#   TOP      the repository's root        BUILD    $(TOP)/build
#   Q        @ unless V=1                 CC       cc unless set
#   CFLAGS   -O2 -g unless set, then the warnings and include paths
#   VERSION  the one version (tools/version.sh: git describe, else VERSION)
#   KSFT_H   kselftest_harness.h, extracted from Debian's linux-source-6.1
#            by the rule below; only test Makefiles depend on it.

ifndef EVPOLL_COMMON_MK
EVPOLL_COMMON_MK := 1

# Every Makefile's default goal is `all`, whatever rules come first.
.DEFAULT_GOAL := all

TOP	:= $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
BUILD	?= $(TOP)/build

ifeq ($(V),1)
Q	:=
else
Q	:= @
MAKEFLAGS += --no-print-directory
endif

CFLAGS	?= -O2 -g

WARN	:= -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	   -Wmissing-prototypes -Wno-unused-parameter
CPPFLAGS_EVPOLL := -D_GNU_SOURCE -I$(TOP)/include -I$(TOP)/include/uapi
EVPOLL_CFLAGS := $(CFLAGS) $(WARN) $(CPPFLAGS_EVPOLL)

VERSION	:= $(shell $(TOP)/tools/version.sh)

# kselftest_harness.h and kselftest.h from Debian's linux-source-6.1,
# extracted at build time (never committed).  Tests only: the library and
# the tools build without it.
KSFT_TARBALL ?= $(lastword $(sort $(wildcard /usr/src/linux-source-6.1*.tar.xz)))
KSFT_DIR := $(BUILD)/ksft
KSFT_H	:= $(KSFT_DIR)/kselftest_harness.h

$(KSFT_H):
	$(Q)test -n "$(KSFT_TARBALL)" || \
		{ echo "linux-source-6.1 missing: run make deps" >&2; exit 1; }
	$(Q)mkdir -p $(KSFT_DIR)
	@$(if $(Q),echo "  KSFT    $(notdir $(KSFT_TARBALL))")
	$(Q)tar -xJf $(KSFT_TARBALL) -C $(KSFT_DIR) --strip-components=4 \
		--wildcards '*/tools/testing/selftests/kselftest_harness.h' \
		'*/tools/testing/selftests/kselftest.h'
	$(Q)touch $@

endif # EVPOLL_COMMON_MK

# SPDX-License-Identifier: GPL-2.0
#
# lib.mk - what every test directory's Makefile includes after listing its
# programs (kselftest's lib.mk, smaller):
#
#   PROGS        built from NAME.c; run on the build machine and in the VM
#   HOST_PROGS   built from NAME.c; run on the build machine only
#   GUEST_PROGS  built from NAME.c; run in the VM only (they need the module)
#   HOST_SCRIPTS, GUEST_SCRIPTS  NAME.sh installed as NAME, host or VM only
#   PREFIX       prepended to the installed names (dev_ for tests/dev)
#   DEPS         extra prerequisites of every program (local headers)
#   LDLIBS       libraries; $(LIBEVPOLL_LDLIBS) links libevpoll statically
#   EXTRA        more targets of `all` (the directory's own rules)
#
# Programs land in $(BUILD)/tests/host/ and $(BUILD)/tests/guest/, which
# tools/check.sh runs (tests/run-tests.sh: every executable directly in
# the directory).  Every program is a kselftest_harness program or prints
# its own "# Totals:" line; all are built with the project's warnings
# (mk/common.mk), which are errors.

include $(dir $(lastword $(MAKEFILE_LIST)))../mk/common.mk

HOST_OUT  := $(BUILD)/tests/host
GUEST_OUT ?= $(BUILD)/tests/guest
OBJDIR	  := $(BUILD)/tests/obj/$(notdir $(CURDIR))

LIBEVPOLL	 := $(BUILD)/lib/libevpoll.a
LIBEVPOLL_LDLIBS := $(LIBEVPOLL) -luring -lrt -lpthread

# kselftest_harness.h defines global functions without prototypes, and its
# EXPECT_EQ(1, x) compares an int with unsigned fields.
TEST_CFLAGS := $(EVPOLL_CFLAGS) -Wno-missing-prototypes -Wno-sign-compare \
	       -I$(KSFT_DIR) -I.

HOST_BINS  := $(addprefix $(HOST_OUT)/$(PREFIX),$(PROGS) $(HOST_PROGS) \
		$(HOST_SCRIPTS))
GUEST_BINS := $(addprefix $(GUEST_OUT)/$(PREFIX),$(PROGS) $(GUEST_PROGS) \
		$(GUEST_SCRIPTS))

.PHONY: all clean
.SECONDARY:
all: $(HOST_BINS) $(GUEST_BINS) $(EXTRA)

$(OBJDIR)/%: %.c $(DEPS) $(KSFT_H) $(filter $(LIBEVPOLL),$(LDLIBS)) | $(OBJDIR)
	@$(if $(Q),echo "  CC      tests/$(notdir $(CURDIR))/$*")
	$(Q)$(CC) $(TEST_CFLAGS) -o $@ $< $(LDLIBS)

$(OBJDIR)/%: %.sh | $(OBJDIR)
	$(Q)install -m 0755 $< $@

$(OBJDIR):
	$(Q)mkdir -p $@

# Two rules: one pattern rule with two targets would be "one recipe makes
# both" and leave the guest copy out.  Copy, then rename: never rewrite a
# binary that a running test may be executing.
$(HOST_OUT)/$(PREFIX)%: $(OBJDIR)/%
	$(Q)mkdir -p $(dir $@)
	$(Q)cp -f $< $@.tmp && mv -f $@.tmp $@

$(GUEST_OUT)/$(PREFIX)%: $(OBJDIR)/%
	$(Q)mkdir -p $(dir $@)
	$(Q)cp -f $< $@.tmp && mv -f $@.tmp $@

clean:
	$(Q)rm -rf $(OBJDIR) $(HOST_BINS) $(GUEST_BINS)

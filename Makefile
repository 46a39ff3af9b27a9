# SPDX-License-Identifier: GPL-2.0
#
# evpoll top-level Makefile.  `make` builds the module, the library, the tests
# and the tools; `make check` runs every test (host, then the VM); `make run`
# boots the VM and runs the demonstration.  Quiet unless V=1.
#
# The module is built out of tree in build/mod/<kernel-release>/ (a copy of
# Kbuild, kmod/ and include/), so one checkout can hold builds for several
# kernels (stock 6.1 for the VM, 6.12 as a compile check, the debug kit).

ifeq ($(KBUILD_EXTMOD),)

include $(CURDIR)/mk/common.mk
export BUILD V

# KDIR: the running kernel's build dir if there is one, else the newest
# installed Debian linux-headers-*-amd64.
newest_headers = $(lastword $(sort $(wildcard /usr/src/linux-headers-*-amd64)))
KDIR ?= $(or $(wildcard /lib/modules/$(shell uname -r)/build),$(newest_headers))

# The VM boots the newest installed Debian kernel image that has headers.
VM_KVER ?= $(shell $(TOP)/tools/vm/kernels.sh vm-kver 2>/dev/null)
VM_KDIR ?= /usr/src/linux-headers-$(VM_KVER)
# Extra header trees the module must also compile against (6.12).
COMPAT_KDIRS ?= $(shell $(TOP)/tools/vm/kernels.sh compat-kdirs 2>/dev/null)

.PHONY: all deps ksft module module-% modules-compat lib tests tools \
	check run style clean install debug-kernel \
	install-lib install-tools install-system install-python dkms-install \
	uninstall deb docs

all: module lib tests tools

deps:
	$(Q)$(TOP)/tools/vm/deps.sh

ksft: $(KSFT_H)

# module: build against $(KDIR) with W=1; a warning fails the build here
# (the project's recipe), not in kmod/Kbuild, so that a DKMS user with a
# newer compiler is not stopped by a new warning.
module:
	$(Q)$(MAKE) module-build MKDIR=$(KDIR)

module-build:
	$(Q)test -d "$(MKDIR)" || { echo "no kernel build dir '$(MKDIR)': run make deps" >&2; exit 1; }
	$(Q)rel=$$(sed -n 's/^#define UTS_RELEASE "\(.*\)"/\1/p' \
		$(MKDIR)/include/generated/utsrelease.h); \
	out=$(BUILD)/mod/$$rel; mkdir -p $$out; \
	cp -a $(TOP)/Kbuild $(TOP)/kmod $(TOP)/include $$out/; \
	echo $(VERSION) >$$out/VERSION; \
	echo "  MODULE  $$rel"; \
	$(MAKE) -C $(MKDIR) M=$$out W=1 KCFLAGS=-Werror \
		EVPOLL_VERSION=$(VERSION) $(if $(V),V=$(V)) modules \
		$(if $(filter 1,$(V)),,>$$out/build.log 2>&1) || \
		{ cat $$out/build.log 2>/dev/null; exit 1; }; \
	if grep -q 'warning:' $$out/build.log 2>/dev/null; then \
		cat $$out/build.log; echo "module build for $$rel warned" >&2; exit 1; fi

modules-compat:
	$(Q)for d in $(COMPAT_KDIRS); do $(MAKE) module-build MKDIR=$$d || exit 1; done

lib:
	$(Q)$(MAKE) -C lib

tests: lib
	$(Q)$(MAKE) -C tests

tools: lib
	$(Q)$(MAKE) -C tools

check: deps
	$(Q)$(TOP)/tools/check.sh

run: deps
	$(Q)$(TOP)/tools/run.sh

# Build the debug kernel kit from linux-source-6.1 (25-50 minutes); `make
# check` uses a prebuilt or cached kit when there is one (debug-kernel.sh).
debug-kernel: deps
	$(Q)$(TOP)/tools/vm/debug-kernel.sh build

style: ksft
	$(Q)$(MAKE) -C tests/style
	$(Q)$(BUILD)/tests/host/style_checkpatch

# docs: Documentation/io-models.rst as HTML in build/docs/, its sequence
# diagrams drawn from Documentation/io-models/*.msc (mscgen, rst2html:
# make deps).  Warnings are errors.
docs: deps
	$(Q)mkdir -p $(BUILD)/docs/io-models
	$(Q)for f in $(TOP)/Documentation/io-models/*.msc; do \
		echo "  MSCGEN  $${f#$(TOP)/}"; \
		mscgen -T png -o $(BUILD)/docs/io-models/$$(basename $$f .msc).png \
			$$f >/dev/null || exit 1; done
	@echo "  RST2HTML Documentation/io-models.rst"
	$(Q)/usr/bin/rst2html --halt=warning $(TOP)/Documentation/io-models.rst \
		$(BUILD)/docs/io-models.html
	@echo "  docs in $(BUILD)/docs/io-models.html"

# ---- install, uninstall, dkms-install, deb ---------------------------
# `make install` (PREFIX or prefix, DESTDIR): the library, headers,
# pkg-config file and man pages (lib/Makefile), the tools as evpoll-*,
# the udev rule and modules-load.d entry, the Python package, and the
# module's source for DKMS; with no DESTDIR and dkms installed, DKMS then
# builds and installs the module for the running kernel (and again, by
# itself, for each kernel installed later: AUTOINSTALL).
PREFIX		?= /usr/local
prefix		?= $(PREFIX)
bindir		?= $(prefix)/bin
libdir		?= $(prefix)/lib
includedir	?= $(prefix)/include
mandir		?= $(prefix)/share/man
sysconfdir	?= $(if $(filter /usr,$(prefix)),,/etc)
udevrulesdir	?= $(if $(sysconfdir),$(sysconfdir)/udev/rules.d,/lib/udev/rules.d)
modulesloaddir	?= $(if $(sysconfdir),$(sysconfdir)/modules-load.d,/usr/lib/modules-load.d)
# Debian's python3 reads /usr/lib/python3/dist-packages and
# /usr/local/lib/python3.X/dist-packages.
pythondir	?= $(if $(filter /usr,$(prefix)),$(prefix)/lib/python3/dist-packages,$(prefix)/lib/$(shell \
	/usr/bin/python3 -c 'import sys; print("python%d.%d" % sys.version_info[:2])' 2>/dev/null || echo python3)/dist-packages)
dkmssrcdir	:= /usr/src/evpoll-$(VERSION)
DKMS		?= $(shell command -v dkms 2>/dev/null)
DESTDIR		?=

INST_TOOLS	:= evpoll-bench evpoll-demo evpoll-chat evpoll-chat-load \
		   evpoll-chat-client

install: install-lib install-tools install-system install-python dkms-install
	$(Q)if [ -z "$(DESTDIR)" ]; then ldconfig 2>/dev/null || true; fi
	$(Q)if [ -z "$(DESTDIR)" ] && [ -n "$(DKMS)" ]; then \
		$(DKMS) add -m evpoll -v $(VERSION) >/dev/null 2>&1 || true; \
		if [ -d /lib/modules/$$(uname -r)/build ]; then \
			$(DKMS) install -m evpoll -v $(VERSION) || exit 1; \
		else echo "install: no headers for $$(uname -r): DKMS builds" \
			"evpoll.ko when a kernel with headers is installed"; fi; \
	elif [ -z "$(DESTDIR)" ]; then \
		echo "install: no dkms: build and load the module by hand" \
			"(README), or install dkms and run make install again"; fi

install-lib: lib
	$(Q)$(MAKE) -C lib install prefix=$(prefix) libdir=$(libdir) \
		includedir=$(includedir) mandir=$(mandir) DESTDIR=$(DESTDIR)

install-tools: lib
	$(Q)$(MAKE) -C tools $(addprefix $(BUILD)/tools/,$(INST_TOOLS))
	$(Q)install -d $(DESTDIR)$(bindir)
	$(Q)for t in $(INST_TOOLS); do \
		install -m 755 $(BUILD)/tools/$$t $(DESTDIR)$(bindir)/$$t; done

install-system:
	$(Q)install -D -m 644 $(TOP)/tools/pkg/60-evpoll.rules \
		$(DESTDIR)$(udevrulesdir)/60-evpoll.rules
	$(Q)install -D -m 644 $(TOP)/tools/pkg/modules-load.conf \
		$(DESTDIR)$(modulesloaddir)/evpoll.conf

install-python:
	$(Q)install -d $(DESTDIR)$(pythondir)/evpoll
	$(Q)install -m 644 $(TOP)/python/evpoll/*.py $(DESTDIR)$(pythondir)/evpoll/

# The module's source tree as DKMS wants it: /usr/src/evpoll-VERSION with
# dkms.conf, Kbuild, VERSION, kmod/ and include/ (kbuild is run on it
# directly, see dkms.conf.in).
dkms-install:
	$(Q)install -d $(DESTDIR)$(dkmssrcdir)/kmod \
		$(DESTDIR)$(dkmssrcdir)/include/uapi/linux
	$(Q)install -m 644 $(TOP)/Kbuild $(DESTDIR)$(dkmssrcdir)/
	$(Q)install -m 644 $(TOP)/kmod/Kbuild $(TOP)/kmod/*.[ch] \
		$(DESTDIR)$(dkmssrcdir)/kmod/
	$(Q)install -m 644 $(TOP)/include/*.h $(DESTDIR)$(dkmssrcdir)/include/
	$(Q)install -m 644 $(TOP)/include/uapi/linux/evpoll.h \
		$(DESTDIR)$(dkmssrcdir)/include/uapi/linux/
	$(Q)echo $(VERSION) >$(DESTDIR)$(dkmssrcdir)/VERSION
	$(Q)sed 's/#MODULE_VERSION#/$(VERSION)/g' $(TOP)/dkms.conf.in \
		>$(DESTDIR)$(dkmssrcdir)/dkms.conf

uninstall:
	$(Q)if [ -z "$(DESTDIR)" ] && [ -n "$(DKMS)" ] && \
	    [ -d /var/lib/dkms/evpoll/$(VERSION) ]; then \
		$(DKMS) remove -m evpoll -v $(VERSION) --all || exit 1; fi
	$(Q)rm -rf $(DESTDIR)$(dkmssrcdir) $(DESTDIR)$(pythondir)/evpoll
	$(Q)rm -f $(addprefix $(DESTDIR)$(bindir)/,$(INST_TOOLS)) \
		$(DESTDIR)$(udevrulesdir)/60-evpoll.rules \
		$(DESTDIR)$(modulesloaddir)/evpoll.conf
	$(Q)$(MAKE) -C lib uninstall prefix=$(prefix) libdir=$(libdir) \
		includedir=$(includedir) mandir=$(mandir) DESTDIR=$(DESTDIR)
	$(Q)if [ -z "$(DESTDIR)" ]; then ldconfig 2>/dev/null || true; fi

# Debian packages (debian/): evpoll-dkms, libevpoll0, libevpoll-dev,
# evpoll-tools, python3-evpoll into build/deb/, then lintian.
deb:
	$(Q)$(TOP)/tools/pkg/mkdeb.sh

clean:
	$(Q)rm -rf $(BUILD)
	$(Q)$(MAKE) -C lib clean 2>/dev/null || true

else
# Invoked by kbuild with M=: descend into kmod/.
include $(src)/Kbuild
endif

# SPDX-License-Identifier: GPL-2.0
#
# tpcluster: build the module and tpctl, set up the toolchain and kernel,
# run the tests and the demo. `make help` lists the targets.

KERNEL ?= default
export KERNEL

TPC_ENV := . $(CURDIR)/tools/kernel/paths.sh
CACHED_KDIR := $(shell bash -c '$(TPC_ENV); tpc_kdir' 2>/dev/null)
KDIR ?= $(CACHED_KDIR)

# The cached tree is built with Debian's LLVM 19 and rustc; another tree is
# built with the toolchain given on the command line (LLVM=..., RUSTC=...),
# which must be the one that built that tree.
ifeq ($(KDIR),$(CACHED_KDIR))
KBUILD_TOOLCHAIN := $(shell bash -c '$(TPC_ENV); echo LLVM=$$TPC_LLVM RUSTC=$$TPC_RUSTC CLIPPY_DRIVER=$$TPC_CLIPPY_DRIVER \
	BINDGEN=$$TPC_BINDGEN RUST_LIB_SRC=$$TPC_RUST_LIB_SRC')
endif

CARGO ?= cargo

# Installation (`make install`, `make dkms-source`): DESTDIR stages into
# another root, as packagers do.
PREFIX ?= /usr
DESTDIR ?=
VERSION := $(shell sed -n 's/^TPC_VERSION := //p' Kbuild)
DOCDIR := $(PREFIX)/share/doc/tpcluster

.PHONY: all module tpctl setup test test-host test-vm demo bench check fmt clippy clean help \
	install install-module install-tools dkms-source

all: module tpctl

help:
	@echo "make setup       install the toolchain, build the kernel into the cache"
	@echo "make             build tpcluster.ko (KDIR=... for another tree) and tpctl"
	@echo "make test        setup, then host unit tests and VM tests"
	@echo "make demo        setup, then a cluster of VMs plus a client, shown working"
	@echo "make bench       setup, then benchmarks with ratios against a baseline"
	@echo "make check       rustfmt, the kernel's Rust lints with CLIPPY=1, cargo clippy"
	@echo "make install     the module under /lib/modules/KVER/extra (depmod), tpctl,"
	@echo "                 its man page and completions, the systemd unit (DESTDIR=...)"
	@echo "make dkms-source the source tree under /usr/src for DKMS (DESTDIR=...)"
	@echo "KERNEL=debug     use the KASAN + kmemleak kernel variant"

setup:
	@tools/setup.sh

module:
	@test -n "$(KDIR)" && test -f "$(KDIR)/Module.symvers" || \
		{ echo "no built kernel tree at KDIR='$(KDIR)': run 'make setup' or pass KDIR=<tree>"; exit 1; }
	@tools/kernel/check-rustc.sh "$(KDIR)" $(KBUILD_TOOLCHAIN) $(if $(RUSTC),RUSTC=$(RUSTC))
	$(MAKE) -C "$(KDIR)" M="$(CURDIR)" $(KBUILD_TOOLCHAIN) modules

tpctl:
	$(CARGO) build --release --locked -p tpctl

test: setup
	@tools/test.sh

test-host:
	$(CARGO) test --locked --workspace

demo: setup
	@tools/demo.sh

bench: setup
	@tools/bench.sh

fmt:
	rustfmt --edition 2021 tpcluster.rs
	$(CARGO) fmt --all

check:
	@tools/check.sh

install: install-module install-tools

# modules_install puts the module under lib/modules/KVER/extra of DESTDIR
# and runs depmod there.
install-module: module
	$(MAKE) -C "$(KDIR)" M="$(CURDIR)" $(KBUILD_TOOLCHAIN) INSTALL_MOD_PATH="$(DESTDIR)" \
		INSTALL_MOD_DIR=extra modules_install

install-tools: tpctl
	install -D -m 0755 target/release/tpctl "$(DESTDIR)$(PREFIX)/sbin/tpctl"
	install -d "$(DESTDIR)$(PREFIX)/share/man/man8" \
		"$(DESTDIR)$(PREFIX)/share/bash-completion/completions" \
		"$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions" \
		"$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d"
	packaging/install-man target/release/tpctl "$(DESTDIR)$(PREFIX)/share/man/man8"
	target/release/tpctl completions bash > "$(DESTDIR)$(PREFIX)/share/bash-completion/completions/tpctl"
	target/release/tpctl completions zsh > "$(DESTDIR)$(PREFIX)/share/zsh/vendor-completions/_tpctl"
	target/release/tpctl completions fish > "$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/tpctl.fish"
	install -D -m 0755 packaging/tpcluster-up "$(DESTDIR)$(PREFIX)/libexec/tpcluster/tpcluster-up"
	install -D -m 0755 packaging/tpcluster-down "$(DESTDIR)$(PREFIX)/libexec/tpcluster/tpcluster-down"
	install -D -m 0644 packaging/tpcluster.service "$(DESTDIR)$(PREFIX)/lib/systemd/system/tpcluster.service"
	install -D -m 0644 packaging/tpcluster-check@.service "$(DESTDIR)$(PREFIX)/lib/systemd/system/tpcluster-check@.service"
	install -D -m 0644 packaging/modprobe.conf "$(DESTDIR)$(DOCDIR)/examples/modprobe.d/tpcluster.conf"
	install -D -m 0644 packaging/tpcluster.conf.example "$(DESTDIR)$(DOCDIR)/examples/tpcluster.conf"
	install -d -m 0700 "$(DESTDIR)/etc/tpcluster"

# The tracked source tree, as DKMS builds it, with dkms.conf at its top.
dkms-source:
	install -d "$(DESTDIR)/usr/src/tpcluster-$(VERSION)"
	git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$(DESTDIR)/usr/src/tpcluster-$(VERSION)"
	sed 's/@VERSION@/$(VERSION)/' packaging/dkms.conf > "$(DESTDIR)/usr/src/tpcluster-$(VERSION)/dkms.conf"

clean:
	@if [ -n "$(KDIR)" ] && [ -f "$(KDIR)/Makefile" ]; then \
		$(MAKE) -C "$(KDIR)" M="$(CURDIR)" $(KBUILD_TOOLCHAIN) clean; fi
	rm -f rust/bindings_generated.rs rust/.bindings_generated.rs.cmd
	$(CARGO) clean

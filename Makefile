# SPDX-License-Identifier: GPL-2.0
#
# kvmarm-io: out-of-tree KVM/ARM I/O modules.
#
# On an ARM host:   make [KDIR=...] && sudo make install
# Development:      make demo | make test | make test-debug | make check | make vm
#                   make fuzz [SEED=S] [ITERS=N]   fuzz our interfaces
#                   make KVER=6.12   cross-build for a cached Debian kernel

KDIR	?= /lib/modules/$(shell uname -r)/build
KVER	?=
ARCH	?=
CROSS_COMPILE ?=

ifneq ($(KVER),)
default: cross
else
default: modules
endif

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(if $(ARCH),ARCH=$(ARCH)) \
		$(if $(CROSS_COMPILE),CROSS_COMPILE=$(CROSS_COMPILE)) modules

modules_install: modules
	$(MAKE) -C $(KDIR) M=$(CURDIR) INSTALL_MOD_DIR=updates modules_install

# modules to /lib/modules/<release>/updates + depmod, uAPI headers,
# udev rule, vfio-platform-bind; DESTDIR=... stages instead
install: modules
	KDIR=$(KDIR) scripts/install

uninstall:
	KDIR=$(KDIR) scripts/uninstall

# dkms.conf from the Kbuild files (run after adding a module)
dkms-conf:
	scripts/gen-dkms-conf

deb:
	scripts/mkdeb

series:
	scripts/series

series-check: series
	scripts/series-check

test-install:
	scripts/test-install $(KVER)

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null || true
	rm -rf out

# Everything below runs on the development machine (x86-64 or arm64 Debian)
# against the Debian kernels that scripts/setup caches.

setup:
	scripts/setup

cross: setup
	scripts/build --selftests $(KVER)

selftests: setup
	scripts/build --selftests $(firstword $(KVER) 6.12)

vm: setup
	scripts/build --selftests $(firstword $(KVER) 6.12)
	scripts/vm $(firstword $(KVER) 6.12)

demo:
	scripts/demo $(KVER)

test:
	scripts/test $(KVER)

# the suite on kernels built from Debian's source with KASAN, lockdep,
# kmemleak, UBSAN and IOMMUFD (scripts/debug-kernel)
test-debug:
	scripts/test --debug $(KVER)

check: setup
	scripts/check $(KVER)

bench:
	scripts/bench $(KVER)

# the passed-through interrupt: forwarded (kvm-arm patches) against the
# irqfd and userspace paths, on Debian's 6.12 built with the patches
bench-irq:
	BENCH_ONLY=irq scripts/bench 6.12-fwd

fuzz: setup
	scripts/fuzz $(KVER) $(if $(SEED),--seed $(SEED)) \
		$(if $(ITERS),--iterations $(ITERS))

.PHONY: default modules modules_install install clean setup cross selftests \
	vm demo test test-debug check bench bench-irq fuzz uninstall dkms-conf deb series \
	series-check test-install

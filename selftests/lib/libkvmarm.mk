# SPDX-License-Identifier: GPL-2.0
#
# lib/: what the kvmarm-io selftests share (module and VFIO helpers, the
# KVM/arm64 guest harness and the guests' library), built into each
# target's $(OUTPUT)/lib/.  A target's Makefile includes this after
# ../lib.mk and links LIBKVMARM_O into its programs.
#
# Guest code runs in a KVM guest without a C library.  Assembly (*.S)
# builds with the same flags as the host code.  Guest code in C is built
# with GUEST_CFLAGS instead of CFLAGS: lib/'s in lib/guest/*.c, a
# target's in the files it lists in GUEST_C (e.g. its *_guest.c), with
# the objects in LIBKVMARM_O and GUEST_O.

LIBKVMARM_DIR := $(realpath $(dir $(lastword $(MAKEFILE_LIST))))

LIBKVMARM_C := $(notdir $(wildcard $(LIBKVMARM_DIR)/*.c))
LIBKVMARM_S := $(notdir $(wildcard $(LIBKVMARM_DIR)/*.S))
LIBKVMARM_GUEST_C := $(addprefix guest/,$(notdir $(wildcard $(LIBKVMARM_DIR)/guest/*.c)))

LIBKVMARM_C_O := $(patsubst %.c,$(OUTPUT)/lib/%.o,$(LIBKVMARM_C))
LIBKVMARM_S_O := $(patsubst %.S,$(OUTPUT)/lib/%.o,$(LIBKVMARM_S))
LIBKVMARM_GUEST_O := $(patsubst %.c,$(OUTPUT)/lib/%.o,$(LIBKVMARM_GUEST_C))
LIBKVMARM_O := $(LIBKVMARM_C_O) $(LIBKVMARM_S_O) $(LIBKVMARM_GUEST_O)
GUEST_O := $(patsubst %.c,$(OUTPUT)/%.o,$(GUEST_C))

CFLAGS += -I$(LIBKVMARM_DIR)

GUEST_CFLAGS ?= -O2 -g -Wall -std=gnu11 -ffreestanding -nostdlib \
		-fno-pic -fno-stack-protector -fno-asynchronous-unwind-tables \
		-mgeneral-regs-only -I$(LIBKVMARM_DIR)

$(shell mkdir -p $(sort $(dir $(LIBKVMARM_O) $(GUEST_O))))

$(LIBKVMARM_C_O): $(OUTPUT)/lib/%.o: $(LIBKVMARM_DIR)/%.c
	$(CC) $(CFLAGS) $(CPPFLAGS) $(TARGET_ARCH) -c $< -o $@

$(LIBKVMARM_S_O): $(OUTPUT)/lib/%.o: $(LIBKVMARM_DIR)/%.S
	$(CC) $(CFLAGS) $(CPPFLAGS) $(TARGET_ARCH) -c $< -o $@

$(LIBKVMARM_GUEST_O): $(OUTPUT)/lib/%.o: $(LIBKVMARM_DIR)/%.c
	$(CC) $(GUEST_CFLAGS) $(CPPFLAGS) $(TARGET_ARCH) -c $< -o $@

$(GUEST_O): $(OUTPUT)/%.o: %.c
	$(CC) $(GUEST_CFLAGS) $(CPPFLAGS) $(TARGET_ARCH) -c $< -o $@

EXTRA_CLEAN += $(LIBKVMARM_O) $(GUEST_O) $(patsubst %.o,%.d,$(LIBKVMARM_O) $(GUEST_O))
-include $(patsubst %.o,%.d,$(LIBKVMARM_O) $(GUEST_O))

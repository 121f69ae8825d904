# SPDX-License-Identifier: GPL-2.0
#
# lib/: what the kvmarm-io selftests share (module and VFIO helpers, the
# KVM/arm64 guest harness and the guests' library), built into each
# target's $(OUTPUT)/lib/, and the target's own programs.  A target's
# Makefile lists its programs, HELPERS and GUEST_C and includes this
# after ../lib.mk.
#
# Guest code runs at EL1 with the MMU off, from wherever the harness
# copies the guest_text section: freestanding, no FP/SIMD, aligned
# accesses and PC-relative references only, and all of it in guest_text.
# The entry (guest_entry.S) builds with the host code's flags; guest code
# in C with GUEST_CFLAGS: lib/'s in lib/guest*.c, a target's in the files
# it lists in GUEST_C (its *_guest.c), the objects in LIBKVMARM_O and
# GUEST_O.

LIBKVMARM_DIR := $(realpath $(dir $(lastword $(MAKEFILE_LIST))))

LIBKVMARM_GUEST_C := $(notdir $(wildcard $(LIBKVMARM_DIR)/guest*.c))
LIBKVMARM_C := $(filter-out $(LIBKVMARM_GUEST_C),$(notdir $(wildcard $(LIBKVMARM_DIR)/*.c)))
LIBKVMARM_S := $(notdir $(wildcard $(LIBKVMARM_DIR)/*.S))

LIBKVMARM_C_O := $(patsubst %.c,$(OUTPUT)/lib/%.o,$(LIBKVMARM_C))
LIBKVMARM_S_O := $(patsubst %.S,$(OUTPUT)/lib/%.o,$(LIBKVMARM_S))
LIBKVMARM_GUEST_O := $(patsubst %.c,$(OUTPUT)/lib/%.o,$(LIBKVMARM_GUEST_C))
LIBKVMARM_O := $(LIBKVMARM_C_O) $(LIBKVMARM_S_O) $(LIBKVMARM_GUEST_O)
GUEST_O := $(patsubst %.c,$(OUTPUT)/%.o,$(GUEST_C))

CFLAGS += -I$(LIBKVMARM_DIR)

GUEST_CFLAGS ?= -O2 -g -Wall -std=gnu11 -I$(LIBKVMARM_DIR) -ffreestanding \
		-nostdlib -fno-pic -fno-stack-protector -mgeneral-regs-only \
		-mstrict-align -fno-merge-constants \
		-fno-reorder-blocks-and-partition \
		-fno-asynchronous-unwind-tables -fno-unwind-tables

# Compile guest C and move its code and constants to guest_text; fail if
# anything is left in another section.
define LIBKVMARM_GUEST_CC
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@.tmp
	$(CROSS_COMPILE)objcopy --rename-section .text=guest_text \
		--rename-section .rodata=guest_text $@.tmp $@
	@rm -f $@.tmp
	@$(CROSS_COMPILE)size -A $@ | awk '/^\.(text|rodata|data|bss)/ && $$2 { \
		print "$<: " $$1 " outside guest_text"; bad = 1 } \
		END { exit bad }' || { rm -f $@; exit 1; }
endef

$(LIBKVMARM_C_O): $(OUTPUT)/lib/%.o: $(LIBKVMARM_DIR)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(TARGET_ARCH) -c $< -o $@

$(LIBKVMARM_S_O): $(OUTPUT)/lib/%.o: $(LIBKVMARM_DIR)/%.S
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(TARGET_ARCH) -c $< -o $@

$(LIBKVMARM_GUEST_O): $(OUTPUT)/lib/%.o: $(LIBKVMARM_DIR)/%.c $(wildcard $(LIBKVMARM_DIR)/*.h)
	$(LIBKVMARM_GUEST_CC)

$(GUEST_O): $(OUTPUT)/%.o: %.c $(wildcard *.h $(LIBKVMARM_DIR)/*.h)
	$(LIBKVMARM_GUEST_CC)

EXTRA_CLEAN += $(LIBKVMARM_O) $(GUEST_O) $(patsubst %.o,%.d,$(LIBKVMARM_O))
-include $(patsubst %.o,%.d,$(LIBKVMARM_O))

# The target's programs (TEST_GEN_PROGS, TEST_GEN_PROGS_EXTENDED), each
# built from its .c and linked with the target's HELPERS, EXTRA_O (objects
# of the target's own rules), the objects of its GUEST_C and lib/.
CFLAGS += -O2 -g -Wall -Wno-clobbered -std=gnu11 -MD -MP
CFLAGS += -I$(selfdir) $(KHDR_INCLUDES)
LDFLAGS += -pthread

HELPERS_C_O := $(patsubst %.c,$(OUTPUT)/%.o,$(filter %.c,$(HELPERS)))
HELPERS_S_O := $(patsubst %.S,$(OUTPUT)/%.o,$(filter %.S,$(HELPERS)))
HELPERS_O := $(HELPERS_C_O) $(HELPERS_S_O) $(EXTRA_O)
PROGS_O := $(patsubst %,%.o,$(TEST_GEN_PROGS) $(TEST_GEN_PROGS_EXTENDED))

$(PROGS_O) $(HELPERS_C_O): $(OUTPUT)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(TARGET_ARCH) -c $< -o $@

$(HELPERS_S_O): $(OUTPUT)/%.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(TARGET_ARCH) -c $< -o $@

$(TEST_GEN_PROGS) $(TEST_GEN_PROGS_EXTENDED): %: %.o $(HELPERS_O) $(GUEST_O) $(LIBKVMARM_O)
	$(CC) $(CFLAGS) $(CPPFLAGS) $(LDFLAGS) $(TARGET_ARCH) $^ $(LDLIBS) -o $@

EXTRA_CLEAN += $(PROGS_O) $(HELPERS_O) $(PROGS_O:.o=.d) $(HELPERS_O:.o=.d)
-include $(PROGS_O:.o=.d) $(HELPERS_O:.o=.d)

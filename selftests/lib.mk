# SPDX-License-Identifier: GPL-2.0
#
# Out of tree, a target's "include ../lib.mk" lands here and gets the
# kselftest lib.mk of the kernel source tree in KSFT_DIR (its
# tools/testing/selftests), so that the targets' Makefiles read as they
# do in-tree.  Our uAPI headers stand in for the installed kernel headers
# (KHDR_INCLUDES).  Not part of an in-tree export.

ifeq ($(wildcard $(KSFT_DIR)/lib.mk),)
$(error KSFT_DIR must point at a kernel's tools/testing/selftests (with lib.mk))
endif

KVMARM_TOP := $(realpath $(dir $(lastword $(MAKEFILE_LIST)))..)
KHDR_INCLUDES ?= -isystem $(KVMARM_TOP)/include/uapi

include $(KSFT_DIR)/lib.mk

# lib.mk finds its folder as that of the lib.mk in MAKEFILE_LIST, where
# this file is too.
selfdir := $(realpath $(KSFT_DIR))

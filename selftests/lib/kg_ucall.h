/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-to-test calls ("ucalls"), shared by the harness and guest C code.
 *
 * The guest fills a struct kg_ucall on its stack and stores the struct's
 * guest physical address to KG_MMIO_UCALL: one MMIO exit, which the
 * harness decodes by reading the struct from guest RAM.  Strings (file and
 * expression of an assertion) are guest physical addresses in guest_text.
 */
#ifndef KVMARM_IO_KG_UCALL_H
#define KVMARM_IO_KG_UCALL_H

#include <stdint.h>

enum kg_ucall_cmd {
	KG_UCALL_NONE,		/* not a ucall (harness only) */
	KG_UCALL_SYNC,		/* args[0]: stage, args[1..]: values */
	KG_UCALL_DONE,		/* args[0]: result; the guest stops */
	KG_UCALL_ASSERT,	/* file, line, expr, args: the values */
	KG_UCALL_UNHANDLED,	/* args: vector, ESR, ELR, FAR */
	KG_UCALL_INVALID,	/* args[0]: a struct address not in RAM */
};

#define KG_UCALL_ARGS	4

struct kg_ucall {
	uint64_t cmd;
	uint64_t args[KG_UCALL_ARGS];
	uint64_t nargs;		/* ASSERT: how many args to show */
	uint64_t file;
	uint64_t line;
	uint64_t expr;
};

#endif

// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-side reports to the test (kg_ucall.h), and the handler of the
 * exceptions nobody expects.
 */
#include "guest.h"

/* One MMIO exit: the test reads @uc from guest RAM. */
static void ucall_send(struct kg_ucall *uc)
{
	writeq((uintptr_t)uc, KG_MMIO_UCALL);
}

void guest_ucall(uint64_t cmd, uint64_t arg0, uint64_t arg1)
{
	struct kg_ucall uc = {
		.cmd = cmd,
		.args = { arg0, arg1 },
	};

	ucall_send(&uc);
}

void guest_halt(void)
{
	for (;;)
		wfi();
}

void guest_assert_fail(const char *file, uint64_t line, const char *expr,
		       uint64_t nargs, uint64_t a0, uint64_t a1)
{
	struct kg_ucall uc = {
		.cmd = KG_UCALL_ASSERT,
		.args = { a0, a1 },
		.nargs = nargs,
		.file = (uintptr_t)file,
		.line = line,
		.expr = (uintptr_t)expr,
	};

	ucall_send(&uc);
	guest_halt();
}

/* Called by the vectors (guest_entry.S) with the registers saved. */
void guest_exception(uint64_t *regs, uint64_t vector);

void guest_exception(uint64_t *regs, uint64_t vector)
{
	struct kg_ucall uc = {
		.cmd = KG_UCALL_UNHANDLED,
		.args = { vector, read_sysreg(esr_el1), read_sysreg(elr_el1),
			  read_sysreg(far_el1) },
	};

	(void)regs;
	ucall_send(&uc);
	guest_halt();
}

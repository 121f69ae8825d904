/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-side helpers for guest code in C (compiled freestanding into
 * guest_text, see the Makefile): system-register and MMIO accessors, the
 * GICv3 library (guest_gic.c) and the reports to the test (guest_ucall.c).
 *
 * The guest runs at EL1 with the MMU off: every data access is to Device
 * memory, so accesses stay aligned, and atomics (exclusives) do not work.
 * MMIO goes through the accessors below, single loads and stores without
 * writeback, which KVM can emulate when they trap.
 */
#ifndef KVMARM_IO_GUEST_H
#define KVMARM_IO_GUEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdnoreturn.h>

#include "guest_layout.h"
#include "kg_ucall.h"

#define BIT(n)		(1u << (n))

/* GICv3 CPU interface registers, by encoding. */
#define ICC_PMR_EL1	"S3_0_C4_C6_0"
#define ICC_IAR1_EL1	"S3_0_C12_C12_0"
#define ICC_EOIR1_EL1	"S3_0_C12_C12_1"
#define ICC_SRE_EL1	"S3_0_C12_C12_5"
#define ICC_IGRPEN1_EL1	"S3_0_C12_C12_7"

/* Distributor registers. */
#define GICD_CTLR		0x0000
#define GICD_CTLR_ARE		BIT(4)
#define GICD_CTLR_GRP1		BIT(1)
#define GICD_CTLR_GRP0		BIT(0)
#define GICD_IGROUPR		0x0080
#define GICD_ISENABLER		0x0100
#define GICD_IPRIORITYR		0x0400
#define GICD_ICFGR		0x0c00
#define GICD_IROUTER		0x6000

/* System registers the assembler knows by name (@reg, unquoted). */
#define read_sysreg(reg) ({						\
	uint64_t __val;							\
	__asm__ volatile("mrs %0, " #reg : "=r"(__val) :: "memory");	\
	__val;								\
})

#define write_sysreg(val, reg) do {					\
	uint64_t __val = (val);						\
									\
	__asm__ volatile("msr " #reg ", %x0" :: "rZ"(__val) : "memory");\
} while (0)

/* The same for the encodings (@enc: the ICC_* strings above). */
#define read_sysreg_s(enc) ({						\
	uint64_t __val;							\
	__asm__ volatile("mrs %0, " enc : "=r"(__val) :: "memory");	\
	__val;								\
})

#define write_sysreg_s(val, enc) do {					\
	uint64_t __val = (val);						\
									\
	__asm__ volatile("msr " enc ", %x0" :: "rZ"(__val) : "memory");	\
} while (0)

static inline void isb(void)
{
	__asm__ volatile("isb" ::: "memory");
}

static inline void dsb_sy(void)
{
	__asm__ volatile("dsb sy" ::: "memory");
}

static inline void wfi(void)
{
	__asm__ volatile("wfi" ::: "memory");
}

static inline uint8_t readb(uint64_t addr)
{
	uint8_t v;

	__asm__ volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline uint32_t readl(uint64_t addr)
{
	uint32_t v;

	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline uint64_t readq(uint64_t addr)
{
	uint64_t v;

	__asm__ volatile("ldr %x0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void writeb(uint8_t v, uint64_t addr)
{
	__asm__ volatile("strb %w0, [%1]" :: "rZ"(v), "r"(addr) : "memory");
}

static inline void writel(uint32_t v, uint64_t addr)
{
	__asm__ volatile("str %w0, [%1]" :: "rZ"(v), "r"(addr) : "memory");
}

static inline void writeq(uint64_t v, uint64_t addr)
{
	__asm__ volatile("str %x0, [%1]" :: "rZ"(v), "r"(addr) : "memory");
}

/*
 * Guest parameters, set by the test with kg_set_param(): a single load or
 * store each, as another vCPU or the test may use them meanwhile.
 */
static inline uint64_t guest_param(unsigned int i)
{
	return readq(KG_PARAM(i));
}

static inline void guest_set_param(unsigned int i, uint64_t v)
{
	writeq(v, KG_PARAM(i));
}

/* guest_ucall.c */
void guest_ucall(uint64_t cmd, uint64_t arg0, uint64_t arg1);
noreturn void guest_assert_fail(const char *file, uint64_t line,
				const char *expr, uint64_t nargs,
				uint64_t a0, uint64_t a1);
noreturn void guest_halt(void);

/* Report reaching @stage to the test, and go on. */
#define GUEST_SYNC(stage)		guest_ucall(KG_UCALL_SYNC, (stage), 0)
#define GUEST_SYNC_ARGS(stage, value)	\
	guest_ucall(KG_UCALL_SYNC, (stage), (value))

/* Report the end with @result and stop. */
#define GUEST_DONE(result) do {						\
	guest_ucall(KG_UCALL_DONE, (result), 0);			\
	guest_halt();							\
} while (0)

/* Report a failed assertion with its file, line and expression, and stop. */
#define GUEST_ASSERT(cond) do {						\
	if (__builtin_expect(!(cond), 0))				\
		guest_assert_fail(__FILE__, __LINE__, #cond, 0, 0, 0);	\
} while (0)

/* The same, showing @value. */
#define GUEST_ASSERT_1(cond, value) do {				\
	if (__builtin_expect(!(cond), 0))				\
		guest_assert_fail(__FILE__, __LINE__, #cond, 1,		\
				  (value), 0);				\
} while (0)

#define GUEST_ASSERT_EQ(a, b) do {					\
	uint64_t __a = (a), __b = (b);					\
									\
	if (__builtin_expect(__a != __b, 0))				\
		guest_assert_fail(__FILE__, __LINE__, #a " == " #b, 2,	\
				  __a, __b);				\
} while (0)

/* guest_gic.c */
#define GICV3_SPURIOUS	1023

void gicv3_init(void);
void gicv3_enable_spi(unsigned int intid, bool edge);

/*
 * Wait (WFI, interrupts masked in PSTATE) for an interrupt and acknowledge
 * it: its INTID.
 */
static inline unsigned int gicv3_wait_irq(void)
{
	uint64_t intid;

	while ((intid = read_sysreg_s(ICC_IAR1_EL1)) >= GICV3_SPURIOUS)
		wfi();
	return intid;
}

/* End @intid (EOImode 0: priority drop and deactivation). */
static inline void gicv3_eoi(unsigned int intid)
{
	write_sysreg_s(intid, ICC_EOIR1_EL1);
	isb();
}

#endif

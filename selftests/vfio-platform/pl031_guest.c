// SPDX-License-Identifier: GPL-2.0
/*
 * Guest code for passthrough_test and irq_bench: drive a PL031 RTC at
 * KG_DEV_GPA.
 *
 * Parameters: 0 = the RTC's INTID, 1 = number of interrupts to take,
 * 2 = hold: take the first interrupt, report PL031_HELD with its INTID and
 * stop there, with the interrupt active (neither cleared nor EOI'd);
 * 3 = where to store, for each interrupt, the counter ticks from the write
 * that raises the RTC's line to the acknowledge (0: nowhere); 4 = back to
 * back: raise the line for the next interrupt before the EOI of this one.
 * Each round clears the RTC interrupt, sets the match register to the
 * current count (the RTC raises its level interrupt at once), waits for the
 * SPI, checks the INTID and that the RTC's line is up, clears the interrupt
 * at the RTC and EOIs.  Reports PL031_READY before the first round and
 * GUEST_DONE with the count after the last; a wrong INTID, or one that
 * came with the RTC's line down (a spurious or duplicate one), fails a
 * GUEST_ASSERT.  Between the two reports, the guest exits only for its
 * interrupts and, trapped, for its accesses to the RTC: 8 a round.
 */
#include "guest.h"
#include "pl031_guest.h"

#define RTC		KG_DEV_GPA
#define RTC_DR		0x00
#define RTC_MR		0x04
#define RTC_IMSC	0x10
#define RTC_RIS		0x14
#define RTC_ICR		0x1c

/* Counter ticks, ordered after what came before. */
static inline uint64_t ticks(void)
{
	isb();
	return read_sysreg(cntvct_el0);
}

/* Clear the RTC's interrupt, masked at the RTC (IMSC 0). */
static inline void pl031_clear_masked(void)
{
	writel(0, RTC + RTC_IMSC);
	writel(1, RTC + RTC_ICR);
}

/* The RTC's line is up: else the interrupt is spurious. */
static inline bool pl031_line_up(void)
{
	return readl(RTC + RTC_RIS);
}

/* Raise the RTC's line: match the current count.  Return: when. */
static inline uint64_t pl031_raise(void)
{
	uint64_t when;
	uint32_t dr;

	do {
		dr = readl(RTC + RTC_DR);
		when = ticks();
		writel(dr, RTC + RTC_MR);
	} while (!pl031_line_up());	/* the second changed in between */
	return when;
}

void pl031_guest(unsigned long cpu)
{
	unsigned int want = guest_param(0), intid;
	uint64_t rounds = guest_param(1);
	bool hold = guest_param(2);
	uint64_t *lat = (uint64_t *)(uintptr_t)guest_param(3);
	bool back_to_back = guest_param(4);
	uint64_t n = 0, raised, now;

	gicv3_init();
	gicv3_enable_spi(want, false);
	GUEST_SYNC(PL031_READY);
	do {
		pl031_clear_masked();
		writel(1, RTC + RTC_IMSC);
		raised = pl031_raise();
		for (;;) {
			intid = gicv3_wait_irq();
			now = ticks();
			GUEST_ASSERT_EQ(intid, want);
			GUEST_ASSERT_1(pl031_line_up(), intid);
			if (lat)
				writeq(now - raised, (uintptr_t)&lat[n]);
			if (hold) {
				GUEST_SYNC_ARGS(PL031_HELD, intid);
				guest_halt();
			}
			writel(1, RTC + RTC_ICR);
			n++;
			if (!back_to_back || n >= rounds)
				break;
			/* Back to back: raised before the EOI. */
			raised = pl031_raise();
			gicv3_eoi(intid);
		}
		gicv3_eoi(intid);
	} while (n < rounds);
	GUEST_DONE(n);
}

/* One more interrupt that came with the RTC's line down, in param 6. */
static void count_spurious(void)
{
	guest_set_param(6, guest_param(6) + 1);
}

/*
 * vCPU 1 of pl031_smp_guest: take, clear and EOI the interrupts routed to
 * it, counting them in param 5, for ever.
 */
static noreturn void pl031_smp_guest_aux(unsigned int want)
{
	unsigned int intid;

	for (;;) {
		intid = gicv3_wait_irq();
		GUEST_ASSERT_EQ(intid, want);
		if (!pl031_line_up()) {
			gicv3_eoi(intid);
			count_spurious();
			continue;
		}
		writel(1, RTC + RTC_ICR);
		gicv3_eoi(intid);
		guest_set_param(5, guest_param(5) + 1);
	}
}

/*
 * pl031_smp_guest: the same with two vCPUs (@cpu: the vCPU's index).
 * vCPU 0 drives the RTC and routes the SPI (GICD_IROUTER) to vCPU 0 and 1
 * in turns: it takes its own interrupts, and waits for vCPU 1 to count the
 * others in parameter 5.  Parameters 0 and 1 as above.  An interrupt that
 * comes with the RTC's line down is EOI'd and counted in parameter 6 (the
 * irqfd path may deliver one, the guest's EOI and the resample being
 * apart; a forwarded SPI never).
 */
void pl031_smp_guest(unsigned long cpu)
{
	unsigned int want = guest_param(0), intid;
	uint64_t irouter = KG_GICD_GPA + GICD_IROUTER + 8 * want;
	uint64_t rounds, n = 0, target, seen;

	gicv3_init();
	if (cpu)
		pl031_smp_guest_aux(want);
	gicv3_enable_spi(want, false);
	rounds = guest_param(1);
	GUEST_SYNC(PL031_READY);
	do {
		target = n & 1;		/* this round's vCPU */
		writeq(target, irouter);
		dsb_sy();
		pl031_clear_masked();
		seen = guest_param(5);
		/*
		 * Raised masked, then let out: else vCPU 1 could take and
		 * clear it before pl031_raise() reads RIS, which would then
		 * raise it again.
		 */
		pl031_raise();
		writel(1, RTC + RTC_IMSC);
		if (target) {
			while (guest_param(5) == seen)
				;	/* vCPU 1's count moves on */
			continue;
		}
		for (;;) {
			intid = gicv3_wait_irq();
			GUEST_ASSERT_EQ(intid, want);
			if (pl031_line_up())
				break;
			gicv3_eoi(intid);	/* spurious: counted, not taken */
			count_spurious();
		}
		writel(1, RTC + RTC_ICR);
		gicv3_eoi(intid);
	} while (++n < rounds);
	GUEST_DONE(n);
}

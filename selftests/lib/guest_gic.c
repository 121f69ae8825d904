// SPDX-License-Identifier: GPL-2.0
/*
 * Guest-side GICv3 library: the distributor at KG_GICD_GPA and this vCPU's
 * CPU interface, group 1 only.  The redistributors are left as KVM resets
 * them: only SPIs are used.
 */
#include "guest.h"

/* Enable the distributor (affinity routing) and this CPU's interface. */
void gicv3_init(void)
{
	writel(GICD_CTLR_ARE | GICD_CTLR_GRP1 | GICD_CTLR_GRP0,
	       KG_GICD_GPA + GICD_CTLR);
	write_sysreg_s(read_sysreg_s(ICC_SRE_EL1) | 1, ICC_SRE_EL1);
	isb();
	write_sysreg_s(0xff, ICC_PMR_EL1);
	write_sysreg_s(1, ICC_IGRPEN1_EL1);
	isb();
}

/*
 * Make SPI @intid (>= 32) group 1, priority 0x80, edge-triggered if @edge
 * (else level), routed to CPU 0, and enable it.
 */
void gicv3_enable_spi(unsigned int intid, bool edge)
{
	uint64_t word = KG_GICD_GPA + 4 * (intid / 32);
	uint32_t bit = 1u << (intid % 32);
	uint64_t cfg = KG_GICD_GPA + GICD_ICFGR + 4 * (intid / 16);
	uint32_t edge_bit = 2u << (2 * (intid % 16));
	uint32_t v;

	writel(readl(word + GICD_IGROUPR) | bit, word + GICD_IGROUPR);
	writeb(0x80, KG_GICD_GPA + GICD_IPRIORITYR + intid);
	v = readl(cfg) & ~edge_bit;
	writel(edge ? v | edge_bit : v, cfg);
	writeq(0, KG_GICD_GPA + GICD_IROUTER + 8 * intid);
	writel(bit, word + GICD_ISENABLER);
	dsb_sy();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_arm_test - the emulated ARM host is usable for KVM work.
 *
 * A VM with a vGICv3, one vCPU and a few instructions of guest code: the
 * guest rings a KVM_IOEVENTFD doorbell and the test sees the eventfd fire;
 * the test injects an SPI through KVM_IRQFD and the guest acknowledges it
 * and reports the INTID back through a ucall (one MMIO exit).
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include "kselftest_harness.h"
#include "kvm_guest.h"
#include "irq_guest.h"

#define TIMEOUT_MS	5000
#define TEST_SPI	5		/* irqfd GSI: INTID 32 + 5 */

FIXTURE(guest) {
	struct kvm_guest g;
};

FIXTURE_SETUP(guest)
{
	if (access("/dev/kvm", R_OK | W_OK))
		SKIP(return, "/dev/kvm not available");
	kg_init(&self->g);
}

FIXTURE_TEARDOWN(guest)
{
	kg_destroy(&self->g);
}

TEST_F(guest, capabilities)
{
	ASSERT_EQ(0, kg_create(&self->g, doorbell_guest))
		TH_LOG("%s", self->g.err);
	EXPECT_TRUE(kg_has_cap(&self->g, KVM_CAP_IRQFD));
	EXPECT_TRUE(kg_has_cap(&self->g, KVM_CAP_IOEVENTFD));
	EXPECT_TRUE(kg_has_cap(&self->g, KVM_CAP_IRQFD_RESAMPLE));
	EXPECT_TRUE(kg_has_cap(&self->g, KVM_CAP_ONE_REG));
	EXPECT_TRUE(kg_has_cap(&self->g, KVM_CAP_USER_MEMORY));
	EXPECT_TRUE(kg_has_cap(&self->g, KVM_CAP_BINARY_STATS_FD));
	EXPECT_LT(0, ioctl(self->g.kvm_fd, KVM_CHECK_EXTENSION,
			   KVM_CAP_ARM_VM_IPA_SIZE));
}

TEST_F(guest, ioeventfd_doorbell)
{
	struct kvm_ioeventfd io = {
		.addr = KG_MMIO_DOORBELL,
		.len = 4,
	};
	struct pollfd pfd;
	uint64_t value, cnt;
	int efd;

	ASSERT_EQ(0, kg_create(&self->g, doorbell_guest))
		TH_LOG("%s", self->g.err);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	io.fd = efd;
	ASSERT_EQ(0, ioctl(self->g.vm_fd, KVM_IOEVENTFD, &io));
	kg_set_param(&self->g, 0, 0x1234);

	ASSERT_EQ(0, kg_run_done(&self->g, &value, TIMEOUT_MS))
		TH_LOG("%s", self->g.err);
	pfd.fd = efd;
	pfd.events = POLLIN;
	ASSERT_EQ(1, poll(&pfd, 1, TIMEOUT_MS))
		TH_LOG("ioeventfd did not fire");
	ASSERT_EQ(sizeof(cnt), read(efd, &cnt, sizeof(cnt)));
	EXPECT_EQ(1, cnt);
	close(efd);
}

TEST_F(guest, irqfd_spi)
{
	struct kvm_irqfd irqfd = { .gsi = TEST_SPI };
	uint64_t one = 1, value;
	int efd;

	ASSERT_EQ(0, kg_create(&self->g, spi_guest))
		TH_LOG("%s", self->g.err);
	kg_set_param(&self->g, 0, 32 + TEST_SPI);
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	irqfd.fd = efd;
	ASSERT_EQ(0, ioctl(self->g.vm_fd, KVM_IRQFD, &irqfd));

	ASSERT_EQ(0, kg_run_sync(&self->g, SPI_READY, NULL, TIMEOUT_MS))
		TH_LOG("%s", self->g.err);
	ASSERT_EQ(sizeof(one), write(efd, &one, sizeof(one)));
	ASSERT_EQ(0, kg_run_sync(&self->g, SPI_TAKEN, &value, TIMEOUT_MS))
		TH_LOG("SPI never arrived: %s", self->g.err);
	EXPECT_EQ(32 + TEST_SPI, value);
	ASSERT_EQ(0, kg_run_done(&self->g, NULL, TIMEOUT_MS))
		TH_LOG("%s", self->g.err);

	irqfd.flags = KVM_IRQFD_FLAG_DEASSIGN;
	EXPECT_EQ(0, ioctl(self->g.vm_fd, KVM_IRQFD, &irqfd));
	close(efd);
}

TEST_F(guest, no_irq_without_injection)
{
	uint64_t value;

	ASSERT_EQ(0, kg_create(&self->g, spi_guest))
		TH_LOG("%s", self->g.err);
	kg_set_param(&self->g, 0, 32 + TEST_SPI);
	ASSERT_EQ(0, kg_run_sync(&self->g, SPI_READY, NULL, TIMEOUT_MS))
		TH_LOG("%s", self->g.err);
	/* Nothing injected: the guest must stay in WFI. */
	EXPECT_EQ(-1, kg_run_sync(&self->g, SPI_TAKEN, &value, 500));
	EXPECT_EQ(ETIMEDOUT, errno);
}

TEST_HARNESS_MAIN

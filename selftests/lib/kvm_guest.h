/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A very small KVM/arm64 guest harness for kvmarm-io selftests.
 *
 * One VM, one vCPU (or a few: kg_create_smp()), a vGICv3 and one memslot
 * of guest RAM.  Guest code is written in C (guest.h) in the section
 * "guest_text" (see the Makefile), its entry and exception vectors in
 * assembly (guest_entry.S); the harness copies the whole section to the
 * start of guest RAM, so code from several objects can call each other.
 * The guest runs at EL1 with the MMU off and talks to the test through
 * ucalls (kg_ucall.h), MMIO exits at KG_MMIO_UCALL.
 */
#ifndef KVMARM_IO_KVM_GUEST_H
#define KVMARM_IO_KVM_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kvm.h>

#include "guest_layout.h"
#include "kg_ucall.h"

#define KG_MAX_VCPUS	4

struct kvm_guest {
	int kvm_fd;
	int vm_fd;
	int vcpu_fd;		/* vCPU 0 */
	int gic_fd;
	struct kvm_run *run;	/* vCPU 0's */
	unsigned int nr_vcpus;
	int aux_fd[KG_MAX_VCPUS];	/* vCPUs 1.. (aux_fd[0] unused) */
	struct kvm_run *aux_run[KG_MAX_VCPUS];
	size_t run_size;
	uint8_t *mem;		/* host view of guest RAM at KG_RAM_GPA */
	size_t mem_size;
	int next_slot;
	int stats_fd;		/* vCPU binary stats, -1 until opened */
	char err[256];		/* why the last call failed */
};

/* What kg_run() saw. */
struct kg_exit {
	uint32_t reason;	/* KVM_EXIT_* */
	uint64_t addr;		/* MMIO: guest physical address */
	uint64_t data;		/* MMIO write: value written */
	uint32_t len;		/* MMIO: access size */
	bool is_write;
};

/* The linker provides these for the guest_text section. */
extern const char __start_guest_text[];
extern const char __stop_guest_text[];
/* Where every vCPU starts (guest_entry.S). */
extern const char guest_start[];

/* kg_init() - put @g in the empty state kg_destroy() accepts. */
void kg_init(struct kvm_guest *g);

/**
 * kg_create() - create a VM with a vGICv3, one vCPU and guest RAM.
 * @g:     harness state, filled in
 * @entry: the guest function to run, void fn(unsigned long cpu), in
 *         guest_text
 *
 * Return: 0, or -1 with @g->err set.
 */
int kg_create(struct kvm_guest *g, const void *entry);

/**
 * kg_create_smp() - the same with @nr_vcpus vCPUs (at most KG_MAX_VCPUS).
 * @g:        harness state, filled in
 * @entry:    the function every vCPU runs, its index (MPIDR Aff0) as @cpu
 * @nr_vcpus: how many
 *
 * vCPU 0 is run with kg_run(); the others' fds and kvm_run are
 * g->aux_fd[i] and g->aux_run[i], for the test's own threads.  Each vCPU
 * has 64 KiB of stack below the previous one's.
 *
 * Return: 0, or -1 with @g->err set.
 */
int kg_create_smp(struct kvm_guest *g, const void *entry,
		  unsigned int nr_vcpus);
void kg_destroy(struct kvm_guest *g);

/**
 * kg_run() - run the vCPU until it exits to userspace.
 * @g:          harness
 * @exit:       what the exit was
 * @timeout_ms: give up after this long
 *
 * Return: 0 on an exit, -1 with errno ETIMEDOUT when the guest did not exit
 * in time, or -1 with @g->err set on an error.
 */
int kg_run(struct kvm_guest *g, struct kg_exit *exit, unsigned int timeout_ms);

/**
 * kg_run_ucall() - run until the guest reports through a ucall.
 * @g:          harness
 * @uc:         the guest's struct kg_ucall, read from guest RAM
 * @timeout_ms: give up after this long
 *
 * Trapped MMIO reads return 0 meanwhile; any other exit is an error.
 *
 * Return: 0 on KG_UCALL_SYNC or KG_UCALL_DONE, -1 with @g->err set on an
 * assertion or exception in the guest (what failed where), another exit or
 * an error; -1 with errno ETIMEDOUT when the guest did not report in time.
 */
int kg_run_ucall(struct kvm_guest *g, struct kg_ucall *uc,
		 unsigned int timeout_ms);

/*
 * kg_run_sync() - the same, expecting GUEST_SYNC(@stage): @value (if not
 * NULL) is the value the guest gave with it.  kg_run_done() expects
 * GUEST_DONE and gives its result.  Return: 0, or -1 as kg_run_ucall() and
 * on any other ucall.
 */
int kg_run_sync(struct kvm_guest *g, uint64_t stage, uint64_t *value,
		unsigned int timeout_ms);
int kg_run_done(struct kvm_guest *g, uint64_t *result,
		unsigned int timeout_ms);

/**
 * kg_get_ucall() - decode the exit in @run as a ucall, for tests that
 * serve the guest's exits themselves (any vCPU of @g).
 * @g:   harness
 * @run: the vCPU's kvm_run, after KVM_RUN
 * @uc:  filled in
 *
 * Return: @uc->cmd, KG_UCALL_NONE when the exit is not a ucall.
 */
uint64_t kg_get_ucall(const struct kvm_guest *g, const struct kvm_run *run,
		      struct kg_ucall *uc);

/* kg_ucall_describe() - @uc in words, in @buf (returned), for messages. */
const char *kg_ucall_describe(const struct kvm_guest *g,
			      const struct kg_ucall *uc, char *buf,
			      size_t size);

/* Set the value the guest reads at KG_PARAM(i). */
void kg_set_param(struct kvm_guest *g, unsigned int i, uint64_t value);
uint64_t kg_get_param(struct kvm_guest *g, unsigned int i);

/* Add a memslot backed by @host at @gpa. */
int kg_add_memslot(struct kvm_guest *g, uint64_t gpa, void *host, size_t size);
int kg_del_memslot(struct kvm_guest *g, int slot);

/* Read a vCPU binary statistic by name; -1 when missing. */
int kg_vcpu_stat(struct kvm_guest *g, const char *name, uint64_t *value);

bool kg_has_cap(struct kvm_guest *g, long cap);

#endif

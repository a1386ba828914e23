// SPDX-License-Identifier: Apache-2.0
/*
 * tdcpuid-conform multiboot guest (qemu backend): executes CPUID lists the
 * host sends over COM1 on every vCPU and prints the results back.
 *
 * The guest has no leaf rules of its own: the host applies the probe's
 * rules (lib/leafrules.c) to what the guest returned and sends the next
 * list, until a fixed point (conform/pipeline.c).  Protocol, one line each:
 *   guest: "TDCG READY <ncpus>"         after every AP checked in
 *   host:  "Q <n>" then n x "<leaf> <subleaf>"   (hex)
 *   guest: n x ncpus x "R <slot> <apic-id> <leaf> <subleaf> <eax> <ebx> <ecx> <edx>"
 *          then "E <n>"
 *   host:  "X"  -> the guest writes isa-debug-exit (port 0xf4) and stops.
 * Kernel command line: "smp=N" (vCPUs to wait for, hex), "tdc.hang" (never
 * report), "tdc.die" (QEMU exits at once; both for the failure-path tests),
 * "tdc.exit" (exit at once: the benchmark's baseline boot).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COM1 0x3f8
#define DEBUG_EXIT_PORT 0xf4
#define LAPIC_BASE 0xfee00000u
#define LAPIC_ID 0x20
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define TRAMP_ADDR 0x8000u
#define MAX_CPUS 64
#define MAX_LIST 1024
#define LINE_MAX 64

extern const uint8_t tramp_start[], tramp_end[];

static volatile uint32_t list[MAX_LIST][2];
static volatile uint32_t list_n;
static volatile uint32_t generation;
static volatile uint32_t done_count;
static volatile uint32_t cpu_count = 1; /* the BSP is slot 0 */
static volatile uint32_t apic_id[MAX_CPUS];
static uint32_t results[MAX_CPUS][MAX_LIST][4];

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static inline uint32_t lapic_read(uint32_t off)
{
	return *(volatile uint32_t *)(LAPIC_BASE + off);
}

static inline void lapic_write(uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(LAPIC_BASE + off) = v;
}

static inline uint32_t atomic_inc(volatile uint32_t *p)
{
	return __atomic_fetch_add(p, 1, __ATOMIC_SEQ_CST);
}

static void serial_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts: everything is polled */
	outb(COM1 + 3, 0x80); /* DLAB */
	outb(COM1 + 0, 0x01); /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	outb(COM1 + 2, 0xc7); /* FIFO on, cleared */
	outb(COM1 + 4, 0x0b);
}

static void putc_(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, c);
}

static void puts_(const char *s)
{
	while (*s)
		putc_(*s++);
}

static void puthex(uint32_t v)
{
	static const char digits[] = "0123456789abcdef";
	char buf[9];
	int i = 8;

	buf[8] = '\0';
	do {
		buf[--i] = digits[v & 0xf];
		v >>= 4;
	} while (v && i > 0);
	puts_(buf + i);
}

static char getc_(void)
{
	while (!(inb(COM1 + 5) & 0x01))
		__asm__ volatile("pause");
	return (char)inb(COM1);
}

/* One line without the newline; overlong lines are cut, never overflow. */
static void read_line(char *buf, size_t cap)
{
	size_t n = 0;
	char c;

	while ((c = getc_()) != '\n')
		if (c != '\r' && n + 1 < cap)
			buf[n++] = c;
	buf[n] = '\0';
}

static const char *parse_hex(const char *s, uint32_t *v)
{
	uint32_t x = 0;

	while (*s == ' ')
		s++;
	for (;; s++) {
		if (*s >= '0' && *s <= '9')
			x = x << 4 | (uint32_t)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			x = x << 4 | (uint32_t)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			x = x << 4 | (uint32_t)(*s - 'A' + 10);
		else
			break;
	}
	*v = x;
	return s;
}

static void run_list(uint32_t slot)
{
	for (uint32_t i = 0; i < list_n; i++)
		cpuid(list[i][0], list[i][1], results[slot][i]);
}

void ap_main(void)
{
	uint32_t slot = atomic_inc(&cpu_count);
	uint32_t seen = 0;

	if (slot >= MAX_CPUS)
		return;
	apic_id[slot] = lapic_read(LAPIC_ID) >> 24;
	for (;;) {
		while (generation == seen)
			__asm__ volatile("pause");
		seen = generation;
		run_list(slot);
		atomic_inc(&done_count);
	}
}

static void delay(unsigned n)
{
	for (volatile unsigned i = 0; i < n; i++)
		__asm__ volatile("pause");
}

/* INIT-SIPI-SIPI to all but self (ICR destination shorthand 11b). */
static void start_aps(uint32_t want)
{
	const uint8_t *s = tramp_start;
	uint8_t *d = (uint8_t *)TRAMP_ADDR;

	while (s < tramp_end)
		*d++ = *s++;
	lapic_write(LAPIC_SVR, lapic_read(LAPIC_SVR) | 0x100);
	lapic_write(LAPIC_ICR_HI, 0);
	lapic_write(LAPIC_ICR_LO, 0x000c4500);
	delay(10000);
	for (int i = 0; i < 2 && cpu_count < want; i++) {
		lapic_write(LAPIC_ICR_LO, 0x000c4600 | (TRAMP_ADDR >> 12));
		delay(10000);
	}
	/* Under emulation an AP may take long to come up; the host has a timeout. */
	while (cpu_count < want)
		__asm__ volatile("pause");
}

static bool prefix(const char *p, const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != w[i])
			return false;
	return true;
}

static bool has_word(const char *cmd, const char *w, const char **val)
{
	size_t n = 0;

	while (w[n])
		n++;
	for (const char *p = cmd; p && *p; p++) {
		if ((p == cmd || p[-1] == ' ') && prefix(p, w, n) &&
		    (p[n] == '\0' || p[n] == ' ' || p[n] == '=')) {
			if (val)
				*val = p[n] == '=' ? p + n + 1 : NULL;
			return true;
		}
	}
	return false;
}

static void print_results(uint32_t ncpus)
{
	for (uint32_t c = 0; c < ncpus; c++) {
		for (uint32_t i = 0; i < list_n; i++) {
			puts_("R ");
			puthex(c);
			putc_(' ');
			puthex(apic_id[c]);
			putc_(' ');
			puthex(list[i][0]);
			putc_(' ');
			puthex(list[i][1]);
			for (int k = 0; k < 4; k++) {
				putc_(' ');
				puthex(results[c][i][k]);
			}
			putc_('\n');
		}
	}
	puts_("E ");
	puthex(list_n);
	putc_('\n');
}

static void serve(uint32_t ncpus)
{
	char line[LINE_MAX];
	uint32_t n, leaf, sub;

	for (;;) {
		read_line(line, sizeof(line));
		if (line[0] == 'X') {
			outb(DEBUG_EXIT_PORT, 0);
			return;
		}
		if (line[0] != 'Q')
			continue;
		parse_hex(line + 1, &n);
		if (n > MAX_LIST) {
			puts_("TDCG ERROR list too long\n");
			continue;
		}
		for (uint32_t i = 0; i < n; i++) {
			read_line(line, sizeof(line));
			parse_hex(parse_hex(line, &leaf), &sub);
			list[i][0] = leaf;
			list[i][1] = sub;
		}
		list_n = n;
		done_count = 0;
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		generation++;
		run_list(0);
		while (done_count < ncpus - 1)
			__asm__ volatile("pause");
		print_results(ncpus);
	}
}

/* Multiboot 1 information structure: flags bit 2 = cmdline valid at +16. */
void guest_main(uint32_t magic, const uint32_t *mbi)
{
	const char *cmdline = "";
	const char *v;
	uint32_t smp = 1;

	if (magic == 0x2badb002 && (mbi[0] & 4))
		cmdline = (const char *)(uintptr_t)mbi[4];
	if (has_word(cmdline, "tdc.hang", NULL))
		for (;;)
			__asm__ volatile("cli; hlt");
	if (has_word(cmdline, "tdc.die", NULL))
		outb(DEBUG_EXIT_PORT, 0x21); /* QEMU exits (status 0x43) before any result */
	if (has_word(cmdline, "tdc.exit", NULL)) {
		outb(DEBUG_EXIT_PORT, 0); /* the benchmark's empty guest */
		for (;;)
			__asm__ volatile("cli; hlt");
	}
	serial_init();
	if (has_word(cmdline, "smp", &v) && v)
		parse_hex(v, &smp);
	if (smp < 1 || smp > MAX_CPUS)
		smp = 1;
	apic_id[0] = lapic_read(LAPIC_ID) >> 24;
	if (smp > 1)
		start_aps(smp);
	puts_("TDCG READY ");
	puthex(cpu_count);
	putc_('\n');
	serve(cpu_count);
}

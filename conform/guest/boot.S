/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Entry of the tdcpuid-conform multiboot guest (Multiboot 1: the loader
 * enters in 32-bit protected mode, flat segments, paging off, EAX =
 * 0x2BADB002, EBX = multiboot info), and the real-mode trampoline the BSP
 * copies to TRAMP_ADDR for the APs' startup IPI (Intel SDM Vol. 3A 8.4.4.1,
 * "Typical BSP Initialization Sequence": INIT-SIPI-SIPI, vector = page).
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003  /* page-align modules, memory info */
#define STACK_SIZE 4096

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.text
	.code32
	.globl _start
_start:
	cli
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	mov $0x10, %cx          /* not %ax: EAX holds the multiboot magic */
	mov %cx, %ds
	mov %cx, %es
	mov %cx, %ss
	mov %cx, %fs
	mov %cx, %gs
	mov $bsp_stack + STACK_SIZE, %esp
	push %ebx                /* multiboot info */
	push %eax                /* multiboot magic */
	call guest_main
2:	cli
	hlt
	jmp 2b

/*
 * AP trampoline: copied to TRAMP_ADDR (4 KiB aligned, below 1 MiB); the
 * SIPI starts it in real mode at CS = TRAMP_ADDR >> 4, IP = 0.  Only
 * CS-relative data inside the copy is used before protected mode.
 */
	.globl tramp_start, tramp_end
	.code16
tramp_start:
	cli
	lgdtl %cs:(tramp_gdt_desc - tramp_start)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $ap_entry32
	.align 8
tramp_gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt
tramp_end:

	.code32
ap_entry32:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	mov %ax, %fs
	mov %ax, %gs
	/* Each AP takes the next stack slot. */
	mov $1, %eax
	lock xadd %eax, ap_stack_next
	inc %eax
	shl $12, %eax            /* STACK_SIZE */
	add $ap_stacks, %eax
	mov %eax, %esp
	call ap_main
3:	cli
	hlt
	jmp 3b

	.section .rodata
	.align 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff /* 0x08: code, flat, 32-bit */
	.quad 0x00cf92000000ffff /* 0x10: data, flat */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.bss
	.align 16
bsp_stack:
	.skip STACK_SIZE
	.globl ap_stacks
ap_stacks:
	.skip STACK_SIZE * 64
	.data
	.align 4
ap_stack_next:
	.long 0
	.section .note.GNU-stack, "", @progbits

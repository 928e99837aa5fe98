/* The local APIC and the I/O APIC (82093AA): addresses, register offsets and bit layouts. */
#ifndef ARCH_X86_APIC_H
#define ARCH_X86_APIC_H

#define LAPIC_BASE        0xfee00000u     /* guest-physical page of the local APIC */
#define IOAPIC_BASE       0xfec00000u     /* guest-physical page of the I/O APIC */

/* Local APIC registers: byte offsets in its page (each 32 bits, 16-byte aligned). */
#define LAPIC_ID          0x020
#define LAPIC_VERSION     0x030
#define LAPIC_TPR         0x080
#define LAPIC_APR         0x090
#define LAPIC_PPR         0x0a0
#define LAPIC_EOI         0x0b0
#define LAPIC_LDR         0x0d0
#define LAPIC_DFR         0x0e0
#define LAPIC_SVR         0x0f0
#define LAPIC_ISR         0x100           /* eight registers, 0x10 apart: vectors 0-255 */
#define LAPIC_TMR         0x180
#define LAPIC_IRR         0x200
#define LAPIC_ESR         0x280
#define LAPIC_ICR_LO      0x300
#define LAPIC_ICR_HI      0x310
#define LAPIC_LVT_TIMER   0x320
#define LAPIC_LVT_THERMAL 0x330
#define LAPIC_LVT_PERF    0x340
#define LAPIC_LVT_LINT0   0x350
#define LAPIC_LVT_LINT1   0x360
#define LAPIC_LVT_ERROR   0x370
#define LAPIC_TIMER_INIT  0x380
#define LAPIC_TIMER_CUR   0x390
#define LAPIC_TIMER_DCR   0x3e0

#define LAPIC_SVR_ENABLE  0x100u          /* software enable */
#define LAPIC_ID_SHIFT    24

/* LVT entries (and the vector/mode fields the ICR shares with them). */
#define LVT_VECTOR        0xffu
#define LVT_DM_SHIFT      8
#define LVT_DM_MASK       (7u << LVT_DM_SHIFT)
#define LVT_PENDING       (1u << 12)      /* delivery status */
#define LVT_LEVEL         (1u << 15)      /* trigger mode: level (LINT0/LINT1) */
#define LVT_MASKED        (1u << 16)
#define LVT_TIMER_PERIODIC (1u << 17)
#define LVT_TIMER_MODE    (3u << 17)

/* Delivery modes (LVT, ICR, IOAPIC redirection entries). */
#define DM_FIXED   0u
#define DM_LOWEST  1u
#define DM_SMI     2u
#define DM_NMI     4u
#define DM_INIT    5u
#define DM_STARTUP 6u
#define DM_EXTINT  7u

/* Interrupt command register, low word (vector and delivery mode as in an LVT entry). */
#define ICR_LOGICAL       (1u << 11)
#define ICR_BUSY          (1u << 12)      /* delivery status: send pending */
#define ICR_ASSERT        (1u << 14)
#define ICR_LEVEL         (1u << 15)
#define ICR_SHORT_SHIFT   18
#define ICR_SHORT_NONE    0u
#define ICR_SHORT_SELF    1u
#define ICR_SHORT_ALL     2u
#define ICR_SHORT_OTHERS  3u

/* Error status register bits. */
#define ESR_SEND_ILLEGAL_VECTOR 0x20u
#define ESR_RECV_ILLEGAL_VECTOR 0x40u
#define ESR_ILLEGAL_REGISTER    0x80u

/* I/O APIC: two windows in its page, and the registers behind IOWIN. */
#define IOAPIC_REGSEL     0x00
#define IOAPIC_WIN        0x10
#define IOAPIC_EOIR       0x40            /* version 0x20: EOI by vector */
#define IOAPIC_REG_ID     0x00
#define IOAPIC_REG_VER    0x01
#define IOAPIC_REG_ARB    0x02
#define IOAPIC_REG_TABLE  0x10            /* redirection entry n: 0x10 + 2n (low), 0x11 + 2n (high) */
#define IOAPIC_PINS       24

/* Redirection entry, low word (vector and delivery mode as in an LVT entry). */
#define IORED_LOGICAL     (1u << 11)
#define IORED_PENDING     (1u << 12)
#define IORED_LOW_ACTIVE  (1u << 13)
#define IORED_REMOTE_IRR  (1u << 14)
#define IORED_LEVEL       (1u << 15)
#define IORED_MASKED      (1u << 16)
#define IORED_DEST_SHIFT  24              /* in the high word */

#endif

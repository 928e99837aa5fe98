/* Model-specific register numbers. */
#ifndef ARCH_X86_MSR_H
#define ARCH_X86_MSR_H

#define MSR_TSC            0x010
#define MSR_APIC_BASE      0x01b
#define MSR_SYSENTER_CS    0x174
#define MSR_SYSENTER_ESP   0x175
#define MSR_SYSENTER_EIP   0x176
#define MSR_PAT            0x277
#define MSR_EFER           0xc0000080u

#endif

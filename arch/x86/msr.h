/* Model-specific register numbers. */
#ifndef ARCH_X86_MSR_H
#define ARCH_X86_MSR_H

#define MSR_TSC            0x010
#define MSR_APIC_BASE      0x01b
#define MSR_SYSENTER_CS    0x174
#define MSR_SYSENTER_ESP   0x175
#define MSR_SYSENTER_EIP   0x176
#define MSR_PAT            0x277
#define MSR_UCODE_REV      0x08b
#define MSR_MTRRCAP        0x0fe
#define MSR_MCG_CAP        0x179
#define MSR_MCG_STATUS     0x17a
#define MSR_MCG_CTL        0x17b
#define MSR_MISC_ENABLE    0x1a0
#define MSR_MTRR_VAR_FIRST 0x200
#define MSR_MTRR_VAR_LAST  0x20f
#define MSR_MTRR_FIX64K    0x250
#define MSR_MTRR_FIX16K_80000 0x258
#define MSR_MTRR_FIX16K_A0000 0x259
#define MSR_MTRR_FIX4K_FIRST 0x268
#define MSR_MTRR_FIX4K_LAST  0x26f
#define MSR_MTRR_DEF_TYPE  0x2ff
#define MSR_MC0_CTL        0x400
#define MSR_MC_LAST        0x47f
#define MSR_PKRS           0x6e1
#define MSR_BNDCFGS        0xd90
#define MSR_EFER           0xc0000080u
#define MSR_STAR           0xc0000081u
#define MSR_TSC_AUX        0xc0000103u
#define MSR_VM_HSAVE_PA    0xc0010117u

#endif

/* Bits of the x86 control registers, EFLAGS and EFER: named once, used by name. */
#ifndef ARCH_X86_REGS_H
#define ARCH_X86_REGS_H

#define CR0_PE  (1u << 0)
#define CR0_MP  (1u << 1)
#define CR0_EM  (1u << 2)
#define CR0_TS  (1u << 3)
#define CR0_ET  (1u << 4)
#define CR0_NE  (1u << 5)
#define CR0_WP  (1u << 16)
#define CR0_AM  (1u << 18)
#define CR0_NW  (1u << 29)
#define CR0_CD  (1u << 30)
#define CR0_PG  (1u << 31)

#define CR4_VME  (1u << 0)
#define CR4_PVI  (1u << 1)
#define CR4_TSD  (1u << 2)
#define CR4_DE   (1u << 3)
#define CR4_PSE  (1u << 4)
#define CR4_PAE  (1u << 5)
#define CR4_MCE  (1u << 6)
#define CR4_PGE  (1u << 7)
#define CR4_PCE  (1u << 8)
#define CR4_OSFXSR (1u << 9)
#define CR4_OSXMMEXCPT (1u << 10)
#define CR4_UMIP (1u << 11)
#define CR4_LA57 (1u << 12)
#define CR4_FSGSBASE (1u << 16)
#define CR4_OSXSAVE (1u << 18)
#define CR4_SMEP (1u << 20)
#define CR4_SMAP (1u << 21)
#define CR4_PKE  (1u << 22)
#define CR4_PKS  (1u << 24)

#define EFL_CF   (1u << 0)
#define EFL_FIXED (1u << 1)    /* always reads as 1 */
#define EFL_PF   (1u << 2)
#define EFL_AF   (1u << 4)
#define EFL_ZF   (1u << 6)
#define EFL_SF   (1u << 7)
#define EFL_TF   (1u << 8)
#define DR6_BS   (1u << 14)   /* DR6: single-step trap */
#define EFL_IF   (1u << 9)
#define EFL_ARITH 0x8d5u       /* CF PF AF ZF SF OF */
#define EFL_DF   (1u << 10)
#define EFL_OF   (1u << 11)
#define EFL_IOPL (3u << 12)
#define EFL_IOPL_SHIFT 12
#define EFL_NT   (1u << 14)
#define EFL_RF   (1u << 16)
#define EFL_VM   (1u << 17)
#define EFL_AC   (1u << 18)
#define EFL_VIF  (1u << 19)
#define EFL_VIP  (1u << 20)
#define EFL_ID   (1u << 21)

#define EFER_SCE (1u << 0)
#define EFER_LME (1u << 8)
#define EFER_NXE (1u << 11)
#define EFER_SVME (1u << 12)
#define EFER_FFXSR (1u << 14)

/* Exception vectors. */
#define EXC_DE 0
#define EXC_DB 1
#define EXC_NMI 2
#define EXC_BP 3
#define EXC_OF 4
#define EXC_BR 5
#define EXC_UD 6
#define EXC_NM 7
#define EXC_DF 8
#define EXC_TS 10
#define EXC_NP 11
#define EXC_SS 12
#define EXC_GP 13
#define EXC_PF 14
#define EXC_MF 16
#define EXC_AC 17
#define EXC_MC 18
#define EXC_XM 19

/* #PF error code bits. */
#define PFEC_P    (1u << 0)
#define PFEC_W    (1u << 1)
#define PFEC_U    (1u << 2)
#define PFEC_RSVD (1u << 3)
#define PFEC_I    (1u << 4)

#endif

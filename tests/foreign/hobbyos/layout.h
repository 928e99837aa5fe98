/* hobbyos: the memory layout, the selectors and the system call numbers, shared by the
 * kernel and the user program. A variant folder defines HZ and KERNEL_VBASE before
 * including the sources (100 Hz and an identity-mapped kernel by default). */
#ifndef LAYOUT_H
#define LAYOUT_H

#ifndef HZ
#define HZ 100
#endif
#ifndef KERNEL_VBASE
#define KERNEL_VBASE 0x00000000u        /* 0xC0000000 for the higher-half build */
#endif

#define STR_(x) #x
#define STR(x) STR_(x)
#define HZ_TEXT STR(HZ)
#if KERNEL_VBASE
#define VARIANT_TEXT "higher half"
#else
#define VARIANT_TEXT "identity-mapped"
#endif

/* Selectors. The TSS sits first on purpose: the loader's CS (0x08) names it after LGDT. */
#define SEL_TSS    0x08
#define SEL_KCODE  0x10
#define SEL_KDATA  0x18
#define SEL_UDATA  0x23
#define SEL_UCODE  0x2b
#define SEL_LDT    0x30                 /* the running process's LDT (rewritten at each switch) */
/* A second set in the order SYSENTER/SYSEXIT need: code, data, user code, user data. */
#define SEL_SYS_KCODE 0x38
#define SEL_SYS_KDATA 0x40
#define SEL_SYS_UCODE 0x4b
#define SEL_SYS_UDATA 0x53
/* The kernel's view of the running process's info page: a kernel-only segment at UINFO that
 * the SYSENTER path loads into FS. */
#define SEL_KINFO 0x58

/* Each process's LDT: entry 0 a kernel-only data segment, entry 1 its "TLS" segment, a
 * user data segment whose base is its info page. */
#define SEL_LDT_KDATA 0x04
#define SEL_LDT_TLS   0x0f

/* Physical memory the kernel maps (4 MiB pages) and where it takes frames from. */
#define KMAP_BYTES   (16u << 20)
#define FRAMES_START (4u << 20)
#define FRAMES_END   (8u << 20)

/* User address space: the same in every process, different frames behind it. */
#define UCODE      0x40000000u          /* the user image, shared read-only frames */
#define UINFO      0x40100000u          /* per process: who am I, the timer's mailbox */
#define UWORK      0x40101000u          /* per process: scratch the process fills */
#define UTMPL      0x40102000u          /* one shared frame, read-only: copied on write */
#define USPARE     0x40103000u          /* mapped writable, never touched */
#define USTACK_LO  0x7fffe000u          /* two stack pages; only the top one is used */
#define USTACK_TOP 0x80000000u
#define UNMAPPED   0x50000000u

/* Every directory maps itself in its last entry: the current address space's page tables
 * appear at 0xFFC00000 (entry n of all of them at PTES[n]), the directory at 0xFFFFF000. */
#define RECURSIVE_SLOT 1023
#define PTES ((volatile unsigned *)0xffc00000u)
#define PDES ((volatile unsigned *)0xfffff000u)

enum { SYS_WRITE = 1, SYS_YIELD, SYS_GETPID, SYS_EXIT, SYS_SLEEP, SYS_IDENT, SYS_IOPL };

/* The ports every process may use through the TSS's I/O bitmap: COM1's data and status. */
#define UART_DATA 0x3f8
#define UART_LSR  0x3fd

/* The info page, written by the kernel when it builds the process. */
struct uinfo {
    unsigned pid;
    unsigned role;
    volatile unsigned ticks_in_user;    /* bumped by the timer when it interrupts user mode */
    unsigned started;                   /* the process writes 1 here first thing */
    unsigned kernel_addr;               /* a kernel address the process may not read */
    char name[16];
    char motto[48];
};

#define TEMPLATE_TEXT "the shared template page"

#endif

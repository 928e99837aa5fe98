/* pgos: the system call numbers and the layout both sides agree on. INT 0x80, number in EAX,
 * arguments in EBX, ECX, EDX; the result comes back in EAX (negative: an error). */
#ifndef PGOS_SYS_H
#define PGOS_SYS_H

enum {
    SYS_EXIT, SYS_WRITE, SYS_FORK, SYS_WAIT, SYS_YIELD, SYS_MMAP, SYS_MUNMAP, SYS_GETPID,
    SYS_PTE,        /* the page-table entry of an address, read through the recursive slot */
    SYS_FRAMEOF,    /* 1 when the frame of the address (ECX 0) or of its table (ECX 1) is the last
                     * page directory freed, else 0 */
    SYS_TRACE,      /* 1: print every page fault of this process; 0: stop */
    SYS_PUTPID,     /* the kernel stores the pid at a user address (a kernel-mode user write) */
    SYS_POKE_NOWP,  /* the kernel writes a word at a user address with CR0.WP clear */
    SYS_STAT,       /* a kernel counter (EBX: which) */
    SYS_READ_AT,    /* the kernel copies ECX bytes from its test pattern to a user buffer */
    SYS_FREE,       /* frames no process holds: free ones and the kernel's own */
    SYS_PREEMPT,    /* 1: the timer (1 kHz) preempts ring 3; 0: cooperative again */
    SYS_SLEEP,      /* sleep EBX timer ticks (the kernel halts when nothing can run) */
    SYS_WAITPID,    /* wait for child EBX; its status to ECX */
};

enum { ST_DEMAND, ST_COW_COPY, ST_COW_REUSE, ST_KFAULT_USER, ST_PT_FREED, ST_FILE, ST_COUNT };

#define PG_COW   0x200u            /* an available bit: writable once copied */
#define USER_STACK_TOP 0x7ffff000u
#define USER_STACK_LOW 0x7ff00000u
#define EFAULT 14
#define ENOMEM 12
#define ECHILD 10

#endif

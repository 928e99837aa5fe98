/* Emulating the privileged instructions of a guest kernel that runs at CPL3.
 *
 * Each instruction is first checked the way the guest's CPU would check it at the guest's
 * own CPL and IOPL (a guest user program gets the #GP it would get natively), then
 * performed on the virtual CPU. Port I/O suspends to the supervisor and finishes in a
 * continuation. MSRs: SYSENTER_CS/ESP/EIP, PAT, EFER (the bits CPUID announces), APIC_BASE
 * (reads 0xfee00900), TSC (reads the real one; writes are ignored), TSC_AUX; the machine's
 * MTRRs, machine-check registers, MISC_ENABLE, microcode revision, STAR, VM_HSAVE_PA, PKRS
 * and BNDCFGS (kept, acting on nothing) exist
 * where the real CPU has them and start with its values (what the firmware left), writes
 * staying the guest's; every other MSR raises #GP(0), as on a CPU without it.
 */
#include "monitor/emulate.h"
#include "monitor/mon.h"
#include "monitor/emu/decode.h"
#include "monitor/emu/emulate.h"
#include "monitor/desc.h"
#include "monitor/gmem.h"
#include "monitor/reflect.h"
#include "monitor/mmio.h"
#include "monitor/task.h"
#include "monitor/callgate.h"
#include "paging/paging.h"
#include "arch/x86/regs.h"
#include "arch/x86/msr.h"
#include "arch/x86/mmu.h"
#include "lib/string.h"

#define LAPIC_TPR_GPA 0xfee00080u

/* A general register of the frame by number (EAX..EDI). */
static uint32_t *reg(struct guest_frame *f, unsigned r)
{
    switch (r & 7) {
    case 0: return &f->eax; case 1: return &f->ecx; case 2: return &f->edx; case 3: return &f->ebx;
    case 4: return &f->esp; case 5: return &f->ebp; case 6: return &f->esi; default: return &f->edi;
    }
}

/* The real selector of segment register s (ES CS SS DS FS GS order). */
static uint16_t sreg(const struct guest_frame *f, int s)
{
    const uint32_t v[6] = { f->es, f->cs, f->ss, f->ds, f->fs, f->gs };
    return (uint16_t)v[s];
}


/* The guest-linear address of the memory operand, plus off. */
static uint32_t operand_linear(const struct guest_frame *f, const struct emu_insn *in, uint32_t off)
{
    const uint32_t gpr[8] = { f->eax, f->ecx, f->edx, f->ebx, f->esp, f->ebp, f->esi, f->edi };
    return seg_base(sreg(f, in->ea_seg)) + emu_ea(in, gpr) + off;
}

/* Read or write the memory operand; false after delivering the fault. */
static bool mem_read(struct guest_frame *f, const struct emu_insn *in, uint32_t off, void *buf, uint32_t n)
{
    uint32_t fva, e = glin_read(operand_linear(f, in, off), buf, n, glin_acc(), &fva);
    if (e) deliver_pf(f, fva, e);
    return !e;
}

static bool mem_write(struct guest_frame *f, const struct emu_insn *in, uint32_t off, const void *buf, uint32_t n)
{
    uint32_t fva, e = glin_write(operand_linear(f, in, off), buf, n, glin_acc(), &fva);
    if (e) deliver_pf(f, fva, e);
    return !e;
}

/* Store a 16-bit value to an r/m16 operand (a register gets it zero-extended). */
static bool store_rm16(struct guest_frame *f, const struct emu_insn *in, uint32_t v)
{
    if (!in->mem) { *reg(f, in->rm) = in->opsize == 2 ? ((*reg(f, in->rm) & 0xffff0000u) | (v & 0xffff)) : v; return true; }
    uint16_t w = (uint16_t)v;
    return mem_write(f, in, 0, &w, 2);
}

/* Load an r/m16 operand. */
static bool load_rm16(struct guest_frame *f, const struct emu_insn *in, uint32_t *v)
{
    if (!in->mem) { *v = *reg(f, in->rm) & 0xffff; return true; }
    uint16_t w;
    if (!mem_read(f, in, 0, &w, 2)) return false;
    *v = w;
    return true;
}

static void gp0(struct guest_frame *f) { deliver_exception(f, EXC_GP, 0); }

/* Load SS with guest selector sel as the guest's CPU would; false after delivering a fault. */
static bool load_ss(struct guest_frame *f, uint32_t sel)
{
    struct seg_desc d;
    shared->count.emulated[EMU_LOAD_SS]++;
    desc_sync(f);
    if (!(sel & ~3u) || (sel & 3) != vcpu.cpl) { deliver_exception(f, EXC_GP, sel & ~3u); return false; }
    if (!guest_desc_own((uint16_t)sel, &d) || !desc_is_wdata(d) || desc_dpl(d) != vcpu.cpl) {
        deliver_exception(f, EXC_GP, sel & ~3u);
        return false;
    }
    if (!desc_present(d)) { deliver_exception(f, EXC_SS, sel & ~3u); return false; }
    f->ss = (sel & ~3u) | 3;
    return true;
}

/* POP SS, MOV SS, LSS: the load with the guest CPU's checks, then the one instruction after
 * it runs before any interrupt (or single-step trap). */
static void emulate_ss_load(struct guest_frame *f, const struct emu_insn *in)
{
    uint32_t sel = 0, off = 0, fva, e;
    if (in->cls == K_POP_SREG) {
        if ((e = glin_read(seg_base((uint16_t)f->ss) + f->esp, &sel, 2, glin_acc(), &fva))) { deliver_pf(f, fva, e); return; }
    } else if (in->cls == K_MOV_SREG) {
        if (!load_rm16(f, in, &sel)) return;
    } else {
        if (!in->mem) { deliver_exception(f, EXC_UD, 0); return; }
        if (!mem_read(f, in, 0, &off, in->opsize) || !mem_read(f, in, in->opsize, &sel, 2)) return;
    }
    if (!load_ss(f, sel)) return;
    if (in->cls == K_POP_SREG) f->esp += in->opsize;
    if (in->cls == K_LSEG) *reg(f, in->reg) = off;
    f->eip += in->len;
    if (in->cls == K_LSEG) open_irq_shadow(f);
    else open_ss_shadow(f);         /* MOV SS and POP SS hold NMIs back too (SDM Vol. 3A 6.8.3) */
}

/* The single-step #DB that follows an instruction the monitor performed under the guest's TF. */
static void step_trap(struct guest_frame *f)
{
    vcpu.dr[6] = (vcpu.dr[6] & ~0xe00fu) | DR6_BS;
    deliver_exception(f, EXC_DB, 0);
}

/* Continuation of IN/OUT/INS/OUTS: ctx packs the instruction length, size and kind. */
#define IO_LEN(c)  ((c) & 0xf)
#define IO_SIZE(c) (((c) >> 4) & 7)
#define IO_IN      0x100u
#define IO_STRING  0x200u
#define IO_REP     0x400u
#define IO_A16     0x800u      /* 16-bit addressing: SI, DI and CX */

/* Index or count register r as the string instruction's address size sees it. */
static uint32_t io_reg(uint32_t r, bool a16) { return a16 ? r & 0xffff : r; }

/* Add d to index or count register r in the address size (16 bits: the upper half stays). */
static void io_add(uint32_t *r, uint32_t d, bool a16)
{
    *r = a16 ? (*r & 0xffff0000u) | ((*r + d) & 0xffff) : *r + d;
}

static void io_done(struct guest_frame *f, const struct msg *a, uint32_t c)
{
    unsigned size = IO_SIZE(c);
    bool a16 = c & IO_A16;
    uint32_t v = a ? a->a[0] : 0xffffffffu;
    if (!(c & IO_STRING)) {
        if (c & IO_IN) {
            uint32_t mask = size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
            f->eax = (f->eax & ~mask) | (v & mask);
        }
        f->eip += IO_LEN(c);
        if (f->eflags & EFL_TF) step_trap(f);
        return;
    }
    uint32_t step = (f->eflags & EFL_DF) ? (uint32_t)-size : size;
    if (c & IO_IN) {
        uint32_t fva, e = glin_write(seg_base((uint16_t)f->es) + io_reg(f->edi, a16), &v, size, glin_acc(), &fva);
        if (e) { deliver_pf(f, fva, e); return; }
        io_add(&f->edi, step, a16);
    } else {
        io_add(&f->esi, step, a16);
    }
    if (c & IO_REP) {
        io_add(&f->ecx, (uint32_t)-1, a16);
        if (!io_reg(f->ecx, a16)) f->eip += IO_LEN(c);   /* else it runs again for the next element */
    } else {
        f->eip += IO_LEN(c);
    }
    /* Under the guest's single step: a trap after the instruction (after each element of a
     * repeated one, whose EIP stays on it until the last). */
    if (f->eflags & EFL_TF) step_trap(f);
}

/* May the guest reach the size ports from port at its CPL? Its IOPL, else the I/O permission
 * bitmap of its 32-bit TSS (SDM Vol. 1 19.5): every port's bit clear, the two bytes holding
 * them read from the map and within the TSS limit. False after delivering #GP(0) (or the #PF
 * of reading the TSS, an implicit supervisor access). */
static bool io_permitted(struct guest_frame *f, uint32_t port, unsigned size)
{
    uint16_t base, bits;
    uint32_t fva, e;
    if (vcpu.cpl <= vcpu.iopl) return true;
    if (!vcpu.tr_tss32 || vcpu.tr_limit < 103) { gp0(f); return false; }
    if ((e = glin_read(vcpu.tr_base + 102, &base, 2, 0, &fva))) { deliver_pf(f, fva, e); return false; }
    uint32_t at = (uint32_t)base + port / 8;
    if (at + 1 > vcpu.tr_limit) { gp0(f); return false; }
    if ((e = glin_read(vcpu.tr_base + at, &bits, 2, 0, &fva))) { deliver_pf(f, fva, e); return false; }
    if ((bits >> (port & 7)) & ((1u << size) - 1)) { gp0(f); return false; }
    return true;
}

/* IN, OUT, INS, OUTS: checked against the guest's IOPL and I/O bitmap, then sent to the
 * device models. */
static void emulate_io(struct guest_frame *f, const struct emu_insn *in)
{
    uint32_t port = in->has_imm ? in->imm : (f->edx & 0xffff), value = 0;
    if (!io_permitted(f, port, in->size)) return;
    bool is_in = in->cls == K_IN || in->cls == K_INS, string = in->cls == K_INS || in->cls == K_OUTS;
    bool a16 = string && in->addrsize == 2;
    shared->count.emulated[in->cls == K_IN ? EMU_IN : in->cls == K_OUT ? EMU_OUT : is_in ? EMU_INS : EMU_OUTS]++;
    if (string && in->rep && io_reg(f->ecx, a16) == 0) { f->eip += in->len; return; }
    if (is_in && string) {
        /* The destination is checked before the port is read (as Bochs and QEMU do): an
         * element that faults takes nothing from the device. */
        uint32_t fva, e = glin_read(seg_base((uint16_t)f->es) + io_reg(f->edi, a16), &value, in->size,
                                    glin_acc() | ACC_WRITE, &fva);
        if (e) { deliver_pf(f, fva, e); return; }
    }
    if (!is_in) {
        if (!string) value = f->eax;
        else {
            uint32_t fva, e = glin_read(seg_base(sreg(f, in->seg >= 0 ? in->seg : SEG_DS)) + io_reg(f->esi, a16),
                                        &value, in->size, glin_acc(), &fva);
            if (e) { deliver_pf(f, fva, e); return; }
        }
    }
    struct msg req = { .type = MSG_IO, .a = { port, in->size, !is_in, value } };
    uint32_t ctx = in->len | in->size << 4 | (is_in ? IO_IN : 0) | (string ? IO_STRING : 0) | (in->rep ? IO_REP : 0) |
                   (a16 ? IO_A16 : 0);
    suspend(&req, io_done, ctx);
}

/* CPUID leaf 1, 5, 7 or 80000001h (subleaf 0) of the real CPU, which the guest sees too;
 * zeros past the last leaf. Read once: the feature bits used here never change (the OS bits
 * that follow CR4, OSXSAVE and OSPKE, are not used), and CPUID may be slow under a hypervisor. */
static void cpuid_leaf(uint32_t leaf, uint32_t r[4])
{
    static uint32_t cache[4][4];
    static bool have[4];
    unsigned k = leaf == 1 ? 0 : leaf == 7 ? 1 : leaf == 5 ? 3 : 2;
    if (!have[k]) {
        uint32_t *c = cache[k], top = leaf & 0x80000000u;
        __asm__ volatile("cpuid" : "=a"(c[0]), "=b"(c[1]), "=c"(c[2]), "=d"(c[3]) : "a"(top), "c"(0));
        if (c[0] < leaf) c[0] = c[1] = c[2] = c[3] = 0;
        else __asm__ volatile("cpuid" : "=a"(c[0]), "=b"(c[1]), "=c"(c[2]), "=d"(c[3]) : "a"(leaf), "c"(0));
        have[k] = true;
    }
    for (unsigned i = 0; i < 4; i++) r[i] = cache[k][i];
}

/* The CR4 bits the guest may set: the architectural ones this CPU has. LA57, PKE and PKS
 * change nothing in the 32-bit paging a guest may use; their bits are kept. */
static uint32_t cr4_allowed(void)
{
    uint32_t r[4], ok = CR4_VME | CR4_PVI | CR4_TSD | CR4_DE | CR4_PSE | CR4_PAE | CR4_MCE |
                        CR4_PGE | CR4_PCE | CR4_OSFXSR | CR4_OSXMMEXCPT;
    cpuid_leaf(1, r);
    if (r[2] & (1u << 26)) ok |= CR4_OSXSAVE;
    cpuid_leaf(7, r);
    if (r[1] & (1u << 0)) ok |= CR4_FSGSBASE;
    if (r[1] & (1u << 7)) ok |= CR4_SMEP;
    if (r[1] & (1u << 20)) ok |= CR4_SMAP;
    if (r[2] & (1u << 2)) ok |= CR4_UMIP;
    if (r[2] & (1u << 3)) ok |= CR4_PKE;
    if (r[2] & (1u << 16)) ok |= CR4_LA57;
    if (r[2] & (1u << 31)) ok |= CR4_PKS;
    return ok;
}

/* The EFER bits this CPU has (CPUID 80000001h): SCE, LME, NXE, SVME, FFXSR. */
static uint64_t efer_allowed(void)
{
    uint32_t r[4];
    uint64_t ok = 0;
    cpuid_leaf(0x80000001u, r);
    if (r[3] & (1u << 11)) ok |= EFER_SCE;
    if (r[3] & (1u << 29)) ok |= EFER_LME;
    if (r[3] & (1u << 20)) ok |= EFER_NXE;
    if (r[2] & (1u << 2)) ok |= EFER_SVME;
    if (r[3] & (1u << 25)) ok |= EFER_FFXSR;
    return ok;
}

/* XSETBV: XCR0 with the checks the CPU makes (ECX 0, x87 on, AVX only with SSE, supported
 * bits), and then the real CPU's own (MPX's two components together, AVX-512's three...): the
 * value is tried on it, and one it refuses is the guest's #GP. */
static void emulate_xsetbv(struct guest_frame *f, const struct emu_insn *in)
{
    uint64_t v = (uint64_t)f->edx << 32 | f->eax;
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0xd), "c"(0));
    uint64_t supported = (uint64_t)d << 32 | a;
    if (vcpu.cpl || f->ecx != 0 || !(vcpu.cr4 & CR4_OSXSAVE) || !(v & 1) || (v & ~supported) ||
        ((v & 4) && !(v & 2)) || mon_xsetbv(v) >= 0) {
        fpu_sync_cr0();                 /* the real XCR0 is the guest's old one again */
        gp0(f);
        return;
    }
    vcpu.xcr0 = v;
    fpu_sync_cr0();
    f->eip += in->len;
}

/* MOV to CR0/CR2/CR3/CR4 with the checks the guest's CPU makes; false after a fault. */
static bool write_cr(struct guest_frame *f, unsigned cr, uint32_t v)
{
    if (cr != 2) pt_reserve();          /* may suspend; the instruction then runs again */
    switch (cr) {
    case 0: {
        if ((v & CR0_PG) && !(v & CR0_PE)) { gp0(f); return false; }
        if ((v & CR0_NW) && !(v & CR0_CD)) { gp0(f); return false; }
        if (!(v & CR0_PE)) guest_stop(STOP_BAD_STATE, "the guest left protected mode (CR0 %08x); real mode is not supported", v);
        if ((v & CR0_PG) && (vcpu.cr4 & CR4_PAE))
            guest_stop(STOP_UNSUPPORTED, "the guest turned on PAE paging; only 32-bit paging guests are supported yet");
        uint32_t old = vcpu.cr0;
        vcpu.cr0 = v | CR0_ET;
        if ((old ^ vcpu.cr0) & (CR0_PG | CR0_WP)) pt_mode_changed();
        fpu_sync_cr0();
        break;
    }
    case 2: vcpu.cr2 = v; break;
    case 3: vcpu.cr3 = v; pt_cr3_written(); break;
    case 4: {
        if (v & ~cr4_allowed()) { gp0(f); return false; }
        if ((v & CR4_PAE) && (vcpu.cr0 & CR0_PG))
            guest_stop(STOP_UNSUPPORTED, "the guest turned on PAE paging; only 32-bit paging guests are supported yet");
        if (v & (CR4_VME | CR4_PVI)) guest_stop(STOP_UNSUPPORTED, "CR4.VME/PVI (virtual-8086 extensions) not supported");
        uint32_t old = vcpu.cr4;
        vcpu.cr4 = v;
        /* SMEP too: the code window's entries were made under the old rule (code.c). */
        if ((old ^ v) & (CR4_PSE | CR4_PGE | CR4_PAE | CR4_SMEP)) pt_mode_changed();
        else if ((old ^ v) & CR4_SMAP) pt_smap_changed();     /* the SMAP view: paging.c */
        fpu_sync_cr0();
        break;
    }
    default: deliver_exception(f, EXC_UD, 0); return false;
    }
    return true;
}

/* Is msr one of the machine's MSRs the guest gets a copy of (the real CPU decides whether it
 * exists)? *ro: writes to it are #GP(0). */
static bool machine_msr(uint32_t msr, bool *ro)
{
    *ro = msr == MSR_MTRRCAP || msr == MSR_MCG_CAP;
    return msr == MSR_UCODE_REV || msr == MSR_MTRRCAP || msr == MSR_MCG_CAP || msr == MSR_MCG_STATUS ||
           msr == MSR_MCG_CTL || msr == MSR_MISC_ENABLE || (msr >= MSR_MTRR_VAR_FIRST && msr <= MSR_MTRR_VAR_LAST) ||
           msr == MSR_MTRR_FIX64K || msr == MSR_MTRR_FIX16K_80000 || msr == MSR_MTRR_FIX16K_A0000 ||
           (msr >= MSR_MTRR_FIX4K_FIRST && msr <= MSR_MTRR_FIX4K_LAST) || msr == MSR_MTRR_DEF_TYPE ||
           (msr >= MSR_MC0_CTL && msr <= MSR_MC_LAST) || msr == MSR_STAR || msr == MSR_VM_HSAVE_PA ||
           msr == MSR_PKRS || msr == MSR_BNDCFGS;
}

/* The guest's values of machine MSRs it has written; the others read as the real CPU's. */
#define MACHINE_MSRS 96
static struct { uint32_t msr; uint64_t value; } written[MACHINE_MSRS];
static unsigned nwritten;

/* RDMSR (write false) or WRMSR of a machine MSR; false when the guest gets #GP(0). */
static bool machine_msr_access(uint32_t msr, bool write, uint64_t *v)
{
    bool ro;
    uint64_t real;
    unsigned i;
    if (!machine_msr(msr, &ro) || mon_rdmsr(msr, &real) >= 0) return false;
    for (i = 0; i < nwritten && written[i].msr != msr; i++) {}
    if (!write) { *v = i < nwritten ? written[i].value : real; return true; }
    if (ro) return false;
    if (msr == MSR_UCODE_REV) return true;            /* a write asks for the revision: no change */
    if (msr == MSR_PKRS && (*v >> 32)) return false;   /* 32 bits */
    if (i == nwritten) {
        if (nwritten == MACHINE_MSRS) guest_stop(STOP_UNSUPPORTED, "the guest wrote more than %u machine MSRs", MACHINE_MSRS);
        written[nwritten++].msr = msr;
    }
    written[i].value = *v;
    return true;
}

/* RDMSR and WRMSR of the set above; others #GP(0). */
static void emulate_msr(struct guest_frame *f, bool write)
{
    uint64_t v = (uint64_t)f->edx << 32 | f->eax;
    uint64_t *slot = 0;
    uint32_t r[4];
    shared->count.emulated[write ? EMU_WRMSR : EMU_RDMSR]++;
    switch (f->ecx) {
    case MSR_SYSENTER_CS: slot = &vcpu.sysenter_cs; if (write) v &= 0xffff; break;   /* a selector */
    case MSR_SYSENTER_ESP: case MSR_SYSENTER_EIP:
        slot = f->ecx == MSR_SYSENTER_ESP ? &vcpu.sysenter_esp : &vcpu.sysenter_eip;
        cpuid_leaf(0x80000001u, r);
        if (write && !(r[3] & (1u << 29))) v &= 0xffffffffu;     /* 32 bits without long mode */
        break;
    case MSR_PAT: slot = &vcpu.pat; break;
    case MSR_TSC:
        if (!write) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); v = (uint64_t)hi << 32 | lo; }
        break;
    case MSR_APIC_BASE: if (!write) v = 0xfee00900u; break;
    case MSR_EFER: {
        static uint64_t efer;
        if (write) { if (v & ~efer_allowed()) { gp0(f); return; } efer = v; }
        else v = efer;
        break;
    }
    case MSR_TSC_AUX:
        cpuid_leaf(0x80000001u, r);
        if (!(r[3] & (1u << 27)) || (write && (v >> 32))) { gp0(f); return; }
        if (write) { vcpu.tsc_aux = (uint32_t)v; fpu_sync_cr0(); }
        else v = vcpu.tsc_aux;
        break;
    default:
        if (!machine_msr_access(f->ecx, write, &v)) { gp0(f); return; }
        break;
    }
    if (slot) { if (write) *slot = v; else v = *slot; }
    if (!write) { f->eax = (uint32_t)v; f->edx = (uint32_t)(v >> 32); }
    f->eip += 2;
}

/* RDTSC, and RDTSCP (which also gives TSC_AUX in ECX), trapped by the guest's CR4.TSD: its
 * user mode gets #GP(0), its kernel the real TSC. */
static void emulate_rdtsc(struct guest_frame *f, const struct emu_insn *in, bool rdtscp)
{
    uint32_t lo, hi;
    if (vcpu.cpl && (vcpu.cr4 & CR4_TSD)) { gp0(f); return; }
    shared->count.emulated[EMU_RDTSC]++;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    f->eax = lo;
    f->edx = hi;
    if (rdtscp) f->ecx = vcpu.tsc_aux;
    f->eip += in->len;
}

/* RDPMC: #GP(0) in the guest's user mode unless its CR4.PCE is set; otherwise the real CPU
 * reads the counter (or refuses it, and the guest gets the same fault). */
static void emulate_rdpmc(struct guest_frame *f, const struct emu_insn *in)
{
    uint64_t v;
    if (vcpu.cpl && !(vcpu.cr4 & CR4_PCE)) { gp0(f); return; }
    shared->count.emulated[EMU_RDPMC]++;
    int fault = mon_rdpmc(f->ecx, &v);
    if (fault >= 0) { deliver_exception(f, (unsigned)fault, 0); return; }
    f->eax = (uint32_t)v;
    f->edx = (uint32_t)(v >> 32);
    f->eip += in->len;
}

/* Continuation of a CR8 read: the local APIC's TPR (ctx: register | length << 8). The
 * suspension skipped the caller's single-step check: the #DB trap follows here. */
static void cr8_read_done(struct guest_frame *f, const struct msg *a, uint32_t ctx)
{
    *reg(f, ctx & 7) = a ? (a->a[0] >> 4) & 0xf : 0;
    f->eip += ctx >> 8;
    if (f->eflags & EFL_TF) step_trap(f);
}

/* Continuation of a CR8 write (the TPR has it): the single-step #DB trap, as after a read. */
static void cr8_write_done(struct guest_frame *f, const struct msg *a, uint32_t ctx)
{
    (void)a; (void)ctx;
    if (f->eflags & EFL_TF) step_trap(f);
}

/* LOCK MOV to or from CR0: CR8, the local APIC's task priority, on CPUs with AltMovCr8
 * (CPUID 80000001h ECX bit 4); #UD elsewhere, as any LOCK prefix on MOV CR. */
static void emulate_cr8(struct guest_frame *f, const struct emu_insn *in)
{
    uint32_t c[4];
    cpuid_leaf(0x80000001u, c);
    if (in->reg != 0 || !(c[2] & (1u << 4))) { deliver_exception(f, EXC_UD, 0); return; }
    if (in->cls == K_MOV_FROM_CR) {
        struct msg req = { .type = MSG_MMIO, .a = { LAPIC_TPR_GPA, 4, 0, 0 } };
        suspend(&req, cr8_read_done, in->rm | (uint32_t)in->len << 8);
    }
    uint32_t v = *reg(f, in->rm);
    if (v & ~0xfu) { gp0(f); return; }
    f->eip += in->len;
    struct msg req = { .type = MSG_MMIO, .a = { LAPIC_TPR_GPA, 4, 1, v << 4 } };
    suspend(&req, cr8_write_done, 0);
}

/* LTR: the guest's TSS descriptor becomes busy in its own GDT; false after a fault. */
static bool emulate_ltr(struct guest_frame *f, uint32_t sel)
{
    struct seg_desc d;
    uint32_t fva;
    shared->count.emulated[EMU_LTR]++;
    unsigned type = 0;
    if ((sel & SEL_TI) || !guest_desc_own((uint16_t)sel, &d) || (desc_access(d) & DESC_S) ||
        ((type = desc_access(d) & DESC_TYPE_MASK) != DESC_TYPE_TSS32 && type != 1)) {
        deliver_exception(f, EXC_GP, sel & ~3u);
        return false;
    }
    if (!desc_present(d)) { deliver_exception(f, EXC_NP, sel & ~3u); return false; }
    d.hi |= 0x200;     /* busy */
    /* An implicit supervisor write: a read-only GDT page (under CR0.WP) or a missing one
     * faults, and TR stays as it was. */
    uint32_t e = glin_write(vcpu.gdt_base + (sel & ~7u) + 4, &d.hi, 4, 0, &fva);
    if (e) { deliver_pf(f, fva, e); return false; }
    vcpu.tr = (uint16_t)sel;
    vcpu.tr_base = desc_base(d);
    vcpu.tr_limit = desc_limit(d);
    vcpu.tr_tss32 = type == DESC_TYPE_TSS32;
    return true;
}

/* LAR, LSL, VERR, VERW against the guest's own descriptors, at its CPL: ZF says whether the
 * selector passed; LAR and LSL then load its access rights or its limit. */
static void emulate_seg_check(struct guest_frame *f, const struct emu_insn *in)
{
    uint32_t sel;
    if (!load_rm16(f, in, &sel)) return;
    struct seg_desc d;
    bool lar = in->cls == K_LAR, lsl = in->cls == K_LSL, verw = in->cls == K_GRP6 && in->reg == 5;
    bool ok = (sel & ~3u) && guest_desc_own((uint16_t)sel, &d);
    shared->count.emulated[EMU_SEGCHECK]++;
    if (ok) {
        unsigned type = desc_access(d) & DESC_TYPE_MASK;
        bool sys = !(desc_access(d) & DESC_S);
        bool conforming = desc_is_code(d) && (desc_access(d) & DESC_TYPE_CONFORMING);
        if (sys) {
            /* LAR: TSSs, LDT, call and task gates; LSL: TSSs and LDT; VERR/VERW: none. */
            bool tss_ldt = type == 1 || type == 2 || type == 3 || type == 9 || type == 11;
            ok = lsl ? tss_ldt : lar ? (tss_ldt || type == 4 || type == 5 || type == 12) : false;
        } else if (!lar && !lsl) {
            ok = verw ? desc_is_wdata(d) : (!desc_is_code(d) || (desc_access(d) & DESC_TYPE_DATA_RW));   /* bit 1 of a code type: readable */
        }
        unsigned rpl = sel & 3, need = vcpu.cpl > rpl ? vcpu.cpl : rpl;
        if (ok && !(conforming && !sys) && desc_dpl(d) < need) ok = false;
    }
    if (ok && lar) {
        uint32_t v = d.hi & (in->opsize == 2 ? 0xff00u : 0x00f0ff00u);
        uint32_t *r = reg(f, in->reg);
        *r = in->opsize == 2 ? ((*r & 0xffff0000u) | v) : v;
    }
    if (ok && lsl) {
        uint32_t v = desc_limit(d), *r = reg(f, in->reg);
        *r = in->opsize == 2 ? ((*r & 0xffff0000u) | (v & 0xffff)) : v;
    }
    f->eflags = ok ? (f->eflags | EFL_ZF) : (f->eflags & ~EFL_ZF);
    f->eip += in->len;
}

/* Group 6 (SLDT STR LLDT LTR) and group 7 (SGDT SIDT LGDT LIDT SMSW LMSW INVLPG). */
static void emulate_group(struct guest_frame *f, const struct emu_insn *in)
{
    bool grp7 = in->cls == K_GRP7;
    unsigned r = in->reg;
    if (grp7 && !in->mem && r == 2 && in->rm == 1) { emulate_xsetbv(f, in); return; }
    if (grp7 && !in->mem && r == 7 && in->rm == 1) {
        uint32_t c[4];
        cpuid_leaf(0x80000001u, c);
        if (c[3] & (1u << 27)) { emulate_rdtsc(f, in, true); return; }      /* RDTSCP */
    }
    bool privileged = grp7 ? (r == 2 || r == 3 || r == 6 || r == 7) : (r == 2 || r == 3);
    if (!grp7 && (r == 4 || r == 5)) { emulate_seg_check(f, in); return; }
    if ((grp7 && (r == 5 || (r == 7 && !in->mem) || ((r < 4) && !in->mem))) || (!grp7 && r > 3)) {
        deliver_exception(f, EXC_UD, 0);
        return;
    }
    if (privileged && vcpu.cpl != 0) { gp0(f); return; }
    /* SGDT, SIDT, SLDT, STR, SMSW outside the kernel with the guest's CR4.UMIP. */
    if (!privileged && vcpu.cpl != 0 && (vcpu.cr4 & CR4_UMIP) && (!grp7 || r < 5)) { gp0(f); return; }
    uint32_t v;
    if (!grp7) {
        switch (r) {
        case 0: shared->count.emulated[EMU_SLDT]++; if (!store_rm16(f, in, vcpu.ldtr)) return; break;
        case 1: shared->count.emulated[EMU_STR]++; if (!store_rm16(f, in, vcpu.tr)) return; break;
        case 2:
            shared->count.emulated[EMU_LLDT]++;
            if (!load_rm16(f, in, &v) || !desc_load_ldt(f, (uint16_t)v)) return;
            break;
        case 3: if (!load_rm16(f, in, &v) || !emulate_ltr(f, v)) return; break;
        }
        f->eip += in->len;
        return;
    }
    switch (r) {
    case 0: case 1: {      /* SGDT, SIDT */
        shared->count.emulated[r ? EMU_SIDT : EMU_SGDT]++;
        uint16_t lim = (uint16_t)(r ? vcpu.idt_limit : vcpu.gdt_limit);
        uint32_t base = r ? vcpu.idt_base : vcpu.gdt_base;
        if (in->opsize == 2) base &= 0x00ffffff;       /* 24 bits of base, the top byte 0 */
        if (!mem_write(f, in, 0, &lim, 2) || !mem_write(f, in, 2, &base, 4)) return;
        break;
    }
    case 2: case 3: {      /* LGDT, LIDT */
        uint16_t lim;
        uint32_t base;
        shared->count.emulated[r == 2 ? EMU_LGDT : EMU_LIDT]++;
        if (!mem_read(f, in, 0, &lim, 2) || !mem_read(f, in, 2, &base, 4)) return;
        if (in->opsize == 2) base &= 0x00ffffff;
        if (r == 2) desc_load_gdt(f, base, lim);
        else { vcpu.idt_base = base; vcpu.idt_limit = lim; }
        break;
    }
    case 4: shared->count.emulated[EMU_SMSW]++; if (!store_rm16(f, in, vcpu.cr0)) return; break;
    case 6:
        shared->count.emulated[EMU_LMSW]++;
        if (!load_rm16(f, in, &v)) return;
        /* LMSW sets PE, MP, EM, TS; it cannot clear PE. */
        vcpu.cr0 = (vcpu.cr0 & ~0xeu) | (v & 0xf) | (vcpu.cr0 & CR0_PE);
        fpu_sync_cr0();
        break;
    case 7:
        shared->count.emulated[EMU_INVLPG]++;
        pt_invlpg(operand_linear(f, in, 0));
        break;
    }
    f->eip += in->len;
}

enum fetched { FETCH_OK, FETCH_UNKNOWN, FETCH_FAULTED };

/* Fetch the instruction at the guest's CS:EIP through its page tables and decode it. A fetch
 * fault is delivered to the guest (FETCH_FAULTED); FETCH_UNKNOWN: not one the monitor emulates. */
static enum fetched fetch_decode(struct guest_frame *f, struct emu_insn *in)
{
    uint8_t b[15];
    uint32_t fva, lin = seg_base((uint16_t)f->cs) + f->eip, n = 15;
    uint32_t first = PAGE_SIZE - (lin & (PAGE_SIZE - 1));
    if (first > 15) first = 15;
    uint32_t e = glin_read(lin, b, first, glin_fetch_acc(), &fva);
    if (e) { deliver_pf(f, fva, e); return FETCH_FAULTED; }
    if (first < 15 && glin_read(lin + first, b + first, 15 - first, glin_fetch_acc(), &fva)) n = first;
    struct seg_desc cs = desc_shadow_of((uint16_t)f->cs);
    bool code32 = (cs.hi >> 22) & 1;      /* the D bit of the code segment */
    return emu_decode(b, n, code32, in) == EMU_OK ? FETCH_OK : FETCH_UNKNOWN;
}

static bool data_access(struct guest_frame *f, bool may_fail);

/* Continuation of a device read: keep the value and run the instruction again. */
static void mmio_read_done(struct guest_frame *f, const struct msg *a, uint32_t ctx)
{
    (void)ctx;
    mmio_read_answer(a ? a->a[0] : 0xffffffffu);
    data_access(f, false);
}

/* One run of the data instruction at EIP on the emulator, with device pages forwarded; false
 * (nothing changed) when the emulator cannot run it and may_fail, else the guest stops. */
static bool data_access(struct guest_frame *f, bool may_fail)
{
    struct emu_insn in;
    struct msg req;
    enum fetched r = fetch_decode(f, &in);
    if (r == FETCH_FAULTED) return true;
    if (r != FETCH_OK && may_fail) return false;
    struct emu_cpu c = {
        { f->eax, f->ecx, f->edx, f->ebx, f->esp, f->ebp, f->esi, f->edi }, f->eip, f->eflags,
        { seg_base((uint16_t)f->es), seg_base((uint16_t)f->cs), seg_base((uint16_t)f->ss),
          seg_base((uint16_t)f->ds), seg_base((uint16_t)f->fs), seg_base((uint16_t)f->gs) },
    };
    uint32_t fault = 0;
    enum emu_status st = r == FETCH_OK ? emu_execute(&in, &c, &mmio_bus, &fault) : EMU_UNSUPPORTED;
    if (st == EMU_FAULT && fault == MMIO_WAIT) { mmio_read_request(&req); suspend(&req, mmio_read_done, 0); }
    if (st == EMU_FAULT && fault == MMIO_UNSUPPORTED)
        guest_stop(STOP_UNSUPPORTED, "an instruction at %08x makes a device access umbra cannot forward "
                   "(it straddles a device page, or has more than 4 device parts)", f->eip);
    if (st == EMU_FAULT) { deliver_pf(f, mmio_fault_va, fault); return true; }
    if (st != EMU_OK && may_fail) return false;
    if (st != EMU_OK)
        guest_stop(STOP_UNSUPPORTED, "an instruction at %08x touches a device page or memory with nothing behind "
                   "it, and umbra cannot emulate that instruction (opcode %x)", f->eip, in.opcode);
    f->eax = c.gpr[R_EAX]; f->ecx = c.gpr[R_ECX]; f->edx = c.gpr[R_EDX]; f->ebx = c.gpr[R_EBX];
    f->esp = c.gpr[R_ESP]; f->ebp = c.gpr[R_EBP]; f->esi = c.gpr[R_ESI]; f->edi = c.gpr[R_EDI];
    f->eip = c.eip;
    f->eflags = (f->eflags & ~0x8d5u) | (c.eflags & 0x8d5u);      /* the arithmetic flags */
    if (f->eflags & EFL_TF) step_trap(f);       /* the instruction completed: its #DB trap follows */
    /* Its device writes reach the models before the guest runs on. */
    if (mmio_take_writes(&req)) suspend(&req, 0, 0);
    return true;
}

void emulate_data_access(struct guest_frame *f)
{
    mmio_begin();
    data_access(f, false);
}

bool emulate_memory_insn(struct guest_frame *f)
{
    mmio_begin();
    return data_access(f, true);
}

void ud_fault(struct guest_frame *f)
{
    struct emu_insn in;
    enum fetched r = vcpu.cpl == 0 ? fetch_decode(f, &in) : FETCH_UNKNOWN;
    if (r == FETCH_FAULTED) return;
    if (r == FETCH_OK && in.lock && (in.cls == K_MOV_FROM_CR || in.cls == K_MOV_TO_CR)) {
        shared->count.emulated[EMU_MOV_CR]++;
        emulate_cr8(f, &in);             /* LOCK MOV CR0: CR8 where the CPU has AltMovCr8 */
        return;
    }
    /* Group 7 with a register operand, reg 1: MONITOR (C8), MWAIT (C9), CLAC (CA), STAC (CB):
     * #UD at CPL3, the guest kernel's at its CPL 0 where the CPU has them. */
    unsigned op = r == FETCH_OK && in.cls == K_GRP7 && !in.mem && in.reg == 1 && !in.lock ? in.rm : 8;
    uint32_t l1[4], l5[4], l7[4];
    cpuid_leaf(1, l1);
    cpuid_leaf(5, l5);
    cpuid_leaf(7, l7);
    bool smap = (op == 2 || op == 3) && (l7[1] >> 20 & 1);
    bool mon = (op == 0 || op == 1) && (l1[2] >> 3 & 1);
    if (!smap && !mon) { deliver_exception(f, EXC_UD, 0); return; }
    bool tf = f->eflags & EFL_TF;
    if (op == 0 && f->ecx != 0) { gp0(f); return; }          /* no MONITOR extensions */
    /* MWAIT: ECX bit 0 (interrupts break it) where CPUID leaf 5 offers it, nothing else. */
    if (op == 1 && (f->ecx & ~((l5[2] >> 1) & 1u))) { gp0(f); return; }
    if (op == 2) f->eflags &= ~EFL_AC;
    if (op == 3) f->eflags |= EFL_AC;
    f->eip += in.len;
    if (op == 1 && (f->eflags & EFL_IF) && vcpu.pending_vector < 0 && !shared->irq_pending) {
        /* MWAIT with interrupts open waits for one, as HLT does (no other CPU stores to the
         * monitored line); with IF clear it returns at once, as it may. */
        shared->count.emulated[EMU_HLT]++;
        struct msg req = { .type = MSG_HALT };
        suspend(&req, 0, 0);
    }
    if (tf) step_trap(f);
}

static void emulate_far(struct guest_frame *f, const struct emu_insn *in);

void np_fault(struct guest_frame *f)
{
    struct emu_insn in;
    /* A transfer to the guest's user code that the monitor hides: from its kernel, a return
     * to user mode; in user mode while NMIs are blocked (monitor/nmi.c), any transfer there. */
    if (desc_is_hidden_user_code((uint16_t)f->error) && !(f->error & 3)) {
        enum fetched r = fetch_decode(f, &in);
        if (r == FETCH_FAULTED) return;
        bool far = vcpu.cpl == 3 && (in.cls == K_CALLF || in.cls == K_JMPF);
        if (r == FETCH_OK && (in.cls == K_IRET || in.cls == K_RETF || far)) {
            /* Under the guest's TF the return is followed by its #DB, as in gp_fault. */
            bool tf = f->eflags & EFL_TF;
            uint32_t delivered = vcpu.delivered;
            if (in.cls == K_IRET) emulate_iret(f, in.opsize == 2);
            else if (in.cls == K_RETF) emulate_retf(f, in.imm, in.opsize == 2);
            else emulate_far(f, &in);
            if (tf && vcpu.delivered == delivered) step_trap(f);
            return;
        }
    }
    deliver_exception(f, EXC_NP, f->error);
}

static void gp_dispatch(struct guest_frame *f, struct emu_insn in);
static bool far_task_fault(struct guest_frame *f, const struct emu_insn *in);

void gp_fault(struct guest_frame *f)
{
    struct emu_insn in;
    enum fetched r = fetch_decode(f, &in);
    if (r == FETCH_FAULTED) return;
    if (r == FETCH_UNKNOWN) { deliver_exception(f, EXC_GP, f->error); return; }
    /* Under the guest's single step, an instruction the monitor performs is followed by its
     * #DB trap, as any other; not an SS load or an STI that sets IF (the trap waits for the
     * next instruction), nor INT n (it clears TF), nor HLT. What suspends (port I/O, CR8)
     * does the same in its continuation. */
    bool ss_load = (in.cls == K_MOV_SREG && in.reg == SEG_SS) ||
                   ((in.cls == K_POP_SREG || in.cls == K_LSEG) && in.sub == SEG_SS);
    /* An STI that sets IF holds the trap back past the next instruction too, as the CPU's
     * blocking by STI does (its single step is still pending there: SDM Vol. 3 26.3.1.5). */
    bool sti_opens = in.cls == K_STI && !(f->eflags & EFL_IF);
    bool step = (f->eflags & EFL_TF) && !ss_load && !sti_opens && in.cls != K_INT && in.cls != K_HLT;
    uint32_t delivered = vcpu.delivered;
    gp_dispatch(f, in);
    if (step && vcpu.delivered == delivered) step_trap(f);
}

/* The instruction behind a #GP, decoded: perform it, or deliver what the guest's CPU raises. */
static void gp_dispatch(struct guest_frame *f, struct emu_insn in)
{
    switch (in.cls) {
    case K_CLI: case K_STI:
        if (vcpu.cpl > vcpu.iopl) { gp0(f); return; }
        shared->count.emulated[in.cls == K_CLI ? EMU_CLI : EMU_STI]++;
        bool opens = in.cls == K_STI && !(f->eflags & EFL_IF);
        if (in.cls == K_CLI) f->eflags &= ~EFL_IF; else f->eflags |= EFL_IF;
        f->eip += in.len;
        if (opens) open_irq_shadow(f);
        return;
    case K_HLT:
        if (vcpu.cpl) { gp0(f); return; }
        shared->count.emulated[EMU_HLT]++;
        f->eip += in.len;
        if (shared->nmi_pending && !vcpu.nmi_blocked) return;        /* it wakes at once */
        /* With IF clear only an NMI can wake it: one its devices may send by themselves. */
        if (!(f->eflags & EFL_IF) && (vcpu.nmi_blocked || !shared->nmi_armed))
            guest_stop(STOP_BAD_STATE, "the guest halted with interrupts disabled: it can never wake up "
                       "(if it meant to enable them with POPF: with scan=off, POPF in umbra's guest kernel cannot "
                       "set IF, see docs/guests.md)");
        if (!(f->eflags & EFL_IF) || (vcpu.pending_vector < 0 && !shared->irq_pending)) {
            struct msg req = { .type = MSG_HALT };
            suspend(&req, 0, 0);
        }
        return;
    case K_IN: case K_OUT: case K_INS: case K_OUTS:
        emulate_io(f, &in);
        return;
    case K_INT:
        deliver_soft(f, in.imm, f->eip + in.len);
        return;
    case K_IRET: emulate_iret(f, in.opsize == 2); return;
    case K_RETF: emulate_retf(f, in.imm, in.opsize == 2); return;
    case K_POP_SREG: case K_LSEG:
        if (in.sub != SEG_SS) break;
        emulate_ss_load(f, &in);
        return;
    case K_MOV_SREG:
        if (in.reg != SEG_SS) { deliver_exception(f, EXC_GP, f->error); return; }   /* a genuine fault */
        emulate_ss_load(f, &in);
        return;
    case K_GRP6: case K_GRP7:
        emulate_group(f, &in);
        return;
    case K_CALLF: case K_JMPF:
        if (far_task_fault(f, &in)) return;
        break;
    case K_CLTS:
        if (vcpu.cpl) { gp0(f); return; }
        shared->count.emulated[EMU_CLTS]++;
        vcpu.cr0 &= ~CR0_TS;
        fpu_sync_cr0();
        f->eip += in.len;
        return;
    case K_INVD: case K_WBINVD:
        if (vcpu.cpl) { gp0(f); return; }
        shared->count.emulated[EMU_WBINVD]++;
        f->eip += in.len;
        return;
    case K_MOV_FROM_CR: case K_MOV_TO_CR: {
        if (vcpu.cpl) { gp0(f); return; }
        shared->count.emulated[EMU_MOV_CR]++;
        if (in.lock) { emulate_cr8(f, &in); return; }
        if (in.cls == K_MOV_TO_CR) { if (write_cr(f, in.reg, *reg(f, in.rm))) f->eip += in.len; return; }
        uint32_t v;
        switch (in.reg) {
        case 0: v = vcpu.cr0; break;
        case 2: v = vcpu.cr2; break;
        case 3: v = vcpu.cr3; break;
        case 4: v = vcpu.cr4; break;
        default: deliver_exception(f, EXC_UD, 0); return;
        }
        *reg(f, in.rm) = v;
        f->eip += in.len;
        return;
    }
    case K_MOV_FROM_DR: case K_MOV_TO_DR: {
        if (vcpu.cpl) { gp0(f); return; }
        shared->count.emulated[EMU_MOV_DR]++;
        unsigned d = in.reg;
        if ((d == 4 || d == 5) && (vcpu.cr4 & CR4_DE)) { deliver_exception(f, EXC_UD, 0); return; }
        if (d == 4 || d == 5) d += 2;        /* aliases of DR6 and DR7 while CR4.DE is clear */
        if (in.cls == K_MOV_TO_DR) vcpu.dr[d] = *reg(f, in.rm);
        else *reg(f, in.rm) = d == 6 ? (vcpu.dr[6] | 0xffff0ff0u) : d == 7 ? (vcpu.dr[7] | 0x400u) : vcpu.dr[d];
        f->eip += in.len;
        return;
    }
    case K_RDMSR: case K_WRMSR:
        if (vcpu.cpl) { gp0(f); return; }
        emulate_msr(f, in.cls == K_WRMSR);
        return;
    case K_RDTSC:
        emulate_rdtsc(f, &in, false);
        return;
    case K_RDPMC:
        emulate_rdpmc(f, &in);
        return;
    case K_SYSENTER:
        shared->count.emulated[EMU_SYSENTER]++;
        if (!(vcpu.sysenter_cs & 0xfffc)) { gp0(f); return; }
        f->cs = ((uint32_t)vcpu.sysenter_cs & 0xfffc) | 3;
        f->ss = (((uint32_t)vcpu.sysenter_cs + 8) & 0xfffc) | 3;
        f->eip = (uint32_t)vcpu.sysenter_eip;
        f->esp = (uint32_t)vcpu.sysenter_esp;
        f->eflags &= ~(EFL_VM | EFL_IF | EFL_RF);
        set_cpl(0);
        desc_fixed_flat(f, SEG_CS, (uint16_t)(vcpu.sysenter_cs & 0xfffc), 0);
        desc_fixed_flat(f, SEG_SS, (uint16_t)((vcpu.sysenter_cs + 8) & 0xfffc), 0);
        return;
    case K_SYSEXIT:
        shared->count.emulated[EMU_SYSEXIT]++;
        if (vcpu.cpl || !(vcpu.sysenter_cs & 0xfffc)) { gp0(f); return; }
        f->cs = (((uint32_t)vcpu.sysenter_cs + 16) & 0xfffc) | 3;
        f->ss = (((uint32_t)vcpu.sysenter_cs + 24) & 0xfffc) | 3;
        f->eip = f->edx;
        f->esp = f->ecx;
        set_cpl(3);
        desc_fixed_flat(f, SEG_CS, (uint16_t)(((vcpu.sysenter_cs + 16) & 0xfffc) | 3), 3);
        desc_fixed_flat(f, SEG_SS, (uint16_t)(((vcpu.sysenter_cs + 24) & 0xfffc) | 3), 3);
        return;
    default:
        break;
    }
    deliver_exception(f, EXC_GP, f->error);
}

/* POPF in the guest kernel: every flag its CPL and IOPL let it change, IF and IOPL included. */
static void emulate_popf(struct guest_frame *f, const struct emu_insn *in)
{
    uint32_t v = 0, fva, e = glin_read(seg_base((uint16_t)f->ss) + f->esp, &v, in->opsize, glin_acc(), &fva);
    if (e) { deliver_pf(f, fva, e); return; }
    shared->count.emulated[EMU_POPF]++;
    uint32_t mask = EFL_ARITH | EFL_TF | EFL_DF | EFL_NT | EFL_AC | EFL_ID | EFL_RF | EFL_IF | EFL_IOPL;
    if (vcpu.cpl > 0) mask &= ~EFL_IOPL;
    if (vcpu.cpl > vcpu.iopl) mask &= ~EFL_IF;
    if (in->opsize == 2) mask &= 0xffffu;
    set_guest_eflags(f, v & ~EFL_RF, mask);
    f->esp += in->opsize;
    f->eip += in->len;
}

/* MOV from, or PUSH, CS or SS: the guest's own selector, with its own CPL as RPL. */
static void emulate_seg_read(struct guest_frame *f, const struct emu_insn *in, int s)
{
    uint32_t v = (desc_guest_sel(sreg(f, s)) & ~3u) | vcpu.cpl;
    shared->count.emulated[EMU_SEGREAD]++;
    if (in->cls == K_MOV_FROM_SREG) {
        if (!store_rm16(f, in, v)) return;
    } else {
        uint32_t fva, e = glin_write(seg_base((uint16_t)f->ss) + f->esp - in->opsize, &v, in->opsize, glin_acc(), &fva);
        if (e) { deliver_pf(f, fva, e); return; }
        f->esp -= in->opsize;
    }
    f->eip += in->len;
}

/* Is d (a system descriptor) a TSS, available or busy, or a task gate: a task switch's target? */
static bool is_task_target(struct seg_desc d)
{
    unsigned type = desc_access(d) & DESC_TYPE_MASK;
    return type == 1 || type == 3 || type == 9 || type == 11 || type == DESC_TYPE_TASKGATE;
}

/* A far CALL or JMP that faulted at the real CPL3 (from guest user mode, or its kernel with
 * scan=off): one to a TSS or task gate met the empty shadow of the guest's system descriptor,
 * and is the guest's task switch. true when it was one (and is done); false for any other. */
static bool far_task_fault(struct guest_frame *f, const struct emu_insn *in)
{
    uint32_t sel = in->imm2;
    struct seg_desc d;
    if (in->opcode != 0x9a && in->opcode != 0xea) {
        if (!in->mem) return false;
        uint16_t w;
        if (!mem_read(f, in, in->opsize, &w, 2)) return true;
        sel = w;
    }
    if (!(sel & ~3u) || !guest_desc_own((uint16_t)sel, &d) || (desc_access(d) & DESC_S)) return false;
    if (desc_is_call_gate(d)) { call_gate(f, (uint16_t)sel, d, in->cls == K_CALLF, f->eip + in->len); return true; }
    if (!is_task_target(d)) return false;
    task_far(f, (uint16_t)sel, d, in->cls == K_CALLF, f->eip + in->len);
    return true;
}

/* CALL FAR and JMP FAR in the guest kernel to a code segment of its own privilege (a call
 * pushes the guest's CS, where the real CPU would push RPL 3; a jump with a selector of RPL 3
 * to kernel code faults, where the real CPU would take it); to a TSS or task gate, a task switch
 * (monitor/task.c); through a call gate, monitor/callgate.c. */
static void emulate_far(struct guest_frame *f, const struct emu_insn *in)
{
    bool call = in->cls == K_CALLF;
    uint32_t off = in->imm, sel = in->imm2, fva, e;
    if (in->opsize == 2) guest_stop(STOP_UNSUPPORTED, "16-bit far %s in the guest kernel; not supported", call ? "call" : "jump");
    if (in->opcode != 0x9a && in->opcode != 0xea) {
        if (!in->mem) { deliver_exception(f, EXC_UD, 0); return; }
        sel = 0;
        if (!mem_read(f, in, 0, &off, 4) || !mem_read(f, in, 4, &sel, 2)) return;
    }
    struct seg_desc d;
    if (!(sel & ~3u)) { gp0(f); return; }
    if (!guest_desc_own((uint16_t)sel, &d)) { deliver_exception(f, EXC_GP, sel & ~3u); return; }
    if (!(desc_access(d) & DESC_S)) {
        if (is_task_target(d)) { task_far(f, (uint16_t)sel, d, call, f->eip + in->len); return; }
        if (desc_is_call_gate(d)) { call_gate(f, (uint16_t)sel, d, call, f->eip + in->len); return; }
        /* An LDT or a reserved type is no target at all. */
        unsigned type = desc_access(d) & DESC_TYPE_MASK;
        if (type != 4) { deliver_exception(f, EXC_GP, sel & ~3u); return; }
        guest_stop(STOP_UNSUPPORTED, "a far %s in the guest kernel through the 16-bit call gate %04x: not supported",
                   call ? "CALL" : "JMP", sel);
    }
    bool conforming = desc_access(d) & DESC_TYPE_CONFORMING;
    if (!desc_is_code(d) || (conforming ? desc_dpl(d) > vcpu.cpl : (desc_dpl(d) != vcpu.cpl || (sel & 3) > vcpu.cpl))) {
        deliver_exception(f, EXC_GP, sel & ~3u);
        return;
    }
    if (!desc_present(d)) { deliver_exception(f, EXC_NP, sel & ~3u); return; }
    if (off > desc_limit(d)) { gp0(f); return; }
    shared->count.emulated[EMU_SEGREAD]++;
    if (call) {
        /* CS is pushed first, then EIP: a page fault names the first push that meets it. */
        uint32_t ret_cs = (desc_guest_sel(f->cs) & ~3u) | vcpu.cpl, ret_eip = f->eip + in->len;
        uint32_t top = seg_base((uint16_t)f->ss) + f->esp;
        if ((e = glin_write(top - 4, &ret_cs, 4, glin_acc(), &fva)) ||
            (e = glin_write(top - 8, &ret_eip, 4, glin_acc(), &fva))) { deliver_pf(f, fva, e); return; }
        f->esp -= 8;
    }
    desc_sync(f);
    f->cs = (sel & ~3u) | 3;
    f->eip = off;
}

/* FNSTENV and FNSAVE in the guest kernel: the real FPU stores its environment (FNSAVE its
 * registers too, and reinitializes) into a buffer, in which the selectors of the last x87
 * instruction and of its operand become the guest's; then the buffer goes to the guest's
 * operand. If that write faults, the FPU gets its state back and the guest the fault. */
static void emulate_fpu_env(struct guest_frame *f, const struct emu_insn *in)
{
    uint8_t raw[108], out[108];
    bool save = in->opcode == 0xdd, o32 = in->opsize == 4;
    uint32_t n = save ? (o32 ? 108 : 94) : (o32 ? 28 : 14), fva, e;
    if (vcpu.cr0 & (CR0_EM | CR0_TS)) { deliver_exception(f, EXC_NM, 0); return; }
    if (save && o32) __asm__ volatile("fnsave %0" : "=m"(raw));
    else if (save) __asm__ volatile("data16 fnsave %0" : "=m"(raw));
    else if (o32) __asm__ volatile("fnstenv %0" : "=m"(raw));
    else __asm__ volatile("data16 fnstenv %0" : "=m"(raw));
    memcpy(out, raw, n);
    unsigned cs_at = o32 ? 16 : 8, ds_at = o32 ? 24 : 12;
    uint32_t cs = desc_guest_code_sel((uint32_t)(out[cs_at] | out[cs_at + 1] << 8));
    uint32_t ds = desc_guest_sel((uint32_t)(out[ds_at] | out[ds_at + 1] << 8));
    out[cs_at] = (uint8_t)cs; out[cs_at + 1] = (uint8_t)(cs >> 8);
    out[ds_at] = (uint8_t)ds; out[ds_at + 1] = (uint8_t)(ds >> 8);
    if ((e = glin_write(operand_linear(f, in, 0), out, n, glin_acc(), &fva))) {
        if (save && o32) __asm__ volatile("frstor %0" :: "m"(raw));
        else if (save) __asm__ volatile("data16 frstor %0" :: "m"(raw));
        else if (o32) __asm__ volatile("fldenv %0" :: "m"(raw));
        else __asm__ volatile("data16 fldenv %0" :: "m"(raw));
        deliver_pf(f, fva, e);
        return;
    }
    f->eip += in->len;
}

void emulate_sensitive(struct guest_frame *f)
{
    struct emu_insn in;
    bool tf = f->eflags & EFL_TF;
    uint32_t delivered = vcpu.delivered;
    enum fetched r = fetch_decode(f, &in);
    if (r == FETCH_FAULTED) return;
    if (r != FETCH_OK)
        guest_stop(STOP_MONITOR_FAULT, "a patched instruction at %08x does not decode any more", f->eip);
    switch (in.cls) {
    case K_POPF: emulate_popf(f, &in); break;
    case K_MOV_FROM_SREG: emulate_seg_read(f, &in, in.reg); break;
    case K_PUSH_SREG: emulate_seg_read(f, &in, in.sub); break;
    case K_GRP6: case K_GRP7: emulate_group(f, &in); break;
    case K_LAR: case K_LSL: emulate_seg_check(f, &in); break;
    case K_CALLF: case K_JMPF: emulate_far(f, &in); break;
    case K_FPU_ENV: emulate_fpu_env(f, &in); break;
    case K_IRET: emulate_iret(f, in.opsize == 2); break;
    case K_RETF: emulate_retf(f, in.imm, in.opsize == 2); break;
    case K_POP_SREG: case K_MOV_SREG: case K_LSEG:
        if ((in.cls == K_MOV_SREG ? in.reg : in.sub) != SEG_SS) goto other;
        emulate_ss_load(f, &in);
        tf = false;          /* the step trap waits for the instruction after an SS load */
        break;
    case K_PUSHF: {
        /* Patched while the guest's IOPL is not 0: the real flags say 0. */
        uint32_t v = guest_eflags(f) & ~(EFL_VM | EFL_RF), fva, e;
        if ((e = glin_write(seg_base((uint16_t)f->ss) + f->esp - in.opsize, &v, in.opsize, glin_acc(), &fva))) {
            deliver_pf(f, fva, e);
            break;
        }
        shared->count.emulated[EMU_PUSHF]++;
        f->esp -= in.opsize;
        f->eip += in.len;
        break;
    }
    default:
    other:
        /* An instruction made to trap because it overlaps a patched one (scan.c): the
         * emulator performs it, its own #DB included. */
        if (emulate_memory_insn(f)) return;
        guest_stop(STOP_UNSUPPORTED, "the guest kernel's code at %08x overlaps an instruction umbra patched (code "
                   "that jumps into the middle of an instruction), and umbra cannot emulate it (opcode %x)",
                   f->eip, in.opcode);
    }
    /* It completed under the guest's single step: its #DB trap follows, as after any instruction. */
    if (tf && vcpu.delivered == delivered) step_trap(f);
}

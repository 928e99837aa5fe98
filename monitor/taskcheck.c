/* The rules of a 32-bit hardware task switch, without guest memory (see taskcheck.h).
 *
 * Where the SDM's instruction pages and its Table 7-1 order the same checks differently, the
 * instruction pages win for the checks they spell out (JMP, CALL, INT and IRET test the TSS's
 * type, busy bit included, before its present bit), Table 7-1 for the rest.
 */
#include "monitor/taskcheck.h"

#define EFL_NT_BIT (1u << 14)

/* Segment registers in encoding order. */
enum { R_ES, R_CS, R_SS, R_DS, R_FS, R_GS };

const uint8_t task_load_order[6] = { R_CS, R_SS, R_DS, R_ES, R_FS, R_GS };

static struct task_fault fault(int vector, uint32_t error) { return (struct task_fault){ vector, error }; }
static struct task_fault ok(void) { return (struct task_fault){ TASK_OK, 0 }; }

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, v); put16(p + 2, v >> 16); }
static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return get16(p) | get16(p + 2) << 16; }

void task_save_image(uint8_t img[TSS_DYNAMIC_LEN], const struct task_state *st)
{
    put32(img + TSS_EIP - TSS_EIP, st->eip);
    put32(img + TSS_EFLAGS - TSS_EIP, st->eflags);
    for (unsigned i = 0; i < 8; i++) put32(img + TSS_EAX - TSS_EIP + 4 * i, st->gpr[i]);
    for (unsigned i = 0; i < 6; i++) put16(img + TSS_ES - TSS_EIP + 4 * i, st->sel[i]);
}

void task_load_image(const uint8_t *tss, struct task_state *st)
{
    st->eip = get32(tss + TSS_EIP);
    st->eflags = get32(tss + TSS_EFLAGS);
    for (unsigned i = 0; i < 8; i++) st->gpr[i] = get32(tss + TSS_EAX + 4 * i);
    for (unsigned i = 0; i < 6; i++) st->sel[i] = (uint16_t)get16(tss + TSS_ES + 4 * i);
}

uint32_t task_old_eflags(uint32_t eflags, enum task_cause c)
{
    return c == TASK_IRET ? eflags & ~EFL_NT_BIT : eflags;
}

uint32_t task_new_eflags(uint32_t eflags, enum task_cause c)
{
    return task_links(c) ? eflags | EFL_NT_BIT : eflags;
}

static unsigned sys_type(struct seg_desc d) { return desc_access(d) & (DESC_S | DESC_TYPE_MASK); }

struct task_fault task_check_far(uint16_t sel, struct seg_desc d, unsigned cpl)
{
    unsigned dpl = desc_dpl(d);
    if (dpl < cpl || dpl < (sel & 3u)) return fault(13, sel & 0xfffcu);
    if (sys_type(d) == DESC_TYPE_TASKGATE && !desc_present(d)) return fault(11, sel & 0xfffcu);
    return ok();
}

struct task_fault task_check_tss(enum task_cause c, uint16_t sel, bool in_gdt, struct seg_desc d, uint32_t ext)
{
    uint32_t err = (sel & 0xfffcu) | ext;
    bool iret = c == TASK_IRET;
    unsigned t = sys_type(d);
    /* The TSS selector references the GDT, within its limit (#TS for IRET, else #GP). */
    if (!in_gdt) return fault(iret ? 10 : 13, err);
    /* The type: an available TSS for JMP, CALL and events (a busy one is #GP), a busy one for
     * IRET (#TS). */
    bool want = iret ? (t == DESC_TYPE_TSS32_BUSY || t == 3) : (t == DESC_TYPE_TSS32 || t == 1);
    if (!want) return fault(iret ? 10 : 13, err);
    if (!desc_present(d)) return fault(11, err);
    if (t == 1 || t == 3) return fault(TASK_TSS16, err);
    if (desc_limit(d) < TSS_MIN_LIMIT) return fault(10, err);
    return ok();
}

struct task_fault task_check_ldt(uint16_t ldt, bool in_gdt, struct seg_desc d)
{
    uint32_t err = ldt & 0xfffcu;
    if (!(ldt & 0xfffcu)) return ok();          /* null (TI clear): no LDT */
    if (!in_gdt || sys_type(d) != DESC_TYPE_LDT || !desc_present(d)) return fault(10, err);
    return ok();
}

static bool is_code(struct seg_desc d) { return (desc_access(d) & (DESC_S | DESC_TYPE_CODE)) == (DESC_S | DESC_TYPE_CODE); }
static bool is_conforming(struct seg_desc d) { return is_code(d) && (desc_access(d) & DESC_TYPE_CONFORMING); }
static bool is_wdata(struct seg_desc d)
{
    return (desc_access(d) & (DESC_S | DESC_TYPE_CODE | DESC_TYPE_DATA_RW)) == (DESC_S | DESC_TYPE_DATA_RW);
}
static bool is_readable(struct seg_desc d) { return !is_code(d) || (desc_access(d) & DESC_TYPE_DATA_RW); }

struct task_fault task_check_segs(const uint16_t sel[6], task_lookup look, void *ctx, unsigned *loaded)
{
    uint16_t cs = sel[R_CS], ss = sel[R_SS];
    unsigned cpl = cs & 3u;
    struct seg_desc dc = { 0, 0 }, dss = { 0, 0 };
    bool cs_valid = (cs & 0xfffcu) && look(ctx, cs, &dc) && is_code(dc);
    bool ss_valid = (ss & 0xfffcu) && look(ctx, ss, &dss) && is_wdata(dss);
    *loaded = 0;
    /* Table 7-1, in its order. "Code segment DPL matches segment selector RPL": equal for
     * nonconforming code; conforming code may be more privileged than the CPL it runs at. */
    if (cs_valid && (is_conforming(dc) ? desc_dpl(dc) > cpl : desc_dpl(dc) != cpl)) return fault(10, cs & 0xfffcu);
    if (!ss_valid) return fault(10, ss & 0xfffcu);
    if (!desc_present(dss)) return fault(12, ss & 0xfffcu);
    if (desc_dpl(dss) != cpl) return fault(10, ss & 0xfffcu);
    if (!cs_valid) return fault(10, cs & 0xfffcu);
    if (!desc_present(dc)) return fault(11, cs & 0xfffcu);
    if (desc_dpl(dss) != (ss & 3u)) return fault(10, ss & 0xfffcu);
    *loaded = 2;
    /* DS, ES, FS, GS, one after the other. A data segment (or readable conforming code) may
     * be no more privileged than the CPL, nor than the selector's RPL: the rule of every data
     * segment load (the table names the CPL only; Bochs and QEMU check the RPL as well). */
    for (unsigned k = 2; k < 6; k++, (*loaded)++) {
        uint16_t s = sel[task_load_order[k]];
        struct seg_desc d;
        if (!(s & 0xfffcu)) continue;           /* null: loaded as null */
        if (!look(ctx, s, &d) || !(desc_access(d) & DESC_S)) return fault(10, s & 0xfffcu);
        if (!is_readable(d)) return fault(10, s & 0xfffcu);
        if (!desc_present(d)) return fault(11, s & 0xfffcu);
        unsigned need = cpl > (s & 3u) ? cpl : (s & 3u);
        if (!is_conforming(d) && desc_dpl(d) < need) return fault(10, s & 0xfffcu);
    }
    return ok();
}

/* The rules of a hardware task switch (monitor/taskcheck.c): the faults of each check, in the
 * SDM's order, and what each cause does to NT, the busy bits and the back link. */
#include "tests/unit/unit.h"
#include "monitor/taskcheck.h"

enum { TS = 10, NP = 11, SSF = 12, GP = 13 };
enum { R_ES, R_CS, R_SS, R_DS, R_FS, R_GS };

static struct seg_desc seg(unsigned access) { return desc_make(0, 0xffffffff, (uint8_t)access, DESC_FLAG_DB); }
static struct seg_desc tss(unsigned access, uint32_t limit) { return desc_make(0x1000, limit, (uint8_t)access, 0); }

/* A small GDT for task_check_segs: the lookup fails past it and for null selectors. */
static struct seg_desc table[16];
static bool look(void *ctx, uint16_t sel, struct seg_desc *d)
{
    (void)ctx;
    if (!(sel & 0xfffc) || (sel >> 3) >= 16 || (sel & 4)) return false;
    *d = table[sel >> 3];
    return true;
}

enum { KCODE = 0x08, KDATA = 0x10, UCODE = 0x18, UDATA = 0x20, NPDATA = 0x28, XOCODE = 0x30, CONFR = 0x38,
       NPCODE = 0x40, TSSD = 0x48, PAST = 0x80 };

static void setup_table(void)
{
    memset(table, 0, sizeof table);
    table[KCODE >> 3] = seg(0x9b);
    table[KDATA >> 3] = seg(0x93);
    table[UCODE >> 3] = seg(0xfb);
    table[UDATA >> 3] = seg(0xf3);
    table[NPDATA >> 3] = seg(0x13);
    table[XOCODE >> 3] = seg(0x99);
    table[CONFR >> 3] = seg(0x9f);           /* conforming, readable, DPL 0 */
    table[NPCODE >> 3] = seg(0x1b);
    table[TSSD >> 3] = tss(0x89, 0x67);
}

static struct task_fault segs(uint16_t es, uint16_t cs, uint16_t ss, uint16_t ds, uint16_t fs, uint16_t gs, unsigned *loaded)
{
    const uint16_t s[6] = { es, cs, ss, ds, fs, gs };
    setup_table();
    return task_check_segs(s, look, 0, loaded);
}

#define FAULT(f, v, e) do { struct task_fault _f = (f); CHECK_EQ(_f.vector, v); CHECK_EQ(_f.error, e); } while (0)
#define OK(f) CHECK_EQ((f).vector, TASK_OK)

TEST(task_image_save_keeps_reserved_halves)
{
    uint8_t img[TSS_DYNAMIC_LEN];
    memset(img, 0xee, sizeof img);
    struct task_state st = { 0x401000, 0x4246, { 1, 2, 3, 4, 5, 6, 7, 8 }, { 0x10, 0x08, 0x18, 0x20, 0x2b, 0 } };
    task_save_image(img, &st);
    uint8_t tssb[0x68];
    memset(tssb, 0, sizeof tssb);
    memcpy(tssb + TSS_EIP, img, sizeof img);
    CHECK_EQ(tssb[TSS_EIP] | tssb[TSS_EIP + 1] << 8 | tssb[TSS_EIP + 2] << 16, 0x401000);
    CHECK_EQ(tssb[TSS_EFLAGS] | tssb[TSS_EFLAGS + 1] << 8, 0x4246);
    CHECK_EQ(tssb[TSS_EAX + 4 * 7], 8);                       /* EDI */
    CHECK_EQ(tssb[TSS_ES] | tssb[TSS_ES + 1] << 8, 0x10);
    CHECK_EQ(tssb[TSS_ES + 2], 0xee);                        /* the reserved half stays */
    CHECK_EQ(tssb[TSS_ES + 4 * 4], 0x2b);                     /* FS */
    CHECK_EQ(tssb[TSS_ES + 4 * 5 + 3], 0xee);
    struct task_state back;
    task_load_image(tssb, &back);
    CHECK_EQ(back.eip, st.eip);
    CHECK_EQ(back.eflags, st.eflags);
    for (unsigned i = 0; i < 8; i++) CHECK_EQ(back.gpr[i], st.gpr[i]);
    for (unsigned i = 0; i < 6; i++) CHECK_EQ(back.sel[i], st.sel[i]);
}

TEST(task_causes_nt_busy_link)
{
    /* SDM Table 7-2. */
    CHECK_EQ(task_old_eflags(0x4202, TASK_IRET), 0x0202);
    CHECK_EQ(task_old_eflags(0x4202, TASK_JMP), 0x4202);
    CHECK_EQ(task_old_eflags(0x4202, TASK_CALL), 0x4202);
    CHECK_EQ(task_old_eflags(0x4202, TASK_EVENT), 0x4202);
    CHECK_EQ(task_new_eflags(0x0002, TASK_CALL), 0x4002);
    CHECK_EQ(task_new_eflags(0x0002, TASK_EVENT), 0x4002);
    CHECK_EQ(task_new_eflags(0x0002, TASK_JMP), 0x0002);
    CHECK_EQ(task_new_eflags(0x4002, TASK_JMP), 0x4002);      /* JMP keeps the TSS's NT */
    CHECK_EQ(task_new_eflags(0x4002, TASK_IRET), 0x4002);
    CHECK(task_clears_old_busy(TASK_JMP) && task_clears_old_busy(TASK_IRET));
    CHECK(!task_clears_old_busy(TASK_CALL) && !task_clears_old_busy(TASK_EVENT));
    CHECK(task_sets_new_busy(TASK_JMP) && task_sets_new_busy(TASK_CALL) && task_sets_new_busy(TASK_EVENT));
    CHECK(!task_sets_new_busy(TASK_IRET));
    CHECK(task_links(TASK_CALL) && task_links(TASK_EVENT) && !task_links(TASK_JMP) && !task_links(TASK_IRET));
}

TEST(task_far_privilege_and_gate)
{
    OK(task_check_far(0x48, tss(0x89, 0x67), 0));
    FAULT(task_check_far(0x48, tss(0x89, 0x67), 3), GP, 0x48);        /* DPL 0 < CPL 3 */
    FAULT(task_check_far(0x4b, tss(0x89, 0x67), 0), GP, 0x48);        /* DPL 0 < RPL 3 */
    OK(task_check_far(0x4b, tss(0xe9, 0x67), 3));                     /* DPL 3 */
    struct seg_desc gate = { 0x00480000, 0x8500 };                     /* a task gate to 0x48 */
    OK(task_check_far(0x50, gate, 0));
    FAULT(task_check_far(0x50, gate, 3), GP, 0x50);
    struct seg_desc gate_np = { 0x00480000, 0x0500 }, gate_np3 = { 0x00480000, 0x6500 };
    FAULT(task_check_far(0x50, gate_np, 0), NP, 0x50);
    FAULT(task_check_far(0x50, gate_np, 3), GP, 0x50);                 /* the DPL first */
    FAULT(task_check_far(0x53, gate_np3, 3), NP, 0x50);
    /* A TSS not present is the next check's. */
    OK(task_check_far(0x48, tss(0x09, 0x67), 0));
}

TEST(task_tss_descriptor_checks)
{
    OK(task_check_tss(TASK_JMP, 0x48, true, tss(0x89, 0x67), 0));
    OK(task_check_tss(TASK_IRET, 0x48, true, tss(0x8b, 0x67), 0));
    /* Outside the GDT (TI set, past the limit, null): #GP, and #TS for IRET. */
    FAULT(task_check_tss(TASK_CALL, 0x4c, false, tss(0x89, 0x67), 0), GP, 0x4c);
    FAULT(task_check_tss(TASK_IRET, 0, false, (struct seg_desc){ 0, 0 }, 0), TS, 0);
    /* Busy for JMP, CALL, events; available for IRET. */
    FAULT(task_check_tss(TASK_JMP, 0x48, true, tss(0x8b, 0x67), 0), GP, 0x48);
    FAULT(task_check_tss(TASK_EVENT, 0x48, true, tss(0x8b, 0x67), 1), GP, 0x49);
    FAULT(task_check_tss(TASK_IRET, 0x48, true, tss(0x89, 0x67), 0), TS, 0x48);
    /* Not a TSS at all. */
    FAULT(task_check_tss(TASK_CALL, 0x48, true, seg(0x93), 0), GP, 0x48);
    FAULT(task_check_tss(TASK_IRET, 0x48, true, seg(0x9b), 0), TS, 0x48);
    FAULT(task_check_tss(TASK_JMP, 0x48, true, tss(0x82, 0x67), 0), GP, 0x48);    /* an LDT */
    /* The type before the present bit (the instruction pages' order). */
    FAULT(task_check_tss(TASK_JMP, 0x48, true, tss(0x0b, 0x67), 0), GP, 0x48);
    FAULT(task_check_tss(TASK_JMP, 0x48, true, tss(0x09, 0x67), 0), NP, 0x48);
    FAULT(task_check_tss(TASK_IRET, 0x48, true, tss(0x0b, 0x67), 0), NP, 0x48);
    FAULT(task_check_tss(TASK_EVENT, 0x48, true, tss(0x09, 0x67), 1), NP, 0x49);
    /* The limit last; a 16-bit TSS that would be switched to is refused by the caller. */
    FAULT(task_check_tss(TASK_JMP, 0x48, true, tss(0x89, 0x66), 0), TS, 0x48);
    FAULT(task_check_tss(TASK_JMP, 0x48, true, tss(0x09, 0x66), 0), NP, 0x48);
    FAULT(task_check_tss(TASK_JMP, 0x48, true, tss(0x81, 0x2b), 0), TASK_TSS16, 0x48);
    FAULT(task_check_tss(TASK_IRET, 0x48, true, tss(0x83, 0x2b), 0), TASK_TSS16, 0x48);
    FAULT(task_check_tss(TASK_JMP, 0x48, true, tss(0x83, 0x2b), 0), GP, 0x48);    /* busy 16-bit */
}

TEST(task_ldt_checks)
{
    OK(task_check_ldt(0, false, (struct seg_desc){ 0, 0 }));
    OK(task_check_ldt(3, false, (struct seg_desc){ 0, 0 }));      /* null with an RPL */
    OK(task_check_ldt(0x50, true, tss(0x82, 0xff)));
    FAULT(task_check_ldt(0x54, false, (struct seg_desc){ 0, 0 }), TS, 0x54);   /* TI set */
    FAULT(task_check_ldt(0x50, true, tss(0x89, 0x67)), TS, 0x50);             /* not an LDT */
    FAULT(task_check_ldt(0x50, true, tss(0x02, 0xff)), TS, 0x50);             /* not present */
    FAULT(task_check_ldt(0x800, false, (struct seg_desc){ 0, 0 }), TS, 0x800);
}

TEST(task_segments_single_faults)
{
    unsigned n;
    OK(segs(KDATA, KCODE, KDATA, KDATA, KDATA, KDATA, &n));
    CHECK_EQ(n, 6);
    OK(segs(UDATA | 3, UCODE | 3, UDATA | 3, UDATA | 3, 0, 3, &n));            /* null data: fine */
    CHECK_EQ(n, 6);
    FAULT(segs(KDATA, KDATA, KDATA, KDATA, KDATA, KDATA, &n), TS, KDATA);       /* CS data */
    CHECK_EQ(n, 0);
    FAULT(segs(KDATA, 0, KDATA, KDATA, KDATA, KDATA, &n), TS, 0);               /* CS null */
    FAULT(segs(KDATA, NPCODE, KDATA, KDATA, KDATA, KDATA, &n), NP, NPCODE);
    FAULT(segs(KDATA, UCODE, KDATA, KDATA, KDATA, KDATA, &n), TS, UCODE);       /* DPL 3, RPL 0 */
    OK(segs(KDATA, CONFR | 0, KDATA, KDATA, KDATA, KDATA, &n));                 /* conforming DPL 0 at CPL 0 */
    FAULT(segs(KDATA, KCODE, 0, KDATA, KDATA, KDATA, &n), TS, 0);
    FAULT(segs(KDATA, KCODE, KCODE, KDATA, KDATA, KDATA, &n), TS, KCODE);       /* SS code */
    FAULT(segs(KDATA, KCODE, NPDATA, KDATA, KDATA, KDATA, &n), SSF, NPDATA);    /* #SS, as the SDM says */
    FAULT(segs(KDATA, KCODE, UDATA | 3, KDATA, KDATA, KDATA, &n), TS, UDATA);   /* SS DPL 3 at CPL 0 */
    FAULT(segs(KDATA, KCODE, KDATA | 1, KDATA, KDATA, KDATA, &n), TS, KDATA);   /* SS RPL 1 */
    FAULT(segs(KDATA, KCODE, PAST, KDATA, KDATA, KDATA, &n), TS, PAST);
    FAULT(segs(KDATA, KCODE, KDATA, NPDATA, KDATA, KDATA, &n), NP, NPDATA);
    CHECK_EQ(n, 2);                                                             /* CS, SS loaded */
    FAULT(segs(KDATA, KCODE, KDATA, XOCODE, KDATA, KDATA, &n), TS, XOCODE);     /* execute-only */
    FAULT(segs(TSSD, KCODE, KDATA, KDATA, KDATA, KDATA, &n), TS, TSSD);         /* system */
    CHECK_EQ(n, 3);                                                             /* CS SS DS */
    FAULT(segs(KDATA, KCODE, KDATA, KDATA, KDATA | 3, KDATA, &n), TS, KDATA);   /* RPL above DPL */
    CHECK_EQ(n, 4);
    FAULT(segs(KDATA, KCODE, KDATA, KDATA, KDATA, PAST, &n), TS, PAST);
    CHECK_EQ(n, 5);
    FAULT(segs(UDATA | 3, UCODE | 3, UDATA | 3, KDATA | 3, UDATA | 3, UDATA | 3, &n), TS, KDATA);  /* DPL < CPL */
    OK(segs(UDATA | 3, UCODE | 3, UDATA | 3, CONFR | 3, UDATA | 3, UDATA | 3, &n)); /* conforming: no DPL check */
    OK(segs(KDATA, KCODE, KDATA, UDATA, KDATA, KDATA, &n));                     /* DPL 3 data from CPL 0 */
}

TEST(task_segments_order_of_table_7_1)
{
    unsigned n;
    /* CS's DPL against its RPL comes before everything about SS... */
    FAULT(segs(KDATA, UCODE, 0, KDATA, KDATA, KDATA, &n), TS, UCODE);
    /* ...but CS's validity and presence after SS's validity, presence and DPL. */
    FAULT(segs(KDATA, 0, 0, KDATA, KDATA, KDATA, &n), TS, 0);
    FAULT(segs(KDATA, KDATA, UDATA | 3, KDATA, KDATA, KDATA, &n), TS, UDATA);
    FAULT(segs(KDATA, NPCODE, NPDATA, KDATA, KDATA, KDATA, &n), SSF, NPDATA);
    /* SS's DPL against its RPL after CS's presence. */
    FAULT(segs(KDATA, NPCODE, KDATA | 1, KDATA, KDATA, KDATA, &n), NP, NPCODE);
    /* DS before ES before FS before GS; each one's checks in turn. */
    FAULT(segs(NPDATA, KCODE, KDATA, XOCODE, KDATA, KDATA, &n), TS, XOCODE);
    FAULT(segs(XOCODE, KCODE, KDATA, NPDATA, KDATA, KDATA, &n), NP, NPDATA);
    FAULT(segs(KDATA, KCODE, KDATA, KDATA, PAST, NPDATA, &n), TS, PAST);
    /* Data segments wait for CS and SS. */
    FAULT(segs(KDATA, KCODE, 0, NPDATA, KDATA, KDATA, &n), TS, 0);
    CHECK_EQ(n, 0);
}

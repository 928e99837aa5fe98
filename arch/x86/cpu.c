/* CPU feature detection: what CPUID says, read once and reported at boot. */
#include "arch/x86/cpu.h"
#include "supervisor/log.h"
#include "lib/string.h"

struct cpu_features cpu;

/* Copy the 12-byte signature in EBX, EDX, ECX order (vendor) or EBX, ECX, EDX (hypervisor). */
static void sig(char *out, uint32_t a, uint32_t b, uint32_t c)
{
    memcpy(out, &a, 4);
    memcpy(out + 4, &b, 4);
    memcpy(out + 8, &c, 4);
    out[12] = 0;
}

void cpu_detect(void)
{
    uint32_t r[4];
    cpuid(0, 0, r);
    uint32_t max = r[0];
    sig(cpu.vendor, r[1], r[3], r[2]);
    if (max >= 1) {
        cpuid(1, 0, r);
        cpu.stepping = r[0] & 0xf;
        cpu.model = (r[0] >> 4) & 0xf;
        cpu.family = (r[0] >> 8) & 0xf;
        if (cpu.family == 0xf) cpu.family += (r[0] >> 20) & 0xff;
        if (cpu.family >= 6) cpu.model |= ((r[0] >> 16) & 0xf) << 4;
        uint32_t d = r[3], c = r[2];
        cpu.fpu = d & (1u << 0);   cpu.pse = d & (1u << 3);   cpu.tsc = d & (1u << 4);
        cpu.msr = d & (1u << 5);   cpu.pae = d & (1u << 6);   cpu.apic = d & (1u << 9);
        cpu.sep = d & (1u << 11);  cpu.pge = d & (1u << 13);  cpu.cmov = d & (1u << 15);
        cpu.pat = d & (1u << 16);  cpu.fxsr = d & (1u << 24); cpu.sse = d & (1u << 25);
        cpu.sse2 = d & (1u << 26); cpu.x2apic = c & (1u << 21); cpu.hv = c & (1u << 31);
    }
    if (max >= 7) {
        cpuid(7, 0, r);
        cpu.umip = r[2] & (1u << 2);
    }
    cpuid(0x80000000u, 0, r);
    if (r[0] >= 0x80000001u) {
        cpuid(0x80000001u, 0, r);
        cpu.nx = r[3] & (1u << 20);
    }
    if (cpu.hv) {
        cpuid(0x40000000u, 0, r);
        sig(cpu.hypervisor, r[1], r[2], r[3]);
    }
}

void cpu_report(void)
{
    kprintf("cpu: %s family %u model %u stepping %u%s%s\n", cpu.vendor, cpu.family, cpu.model,
            cpu.stepping, cpu.hv ? ", hypervisor " : "", cpu.hv ? cpu.hypervisor : "");
    kprintf("cpu: features:%s%s%s%s%s%s%s%s%s%s\n",
            cpu.pae ? " pae" : " (no pae)", cpu.nx ? " nx" : " (no nx)", cpu.pse ? " pse" : "",
            cpu.pge ? " pge" : "", cpu.umip ? " umip" : " (no umip)", cpu.sep ? " sep" : "",
            cpu.fxsr ? " fxsr" : "", cpu.tsc ? " tsc" : "", cpu.apic ? " apic" : "",
            cpu.msr ? " msr" : "");
}

bool cpu_under_qemu(void)
{
    /* TCG says "TCGTCGTCGTCG", KVM "KVMKVMKVM"; either way QEMU's devices are there. */
    return cpu.hv && (!memcmp(cpu.hypervisor, "TCGTCGTCGTCG", 12) || !memcmp(cpu.hypervisor, "KVMKVMKVM", 9));
}

void cpu_halt_forever(void)
{
    for (;;) __asm__ volatile("cli; hlt");
}

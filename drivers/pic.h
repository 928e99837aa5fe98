/* The host's 8259 pair: remapped to vectors 0x20-0x2f, masked except what umbra uses. */
#ifndef DRIVERS_PIC_H
#define DRIVERS_PIC_H
#include <stdint.h>

/* Spurious interrupts taken (vectors IRQ_BASE + 7 and + 15 with nothing in service). */
extern volatile uint32_t pic_spurious;

/* Program both chips (IRQ_BASE up), mask all but the cascade; own vectors IRQ_BASE + 7, + 15. */
void pic_init(void);
void pic_unmask(unsigned irq);
void pic_mask(unsigned irq);
void pic_eoi(unsigned irq);
/* testfault=spurious: acknowledge IRQ0 while the PIT holds it low, up to `tries` ticks, until
 * one spurious interrupt came; returns how many came (0 on an 8259 that keeps the request). */
unsigned pic_provoke_spurious(unsigned tries);

#endif

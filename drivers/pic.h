/* The host's 8259 pair: remapped to vectors 0x20-0x2f, masked except what umbra uses. */
#ifndef DRIVERS_PIC_H
#define DRIVERS_PIC_H
#include <stdint.h>

void pic_init(void);
void pic_unmask(unsigned irq);
void pic_mask(unsigned irq);
void pic_eoi(unsigned irq);

#endif

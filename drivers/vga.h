/* The VGA text console at 0xB8000: 80x25, scrolling, a mirror of the log. */
#ifndef DRIVERS_VGA_H
#define DRIVERS_VGA_H

void vga_init(void);
void vga_putc(char c);

#endif

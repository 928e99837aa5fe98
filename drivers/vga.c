/* The VGA text console: 80x25 cells at 0xB8000, scrolls, light grey on black. */
#include "drivers/vga.h"
#include "arch/x86/io.h"
#include <stdint.h>

#define VGA_COLS 80
#define VGA_ROWS 25
#define VGA_ATTR 0x0700
static volatile uint16_t *const vga = (volatile uint16_t *)0xb8000;
static unsigned row, col;

/* Move the hardware cursor to the current cell. */
static void vga_cursor(void)
{
    unsigned pos = row * VGA_COLS + col;
    outb(0x3d4, 0x0f); outb(0x3d5, (uint8_t)pos);
    outb(0x3d4, 0x0e); outb(0x3d5, (uint8_t)(pos >> 8));
}

void vga_init(void)
{
    for (unsigned i = 0; i < VGA_COLS * VGA_ROWS; i++) vga[i] = VGA_ATTR | ' ';
    row = col = 0;
    vga_cursor();
}

/* Scroll up one line when the cursor falls off the bottom. */
static void vga_scroll(void)
{
    for (unsigned i = 0; i < VGA_COLS * (VGA_ROWS - 1); i++) vga[i] = vga[i + VGA_COLS];
    for (unsigned i = 0; i < VGA_COLS; i++) vga[VGA_COLS * (VGA_ROWS - 1) + i] = VGA_ATTR | ' ';
    row = VGA_ROWS - 1;
}

void vga_putc(char c)
{
    if (c == '\n') { col = 0; row++; }
    else if (c == '\r') col = 0;
    else if (c == '\t') col = (col + 8) & ~7u;
    else vga[row * VGA_COLS + col++] = VGA_ATTR | (uint8_t)c;
    if (col >= VGA_COLS) { col = 0; row++; }
    if (row >= VGA_ROWS) vga_scroll();
    if (c == '\n') vga_cursor();
}

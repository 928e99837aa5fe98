/* The host's physical memory: the frame map built at boot, and its report. */
#ifndef SUPERVISOR_MEMORY_H
#define SUPERVISOR_MEMORY_H
#include "pool/frame.h"

/* umbra refuses to start on less usable RAM than this. */
#define UMBRA_MIN_RAM (16u << 20)

extern struct frame_map frames;

/* Build the frame map from the boot info; stops umbra with a message if memory is too small. */
void memory_init(void);
/* Print the frame totals by owner. */
void memory_report(const char *when);
/* Audit the frame map; prints and returns the number of disagreements. */
unsigned memory_audit(void);

#endif

/* hobbyos with the SMAP probe: a kernel read of a user page without STAC must fault (#PF,
 * error 0001), with STAC it works. */
#define HOBBYOS_SMAP_PROBES 1
#include "../../foreign/hobbyos/kernel.c"

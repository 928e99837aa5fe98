# umbra: build, run and test. `make run` and `make test` do all the set-up.

BUILD    := build
.DEFAULT_GOAL := all      # guests.mk is included before the all: rule
QEMU     := qemu-system-i386
QEMUMEM  ?= 512

# The toolchain is chosen in build/toolchain.mk, which is made after `deps` has installed
# what is missing (make then restarts and reads it): on a fresh machine the cross compiler
# appears only during the first `make`, and a choice made while parsing would miss it.
# The i686 cross compiler from Debian if present, else the host gcc in 32-bit mode.
ifeq ($(filter clean deps,$(MAKECMDGOALS)),)
-include $(BUILD)/toolchain.mk
endif
$(BUILD)/toolchain.mk: Makefile
	@$(MAKE) --no-print-directory deps
	@mkdir -p $(BUILD)
	@if command -v i686-linux-gnu-gcc >/dev/null 2>&1; then \
	  printf 'CC := i686-linux-gnu-gcc\nLD := i686-linux-gnu-ld\nOBJCOPY := i686-linux-gnu-objcopy\n'; \
	else \
	  printf 'CC := gcc -m32\nLD := ld -m elf_i386\nOBJCOPY := objcopy\n'; \
	fi > $@.tmp && mv $@.tmp $@
HOSTCC := gcc
NASM   := nasm

WARN     := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wshadow
CFLAGS   := -std=c11 -O2 -g $(WARN) -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
            -fno-omit-frame-pointer -mgeneral-regs-only -fno-strict-aliasing \
            -fno-asynchronous-unwind-tables -I. -MMD -MP
LDFLAGS  := -nostdlib -static -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments
LIBGCC    = $(shell $(CC) -print-libgcc-file-name)
HOSTFLAGS:= -std=c11 -O1 -g $(WARN) -I. -DUMBRA_HOST_TEST -fsanitize=address,undefined \
            -fno-omit-frame-pointer -MMD -MP

# Host kernel: everything except the monitor (linked on its own) and the tests.
KSRC_C   := $(wildcard arch/x86/*.c drivers/*.c lib/*.c pool/*.c supervisor/*.c supervisor/dev/*.c)
# The monitor: linked on its own at 0, carried inside the kernel as a flat image.
MSRC_C   := $(wildcard monitor/*.c monitor/emu/*.c paging/*.c) lib/string.c lib/fmt.c lib/ring.c
MSRC_S   := $(wildcard monitor/*.asm)
MOBJ     := $(MSRC_S:%.asm=$(BUILD)/m/%.o) $(MSRC_C:%.c=$(BUILD)/m/%.o)
KSRC_S   := $(wildcard boot/*.asm arch/x86/*.asm supervisor/*.asm)
KOBJ     := $(KSRC_S:%.asm=$(BUILD)/k/%.o) $(KSRC_C:%.c=$(BUILD)/k/%.o)

# Code that also runs on the host, unit-tested there.
HOST_SRC := $(filter-out lib/string.c,$(wildcard lib/*.c pool/*.c supervisor/dev/*.c monitor/emu/*.c)) paging/gwalk.c paging/spage.c paging/protect.c paging/shadow.c paging/stlb.c monitor/scan.c monitor/taskcheck.c drivers/rtc.c supervisor/kimage.c
UNIT_SRC := $(wildcard tests/unit/*.c)
UNIT_OBJ := $(HOST_SRC:%.c=$(BUILD)/host/%.o) $(UNIT_SRC:%.c=$(BUILD)/host/%.o)

PACKAGES := gcc-i686-linux-gnu binutils-i686-linux-gnu nasm grub-pc-bin grub-common \
            xorriso mtools qemu-system-x86 python3 gcc make bochs bochsbios vgabios bochs-term

# Guest test kernels and the demo guest: tests/guests/guests.mk defines GUESTS and their rules.
GUESTS :=
-include tests/guests/guests.mk
FOREIGN :=
-include tests/foreign/foreign.mk

.PHONY: all iso run test unit qtest bench debug clean deps
all: deps $(BUILD)/umbra.elf $(BUILD)/umbra.iso $(GUESTS) $(FOREIGN)

# --- kernel ---------------------------------------------------------------
$(BUILD)/umbra.elf: $(KOBJ) linker.ld
	$(LD) $(LDFLAGS) -T linker.ld -o $@ $(KOBJ) $(LIBGCC)

$(BUILD)/k/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/k/supervisor/monitor_blob.o: $(BUILD)/monitor.bin

$(BUILD)/monitor.elf: $(MOBJ) monitor/monitor.ld
	$(LD) $(LDFLAGS) -T monitor/monitor.ld -o $@ $(MOBJ) $(LIBGCC)

$(BUILD)/monitor.bin: $(BUILD)/monitor.elf
	$(OBJCOPY) -O binary $< $@

$(BUILD)/m/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DUMBRA_MONITOR -c $< -o $@

$(BUILD)/m/%.o: %.asm
	@mkdir -p $(dir $@)
	$(NASM) -f elf32 -g -F dwarf -I. -MD $(@:.o=.d) -o $@ $<

$(BUILD)/k/%.o: %.asm
	@mkdir -p $(dir $@)
	$(NASM) -f elf32 -g -F dwarf -I. -MD $(@:.o=.d) -o $@ $<

# --- ISO --------------------------------------------------------------------
iso: $(BUILD)/umbra.iso
$(BUILD)/umbra.iso: $(BUILD)/umbra.elf iso/grub.cfg $(BUILD)/guests/demo.elf
	@rm -rf $(BUILD)/isoroot && mkdir -p $(BUILD)/isoroot/boot/grub $(BUILD)/isoroot/guests
	cp $(BUILD)/umbra.elf $(BUILD)/isoroot/boot/umbra.elf
	cp iso/grub.cfg $(BUILD)/isoroot/boot/grub/grub.cfg
	cp $(BUILD)/guests/demo.elf $(BUILD)/isoroot/guests/demo.elf
	grub-mkrescue -o $@ $(BUILD)/isoroot 2>$(BUILD)/grub-mkrescue.log || \
	  { cat $(BUILD)/grub-mkrescue.log; exit 1; }

# --- running ----------------------------------------------------------------
QEMUFLAGS := -accel tcg -cpu max -m $(QEMUMEM) -no-reboot \
             -device isa-debug-exit,iobase=0xf4,iosize=4

run: all
	@echo "umbra: booting $(BUILD)/umbra.iso in QEMU (serial on this terminal; Ctrl-A X quits)"
	-$(QEMU) $(QEMUFLAGS) -display none -serial mon:stdio -cdrom $(BUILD)/umbra.iso

debug: all
	@echo "umbra: QEMU waits for gdb on :1234 (gdb $(BUILD)/umbra.elf -ex 'target remote :1234')"
	$(QEMU) $(QEMUFLAGS) -display none -serial mon:stdio -s -S -cdrom $(BUILD)/umbra.iso

# --- tests ------------------------------------------------------------------
$(BUILD)/unit: $(UNIT_OBJ)
	$(HOSTCC) $(HOSTFLAGS) -o $@ $(UNIT_OBJ)

$(BUILD)/host/%.o: %.c
	@mkdir -p $(dir $@)
	$(HOSTCC) $(HOSTFLAGS) -c $< -o $@

unit: deps $(BUILD)/unit
	$(BUILD)/unit

test: all $(BUILD)/unit
	python3 tests/run.py

bench: all
	python3 tools/bench.py $(BENCHFLAGS)

clean:
	rm -rf $(BUILD)

# --- set-up: install what is missing (as root), or say exactly what to run ---
deps:
	@missing=""; for p in $(PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "umbra: installing$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q$$missing >/dev/null || exit 1; \
	  else \
	    echo "umbra: missing packages. Run: sudo apt-get install -y$$missing"; exit 1; \
	  fi; \
	fi

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
.SECONDARY:

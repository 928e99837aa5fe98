# Guest test kernels: tests/guests/NAME.c + the library -> build/guests/NAME.elf.
GUEST_NAMES := $(basename $(notdir $(wildcard tests/guests/*.c)))
GUESTS      := $(GUEST_NAMES:%=$(BUILD)/guests/%.elf)
GUEST_CFLAGS := -std=c11 -O2 -g -ffreestanding -fno-pic -fno-pie -fno-stack-protector -mgeneral-regs-only \
                -fno-asynchronous-unwind-tables -Wall -Wextra -Werror -I. -MMD -MP
GUEST_LIB   := $(BUILD)/guests/lib/entry.o $(BUILD)/guests/lib/guest.o $(BUILD)/guests/lib/paging.o

$(BUILD)/guests/lib/entry.o: tests/guests/lib/entry.asm
	@mkdir -p $(dir $@)
	$(NASM) -f elf32 -o $@ $<

$(BUILD)/guests/%.o: tests/guests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -c $< -o $@

$(BUILD)/guests/%.elf: $(BUILD)/guests/%.o $(GUEST_LIB) tests/guests/lib/guest.ld
	$(LD) -nostdlib -static -z noexecstack --no-warn-rwx-segments -T tests/guests/lib/guest.ld -o $@ $< $(GUEST_LIB) $(LIBGCC)

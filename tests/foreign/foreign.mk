# Foreign guests: kernels written apart from the guest library, each in tests/foreign/NAME/
# with its own Multiboot header, start-up code and (optionally) link.ld. They are built
# from every .asm and .c in their folder into build/foreign/NAME.elf and run with the exact
# commands of the "does umbra run a guest" check (tests/qemu/t_foreign.py).
FOREIGN_NAMES := $(notdir $(patsubst %/,%,$(wildcard tests/foreign/*/)))
FOREIGN       := $(FOREIGN_NAMES:%=$(BUILD)/foreign/%.elf)
FOREIGN_CFLAGS := -std=gnu11 -O2 -g -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
                  -fno-asynchronous-unwind-tables -Wall -Wextra -Werror -MMD -MP

$(BUILD)/foreign/%.o: tests/foreign/%.c
	@mkdir -p $(dir $@)
	$(CC) $(FOREIGN_CFLAGS) -c $< -o $@

$(BUILD)/foreign/%.o: tests/foreign/%.asm
	@mkdir -p $(dir $@)
	$(NASM) -f elf32 -I tests/foreign/$(*D)/ -o $@ $<

# One ELF per folder: its objects, its link.ld or else a plain load at 1 MiB.
define FOREIGN_RULE
$(BUILD)/foreign/$(1).elf: $(patsubst tests/foreign/%,$(BUILD)/foreign/%.o,$(basename $(wildcard tests/foreign/$(1)/*.c tests/foreign/$(1)/*.asm))) $(wildcard tests/foreign/$(1)/link.ld)
	$$(LD) -nostdlib -static -z noexecstack --no-warn-rwx-segments \
	  $$(if $$(wildcard tests/foreign/$(1)/link.ld),-T tests/foreign/$(1)/link.ld,-Ttext 0x100000 -e _start) \
	  -o $$@ $$(filter %.o,$$^) $$(LIBGCC)
endef
$(foreach f,$(FOREIGN_NAMES),$(eval $(call FOREIGN_RULE,$(f))))

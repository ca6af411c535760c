import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CMDLINE_LIMITS, cmdlineForEntry, reusableCmdline, splitCmdline, validateCmdline } from '../../src/handoff/cmdline.js';
import { ValidationError } from '../../src/errors.js';

test('x86_64 takes 2016 bytes: cmdline_size 2047 minus 30 for elfcorehdr= minus the NUL', () => {
  assert.equal(CMDLINE_LIMITS.x86_64.maxLengthBytes, 2016);
  validateCmdline('a'.repeat(2016), 'x86_64');
  assert.throws(() => validateCmdline('a'.repeat(2017), 'x86_64'), (error: unknown) => {
    assert.ok(error instanceof ValidationError);
    assert.equal(error.code, 'CMDLINE_TOO_LONG');
    assert.match(error.message, /2017 bytes; x86_64 takes at most 2016/);
    assert.match(error.message, /kexec-bzimage64\.c/);
    assert.match(error.remedy ?? '', /by 1 bytes/);
    return true;
  });
});

test('the limit counts UTF-8 bytes, not characters', () => {
  // 'é' is two bytes: 1009 of them are 2018 bytes, over the x86_64 limit though only 1009 characters.
  assert.throws(() => validateCmdline('é'.repeat(1009), 'x86_64'), { code: 'CMDLINE_TOO_LONG' });
  validateCmdline('é'.repeat(1008), 'x86_64');
});

test('aarch64 and riscv64 limits come from COMMAND_LINE_SIZE', () => {
  validateCmdline('a'.repeat(4095), 'aarch64');
  assert.throws(() => validateCmdline('a'.repeat(4096), 'aarch64'), { code: 'CMDLINE_TOO_LONG' });
  validateCmdline('a'.repeat(1023), 'riscv64');
  assert.throws(() => validateCmdline('a'.repeat(1024), 'riscv64'), { code: 'CMDLINE_TOO_LONG' });
});

test('a NUL inside the command line is refused with its position', () => {
  assert.throws(() => validateCmdline('root=/dev/sda1\0quiet', 'x86_64'), (error: unknown) => {
    assert.ok(error instanceof ValidationError);
    assert.equal(error.code, 'CMDLINE_HAS_NUL');
    assert.match(error.message, /position 14/);
    return true;
  });
});

test('--reuse-cmdline drops BOOT_IMAGE= and initrd= and keeps the rest in order', () => {
  // /proc/cmdline of a Debian 12 machine booted by GRUB, and of a syslinux boot.
  assert.equal(
    reusableCmdline('BOOT_IMAGE=/boot/vmlinuz-6.1.0-26-amd64 root=UUID=0b6e0c4a-2d1c-4f5b-9d0e-0c3c2f7a9f11 ro quiet\n'),
    'root=UUID=0b6e0c4a-2d1c-4f5b-9d0e-0c3c2f7a9f11 ro quiet',
  );
  assert.equal(reusableCmdline('initrd=/install.amd/initrd.gz vga=788 --- quiet'), 'vga=788 --- quiet');
  // Only whole parameters named BOOT_IMAGE/initrd go: rd.initrd-like names stay.
  assert.equal(reusableCmdline('rd.initrd=x initrdmem=1 BOOT_IMAGE=(hd0,gpt2)/vmlinuz console=ttyS0'), 'rd.initrd=x initrdmem=1 console=ttyS0');
});

test('splitting keeps quoted values with spaces together, as the kernel does', () => {
  assert.deepEqual(splitCmdline('a "b c" d="e f"  g'), ['a', '"b c"', 'd="e f"', 'g']);
  assert.equal(reusableCmdline('BOOT_IMAGE=/vmlinuz dyndbg="file kexec_file.c +p" quiet'), 'dyndbg="file kexec_file.c +p" quiet');
});

test('cmdlineForEntry: the entry\'s own, this boot\'s in its place, --append after; an unknown one is refused, never empty', () => {
  const grub = { title: 'Debian', origin: 'grub', cmdline: 'root=UUID=abc ro quiet' };
  assert.equal(cmdlineForEntry(grub, {}), 'root=UUID=abc ro quiet');
  assert.equal(cmdlineForEntry(grub, { append: 'debug' }), 'root=UUID=abc ro quiet debug');
  assert.equal(cmdlineForEntry(grub, { reused: 'root=/dev/vda1 ro', append: 'debug' }), 'root=/dev/vda1 ro debug');
  const uki = { title: 'UKI', origin: 'uki', cmdline: '' };
  assert.equal(cmdlineForEntry(uki, {}), undefined);
  assert.equal(cmdlineForEntry(uki, { append: 'quiet' }), 'quiet');
  const bare = { title: 'Linux 6.1.0-26-amd64', origin: 'distro', cmdline: '', cmdlineOrigin: 'unknown' as const };
  assert.throws(() => cmdlineForEntry(bare, {}), (error: unknown) => error instanceof ValidationError && error.code === 'CMDLINE_MISSING' && /--reuse-cmdline/.test(error.remedy ?? ''));
  assert.equal(cmdlineForEntry(bare, { append: 'root=/dev/sda2 ro' }), 'root=/dev/sda2 ro');
  assert.equal(cmdlineForEntry(bare, { reused: 'root=/dev/vda1' }), 'root=/dev/vda1');
  // This boot's own /boot: the command line came from /proc/cmdline and is used as it is.
  assert.equal(cmdlineForEntry({ ...bare, cmdline: 'root=/dev/vda1 ro', cmdlineOrigin: 'this-boot' }, {}), 'root=/dev/vda1 ro');
});

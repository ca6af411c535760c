import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRootedReader, readBootConfig, resolveBootEntry } from '../../src/bootcfg/resolve.js';
import type { BootEntry } from '../../src/bootcfg/types.js';
import { ParseError } from '../../src/errors.js';

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexec-ts-bootcfg-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function write(root: string, file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), text);
}

test('the reader never leaves its root: .. stops at the top, absolute link targets restart at the root', (t) => {
  const outside = scratch(t);
  const root = path.join(outside, 'root');
  write(outside, 'secret', 'outside');
  write(root, 'etc/secret', 'inside');
  fs.symlinkSync('/etc', path.join(root, 'etc-link'));
  fs.symlinkSync('../../secret', path.join(root, 'up-link'));
  fs.symlinkSync(path.join(outside, 'secret'), path.join(root, 'host-absolute'));
  const reader = createRootedReader(root);
  assert.equal(reader.readText('/../secret'), undefined);
  assert.equal(reader.readText('/../../etc/secret'), 'inside');
  assert.equal(reader.readText('/etc-link/secret'), 'inside');
  assert.equal(reader.readText('/up-link'), undefined);
  // A link to the host path is read as that path under the root, where nothing is.
  assert.equal(reader.readText('/host-absolute'), undefined);
  assert.deepEqual(reader.list('/'), ['etc', 'etc-link', 'host-absolute', 'up-link']);
  assert.deepEqual(reader.list('/../..'), reader.list('/'));
});

test('a link loop ends as not found; a directory or a device is not a text file', (t) => {
  const root = scratch(t);
  fs.symlinkSync('b', path.join(root, 'a'));
  fs.symlinkSync('a', path.join(root, 'b'));
  fs.mkdirSync(path.join(root, 'dir'));
  const reader = createRootedReader(root);
  assert.equal(reader.readText('/a'), undefined);
  assert.equal(reader.kind('/a'), undefined);
  assert.equal(reader.readText('/dir'), undefined);
  assert.equal(reader.kind('/dir'), 'directory');
});

test('a config file over the size limit is refused with a typed error before it is read', (t) => {
  const root = scratch(t);
  const big = path.join(root, 'big.cfg');
  fs.writeFileSync(big, '');
  fs.truncateSync(big, 2 << 20);
  assert.throws(() => createRootedReader(root).readText('/big.cfg'), (error: unknown) => error instanceof ParseError && error.code === 'FORMAT_LIMIT_EXCEEDED');
});

test('a missing kernel or initrd marks the entry unbootable with the reason; a parser reason is kept', (t) => {
  const root = scratch(t);
  write(root, 'boot/vmlinuz-1', 'k');
  const reader = createRootedReader(root);
  const base: BootEntry = { id: 'x', title: 'x', kernel: '/vmlinuz-1', initrds: ['/initrd.img-1'], cmdline: '', source: { file: '/x', line: 1 }, isDefault: false, origin: 'grub', pathBases: ['/', '/boot'] };
  const missingInitrd = resolveBootEntry(reader, base);
  assert.equal(missingInitrd.kernelFile, path.join(root, 'boot/vmlinuz-1'));
  assert.equal(missingInitrd.unbootableReason?.code, 'INITRD_NOT_FOUND');
  assert.match(missingInitrd.unbootableReason!.message, /\/initrd\.img-1 or \/boot\/initrd\.img-1/);
  const missingKernel = resolveBootEntry(reader, { ...base, kernel: '/vmlinuz-2', initrds: [] });
  assert.equal(missingKernel.unbootableReason?.code, 'KERNEL_NOT_FOUND');
  const memtest = resolveBootEntry(reader, { ...base, kernel: '/memtest', unbootableReason: { code: 'MEMTEST', message: 'm' } });
  assert.equal(memtest.unbootableReason?.code, 'MEMTEST');
});

test('readBootConfig picks GRUB, then BLS, then syslinux, then the bare /boot layout', (t) => {
  const root = scratch(t);
  write(root, 'boot/vmlinuz-6.1.0-9-amd64', 'k');
  assert.equal(readBootConfig(root, { procCmdline: 'ro' }).loader, 'distro');
  write(root, 'boot/extlinux/extlinux.conf', 'LABEL a\n LINUX /vmlinuz-6.1.0-9-amd64\n');
  const syslinux = readBootConfig(root);
  assert.equal(syslinux.loader, 'syslinux');
  // extlinux on /boot: the path is relative to the /boot partition.
  assert.equal(syslinux.entries[0]!.kernelFile, path.join(root, 'boot/vmlinuz-6.1.0-9-amd64'));
  write(root, 'boot/loader/entries/a.conf', 'linux /vmlinuz-6.1.0-9-amd64\n');
  assert.equal(readBootConfig(root).loader, 'bls');
  write(root, 'boot/grub/grub.cfg', 'menuentry A { linux /boot/vmlinuz-6.1.0-9-amd64 }\n');
  const grub = readBootConfig(root);
  assert.deepEqual([grub.loader, grub.configFile, grub.entries[0]!.unbootableReason], ['grub', '/boot/grub/grub.cfg', undefined]);
  assert.equal(readBootConfig(root, { loader: 'bls' }).loader, 'bls');
});

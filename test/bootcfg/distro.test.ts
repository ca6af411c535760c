import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareDebianVersions } from '../../src/bootcfg/distro/dpkg-version.js';
import { distroBootEntries } from '../../src/bootcfg/distro/layout.js';
import { readBootConfig } from '../../src/bootcfg/resolve.js';
import { bootcfgCache } from './fixtures.js';

test("dpkg order: 6.1.0-26-amd64 after 6.1.0-9-amd64, ~ before everything, letters before other characters", () => {
  assert.ok(compareDebianVersions('6.1.0-26-amd64', '6.1.0-9-amd64') > 0);
  assert.ok(compareDebianVersions('6.1.0-9-amd64', '6.1.0-26-amd64') < 0);
  assert.ok(compareDebianVersions('6.1~rc1', '6.1') < 0);
  assert.ok(compareDebianVersions('1.0a', '1.0+') < 0);
  assert.ok(compareDebianVersions('1:1.0', '2.0') > 0);
  assert.equal(compareDebianVersions('1.01', '1.1'), 0);
  assert.ok(compareDebianVersions('6.1.0-26-amd64', '6.1.0-26-cloud-amd64') < 0);
  assert.ok(compareDebianVersions('5.10.0-32-amd64', '6.1.0-9-amd64') < 0);
});

test('kernels pair with their initrds (Debian, dracut, SUSE names), newest first, the cmdline from /proc/cmdline', () => {
  const config = distroBootEntries({
    bootDir: '/boot',
    bootFiles: [
      'config-6.1.0-9-amd64', 'initrd.img-6.1.0-9-amd64', 'vmlinuz-6.1.0-9-amd64',
      'vmlinuz-6.1.0-26-amd64', 'initrd.img-6.1.0-26-amd64', 'System.map-6.1.0-26-amd64',
      'vmlinuz-6.5.0-1.fc39.x86_64', 'initramfs-6.5.0-1.fc39.x86_64.img',
      'vmlinuz-5.14.21-150500-default', 'initrd-5.14.21-150500-default',
      'vmlinuz-5.10.0-32-amd64', 'grub',
    ],
    symlinks: {},
    procCmdline: 'BOOT_IMAGE=/boot/vmlinuz-6.1.0-26-amd64 root=UUID=abc ro initrd=/x quiet\n',
  });
  assert.deepEqual(config.entries.map((e) => [e.version, e.initrds]), [
    ['6.5.0-1.fc39.x86_64', ['/boot/initramfs-6.5.0-1.fc39.x86_64.img']],
    ['6.1.0-26-amd64', ['/boot/initrd.img-6.1.0-26-amd64']],
    ['6.1.0-9-amd64', ['/boot/initrd.img-6.1.0-9-amd64']],
    ['5.14.21-150500-default', ['/boot/initrd-5.14.21-150500-default']],
    ['5.10.0-32-amd64', []],
  ]);
  assert.ok(config.entries.every((e) => e.cmdline === 'root=UUID=abc ro quiet' && e.origin === 'distro' && e.cmdlineOrigin === 'this-boot'));
  // No symlinks: the newest is the default; a kernel without an initrd is a warning, not an error.
  assert.equal(config.defaultId, 'vmlinuz-6.5.0-1.fc39.x86_64');
  assert.deepEqual(config.warnings.map((w) => w.code), ['FILE_NOT_FOUND']);
});

test('/vmlinuz names the default; a link to a kernel not in /boot becomes an entry of its own', () => {
  const config = distroBootEntries({
    bootDir: '/boot',
    bootFiles: ['vmlinuz-6.1.0-26-amd64', 'vmlinuz-6.1.0-9-amd64', 'initrd.img-6.1.0-9-amd64'],
    rootFiles: ['vmlinuz', 'vmlinuz.old', 'initrd.img.old'],
    symlinks: { '/vmlinuz': 'boot/vmlinuz-6.1.0-9-amd64', '/vmlinuz.old': '/boot/vmlinuz-5.10.0-1-amd64' },
  });
  assert.equal(config.defaultId, 'vmlinuz-6.1.0-9-amd64');
  // Another system's /boot (no /proc/cmdline of its own): the command line is unknown, not empty.
  assert.ok(config.entries.every((e) => e.cmdline === '' && e.cmdlineOrigin === 'unknown'));
  const old = config.entries.find((e) => e.id === '/vmlinuz.old');
  assert.equal(old?.kernel, '/vmlinuz.old');
  assert.deepEqual(old?.initrds, ['/initrd.img.old']);
  assert.equal(config.entries.length, 3);
});

test('a /boot laid out by dpkg -x of two Debian kernels (cache): newest first, linked as linux-update-symlinks does', (t) => {
  const cache = bootcfgCache(t);
  if (!cache) return;
  const config = readBootConfig(cache.scratchRoot, { loader: 'distro', procCmdline: `BOOT_IMAGE=/vmlinuz ${cache.manifest.cmdline}` });
  const { older, newer } = cache.manifest.kernels;
  assert.equal(config.loader, 'distro');
  assert.deepEqual(config.entries.map((e) => e.version), [newer.release, older.release]);
  assert.equal(config.defaultId, `vmlinuz-${newer.release}`);
  assert.equal(config.entries[0]!.kernelFile, `${cache.scratchRoot}/boot/vmlinuz-${newer.release}`);
  assert.deepEqual(config.entries[0]!.initrdFiles, [`${cache.scratchRoot}/boot/initrd.img-${newer.release}`]);
  assert.deepEqual(config.entries[1]!.initrds, []);
  assert.equal(config.entries[0]!.cmdline, cache.manifest.cmdline);
});

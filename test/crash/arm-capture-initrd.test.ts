import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import { ErrorCode, KexecError, ParseError, UsageError } from '../../src/errors.js';
import { buildCaptureInitrd } from '../../src/crash/arm/capture-initrd/build.js';
import { captureConfigText, captureInitScript, DEFAULT_SAVE_ARGUMENTS, type CaptureConfig } from '../../src/crash/arm/capture-initrd/init-script.js';
import { driverModulesFor, mountHolding, parseMountinfo } from '../../src/crash/arm/capture-initrd/dump-target.js';
import { moduleName, parseModulesDep, selectModules } from '../../src/crash/arm/capture-initrd/modules.js';
import { CAPTURE_CONFIG_PATH } from '../../src/crash/arm/capture-initrd/layout.js';
import { measureInitrd } from '../../src/crash/arm/initrd-measure.js';
import { findOnPath } from '../vm/harness.js';
import { fuzzSettings } from '../image/image-fixtures.js';
import { hostBusyboxIsStatic } from '../vm/initramfs.js';
import { scratchDir } from './vmcore-fixtures.js';

const CONFIG: CaptureConfig = {
  dumpDevice: 'UUID=0f4e5a0c-3b1d-4c6e-9a51-7b2f8e3c9d10',
  dumpFstype: 'ext4',
  dumpMountOptions: 'rw',
  dumpDir: '/var/crash',
  saveArguments: DEFAULT_SAVE_ARGUMENTS,
  modules: ['virtio.ko', 'virtio_blk.ko'],
  deviceTimeoutSeconds: 60,
  onFailure: 'reboot',
  finalAction: 'reboot',
};

test('the capture /init and its configuration are valid busybox sh, and the configuration reads back as written', (t) => {
  if (!existsSync('/bin/busybox')) return t.skip('no /bin/busybox');
  const dir = scratchDir(t);
  const init = join(dir, 'init');
  writeFileSync(init, captureInitScript());
  assert.equal(spawnSync('/bin/busybox', ['sh', '-n', init], { encoding: 'utf8' }).status, 0);
  const conf = join(dir, 'capture.conf');
  writeFileSync(conf, captureConfigText({ ...CONFIG, dumpDir: "/var/crash/it's here" }));
  const read = spawnSync('/bin/busybox', ['sh', '-c', `. ${conf}; printf '%s|' "$DUMP_DEVICE" "$DUMP_DIR" "$SAVE_ARGS" "$MODULES" "$FINAL_ACTION"`], { encoding: 'utf8' });
  assert.equal(read.stdout, `${CONFIG.dumpDevice}|/var/crash/it's here|${DEFAULT_SAVE_ARGUMENTS.join(' ')}|virtio.ko virtio_blk.ko|reboot|`);
});

test('capture settings that cannot pass through the shell are refused up front', () => {
  assert.throws(() => captureConfigText({ ...CONFIG, dumpDir: 'relative' }), UsageError);
  assert.throws(() => captureConfigText({ ...CONFIG, dumpDevice: 'LABEL=a\nb' }), UsageError);
  assert.throws(() => captureConfigText({ ...CONFIG, saveArguments: ['--dump-level', '$(reboot)'] }), UsageError);
});

test('modules: dependencies first (as modprobe loads them), built-in ones skipped, - and _ alike', () => {
  // The shape depmod writes for the virtio block driver and ext4 on Debian's generic kernel.
  const index = parseModulesDep(
    [
      'kernel/drivers/block/virtio_blk.ko.xz: kernel/drivers/virtio/virtio.ko.xz kernel/drivers/virtio/virtio_ring.ko.xz',
      'kernel/drivers/virtio/virtio_ring.ko.xz:',
      'kernel/drivers/virtio/virtio.ko.xz: kernel/drivers/virtio/virtio_ring.ko.xz',
      'kernel/fs/ext4/ext4.ko.xz: kernel/lib/crc16.ko.xz kernel/fs/mbcache.ko.xz kernel/fs/jbd2/jbd2.ko.xz',
      'kernel/lib/crc16.ko.xz:',
      'kernel/fs/mbcache.ko.xz:',
      'kernel/fs/jbd2/jbd2.ko.xz:',
      '',
    ].join('\n'),
    'kernel/drivers/nvme/host/nvme.ko\nkernel/drivers/nvme/host/nvme-core.ko\n',
  );
  const selection = selectModules(index, ['virtio-blk', 'nvme_core', 'ext4', 'floppy']);
  assert.deepEqual(selection.loadOrder, [
    'kernel/drivers/virtio/virtio_ring.ko.xz',
    'kernel/drivers/virtio/virtio.ko.xz',
    'kernel/drivers/block/virtio_blk.ko.xz',
    'kernel/lib/crc16.ko.xz',
    'kernel/fs/mbcache.ko.xz',
    'kernel/fs/jbd2/jbd2.ko.xz',
    'kernel/fs/ext4/ext4.ko.xz',
  ]);
  assert.deepEqual(selection.builtin, ['nvme_core']);
  assert.deepEqual(selection.missing, ['floppy']);
  assert.equal(moduleName('kernel/drivers/block/virtio-blk.ko.zst'), 'virtio_blk');
});

test('mountinfo: the mount holding a path is the longest mount point over it; escapes decoded', () => {
  const entries = parseMountinfo(
    [
      '27 1 254:0 / / rw,relatime - ext4 /dev/vda rw',
      '30 27 254:16 / /var rw,relatime - xfs /dev/vdb rw',
      '31 27 0:40 / /var/tmp rw - tmpfs tmpfs rw',
      '32 27 254:32 / /srv/my\\040data rw - ext4 /dev/vdc rw',
    ].join('\n'),
  );
  assert.equal(mountHolding(entries, '/var/crash')?.source, '/dev/vdb');
  assert.equal(mountHolding(entries, '/varnish')?.source, '/dev/vda');
  assert.equal(mountHolding(entries, '/srv/my data/crash')?.majorMinor, '254:32');
  assert.ok(parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).some((entry) => entry.mountPoint === '/'));
});

test('crash initrd builds a gzip\'ed newc archive with busybox, node, its libraries and kexec-ts; crash load recognises it', async (t) => {
  if (!hostBusyboxIsStatic()) return t.skip('needs a static /bin/busybox (busybox-static)');
  if (findOnPath('ldd') === undefined) return t.skip('needs ldd');
  const dir = scratchDir(t);
  const hook = join(dir, 'hello.sh');
  writeFileSync(hook, '#!/bin/sh\necho hello\n', { mode: 0o755 });
  const out = join(dir, 'capture.img');
  const result = await buildCaptureInitrd({ out, dumpDevice: 'LABEL=DUMPS', dumpFstype: 'ext4', preSaveHooks: [hook], finalAction: 'poweroff' });
  assert.equal(result.path, out);
  assert.ok(result.sizeBytes < result.archiveBytes / 2, 'compressed');
  const archive = gunzipSync(readFileSync(out));
  assert.equal(archive.length, result.archiveBytes);
  const measured = await measureInitrd({ sizeBytes: archive.length, read: (offset, length) => archive.subarray(offset, offset + length) }, { lookFor: [CAPTURE_CONFIG_PATH, 'init', 'usr/bin/node', 'bin/busybox', 'opt/kexec-ts/dist/src/cli/main.js', 'etc/kexec-ts/pre-save.d/01-hello.sh', ...result.node.libraries.map((library) => library.slice(1))] });
  assert.equal(measured.entries, result.entries);
  assert.equal(measured.found.length, 6 + result.node.libraries.length, `found ${measured.found.join(', ')}`);
  const text = archive.toString('latin1');
  assert.ok(text.includes("DUMP_DEVICE='LABEL=DUMPS'"));
  const names = [...text.matchAll(/070701[0-9a-f]{104}([^\0]+)\0/g)].map((match) => match[1]!);
  assert.ok(names.includes('opt/kexec-ts/dist/src/crash/arm/fit.js'));
  assert.deepEqual(names.filter((name) => /\.(d\.ts|js\.map|md)$/.test(name)), [], 'no declarations, source maps or docs');
  await assert.rejects(buildCaptureInitrd({ out, dumpDevice: 'none' }), UsageError, 'an existing OUT needs force');
});

test('crash initrd refuses a dynamically linked busybox, naming the package to install', async (t) => {
  const dir = scratchDir(t);
  await assert.rejects(
    buildCaptureInitrd({ out: join(dir, 'x.img'), dumpDevice: 'none', busybox: process.execPath }),
    (error: unknown) => error instanceof KexecError && error.code === ErrorCode.CAPTURE_INITRD_INPUT_UNUSABLE && /dynamically linked/.test(error.message) && /busybox-static/.test(error.remedy ?? ''),
  );
});

test('the dump device\'s drivers are found in sysfs as udev finds them: the disk\'s driver, then its controller\'s', (t) => {
  const root = scratchDir(t);
  const device = 'sys/devices/pci0000:00/0000:00:04.0/virtio1';
  mkdirSync(join(root, device, 'block/vda/vda1'), { recursive: true });
  mkdirSync(join(root, 'sys/bus/virtio/drivers/virtio_blk'), { recursive: true });
  mkdirSync(join(root, 'sys/bus/pci/drivers/virtio-pci'), { recursive: true });
  mkdirSync(join(root, 'sys/module/virtio_blk'), { recursive: true });
  mkdirSync(join(root, 'sys/module/virtio_pci'), { recursive: true });
  mkdirSync(join(root, 'sys/dev/block'), { recursive: true });
  symlinkSync('../../../../module/virtio_blk', join(root, 'sys/bus/virtio/drivers/virtio_blk/module'));
  symlinkSync('../../../../module/virtio_pci', join(root, 'sys/bus/pci/drivers/virtio-pci/module'));
  symlinkSync('../../../../bus/virtio/drivers/virtio_blk', join(root, device, 'driver'));
  symlinkSync('../../../bus/pci/drivers/virtio-pci', join(root, 'sys/devices/pci0000:00/0000:00:04.0/driver'));
  symlinkSync('../../../virtio1', join(root, device, 'block/vda/device'));
  symlinkSync(`../../${device.slice('sys/'.length)}/block/vda/vda1`, join(root, 'sys/dev/block/254:1'));
  assert.deepEqual(driverModulesFor('254:1', root), ['virtio_blk', 'virtio_pci']);
  assert.deepEqual(driverModulesFor('8:1', root), [], 'an unknown device has none');
});

test('modules.dep and mountinfo property: any text parses or is a ParseError, and a selection only names known paths', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...'ab_-/.:kox \n'.split('')), maxLength: 200 }), fc.array(fc.constantFrom('a', 'b', 'a_b', 'x'), { maxLength: 4 }), (text, requested) => {
      try {
        const index = parseModulesDep(text);
        const known = new Set([...index.modules.values()].flatMap((entry) => [entry.path, ...entry.dependencies]));
        for (const path of selectModules(index, requested).loadOrder) assert.ok(known.has(path), path);
      } catch (error) {
        assert.ok(error instanceof ParseError, String(error));
      }
      for (const entry of parseMountinfo(text)) assert.equal(typeof entry.mountPoint, 'string');
    }),
    fuzzSettings(1000),
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildCaptureCmdline, rootfsIsTmpfs, CRASH_SAVE_UNIT } from '../../src/crash/arm/capture-cmdline.js';
import { splitCmdline } from '../../src/handoff/cmdline.js';

// A Debian install's line (GRUB, with kdump-tools' crashkernel= default), the test VM's line, and
// this machine's own (which hands init arguments after "--").
const DEBIAN = 'BOOT_IMAGE=/boot/vmlinuz-6.1.0-26-amd64 root=UUID=0f4e5a0c-3b1d-4c6e-9a51-7b2f8e3c9d10 ro quiet crashkernel=384M-:128M';
const VM = 'console=ttyS0 panic=-1 quiet crashkernel=256M';

test('system environment: this boot\'s line minus crashkernel= and friends, plus the defaults and the save unit', () => {
  const built = buildCaptureCmdline({ base: DEBIAN, arch: 'x86_64', environment: 'system' });
  const parameters = splitCmdline(built.cmdline);
  assert.ok(!parameters.some((parameter) => parameter.startsWith('crashkernel=')));
  assert.ok(!parameters.includes('quiet'));
  assert.ok(!parameters.some((parameter) => parameter.startsWith('BOOT_IMAGE=')));
  // The system's initrd still mounts the real root.
  assert.ok(parameters.includes('root=UUID=0f4e5a0c-3b1d-4c6e-9a51-7b2f8e3c9d10') && parameters.includes('ro'));
  for (const expected of ['irqpoll', 'nr_cpus=1', 'reset_devices', 'udev.children-max=2', `systemd.unit=${CRASH_SAVE_UNIT}`]) assert.ok(parameters.includes(expected), expected);
  assert.ok(!parameters.includes('rootfstype=ramfs'));
  assert.deepEqual(built.removed.map((change) => change.parameter), ['BOOT_IMAGE=/boot/vmlinuz-6.1.0-26-amd64', 'quiet', 'crashkernel=384M-:128M']);
  assert.ok(built.added.every((change) => change.why.length > 0), 'every addition says why');
});

test('capture-initrd environment: no root=, init= or rdinit=; ramfs only when asked; no udev or systemd parameters', () => {
  const built = buildCaptureCmdline({ base: `${DEBIAN} init=/lib/systemd/systemd rdinit=/sbin/init resume=UUID=x`, arch: 'x86_64', environment: 'capture-initrd', rootfsRamfs: true });
  const parameters = splitCmdline(built.cmdline);
  for (const gone of ['root=', 'ro', 'init=', 'rdinit=', 'resume=', 'systemd.unit=', 'udev.children-max=']) {
    assert.ok(!parameters.some((parameter) => parameter === gone || (gone.endsWith('=') && parameter.startsWith(gone))), gone);
  }
  assert.equal(parameters.at(-1), 'rootfstype=ramfs');
  assert.equal(rootfsIsTmpfs(built.cmdline), false);
  assert.equal(rootfsIsTmpfs(buildCaptureCmdline({ base: DEBIAN, arch: 'x86_64', environment: 'capture-initrd' }).cmdline), true);
});

test('a parameter the defaults set replaces this boot\'s value (panic=-1 becomes panic=10), once', () => {
  const built = buildCaptureCmdline({ base: VM, arch: 'x86_64', environment: 'capture-initrd' });
  assert.deepEqual(splitCmdline(built.cmdline).filter((parameter) => parameter.startsWith('panic=')), ['panic=10']);
  assert.equal(built.removed.find((change) => change.parameter === 'panic=-1')?.why, 'replaced by the value below');
  assert.ok(built.cmdline.startsWith('console=ttyS0 '), 'the console stays, first');
});

test('init arguments after "--" stay after it; every kernel parameter is added before it', () => {
  const built = buildCaptureCmdline({ base: 'console=ttyS0 crashkernel=256M -- --single extra', arch: 'x86_64', environment: 'system', append: 'loglevel=7' });
  assert.match(built.cmdline, /^console=ttyS0 irqpoll .* loglevel=7 -- --single extra$/);
});

test('overrides: --remove names and prefixes, --append last (so it wins), no defaults', () => {
  const built = buildCaptureCmdline({
    base: 'console=ttyS0 rd.lvm.lv=vg/root rd.luks.uuid=abc net.ifnames=0 crashkernel=1G',
    arch: 'aarch64',
    environment: 'system',
    remove: ['rd.*', 'net.ifnames'],
    append: 'nr_cpus=2 maxcpus=2',
    defaults: false,
  });
  assert.equal(built.cmdline, `console=ttyS0 systemd.unit=${CRASH_SAVE_UNIT} nr_cpus=2 maxcpus=2`);
});

test('per-arch defaults: arm64 gets swiotlb=noforce, x86_64 nokaslr, riscv64 the common core', () => {
  const line = (arch: 'x86_64' | 'aarch64' | 'riscv64') => splitCmdline(buildCaptureCmdline({ base: '', arch, environment: 'capture-initrd' }).cmdline);
  assert.ok(line('aarch64').includes('swiotlb=noforce'));
  assert.ok(!line('aarch64').includes('nokaslr'));
  assert.ok(line('x86_64').includes('nokaslr'));
  assert.deepEqual(line('riscv64').slice(0, 3), ['irqpoll', 'nr_cpus=1', 'reset_devices']);
});

test('rootfs type by init_rootfs(): tmpfs without root= and rootfstype=, or when rootfstype names tmpfs', () => {
  assert.equal(rootfsIsTmpfs('console=ttyS0'), true);
  assert.equal(rootfsIsTmpfs('root=/dev/vda1'), false);
  assert.equal(rootfsIsTmpfs('root='), true, 'an empty root= leaves saved_root_name empty');
  assert.equal(rootfsIsTmpfs('root=/dev/vda1 rootfstype=tmpfs'), true);
  assert.equal(rootfsIsTmpfs('rootfstype=ramfs'), false);
  assert.equal(rootfsIsTmpfs('rootfstype=ext4'), false);
  assert.equal(rootfsIsTmpfs('console=ttyS0 -- root=/dev/vda1'), true, 'after "--" it is init\'s');
});

test('this machine\'s own /proc/cmdline makes a capture line that keeps its init arguments at the end', (t) => {
  let procCmdline: string;
  try {
    procCmdline = readFileSync('/proc/cmdline', 'utf8').trim();
  } catch {
    t.skip('no /proc/cmdline');
    return;
  }
  const built = buildCaptureCmdline({ base: procCmdline, arch: 'x86_64', environment: 'capture-initrd', rootfsRamfs: true });
  const separator = procCmdline.indexOf(' -- ');
  if (separator !== -1) assert.ok(built.cmdline.endsWith(procCmdline.slice(separator)));
  assert.ok(!splitCmdline(built.cmdline).some((parameter) => parameter.startsWith('crashkernel=')));
});

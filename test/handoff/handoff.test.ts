import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { cloudKernelFixture } from '../vm/fixtures.js';
import { FIXTURES, readFixture } from '../image/image-fixtures.js';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { KexecError, KexecRefusedError, SyscallError, ValidationError } from '../../src/errors.js';
import { exec, load, unload, type HandoffEnvironment } from '../../src/handoff/handoff.js';
import type { MachineFacts } from '../../src/handoff/machine-facts.js';
import { hostSyscalls, type KexecSyscalls } from '../../src/syscall/index.js';
import {
  KEXEC_FILE_DEBUG,
  KEXEC_FILE_NO_INITRAMFS,
  KEXEC_FILE_ON_CRASH,
  KEXEC_FILE_UNLOAD,
  LINUX_REBOOT_CMD_KEXEC,
} from '../../src/syscall/numbers.js';
import { errnoNumber } from '../../src/syscall/errno.js';
import { permissiveFacts } from './facts-fixture.js';

// The kernel side of these calls is proven in test/vm/ on a real kernel. Here the syscall layer
// is replaced by a recorder, to check what reaches it and that nothing reaches it on bad input.

interface RecordedLoad {
  kernelTarget: string;
  initrdTarget: string | undefined;
  initrdBytes?: Buffer;
  cmdline: string;
  flags: number;
}

function recorder(options: { failWith?: string; facts?: Partial<MachineFacts> } = {}) {
  const loads: RecordedLoad[] = [];
  const calls: string[] = [];
  const syscalls: KexecSyscalls = {
    arch: 'x86_64',
    kexecFileLoad(kernelFd, initrdFd, cmdline, flags) {
      calls.push('kexec_file_load');
      loads.push({
        // Which file each descriptor really is, read while the call is in progress.
        kernelTarget: kernelFd === -1 ? '' : readlinkSync(`/proc/self/fd/${kernelFd}`),
        initrdTarget: initrdFd === -1 ? undefined : readlinkSync(`/proc/self/fd/${initrdFd}`),
        cmdline,
        flags,
        ...(initrdFd !== -1 && readlinkSync(`/proc/self/fd/${initrdFd}`).startsWith('/memfd:') ? { initrdBytes: readFileSync(`/proc/self/fd/${initrdFd}`) } : {}),
      });
      if (options.failWith !== undefined) throw new SyscallError('kexec_file_load', errnoNumber(options.failWith)!, options.failWith);
    },
    kexecLoad(_entry, _segments, flags) {
      calls.push(`kexec_load:${flags.toString(16)}`);
      if (options.failWith !== undefined) throw new SyscallError('kexec_load', errnoNumber(options.failWith)!, options.failWith);
    },
    reboot(command) {
      calls.push(`reboot:${command.toString(16)}`);
      if (options.failWith !== undefined) throw new SyscallError('reboot', errnoNumber(options.failWith)!, options.failWith);
    },
    sync: () => void calls.push('sync'),
    // A real memfd: what the kernel would read from it is checked, not assumed.
    memfdCreate: (name, flags) => hostSyscalls().memfdCreate(name, flags),
    seekEnd: () => void calls.push('seekEnd'),
  };
  const env: HandoffEnvironment = {
    syscalls,
    readFacts: () => permissiveFacts(options.facts),
    devKmsgPath: join(tmpdir(), 'kexec-ts-no-kmsg-here'),
  };
  return { env, loads, calls };
}

const scratch = mkdtempSync(join(tmpdir(), 'kexec-ts-handoff-'));
const kernel = join(scratch, 'vmlinuz');
const initrd = join(scratch, 'initrd.img');
writeFileSync(kernel, Buffer.alloc(1024, 1));
// Starts like a newc cpio archive, so the initrd preflight takes it.
const initrdBytes = Buffer.concat([Buffer.from('070701', 'latin1'), Buffer.alloc(506, 2)]);
writeFileSync(initrd, initrdBytes);

test('load passes descriptors of the very files named, the command line, and NO_INITRAMFS only without an initrd', async () => {
  const { env, loads } = recorder();
  const result = await load({ kernel, skipPreflight: true, initrd, cmdline: 'console=ttyS0 quiet' }, env);
  assert.deepEqual(loads[0], { kernelTarget: kernel, initrdTarget: initrd, cmdline: 'console=ttyS0 quiet', flags: 0 });
  assert.equal(result.kernel.sizeBytes, 1024);
  assert.equal(result.initrd?.sizeBytes, 512);

  await load({ kernel, skipPreflight: true, cmdline: '' }, env);
  assert.equal(loads[1]?.flags, KEXEC_FILE_NO_INITRAMFS);
  assert.equal(loads[1]?.initrdTarget, undefined);
});

test('several initrds reach the kernel as one memfd: in order, each part starting 4-byte aligned', async () => {
  const { env, loads } = recorder();
  const odd = join(scratch, 'odd.cpio');
  const second = join(scratch, 'second.cpio');
  writeFileSync(odd, Buffer.from('abcde')); // 5 bytes: the next part needs 3 bytes of padding
  writeFileSync(second, Buffer.from('XYZ'));
  const result = await load({ kernel, skipPreflight: true, initrd: [odd, second, initrd], cmdline: '' }, env);
  const expected = Buffer.concat([Buffer.from('abcde'), Buffer.alloc(3), Buffer.from('XYZ'), Buffer.alloc(1), initrdBytes]);
  assert.deepEqual(loads[0]?.initrdBytes, expected);
  assert.match(loads[0]!.initrdTarget!, /^\/memfd:kexec-ts-initrd/);
  assert.equal(loads[0]?.flags, 0, 'an initrd is passed, so no KEXEC_FILE_NO_INITRAMFS');
  assert.equal(result.initrd?.sizeBytes, expected.length);
  assert.equal(result.initrd?.path, `${odd} + ${second} + ${initrd}`);
  // One initrd is passed as its own descriptor, no copy.
  await load({ kernel, skipPreflight: true, initrd: [initrd], cmdline: '' }, env);
  assert.equal(loads[1]?.initrdTarget, initrd);
});

test('a crash load sets KEXEC_FILE_ON_CRASH; unload sets KEXEC_FILE_UNLOAD with no files', async () => {
  const { env, loads } = recorder();
  await load({ kernel, skipPreflight: true, initrd, cmdline: 'irqpoll', crash: true }, env);
  assert.equal(loads[0]?.flags, KEXEC_FILE_ON_CRASH);
  unload({}, env);
  unload({ crash: true }, env);
  assert.deepEqual(loads.slice(1).map(({ kernelTarget, flags }) => ({ kernelTarget, flags })), [
    { kernelTarget: '', flags: KEXEC_FILE_UNLOAD },
    { kernelTarget: '', flags: KEXEC_FILE_UNLOAD | KEXEC_FILE_ON_CRASH },
  ]);
});

test('preflight refuses a file that is not a kernel for this arch before the syscall, and takes Debian\'s bzImage', async (t) => {
  if (process.arch !== 'x64') return t.skip('the preflight rules checked here are x86_64\'s');
  const { env, calls, loads } = recorder();
  await assert.rejects(() => load({ kernel, cmdline: '' }, env), (error: unknown) => {
    assert.ok(error instanceof ValidationError);
    assert.equal(error.code, 'IMAGE_NOT_LOADABLE');
    assert.match(error.message, /not a kernel image kexec-ts recognises/);
    return true;
  });
  assert.deepEqual(calls, []);
  const debianKernel = cloudKernelFixture().vmlinuzPath;
  if (!existsSync(debianKernel)) {
    if (process.env.CI === 'true') assert.fail(`fixture missing: ${debianKernel}`);
    return t.skip(`fixture missing: ${debianKernel}`);
  }
  await load({ kernel: debianKernel, initrd, cmdline: 'console=ttyS0' }, env);
  assert.equal(loads[0]?.kernelTarget, debianKernel);
  // Its own cmdline_size (2047) is the limit: 2016 bytes pass, 2017 do not.
  await load({ kernel: debianKernel, cmdline: 'x'.repeat(2016) }, env);
  await assert.rejects(() => load({ kernel: debianKernel, cmdline: 'x'.repeat(2017) }, env), { code: 'CMDLINE_TOO_LONG' });
});

test('a UKI is unpacked: .linux as the kernel, .initrd before the caller\'s, its .cmdline plus addons from FILE.extra.d', async (t) => {
  const uki = readFixture(t, 'debianCloudUki');
  const ukiInitrd = readFixture(t, 'ukiInitrd');
  const consoleAddon = readFixture(t, 'ukiConsoleAddon');
  const debugAddon = readFixture(t, 'ukiDebugAddon');
  const vmlinuz = readFixture(t, 'debianCloudAmd64Vmlinuz');
  if (!uki || !ukiInitrd || !consoleAddon || !debugAddon || !vmlinuz || process.arch !== 'x64') return;
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-uki-'));
  const ukiPath = join(dir, 'debian.efi');
  writeFileSync(ukiPath, uki);
  mkdirSync(`${ukiPath}.extra.d`);
  // Written in the "wrong" order: the stub sorts by name, so 10- comes before 50-.
  writeFileSync(join(`${ukiPath}.extra.d`, '50-debug.addon.efi'), debugAddon);
  writeFileSync(join(`${ukiPath}.extra.d`, '10-console.addon.efi'), consoleAddon);
  writeFileSync(join(`${ukiPath}.extra.d`, 'README'), 'not an addon');

  const { env, loads } = recorder();
  const kernelBytes: Buffer[] = [];
  const recordKernel = env.syscalls.kexecFileLoad.bind(env.syscalls);
  const withKernelBytes = { ...env, syscalls: { ...env.syscalls, kexecFileLoad: (kernelFd: number, initrdFd: number, cmdline: string, flags: number) => {
    kernelBytes.push(readFileSync(`/proc/self/fd/${kernelFd}`));
    recordKernel(kernelFd, initrdFd, cmdline, flags);
  } } };
  const result = await load({ kernel: ukiPath, initrd: [initrd] }, withKernelBytes);
  assert.ok(kernelBytes[0]!.equals(vmlinuz), 'the kernel got exactly the .linux section, which is the Debian vmlinuz');
  assert.match(loads[0]!.kernelTarget, /^\/memfd:kexec-ts-kernel/);
  // The UKI's .initrd, padded to 4 bytes, then ours.
  const padding = (4 - (ukiInitrd.length % 4)) % 4;
  assert.deepEqual(loads[0]!.initrdBytes, Buffer.concat([ukiInitrd, Buffer.alloc(padding), initrdBytes]));
  const ukiCmdline = readFileSync(join(dirname(FIXTURES.ukiInitrd()), 'cmdline.txt'), 'utf8').trim();
  assert.ok(result.cmdline.startsWith(`${ukiCmdline} `), result.cmdline);
  assert.ok(result.cmdline.length > ukiCmdline.length + 1, 'the addons added to it');
  assert.ok(result.notes.some((note) => /addons applied to the command line: 10-console\.addon\.efi, 50-debug\.addon\.efi/.test(note)), result.notes.join('\n'));
  assert.ok(result.notes.some((note) => /addon README ignored/.test(note)));

  // A command line given by the caller wins over the UKI's.
  await load({ kernel: ukiPath, cmdline: 'mine=1' }, withKernelBytes);
  assert.equal(loads[1]!.cmdline, 'mine=1');
});

test('bad input never reaches the syscall', async () => {
  const { env, calls } = recorder();
  await assert.rejects(() => load({ kernel: scratch, skipPreflight: true, cmdline: '' }, env), ValidationError);
  await assert.rejects(() => load({ kernel, skipPreflight: true, initrd: join(scratch, 'absent'), cmdline: '' }, env), { code: 'INPUT_NOT_FOUND' });
  await assert.rejects(() => load({ kernel, skipPreflight: true, cmdline: 'x'.repeat(5000) }, env), { code: 'CMDLINE_TOO_LONG' });
  assert.deepEqual(calls, []);
});

test('a refusal comes back explained, with the facts read after the failure', async () => {
  const { env } = recorder({ failWith: 'EPERM', facts: { kexecLoadDisabled: true } });
  await assert.rejects(() => load({ kernel, skipPreflight: true, cmdline: '' }, env), (error: unknown) => {
    assert.ok(error instanceof KexecRefusedError);
    assert.equal(error.code, 'KEXEC_LOAD_DISABLED');
    assert.equal(error.errno, 1);
    return true;
  });
});

test('exec refuses when nothing is loaded and never calls reboot', async () => {
  const { env, calls } = recorder({ facts: { kexecLoaded: false } });
  assert.throws(() => exec({ force: true }, env), (error: unknown) => {
    assert.ok(error instanceof KexecError);
    assert.equal(error.code, 'NOTHING_LOADED');
    return true;
  });
  assert.deepEqual(calls, []);
});

test('exec syncs, then reboots with LINUX_REBOOT_CMD_KEXEC', async () => {
  const { env, calls } = recorder({ facts: { kexecLoaded: true } });
  exec({ force: true }, env);
  assert.deepEqual(calls, ['sync', `reboot:${LINUX_REBOOT_CMD_KEXEC.toString(16)}`]);
});

test('without an init system to ask, exec goes direct even when not forced', async () => {
  const { env, calls } = recorder({ facts: { kexecLoaded: true, initSystem: 'sh' } });
  assert.deepEqual(exec({}, env), { via: 'direct' });
  assert.equal(calls[0], 'sync');
});

test('reboot answering EINVAL (sysfs could not tell) is NOTHING_LOADED', async () => {
  const { env } = recorder({ failWith: 'EINVAL', facts: { kexecLoaded: undefined } });
  assert.throws(() => exec({ force: true }, env), { code: 'NOTHING_LOADED' });
});

test('under systemd, exec hands off through `systemctl kexec` and does not reboot itself; --force does', async () => {
  // A stand-in systemctl first on PATH records how it was called; the real one would stop the machine.
  const bin = mkdtempSync(join(tmpdir(), 'kexec-ts-fake-systemctl-'));
  const record = join(bin, 'called-with');
  writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\necho "$@" > ${record}\nexit \${FAKE_SYSTEMCTL_EXIT:-0}\n`, { mode: 0o755 });
  const originalPath = process.env.PATH;
  process.env.PATH = `${bin}:${originalPath}`;
  try {
    const orderly = recorder({ facts: { kexecLoaded: true, initSystem: 'systemd' } });
    assert.deepEqual(exec({}, orderly.env), { via: 'init-system', initSystem: 'systemd', handoffCommand: 'systemctl kexec --no-block' });
    assert.equal(readFileSync(record, 'utf8'), 'kexec --no-block\n');
    assert.deepEqual(orderly.calls, [], 'no sync or reboot of our own');

    process.env.FAKE_SYSTEMCTL_EXIT = '1';
    assert.throws(() => exec({}, recorder({ facts: { kexecLoaded: true, initSystem: 'systemd' } }).env), { code: 'ORDERLY_HANDOFF_FAILED' });

    const forced = recorder({ facts: { kexecLoaded: true, initSystem: 'systemd' } });
    exec({ force: true }, forced.env);
    assert.deepEqual(forced.calls, ['sync', `reboot:${LINUX_REBOOT_CMD_KEXEC.toString(16)}`]);
  } finally {
    process.env.PATH = originalPath;
    delete process.env.FAKE_SYSTEMCTL_EXIT;
  }
});

test('KEXEC_FILE_DEBUG goes only to kernels that know it (6.8+); older ones get a note instead of EINVAL', async () => {
  const newer = recorder({ facts: { kernelRelease: '6.12.9-amd64' } });
  await load({ kernel, skipPreflight: true, cmdline: '', kernelDebug: true }, newer.env);
  assert.equal(newer.loads[0]!.flags & KEXEC_FILE_DEBUG, KEXEC_FILE_DEBUG);
  const older = recorder({ facts: { kernelRelease: '6.1.0-56-cloud-amd64' } });
  const result = await load({ kernel, skipPreflight: true, cmdline: '', kernelDebug: true }, older.env);
  assert.equal(older.loads[0]!.flags & KEXEC_FILE_DEBUG, 0);
  assert.match(result.notes.join('\n'), /KEXEC_FILE_DEBUG not sent: the running kernel \(6\.1\.0-56-cloud-amd64\) is older than 6\.8/);
});

test('an initrd that is neither cpio, compressed, nor a filesystem image is refused before the syscall', async (t) => {
  const debianKernel = cloudKernelFixture().vmlinuzPath;
  if (process.arch !== 'x64' || !existsSync(debianKernel)) {
    if (process.env.CI === 'true') assert.fail(`fixture missing: ${debianKernel}`);
    return t.skip('needs x86_64 and the Debian kernel fixture');
  }
  const { env, calls } = recorder();
  const script = join(scratch, 'not-an-initrd.sh');
  writeFileSync(script, '#!/bin/sh\necho hello\n');
  await assert.rejects(() => load({ kernel: debianKernel, initrd: [initrd, script], cmdline: '' }, env), (error: unknown) => {
    assert.ok(error instanceof ValidationError);
    assert.equal(error.code, 'INITRD_NOT_RECOGNIZED');
    assert.equal(error.path, script);
    return true;
  });
  assert.deepEqual(calls, []);
  // --no-preflight lets the kernel decide.
  await load({ kernel: debianKernel, initrd: script, cmdline: '', skipPreflight: true }, env);
  assert.deepEqual(calls, ['kexec_file_load']);
});

test("the stop job's SIGTERM does not cut off the report of an orderly hand-off started from a service", async () => {
  // Inside a service, `systemctl kexec` makes systemd stop that service: its processes get
  // SIGTERM while the caller is still waiting for systemctl. The stand-in does the same to its
  // parent before it answers. The caller must still print its outcome and exit 0.
  const bin = mkdtempSync(join(tmpdir(), 'kexec-ts-terminating-systemctl-'));
  writeFileSync(join(bin, 'systemctl'), '#!/bin/sh\nkill -TERM $PPID\nsleep 0.2\nexit 0\n', { mode: 0o755 });
  const handoffModule = new URL('../../src/handoff/handoff.js', import.meta.url).href;
  const caller = `
    const { exec } = await import(${JSON.stringify(handoffModule)});
    const env = { syscalls: {}, readFacts: () => ({ kexecLoaded: true, initSystem: 'systemd' }), devKmsgPath: '/nonexistent' };
    const outcome = exec({ terminationGraceMs: process.env.GRACE_MS === undefined ? undefined : Number(process.env.GRACE_MS) }, env);
    await new Promise((resolve) => setTimeout(resolve, 300));
    console.log('REPORTED ' + JSON.stringify(outcome));
  `;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', caller], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}` }, encoding: 'utf8', timeout: 30_000 });
  assert.equal(child.signal, null, `killed by ${child.signal}: ${child.stderr}`);
  assert.equal(child.status, 0, child.stderr);
  assert.match(child.stdout, /^REPORTED \{"via":"init-system","initSystem":"systemd","handoffCommand":"systemctl kexec --no-block"\}$/m);

  // The held SIGTERM still ends a caller that keeps running: it is delayed, not swallowed (a
  // short grace here; the default is long enough for a loaded TCG guest).
  const lingering = spawnSync(process.execPath, ['--input-type=module', '-e', `${caller}; setInterval(() => {}, 1000);`], { env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, GRACE_MS: '1000' }, encoding: 'utf8', timeout: 30_000 });
  assert.equal(lingering.signal, 'SIGTERM', `status ${lingering.status}: ${lingering.stderr}`);
});

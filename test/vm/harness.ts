// Boots the test guest in QEMU (TCG: nested KVM is not usable on the test machines) and hands
// back what it printed on its serial console. Scenarios talk to the test through marker lines,
// `echo "KTS-<NAME>:<value>"`, read with `markerLines` / `hasMarker`.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cloudKernelFixture, cloudKernelFixtureExists } from './fixtures.js';
import { hostBusyboxIsStatic, writeScenarioInitramfs, type GuestFile } from './initramfs.js';

const QEMU_BINARY = 'qemu-system-x86_64';
/** Keeps QEMU from outliving this process even if it dies by SIGKILL (util-linux, Essential in Debian). */
const SETPRIV_BINARY = '/usr/bin/setpriv';
/**
 * `quiet` keeps kernel messages from interleaving with the scenario's marker lines; warnings,
 * panics and refusals still print, and a scenario that needs the rest can run `dmesg`.
 * `panic=-1` turns a panic into a reboot, which `-no-reboot` turns into QEMU exiting.
 */
const BASE_KERNEL_CMDLINE = 'console=ttyS0 panic=-1 quiet';
const DEFAULT_MEMORY_MIB = 1024;
const SERIAL_TAIL_LINES = 60;

export interface BootVmOptions {
  /** Shell text the guest's /init runs after printing KTS-GUEST-READY. */
  body: string;
  /** Appended to the kernel command line `console=ttyS0 panic=-1 quiet`. */
  append?: string;
  memoryMiB?: number;
  /** QEMU is killed (SIGKILL) this long after it starts. */
  timeoutMs: number;
  extraFiles?: GuestFile[];
  /** Stop the VM as soon as its console matches this (for guests that do not power off). */
  stopWhen?: RegExp;
}

export interface VmRun {
  /** Everything the guest wrote on ttyS0, line ends as QEMU gave them (\r\n). */
  serial: string;
  timedOut: boolean;
  durationMs: number;
  /** QEMU's exit code; null when it was killed. */
  exitCode: number | null;
  /** QEMU's own diagnostics, if any. */
  qemuStderr: string;
}

let cachedSkipReason: { reason: string | undefined } | undefined;

/** Why VM tests cannot run on this machine, or undefined when they can. */
export function vmSkipReason(): string | undefined {
  cachedSkipReason ??= { reason: computeSkipReason() };
  return cachedSkipReason.reason;
}

function computeSkipReason(): string | undefined {
  const missing: string[] = [];
  if (!findOnPath(QEMU_BINARY)) missing.push(`${QEMU_BINARY} (Debian package qemu-system-x86)`);
  if (!hostBusyboxIsStatic()) missing.push('a static /bin/busybox (Debian package busybox-static)');
  if (!cloudKernelFixtureExists()) {
    missing.push(`Debian's cloud kernel in ${cloudKernelFixture().dir} (run: node scripts/prepare-tests.mjs)`);
  }
  return missing.length > 0 ? `VM tests need ${missing.join('; ')}` : undefined;
}

/**
 * Options for `test(name, vmTestOptions(), fn)`. Outside CI a machine that cannot boot the
 * guest skips the VM tests; under CI=true they run and fail in `bootVm` with the reason,
 * so a broken CI image cannot pass by skipping everything.
 */
export function vmTestOptions(): { skip?: string } {
  return vmTestOptionsFor(vmSkipReason());
}

const skipReasonsPrinted = new Set<string>();

/** The same rule for another guest (test/vm-arm64): skip for `reason` outside CI, never under CI=true. */
export function vmTestOptionsFor(reason: string | undefined): { skip?: string } {
  if (!reason || process.env.CI === 'true') return {};
  if (!skipReasonsPrinted.has(reason)) {
    skipReasonsPrinted.add(reason);
    process.stderr.write(`skipping VM tests: ${reason}\n`);
  }
  return { skip: reason };
}

/** Boots the guest with the scenario's /init body and waits until QEMU exits or times out. */
export async function bootVm(options: BootVmOptions): Promise<VmRun> {
  const reason = vmSkipReason();
  if (reason) throw new Error(`cannot boot the test VM: ${reason}`);
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexec-ts-vm-'));
  try {
    const initrdPath = path.join(workDir, 'initramfs.cpio');
    writeScenarioInitramfs(initrdPath, { body: options.body, extraFiles: options.extraFiles });
    const cmdline = options.append ? `${BASE_KERNEL_CMDLINE} ${options.append}` : BASE_KERNEL_CMDLINE;
    const qemuArgs = [
      '-accel', 'tcg',
      '-smp', '1',
      '-m', String(options.memoryMiB ?? DEFAULT_MEMORY_MIB),
      '-nographic',
      '-no-reboot',
      '-nic', 'none',
      '-kernel', cloudKernelFixture().vmlinuzPath,
      '-initrd', initrdPath,
      '-append', cmdline,
    ];
    return await runQemu(qemuArgs, options.timeoutMs, QEMU_BINARY, options.stopWhen);
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

// Guards against leaving QEMU behind when this process exits early (test runner timeouts,
// uncaught errors); `setpriv --pdeathsig` covers the case where this process is killed.
const runningVms = new Set<ChildProcess>();
process.on('exit', () => {
  for (const vm of runningVms) vm.kill('SIGKILL');
});

/** Runs QEMU (`qemuBinary`, x86_64 by default) until it exits or `timeoutMs` passes, then kills it. */
export function runQemu(qemuArgs: string[], timeoutMs: number, qemuBinary: string = QEMU_BINARY, stopWhen?: RegExp): Promise<VmRun> {
  const [command, args] = fs.existsSync(SETPRIV_BINARY)
    ? [SETPRIV_BINARY, ['--pdeathsig', 'KILL', '--', qemuBinary, ...qemuArgs]]
    : [qemuBinary, qemuArgs];
  const echoSerial = process.env.KEXEC_TS_VM_VERBOSE === '1';
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const vm = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    runningVms.add(vm);
    const serialChunks: Buffer[] = [];
    const stderrChunks: Buffer[] = [];
    let timedOut = false;
    vm.stdout.on('data', (chunk: Buffer) => {
      serialChunks.push(chunk);
      if (echoSerial) process.stderr.write(chunk);
      // A guest that never powers off (an installer) is stopped once it has shown what we wait for.
      if (stopWhen !== undefined && stopWhen.test(Buffer.concat(serialChunks).toString('utf8'))) vm.kill('SIGKILL');
    });
    vm.stderr.on('data', (chunk: Buffer) => stderrChunks.push(chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      vm.kill('SIGKILL');
    }, timeoutMs);
    vm.on('error', (error) => {
      clearTimeout(timer);
      runningVms.delete(vm);
      vm.kill('SIGKILL');
      reject(new Error(`could not run ${qemuBinary}`, { cause: error }));
    });
    vm.on('close', (exitCode) => {
      clearTimeout(timer);
      runningVms.delete(vm);
      resolve({
        serial: Buffer.concat(serialChunks).toString('utf8'),
        timedOut,
        durationMs: Math.round(performance.now() - startedAt),
        exitCode,
        qemuStderr: Buffer.concat(stderrChunks).toString('utf8'),
      });
    });
  });
}

/**
 * Terminal control sequences on the console (SeaBIOS and the kernel clear the screen with
 * ESC c and CSI sequences) can land at the start of a marker line; matching ignores them.
 */
const TERMINAL_ESCAPE_SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-~])/g;

function serialLines(serial: string): string[] {
  return serial.replace(TERMINAL_ESCAPE_SEQUENCE, '').replace(/\r/g, '').split('\n');
}

/** How every Linux kernel starts its log: the line that tells one boot's console text from the next. */
const KERNEL_BANNER = /^\[\s*\d+\.\d+\] Linux version /m;

/**
 * The console text of the kernel that kexec started: from the first kernel banner after the
 * guest's KTS-GUEST-READY on. It does not lean on a marker the first guest printed just before
 * the hand-off: that guest's last console output can be cut short or split by a kernel message
 * on a loaded machine, while the new kernel's own log comes whole.
 */
export function secondKernelConsole(run: VmRun): string {
  const text = serialLines(run.serial).join('\n');
  const ready = text.indexOf('KTS-GUEST-READY');
  const banner = ready === -1 ? null : KERNEL_BANNER.exec(text.slice(ready));
  if (banner === null) throw new Error(`no kernel started after the guest's scenario began: ${describeVmRun(run)}`);
  return text.slice(ready + banner.index);
}

/** Values of the lines `KTS-<name>:<value>`, in order. */
export function markerLines(serial: string, name: string): string[] {
  const prefix = `KTS-${name}:`;
  return markerTails(serial, prefix).map((tail) => tail.slice(prefix.length));
}

/** True when a line is `KTS-<name>` or `KTS-<name>:<value>`. */
export function hasMarker(serial: string, name: string): boolean {
  const bare = `KTS-${name}`;
  return markerTails(serial, bare).some((tail) => tail === bare || tail.startsWith(`${bare}:`));
}

/**
 * Each line's text from the marker on. A marker usually starts its line, but output without a
 * trailing newline may come first: SeaBIOS's "Booting from ROM.." shares a line with the first
 * thing /init prints, and kernel messages can land in front of a line from userspace.
 */
function markerTails(serial: string, marker: string): string[] {
  return serialLines(serial).flatMap((line) => {
    const at = line.indexOf(marker);
    return at === -1 ? [] : [line.slice(at)];
  });
}

export function serialTail(serial: string, lineCount = SERIAL_TAIL_LINES): string {
  const lines = serialLines(serial);
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.slice(-lineCount).join('\n');
}

/** A one-paragraph account of a run, ending with the serial tail, for assertion messages. */
export function describeVmRun(run: VmRun): string {
  const ending = run.timedOut
    ? `timed out after ${run.durationMs} ms`
    : `QEMU exited with ${run.exitCode} after ${run.durationMs} ms`;
  const stderr = run.qemuStderr.trim() ? `\nQEMU stderr: ${run.qemuStderr.trim()}` : '';
  return `${ending}${stderr}\n--- last ${SERIAL_TAIL_LINES} lines of the serial console ---\n${serialTail(run.serial)}\n---`;
}

/** Throws, with the serial tail, unless the guest ran its scenario to the end in time. */
export function assertGuestCompleted(run: VmRun): void {
  if (run.timedOut || !hasMarker(run.serial, 'GUEST-DONE')) {
    throw new Error(`the guest did not complete its scenario: ${describeVmRun(run)}`);
  }
}

/** The first value of marker `name`; throws, with the serial tail, when there is none. */
export function requireMarker(run: VmRun, name: string): string {
  const [value] = markerLines(run.serial, name);
  if (value === undefined) throw new Error(`no KTS-${name} marker on the serial console: ${describeVmRun(run)}`);
  return value;
}

export function findOnPath(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(path.delimiter)) {
    const candidate = path.join(dir, binary);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

// Boots a Debian systemd root (scripts/fixtures/systemd-root.mjs) in QEMU with its own kernel and
// initrd, root on /dev/vda, and the kexec-ts disk as /dev/vdb. Both disks are `snapshot=on`: the
// guest's writes last for the QEMU run (every hand-off inside it sees them) and are dropped
// after, so the cached image stays as built.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findOnPath, markerLines, runQemu, type VmRun } from '../vm/harness.js';
import { readSystemdRootManifest, systemdRootFixture, type DebianSuite, type SystemdRootManifest } from './fixtures.js';
import { scenarioDiskFiles, type GuestScenario } from './guest-scripts.js';
import { writeKexecTsDisk } from './kexec-ts-disk.js';

/** VM-TESTING.md, "Real systemd roots": -m 2048 -smp 1 under TCG, multi-user.target at ~50-60 s. */
const MEMORY_MIB = 2048;
/**
 * The first boot's command line; the scenario's name tells the runner what to do. Kernels
 * loaded with --reuse-cmdline inherit it: `no_timer_check` (see systemd-root.mjs) and
 * `panic=-1`, which with -no-reboot turns a panic into QEMU exiting instead of a long timeout.
 */
export function firstBootCmdline(scenario: string): string {
  return `root=/dev/vda ro console=ttyS0 no_timer_check panic=-1 quiet kexects.scenario=${scenario}`;
}

/** Why the systemd guests cannot run here, or undefined when they can. */
export function systemdGuestSkipReason(suites: DebianSuite[]): string | undefined {
  const missing: string[] = [];
  if (!findOnPath('qemu-system-x86_64')) missing.push('qemu-system-x86_64 (Debian package qemu-system-x86)');
  if (!findOnPath('mkfs.ext4') && !fs.existsSync('/usr/sbin/mkfs.ext4')) missing.push('mkfs.ext4 (Debian package e2fsprogs)');
  if (!findOnPath('npm')) missing.push('npm (packs and installs kexec-ts for the guest)');
  for (const suite of suites) {
    const fixture = systemdRootFixture(suite);
    if (!readSystemdRootManifest(fixture)) missing.push(`the Debian ${suite} systemd root in ${fixture.dir} (run, as root: node scripts/prepare-tests.mjs)`);
  }
  return missing.length > 0 ? `systemd VM tests need ${missing.join('; ')}` : undefined;
}

export interface SystemdGuestRun extends VmRun {
  suite: DebianSuite;
  manifest: SystemdRootManifest;
  /** The image's grub.cfg as update-grub wrote it. */
  grubCfg: string;
}

export interface SystemdGuestOptions {
  /** Added to the first boot's command line (e.g. crashkernel=). */
  append?: string;
  /** Raw disk images attached after the kexec-ts disk (/dev/vdc, ...), written for real: they outlive the run. */
  extraDisks?: string[];
}

/** Boots `suite`'s root once with `scenario`; resolves when QEMU exits (the scenario powers off) or times out. */
export async function bootSystemdGuest(suite: DebianSuite, scenario: GuestScenario, timeoutMs: number, options: SystemdGuestOptions = {}): Promise<SystemdGuestRun> {
  const reason = systemdGuestSkipReason([suite]);
  if (reason) throw new Error(`cannot boot the ${suite} systemd guest: ${reason}`);
  const fixture = systemdRootFixture(suite);
  const manifest = readSystemdRootManifest(fixture)!;
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), `kexec-ts-systemd-${suite}-`));
  try {
    const diskPath = path.join(workDir, 'kexec-ts.img');
    writeKexecTsDisk(diskPath, scenarioDiskFiles([scenario]));
    // The serial console on stdout (what the harness reads), and also, for reading a run by hand
    // while it goes, into KEXEC_TS_VM_SERIAL_DIR/<suite>-<scenario>.serial.txt. That log can repeat
    // a character where QEMU retried a write to a full pipe; stdout does not, and the tests read it.
    const serialDir = process.env.KEXEC_TS_VM_SERIAL_DIR;
    const logfile = serialDir ? `,logfile=${path.join(serialDir, `${suite}-${scenario.name}.serial.txt`)}` : '';
    const qemuArgs = [
      '-accel', 'tcg',
      '-smp', '1',
      '-m', String(MEMORY_MIB),
      '-display', 'none',
      '-monitor', 'none',
      '-chardev', `stdio,id=console,signal=off${logfile}`,
      '-serial', 'chardev:console',
      '-no-reboot',
      '-nic', 'none',
      '-kernel', fixture.vmlinuzPath,
      '-initrd', fixture.initrdPath,
      '-append', options.append === undefined ? firstBootCmdline(scenario.name) : `${firstBootCmdline(scenario.name)} ${options.append}`,
      '-drive', `file=${fixture.imagePath},format=raw,if=virtio,snapshot=on`,
      '-drive', `file=${diskPath},format=raw,if=virtio,snapshot=on`,
      ...(options.extraDisks ?? []).flatMap((disk) => ['-drive', `file=${disk},format=raw,if=virtio`]),
    ];
    const run = await runQemu(qemuArgs, timeoutMs);
    if (serialDir) fs.writeFileSync(path.join(serialDir, `${suite}-${scenario.name}.stdout.txt`), run.serial);
    return { ...run, suite, manifest, grubCfg: fs.readFileSync(fixture.grubCfgPath, 'utf8') };
  } finally {
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

/** The values of marker `name` that boot `boot` printed (`KTS-NAME:<boot> value`). */
export function bootMarkers(run: VmRun, name: string, boot: number): string[] {
  const prefix = `${boot} `;
  return markerLines(run.serial, name).filter((value) => value.startsWith(prefix) || value === String(boot)).map((value) => value.slice(prefix.length));
}

/** The one value of marker `name` in boot `boot`, or undefined. */
export function bootMarker(run: VmRun, name: string, boot: number): string | undefined {
  return bootMarkers(run, name, boot)[0];
}

/** The boots that printed KTS-BOOT, in order. */
export function bootsSeen(run: VmRun): number[] {
  return markerLines(run.serial, 'BOOT').map(Number);
}

/** Kernel lines saying the root filesystem was not cleanly unmounted (ext4 replayed its journal or orphans). */
export function ext4RecoveryLines(run: VmRun, boot: number): string[] {
  return bootMarkers(run, 'EXT4', boot).filter((line) => /recovery complete|orphan cleanup|orphan file|needs_recovery/i.test(line));
}

/**
 * The default entry's command line, read from grub.cfg by GRUB's rule for GRUB_DEFAULT=0 (what
 * Debian's /etc/default/grub sets): the first menuentry's `linux` line without its first word
 * (the kernel path). GRUB would prepend BOOT_IMAGE=; kexec-ts leaves it out, as kexec-tools does.
 */
export function grubDefaultEntry(grubCfg: string): { kernel: string; cmdline: string } {
  const firstEntry = grubCfg.slice(grubCfg.search(/^menuentry /m));
  const linux = /^\s*linux\s+(\S+)\s*(.*)$/m.exec(firstEntry);
  if (!linux) throw new Error('grub.cfg has no menuentry with a linux line');
  return { kernel: linux[1]!, cmdline: linux[2]!.trim() };
}

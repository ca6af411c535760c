// `list --all-disks` and `reboot --all-disks --dry-run` on real disk images attached as loop
// devices: an ext4 system root made with `mkfs.ext4 -d` from grub-mkconfig's scratch root, a
// vfat ESP made with mkfs.vfat and mcopy holding kernel-install's BLS entries and the UKI built
// from Debian's stub (and the same tree on ext4, for kernels built without vfat, as some
// sandboxes' are: there the vfat one must be skipped with ENODEV explained), an ext4 data partition with the two netboot ISO images, swap (mkswap),
// LUKS2 (cryptsetup), garbage, a GPT whose partitions the loop device does not show, and an
// ext4 cut short. It checks what is found on each device, that every skipped one says why,
// that the test process never sees a mount (during and after), that nothing was written to the
// images, and that the loop devices are gone at the end. Root only; under CI=true it runs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { assessStatus } from '../../src/handoff/status.js';
import { readMachineFacts } from '../../src/handoff/machine-facts.js';
import type { AllDisksReport, DiskEntry } from '../../src/bootcfg/disks/types.js';
import { kexecTsCacheDir } from '../vm/fixtures.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const CACHE = kexecTsCacheDir();
const TOOLS = ['unshare', 'mkfs.ext4', 'mkfs.vfat', 'mmd', 'mcopy', 'mkswap', 'losetup', 'blkid', 'sfdisk', 'cryptsetup'];
const FIXTURES = {
  scratchRoot: path.join(CACHE, 'bootcfg', 'scratch-root'),
  blsBoot: path.join(CACHE, 'bootcfg', 'bls-root', 'boot'),
  bootcfgManifest: path.join(CACHE, 'bootcfg', 'manifest.json'),
  uki: path.join(CACHE, 'uki', 'debian-cloud.efi'),
  isos: [path.join(CACHE, 'iso', 'netboot-grub-rescue.iso'), path.join(CACHE, 'iso', 'netboot-isolinux.iso')],
};
const DRY_RUN_EXIT = assessStatus({ ...readMachineFacts(), hasCapSysBoot: true }).blockers.length === 0 ? ExitCode.OK : ExitCode.UNSUPPORTED;

function tool(name: string): string | undefined {
  return ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].map((dir) => path.join(dir, name)).find((candidate) => fs.existsSync(candidate));
}

function whyNot(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (it attaches loop devices and mounts)';
  const missing = TOOLS.filter((name) => tool(name) === undefined);
  if (missing.length > 0) return `needs ${missing.join(', ')} (Debian: e2fsprogs, dosfstools, mtools, util-linux, fdisk, cryptsetup-bin)`;
  const fixtures = [FIXTURES.scratchRoot, FIXTURES.blsBoot, FIXTURES.uki, ...FIXTURES.isos].filter((file) => !fs.existsSync(file));
  if (fixtures.length > 0) return `fixtures missing: ${fixtures.join(', ')} (node scripts/prepare-tests.mjs makes them)`;
  return undefined;
}
const reason = whyNot();
const options = reason !== undefined && process.env.CI !== 'true' ? { skip: reason } : {};

function run(command: string, ...args: string[]): string {
  const result = spawnSync(tool(command) ?? command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: exit ${result.status}: ${result.stderr}`);
  return result.stdout.trim();
}

interface Disks {
  dir: string;
  loops: Record<'root' | 'esp' | 'boot' | 'live' | 'data' | 'swap' | 'luks' | 'junk' | 'gpt' | 'cut', string>;
  images: string[];
  hashesBefore: Map<string, string>;
}
let disks: Disks | undefined;

function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

function buildImages(dir: string): Record<keyof Disks['loops'], { image: string; sizeLimit?: string }> {
  const image = (name: string, sizeMiB: number) => {
    const file = path.join(dir, `${name}.img`);
    fs.writeFileSync(file, '');
    fs.truncateSync(file, sizeMiB << 20);
    return file;
  };
  const root = image('root', 96);
  run('mkfs.ext4', '-q', '-F', '-L', 'KTS-ROOT', '-d', FIXTURES.scratchRoot, root);
  // The same system, mounted read-write by "the machine" in one test (its hash is not checked).
  const live = image('live', 96);
  run('mkfs.ext4', '-q', '-F', '-L', 'KTS-LIVE', '-d', FIXTURES.scratchRoot, live);
  const esp = path.join(dir, 'esp.img');
  run('mkfs.vfat', '-C', '-n', 'KTS-ESP', esp, String(64 * 1024));
  run('mmd', '-i', esp, '::/EFI', '::/EFI/Linux');
  run('mcopy', '-s', '-i', esp, ...fs.readdirSync(FIXTURES.blsBoot).map((name) => path.join(FIXTURES.blsBoot, name)), '::/');
  run('mcopy', '-i', esp, FIXTURES.uki, '::/EFI/Linux/debian-cloud.efi');
  const bootTree = path.join(dir, 'boot-tree');
  fs.cpSync(FIXTURES.blsBoot, bootTree, { recursive: true });
  fs.mkdirSync(path.join(bootTree, 'EFI/Linux'), { recursive: true });
  fs.copyFileSync(FIXTURES.uki, path.join(bootTree, 'EFI/Linux/debian-cloud.efi'));
  const boot = image('boot', 96);
  run('mkfs.ext4', '-q', '-F', '-L', 'KTS-BOOT', '-d', bootTree, boot);
  const dataTree = path.join(dir, 'data-tree');
  fs.mkdirSync(path.join(dataTree, 'isos'), { recursive: true });
  for (const iso of FIXTURES.isos) {
    const target = path.join(dataTree, 'isos', path.basename(iso));
    try {
      fs.linkSync(iso, target);
    } catch {
      fs.copyFileSync(iso, target);
    }
  }
  const data = image('data', 192);
  run('mkfs.ext4', '-q', '-F', '-L', 'KTS-DATA', '-d', dataTree, data);
  const swap = image('swap', 16);
  run('mkswap', '-q', '-L', 'KTS-SWAP', swap);
  const luks = image('luks', 24);
  const keyFile = path.join(dir, 'luks.key');
  fs.writeFileSync(keyFile, 'not a secret');
  // PBKDF2 with few iterations: the header is real, made in milliseconds.
  run('cryptsetup', 'luksFormat', '--batch-mode', '--type', 'luks2', '--pbkdf', 'pbkdf2', '--pbkdf-force-iterations', '1000', '--key-file', keyFile, luks);
  const junk = path.join(dir, 'junk.img');
  fs.writeFileSync(junk, randomBytes(4 << 20));
  const gpt = image('gpt', 16);
  spawnSync(tool('sfdisk')!, ['-q', gpt], { input: 'label: gpt\nsize=8M, type=L, name="data"\n' });
  const cut = image('cut', 64);
  run('mkfs.ext4', '-q', '-F', '-L', 'KTS-CUT', cut);
  return { root: { image: root }, esp: { image: esp }, boot: { image: boot }, live: { image: live }, data: { image: data }, swap: { image: swap }, luks: { image: luks }, junk: { image: junk }, gpt: { image: gpt }, cut: { image: cut, sizeLimit: String(8 << 20) } };
}

before(async () => {
  if (reason !== undefined) {
    if (process.env.CI === 'true') assert.fail(reason);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexec-ts-disks-'));
  const built = buildImages(dir);
  const loops: Partial<Disks['loops']> = {};
  const images = Object.values(built).map((entry) => entry.image);
  disks = { dir, loops: loops as Disks['loops'], images, hashesBefore: new Map(images.filter((image) => image !== built.live.image).map((image) => [image, sha256(image)])) };
  for (const [name, { image, sizeLimit }] of Object.entries(built) as Array<[keyof Disks['loops'], { image: string; sizeLimit?: string }]>) {
    // Attached read-write on purpose: the hashes afterwards show that reading wrote nothing.
    loops[name] = run('losetup', '--find', '--show', ...(sizeLimit !== undefined ? ['--sizelimit', sizeLimit] : []), image);
  }
});

after(() => {
  if (disks === undefined) return;
  for (const loop of Object.values(disks.loops)) spawnSync(tool('losetup')!, ['--detach', loop]);
  for (const image of disks.images) assert.equal(run('losetup', '--associated', image), '', `${image} is still attached`);
  fs.rmSync(disks.dir, { recursive: true, force: true });
});

/** Runs the command while watching this process's mounts; every line that names one of ours is kept. */
async function runWatchingMounts(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string; leaked: string[]; polls: number }> {
  const ours = (line: string) => Object.values(disks!.loops).some((loop) => line.includes(` ${loop} `)) || line.includes('kexec-ts-disks');
  const leaked: string[] = [];
  let polls = 0;
  const command = args[0] === '--unshare-wrapper'
    ? [tool('unshare')!, ['--mount', '--propagation', 'private', 'sh', '-c', args[1]!, process.execPath, MAIN, 'list', '--all-disks', '--json']] as const
    : [process.execPath, [MAIN, ...args]] as const;
  const child = spawn(command[0], [...command[1]], { stdio: ['ignore', 'pipe', 'pipe'] });
  const timer = setInterval(() => {
    polls++;
    leaked.push(...fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(ours));
  }, 5);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
  child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearInterval(timer);
  leaked.push(...fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(ours));
  return { status, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), leaked, polls };
}

let listed: Promise<{ report: AllDisksReport; leaked: string[]; polls: number }> | undefined;
function listAllDisks() {
  listed ??= runWatchingMounts('list', '--all-disks', '--iso-dir', '/isos', '--json').then((result) => {
    assert.equal(result.status, ExitCode.OK, result.stderr || result.stdout);
    const json = JSON.parse(result.stdout) as AllDisksReport & { ok: boolean; allDisks: boolean };
    assert.equal(json.ok, true);
    assert.equal(json.allDisks, true);
    return { report: json, leaked: result.leaked, polls: result.polls };
  });
  return listed;
}

const entriesOf = (report: AllDisksReport, loop: string): DiskEntry[] => report.entries.filter((entry) => entry.device.path === loop);

test('the system root: grub.cfg read as GRUB reads it, on the device named by its label and UUID', options, async () => {
  const { report } = await listAllDisks();
  const loop = disks!.loops.root;
  const volume = report.volumes.find((candidate) => candidate.device.path === loop);
  assert.ok(volume, JSON.stringify(report.skipped));
  assert.equal(volume.shape, 'system-root');
  assert.equal(volume.loader, 'grub');
  assert.equal(volume.configFile, '/boot/grub/grub.cfg');
  assert.equal(volume.device.fstype, 'ext4');
  assert.equal(volume.device.label, 'KTS-ROOT');
  assert.equal(volume.device.uuid, run('blkid', '-p', '-o', 'value', '-s', 'UUID', disks!.images[0]!));
  const entries = entriesOf(report, loop);
  assert.equal(entries.length, 5);
  const manifest = JSON.parse(fs.readFileSync(FIXTURES.bootcfgManifest, 'utf8')) as { grubSavedEntry: string };
  const defaults = entries.filter((entry) => entry.isDefault);
  assert.deepEqual(defaults.map((entry) => entry.id), [manifest.grubSavedEntry.split('>').at(-1)]);
  for (const [index, entry] of entries.entries()) {
    assert.equal(entry.indexOnDevice, index);
    assert.equal(entry.select, `UUID=${volume.device.uuid}:${index}`);
    // The file system's own paths: nothing of the mount point the reading process used.
    assert.match(entry.kernelFile ?? '', /^\/boot\/vmlinuz-6\.1\.0-5[67]-cloud-amd64$/);
  }
});

/** Whether this kernel mounts vfat (built in, or a module modprobe can load). */
function kernelHasVfat(): boolean {
  if (/\svfat$/m.test(fs.readFileSync('/proc/filesystems', 'utf8'))) return true;
  return spawnSync('modprobe', ['vfat']).status === 0 && /\svfat$/m.test(fs.readFileSync('/proc/filesystems', 'utf8'));
}

function assertEspEntries(report: AllDisksReport, loop: string, fstype: string, label: string): void {
  const volume = report.volumes.find((candidate) => candidate.device.path === loop);
  assert.ok(volume, JSON.stringify(report.skipped));
  assert.equal(volume.shape, 'esp');
  assert.equal(volume.loader, 'bls');
  assert.equal(volume.device.fstype, fstype);
  assert.equal(volume.device.label, label);
  const entries = entriesOf(report, loop);
  assert.deepEqual(entries.map((entry) => entry.origin), ['bls', 'bls', 'uki']);
  assert.equal(entries[0]!.isDefault, true);
  assert.equal(entries[0]!.version, '6.1.0-56-cloud-amd64');
  assert.equal(entries[1]!.bootCounting?.triesLeft, 0);
  assert.equal(entries[2]!.kernelFile, '/EFI/Linux/debian-cloud.efi');
  assert.equal(entries.filter((entry) => entry.isDefault).length, 1);
}

test("the vfat ESP: kernel-install's BLS entries (the +0 one last) and the UKI in EFI/Linux; on a kernel without vfat, skipped with ENODEV explained", options, async (t) => {
  const { report } = await listAllDisks();
  if (kernelHasVfat()) return assertEspEntries(report, disks!.loops.esp, 'vfat', 'KTS-ESP');
  t.diagnostic('this kernel has no vfat driver: the ESP must be skipped, saying so');
  const skip = report.skipped.find((candidate) => candidate.device.path === disks!.loops.esp);
  assert.equal(skip?.code, 'MOUNT_FAILED', JSON.stringify(skip));
  assert.equal(skip.errno, 'ENODEV');
  assert.match(skip.reason, /no vfat driver/);
  assert.match(skip.device.uuid ?? '', /^[0-9A-F]{4}-[0-9A-F]{4}$/);
  assert.equal(skip.device.label, 'KTS-ESP');
});

test('the same ESP tree on ext4: the BLS entries and the UKI', options, async () => {
  const { report } = await listAllDisks();
  assertEspEntries(report, disks!.loops.boot, 'ext4', 'KTS-BOOT');
});

test('the data partition: both ISO files in --iso-dir read in place, with their loopback arguments', options, async () => {
  const { report } = await listAllDisks();
  const volume = report.volumes.find((candidate) => candidate.device.path === disks!.loops.data);
  assert.ok(volume, JSON.stringify(report.skipped));
  assert.deepEqual(volume.isoFiles, FIXTURES.isos.map((iso) => `/isos/${path.basename(iso)}`).sort());
  const entries = entriesOf(report, disks!.loops.data);
  for (const iso of volume.isoFiles) assert.ok(entries.some((entry) => entry.iso?.imageFile === iso), `${iso}: ${JSON.stringify(entries.map((entry) => entry.iso))}`);
  assert.ok(entries.some((entry) => entry.cmdline.includes('iso-scan/filename=/isos/netboot-grub-rescue.iso')), entries.map((entry) => entry.cmdline).join('\n'));
  assert.equal(entries.filter((entry) => entry.isDefault).length, 1);
});

test('swap, LUKS, garbage, a hidden partition table and a cut-short ext4 are skipped, each with its reason', options, async () => {
  const { report } = await listAllDisks();
  const skipped = (loop: string) => report.skipped.find((skip) => skip.device.path === loop);
  const expected = [
    [disks!.loops.swap, 'SWAP', /swap/],
    [disks!.loops.luks, 'ENCRYPTED', /crypto_LUKS.*cryptsetup open/],
    [disks!.loops.junk, 'NO_FILESYSTEM', /no file system/],
    [disks!.loops.gpt, 'PARTITIONS_NOT_VISIBLE', /gpt partition table/],
    [disks!.loops.cut, 'MOUNT_FAILED', /read-only as ext4 failed: /],
  ] as const;
  for (const [loop, code, words] of expected) {
    const skip = skipped(loop);
    assert.equal(skip?.code, code, `${loop}: ${JSON.stringify(skip)}`);
    assert.match(skip.reason, words);
  }
  assert.equal(skipped(disks!.loops.cut)?.errno, 'EINVAL');
  assert.equal(skipped(disks!.loops.swap)?.device.label, 'KTS-SWAP');
  assert.ok(!report.volumes.some((volume) => expected.some(([loop]) => loop === volume.device.path)));
});

test('no mount ever shows in this process, during or after; nothing was written to the images', options, async () => {
  const { leaked, polls } = await listAllDisks();
  assert.ok(polls > 0);
  assert.deepEqual(leaked, []);
  for (const [image, hash] of disks!.hashesBefore) assert.equal(sha256(image), hash, `${image} changed`);
});

test('reboot --all-disks --dry-run: the UKI by LABEL:INDEX, an ISO entry by UUID, checked while mounted', options, async () => {
  const { report } = await listAllDisks();
  const uki = entriesOf(report, disks!.loops.boot).find((entry) => entry.origin === 'uki')!;
  const dry = await runWatchingMounts('reboot', '--all-disks', `LABEL=KTS-BOOT:${uki.indexOnDevice}`, '--dry-run', '--json');
  assert.equal(dry.status, DRY_RUN_EXIT, dry.stderr || dry.stdout);
  const json = JSON.parse(dry.stdout) as Record<string, any>;
  assert.equal(json.device.path, disks!.loops.boot);
  assert.equal(json.kernel.path, '/EFI/Linux/debian-cloud.efi');
  assert.equal(json.entry.origin, 'uki');
  assert.deepEqual(dry.leaked, []);
  const iso = entriesOf(report, disks!.loops.data).find((entry) => entry.isDefault)!;
  const fromIso = await runWatchingMounts('reboot', '--all-disks', iso.select, '--iso-dir', 'isos', '--dry-run', '--json');
  assert.equal(fromIso.status, DRY_RUN_EXIT, fromIso.stderr || fromIso.stdout);
  const isoJson = JSON.parse(fromIso.stdout) as Record<string, any>;
  assert.equal(isoJson.entry.id, iso.id);
  assert.match(isoJson.cmdline, /iso-scan\/filename=\/isos\//);
  assert.match(isoJson.initrd.realPath, /^memfd:/);
});

test('reboot --all-disks names a skipped device with its reason, and a device nobody has', options, async () => {
  const swap = await runWatchingMounts('reboot', '--all-disks', 'LABEL=KTS-SWAP', '--dry-run', '--json');
  assert.equal(swap.status, ExitCode.INPUT_REJECTED, swap.stdout);
  assert.match((JSON.parse(swap.stdout) as Record<string, any>).error.message, /is not read: swap space/);
  const none = await runWatchingMounts('reboot', '--all-disks', 'LABEL=NO-SUCH-DISK:0', '--dry-run', '--json');
  assert.equal(none.status, ExitCode.INPUT_REJECTED, none.stdout);
  assert.equal((JSON.parse(none.stdout) as Record<string, any>).error.code, 'NO_BOOT_ENTRY');
});

test('not root: a typed refusal that says root is needed, nothing mounted', options, () => {
  const result = spawnSync(process.execPath, [MAIN, 'list', '--all-disks', '--json'], { encoding: 'utf8', uid: 65534, gid: 65534 });
  assert.equal(result.status, ExitCode.INPUT_REJECTED, result.stderr);
  const json = JSON.parse(result.stdout) as Record<string, any>;
  assert.equal(json.error.code, 'PERMISSION_DENIED');
  assert.match(json.error.message, /needs root/);
});

test('a file system the machine has mounted read-write (its own root) is read too: a second, read-only mount of the live superblock', options, async () => {
  const mountPoint = fs.mkdtempSync(path.join(disks!.dir, 'live-'));
  // "The machine" is a mount namespace of its own here, so the test's own mounts stay untouched.
  const script = `mount ${disks!.loops.live} ${mountPoint} || exit 90; "$0" "$@"; status=$?; grep -q " ${mountPoint} rw" /proc/self/mountinfo || status=91; umount ${mountPoint}; exit $status`;
  const result = await runWatchingMounts('--unshare-wrapper', script);
  assert.equal(result.status, ExitCode.OK, result.stderr || result.stdout);
  const report = JSON.parse(result.stdout) as AllDisksReport;
  const volume = report.volumes.find((candidate) => candidate.device.path === disks!.loops.live);
  assert.ok(volume, JSON.stringify(report.skipped.filter((skip) => skip.device.path === disks!.loops.live)));
  assert.equal(volume.loader, 'grub');
  assert.equal(entriesOf(report, disks!.loops.live).length, 5);
  assert.deepEqual(result.leaked, []);
});

test('SIGINT in the middle of a scan: the reading process ends with the command, no mount is left, nothing holds the loop devices', options, async () => {
  const child = spawn(process.execPath, [MAIN, 'list', '--all-disks', '--iso-dir', '/isos', '--json'], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  // Wait until the reading process has one of the disks mounted in its namespace: that is the moment to interrupt.
  const mountedInReader = (): boolean => spawnSync('pgrep', ['-f', 'bootcfg/disks/child.js'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).some((pid) => {
    try {
      const lines = fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n');
      return lines.some((line) => Object.values(disks!.loops).some((loop) => line.includes(` ${loop} `)));
    } catch {
      return false;
    }
  });
  const deadline = Date.now() + 20_000;
  while (!mountedInReader() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
  assert.ok(Date.now() < deadline, 'the reading process never had a disk mounted');
  // As a terminal's ^C does: to the whole process group, the reading process included.
  process.kill(-child.pid!, 'SIGINT');
  const status = await closed;
  assert.equal(status.signal, 'SIGINT', `the command ended by itself first: ${JSON.stringify(status)}`);
  const readers = spawnSync('pgrep', ['-f', 'bootcfg/disks/child.js'], { encoding: 'utf8' }).stdout.trim();
  assert.equal(readers, '', 'no reading process is left');
  const mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  assert.ok(!Object.values(disks!.loops).some((loop) => mountinfo.includes(` ${loop} `)));
  // A mount left in some namespace would keep a loop device busy: a detach would not free it.
  const probe = run('losetup', '--find', '--show', disks!.images[0]!);
  run('losetup', '--detach', probe);
  assert.equal(run('losetup', '--associated', disks!.images[0]!).split('\n').length, 1, 'only the test\'s own attachment');
});

test('list --all-disks as text: each device with its names and entries, then what was skipped and why', options, async () => {
  const result = spawnSync(process.execPath, [MAIN, 'list', '--all-disks'], { encoding: 'utf8' });
  assert.equal(result.status, ExitCode.OK, result.stderr);
  assert.match(result.stdout, new RegExp(`^${disks!.loops.root}  ext4  LABEL="KTS-ROOT"  UUID=`, 'm'));
  assert.match(result.stdout, /^\*\s+3  Debian GNU\/Linux, with Linux 6\.1\.0-56-cloud-amd64/m);
  assert.match(result.stdout, new RegExp(`^Skipped:\n(.*\n)*  ${disks!.loops.swap}  swap  LABEL="KTS-SWAP"`, 'm'));
  assert.match(result.stdout, /^\(boot one with: kexec-ts reboot --all-disks DEVICE:INDEX, e\.g\. /m);
});

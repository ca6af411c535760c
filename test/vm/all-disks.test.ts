// `kexec-ts list --all-disks` / `reboot --all-disks` in the VM: besides its initramfs the guest
// has three NVMe disks:
//   - a whole-disk ext4 system with a grub.cfg (label KTS-SYSTEM);
//   - a GPT with a swap partition, an ext4 partition of BLS entries, and an EFI System partition
//     (vfat, made with mkfs.vfat and mtools) holding loader/loader.conf, two BLS entries with
//     their kernel and initrd, and the UKI fixture in EFI/Linux;
//   - a whole-disk ext4 data file system (label KTS-DATA) with the two ISO fixtures in /isos.
// The cloud kernel has vfat as modules only: the guest insmods fat, vfat and the NLS tables taken
// from that same kernel build's package (scripts/fixtures/cloud-kernel-modules.mjs). In one boot:
// `list --all-disks` finds every file system's entries with their devices (the GPT's PARTUUIDs
// included), the ESP's BLS entries (loader.conf's default honoured) and its UKI, and skips only
// the swap; with `--iso-dir /isos` both ISO images' entries are listed on the data disk; dry runs
// pick the BLS partition's default and the ESP's UKI by PARTUUID; the guest's own mounts never
// show the disks; then `reboot --all-disks --entry LABEL=KTS-SYSTEM:1` boots the second menu entry
// of another disk, whose command line the second kernel prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { describeVmRun, hasMarker, markerLines, requireMarker, runQemu, vmTestOptions } from './harness.js';
import { cloudKernelFixture, cloudKernelModules, vmSuite } from './fixtures.js';
import { FIXTURES } from '../image/image-fixtures.js';
import { isoFixtures, NETBOOT_LINUX, type IsoFixtures } from '../bootcfg/iso-fixtures.js';
import { secondStageInitrd, sharedLibrariesOf, writeScenarioInitramfs, SECOND_KERNEL_CMDLINE_MARKER, SECOND_KERNEL_UP_MARKER, type GuestFile } from './initramfs.js';
import { STEP_FUNCTION, stepResult } from './scenario.js';

const VM_TIMEOUT_MS = 240_000;
const SYSTEM_LABEL = 'KTS-SYSTEM';
const BLS_LABEL = 'KTS-XBOOT';
const ESP_LABEL = 'KTS-ESP';
const DATA_LABEL = 'KTS-DATA';
const GUEST_MODULES_DIR = '/fixtures/modules';
const GUEST_ISO_DIR = '/isos';
const UKI_FILE = '/EFI/Linux/debian-cloud.efi';
/** kernel-install's layout on the ESP: ENTRY-TOKEN/KERNEL-VERSION. */
const ESP_ENTRY_DIR = 'kts-esp/6.1';
const MIB = 1 << 20;
/** The GPT disk's partitions, in MiB from its start: swap, the BLS partition, the ESP. */
const GPT_LAYOUT = { swap: { start: 1, size: 8 }, bls: { start: 9, size: 48 }, esp: { start: 57, size: 48 } } as const;
const HOST_BLKID = ['/usr/sbin/blkid', '/sbin/blkid'].find((candidate) => fs.existsSync(candidate));

function tool(name: string): string {
  const found = ['/usr/sbin', '/sbin', '/usr/bin', '/bin'].map((dir) => path.join(dir, name)).find((candidate) => fs.existsSync(candidate));
  if (found === undefined) throw new Error(`${name} is needed for the disk images (e2fsprogs, dosfstools, mtools, util-linux, fdisk)`);
  return found;
}

function run(command: string, args: string[], input?: string): string {
  const result = spawnSync(tool(command), args, { encoding: 'utf8', ...(input !== undefined ? { input } : {}) });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

/** A file system image of `sizeMiB` made from `tree` (written first). */
function ext4Image(file: string, sizeMiB: number, label: string, tree: Record<string, string | Uint8Array>, dir: string): void {
  const root = fs.mkdtempSync(path.join(dir, 'tree-'));
  for (const [name, content] of Object.entries(tree)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), content);
  }
  fs.writeFileSync(file, '');
  fs.truncateSync(file, sizeMiB << 20);
  run('mkfs.ext4', ['-q', '-F', '-L', label, '-d', root, file]);
}

interface Disks {
  system: string;
  gpt: string;
  data: string;
  /** The data file system's UUID: its entries' DEVICE in `select`. */
  dataUuid: string;
  swapPartuuid: string;
  blsPartuuid: string;
  espPartuuid: string;
}

/**
 * The ESP as firmware sees one: vfat, made and filled without mounting (mkfs.vfat -C, mmd,
 * mcopy). Kernel and initrd sit where kernel-install puts them (/ENTRY-TOKEN/VERSION/, BLS
 * "Type #1"), not at the top, where a kernel would make the volume a /boot partition.
 * loader.conf names the second entry the default, so the list shows that it was read.
 */
function espImage(file: string, sizeMiB: number, kernel: Uint8Array, initrd: Uint8Array, dir: string): void {
  const tree = fs.mkdtempSync(path.join(dir, 'esp-'));
  const files: Record<string, string | Uint8Array> = {
    'loader.conf': 'timeout 3\ndefault b-esp-rescue*\n',
    'a-esp-6.1.conf': `title ESP first\nversion 6.1\nlinux /${ESP_ENTRY_DIR}/linux\ninitrd /${ESP_ENTRY_DIR}/initrd\noptions console=ttyS0 kexec_ts.entry=esp-first\n`,
    'b-esp-rescue.conf': `title ESP rescue\nversion 6.1\nlinux /${ESP_ENTRY_DIR}/linux\ninitrd /${ESP_ENTRY_DIR}/initrd\noptions console=ttyS0 kexec_ts.entry=esp-rescue\n`,
    linux: kernel,
    initrd,
  };
  for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(tree, name), content);
  run('mkfs.vfat', ['-C', '-n', ESP_LABEL, file, String(sizeMiB * 1024)]);
  run('mmd', ['-i', file, '::/loader', '::/loader/entries', '::/EFI', '::/EFI/Linux', `::/${ESP_ENTRY_DIR.split('/')[0]}`, `::/${ESP_ENTRY_DIR}`]);
  run('mcopy', ['-i', file, path.join(tree, 'loader.conf'), '::/loader/loader.conf']);
  run('mcopy', ['-i', file, path.join(tree, 'a-esp-6.1.conf'), path.join(tree, 'b-esp-rescue.conf'), '::/loader/entries/']);
  run('mcopy', ['-i', file, path.join(tree, 'linux'), path.join(tree, 'initrd'), `::/${ESP_ENTRY_DIR}/`]);
  run('mcopy', ['-i', file, FIXTURES.debianCloudUki(), `::${UKI_FILE}`]);
}

function buildDisks(dir: string, isos: IsoFixtures): Disks {
  const kernel = fs.readFileSync(cloudKernelFixture().vmlinuzPath);
  const initrd = secondStageInitrd();
  const menuentry = (title: string, marker: string) =>
    `menuentry '${title}' {\n\tlinux /boot/vmlinuz-6.1-disk console=ttyS0 kexec_ts.entry=${marker}\n\tinitrd /boot/initrd.img-6.1-disk\n}\n`;
  const system = path.join(dir, 'system.img');
  ext4Image(system, 64, SYSTEM_LABEL, {
    'etc/hostname': 'other-system\n',
    'boot/vmlinuz-6.1-disk': kernel,
    'boot/initrd.img-6.1-disk': initrd,
    'boot/grub/grub.cfg': `set default=0\n${menuentry('Disk first', 'disk-first')}${menuentry('Disk second', 'disk-second')}`,
  }, dir);
  // The GPT disk: swap, ext4 and vfat partitions, each made on its own and copied in at its offset.
  const bls = path.join(dir, 'bls.img');
  ext4Image(bls, GPT_LAYOUT.bls.size, BLS_LABEL, {
    'loader/entries/test-6.1.conf': 'title BLS on a partition\nversion 6.1\nlinux /vmlinuz-6.1\ninitrd /initrd.img-6.1\noptions console=ttyS0 kexec_ts.entry=bls-part\n',
    'vmlinuz-6.1': kernel,
    'initrd.img-6.1': initrd,
  }, dir);
  const swap = path.join(dir, 'swap.img');
  fs.writeFileSync(swap, '');
  fs.truncateSync(swap, GPT_LAYOUT.swap.size * MIB);
  run('mkswap', ['-q', swap]);
  const esp = path.join(dir, 'esp.img');
  espImage(esp, GPT_LAYOUT.esp.size, kernel, initrd, dir);
  const gpt = path.join(dir, 'gpt.img');
  fs.writeFileSync(gpt, '');
  fs.truncateSync(gpt, (GPT_LAYOUT.esp.start + GPT_LAYOUT.esp.size + 1) * MIB);
  const partition = ({ start, size }: { start: number; size: number }, type: string, name: string) => `start=${start}MiB, size=${size}MiB, type=${type}, name="${name}"\n`;
  run('sfdisk', ['-q', gpt], `label: gpt\n${partition(GPT_LAYOUT.swap, 'S', 'swap')}${partition(GPT_LAYOUT.bls, 'L', 'boot')}${partition(GPT_LAYOUT.esp, 'U', 'esp')}`);
  const fd = fs.openSync(gpt, 'r+');
  try {
    for (const [image, { start, size }] of [[swap, GPT_LAYOUT.swap], [bls, GPT_LAYOUT.bls], [esp, GPT_LAYOUT.esp]] as const) {
      const bytes = fs.readFileSync(image);
      assert.equal(bytes.length, size * MIB, image);
      fs.writeSync(fd, bytes, 0, bytes.length, start * MIB);
    }
  } finally {
    fs.closeSync(fd);
  }
  // The data disk: the two ISO images, linked into the tree rather than copied where the cache allows.
  const dataTree = fs.mkdtempSync(path.join(dir, 'data-'));
  fs.mkdirSync(path.join(dataTree, GUEST_ISO_DIR));
  let isoBytes = 0;
  for (const iso of [isos.isolinuxIso, isos.grubRescueIso]) {
    const target = path.join(dataTree, GUEST_ISO_DIR, path.basename(iso));
    try {
      fs.linkSync(iso, target);
    } catch {
      fs.copyFileSync(iso, target);
    }
    isoBytes += fs.statSync(iso).size;
  }
  const data = path.join(dir, 'data.img');
  fs.writeFileSync(data, '');
  fs.truncateSync(data, Math.ceil(isoBytes / MIB + 32) * MIB);
  run('mkfs.ext4', ['-q', '-F', '-L', DATA_LABEL, '-d', dataTree, data]);
  const partuuid = (number: number) => run('sfdisk', ['--part-uuid', gpt, String(number)]).toLowerCase();
  const dataUuid = run('blkid', ['-p', '-s', 'UUID', '-o', 'value', data]);
  return { system, gpt, data, dataUuid, swapPartuuid: partuuid(1), blsPartuuid: partuuid(2), espPartuuid: partuuid(3) };
}

/**
 * The FAT modules of the guest's own kernel build, in load order, as guest files and the shell
 * that loads them (busybox insmod: plain ELF, dependencies first).
 */
function vfatModulesInGuest(modules: NonNullable<ReturnType<typeof cloudKernelModules>>): { files: GuestFile[]; script: string } {
  const files = modules.manifest.modules.map((module) => ({ guestPath: `${GUEST_MODULES_DIR}/${module.file}`, hostPath: path.join(modules.dir, module.file) }));
  const script = modules.manifest.modules.map((module) => `insmod ${GUEST_MODULES_DIR}/${module.file} || echo "KTS-INSMOD-FAILED:${module.name}"`).join('\n');
  return { files, script };
}

/** What this test needs beyond the VM itself; missing, it skips with the reason (fails under CI=true). */
function requireDiskFixtures(t: TestContext): { isos: IsoFixtures; modules: NonNullable<ReturnType<typeof cloudKernelModules>> } | undefined {
  const isos = isoFixtures(t);
  if (isos === undefined) return undefined;
  const modules = cloudKernelModules();
  const missing = [
    ...(modules === undefined ? [`the FAT modules of ${vmSuite()}'s cached cloud kernel (scripts/fixtures/cloud-kernel-modules.mjs)`] : []),
    ...(fs.existsSync(FIXTURES.debianCloudUki()) ? [] : [`the UKI fixture ${FIXTURES.debianCloudUki()}`]),
  ];
  if (missing.length > 0 || modules === undefined) {
    const reason = `missing ${missing.join(' and ')}: run node scripts/prepare-tests.mjs`;
    if (process.env.CI === 'true') assert.fail(reason);
    t.skip(reason);
    return undefined;
  }
  return { isos, modules };
}

/** util-linux's blkid and its libraries (busybox's blkid cannot probe). */
function blkidInGuest(): GuestFile[] {
  if (HOST_BLKID === undefined) throw new Error("util-linux's blkid is needed in the guest");
  return [{ guestPath: '/usr/sbin/blkid', hostPath: HOST_BLKID, mode: 0o755 }, ...sharedLibrariesOf(HOST_BLKID).map((library) => ({ guestPath: library, hostPath: library, mode: 0o755 }))];
}

test('reboot --all-disks boots a menu entry of another disk, found by LABEL; list --all-disks names every device, GPT partitions by PARTUUID, reads the ESP (BLS + UKI) and ISO files in --iso-dir', vmTestOptions(), async (t) => {
  const fixtures = requireDiskFixtures(t);
  if (fixtures === undefined) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kexec-ts-vm-disks-'));
  try {
    const disks = buildDisks(dir, fixtures.isos);
    const modules = vfatModulesInGuest(fixtures.modules);
    // BLS entries first, then the UKIs (src/bootcfg/machine.ts bootList): the UKI is the third.
    const ukiSelect = `PARTUUID=${disks.espPartuuid}:2`;
    const initramfs = path.join(dir, 'initramfs.cpio');
    writeScenarioInitramfs(initramfs, {
      extraFiles: [...blkidInGuest(), ...modules.files],
      body: `${STEP_FUNCTION}
${modules.script}
echo "KTS-VFAT:$(grep -c -w vfat /proc/filesystems)"
step LIST kexec-ts list --all-disks
step ISOS kexec-ts list --all-disks --iso-dir ${GUEST_ISO_DIR}
step DRY kexec-ts reboot --all-disks PARTUUID=${disks.blsPartuuid} --dry-run
step DRY-UKI kexec-ts reboot --all-disks --entry ${ukiSelect} --dry-run
echo "KTS-OUR-MOUNTS:$(grep -c -e nvme -e kexec-ts-disks /proc/self/mountinfo)"
kexec-ts list --all-disks --iso-dir ${GUEST_ISO_DIR}
kexec-ts reboot --all-disks --entry LABEL=${SYSTEM_LABEL}:1 --force
echo "KTS-REBOOT-RETURNED:$?"
`,
    });
    const vm = await runQemu([
      '-accel', 'tcg', '-smp', '1', '-m', '1024', '-nographic', '-no-reboot', '-nic', 'none',
      '-kernel', cloudKernelFixture().vmlinuzPath, '-initrd', initramfs, '-append', 'console=ttyS0 panic=-1 quiet',
      // NVMe is built into Debian's cloud kernel; virtio-blk is a module.
      '-drive', `file=${disks.system},if=none,id=system,format=raw`, '-device', 'nvme,drive=system,serial=kts-system',
      '-drive', `file=${disks.gpt},if=none,id=gpt,format=raw`, '-device', 'nvme,drive=gpt,serial=kts-gpt',
      '-drive', `file=${disks.data},if=none,id=data,format=raw`, '-device', 'nvme,drive=data,serial=kts-data',
    ], VM_TIMEOUT_MS);

    assert.deepEqual(markerLines(vm.serial, 'INSMOD-FAILED'), [], describeVmRun(vm));
    assert.equal(requireMarker(vm, 'VFAT'), '1', 'vfat is registered once its modules are loaded');
    const list = stepResult(vm, 'LIST');
    assert.equal(list.exitCode, 0, JSON.stringify(list.json));
    const volumes = list.json.volumes as Array<Record<string, any>>;
    const system = volumes.find((volume) => volume.device.label === SYSTEM_LABEL);
    assert.ok(system, JSON.stringify(list.json));
    assert.equal(system.loader, 'grub');
    assert.equal(system.configFile, '/boot/grub/grub.cfg');
    const bls = volumes.find((volume) => volume.device.partuuid === disks.blsPartuuid);
    assert.ok(bls, JSON.stringify(list.json));
    assert.equal(bls.device.label, BLS_LABEL);
    assert.equal(bls.loader, 'bls');
    assert.match(bls.device.path, /^\/dev\/nvme\dn1p2$/);
    const entries = list.json.entries as Array<Record<string, any>>;
    assert.deepEqual(entries.filter((entry) => entry.device.label === SYSTEM_LABEL).map((entry) => [entry.title, entry.isDefault, entry.kernelFile]), [
      ['Disk first', true, '/boot/vmlinuz-6.1-disk'],
      ['Disk second', false, '/boot/vmlinuz-6.1-disk'],
    ]);
    assert.deepEqual(entries.filter((entry) => entry.device.partuuid === disks.blsPartuuid).map((entry) => entry.select), [`PARTUUID=${disks.blsPartuuid}:0`]);
    const swap = (list.json.skipped as Array<Record<string, any>>).find((skip) => skip.device.partuuid === disks.swapPartuuid);
    assert.equal(swap?.code, 'SWAP', JSON.stringify(list.json.skipped));
    // The GPT disk itself holds no file system: its partitions speak for it.
    assert.ok(![...volumes, ...list.json.skipped].some((item: Record<string, any>) => /^\/dev\/nvme\dn1$/.test(item.device.path) && item.device.fstype === null && item.code === 'NO_FILESYSTEM'));

    // The ESP: vfat, read through the modules; loader.conf's default, then the UKI of EFI/Linux.
    const esp = volumes.find((volume) => volume.device.partuuid === disks.espPartuuid);
    assert.ok(esp, JSON.stringify(list.json));
    assert.equal(esp.device.fstype, 'vfat');
    assert.equal(esp.device.label, ESP_LABEL);
    assert.match(esp.device.path, /^\/dev\/nvme\dn1p3$/);
    assert.equal(esp.shape, 'esp');
    assert.equal(esp.loader, 'bls');
    const espEntries = entries.filter((entry) => entry.device.partuuid === disks.espPartuuid);
    assert.deepEqual(espEntries.map((entry) => [entry.origin, entry.title, entry.isDefault, entry.select]), [
      ['bls', 'ESP rescue', true, `PARTUUID=${disks.espPartuuid}:0`],
      ['bls', 'ESP first', false, `PARTUUID=${disks.espPartuuid}:1`],
      ['uki', espEntries[2]?.title, false, ukiSelect],
    ], JSON.stringify(espEntries));
    assert.deepEqual(espEntries.slice(0, 2).map((entry) => entry.kernelFile), [`/${ESP_ENTRY_DIR}/linux`, `/${ESP_ENTRY_DIR}/linux`]);
    assert.equal(espEntries[2]!.kernelFile, UKI_FILE);
    assert.match(espEntries[2]!.cmdline, /kexec_ts\.fixture=uki/);
    // Without --iso-dir the data disk is read, but not its ISO files.
    const dataWithoutIsoDir = volumes.find((volume) => volume.device.label === DATA_LABEL);
    assert.ok(dataWithoutIsoDir, JSON.stringify(list.json));
    assert.deepEqual([dataWithoutIsoDir.isoFiles, dataWithoutIsoDir.entryCount], [[], 0]);
    // Nothing but the swap is passed over: every file system was mounted and read.
    assert.deepEqual((list.json.skipped as Array<Record<string, any>>).map((skip) => [skip.device.partuuid, skip.code]), [[disks.swapPartuuid, 'SWAP']]);

    // --iso-dir: both images on the data disk, each entry naming its image; the rest unchanged.
    const isos = stepResult(vm, 'ISOS');
    assert.equal(isos.exitCode, 0, JSON.stringify(isos.json));
    const isoVolumes = isos.json.volumes as Array<Record<string, any>>;
    const data = isoVolumes.find((volume) => volume.device.label === DATA_LABEL);
    assert.ok(data, JSON.stringify(isos.json));
    const isoFiles = [fixtures.isos.grubRescueIso, fixtures.isos.isolinuxIso].map((iso) => `${GUEST_ISO_DIR}/${path.basename(iso)}`).sort();
    assert.deepEqual([...data.isoFiles].sort(), isoFiles);
    const dataEntries = (isos.json.entries as Array<Record<string, any>>).filter((entry) => entry.device.path === data.device.path);
    assert.equal(data.entryCount, dataEntries.length);
    for (const iso of isoFiles) {
      const fromIso = dataEntries.filter((entry) => entry.iso?.imageFile === iso);
      assert.ok(fromIso.length > 0, `${iso}: ${JSON.stringify(dataEntries.map((entry) => entry.iso))}`);
      assert.ok(fromIso.every((entry) => entry.select === `UUID=${disks.dataUuid}:${entry.indexOnDevice}`), JSON.stringify(fromIso.map((entry) => entry.select)));
      assert.ok(fromIso.some((entry) => entry.unbootableReason === undefined && entry.kernelFile === NETBOOT_LINUX), JSON.stringify(fromIso));
    }
    // The GRUB image's loopback.cfg entries tell the installer where its image is.
    assert.ok(dataEntries.some((entry) => entry.cmdline.includes(`iso-scan/filename=${GUEST_ISO_DIR}/${path.basename(fixtures.isos.grubRescueIso)}`)), dataEntries.map((entry) => entry.cmdline).join('\n'));
    assert.ok(dataEntries.every((entry) => isoFiles.includes(entry.iso?.imageFile)), JSON.stringify(dataEntries));
    assert.deepEqual(isoVolumes.map((volume) => volume.device.path).sort(), volumes.map((volume) => volume.device.path).sort());
    assert.deepEqual((isos.json.skipped as Array<Record<string, any>>).map((skip) => [skip.device.partuuid, skip.code]), [[disks.swapPartuuid, 'SWAP']]);

    const dry = stepResult(vm, 'DRY');
    assert.equal(dry.exitCode, 0, JSON.stringify(dry.json));
    assert.equal(dry.json.device.partuuid, disks.blsPartuuid);
    assert.equal(dry.json.kernel.path, '/vmlinuz-6.1');
    assert.match(dry.json.cmdline, /kexec_ts\.entry=bls-part/);
    const dryUki = stepResult(vm, 'DRY-UKI');
    assert.equal(dryUki.exitCode, 0, JSON.stringify(dryUki.json));
    assert.equal(dryUki.json.device.partuuid, disks.espPartuuid);
    assert.equal(dryUki.json.entry.origin, 'uki');
    assert.match(dryUki.json.cmdline, /kexec_ts\.fixture=uki/);
    assert.equal(requireMarker(vm, 'OUR-MOUNTS'), '0', 'the guest never sees the disks mounted');

    assert.ok(!hasMarker(vm.serial, 'REBOOT-RETURNED'), describeVmRun(vm));
    assert.ok(hasMarker(vm.serial, SECOND_KERNEL_UP_MARKER), describeVmRun(vm));
    assert.match(requireMarker(vm, SECOND_KERNEL_CMDLINE_MARKER), /kexec_ts\.entry=disk-second( |$)/);
    assert.equal(vm.timedOut, false, describeVmRun(vm));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

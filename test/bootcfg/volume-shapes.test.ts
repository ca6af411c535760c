// Every volume shape `list --root` meets, on trees real tools made: grub-mkconfig's /boot and
// kernel-install's BOOT_ROOT read as partitions of their own, an ESP holding the kernel-install
// entries beside a real UKI, and installer media as xorriso extracts them from the ISO images.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBootConfig, createRootedReader } from '../../src/bootcfg/resolve.js';
import { readBootList } from '../../src/bootcfg/machine.js';
import { detectVolumeShape, espGrubConfigs } from '../../src/bootcfg/volume-shape.js';
import { isoBootEntries } from '../../src/bootcfg/iso9660/boot-entries.js';
import { withIsoFile } from '../../src/bootcfg/iso9660/file-source.js';
import { bootcfgCache } from './fixtures.js';
import { isoFixtures } from './iso-fixtures.js';
import { FIXTURES, readFixture } from '../image/image-fixtures.js';

function scratch(name: string): string {
  return mkdtempSync(join(tmpdir(), `kexec-ts-shape-${name}-`));
}

test('shape: a system root, a /boot partition, an ESP, an XBOOTLDR and installer media are told apart by what is at their top', () => {
  const tree = (paths: string[]): string => {
    const root = scratch('probe');
    for (const path of paths) {
      if (path.endsWith('/')) mkdirSync(join(root, path), { recursive: true });
      else {
        mkdirSync(join(root, path, '..'), { recursive: true });
        writeFileSync(join(root, path), '');
      }
    }
    return root;
  };
  const shapeOf = (paths: string[]): string => detectVolumeShape(createRootedReader(tree(paths))).shape;
  assert.equal(shapeOf(['etc/', 'usr/', 'boot/']), 'system-root');
  assert.equal(shapeOf(['boot/grub/grub.cfg']), 'system-root', 'a tree trimmed to /boot is a system root');
  assert.equal(shapeOf(['efi/EFI/Linux/', 'etc/', 'boot/']), 'system-root');
  assert.equal(shapeOf(['efi/EFI/Linux/x.efi']), 'system-root', 'an /efi mount point holding an ESP is not an ESP');
  assert.equal(shapeOf(['grub2/grub.cfg', 'loader/entries/', 'efi/', 'vmlinuz-6.5.6-300.fc39.x86_64']), 'boot-partition');
  assert.equal(shapeOf(['vmlinuz-linux', 'initramfs-linux.img', 'EFI/BOOT/BOOTX64.EFI', 'loader/entries/arch.conf']), 'boot-partition', 'Arch: the ESP mounted at /boot');
  assert.equal(shapeOf(['EFI/fedora/grub.cfg', 'EFI/BOOT/BOOTX64.EFI']), 'esp');
  assert.equal(shapeOf(['efi/systemd/systemd-bootx64.efi', 'loader/loader.conf']), 'esp', 'vfat names in any case');
  assert.equal(shapeOf(['loader/entries/a.conf', '4b2c/6.1/linux']), 'xbootldr');
  assert.equal(shapeOf(['.disk/info', 'EFI/boot/bootx64.efi', 'boot/grub/grub.cfg']), 'installer-media');
  assert.equal(shapeOf(['EFI/BOOT/grub.cfg', 'boot/grub/grub.cfg']), 'installer-media');
  assert.equal(shapeOf(['isolinux/isolinux.cfg']), 'installer-media');
  assert.equal(shapeOf([]), 'system-root');
});

test('shape: the ESP vendor configs are found in name order with the removable-media fallback last', () => {
  const root = scratch('esp-vendors');
  for (const vendor of ['BOOT', 'fedora', 'centos']) {
    mkdirSync(join(root, 'EFI', vendor), { recursive: true });
    writeFileSync(join(root, 'EFI', vendor, 'grub.cfg'), '');
  }
  mkdirSync(join(root, 'EFI/Microsoft/Boot'), { recursive: true });
  assert.deepEqual(espGrubConfigs(createRootedReader(root), '/'), ['/EFI/centos/grub.cfg', '/EFI/fedora/grub.cfg', '/EFI/BOOT/grub.cfg']);
});

test("a /boot partition: grub-mkconfig's /boot read on its own finds its grub.cfg and the files its /boot/ paths name", (t) => {
  const cache = bootcfgCache(t);
  if (!cache) return;
  const partition = join(cache.scratchRoot, 'boot');
  const whole = readBootConfig(cache.scratchRoot, { platform: 'pc' });
  const alone = readBootConfig(partition, { platform: 'pc' });
  assert.equal(alone.shape.shape, 'boot-partition', alone.shape.evidence);
  assert.equal(alone.loader, 'grub');
  assert.equal(alone.configFile, '/grub/grub.cfg');
  assert.deepEqual(alone.entries.map((entry) => entry.title), whole.entries.map((entry) => entry.title));
  assert.deepEqual(alone.entries.map((entry) => entry.cmdline), whole.entries.map((entry) => entry.cmdline));
  const bootable = alone.entries.filter((entry) => entry.unbootableReason === undefined);
  assert.ok(bootable.length >= 2, `bootable: ${alone.entries.map((entry) => entry.unbootableReason?.message).join(' | ')}`);
  // The same files as through the whole root: the kernels are files of the partition.
  assert.deepEqual(bootable.map((entry) => entry.kernelFile), whole.entries.filter((entry) => entry.unbootableReason === undefined).map((entry) => entry.kernelFile));
  assert.ok(bootable.every((entry) => entry.kernelFile!.startsWith(`${partition}/vmlinuz-`)));
});

test("an XBOOTLDR partition: kernel-install's BOOT_ROOT read on its own; its entries' paths are relative to it", (t) => {
  const cache = bootcfgCache(t);
  if (!cache) return;
  const partition = join(cache.blsRoot, 'boot');
  const config = readBootConfig(partition);
  assert.equal(config.shape.shape, 'xbootldr', config.shape.evidence);
  assert.equal(config.loader, 'bls');
  assert.ok(config.entries.length >= 2);
  for (const entry of config.entries) {
    assert.equal(entry.unbootableReason, undefined, entry.unbootableReason?.message);
    assert.ok(entry.kernelFile!.startsWith(`${partition}/${cache.manifest.machineId}/`), entry.kernelFile);
  }
  assert.deepEqual(config.entries.map((entry) => entry.id), readBootConfig(cache.blsRoot).entries.map((entry) => entry.id));
});

test('an ESP: BLS entries and a real UKI in EFI/Linux, one list, boot counting on the UKI as on Type #1', (t) => {
  const cache = bootcfgCache(t);
  const uki = readFixture(t, 'debianCloudUki');
  if (!cache || !uki) return;
  const esp = scratch('esp');
  cpSync(join(cache.blsRoot, 'boot'), esp, { recursive: true });
  mkdirSync(join(esp, 'EFI/Linux'), { recursive: true });
  mkdirSync(join(esp, 'EFI/systemd'), { recursive: true });
  copyFileSync(FIXTURES.debianCloudUki(), join(esp, 'EFI/Linux/debian-6.1.efi'));
  // Boot counting: no tries left, so after every other entry and never the default.
  copyFileSync(FIXTURES.debianCloudUki(), join(esp, 'EFI/Linux/debian-6.1-new+0-3.efi'));
  const list = readBootList(esp);
  assert.equal(list.shape.shape, 'esp', list.shape.evidence);
  assert.equal(list.loader, 'bls');
  const ukis = list.entries.filter((entry) => entry.origin === 'uki');
  assert.deepEqual(ukis.map((entry) => entry.id), ['debian-6.1.efi', 'debian-6.1-new.efi']);
  assert.deepEqual(ukis[1]!.bootCounting, { triesLeft: 0, triesDone: 3 });
  assert.equal(list.entries.filter((entry) => entry.isDefault).length, 1);
  assert.equal(list.entries.find((entry) => entry.isDefault)?.origin, 'bls');

  // Without Type #1 entries the first UKI with tries left is the default.
  const ukiOnly = scratch('esp-uki-only');
  mkdirSync(join(ukiOnly, 'EFI/Linux'), { recursive: true });
  copyFileSync(FIXTURES.debianCloudUki(), join(ukiOnly, 'EFI/Linux/a-new+0.efi'));
  copyFileSync(FIXTURES.debianCloudUki(), join(ukiOnly, 'EFI/Linux/b-old.efi'));
  const onlyUkis = readBootList(ukiOnly);
  assert.equal(onlyUkis.shape.shape, 'esp');
  assert.deepEqual(onlyUkis.entries.map((entry) => `${entry.id}${entry.isDefault ? '*' : ''}`), ['b-old.efi*', 'a-new.efi']);
});

test('installer media in a directory (xorriso-extracted ISO images): the same entries and files as the image read in place', (t) => {
  const isos = isoFixtures(t);
  if (!isos) return;
  for (const image of [isos.grubRescueIso, isos.isolinuxIso]) {
    const dir = scratch('media');
    const extracted = spawnSync('xorriso', ['-osirrox', 'on', '-indev', image, '-extract', '/', dir], { encoding: 'utf8' });
    assert.equal(extracted.status, 0, extracted.stderr);
    spawnSync('chmod', ['-R', 'u+rwX', dir]);
    const fromDir = readBootConfig(dir);
    assert.equal(fromDir.shape.shape, 'installer-media', `${image}: ${fromDir.shape.evidence}`);
    const inImage = withIsoFile(image, (iso) => isoBootEntries(iso));
    assert.ok(inImage.entries.length > 0);
    assert.deepEqual(fromDir.entries.map((entry) => [entry.title, entry.cmdline, entry.isDefault]), inImage.entries.map((entry) => [entry.title, entry.cmdline, entry.isDefault]));
    assert.deepEqual(
      fromDir.entries.map((entry) => entry.kernelFile?.slice(dir.length)),
      inImage.entries.map((entry) => entry.kernelFile),
      `${image}: kernels`,
    );
    assert.ok(fromDir.entries.every((entry) => entry.iso === undefined), 'entries of a directory are not inside an image');
  }
});

test("an ESP with Debian's stub (search.fs_uuid, prefix, configfile as grub-install writes it): followed, and where it leads said when that is elsewhere", (t) => {
  const cache = bootcfgCache(t);
  if (!cache) return;
  // grub-install's format for the stub beside a signed GRUB (util/grub-install.c): the UUID of
  // the file system holding /boot/grub, the hint, and the prefix on it.
  const stub = `search.fs_uuid ${cache.manifest.fsUuid} root hd0,gpt2 \nset prefix=($root)'/boot/grub'\nconfigfile $prefix/grub.cfg\n`;
  const esp = scratch('debian-esp');
  mkdirSync(join(esp, 'EFI/debian'), { recursive: true });
  writeFileSync(join(esp, 'EFI/debian/grub.cfg'), stub);
  const alone = readBootList(esp, { platform: 'efi' });
  assert.equal(alone.shape.shape, 'esp');
  assert.equal(alone.configFile, '/EFI/debian/grub.cfg');
  assert.deepEqual(alone.entries, []);
  assert.ok(alone.warnings.some((warning) => warning.message.includes('/boot/grub/grub.cfg')), alone.warnings.map((warning) => warning.message).join(' | '));
  assert.ok(!alone.warnings.some((warning) => warning.code === 'UNKNOWN_COMMAND'), alone.warnings.map((warning) => warning.message).join(' | '));

  // The same stub in a system root whose /boot has no menu of its own leads to the real one.
  const root = scratch('debian-root');
  cpSync(cache.scratchRoot, root, { recursive: true });
  mkdirSync(join(root, 'boot/efi/EFI/debian'), { recursive: true });
  writeFileSync(join(root, 'boot/efi/EFI/debian/grub.cfg'), stub);
  const real = readBootList(root, { platform: 'efi' });
  assert.equal(real.configFile, '/boot/grub/grub.cfg', 'the menu on /boot is read first, as every stub leads there');
  assert.ok(real.entries.length >= 3);
});

// Boot entries of ISO images: the images' own configs (grub-mkrescue's grub.cfg and loopback.cfg,
// the netboot syslinux config as isolinux finds it) through the GRUB and syslinux parsers, with
// files inside the image; and the loopback conventions of each distribution family, from small
// configs written in the form each one uses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseGrubConfig } from '../../src/bootcfg/grub/read.js';
import { createRootedReader } from '../../src/bootcfg/resolve.js';
import { parseSyslinuxConfig } from '../../src/bootcfg/syslinux/parse.js';
import { BootConfigWarningCode, memoryBootFileReader, UnbootableCode, type BootEntry } from '../../src/bootcfg/types.js';
import { findIsolinuxConfig, isoBootEntries, readIsoBootMenus } from '../../src/bootcfg/iso9660/boot-entries.js';
import { parseDirectoryRecords, plainName } from '../../src/bootcfg/iso9660/directory.js';
import { openIsoFile, withIsoFile } from '../../src/bootcfg/iso9660/file-source.js';
import { openIso } from '../../src/bootcfg/iso9660/iso.js';
import { commandLineArgs } from '../../src/bootcfg/iso9660/loopback.js';
import { isoFixtures, NETBOOT_INITRD, NETBOOT_LINUX, patchedSource } from './iso-fixtures.js';

const ISO_PATH = '/isos/debian-netboot.iso';

/** What a menu shows and boots, without where it was read from. */
function essentials(entry: BootEntry) {
  return { id: entry.id, title: entry.title, kernel: entry.kernel, initrds: entry.initrds, cmdline: entry.cmdline, menuPath: entry.menuPath, unbootable: entry.unbootableReason?.code };
}

test('grub-mkrescue image booted from a file: loopback.cfg first and default, with iso-scan/filename= from ${iso_path}', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  const config = withIsoFile(fixtures.grubRescueIso, (iso) => isoBootEntries(iso, { isoPath: ISO_PATH, imageFile: fixtures.grubRescueIso }));
  assert.deepEqual(config.configFiles, [
    { file: '/boot/grub/loopback.cfg', loader: 'grub', loopback: true },
    { file: '/boot/grub/grub.cfg', loader: 'grub', loopback: false },
  ]);
  const loopback = config.entries.filter((entry) => entry.source.file === '/boot/grub/loopback.cfg');
  assert.deepEqual(loopback.map((entry) => [entry.title, entry.menuPath ?? []]), [
    ['Install', []],
    ['... Expert install', ['Advanced options ...']],
    ['... Rescue mode', ['Advanced options ...']],
  ]);
  for (const entry of loopback) {
    // Only the argument made from ${iso_path} counts as the file boot's; iso-scan/ask_second_pass is there either way.
    assert.deepEqual(entry.iso.loopbackArgs, [`iso-scan/filename=${ISO_PATH}`], entry.title);
    assert.ok(commandLineArgs(entry.cmdline).includes(`iso-scan/filename=${ISO_PATH}`), entry.title);
  }
  assert.equal(loopback[0]!.cmdline, `vga=788 iso-scan/ask_second_pass=true iso-scan/filename=${ISO_PATH} --- quiet`);
  // The default is loopback.cfg's, and only one entry is marked.
  assert.equal(config.defaultId, 'Install');
  assert.deepEqual(config.entries.filter((entry) => entry.isDefault), [loopback[0]]);
  for (const entry of config.entries) {
    assert.equal(entry.kernelFile, NETBOOT_LINUX);
    assert.deepEqual(entry.initrdFiles, [NETBOOT_INITRD]);
    assert.deepEqual(entry.pathBases, ['/']);
    assert.equal(entry.iso.imageFile, fixtures.grubRescueIso);
    assert.equal(entry.iso.isoPath, ISO_PATH);
    assert.equal(entry.unbootableReason, undefined);
  }
  // grub.cfg does not use ${iso_path}: its entries gain nothing.
  const grub = config.entries.filter((entry) => entry.source.file === '/boot/grub/grub.cfg');
  assert.ok(grub.length > 0 && grub.every((entry) => entry.iso.loopbackArgs.length === 0 && !entry.cmdline.includes('iso-scan')));
  assert.deepEqual(config.warnings, []);
});

test('grub-mkrescue image: its grub.cfg gives the entries the netboot grub.cfg gives from the tree; without isoPath loopback.cfg is not read', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  const config = withIsoFile(fixtures.grubRescueIso, (iso) => isoBootEntries(iso));
  assert.deepEqual(config.configFiles, [{ file: '/boot/grub/grub.cfg', loader: 'grub', loopback: false }]);
  const reader = createRootedReader(fixtures.netbootRoot);
  const file = '/debian-installer/amd64/grub/grub.cfg';
  const fromTree = parseGrubConfig(reader.readText(file)!, file, { reader });
  assert.deepEqual(config.entries.map(essentials), fromTree.entries.map(essentials));
  assert.equal(config.defaultId, fromTree.defaultId);
  assert.ok(config.entries.every((entry) => entry.iso.loopbackArgs.length === 0 && entry.iso.isoPath === undefined && entry.iso.imageFile === undefined));
  // An entry's kernel, read from the image where the entry says, is the netboot kernel.
  const kernelFile = config.entries.find((entry) => entry.isDefault)!.kernelFile!;
  const sha = withIsoFile(fixtures.grubRescueIso, (iso) => createHash('sha256').update(iso.readFile(kernelFile, { maxBytes: 1 << 30 })).digest('hex'));
  assert.equal(sha, fixtures.manifest.netbootLinuxSha256);
});

test('an ${iso_path} with a space: split where the config leaves it unquoted, one quoted argument where it quotes it (as GRUB does)', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  const isoPath = '/my isos/netboot.iso';
  // The fixture's loopback.cfg writes iso-scan/filename=${iso_path} unquoted: GRUB splits the value at blanks.
  const install = withIsoFile(fixtures.grubRescueIso, (iso) => isoBootEntries(iso, { isoPath })).entries[0]!;
  assert.deepEqual(install.iso.loopbackArgs, ['iso-scan/filename=/my', 'isos/netboot.iso']);
  // Quoted (as Arch writes img_loop="${iso_path}"), it stays one argument, which GRUB's linux command quotes.
  const quoted = readIsoBootMenus(memoryBootFileReader({
    '/boot/grub/loopback.cfg': 'menuentry x {\n  linux /vmlinuz img_loop="${iso_path}" rw\n}\n',
  }), { isoPath });
  assert.equal(quoted.entries[0]!.cmdline, `"img_loop=${isoPath}" rw`);
  assert.deepEqual(quoted.entries[0]!.iso.loopbackArgs, [`"img_loop=${isoPath}"`]);
});

test('isolinux image: the config isolinux finds (/isolinux.cfg) gives the entries the netboot pxelinux.cfg gives from the tree', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  const config = withIsoFile(fixtures.isolinuxIso, (iso) => isoBootEntries(iso, { isoPath: ISO_PATH }));
  assert.deepEqual(config.configFiles, [{ file: '/isolinux.cfg', loader: 'syslinux', loopback: false }]);
  const reader = createRootedReader(fixtures.netbootRoot);
  const fromTree = parseSyslinuxConfig(reader.readText('/pxelinux.cfg/default')!, '/pxelinux.cfg/default', { reader });
  assert.deepEqual(config.entries.map(essentials), fromTree.entries.map(essentials));
  assert.equal(config.defaultId, 'install');
  // No loopback config and nothing in isolinux.cfg can use ${iso_path}: no words are added.
  assert.ok(config.entries.every((entry) => entry.iso.loopbackArgs.length === 0 && entry.iso.isoPath === ISO_PATH));
  const linuxEntries = config.entries.filter((entry) => entry.kernel !== undefined);
  assert.ok(linuxEntries.length >= 8);
  assert.ok(linuxEntries.every((entry) => entry.kernelFile === NETBOOT_LINUX && entry.initrdFiles[0] === NETBOOT_INITRD));
  assert.deepEqual(config.entries.filter((entry) => entry.kernel === undefined).map((entry) => entry.unbootableReason?.code), [UnbootableCode.OTHER_MENU, UnbootableCode.OTHER_MENU]);
});

test('a kernel the config names but the image lacks makes the entry unbootable, saying which file', (t) => {
  const fixtures = isoFixtures(t);
  if (!fixtures) return;
  const source = openIsoFile(fixtures.grubRescueIso);
  try {
    // The Rock Ridge name of /debian-installer/amd64/linux rewritten in place to "linuy".
    const dir = openIso(source).stat('/debian-installer/amd64')!.extents[0]!;
    const bytes = Buffer.from(source.readAt(dir.offset, dir.sizeBytes));
    const record = parseDirectoryRecords(bytes, dir.offset).find((candidate) => plainName(candidate.identifier) === 'linux')!;
    const nameAt = Buffer.from(record.systemUse).indexOf('NM') + 5;
    const patch = Buffer.from('linuy');
    const config = isoBootEntries(patchedSource(source, [{ offset: record.systemUseOffset + nameAt, bytes: patch }]));
    assert.ok(config.entries.length > 0);
    for (const entry of config.entries) {
      assert.equal(entry.kernelFile, undefined);
      assert.deepEqual(entry.initrdFiles, [NETBOOT_INITRD]);
      assert.deepEqual(entry.unbootableReason, { code: UnbootableCode.KERNEL_NOT_FOUND, message: `kernel ${NETBOOT_LINUX} is not in the image` });
    }
  } finally {
    source.close();
  }
});

test('isolinux config search: /boot/isolinux, /isolinux, /boot/syslinux, /syslinux, / in turn, isolinux.cfg before syslinux.cfg in each', () => {
  const find = (...paths: string[]) => findIsolinuxConfig(memoryBootFileReader(Object.fromEntries(paths.map((file) => [file, 'LABEL x\n']))));
  assert.equal(find('/isolinux.cfg', '/isolinux/isolinux.cfg', '/boot/isolinux/syslinux.cfg'), '/boot/isolinux/syslinux.cfg');
  assert.equal(find('/isolinux.cfg', '/isolinux/syslinux.cfg', '/isolinux/isolinux.cfg'), '/isolinux/isolinux.cfg');
  assert.equal(find('/syslinux.cfg', '/syslinux/syslinux.cfg'), '/syslinux/syslinux.cfg');
  assert.equal(find('/syslinux.cfg', '/isolinux.cfg'), '/isolinux.cfg');
  assert.equal(find('/EFI/boot/grub.cfg'), undefined);
});

/** Menus of a made-up image holding `files`, booted from /isos/x.iso unless told otherwise. */
function menus(files: Record<string, string>, options: Parameters<typeof readIsoBootMenus>[1] = { isoPath: '/isos/x.iso' }) {
  return readIsoBootMenus(memoryBootFileReader(files), options);
}

test('loopback conventions: casper iso-scan/filename=, live-boot findiso=, Arch img_dev=UUID= (from probe --fs-uuid) and img_loop=', () => {
  // Ubuntu's form (casper).
  const casper = menus({
    '/boot/grub/loopback.cfg': 'menuentry "Try Ubuntu" {\n\tset gfxpayload=keep\n\tlinux\t/casper/vmlinuz  boot=casper iso-scan/filename=${iso_path} quiet splash ---\n\tinitrd\t/casper/initrd\n}\n',
  });
  assert.deepEqual(casper.entries.map((entry) => [entry.cmdline, entry.iso.loopbackArgs]), [
    ['boot=casper iso-scan/filename=/isos/x.iso quiet splash ---', ['iso-scan/filename=/isos/x.iso']],
  ]);
  // Debian live's (live-build): loopback.cfg sources the shared config, entries use findiso=.
  const live = menus({
    '/boot/grub/loopback.cfg': 'source /boot/grub/config.cfg\nmenuentry "Live system" {\n\tlinux\t/live/vmlinuz boot=live components findiso=${iso_path} quiet splash\n\tinitrd\t/live/initrd.img\n}\n',
    '/boot/grub/config.cfg': 'set default=0\nset timeout=5\n',
  });
  assert.deepEqual(live.entries[0]!.iso.loopbackArgs, ['findiso=/isos/x.iso']);
  assert.equal(live.entries[0]!.kernel, '/live/vmlinuz');
  // Arch's: the UUID of the file system holding the image comes from GRUB's probe.
  const arch = {
    '/boot/grub/loopback.cfg': [
      'search --no-floppy --set=archiso_img_dev --file "${iso_path}"',
      'probe --set archiso_img_dev_uuid --fs-uuid "${archiso_img_dev}"',
      "menuentry \"Arch Linux install medium\" --id 'archlinux' {",
      '    linux /arch/boot/x86_64/vmlinuz-linux archisobasedir=arch img_dev=UUID=${archiso_img_dev_uuid} img_loop="${iso_path}"',
      '    initrd /arch/boot/x86_64/initramfs-linux.img',
      '}',
      '',
    ].join('\n'),
  };
  const withUuid = menus(arch, { isoPath: '/isos/arch.iso', isoFsUuid: '8d1f-0c2a' });
  assert.deepEqual(withUuid.entries[0]!.iso.loopbackArgs, ['img_dev=UUID=8d1f-0c2a', 'img_loop=/isos/arch.iso']);
  assert.deepEqual(withUuid.warnings, []);
  const withoutUuid = menus(arch, { isoPath: '/isos/arch.iso' });
  assert.deepEqual(withoutUuid.entries[0]!.iso.loopbackArgs, ['img_loop=/isos/arch.iso']);
  assert.ok(withoutUuid.entries[0]!.cmdline.includes('img_dev=UUID= '));
  assert.deepEqual(withoutUuid.warnings.map((warning) => [warning.code, warning.file, warning.line]), [[BootConfigWarningCode.MISSING_VALUE, '/boot/grub/loopback.cfg', 2]]);
});

test('a grub.cfg that tests ${iso_path} itself adds its words only for a boot from the file; an entry only such a boot has keeps the words naming the path', () => {
  const files = {
    '/EFI/BOOT/grub.cfg': [
      'if [ ${iso_path} ] ; then set isoboot="findiso=${iso_path}" ; fi',
      'menuentry "Installer" {',
      '  linux /boot/bzImage init=/init ${isoboot} loglevel=4',
      '  initrd /boot/initrd',
      '}',
      'if [ -n "${iso_path}" ]; then',
      '  menuentry "From the image file" { linux /boot/bzImage findiso=${iso_path} copytoram }',
      'fi',
      '',
    ].join('\n'),
  };
  const fromFile = menus(files);
  assert.deepEqual(fromFile.configFiles, [{ file: '/EFI/BOOT/grub.cfg', loader: 'grub', loopback: false }]);
  assert.deepEqual(fromFile.entries.map((entry) => [entry.title, entry.cmdline, entry.iso.loopbackArgs]), [
    ['Installer', 'init=/init findiso=/isos/x.iso loglevel=4', ['findiso=/isos/x.iso']],
    ['From the image file', 'findiso=/isos/x.iso copytoram', ['findiso=/isos/x.iso']],
  ]);
  const fromDisc = menus(files, {});
  assert.deepEqual(fromDisc.entries.map((entry) => [entry.title, entry.cmdline, entry.iso.loopbackArgs]), [['Installer', 'init=/init loglevel=4', []]]);
});

test('an image without a boot config: no entries, a warning naming where we looked', () => {
  const config = menus({ '/README': 'no boot\n' });
  assert.deepEqual(config.entries, []);
  assert.equal(config.warnings.length, 1);
  assert.equal(config.warnings[0]!.code, BootConfigWarningCode.FILE_NOT_FOUND);
  assert.match(config.warnings[0]!.message, /loopback\.cfg.*grub\.cfg.*isolinux/);
  assert.equal(config.defaultId, undefined);
});

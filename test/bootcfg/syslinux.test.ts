import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultWorkingDirectory, parseSyslinuxConfig } from '../../src/bootcfg/syslinux/parse.js';
import { memoryBootFileReader } from '../../src/bootcfg/types.js';
import { createRootedReader, readBootConfig } from '../../src/bootcfg/resolve.js';
import { bootcfgCache, committedFixture } from './fixtures.js';

const CFG = '/boot/extlinux/extlinux.conf';

function syslinux(text: string, files: Record<string, string> = {}, options: Parameters<typeof parseSyslinuxConfig>[2] = {}) {
  return parseSyslinuxConfig(text, CFG, { reader: memoryBootFileReader(files), ...options });
}

test('LABEL with KERNEL/LINUX, APPEND and INITRD (comma-separated); keywords are case-insensitive', () => {
  const config = syslinux([
    'DEFAULT debian',
    'label debian',
    '  MENU LABEL ^Debian GNU/Linux',
    '  LINUX /vmlinuz-6.1.0-26-amd64',
    '  INITRD /intel-ucode.img,/initrd.img-6.1.0-26-amd64',
    '  APPEND root=/dev/sda1 ro quiet',
    'Label rescue',
    '  kernel vmlinuz',
    '  append initrd=initrd.img,extra.img single',
  ].join('\n'));
  const [debian, rescue] = config.entries;
  assert.equal(debian!.title, 'Debian GNU/Linux');
  assert.equal(debian!.kernel, '/vmlinuz-6.1.0-26-amd64');
  assert.deepEqual(debian!.initrds, ['/intel-ucode.img', '/initrd.img-6.1.0-26-amd64']);
  assert.equal(debian!.cmdline, 'root=/dev/sda1 ro quiet');
  // initrd= inside APPEND loads those files, relative to the config's directory, and leaves the command line.
  assert.equal(rescue!.kernel, '/boot/extlinux/vmlinuz');
  assert.deepEqual(rescue!.initrds, ['/boot/extlinux/initrd.img', '/boot/extlinux/extra.img']);
  assert.equal(rescue!.cmdline, 'single');
  assert.equal(config.defaultId, 'debian');
});

test('INITRD lines come before initrd= from APPEND; a global APPEND applies to labels without their own; APPEND - clears it', () => {
  const config = syslinux('APPEND console=ttyS0\nLABEL a\n LINUX /a\n INITRD /first\n APPEND initrd=/second x\nLABEL b\n LINUX /b\nLABEL c\n LINUX /c\n APPEND -\n');
  assert.deepEqual(config.entries[0]!.initrds, ['/first', '/second']);
  assert.equal(config.entries[1]!.cmdline, 'console=ttyS0');
  assert.equal(config.entries[2]!.cmdline, '');
});

test('default: DEFAULT naming a label wins over MENU DEFAULT, which wins over the first label', () => {
  const labels = 'LABEL a\n LINUX /a\nLABEL b\n MENU DEFAULT\n LINUX /b\nLABEL c\n LINUX /c\n';
  assert.equal(syslinux(`DEFAULT c\n${labels}`).defaultId, 'c');
  assert.equal(syslinux(`DEFAULT menu.c32\n${labels}`).defaultId, 'b');
  assert.equal(syslinux('LABEL a\n LINUX /a\nLABEL b\n LINUX /b\n').defaultId, 'a');
  // The last DEFAULT wins, and it may carry options after the label.
  assert.equal(syslinux(`DEFAULT a\nDEFAULT c quiet\n${labels}`).defaultId, 'c');
  assert.equal(syslinux(labels, {}, { defaultOverride: 'a' }).defaultId, 'a');
});

test('MENU BEGIN/END nest labels under the submenu title; MENU EXIT items are not entries', () => {
  const config = syslinux('MENU BEGIN adv\n MENU LABEL ^Advanced\n LABEL back\n  MENU EXIT\n LABEL expert\n  LINUX /x\nMENU END\nLABEL top\n LINUX /t\n');
  assert.deepEqual(config.entries.map((e) => [e.id, e.menuPath]), [['expert', ['Advanced']], ['top', undefined]]);
  // The first label of the top menu, not of a submenu, is the default.
  assert.equal(config.defaultId, 'top');
});

test('INCLUDE and MENU INCLUDE read other files relative to the working directory; a missing one is a warning', () => {
  const files = { '/boot/extlinux/more.cfg': 'LABEL more\n LINUX /m\n', '/boot/extlinux/sub/x.cfg': 'LABEL x\n LINUX /x\n' };
  const config = syslinux('INCLUDE more.cfg\nMENU INCLUDE sub/x.cfg\nINCLUDE gone.cfg\n', files);
  assert.deepEqual(config.entries.map((e) => [e.id, e.source.file]), [['more', '/boot/extlinux/more.cfg'], ['x', '/boot/extlinux/sub/x.cfg']]);
  assert.deepEqual(config.warnings.map((w) => [w.code, w.file, w.line]), [['FILE_NOT_FOUND', CFG, 3]]);
});

test('an INCLUDE of itself stops at the depth limit', () => {
  const config = syslinux('INCLUDE extlinux.conf\nLABEL a\n LINUX /a\n', { [CFG]: 'INCLUDE extlinux.conf\nLABEL a\n LINUX /a\n' });
  assert.ok(config.warnings.some((w) => w.code === 'LIMIT_REACHED'));
});

test('non-Linux images are explained: COM32, boot sectors, PXE, LOCALBOOT, CONFIG, memtest; LINUX forces Linux', () => {
  const config = syslinux([
    'LABEL hdt', ' KERNEL hdt.c32',
    'LABEL win', ' KERNEL chain.c32', ' APPEND hd0 1',
    'LABEL bss', ' BOOT /dos.bss',
    'LABEL pxe', ' KERNEL /boot/pxe.0',
    'LABEL local', ' LOCALBOOT 0',
    'LABEL other', ' CONFIG /other.cfg',
    'LABEL memtest', ' LINUX /memtest86+.bin',
    'LABEL forced', ' LINUX /kernel.img',
    'LABEL nokernel', ' APPEND x',
    'LABEL dt', ' LINUX /Image', ' FDT /dtbs/board.dtb',
  ].join('\n'));
  assert.deepEqual(config.entries.map((e) => [e.id, e.unbootableReason?.code ?? 'bootable']), [
    ['hdt', 'SYSLINUX_MODULE'], ['win', 'SYSLINUX_MODULE'], ['bss', 'CHAINLOADER'], ['pxe', 'CHAINLOADER'],
    ['local', 'LOCAL_BOOT'], ['other', 'OTHER_MENU'], ['memtest', 'MEMTEST'], ['forced', 'bootable'],
    ['nokernel', 'NO_KERNEL'], ['dt', 'bootable'],
  ]);
  assert.equal(config.entries[9]!.devicetree, '/dtbs/board.dtb');
});

test('TEXT HELP blocks are skipped; unknown keywords are warnings with file:line', () => {
  const config = syslinux('LABEL a\n TEXT HELP\n LABEL not-a-label\n ENDTEXT\n LINUX /a\nFROB 1\n');
  assert.deepEqual(config.entries.map((e) => e.id), ['a']);
  assert.deepEqual(config.warnings.map((w) => [w.code, w.line]), [['UNKNOWN_KEY', 6]]);
});

test('PXELINUX paths are relative to the directory above pxelinux.cfg/', () => {
  assert.equal(defaultWorkingDirectory('/pxelinux.cfg/default'), '/');
  assert.equal(defaultWorkingDirectory('/srv/tftp/pxelinux.cfg/01-aa-bb'), '/srv/tftp');
  assert.equal(defaultWorkingDirectory('/isolinux/isolinux.cfg'), '/isolinux');
});

test('debian-installer netboot pxelinux.cfg (committed copy): includes followed, Install is the default', () => {
  const reader = createRootedReader(committedFixture('debian-netboot'));
  const config = parseSyslinuxConfig(reader.readText('/pxelinux.cfg/default')!, '/pxelinux.cfg/default', { reader });
  assert.equal(config.defaultId, 'install');
  assert.deepEqual(config.entries.map((e) => e.id), ['install', 'expert', 'rescue', 'auto', 'installdark', 'expertdark', 'rescuedark', 'autodark', 'help', 'help']);
  const install = config.entries[0]!;
  assert.equal(install.title, 'Install');
  assert.equal(install.kernel, '/debian-installer/amd64/linux');
  assert.deepEqual(install.initrds, ['/debian-installer/amd64/initrd.gz']);
  assert.equal(install.cmdline, 'vga=788 --- quiet');
  assert.deepEqual(config.entries[5]!.menuPath, ['Accessible dark contrast installer menu', 'Advanced options']);
  assert.equal(config.entries[8]!.unbootableReason?.code, 'OTHER_MENU');
  // The text flavour's menu.cfg includes the graphical installer's files, which it does not ship.
  assert.ok(config.warnings.length > 0 && config.warnings.every((w) => w.code === 'FILE_NOT_FOUND'));
});

test('debian-installer netboot (cache): the kernel and initrd resolve in the TFTP root', (t) => {
  const cache = bootcfgCache(t);
  if (!cache) return;
  const config = readBootConfig(cache.netbootRoot);
  assert.equal(config.loader, 'syslinux');
  assert.equal(config.configFile, '/pxelinux.cfg/default');
  const install = config.entries.find((e) => e.isDefault)!;
  assert.equal(install.kernelFile, `${cache.netbootRoot}/debian-installer/amd64/linux`);
  assert.deepEqual(install.initrdFiles, [`${cache.netbootRoot}/debian-installer/amd64/initrd.gz`]);
  assert.equal(install.unbootableReason, undefined);
});

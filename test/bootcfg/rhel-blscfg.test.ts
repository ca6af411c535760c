// RHEL-family boot trees copied from real installs (test/fixtures/bootcfg-real/, provenance in
// its PROVENANCE.md): BLS entries that say `options $kernelopts $tuned_params`, read as GRUB's
// blscfg reads them. The expected entries are the ones worked out by hand from blscfg's rules
// (BLSCFG-RULES.md, section 9); for three of the hosts they equal the /proc/cmdline they booted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readBootList } from '../../src/bootcfg/machine.js';
import { expandBlscfgValue, parseGrubConfig } from '../../src/bootcfg/grub/read.js';
import { memoryBootFileReader } from '../../src/bootcfg/types.js';
import { cmdlineForEntry } from '../../src/handoff/cmdline.js';
import { ValidationError } from '../../src/errors.js';

const REAL_TREES = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/bootcfg-real');

/** The tree copied to a scratch root with its kernels and initrds as placeholder files and its symlinks made. */
function realTree(name: string): string {
  const root = mkdtempSync(join(tmpdir(), `kexec-ts-${name}-`));
  cpSync(join(REAL_TREES, name), root, { recursive: true });
  const lines = (file: string): string[] => {
    try {
      return readFileSync(join(REAL_TREES, name, file), 'utf8').split('\n').filter((line) => line.trim() !== '');
    } catch {
      return [];
    }
  };
  for (const file of lines('FILES.txt')) {
    mkdirSync(dirname(join(root, file)), { recursive: true });
    writeFileSync(join(root, file), `placeholder for ${file}\n`);
  }
  for (const link of lines('LINKS.txt')) {
    const [path, target] = link.split(' -> ').map((part) => part.trim());
    rmSync(join(root, path!), { force: true });
    mkdirSync(dirname(join(root, path!)), { recursive: true });
    symlinkSync(target!, join(root, path!));
  }
  return root;
}

interface Expected {
  id: string;
  kernel: string;
  initrds: string[];
  cmdline: string;
}

function assertEntries(root: string, list: ReturnType<typeof readBootList>, expected: Expected[]): void {
  const kexecable = list.entries.filter((entry) => entry.kernel !== undefined && entry.origin !== 'uki');
  assert.deepEqual(
    kexecable.slice(0, expected.length).map((entry) => ({
      id: entry.id,
      kernel: entry.kernelFile?.slice(root.length + 1),
      initrds: entry.initrdFiles.map((file) => file.slice(root.length + 1)),
      cmdline: entry.cmdline,
    })),
    expected,
  );
  assert.equal(list.entries.find((entry) => entry.isDefault)?.id, expected[0]!.id);
  assert.ok(list.entries.every((entry) => !entry.cmdline.includes('$')), 'a GRUB variable reached a command line');
}

const RHEL8_BIOS_CMDLINE = 'root=UUID=949779ce-46aa-434e-8eb0-852514a5d69e ro console=ttyS0,115200n8 console=tty0 net.ifnames=0 rd.blacklist=nouveau nvme_core.io_timeout=4294967295 crashkernel=auto';

test('RHEL 8.3 (BIOS): grub2/grub.cfg with blscfg, $kernelopts from grubenv, entries of two machine-ids newest version first', () => {
  const root = realTree('rhel8-bios');
  const list = readBootList(root, { platform: 'pc' });
  assert.equal(list.loader, 'grub');
  assert.equal(list.configFile, '/boot/grub2/grub.cfg');
  assertEntries(root, list, [
    { id: 'b486fe3f109f430d995b1ee093897980-4.18.0-240.15.1.el8_3.x86_64', kernel: 'boot/vmlinuz-4.18.0-240.15.1.el8_3.x86_64', initrds: ['boot/initramfs-4.18.0-240.15.1.el8_3.x86_64.img'], cmdline: RHEL8_BIOS_CMDLINE },
    { id: 'd8aff414dbe6429cbe36b52011441ef4-4.18.0-240.1.1.el8_3.x86_64', kernel: 'boot/vmlinuz-4.18.0-240.1.1.el8_3.x86_64', initrds: ['boot/initramfs-4.18.0-240.1.1.el8_3.x86_64.img'], cmdline: RHEL8_BIOS_CMDLINE },
  ]);
  // The rescue entries come after every kernel of their machine (version 0 < 4), d8aff's first.
  assert.deepEqual(list.entries.slice(2).map((entry) => entry.id), ['d8aff414dbe6429cbe36b52011441ef4-0-rescue', 'b486fe3f109f430d995b1ee093897980-0-rescue']);
});

const ROCKY8_CMDLINE = 'root=UUID=bbf5722a-3cae-4f2b-ad38-138c7acf823c ro console=ttyS0,115200n8 no_timer_check net.ifnames=0 nvme_core.io_timeout=4294967295 nvme_core.max_retries=10 crashkernel=auto';

test('Rocky 8.10 (UEFI): the whole menu and grubenv on the ESP, /boot/grub2/grubenv a link to it, /boot its own file system', () => {
  const root = realTree('rocky8-uefi');
  for (const platform of ['efi', 'pc'] as const) {
    const list = readBootList(root, { platform });
    assert.equal(list.configFile, '/boot/efi/EFI/rocky/grub.cfg');
    assertEntries(root, list, [
      { id: 'd65d7b3020c64a0387d4c90aa164833c-4.18.0-553.137.1.el8_10.x86_64', kernel: 'boot/vmlinuz-4.18.0-553.137.1.el8_10.x86_64', initrds: ['boot/initramfs-4.18.0-553.137.1.el8_10.x86_64.img'], cmdline: ROCKY8_CMDLINE },
      { id: 'd65d7b3020c64a0387d4c90aa164833c-0-rescue', kernel: 'boot/vmlinuz-0-rescue-d65d7b3020c64a0387d4c90aa164833c', initrds: ['boot/initramfs-0-rescue-d65d7b3020c64a0387d4c90aa164833c.img'], cmdline: ROCKY8_CMDLINE },
    ]);
    // What grub.cfg defines after blscfg stays, in menu order.
    assert.equal(list.entries[2]?.title, 'System setup');
    assert.ok(list.entries[2]?.unbootableReason !== undefined);
  }
});

test('RHEL 8.10 AMI (UEFI, image-builder grub.cfg): $tuned_params and $tuned_initrd unset expand to nothing', () => {
  const root = realTree('rhel8-ami-uefi');
  const cmdline = 'root=UUID=8875bdd5-696b-4a06-9a4f-10359af2e044 console=tty0 console=ttyS0,115200n8 net.ifnames=0 rd.blacklist=nouveau nvme_core.io_timeout=4294967295 crashkernel=auto';
  assertEntries(root, readBootList(root, { platform: 'efi' }), [
    { id: 'ffffffffffffffffffffffffffffffff-4.18.0-553.158.1.el8_10.x86_64', kernel: 'boot/vmlinuz-4.18.0-553.158.1.el8_10.x86_64', initrds: ['boot/initramfs-4.18.0-553.158.1.el8_10.x86_64.img'], cmdline },
    { id: 'ffffffffffffffffffffffffffffffff-0-rescue', kernel: 'boot/vmlinuz-0-rescue-ffffffffffffffffffffffffffffffff', initrds: ['boot/initramfs-0-rescue-ffffffffffffffffffffffffffffffff.img'], cmdline },
  ]);
});

test('RHEL 9.6 (UEFI): the ESP stub that searches for /grub2/grub.cfg is followed to the menu on /boot', () => {
  const root = realTree('rhel9-uefi');
  const expected = [{
    id: 'ffffffffffffffffffffffffffffffff-5.14.0-570.132.1.el9_6.aarch64',
    kernel: 'boot/vmlinuz-5.14.0-570.132.1.el9_6.aarch64',
    initrds: ['boot/initramfs-5.14.0-570.132.1.el9_6.aarch64.img'],
    cmdline: 'root=UUID=6e148df3-79cf-4284-843c-1e4b2f6cd957 console=ttyS0,115200n8 console=tty0 net.ifnames=0 nvme_core.io_timeout=4294967295 crashkernel=1G-4G:256M,4G-64G:320M,64G-:576M',
  }];
  assertEntries(root, readBootList(root, { platform: 'efi' }), expected);
  // Only the ESP there (the /boot partition's menu missing): the stub leads nowhere, and says so.
  rmSync(join(root, 'boot/grub2/grub.cfg'));
  const stubOnly = readBootList(root, { platform: 'efi' });
  assert.equal(stubOnly.configFile, '/boot/efi/EFI/redhat/grub.cfg');
  assert.ok(stubOnly.warnings.some((warning) => /grub2\/grub\.cfg/.test(warning.message)), stubOnly.warnings.map((warning) => warning.message).join(' | '));
});

test('CentOS Stream 8 (UEFI): BLS entries first, then the tboot submenu grub.cfg adds after blscfg', () => {
  const root = realTree('centos8-uefi');
  const cmdline = 'root=UUID=d0be5cb9-622d-42d5-a531-674aaa120309 ro crashkernel=auto rhgb quiet console=ttyS1,57600n8';
  const list = readBootList(root, { platform: 'efi' });
  assertEntries(root, list, [
    { id: '9af7b02ac08149d985841c07c8ff366e-5.18.0', kernel: 'boot/vmlinuz-5.18.0', initrds: ['boot/initramfs-5.18.0.img'], cmdline },
    { id: '9af7b02ac08149d985841c07c8ff366e-0-rescue', kernel: 'boot/vmlinuz-0-rescue-9af7b02ac08149d985841c07c8ff366e', initrds: ['boot/initramfs-0-rescue-9af7b02ac08149d985841c07c8ff366e.img'], cmdline },
  ]);
  assert.ok(list.entries.slice(2).some((entry) => entry.menuPath?.[0]?.startsWith('tboot')), list.entries.map((entry) => entry.title).join(' | '));
});

test('RHEL 8 /boot without its grub.cfg: the entries are expanded from grubenv as blscfg would, and said so', () => {
  const root = realTree('rhel8-bios');
  rmSync(join(root, 'boot/grub2/grub.cfg'));
  const list = readBootList(root, { platform: 'pc' });
  assert.equal(list.loader, 'bls');
  const versions = list.entries.filter((entry) => !entry.id.includes('rescue'));
  assert.ok(versions.length === 2 && versions.every((entry) => entry.cmdline === RHEL8_BIOS_CMDLINE), versions.map((entry) => entry.cmdline).join(' | '));
  assert.ok(versions.every((entry) => entry.initrdFiles.length === 1), '$tuned_initrd unset must not be an initrd');
  assert.ok(list.warnings.some((warning) => warning.code === 'GRUB_VARIABLES' && warning.message.includes('/boot/grub2/grubenv')));

  // And without grubenv too: the command line is not known, and nothing boots it empty.
  rmSync(join(root, 'boot/grub2/grubenv'));
  const bare = readBootList(root, { platform: 'pc' });
  const entry = bare.entries.find((candidate) => candidate.isDefault) ?? bare.entries[0]!;
  assert.equal(entry.cmdlineOrigin, 'unknown');
  assert.match(entry.cmdlineUnknownReason ?? '', /\$kernelopts/);
  assert.throws(() => cmdlineForEntry(entry, {}), (error: unknown) => error instanceof ValidationError && /\$kernelopts/.test(error.message));
  assert.equal(cmdlineForEntry(entry, { append: 'root=/dev/sda2 ro' }), 'root=/dev/sda2 ro');
});

test("blscfg's expansion of options: value and a space, unset is nothing, ${name} is no variable", () => {
  const vars = new Map([['kernelopts', 'root=/dev/sda2 ro'], ['empty', '']]);
  assert.equal(expandBlscfgValue('$kernelopts $tuned_params', vars), 'root=/dev/sda2 ro ');
  assert.equal(expandBlscfgValue('quiet $kernelopts rhgb', vars), 'quiet root=/dev/sda2 ro rhgb');
  assert.equal(expandBlscfgValue('$empty x', vars), ' x');
  assert.equal(expandBlscfgValue('${kernelopts} x', vars), '{kernelopts} x');
  assert.equal(expandBlscfgValue('a$', vars), 'a');

  // Through a grub.cfg: variables grub.cfg set before blscfg, default_kernelopts without `options`,
  // and an `efi` entry skipped as blscfg skips it.
  const files = {
    '/boot/grub2/grub.cfg': 'set kernelopts="root=/dev/vda1 ro"\nblscfg\n',
    '/boot/loader/entries/a-6.1.conf': 'title A\nversion 6.1\nlinux /vmlinuz-6.1\noptions $kernelopts quiet\n',
    '/boot/loader/entries/b-6.2.conf': 'title B\nversion 6.2\nlinux /vmlinuz-6.2\n',
    '/boot/loader/entries/c-efi.conf': 'title C\nefi /EFI/c.efi\n',
  };
  const config = parseGrubConfig(files['/boot/grub2/grub.cfg'], '/boot/grub2/grub.cfg', { reader: memoryBootFileReader(files), variables: { default_kernelopts: 'root=/dev/vdb1' } });
  assert.deepEqual(config.entries.map((entry) => [entry.id, entry.cmdline]), [['b-6.2', 'root=/dev/vdb1'], ['a-6.1', 'root=/dev/vda1 ro quiet']]);
});

test('an ESP on its own (RHEL 9.6 and Rocky 8.10): recognised as one, its EFI/<vendor>/grub.cfg read', () => {
  const rhel9 = realTree('rhel9-uefi');
  const esp = readBootList(join(rhel9, 'boot/efi'), { platform: 'efi' });
  assert.equal(esp.shape.shape, 'esp', esp.shape.evidence);
  assert.equal(esp.configFile, '/EFI/redhat/grub.cfg');
  // The stub hands over to /grub2/grub.cfg on the /boot partition, which is not on this volume.
  assert.deepEqual(esp.entries, []);
  assert.ok(esp.warnings.some((warning) => /grub2\/grub\.cfg/.test(warning.message)), esp.warnings.map((warning) => warning.message).join(' | '));

  // Rocky 8 keeps the whole menu on the ESP; its entries are on /boot, so from the ESP alone
  // blscfg finds none, and says so, while the menu's own entries (System setup) remain.
  const rocky = realTree('rocky8-uefi');
  const rockyEsp = readBootList(join(rocky, 'boot/efi'), { platform: 'efi' });
  assert.equal(rockyEsp.shape.shape, 'esp');
  assert.equal(rockyEsp.configFile, '/EFI/rocky/grub.cfg');
  assert.deepEqual(rockyEsp.entries.map((entry) => entry.title), ['System setup']);
  assert.ok(rockyEsp.warnings.some((warning) => /blscfg: no BLS entries/.test(warning.message)));
});

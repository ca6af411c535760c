import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMain } from './run-main.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { bootcfgCache } from '../bootcfg/fixtures.js';
import { assessStatus } from '../../src/handoff/status.js';
import { readMachineFacts } from '../../src/handoff/machine-facts.js';
import { FIXTURES, readFixture } from '../image/image-fixtures.js';

/**
 * How a dry run ends on this machine: 0 where it can kexec, UNSUPPORTED where its kernel cannot
 * (a build machine without CONFIG_KEXEC_FILE): the files are checked and shown either way.
 */
const DRY_RUN_BLOCKERS = assessStatus({ ...readMachineFacts(), hasCapSysBoot: true }).blockers;
const DRY_RUN_EXIT = DRY_RUN_BLOCKERS.length === 0 ? ExitCode.OK : ExitCode.UNSUPPORTED;

const run = runMain;

test('list on a root whose grub.cfg grub-mkconfig wrote: every entry, the saved default marked', async (t) => {
  const cache = bootcfgCache(t);
  if (!cache) return;
  const listed = await run('list', '--root', cache.scratchRoot, '--json');
  assert.equal(listed.exitCode, ExitCode.OK, listed.err);
  const json = JSON.parse(listed.out) as { loader: string; entries: Array<{ id: string; isDefault: boolean; kernelFile: string }> };
  assert.equal(json.loader, 'grub');
  const defaults = json.entries.filter((entry) => entry.isDefault);
  assert.equal(defaults.length, 1);
  // saved_entry is a "submenu>entry" path; the entry's own id is its last part.
  const savedId = cache.manifest.grubSavedEntry.split('>').at(-1)!;
  assert.equal(defaults[0]!.id, savedId);
  const text = await run('list', '--root', cache.scratchRoot);
  const defaultLine = text.out.split('\n').find((line) => line.startsWith('*'));
  assert.ok(defaultLine?.endsWith(`[grub: ${savedId}]`), defaultLine);
});

test('reboot --dry-run loads nothing and shows the default entry with every check passed', async (t) => {
  const cache = bootcfgCache(t);
  if (!cache || process.arch !== 'x64') return;
  const dry = await run('reboot', '--dry-run', '--root', cache.blsRoot, '--json');
  assert.equal(dry.exitCode, DRY_RUN_EXIT, dry.err || dry.out);
  const json = JSON.parse(dry.out) as Record<string, any>;
  assert.equal(json.dryRun, true);
  assert.equal(json.ok, DRY_RUN_EXIT === ExitCode.OK);
  // Where the kernel cannot kexec, the dry run says so, in status's words, instead of "All checks passed".
  if (DRY_RUN_EXIT !== ExitCode.OK) {
    assert.equal(json.error.code, 'MACHINE_CANNOT_KEXEC');
    assert.ok(DRY_RUN_BLOCKERS.every((blocker) => (json.error.message as string).includes(blocker)), json.error.message);
  }
  // The BLS entry with "+0" tries left is bad and sorts last; the other one is the default.
  assert.doesNotMatch(json.entry.id, /\+0/);
  assert.match(json.kernel.path, /\/linux$/);
  assert.match(json.cmdline, new RegExp(cache.manifest.machineId));
  // What the purgatory will checksum at the jump: the kernel and initrd as loaded, and the command line.
  assert.equal(json.checksummedBytes, json.kernel.sizeBytes + (json.initrd?.sizeBytes ?? 0) + Buffer.byteLength(json.cmdline) + 1);
  const text = await run('reboot', '--dry-run', '--root', cache.blsRoot);
  assert.match(text.out, /^ {2}jump {5}the purgatory checks \d+(\.\d)? MiB with SHA-256 before the new kernel runs/m);
  const withAppend = JSON.parse((await run('reboot', '--dry-run', '--root', cache.blsRoot, '--append', 'kexec_ts.extra=1', '--json')).out) as Record<string, any>;
  assert.equal(withAppend.cmdline, `${json.cmdline} kexec_ts.extra=1`);
});

test('an ESP with a real UKI in EFI/Linux: list shows it as a Type #2 entry and reboot --dry-run unpacks it', async (t) => {
  const uki = readFixture(t, 'debianCloudUki');
  if (!uki || process.arch !== 'x64') return;
  const root = mkdtempSync(join(tmpdir(), 'kexec-ts-esp-root-'));
  mkdirSync(join(root, 'efi/EFI/Linux'), { recursive: true });
  copyFileSync(FIXTURES.debianCloudUki(), join(root, 'efi/EFI/Linux/debian-6.1.efi'));
  const listed = JSON.parse((await run('list', '--root', root, '--json')).out) as Record<string, any>;
  const ukiEntry = (listed.entries as Array<Record<string, any>>).find((entry) => entry.origin === 'uki');
  assert.equal(ukiEntry?.title, 'Debian GNU/Linux 12 (bookworm)');
  const dry = await run('reboot', '--dry-run', '--root', root, 'debian-6.1.efi');
  assert.equal(dry.exitCode, DRY_RUN_EXIT, dry.err);
  assert.match(dry.out, DRY_RUN_EXIT === ExitCode.OK ? /All checks passed/ : /The files check out/);
  if (DRY_RUN_EXIT !== ExitCode.OK) assert.match(dry.err, /kexec is not possible on this machine/);
  assert.match(dry.out, /Would reboot into: Debian GNU\/Linux 12 \(bookworm\)/);
  assert.match(dry.out, /note +unpacked the Unified Kernel Image/);
  assert.match(dry.out, /cmdline +console=ttyS0 panic=-1 kexec_ts\.fixture=uki/);
});

test('a machine with nothing to boot says so: list exits 0, reboot refuses with NO_BOOT_ENTRY', async () => {
  const empty = mkdtempSync(join(tmpdir(), 'kexec-ts-empty-root-'));
  const listed = await run('list', '--root', empty);
  assert.equal(listed.exitCode, ExitCode.OK);
  assert.match(listed.out, /No boot entries found/);
  const reboot = await run('reboot', '--dry-run', '--root', empty, '--json');
  assert.equal(reboot.exitCode, ExitCode.INPUT_REJECTED);
  assert.equal(JSON.parse(reboot.out).error.code, 'NO_BOOT_ENTRY');
});

test('list --iso and reboot --dry-run --iso read the netboot image in place and extract its kernel', async (t) => {
  const { existsSync } = await import('node:fs');
  const { kexecTsCacheDir } = await import('../vm/fixtures.js');
  const iso = join(kexecTsCacheDir(), 'iso', 'netboot-grub-rescue.iso');
  if (!existsSync(iso) || process.arch !== 'x64') {
    if (process.env.CI === 'true') assert.fail(`fixture missing: ${iso}`);
    return t.skip(`fixture missing: ${iso}`);
  }
  const empty = mkdtempSync(join(tmpdir(), 'kexec-ts-empty-root-'));
  const listed = JSON.parse((await run('list', '--root', empty, '--iso', iso, '--json')).out) as Record<string, any>;
  const entries = listed.entries as Array<Record<string, any>>;
  assert.ok(entries.length > 0);
  assert.ok(entries.every((entry) => entry.iso?.imageFile === iso));
  assert.ok(entries.some((entry) => (entry.cmdline as string).includes(`iso-scan/filename=`)), 'the loopback entries carry iso-scan/filename');
  const dry = JSON.parse((await run('reboot', '--dry-run', '--iso', iso, '--json')).out) as Record<string, any>;
  assert.equal(dry.dryRun, true);
  assert.equal(dry.kernel.path, '/debian-installer/amd64/linux');
  assert.match(dry.kernel.realPath, /^memfd:kexec-ts-kernel \(\/debian-installer\/amd64\/linux in the ISO image\)/);
  assert.ok(dry.kernel.sizeBytes > 1_000_000);
});

test("another system's bare /boot: list says its command line is not known, reboot refuses without --append or --reuse-cmdline", async (t) => {
  const kernel = readFixture(t, 'debianCloudAmd64Vmlinuz');
  const initrd = readFixture(t, 'ukiInitrd');
  if (!kernel || !initrd || process.arch !== 'x64') return;
  const root = mkdtempSync(join(tmpdir(), 'kexec-ts-bare-boot-'));
  mkdirSync(join(root, 'boot'));
  copyFileSync(FIXTURES.debianCloudAmd64Vmlinuz(), join(root, 'boot/vmlinuz-6.1.0-99-cloud-amd64'));
  copyFileSync(FIXTURES.ukiInitrd(), join(root, 'boot/initrd.img-6.1.0-99-cloud-amd64'));
  const listed = await run('list', '--root', root);
  assert.match(listed.out, /cmdline \(not known: .*--append or --reuse-cmdline\)/);
  const refused = await run('reboot', '--dry-run', '--root', root, '--json');
  assert.equal(refused.exitCode, ExitCode.INPUT_REJECTED, refused.out);
  assert.equal(JSON.parse(refused.out).error.code, 'CMDLINE_MISSING');
  const given = await run('reboot', '--dry-run', '--root', root, '--append', 'root=/dev/vda1 ro', '--json');
  assert.equal(given.exitCode, DRY_RUN_EXIT, given.out);
  assert.equal(JSON.parse(given.out).cmdline, 'root=/dev/vda1 ro');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ParseError } from '../../src/errors.js';
import { parseAuthenticode } from '../../src/image/pe/index.js';
import { combineUkiCmdline, parseAddon, parseUki, probeUki } from '../../src/image/uki/index.js';
import { readFixture } from './image-fixtures.js';
import { readUkiFixture } from './uki-fixtures.js';
import { appendSections, withSectionField } from './synthetic-pe.js';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const text = (value: string) => new TextEncoder().encode(value);
const BUILT_CMDLINE = 'console=ttyS0 panic=-1 kexec_ts.fixture=uki';

test('the UKI built from Debian\'s systemd-stub holds exactly the kernel, initrd, cmdline and os-release put in', (t) => {
  const fixture = readUkiFixture(t);
  if (!fixture) return;
  assert.equal(probeUki(fixture.uki), true);
  const uki = parseUki(fixture.uki);
  assert.equal(uki.pe.machineName, 'x86_64');
  assert.equal(uki.pe.subsystemName, 'EFI application');
  assert.equal(sha256(uki.linux), fixture.manifest.vmlinuzSha256, '.linux is the Debian vmlinuz, byte for byte');
  assert.deepEqual(uki.initrd, fixture.initrd);
  assert.equal(fixture.cmdlineFile, `${BUILT_CMDLINE}\n`);
  assert.equal(uki.cmdline, BUILT_CMDLINE, 'the trailing newline is not part of the command line');
  assert.equal(uki.osRelease?.fields.ID, 'debian');
  assert.equal(uki.osRelease?.fields.VERSION_ID, '12');
  assert.equal(uki.osRelease?.fields.PRETTY_NAME, 'Debian GNU/Linux 12 (bookworm)');
  assert.equal(uki.osRelease?.fields.IMAGE_ID, 'kexec-ts test UKI');
  assert.equal(uki.osRelease?.fields.IMAGE_VERSION, '1 "quoted" $HOME');
  assert.deepEqual(uki.osRelease?.warnings, []);
  assert.equal(uki.uname, fixture.manifest.uname);
  assert.match(uki.uname ?? '', /^\d+\.\d+\.\d+-\d+-cloud-amd64$/);
  assert.match(uki.sbat ?? '', /^sbat,1,/, "the stub's own .sbat");
  assert.deepEqual(uki.profiles, []);
  assert.deepEqual(uki.dtb, []);
  assert.deepEqual(uki.warnings, []);
});

test('UKI sections come in section-table order, sized by VirtualSize rather than the padded SizeOfRawData', (t) => {
  const fixture = readUkiFixture(t);
  if (!fixture) return;
  const uki = parseUki(fixture.uki);
  // The stub brings .sbat; objcopy appended the rest in the order given.
  assert.deepEqual(uki.sections.map((section) => section.name), ['.sbat', '.osrel', '.cmdline', '.uname', '.initrd', '.linux']);
  const indexes = uki.sections.map((section) => section.index);
  assert.deepEqual(indexes, [...indexes].sort((left, right) => left - right));
  const cmdline = uki.sections.find((section) => section.name === '.cmdline');
  assert.ok(cmdline);
  assert.equal(cmdline.VirtualSize, fixture.cmdlineFile.length);
  assert.equal(cmdline.SizeOfRawData, 512, 'padded to FileAlignment');
  assert.equal(cmdline.data.length, cmdline.VirtualSize);
  const osrel = uki.sections.find((section) => section.name === '.osrel');
  assert.equal(osrel?.data.length, fixture.osReleaseFile.length);
  const linux = uki.sections.find((section) => section.name === '.linux');
  assert.ok(linux && linux.SizeOfRawData > linux.VirtualSize && linux.data.length === linux.VirtualSize);
});

test("the kernel inside the UKI keeps Debian's valid signature; the UKI itself is unsigned", (t) => {
  const fixture = readUkiFixture(t);
  if (!fixture) return;
  const uki = parseUki(fixture.uki);
  const inner = parseAuthenticode(uki.linux);
  assert.equal(inner.status, 'signed');
  assert.equal(inner.signatures[0]?.digestMatches, true);
  assert.equal(parseAuthenticode(fixture.uki, uki.pe).status, 'unsigned');
});

test('a VirtualSize larger than SizeOfRawData: the on-disk bytes, a warning, no zero-filled allocation', (t) => {
  const fixture = readUkiFixture(t);
  if (!fixture) return;
  const lying = withSectionField(fixture.uki, '.cmdline', 'VirtualSize', 0xfffffff0);
  const uki = parseUki(lying);
  const cmdline = uki.sections.find((section) => section.name === '.cmdline');
  assert.equal(cmdline?.data.length, 512);
  assert.equal(uki.cmdline, BUILT_CMDLINE, 'text ends at the first NUL, as the stub reads it');
  assert.deepEqual(uki.warnings.map((warning) => warning.code), ['SECTION_ZERO_FILLED']);
  // A section whose raw data lies outside the file is a truncation, named.
  const outside = withSectionField(fixture.uki, '.initrd', 'PointerToRawData', fixture.uki.length - 16);
  assert.throws(() => parseUki(outside), (error: unknown) => error instanceof ParseError && error.code === 'FORMAT_TRUNCATED' && /\.initrd/.test(error.message));
});

test('probeUki: a PE with .linux; the plain kernel, the bare stub and non-PE bytes are not UKIs', (t) => {
  assert.equal(probeUki(new Uint8Array(64)), false);
  const fixture = readUkiFixture(t);
  if (!fixture) return;
  assert.equal(probeUki(fixture.stub), false);
  assert.equal(probeUki(fixture.uki.subarray(0, 4096)), true, 'the section table is in the headers');
  const vmlinuz = readFixture(t, 'debianCloudAmd64Vmlinuz');
  if (!vmlinuz) return;
  assert.equal(probeUki(vmlinuz), false);
  assert.throws(() => parseUki(fixture.stub), (error: unknown) => error instanceof ParseError && error.code === 'FORMAT_UNRECOGNIZED');
});

test('PE addons: each .cmdline read as the stub reads it; an addon is not a UKI and a UKI is not an addon', (t) => {
  const fixture = readUkiFixture(t);
  if (!fixture) return;
  assert.deepEqual(fixture.addons.map((addon) => addon.fileName), ['10-console.addon.efi', '50-debug.addon.efi']);
  const [console, debug] = fixture.addons.map((addon) => parseAddon(addon.bytes));
  assert.equal(console?.cmdline, 'loglevel=7 ignore_loglevel', 'leading and trailing blanks dropped');
  assert.equal(debug?.cmdline, 'debug', 'trailing newline dropped');
  assert.equal(probeUki(fixture.addons[0]!.bytes), false);
  assert.throws(() => parseAddon(fixture.uki), (error: unknown) => error instanceof ParseError && error.code === 'FORMAT_INVALID' && /\.linux/.test(error.message));
  assert.throws(() => parseAddon(fixture.stub), (error: unknown) => error instanceof ParseError && error.code === 'FORMAT_INVALID');
});

test("addon command lines follow the UKI's, in file-name order, global addons first; ignored addons say why", (t) => {
  const fixture = readUkiFixture(t);
  if (!fixture) return;
  const uki = parseUki(fixture.uki);
  const reversed = [...fixture.addons].reverse();
  assert.deepEqual(combineUkiCmdline(uki, reversed), {
    cmdline: `${BUILT_CMDLINE} loglevel=7 ignore_loglevel debug`,
    applied: ['10-console.addon.efi', '50-debug.addon.efi'],
    skipped: [],
  });
  // ESP/loader/addons/ are applied before <uki>.extra.d/, whatever their names.
  const [consoleAddon, debugAddon] = fixture.addons;
  assert.equal(combineUkiCmdline(uki, [consoleAddon!], [debugAddon!]).cmdline, `${BUILT_CMDLINE} debug loglevel=7 ignore_loglevel`);
  const result = combineUkiCmdline(uki, [
    { fileName: 'notes.txt', bytes: debugAddon!.bytes },
    { fileName: 'kernel.addon.efi', bytes: fixture.uki },
    { fileName: 'other-uname.addon.efi', bytes: appendSections(fixture.addons[0]!.bytes, [{ name: '.uname', data: text('0.0.0-other') }]) },
  ]);
  assert.equal(result.cmdline, BUILT_CMDLINE);
  assert.deepEqual(result.skipped.map((skip) => skip.fileName), ['kernel.addon.efi', 'notes.txt', 'other-uname.addon.efi']);
  assert.match(result.skipped[0]!.reason, /\.linux/);
  assert.match(result.skipped[2]!.reason, /\.uname/);
});

// Debian 12's systemd (252) predates multi-profile UKIs (systemd 257), so no packaged tool
// builds one: these are the real UKI with .profile sections appended, as ukify would add them.
function multiProfileUki(ukiBytes: Uint8Array): Uint8Array {
  return appendSections(ukiBytes, [
    { name: '.profile', data: text('ID=regular\nTITLE="Regular boot"\n') },
    { name: '.profile', data: text('ID=factory-reset\nTITLE="Reset Device to Factory Defaults"\n') },
    { name: '.cmdline', data: text('quiet systemd.unit=factory-reset.target\n') },
    { name: '.profile', data: text('ID=storagetm\nTITLE="Boot into Storage Target Mode"\n') },
    { name: '.cmdline', data: text('quiet rd.systemd.unit=storage-target-mode.target') },
    { name: '.osrel', data: text('ID=storagetm-os\n') },
  ]);
}

test('multi-profile UKI (synthetic, from the real one): a profile overrides base sections of the same name', (t) => {
  const fixture = readUkiFixture(t);
  if (!fixture) return;
  const bytes = multiProfileUki(fixture.uki);
  const byDefault = parseUki(bytes);
  assert.equal(byDefault.selectedProfile, 0);
  assert.deepEqual(byDefault.profiles.map((profile) => [profile.number, profile.id, profile.title]), [
    [0, 'regular', 'Regular boot'],
    [1, 'factory-reset', 'Reset Device to Factory Defaults'],
    [2, 'storagetm', 'Boot into Storage Target Mode'],
  ]);
  assert.equal(byDefault.cmdline, BUILT_CMDLINE, '@0 has no .cmdline of its own: the base one applies');

  const factoryReset = parseUki(bytes, { profile: 1 });
  assert.equal(factoryReset.cmdline, 'quiet systemd.unit=factory-reset.target');
  assert.equal(factoryReset.osRelease?.fields.ID, 'debian', 'not overridden: from the base');
  assert.equal(sha256(factoryReset.linux), fixture.manifest.vmlinuzSha256);

  const storage = parseUki(bytes, { profile: 2 });
  assert.equal(storage.cmdline, 'quiet rd.systemd.unit=storage-target-mode.target');
  assert.equal(storage.osRelease?.fields.ID, 'storagetm-os');
  assert.equal(storage.sections.filter((section) => section.name === '.cmdline').length, 1);
  assert.deepEqual(storage.profiles[2]?.sections.map((section) => section.name), ['.cmdline', '.osrel']);

  assert.throws(() => parseUki(bytes, { profile: 3 }), (error: unknown) => error instanceof ParseError && error.code === 'FORMAT_INVALID' && /@3/.test(error.message));
  // A UKI without profiles still answers @0 (systemd-stub: "the first profile is implied"), but no other.
  assert.equal(parseUki(fixture.uki, { profile: 0 }).cmdline, BUILT_CMDLINE);
  assert.throws(() => parseUki(fixture.uki, { profile: 1 }), ParseError);
});

test('a section repeated within one profile: the first wins, as in systemd-stub, with a warning (synthetic)', (t) => {
  const fixture = readUkiFixture(t);
  if (!fixture) return;
  const doubled = appendSections(fixture.uki, [
    { name: '.cmdline', data: text('second') },
    { name: '.dtb', data: new Uint8Array([0xd0, 0x0d, 0xfe, 0xed]) },
    { name: '.dtb', data: new Uint8Array([0xd0, 0x0d, 0xfe, 0xed, 0]) },
  ]);
  const uki = parseUki(doubled);
  assert.equal(uki.cmdline, BUILT_CMDLINE);
  assert.deepEqual(uki.warnings.map((warning) => [warning.code, warning.detail]), [['DUPLICATE_SECTION', '.cmdline']]);
  assert.deepEqual(uki.dtb.map((dtb) => dtb.length), [4, 5], '.dtb may repeat');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBootEntry } from '../../src/bootcfg/select.js';
import { ukiBootEntries } from '../../src/bootcfg/uki-entries.js';
import type { BootEntry } from '../../src/bootcfg/types.js';
import { KexecError } from '../../src/errors.js';
import { readFixture } from '../image/image-fixtures.js';

function entry(id: string, title: string, isDefault = false): BootEntry {
  return { id, title, initrds: [], cmdline: '', source: { file: 'x', line: 1 }, isDefault, origin: 'grub', pathBases: [] };
}

const entries = [entry('debian', 'Debian GNU/Linux'), entry('advanced-56', 'Debian, Linux 6.1.0-56'), entry('advanced-55', 'Debian, Linux 6.1.0-55', true), entry('recovery-55', 'Debian, Linux 6.1.0-55 (recovery)')];

test('no query: the entry marked default, else the first', () => {
  assert.equal(selectBootEntry(entries).id, 'advanced-55');
  assert.equal(selectBootEntry(entries.map((e) => ({ ...e, isDefault: false }))).id, 'debian');
});

test('an exact id wins over a title, a title over an index, an index over a glob', () => {
  assert.equal(selectBootEntry(entries, 'recovery-55').id, 'recovery-55');
  assert.equal(selectBootEntry(entries, 'Debian GNU/Linux').id, 'debian');
  assert.equal(selectBootEntry(entries, '1').id, 'advanced-56');
  assert.equal(selectBootEntry(entries, '*recovery*').id, 'recovery-55');
  // An id that looks like an index is still an id first.
  assert.equal(selectBootEntry([entry('0', 'zero'), entry('x', 'first')], '0').id, '0');
});

test('a glob matching several entries, or none, is refused with the list', () => {
  assert.throws(() => selectBootEntry(entries, 'advanced-*'), (error: unknown) => {
    assert.ok(error instanceof KexecError);
    assert.equal(error.code, 'NO_BOOT_ENTRY');
    assert.match(error.message, /matches 2 entries: 1: .*; 2: /);
    return true;
  });
  assert.throws(() => selectBootEntry(entries, 'fedora'), /No boot entry matches 'fedora'/);
  assert.throws(() => selectBootEntry([], undefined), /No boot entries were found/);
});

test('BLS Type #2: a real UKI becomes an entry titled from .osrel, with its .cmdline and .uname', (t) => {
  const uki = readFixture(t, 'debianCloudUki');
  if (!uki) return;
  const [ukiEntry, broken] = ukiBootEntries([
    { path: '/efi/EFI/Linux/zz-not-a-uki.efi', bytes: Buffer.from('MZ nonsense') },
    { path: '/efi/EFI/Linux/debian.efi', bytes: uki },
  ]);
  assert.equal(ukiEntry!.title, 'Debian GNU/Linux 12 (bookworm)');
  // The fixture's os-release sets IMAGE_VERSION (with shell quoting), which wins over VERSION_ID.
  assert.equal(ukiEntry!.version, '1 "quoted" $HOME');
  assert.match(ukiEntry!.cmdline, /kexec_ts\.fixture=uki/);
  assert.equal(ukiEntry!.kernel, '/efi/EFI/Linux/debian.efi');
  assert.equal(ukiEntry!.origin, 'uki');
  assert.equal(broken!.unbootableReason?.code, 'NO_KERNEL');
  assert.match(broken!.unbootableReason!.message, /not a Unified Kernel Image/);
});

test('Type #2 entries are ordered newest version first', () => {
  // No UKI bytes needed for the order itself: unparsable files keep their ids and sort by name.
  const sorted = ukiBootEntries([{ path: '/b.efi', bytes: new Uint8Array() }, { path: '/a.efi', bytes: new Uint8Array() }]);
  assert.deepEqual(sorted.map((e) => e.id), ['a.efi', 'b.efi']);
});

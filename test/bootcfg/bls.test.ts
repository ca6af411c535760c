import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseBlsEntry, splitBootCounting } from '../../src/bootcfg/bls/entry.js';
import { parseLoaderConf } from '../../src/bootcfg/bls/loader-conf.js';
import { readBlsConfig } from '../../src/bootcfg/bls/read.js';
import { chooseBlsDefault, compareBlsEntries, sortBlsEntries } from '../../src/bootcfg/bls/sort.js';
import { memoryBootFileReader } from '../../src/bootcfg/types.js';
import { createRootedReader, readBootConfig } from '../../src/bootcfg/resolve.js';
import { bootcfgCache, committedFixture } from './fixtures.js';

const ENTRIES = '/boot/loader/entries';

function entry(fileName: string, text: string) {
  return parseBlsEntry(text, `${ENTRIES}/${fileName}`);
}

function order(...entries: ReturnType<typeof entry>[]): string[] {
  return sortBlsEntries(entries).map((sorted) => sorted.fileName);
}

test('every key of the spec is read; repeated initrd, options and extra lines are kept in order', () => {
  const parsed = entry('a.conf', [
    '# comment',
    'title      Fedora 19 (Rawhide)',
    'sort-key   fedora',
    'machine-id 6a9857a393724b7a981ebb5b8495b9ea',
    'version    3.8.0-2.fc19.x86_64',
    'options    root=UUID=6d3376e4 quiet',
    'options    rd.luks=0',
    'architecture x64',
    'linux      /6a98/3.8.0-2.fc19.x86_64/linux',
    'initrd     /6a98/3.8.0-2.fc19.x86_64/microcode',
    'initrd     /6a98/3.8.0-2.fc19.x86_64/initrd',
    'devicetree /6a98/tegra20-paz00.dtb',
    'devicetree-overlay /o/A.dtbo /o/B.dtbo',
    'extra      /6a98/extra-1',
    'extra      /6a98/extra-2',
    'efi        /EFI/x.efi',
  ].join('\n'));
  assert.equal(parsed.title, 'Fedora 19 (Rawhide)');
  assert.equal(parsed.sortKey, 'fedora');
  assert.equal(parsed.machineId, '6a9857a393724b7a981ebb5b8495b9ea');
  assert.equal(parsed.version, '3.8.0-2.fc19.x86_64');
  assert.equal(parsed.architecture, 'x64');
  assert.equal(parsed.linux, '/6a98/3.8.0-2.fc19.x86_64/linux');
  assert.equal(parsed.efi, '/EFI/x.efi');
  assert.deepEqual(parsed.initrds, ['/6a98/3.8.0-2.fc19.x86_64/microcode', '/6a98/3.8.0-2.fc19.x86_64/initrd']);
  assert.deepEqual(parsed.options, ['root=UUID=6d3376e4 quiet', 'rd.luks=0']);
  assert.deepEqual(parsed.extras, ['/6a98/extra-1', '/6a98/extra-2']);
  assert.deepEqual(parsed.devicetreeOverlays, ['/o/A.dtbo', '/o/B.dtbo']);
  assert.equal(parsed.devicetree, '/6a98/tegra20-paz00.dtb');
  assert.deepEqual(parsed.warnings, []);
  assert.equal(parsed.lineOf.linux, 9);
});

test('unknown keys are notices with file:line, a repeated single key warns and the last wins', () => {
  const parsed = entry('a.conf', 'title A\nfrobnicate yes\ntitle B\nlinux /vmlinuz\n');
  assert.equal(parsed.title, 'B');
  assert.deepEqual(parsed.warnings.map((warning) => [warning.code, warning.line, warning.file]), [
    ['UNKNOWN_KEY', 2, `${ENTRIES}/a.conf`],
    ['DUPLICATE_KEY', 3, `${ENTRIES}/a.conf`],
  ]);
});

test('an entry without linux or efi is reported', () => {
  const parsed = entry('a.conf', 'title A\n');
  assert.equal(parsed.warnings[0]?.code, 'MISSING_VALUE');
});

test('boot counting: +LEFT and +LEFT-DONE are read from the file name and removed from the id', () => {
  assert.deepEqual(splitBootCounting('x-6.1+3.conf'), { id: 'x-6.1.conf', bootCounting: { triesLeft: 3, triesDone: 0 } });
  assert.deepEqual(splitBootCounting('x-6.1+0-5.conf'), { id: 'x-6.1.conf', bootCounting: { triesLeft: 0, triesDone: 5 } });
  // Not immediately before the suffix: part of the name.
  assert.deepEqual(splitBootCounting('x+3-6.1.conf'), { id: 'x+3-6.1.conf' });
  assert.deepEqual(splitBootCounting('x+a.conf'), { id: 'x+a.conf' });
});

test('sort rule 1: bad entries (tries left 0) after all others, whatever their version', () => {
  const bad = entry('z-9.conf', 'sort-key a\nversion 9\nlinux /l\n');
  const badCounted = entry('z-9+0-3.conf', 'sort-key a\nversion 9\nlinux /l\n');
  const good = entry('a-1.conf', 'sort-key a\nversion 1\nlinux /l\n');
  const indeterminate = entry('b-1+2.conf', 'sort-key b\nversion 1\nlinux /l\n');
  assert.deepEqual(order(badCounted, good, indeterminate), ['a-1.conf', 'b-1+2.conf', 'z-9+0-3.conf']);
  assert.deepEqual(order(bad, good), ['z-9.conf', 'a-1.conf']);
});

test('sort rule 2a: with sort-key on both, sort-key ascending decides first', () => {
  const fedora = entry('f.conf', 'sort-key fedora\nversion 1\nlinux /l\n');
  const debian = entry('d.conf', 'sort-key debian\nversion 9\nlinux /l\n');
  assert.deepEqual(order(fedora, debian), ['d.conf', 'f.conf']);
});

test('sort rule 2b: then machine-id ascending', () => {
  const second = entry('x.conf', 'sort-key k\nmachine-id bbbb\nversion 9\nlinux /l\n');
  const first = entry('y.conf', 'sort-key k\nmachine-id aaaa\nversion 1\nlinux /l\n');
  assert.deepEqual(order(second, first), ['y.conf', 'x.conf']);
});

test('sort rule 2c: then version descending, by the UAPI version order (10 after 9)', () => {
  const older = entry('a.conf', 'sort-key k\nmachine-id m\nversion 6.1.0-9-amd64\nlinux /l\n');
  const newer = entry('b.conf', 'sort-key k\nmachine-id m\nversion 6.1.0-26-amd64\nlinux /l\n');
  assert.deepEqual(order(older, newer), ['b.conf', 'a.conf']);
});

test('sort rule 3: an entry with a sort-key before one without', () => {
  const keyed = entry('a.conf', 'sort-key zzz\nversion 1\nlinux /l\n');
  const unkeyed = entry('z-99.conf', 'version 99\nlinux /l\n');
  assert.deepEqual(order(unkeyed, keyed), ['a.conf', 'z-99.conf']);
});

test('sort rule 4: otherwise the file name without .conf, in decreasing version order', () => {
  const a = entry('linux-6.1.10.conf', 'linux /l\n');
  const b = entry('linux-6.1.9.conf', 'linux /l\n');
  const c = entry('linux-6.1.10~rc1.conf', 'linux /l\n');
  assert.deepEqual(order(b, c, a), ['linux-6.1.10.conf', 'linux-6.1.10~rc1.conf', 'linux-6.1.9.conf']);
  // Equal sort-key, machine-id and version fall through to the file name too.
  const x = entry('m-1.conf', 'sort-key k\nversion 1\nlinux /l\n');
  const y = entry('m-2.conf', 'sort-key k\nversion 1\nlinux /l\n');
  assert.ok(compareBlsEntries(y, x) < 0);
});

test('systemd test-bootspec sort case: the spec order over six entries', () => {
  const entries = [
    entry('a-10.conf', 'title A\nversion 10\nmachine-id dd235d00696545768f6f693bfd23b15f\nlinux /l\n'),
    entry('a-5.conf', 'title A\nversion 5\nmachine-id dd235d00696545768f6f693bfd23b15f\nlinux /l\n'),
    entry('b.conf', 'title B\nversion 3\nmachine-id b75451ad92f94feeab50b0b442768dbd\nlinux /l\n'),
    entry('c.conf', 'title C\nsort-key xxxx\nversion 5\nmachine-id 309de666fd5044268a9a26541ac93176\nlinux /l\n'),
    entry('cx.conf', 'title C\nsort-key xxxx\nversion 10\nmachine-id 309de666fd5044268a9a26541ac93176\nlinux /l\n'),
    entry('d.conf', 'title D\nsort-key kkkk\nversion 100\nmachine-id 81c6e3147cf544c19006af023e22b292\nlinux /l\n'),
  ];
  assert.deepEqual(order(...entries), ['d.conf', 'cx.conf', 'c.conf', 'b.conf', 'a-10.conf', 'a-5.conf']);
});

test('default: an override beats loader.conf, which beats the first entry; globs and ids with or without .conf', () => {
  const sorted = sortBlsEntries([
    entry('debian-6.1.0-26.conf', 'version 6.1.0-26\nlinux /l\n'),
    entry('debian-6.1.0-9.conf', 'version 6.1.0-9\nlinux /l\n'),
    entry('arch.conf', 'linux /l\n'),
  ]);
  assert.deepEqual(sorted.map((e) => e.id), ['debian-6.1.0-26.conf', 'debian-6.1.0-9.conf', 'arch.conf']);
  assert.deepEqual(chooseBlsDefault(sorted, {}), { index: 0, rule: 'first', unmatched: [] });
  assert.equal(chooseBlsDefault(sorted, { configured: 'arch.conf' }).index, 2);
  assert.equal(chooseBlsDefault(sorted, { configured: 'arch' }).index, 2);
  // A glob matching several entries picks the first in sort order (the newest).
  assert.equal(chooseBlsDefault(sorted, { configured: 'debian-*' }).index, 0);
  assert.equal(chooseBlsDefault(sorted, { configured: 'DEBIAN-6.1.0-9*' }).index, 1);
  const overridden = chooseBlsDefault(sorted, { override: 'arch*', configured: 'debian-*' });
  assert.deepEqual([overridden.index, overridden.rule], [2, 'override']);
  const unmatched = chooseBlsDefault(sorted, { override: 'nope', configured: 'debian-6.1.0-9*' });
  assert.deepEqual([unmatched.index, unmatched.rule, unmatched.unmatched], [1, 'loader.conf', ['nope']]);
  assert.equal(chooseBlsDefault(sorted, { configured: '@saved', savedEntryId: 'arch.conf' }).index, 2);
  assert.equal(chooseBlsDefault(sorted, { configured: '@saved' }).index, 0);
});

test('loader.conf: default is read, display keys are known, others are warnings', () => {
  const conf = parseLoaderConf('timeout 3\n#console-mode keep\ndefault  debian-*\nbogus 1\n', '/boot/loader/loader.conf');
  assert.equal(conf.default, 'debian-*');
  assert.equal(conf.defaultLine, 3);
  assert.deepEqual(conf.warnings.map((warning) => [warning.code, warning.line]), [['UNKNOWN_KEY', 4]]);
});

test('readBlsConfig merges partitions, sorts, marks the default and joins options', () => {
  const reader = memoryBootFileReader({
    '/efi/loader/loader.conf': 'default old*\n',
    '/efi/loader/entries/old.conf': 'title Old\nversion 1\nlinux /old/linux\noptions a\noptions b\n',
    '/boot/loader/entries/new.conf': 'title New\nversion 2\nlinux /new/linux\ninitrd /new/i1\ninitrd /new/i2\n',
    '/boot/loader/entries/notes.txt': 'ignored',
  });
  const config = readBlsConfig(reader, { partitionRoots: ['/boot', '/efi'] });
  assert.deepEqual(config.entries.map((e) => e.id), ['old.conf', 'new.conf']);
  assert.equal(config.defaultId, 'old.conf');
  const [old, fresh] = config.entries;
  assert.equal(old!.cmdline, 'a b');
  assert.deepEqual(fresh!.initrds, ['/new/i1', '/new/i2']);
  assert.deepEqual(old!.pathBases, ['/efi', '/']);
  assert.deepEqual(fresh!.pathBases, ['/boot', '/']);
  assert.equal(old!.origin, 'bls');
});

test('an efi-only entry is marked unbootable by kexec', () => {
  const config = readBlsConfig(memoryBootFileReader({ [`${ENTRIES}/w.conf`]: 'title Windows\nefi /EFI/Microsoft/Boot/bootmgfw.efi\n' }));
  assert.equal(config.entries[0]!.unbootableReason?.code, 'CHAINLOADER');
});

test('kernel-install output (committed copy): the bad newer entry sorts last, the older one is the default', () => {
  const reader = createRootedReader(committedFixture('debian-kernel-install'));
  const config = readBlsConfig(reader);
  const ids = config.entries.map((e) => e.id);
  assert.deepEqual(ids, ['4b2c81e0f1d94f3a9a5e0c7d2f6b8a13-6.1.0-55-cloud-amd64.conf', '4b2c81e0f1d94f3a9a5e0c7d2f6b8a13-6.1.0-56-cloud-amd64.conf']);
  assert.deepEqual(config.entries[1]!.bootCounting, { triesLeft: 0, triesDone: 0 });
  assert.equal(config.defaultId, ids[0]);
  assert.equal(config.entries[0]!.sortKey, 'debian');
  assert.match(config.entries[0]!.cmdline, /^root=UUID=0f3e1c52-\S+ ro console=ttyS0 systemd\.machine_id=4b2c81e0f1d94f3a9a5e0c7d2f6b8a13$/);
  // Without the bad entry's counters the newer kernel would have won on version.
  assert.equal(readBlsConfig(reader, { defaultOverride: '*-6.1.0-56-*' }).defaultId, ids[1]);
});

test('kernel-install output (cache): every kernel and initrd resolves on the scratch $BOOT', (t) => {
  const cache = bootcfgCache(t);
  if (!cache) return;
  const config = readBootConfig(cache.blsRoot);
  assert.equal(config.loader, 'bls');
  const { older, newer } = cache.manifest.kernels;
  assert.deepEqual(config.entries.map((e) => e.version), [older.release, newer.release]);
  for (const resolved of config.entries) {
    assert.equal(resolved.unbootableReason, undefined, JSON.stringify(resolved.unbootableReason));
    assert.ok(resolved.kernelFile?.startsWith(cache.blsRoot));
  }
  assert.equal(config.entries[1]!.initrdFiles.length, 1);
});

// Property tests: real configurations mutated (lines dropped, duplicated and swapped, random
// characters, unbalanced quotes and braces, a line repeated thousands of times, deep nesting)
// must give a result or a typed error (ParseError, ConfigError), never another exception or a
// hang. Fixed seeds; KEXEC_TS_FUZZ_RUNS=N runs more by hand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { parseBlsEntry } from '../../src/bootcfg/bls/entry.js';
import { parseLoaderConf } from '../../src/bootcfg/bls/loader-conf.js';
import { readBlsConfig } from '../../src/bootcfg/bls/read.js';
import { distroBootEntries } from '../../src/bootcfg/distro/layout.js';
import { parseGrubenv } from '../../src/bootcfg/grub/grubenv.js';
import { parseGrubConfig } from '../../src/bootcfg/grub/read.js';
import { parseSyslinuxConfig } from '../../src/bootcfg/syslinux/parse.js';
import { memoryBootFileReader, type BootConfig } from '../../src/bootcfg/types.js';
import { ConfigError, ParseError } from '../../src/errors.js';
import { COMMITTED_FIXTURES } from './fixtures.js';

const RUNS = Number(process.env.KEXEC_TS_FUZZ_RUNS) || 150;

/** Every committed fixture file as reader path -> text, per fixture tree. */
function tree(name: string): Record<string, string> {
  const root = path.join(COMMITTED_FIXTURES, name);
  const files: Record<string, string> = {};
  for (const relative of fs.readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    const full = path.join(root, relative);
    if (fs.statSync(full).isFile()) files[`/${relative}`] = fs.readFileSync(full, 'utf8');
  }
  return files;
}

type Mutation =
  | { kind: 'drop' | 'duplicate'; at: number }
  | { kind: 'swap'; at: number; with: number }
  | { kind: 'insert'; at: number; column: number; text: string }
  | { kind: 'repeat'; at: number; times: number }
  | { kind: 'nest'; depth: number };

const SPECIAL_TEXT = fc.constantFrom("'", '"', '{', '}', '\\', '$', '${', ';', '#', '>', '\n', 'fi', 'if', 'menuentry', 'LABEL', 'MENU BEGIN', 'INCLUDE x', '\u0000', 'é');
const MUTATION: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('drop' as const, 'duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), with: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), column: fc.nat(), text: fc.oneof(SPECIAL_TEXT, fc.string({ maxLength: 8 })) }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), times: fc.integer({ min: 100, max: 3000 }) }),
  fc.record({ kind: fc.constant('nest' as const), depth: fc.integer({ min: 10, max: 200 }) }),
);

function mutate(text: string, mutations: Mutation[]): string {
  let lines = text.split('\n');
  for (const mutation of mutations) {
    if (lines.length === 0) lines = [''];
    switch (mutation.kind) {
      case 'drop':
        lines.splice(mutation.at % lines.length, 1);
        break;
      case 'duplicate': {
        const at = mutation.at % lines.length;
        lines.splice(at, 0, lines[at]!);
        break;
      }
      case 'swap': {
        const a = mutation.at % lines.length;
        const b = mutation.with % lines.length;
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
        break;
      }
      case 'insert': {
        const at = mutation.at % lines.length;
        const line = lines[at]!;
        const column = mutation.column % (line.length + 1);
        lines[at] = line.slice(0, column) + mutation.text + line.slice(column);
        break;
      }
      case 'repeat': {
        const at = mutation.at % lines.length;
        lines.splice(at, 0, ...Array.from({ length: mutation.times }, () => lines[at]!));
        break;
      }
      case 'nest':
        lines = [...Array.from({ length: mutation.depth }, () => 'if true; then\nsubmenu S {\nMENU BEGIN m'), ...lines];
        break;
    }
  }
  return lines.join('\n');
}

function expectResultOrTypedError(run: () => BootConfig | object): void {
  try {
    const result = run();
    if ('entries' in result) {
      const config = result as BootConfig;
      assert.ok(Array.isArray(config.entries) && Array.isArray(config.warnings));
      assert.ok(config.entries.filter((entry) => entry.isDefault).length <= 1);
    }
  } catch (error) {
    if (error instanceof ParseError || error instanceof ConfigError) return;
    throw error;
  }
}

const MUTATIONS = fc.array(MUTATION, { minLength: 1, maxLength: 6 });

test('GRUB: mutated real grub.cfg files give a menu or a typed error', () => {
  const sources = [
    ...Object.entries(tree('debian-grub-mkconfig')).filter(([file]) => file.endsWith('.cfg')),
    ['/debian-installer/amd64/grub/grub.cfg', tree('debian-netboot')['/debian-installer/amd64/grub/grub.cfg']!] as const,
    ['/boot/grub/grub.cfg', tree('grub-example')['/grub.cfg']!] as const,
  ];
  const files = tree('debian-grub-mkconfig');
  fc.assert(
    fc.property(fc.constantFrom(...sources), MUTATIONS, ([file, text], mutations) => {
      expectResultOrTypedError(() => parseGrubConfig(mutate(text, mutations), file, { reader: memoryBootFileReader(files) }));
    }),
    { numRuns: RUNS, seed: 20261123 },
  );
});

test('GRUB: arbitrary text and grubenv never throw anything untyped', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 200 }), (script, grubenv) => {
      expectResultOrTypedError(() => parseGrubConfig(`load_env\n${script}`, '/boot/grub/grub.cfg', { reader: memoryBootFileReader({ '/boot/grub/grubenv': grubenv }) }));
      parseGrubenv(grubenv, 'grubenv');
    }),
    { numRuns: RUNS * 4, seed: 7 },
  );
});

test('syslinux: the mutated netboot menu, with its includes mutated too, gives entries or a typed error', () => {
  const files = tree('debian-netboot');
  const names = Object.keys(files).filter((file) => file.endsWith('.cfg') || file.endsWith('default'));
  fc.assert(
    fc.property(fc.constantFrom(...names), MUTATIONS, (file, mutations) => {
      const mutated = { ...files, [file]: mutate(files[file]!, mutations) };
      expectResultOrTypedError(() => parseSyslinuxConfig(mutated['/pxelinux.cfg/default']!, '/pxelinux.cfg/default', { reader: memoryBootFileReader(mutated) }));
    }),
    { numRuns: RUNS, seed: 11 },
  );
});

test('BLS: mutated kernel-install entries and loader.conf give entries or a typed error', () => {
  const files = tree('debian-kernel-install');
  const names = Object.keys(files);
  fc.assert(
    fc.property(fc.constantFrom(...names), MUTATIONS, fc.string({ maxLength: 80 }), (file, mutations, loaderConf) => {
      const mutated = { ...files, [file]: mutate(files[file]!, mutations), '/boot/loader/loader.conf': loaderConf };
      expectResultOrTypedError(() => parseBlsEntry(mutated[file]!, file));
      expectResultOrTypedError(() => parseLoaderConf(loaderConf, '/boot/loader/loader.conf'));
      expectResultOrTypedError(() => readBlsConfig(memoryBootFileReader(mutated), { defaultOverride: loaderConf }));
    }),
    { numRuns: RUNS, seed: 5 },
  );
});

test('distro: arbitrary /boot listings and links give entries', () => {
  const name = fc.oneof(
    fc.string({ maxLength: 20 }),
    fc.string({ maxLength: 12 }).map((version) => `vmlinuz-${version}`),
    fc.string({ maxLength: 12 }).map((version) => `initrd.img-${version}`),
    fc.constantFrom('vmlinuz', 'vmlinuz.old', 'initrd.img', 'initrd.img.old'),
  );
  fc.assert(
    fc.property(fc.array(name, { maxLength: 30 }), fc.dictionary(fc.constantFrom('/vmlinuz', '/vmlinuz.old', '/boot/vmlinuz'), fc.string({ maxLength: 30 })), (files, symlinks) => {
      expectResultOrTypedError(() => distroBootEntries({ bootDir: '/boot', bootFiles: files, rootFiles: files, symlinks, procCmdline: files.join(' ') }));
    }),
    { numRuns: RUNS * 2, seed: 3 },
  );
});

test('hostile sizes: thousands of entries, deep nesting and self-inclusion stop at the limits', () => {
  const manyEntries = 'menuentry A { linux /a }\n'.repeat(5000);
  const grub = parseGrubConfig(manyEntries, '/boot/grub/grub.cfg');
  assert.equal(grub.entries.length, 1024);
  const deep = `${'if true; then '.repeat(500)}menuentry A { linux /a }${' fi'.repeat(500)}`;
  assert.ok(parseGrubConfig(deep, '/boot/grub/grub.cfg').warnings.some((warning) => warning.code === 'SYNTAX_ERROR'));
  const recursive = parseGrubConfig('function f { f }\nf\nmenuentry A { linux /a }', '/boot/grub/grub.cfg');
  assert.equal(recursive.entries.length, 1);
  const selfSource = parseGrubConfig('source /boot/grub/grub.cfg\nmenuentry A { linux /a }', '/boot/grub/grub.cfg', {
    reader: memoryBootFileReader({ '/boot/grub/grub.cfg': 'source /boot/grub/grub.cfg\nmenuentry A { linux /a }' }),
  });
  assert.ok(selfSource.warnings.some((warning) => warning.code === 'LIMIT_REACHED'));
  const labels = parseSyslinuxConfig('LABEL a\n LINUX /a\n'.repeat(3000), '/syslinux.cfg');
  assert.equal(labels.entries.length, 1024);
  assert.throws(() => parseGrubConfig('#'.repeat(2 << 20), '/boot/grub/grub.cfg'), ParseError);
});

// Which folder may import which, checked on the source itself: only src/syscall/linux.ts loads
// koffi; nothing below src/cli imports it; the parsers (image, devicetree, binary, bootcfg's
// readers) do no I/O, not even through what they import; the pure entry (src/index.ts) never
// reaches the FFI. A new arrow that breaks one fails here, naming the import.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../src');

/** Node modules that reach the machine: files, processes, the network, the host's identity. */
const MACHINE_MODULES = new Set(['node:fs', 'node:fs/promises', 'node:child_process', 'node:os', 'node:net', 'node:dgram', 'node:worker_threads', 'koffi']);

/** The files of the pure folders that are their doors to the machine, each for a stated reason. */
const DOORS: Readonly<Record<string, string>> = {
  'bootcfg/resolve.ts': 'reads a root directory for the pure boot-config readers',
  'bootcfg/machine.ts': 'reads the UKIs on an ESP and ISO files',
  'bootcfg/iso9660/file-source.ts': 'opens ISO image files',
  'bootcfg/disks/all-disks.ts': 'runs the disk reader in a child process',
  'bootcfg/disks/scan.ts': 'mounts and reads block devices (in that child)',
  'bootcfg/disks/child.ts': 'the child process itself',
  'binary/newc-writer.ts': 'archives host files into a cpio',
};
const PURE_FOLDERS = ['image', 'devicetree', 'binary', 'bootcfg'];

interface SourceFile {
  readonly relative: string;
  readonly imports: string[];
}

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? walk(full) : entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Static and dynamic imports and require() of string literals; relative ones resolved to src paths. */
function readSources(): Map<string, SourceFile> {
  const files = new Map<string, SourceFile>();
  for (const full of walk(SRC)) {
    const text = fs.readFileSync(full, 'utf8');
    const specifiers = [
      ...text.matchAll(/^\s*(?:import|export)\b[^'";]*?\bfrom\s+'([^']+)'/gm),
      ...text.matchAll(/^\s*import\s+'([^']+)'/gm),
      ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g),
      ...text.matchAll(/\brequire\(\s*'([^']+)'\s*\)/g),
    ].map((match) => match[1]!);
    const imports = specifiers.map((specifier) =>
      specifier.startsWith('.') ? path.relative(SRC, path.resolve(path.dirname(full), specifier)).replace(/\.js$/, '.ts') : specifier,
    );
    // Type-only imports vanish at build time: they are no arrow at run time.
    const typeOnly = new Set([...text.matchAll(/^\s*(?:import|export)\s+type\b[^'";]*?\bfrom\s+'([^']+)'/gm)].map((match) => match[1]!));
    files.set(path.relative(SRC, full), {
      relative: path.relative(SRC, full),
      imports: imports.filter((_, index) => !typeOnly.has(specifiers[index]!)),
    });
  }
  return files;
}

const sources = readSources();

/** Every file `start` reaches through run-time imports, with the chain that reached it. */
function reach(start: string): Map<string, string[]> {
  const chains = new Map<string, string[]>([[start, [start]]]);
  const queue = [start];
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const imported of sources.get(current)?.imports ?? []) {
      if (chains.has(imported)) continue;
      chains.set(imported, [...chains.get(current)!, imported]);
      if (sources.has(imported)) queue.push(imported);
    }
  }
  return chains;
}

test('the import walker sees the tree: every relative import names a file that exists', () => {
  assert.ok(sources.size > 150, `only ${sources.size} files under ${SRC}`);
  const dangling = [...sources.values()].flatMap((file) =>
    file.imports.filter((imported) => !/^(node:|koffi$|@|[a-z])/.test(imported) && !sources.has(imported)).map((imported) => `${file.relative} -> ${imported}`));
  assert.deepEqual(dangling, []);
});

test('only src/syscall/linux.ts loads koffi', () => {
  const loaders = [...sources.values()].filter((file) => file.imports.includes('koffi')).map((file) => file.relative);
  assert.deepEqual(loaders, ['syscall/linux.ts']);
});

test('nothing below src/cli imports from it', () => {
  const offenders = [...sources.values()].flatMap((file) =>
    file.relative.startsWith('cli/') ? [] : file.imports.filter((imported) => imported.startsWith('cli/')).map((imported) => `${file.relative} -> ${imported}`));
  assert.deepEqual(offenders, []);
});

test('the parsers reach no I/O: image, devicetree, binary and bootcfg import nothing that touches the machine, except their named doors', () => {
  const offenders: string[] = [];
  for (const file of sources.values()) {
    // index.ts files are barrels: they re-export the doors beside the parsers, and parse nothing.
    if (!PURE_FOLDERS.some((folder) => file.relative.startsWith(`${folder}/`)) || DOORS[file.relative] !== undefined || file.relative.endsWith('/index.ts')) continue;
    for (const [reached, chain] of reach(file.relative)) {
      if (MACHINE_MODULES.has(reached) || (DOORS[reached] !== undefined && reached !== file.relative)) offenders.push(chain.join(' -> '));
    }
  }
  assert.deepEqual(offenders, []);
});

test('the pure entry (src/index.ts) never reaches the FFI', () => {
  const reached = reach('index.ts');
  for (const forbidden of ['koffi', 'syscall/linux.ts']) {
    assert.equal(reached.get(forbidden), undefined, `index.ts reaches ${forbidden}: ${reached.get(forbidden)?.join(' -> ')}`);
  }
});

// `list` at scale: a /boot with 50 kernels (no loader config), a grub.cfg with 100 entries and
// a BLS directory with 50 entries, each grown from the real files grub-mkconfig and
// kernel-install wrote in the test fixtures (the entries are copies with other versions).
// Time and memory of the work after Node has started. Aim: under 50 ms.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMachineBootEntries } from '../src/bootcfg/machine.js';
import { kexecTsCacheDir } from '../test/vm/fixtures.js';
import { median } from './common.js';

const ROUNDS = 20;
const KERNELS = 50;

function release(index: number): string {
  return `6.1.0-${index}-cloud-amd64`;
}

function bootWithKernels(root: string): void {
  mkdirSync(join(root, 'boot'), { recursive: true });
  for (let index = 1; index <= KERNELS; index++) {
    writeFileSync(join(root, 'boot', `vmlinuz-${release(index)}`), 'kernel');
    writeFileSync(join(root, 'boot', `initrd.img-${release(index)}`), '070701');
    writeFileSync(join(root, 'boot', `config-${release(index)}`), '');
  }
}

/** The real grub.cfg with its "advanced" submenu grown to 100 entries (normal + recovery per kernel). */
function grubRoot(root: string, realGrubCfg: string): void {
  bootWithKernels(root);
  const submenuStart = realGrubCfg.indexOf('submenu ');
  const firstEntry = realGrubCfg.indexOf('\tmenuentry ', submenuStart);
  const secondEntry = realGrubCfg.indexOf('\tmenuentry ', firstEntry + 1);
  const thirdEntry = realGrubCfg.indexOf('\tmenuentry ', secondEntry + 1);
  const pair = realGrubCfg.slice(firstEntry, thirdEntry);
  const realRelease = /with Linux (\S+?)'/.exec(pair)![1]!;
  const entries = Array.from({ length: KERNELS }, (_, index) => pair.split(realRelease).join(release(KERNELS - index))).join('');
  const submenuEnd = realGrubCfg.indexOf('\n}', thirdEntry);
  const grown = realGrubCfg.slice(0, firstEntry) + entries + realGrubCfg.slice(submenuEnd);
  mkdirSync(join(root, 'boot/grub'), { recursive: true });
  writeFileSync(join(root, 'boot/grub/grub.cfg'), grown);
}

/** The real kernel-install entry copied for 50 versions. */
function blsRoot(root: string, realEntry: string, realVersion: string): void {
  mkdirSync(join(root, 'boot/loader/entries'), { recursive: true });
  for (let index = 1; index <= KERNELS; index++) {
    const text = realEntry.split(realVersion).join(release(index));
    writeFileSync(join(root, 'boot/loader/entries', `4b2c81e0f1d94f3a9a5e0c7d2f6b8a13-${release(index)}.conf`), text);
    const dir = join(root, 'boot/4b2c81e0f1d94f3a9a5e0c7d2f6b8a13', release(index));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'linux'), 'kernel');
  }
}

function measure(root: string): { ms: number; entries: number; heapKiB: number } {
  const samples: number[] = [];
  let entries = 0;
  (globalThis as { gc?: () => void }).gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let heapPeak = heapBefore;
  for (let round = 0; round < ROUNDS; round++) {
    const started = performance.now();
    const found = readMachineBootEntries(root, { procCmdline: 'root=/dev/vda1 ro quiet', platform: 'pc' });
    samples.push(performance.now() - started);
    entries = found.config.entries.length + found.ukis.length;
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  }
  return { ms: median(samples), entries, heapKiB: Math.round((heapPeak - heapBefore) / 1024) };
}

export async function listAtScale(): Promise<string> {
  const cache = join(kexecTsCacheDir(), 'bootcfg');
  const grubCfg = join(cache, 'scratch-root/boot/grub/grub.cfg');
  const entriesDir = join(cache, 'bls-root/boot/loader/entries');
  if (!existsSync(grubCfg) || !existsSync(entriesDir)) return '### list at scale\n\nnot run: bootcfg fixtures missing (npm test makes them)';
  const realEntryName = readdirSync(entriesDir).find((name) => !name.includes('+'))!;
  const realEntry = readFileSync(join(entriesDir, realEntryName), 'utf8');
  const realVersion = /^version\s+(\S+)/m.exec(realEntry)![1]!;
  const base = mkdtempSync(join(tmpdir(), 'kexec-ts-bench-list-'));
  const cases: Array<[string, string]> = [
    [`/boot with ${KERNELS} kernels, no loader config`, join(base, 'distro')],
    [`grub.cfg with ${KERNELS * 2} entries (grub-mkconfig's, grown)`, join(base, 'grub')],
    [`BLS directory with ${KERNELS} entries (kernel-install's, copied)`, join(base, 'bls')],
  ];
  bootWithKernels(cases[0]![1]);
  grubRoot(cases[1]![1], readFileSync(grubCfg, 'utf8'));
  blsRoot(cases[2]![1], realEntry, realVersion);
  const rows = cases.map(([name, root]) => {
    const result = measure(root);
    return `| ${name} | ${result.entries} | ${result.ms.toFixed(1)} | ${result.heapKiB} |`;
  });
  return [
    `### list at scale (median of ${ROUNDS}, in-process after start-up)`,
    '',
    '| input | entries | ms | JS heap growth, KiB |',
    '| --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}

// Saving a dump: our saveDump against Debian's makedumpfile on the same real vmcore, at the same
// dump level and codec, each as its own process (Node's start-up counted against us). Aim: no
// slower, no larger, peak RSS under 64 MiB over Node's own (with our modules loaded).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { vmcoreFixturePath } from '../test/crash/vmcore-fixtures.js';

const ROUNDS = 3;
const TIME_BINARY = '/usr/bin/time';
const CRASH_MODULE = fileURLToPath(new URL('../src/crash/index.js', import.meta.url));

interface Case {
  name: string;
  /** makedumpfile's options, or undefined where Debian's build cannot (zstd, snappy). */
  makedumpfile: string[] | undefined;
  ours: Record<string, unknown>;
}

const CASES: Case[] = [
  { name: '-c -d 31 (zlib)', makedumpfile: ['-c', '-d', '31'], ours: { compress: 'zlib', dumpLevel: 31 } },
  { name: '-l -d 31 (lzo)', makedumpfile: ['-l', '-d', '31'], ours: { compress: 'lzo', dumpLevel: 31 } },
  { name: '-c -d 1 (zlib)', makedumpfile: ['-c', '-d', '1'], ours: { compress: 'zlib', dumpLevel: 1 } },
  { name: '-E -d 31 (ELF)', makedumpfile: ['-E', '-d', '31'], ours: { format: 'elf', dumpLevel: 31 } },
  { name: '-d 31, snappy', makedumpfile: undefined, ours: { compress: 'snappy', dumpLevel: 31 } },
  { name: '-d 31, zstd', makedumpfile: undefined, ours: { compress: 'zstd', dumpLevel: 31 } },
];

interface Run {
  seconds: number;
  /** Peak RSS in KiB, when /usr/bin/time could tell. */
  maxRssKiB: number | undefined;
}

/** Runs a command under /usr/bin/time (when installed) for its peak RSS. */
function timed(command: string[]): Run {
  const withTime = existsSync(TIME_BINARY);
  const argv = withTime ? [TIME_BINARY, '-f', 'KEXEC_TS_RSS=%M', ...command] : command;
  const started = performance.now();
  const result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', maxBuffer: 16 << 20 });
  const seconds = (performance.now() - started) / 1000;
  if (result.status !== 0) throw new Error(`${command.join(' ')} failed: ${result.stderr}`);
  const rss = /KEXEC_TS_RSS=(\d+)/.exec(result.stderr ?? '')?.[1];
  return { seconds, maxRssKiB: rss ? Number(rss) : undefined };
}

function oursCommand(vmcore: string, out: string, options: Record<string, unknown>): string[] {
  const script = `const { openVmcore, saveDump } = await import(${JSON.stringify(CRASH_MODULE)});
    const vmcore = await openVmcore(${JSON.stringify(vmcore)});
    await saveDump(vmcore, { out: ${JSON.stringify(out)}, force: true, ...${JSON.stringify(options)} });
    await vmcore.close();`;
  return [process.execPath, '--input-type=module', '-e', script];
}

function best(runs: Run[]): Run {
  const seconds = Math.min(...runs.map((run) => run.seconds));
  const rss = runs.map((run) => run.maxRssKiB).filter((value): value is number => value !== undefined);
  return { seconds, maxRssKiB: rss.length > 0 ? Math.max(...rss) : undefined };
}

const mib = (kib: number | undefined): string => (kib === undefined ? 'n/a' : `${(kib / 1024).toFixed(0)} MiB`);
const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;

/** The Markdown table: one row per case, best of ROUNDS for time, the largest peak RSS. */
export async function crashSaveAgainstMakedumpfile(): Promise<string> {
  const vmcore = vmcoreFixturePath('vmcore');
  const header = [
    `### Saving a dump: kexec-ts saveDump vs makedumpfile (${existsSync(vmcore) ? mb(statSync(vmcore).size) : 'missing'} real vmcore, best of ${ROUNDS})`,
    '',
    '| case | makedumpfile | kexec-ts | time ratio | makedumpfile size | kexec-ts size | size ratio | makedumpfile RSS | kexec-ts RSS (over Node) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const hasMakedumpfile = spawnSync('makedumpfile', ['-h']).error === undefined;
  if (!existsSync(vmcore) || !hasMakedumpfile) {
    return [...header, `| all | not run: ${existsSync(vmcore) ? 'makedumpfile is not installed' : `no vmcore at ${vmcore} (node scripts/prepare-tests.mjs)`} | | | | | | | |`].join('\n');
  }
  const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-bench-save-'));
  try {
    const baseline = best(Array.from({ length: ROUNDS }, () => timed([process.execPath, '--input-type=module', '-e', `await import(${JSON.stringify(CRASH_MODULE)});`])));
    const rows: string[] = [];
    for (const benchCase of CASES) {
      const ourOut = join(dir, 'ours');
      const ours = best(Array.from({ length: ROUNDS }, () => timed(oursCommand(vmcore, ourOut, benchCase.ours))));
      const ourSize = statSync(ourOut).size;
      rmSync(ourOut, { force: true });
      const overNode = ours.maxRssKiB !== undefined && baseline.maxRssKiB !== undefined ? ` (+${mib(ours.maxRssKiB - baseline.maxRssKiB)})` : '';
      if (!benchCase.makedumpfile) {
        rows.push(`| ${benchCase.name} | not built into Debian's makedumpfile | ${ours.seconds.toFixed(2)} s | | | ${mb(ourSize)} | | | ${mib(ours.maxRssKiB)}${overNode} |`);
        continue;
      }
      const theirOut = join(dir, 'theirs');
      const theirs = best(
        Array.from({ length: ROUNDS }, () => {
          rmSync(theirOut, { force: true });
          return timed(['makedumpfile', ...benchCase.makedumpfile!, vmcore, theirOut]);
        }),
      );
      const theirSize = statSync(theirOut).size;
      rmSync(theirOut, { force: true });
      rows.push(
        `| ${benchCase.name} | ${theirs.seconds.toFixed(2)} s | ${ours.seconds.toFixed(2)} s | ${(ours.seconds / theirs.seconds).toFixed(2)} | ${mb(theirSize)} | ${mb(ourSize)} | ${(ourSize / theirSize).toFixed(3)} | ${mib(theirs.maxRssKiB)} | ${mib(ours.maxRssKiB)}${overNode} |`,
      );
    }
    return [...header, ...rows, '', `Node with the crash modules loaded: ${mib(baseline.maxRssKiB)} peak RSS, ${baseline.seconds.toFixed(2)} s.`].join('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) console.log(await crashSaveAgainstMakedumpfile());

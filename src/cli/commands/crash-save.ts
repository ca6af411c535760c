import { parseCommandArgs } from '../args.js';
import { appendFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isKexecError, UsageError } from '../../errors.js';
import { COMPRESSIONS, DEFAULT_VMCORE_PATH, dmesgPathFor, makeOutputDirectory, refuseExisting, writeCompleteFile, describeUnapplied, extractDmesg, openVmcore, saveDump, type Compression, type DumpFormat, type SaveResult } from '../../crash/index.js';
import { formatSize } from '../../crash/arm/memory-size.js';
import { ExitCode } from '../exit-codes.js';
import { errorToJson, formatErrorText, writeJson, type CommandOutput } from '../output.js';
import { byteProgressOnTerminal } from './crash-progress.js';
import { requireVmcore } from './crash-vmcore.js';
import type { Subcommand } from './crash.js';

const FORMATS: readonly DumpFormat[] = ['elf', 'kdump', 'flat'];
/** The dump's name in a --dir directory, as Fedora's kdump names it; the log beside it. */
const DUMP_NAME: Readonly<Record<DumpFormat, string>> = { elf: 'vmcore', kdump: 'vmcore', flat: 'vmcore.flat' };
/**
 * With --dir, everything the command prints also goes to this file beside the dump: in a capture
 * boot journald may not run, and the console scrolls away.
 */
const SAVE_LOG_NAME = 'kexec-ts-save.log';

const usage = `Usage: kexec-ts crash save [--vmcore FILE] [--format elf|kdump|flat] [--compress zlib|lzo|snappy|zstd|none] [--dump-level N] [--force] [--no-dmesg] (OUT | --dir DIR) [--json]
Saves the crashed kernel's memory from ${DEFAULT_VMCORE_PATH} (in the capture kernel) or a dump file,
leaving out the pages the dump level names, like makedumpfile. The crashed kernel's log goes to
OUT-dmesg.txt beside the dump (vmcore-dmesg.txt), first, so it is there even if the dump does not fit. An exclusion
the crashed kernel's dump cannot decide (a page flag it does not export) keeps its pages, and
says so; the dump is still written. With --dir, the output also goes to ${SAVE_LOG_NAME} there.
  OUT              the dump file ('-' writes a flattened dump to stdout, for a pipe)
  --dir DIR        instead of OUT: DIR/YYYYMMDD-HHMMSS/${DUMP_NAME.kdump} (UTC), as kdump services do
  --vmcore FILE    what to save (default ${DEFAULT_VMCORE_PATH})
  --format F       kdump (kdump-compressed, the default), elf, or flat (kdump-compressed, flattened)
  --compress C     per-page compression of kdump and flat dumps (default zlib)
  -d, --dump-level N  makedumpfile -d: the sum of 1 zero pages, 2 page cache, 4 cache and private,
                   8 user data, 16 free pages left out (default 31)
  --force          overwrite an existing dump
  --no-dmesg       do not write the log`;

async function run(args: string[], commandOutput: CommandOutput): Promise<number> {
  let output = commandOutput;
  let logOnly: ((text: string) => void) | undefined;
  const { values, positionals } = parseCommandArgs(args, {
    vmcore: { type: 'string' },
    format: { type: 'string' },
    compress: { type: 'string' },
    'dump-level': { type: 'string', short: 'd' },
    force: { type: 'boolean' },
    'no-dmesg': { type: 'boolean' },
    dir: { type: 'string' },
  });
  if (values.dir !== undefined ? positionals.length !== 0 : positionals.length !== 1) throw new UsageError(`crash save takes one OUT file, or --dir DIR.\n${usage}`);
  const format = choice('format', values.format, FORMATS) ?? 'kdump';
  const compress = choice<Compression>('compress', values.compress, COMPRESSIONS);
  const dumpLevel = values['dump-level'] === undefined ? undefined : Number(values['dump-level']);
  if (dumpLevel !== undefined && !/^\d+$/.test(values['dump-level']!)) throw new UsageError(`--dump-level takes a number 0-31, not '${values['dump-level']}'.`);
  const toStdout = positionals[0] === '-';
  if (toStdout && format !== 'flat') throw new UsageError("Only a flattened dump can go to a pipe: give --format flat with '-'.");
  if (toStdout && output.json) throw new UsageError("--json and '-' both want stdout.");

  const vmcorePath = values.vmcore ?? DEFAULT_VMCORE_PATH;
  requireVmcore(vmcorePath);
  const out = toStdout ? undefined : values.dir !== undefined ? join(datedDirectory(values.dir), DUMP_NAME[format]) : positionals[0]!;
  if (out !== undefined) await makeOutputDirectory(dirname(out));
  if (out !== undefined && values.dir !== undefined) {
    const logged = alsoToLog(output, join(dirname(out), SAVE_LOG_NAME), `kexec-ts crash save ${args.join(' ')}`);
    output = logged;
    logOnly = logged.log;
  }
  try {
    return await save(output, { vmcorePath, out, toStdout, format, compress, dumpLevel, force: values.force === true, dmesg: values['no-dmesg'] !== true });
  } catch (error) {
    logOnly?.(formatErrorText(error));
    throw error;
  }
}

interface SaveRequest {
  vmcorePath: string;
  out: string | undefined;
  toStdout: boolean;
  format: DumpFormat;
  compress: Compression | undefined;
  dumpLevel: number | undefined;
  force: boolean;
  dmesg: boolean;
}

async function save(output: CommandOutput, request: SaveRequest): Promise<number> {
  const { vmcorePath, out, toStdout, format, compress, dumpLevel } = request;
  const vmcore = await openVmcore(vmcorePath);
  const progress = byteProgressOnTerminal(output);
  try {
    let dmesg: { path: string; lines: number } | undefined;
    let dmesgError: unknown;
    const dmesgPath = request.dmesg && out !== undefined ? dmesgPathFor(out) : undefined;
    // Neither the dump nor its log replaces a file already there: both are checked first.
    if (out !== undefined) await refuseExisting(dmesgPath === undefined ? [out] : [out, dmesgPath], request.force);
    if (dmesgPath !== undefined) {
      let lines: string[] | undefined;
      try {
        lines = await extractDmesg(vmcore);
      } catch (error) {
        // The log is a help, the dump is the point: a log the reader cannot find does not stop the save.
        if (!isKexecError(error)) throw error;
        dmesgError = error;
        if (!output.json) output.err(`kexec-ts: no ${dmesgPath}: ${error.message}\n`);
      }
      // A log that cannot be written stops the save: the dump would fail the same way, beside it.
      if (lines !== undefined) {
        await writeCompleteFile(dmesgPath, Buffer.from(lines.length > 0 ? `${lines.join('\n')}\n` : ''), { force: request.force, what: "crashed kernel's log" });
        dmesg = { path: dmesgPath, lines: lines.length };
      }
    }
    const result: SaveResult = await saveDump(vmcore, {
      out: out ?? { stream: process.stdout, name: 'stdout' },
      format,
      ...(compress !== undefined ? { compress } : {}),
      ...(dumpLevel !== undefined ? { dumpLevel } : {}),
      force: request.force,
      onProgress: progress,
    });
    progress.stop();
    if (output.json) {
      writeJson(output, { ok: true, command: 'crash save', vmcore: vmcorePath, dump: result, dmesg, dmesgError: dmesgError === undefined ? undefined : errorToJson(dmesgError) });
    } else {
      const message =
        `Saved ${result.path}: ${formatSize(result.bytesWritten)} (${result.format}${result.format !== 'elf' ? `, ${result.compress}` : ''}, dump level ${result.dumpLevel}, ` +
        `${result.pagesWritten} of ${result.maxPfn} pages) in ${(result.durationMs / 1000).toFixed(1)} s.\n` +
        (dmesg !== undefined ? `The crashed kernel's log: ${dmesg.path} (${dmesg.lines} lines).\n` : '') +
        (result.notApplied.length > 0 ? `Applied dump level ${result.appliedDumpLevel}, not ${result.dumpLevel}:\n${describeUnapplied(result.notApplied).map((line) => `  ${line}\n`).join('')}` : '');
      // With the dump on stdout, the report goes to stderr.
      if (toStdout) output.err(message);
      else output.out(message);
    }
    return ExitCode.OK;
  } finally {
    progress.stop();
    await vmcore.close();
  }
}

/** An output that also appends what it prints to `logPath` (and `log` writes only there). */
function alsoToLog(output: CommandOutput, logPath: string, commandLine: string): CommandOutput & { log(text: string): void } {
  const log = (text: string): void => {
    try {
      appendFileSync(logPath, text);
    } catch {
      // The log is a help: a full or read-only disk must not turn a saved dump into a failure.
    }
  };
  log(`${new Date().toISOString()} ${commandLine}\n`);
  return {
    json: output.json,
    out: (text) => {
      output.out(text);
      log(text);
    },
    err: (text) => {
      output.err(text);
      log(text);
    },
    log,
  };
}

function choice<T extends string>(name: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!allowed.includes(value as T)) throw new UsageError(`--${name} is one of ${allowed.join(', ')}, not '${value}'.`);
  return value as T;
}

/** DIR/YYYYMMDD-HHMMSS (UTC: a capture kernel knows no time zone), -2, -3... when taken. */
function datedDirectory(root: string, now: Date = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  let candidate = join(root, stamp);
  for (let suffix = 2; existsSync(candidate); suffix++) candidate = join(root, `${stamp}-${suffix}`);
  return candidate;
}

export const subcommand: Subcommand = { usage, run };

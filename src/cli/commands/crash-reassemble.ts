import { parseCommandArgs } from '../args.js';
import { createReadStream } from 'node:fs';
import { openSequentialInput } from '../../input-file.js';
import { UsageError } from '../../errors.js';
import { reassembleFlattened } from '../../crash/index.js';
import { formatSize } from '../../crash/arm/memory-size.js';
import { ExitCode } from '../exit-codes.js';
import { writeJson, type CommandOutput } from '../output.js';
import { requireVmcore } from './crash-vmcore.js';
import type { Subcommand } from './crash.js';

const usage = `Usage: kexec-ts crash reassemble IN OUT [--force] [--json]
Turns a flattened dump (crash save --format flat, makedumpfile -F) back into the dump file it
stands for, like makedumpfile -R. IN '-' reads it from stdin (the other end of a pipe).
  --force   overwrite OUT`;

async function run(args: string[], output: CommandOutput): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { force: { type: 'boolean' } });
  if (positionals.length !== 2) throw new UsageError(`crash reassemble takes IN and OUT.\n${usage}`);
  const [input, out] = positionals as [string, string];
  if (input !== '-') requireVmcore(input);
  const stream = input === '-' ? process.stdin : createReadStream('', { fd: openSequentialInput(input, 'flattened dump'), highWaterMark: 1 << 20 });
  const result = await reassembleFlattened(stream, out, { force: values.force === true });
  if (output.json) writeJson(output, { ok: true, command: 'crash reassemble', input, ...result });
  else output.out(`Wrote ${result.path}: ${formatSize(result.sizeBytes)} from ${result.records} records.\n`);
  return ExitCode.OK;
}

export const subcommand: Subcommand = { usage, run };

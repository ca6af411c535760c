import { parseCommandArgs } from '../args.js';
import { UsageError } from '../../errors.js';
import { DEFAULT_VMCORE_PATH, extractDmesg, type DmesgStyle } from '../../crash/index.js';
import { ExitCode } from '../exit-codes.js';
import { writeJson, type CommandOutput } from '../output.js';
import { requireVmcore } from './crash-vmcore.js';
import type { Subcommand } from './crash.js';

const usage = `Usage: kexec-ts crash dmesg [VMCORE] [--style makedumpfile|vmcore-dmesg] [--json]
Prints the crashed kernel's log from VMCORE (default ${DEFAULT_VMCORE_PATH}): an ELF vmcore, a
kdump-compressed dump or a flattened one; no vmlinux needed.
  --style S   line layout: makedumpfile (--dump-dmesg, the default) or vmcore-dmesg`;

async function run(args: string[], output: CommandOutput): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { style: { type: 'string' } });
  if (positionals.length > 1) throw new UsageError(`crash dmesg takes one VMCORE.\n${usage}`);
  if (values.style !== undefined && values.style !== 'makedumpfile' && values.style !== 'vmcore-dmesg') throw new UsageError(`--style is makedumpfile or vmcore-dmesg, not '${values.style}'.`);
  const path = positionals[0] ?? DEFAULT_VMCORE_PATH;
  requireVmcore(path);
  const lines = await extractDmesg(path, values.style === undefined ? {} : { style: values.style as DmesgStyle });
  if (output.json) writeJson(output, { ok: true, command: 'crash dmesg', vmcore: path, lines });
  else output.out(lines.length > 0 ? `${lines.join('\n')}\n` : '');
  return ExitCode.OK;
}

export const subcommand: Subcommand = { usage, run };

import { parseCommandArgs } from '../args.js';
import { UsageError } from '../../errors.js';
import { disarmCaptureKernel } from '../../crash/arm/arm.js';
import { ExitCode } from '../exit-codes.js';
import { writeJson, type CommandOutput } from '../output.js';
import type { Subcommand } from './crash.js';

const usage = `Usage: kexec-ts crash unload [--json]
Disarms the capture kernel (KEXEC_FILE_UNLOAD with KEXEC_FILE_ON_CRASH). Succeeds when none is loaded.`;

async function run(args: string[], output: CommandOutput): Promise<number> {
  const { positionals } = parseCommandArgs(args, {});
  if (positionals.length > 0) throw new UsageError(`crash unload takes no arguments.\n${usage}`);
  disarmCaptureKernel();
  if (output.json) writeJson(output, { ok: true, command: 'crash unload' });
  else output.out('Disarmed the capture kernel.\n');
  return ExitCode.OK;
}

export const subcommand: Subcommand = { usage, run };

import { parseCommandArgs } from '../args.js';
import { unload } from '../../handoff/handoff.js';
import { ExitCode } from '../exit-codes.js';
import { writeJson, type CommandOutput } from '../output.js';
import type { Command } from '../cli.js';

const usage = `Usage: kexec-ts unload [--crash] [--json]
Unloads the loaded kernel (with --crash: the crash kernel). Succeeds when nothing is loaded.`;

async function run(args: string[], output: CommandOutput): Promise<number> {
  const { values } = parseCommandArgs(args, { crash: { type: 'boolean' } }, false);
  const crash = values.crash === true;
  unload({ crash });
  if (output.json) writeJson(output, { ok: true, command: 'unload', crash });
  else output.out(`Unloaded the ${crash ? 'crash ' : ''}kernel.\n`);
  return ExitCode.OK;
}

export const command: Command = { usage, run };

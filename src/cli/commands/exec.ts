import { parseCommandArgs } from '../args.js';
import { exec } from '../../handoff/handoff.js';
import { ExitCode } from '../exit-codes.js';
import { writeJson, type CommandOutput } from '../output.js';
import type { Command } from '../cli.js';

const usage = `Usage: kexec-ts exec [--force] [--json]
Hands off to the loaded kernel. Under systemd this goes through 'systemctl kexec' so services
stop cleanly; --force syncs filesystems and reboots into the new kernel at once, like 'kexec -e'.`;

async function run(args: string[], output: CommandOutput): Promise<number> {
  const { values } = parseCommandArgs(args, { force: { type: 'boolean' } }, false);
  const outcome = exec({ force: values.force === true });
  // Only the orderly path returns: the direct one ends in the new kernel.
  if (output.json) writeJson(output, { ok: true, command: 'exec', ...outcome });
  else if (outcome.via === 'init-system') output.out(`${outcome.initSystem} is stopping services and will hand off to the loaded kernel (${outcome.handoffCommand}).\n`);
  return ExitCode.OK;
}

export const command: Command = { usage, run };

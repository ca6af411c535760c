import { parseCommandArgs } from '../args.js';
import { status, type KexecStatus } from '../../handoff/status.js';
import { ExitCode } from '../exit-codes.js';
import { writeJson, type CommandOutput } from '../output.js';
import type { Command } from '../cli.js';

const usage = `Usage: kexec-ts status [--json]
Says whether this machine can kexec, and if not, why: architecture, kernel config,
kexec_load_disabled, lockdown, CAP_SYS_BOOT, what is loaded, crash reservation. Needs no root.`;

async function run(args: string[], output: CommandOutput): Promise<number> {
  // No options and no operands: a typo is an error, not a silent status.
  parseCommandArgs(args, {}, false);
  const report = status();
  if (output.json) writeJson(output, { ok: true, command: 'status', status: report });
  else output.out(formatStatus(report));
  return ExitCode.OK;
}

export function formatStatus(report: KexecStatus): string {
  const headline =
    report.canLoad === true
      ? 'kexec: possible here'
      : report.canLoad === false
        ? `kexec: not possible here: ${report.blockers.join('; ')}`
        : 'kexec: probably possible here (some facts could not be read; see "unknown" below)';
  const lockdownNote =
    report.lockdown === 'integrity' || report.lockdown === 'confidentiality'
      ? `\nnote: lockdown (${report.lockdown}) lets only kernels signed with a trusted key be loaded`
      : '';
  const width = Math.max(...report.checks.map((check) => check.name.length));
  const marks = { ok: ' ', blocks: '✗', unknown: '?', info: ' ' } as const;
  const lines = report.checks.map((check) => {
    const detail = check.detail ? `  (${check.detail})` : '';
    return `${marks[check.verdict]} ${check.name.padEnd(width)}  ${check.value}${detail}`;
  });
  const kernel = report.kernelRelease !== undefined ? `running kernel ${report.kernelRelease}` : 'running kernel unknown';
  return `${headline}${lockdownNote}\n${kernel}\n${lines.join('\n')}\n`;
}

export const command: Command = { usage, run };

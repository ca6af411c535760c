import { parseCommandArgs } from '../args.js';
import { UsageError } from '../../errors.js';
import { crashStatus, type CrashStatus } from '../../crash/arm/arm.js';
import { ExitCode } from '../exit-codes.js';
import { errorToJson, writeJson, type CommandOutput } from '../output.js';
import { PLAN_OPTIONS, PLAN_OPTIONS_USAGE, planOptionsFrom } from './crash-plan-options.js';
import { formatPlan, formatReservation, planJson, reservationJson } from './crash-report.js';
import type { Subcommand } from './crash.js';

const usage = `Usage: kexec-ts crash status [options] [--json]
The crashkernel= reservation (/sys/kernel/kexec_crash_size, the "Crash kernel" ranges of /proc/iomem,
the parameter on /proc/cmdline), whether a capture kernel is armed (and what, when kexec-ts armed it),
and what crash load would arm with the same options: sizes, command line, and whether it fits.
Changes nothing; the /proc/iomem ranges and RAM size need root.
${PLAN_OPTIONS_USAGE}`;

async function run(args: string[], output: CommandOutput): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, PLAN_OPTIONS);
  if (positionals.length > 0) throw new UsageError(`crash status takes no arguments.\n${usage}`);
  const status = await crashStatus(planOptionsFrom(values));
  if (output.json) {
    writeJson(output, {
      ok: true,
      command: 'crash status',
      reservation: reservationJson(status.reservation),
      loaded: status.loaded,
      loadedRecord: status.loadedRecord,
      plan: status.plan === undefined ? undefined : planJson(status.plan),
      planError: status.planError === undefined ? undefined : errorToJson(status.planError),
    });
  } else {
    output.out(formatStatus(status));
  }
  return ExitCode.OK;
}

function formatStatus(status: CrashStatus): string {
  const armed =
    status.loaded === undefined
      ? 'unknown (/sys/kernel/kexec_crash_loaded is not readable)'
      : !status.loaded
        ? 'no'
        : status.loadedRecord !== undefined
          ? `yes, by kexec-ts crash load at ${status.loadedRecord.loadedAt}: ${status.loadedRecord.kernel}${status.loadedRecord.initrds.length > 0 ? ` + ${status.loadedRecord.initrds.join(' + ')}` : ''}`
          : 'yes (not by kexec-ts crash load in this boot: what is loaded is not known)';
  const lines = [...formatReservation(status.reservation), `armed         ${armed}`];
  if (status.plan !== undefined) {
    lines.push('', 'crash load would arm:', ...formatPlan(status.plan, { verbose: false }).map((line) => `  ${line}`));
  } else if (status.planError !== undefined) {
    lines.push('', `crash load could not plan: ${status.planError.message}`);
    if (status.planError.remedy !== undefined) lines.push(`  what to do  ${status.planError.remedy}`);
    for (const note of status.reservation.notes) lines.push(`note          ${note}`);
  }
  return `${lines.join('\n')}\n`;
}

export const subcommand: Subcommand = { usage, run };

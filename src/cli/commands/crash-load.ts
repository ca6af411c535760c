import { parseCommandArgs } from '../args.js';
import { UsageError } from '../../errors.js';
import { armCaptureKernel } from '../../crash/arm/arm.js';
import { formatSize } from '../../crash/arm/memory-size.js';
import { ExitCode } from '../exit-codes.js';
import { writeJson, type CommandOutput } from '../output.js';
import { progressOption } from '../progress.js';
import { PLAN_OPTIONS, PLAN_OPTIONS_USAGE, planOptionsFrom } from './crash-plan-options.js';
import { formatPlan, formatReservation, planJson, reservationJson } from './crash-report.js';
import type { Subcommand } from './crash.js';

const usage = `Usage: kexec-ts crash load [options] [--ignore-fit] [--json]
Arms the capture kernel: loaded with KEXEC_FILE_ON_CRASH into the crashkernel= reservation, it
boots when this kernel panics. Checked first, with the sizes read from the images: that the
kernel and initrd fit the reservation when loaded, while the initrd unpacks, and while the
capture userspace works. The command line is this boot's, without crashkernel= and the like, with
irqpoll nr_cpus=1 reset_devices ... added (and rootfstype=ramfs when a capture initramfs is too
big for a tmpfs rootfs).
${PLAN_OPTIONS_USAGE}
  --ignore-fit              load even when the check says the capture would fail`;

async function run(args: string[], output: CommandOutput): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { ...PLAN_OPTIONS, 'ignore-fit': { type: 'boolean' } });
  if (positionals.length > 0) throw new UsageError(`crash load takes no arguments (give the kernel with --kernel).\n${usage}`);
  const { plan, load } = await armCaptureKernel({
    ...planOptionsFrom(values),
    ignoreFit: values['ignore-fit'] === true,
    ...progressOption(output, 'decompressing'),
  });
  if (output.json) {
    writeJson(output, { ok: true, command: 'crash load', reservation: reservationJson(plan.reservation), plan: planJson(plan), load });
    return ExitCode.OK;
  }
  const spare = plan.fit === undefined ? '' : plan.fit.fits ? `; ${formatSize(Math.max(0, plan.fit.run.availableBytes - plan.fit.run.neededBytes))} to spare` : '; it does NOT fit (--ignore-fit)';
  output.out(
    `Armed the capture kernel in ${load.durationMs.toFixed(0)} ms${spare}. It boots if this kernel panics.\n` +
      [...formatReservation(plan.reservation), ...formatPlan(plan, { verbose: true })].map((line) => `  ${line}\n`).join('') +
      load.notes.map((note) => `  note          ${note}\n`).join(''),
  );
  return ExitCode.OK;
}

export const subcommand: Subcommand = { usage, run };

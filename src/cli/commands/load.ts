import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError } from '../../errors.js';
import { reusableCmdline } from '../../handoff/cmdline.js';
import { load } from '../../handoff/handoff.js';
import { ExitCode } from '../exit-codes.js';
import { writeJson, type CommandOutput } from '../output.js';
import type { Command } from '../cli.js';

const usage = `Usage: kexec-ts load KERNEL [--initrd FILE]... [--append CMDLINE] [--reuse-cmdline] [--crash] [--no-preflight] [--json]
Loads KERNEL for a later 'kexec-ts exec' (or, with --crash, as the kdump kernel run on panic).
  --initrd FILE      initramfs for the new kernel; give it again to add more: they are
                     concatenated in order into one (the kernel unpacks them all)
  --append CMDLINE   the new kernel's command line ('' for an empty one)
  --reuse-cmdline    this boot's /proc/cmdline without BOOT_IMAGE= and initrd=; --append adds to it
  --crash            load as the crash kernel (needs a crashkernel= reservation)
  --no-preflight     skip kexec-ts's check that the image suits this arch; let the kernel decide`;

async function run(args: string[], output: CommandOutput): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      initrd: { type: 'string', multiple: true },
      append: { type: 'string' },
      'reuse-cmdline': { type: 'boolean' },
      crash: { type: 'boolean' },
      'no-preflight': { type: 'boolean' },
    },
  });
  if (positionals.length !== 1) throw new UsageError(`load takes one KERNEL file, got ${positionals.length}.\n${usage}`);
  if (values.append === undefined && values['reuse-cmdline'] !== true) {
    throw new UsageError(
      "Say which command line the new kernel gets: --reuse-cmdline keeps this boot's, --append '...' gives one (--append '' for none).",
    );
  }
  const reused = values['reuse-cmdline'] === true ? reusableCmdline(readFileSync('/proc/cmdline', 'utf8')) : '';
  const cmdline = [reused, values.append ?? ''].filter((part) => part !== '').join(' ');

  const result = load({
    kernel: positionals[0]!,
    ...(values.initrd !== undefined && values.initrd.length > 0 ? { initrd: values.initrd } : {}),
    cmdline,
    crash: values.crash === true,
    skipPreflight: values['no-preflight'] === true,
  });
  if (output.json) {
    writeJson(output, { ok: true, command: 'load', ...result });
  } else {
    const what = result.crash ? 'crash kernel' : 'kernel';
    output.out(
      `Loaded ${what} ${result.kernel.path}${result.initrd ? ` with initrd ${result.initrd.path}` : ''} in ${result.durationMs.toFixed(0)} ms.\n` +
        `  command line: ${result.cmdline === '' ? '(empty)' : result.cmdline}\n` +
        (result.crash ? '  It runs if this kernel panics.\n' : '  Hand off with: kexec-ts exec\n'),
    );
  }
  return ExitCode.OK;
}

export const command: Command = { usage, run };

import { parseCommandArgs } from '../args.js';
import { readFileSync } from 'node:fs';
import { UsageError } from '../../errors.js';
import { reusableCmdline } from '../../handoff/cmdline.js';
import { load } from '../../handoff/handoff.js';
import { ExitCode } from '../exit-codes.js';
import { writeJson, type CommandOutput } from '../output.js';
import { progressOption } from '../progress.js';
import type { Command } from '../cli.js';
import type { KexecLoadChoice } from '../../handoff/kexec-load/choose.js';

const usage = `Usage: kexec-ts load KERNEL [--initrd FILE]... [--append CMDLINE] [--reuse-cmdline] [--crash] [--uki-profile N] [--kernel-debug] [--no-preflight] [--kexec-load|--no-kexec-load] [--json]
Loads KERNEL for a later 'kexec-ts exec' (or, with --crash, as the kdump kernel run on panic).
  --initrd FILE      initramfs for the new kernel; give it again to add more: they are
                     concatenated in order into one (the kernel unpacks them all)
  --append CMDLINE   the new kernel's command line ('' for an empty one)
  --reuse-cmdline    this boot's /proc/cmdline without BOOT_IMAGE= and initrd=; --append adds to it
  --crash            load as the crash kernel (needs a crashkernel= reservation)
  --uki-profile N    boot profile @N of a multi-profile Unified Kernel Image (default 0)
  --kernel-debug     have the kernel log how it places the segments (KEXEC_FILE_DEBUG, Linux 6.8+;
                     left out, with a note, on older kernels, which would refuse the load)
  --no-preflight     pass the file as it is: no format check, no unpacking; let the kernel decide
  --kexec-load       load with kexec_load(2), kexec-ts placing the segments (arm64); by default it
                     is used only where the kernel has no kexec_file_load, never under lockdown
  --no-kexec-load    never fall back to kexec_load
A Unified Kernel Image is unpacked: its .linux is loaded, its .ucode and .initrd go before any
--initrd, and its .cmdline (with addons from FILE.extra.d/) is used unless --append or
--reuse-cmdline is given.`;

/** --kexec-load / --no-kexec-load as the library's choice; both at once is a usage error. */
export function kexecLoadOption(values: { 'kexec-load'?: boolean | undefined; 'no-kexec-load'?: boolean | undefined }): KexecLoadChoice {
  if (values['kexec-load'] === true && values['no-kexec-load'] === true) throw new UsageError('--kexec-load and --no-kexec-load exclude each other.');
  return values['kexec-load'] === true ? 'force' : values['no-kexec-load'] === true ? 'never' : 'auto';
}

async function run(args: string[], output: CommandOutput): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    initrd: { type: 'string', multiple: true },
    append: { type: 'string' },
    'reuse-cmdline': { type: 'boolean' },
    crash: { type: 'boolean' },
    'no-preflight': { type: 'boolean' },
    'uki-profile': { type: 'string' },
    'kernel-debug': { type: 'boolean' },
    'kexec-load': { type: 'boolean' },
    'no-kexec-load': { type: 'boolean' },
  });
  if (positionals.length !== 1) throw new UsageError(`load takes one KERNEL file, got ${positionals.length}.\n${usage}`);
  // Without --append or --reuse-cmdline the image's own command line is used (a UKI's); an
  // image without one is refused with a hint, rather than booted with an empty line by accident.
  const reused = values['reuse-cmdline'] === true ? reusableCmdline(readFileSync('/proc/cmdline', 'utf8')) : '';
  const cmdline = values.append === undefined && values['reuse-cmdline'] !== true ? undefined : [reused, values.append ?? ''].filter((part) => part !== '').join(' ');

  const result = await load({
    kernel: positionals[0]!,
    ...(values.initrd !== undefined && values.initrd.length > 0 ? { initrd: values.initrd } : {}),
    ...(cmdline !== undefined ? { cmdline } : {}),
    ...(values['uki-profile'] !== undefined ? { ukiProfile: parseProfile(values['uki-profile']) } : {}),
    crash: values.crash === true,
    skipPreflight: values['no-preflight'] === true,
    kernelDebug: values['kernel-debug'] === true,
    kexecLoad: kexecLoadOption(values),
    ...progressOption(output, 'decompressing the kernel'),
  });
  if (output.json) {
    writeJson(output, { ok: true, command: 'load', ...result });
  } else {
    const what = result.crash ? 'crash kernel' : 'kernel';
    output.out(
      `Loaded ${what} ${result.kernel.path}${result.initrd ? ` with initrd ${result.initrd.path}` : ''} in ${result.durationMs.toFixed(0)} ms (${result.syscall}).\n` +
        `  command line: ${result.cmdline === '' ? '(empty)' : result.cmdline}\n` +
        result.notes.map((note) => `  note: ${note}\n`).join('') +
        (result.crash ? '  It runs if this kernel panics.\n' : '  Hand off with: kexec-ts exec\n'),
    );
  }
  return ExitCode.OK;
}

export const command: Command = { usage, run };

function parseProfile(text: string): number {
  if (!/^@?\d+$/.test(text)) throw new UsageError(`--uki-profile takes a profile number (0, 1, ... or @1), not '${text}'.`);
  return Number(text.replace(/^@/, ''));
}

import { globalFlags, splitCommandWord, withoutHelp } from '../args.js';
import { UsageError } from '../../errors.js';
import type { Command } from '../cli.js';
import type { CommandOutput } from '../output.js';

/**
 * `kexec-ts crash SUBCOMMAND`: kdump from both ends. In the running system: arm the capture
 * kernel (load, unload, status) and build a capture initramfs (initrd). In the capture kernel
 * or afterwards: save the dump, read the crashed kernel's log, reassemble a flattened dump.
 * Each subcommand's module is imported only when it runs.
 */
export interface Subcommand {
  readonly usage: string;
  run(args: string[], output: CommandOutput): Promise<number>;
}

const SUBCOMMANDS: Record<string, { readonly summary: string; readonly load: () => Promise<{ subcommand: Subcommand }> }> = {
  load: { summary: 'arm the capture kernel (kdump) after checking it fits the crashkernel= reservation', load: () => import('./crash-load.js') },
  unload: { summary: 'disarm the capture kernel', load: () => import('./crash-unload.js') },
  status: { summary: 'the reservation, what is armed, and whether the capture kernel fits', load: () => import('./crash-status.js') },
  initrd: { summary: 'build a minimal capture initramfs (busybox, node, kexec-ts) that saves the dump', load: () => import('./crash-initrd.js') },
  save: { summary: 'save /proc/vmcore (or a dump) smaller, with the kernel log beside it', load: () => import('./crash-save.js') },
  dmesg: { summary: "the crashed kernel's log from a vmcore or a saved dump", load: () => import('./crash-dmesg.js') },
  reassemble: { summary: 'turn a flattened dump (crash save --format flat) back into a dump file', load: () => import('./crash-reassemble.js') },
};

export const CRASH_USAGE_HEAD = `Usage: kexec-ts crash SUBCOMMAND [options] [--json]`;

function overview(): string {
  const width = Math.max(...Object.keys(SUBCOMMANDS).map((name) => name.length));
  return `${CRASH_USAGE_HEAD}\n\nSubcommands:\n${Object.entries(SUBCOMMANDS)
    .map(([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`)
    .join('\n')}\n\n'kexec-ts crash help SUBCOMMAND' shows a subcommand's options.`;
}

async function run(args: string[], output: CommandOutput): Promise<number> {
  const { word: name, rest } = splitCommandWord(withoutHelp(args));
  // `crash --help`, `crash load --help` and `crash help load` all show help.
  if (globalFlags(args).help || name === 'help') {
    const topic = name === 'help' ? splitCommandWord(rest).word : name;
    const entry = topic === undefined ? undefined : SUBCOMMANDS[topic];
    if (topic !== undefined && entry === undefined) throw new UsageError(`Unknown crash subcommand '${topic}'.\n${overview()}`);
    output.out(`${entry === undefined ? overview() : (await entry.load()).subcommand.usage}\n`);
    return 0;
  }
  const entry = name === undefined ? undefined : SUBCOMMANDS[name];
  if (entry === undefined) throw new UsageError(name === undefined ? overview() : `Unknown crash subcommand '${name}'.\n${overview()}`);
  const { subcommand } = await entry.load();
  try {
    return await subcommand.run(rest, output);
  } catch (error) {
    // parseArgs's own errors get the subcommand's usage, not the overview.
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) throw new UsageError(`${(error as Error).message}\n${subcommand.usage}`, { cause: error });
    throw error;
  }
}

/** `crash SUBCOMMAND` as the JSON output's `command` names it, on success and failure alike. */
function nameFor(args: readonly string[]): string {
  const { word } = splitCommandWord(args);
  return word !== undefined && word in SUBCOMMANDS ? `crash ${word}` : 'crash';
}

export const command: Command = { usage: overview(), run, ownsHelp: true, nameFor };

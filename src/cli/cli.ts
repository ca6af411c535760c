import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { globalFlags, splitCommandWord } from './args.js';
import { exitCodeFor, ExitCode } from './exit-codes.js';
import { errorToJson, formatErrorText, writeJson, type CommandOutput } from './output.js';

/**
 * Every command, registered once; handlers are imported only when run, so `kexec-ts status`
 * does not pay for the others. main.ts turns the returned number into the exit code.
 */
/** What each command module exports. */
export interface Command {
  readonly usage: string;
  /** The command reads --help itself (one with subcommands shows the subcommand's usage). */
  readonly ownsHelp?: boolean;
  /** The `command` of its JSON output, when it is more than the word (`crash save`). */
  nameFor?(args: readonly string[]): string;
  run(args: string[], output: CommandOutput): Promise<number>;
}

const COMMANDS: Record<string, { readonly summary: string; readonly load: () => Promise<{ command: Command }> }> = {
  status: { summary: 'whether this machine can kexec, and why not', load: () => import('./commands/status.js') },
  load: { summary: 'load a kernel (and initrd) for a later exec, or as the crash kernel', load: () => import('./commands/load.js') },
  unload: { summary: 'unload the loaded kernel or crash kernel', load: () => import('./commands/unload.js') },
  exec: { summary: 'hand off to the loaded kernel', load: () => import('./commands/exec.js') },
  list: { summary: 'every boot entry of this machine, the default marked', load: () => import('./commands/list.js') },
  reboot: { summary: 'fast reboot into the default (or a named) boot entry; --dry-run to check', load: () => import('./commands/reboot.js') },
  inspect: { summary: 'what a kernel image or initrd is, and whether it is loadable here', load: () => import('./commands/inspect.js') },
  crash: { summary: 'kdump: arm the capture kernel, build a capture initrd, save and read dumps', load: () => import('./commands/crash.js') },
};

function overview(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
  const lines = Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`);
  return `Usage: kexec-ts COMMAND [options]   (every command takes --json and --help)\n\nCommands:\n${lines.join('\n')}\n`;
}

function version(): string {
  const packageJson = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return packageJson.version;
}

export async function main(argv: string[], output: Omit<CommandOutput, 'json'>): Promise<number> {
  // --json and --help count where a command's own parse will see them as flags (src/cli/args.ts);
  // they are left in its arguments, which it parses with them.
  const { json, help } = globalFlags(argv);
  const commandOutput: CommandOutput = { json, out: output.out, err: output.err };
  const { word: name, rest } = splitCommandWord(argv);
  let commandName: string | null = name ?? null;
  try {
    if (name === undefined || name === 'help') {
      if (name === undefined && !help) throw new UsageError(`No command given.\n${overview()}`);
      output.out(overview());
      return ExitCode.OK;
    }
    if (name === '--version' || name === '-V') {
      commandName = 'version';
      if (json) writeJson(commandOutput, { ok: true, command: 'version', version: version() });
      else output.out(`${version()}\n`);
      return ExitCode.OK;
    }
    const entry = COMMANDS[name];
    if (entry === undefined) throw new UsageError(`Unknown command '${name}'.\n${overview()}`);
    const { command } = await entry.load();
    commandName = command.nameFor?.(rest) ?? name;
    if (command.ownsHelp !== true && globalFlags(rest).help) {
      output.out(`${command.usage}\n`);
      return ExitCode.OK;
    }
    try {
      return await command.run(rest, commandOutput);
    } catch (error) {
      // parseArgs throws a TypeError with an ERR_PARSE_ARGS_* code for unknown options.
      const code = (error as NodeJS.ErrnoException).code;
      if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
        throw new UsageError(`${(error as Error).message}\n${command.usage}`, { cause: error });
      }
      throw error;
    }
  } catch (error) {
    if (json) writeJson(commandOutput, { ok: false, command: commandName, error: errorToJson(error) });
    else output.err(formatErrorText(error));
    return exitCodeFor(error);
  }
}

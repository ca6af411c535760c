import { parseArgs, type ParseArgsConfig } from 'node:util';

export type CommandOptions = NonNullable<ParseArgsConfig['options']>;

/**
 * The flags every command takes. They are parsed where the command's own options are, so they
 * count only where parseArgs sees a flag: not after `--`, and not as an option's value (which
 * parseArgs refuses when it starts with '-', unless written `--append=--json`).
 */
const GLOBAL_OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies CommandOptions;

const HELP_TOKENS: readonly string[] = ['--help', '-h'];

/** A command's arguments, with --json and --help allowed anywhere a flag may be. */
export function parseCommandArgs<const T extends CommandOptions>(
  args: string[],
  options: T,
  allowPositionals = true,
): ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; strict: true; options: T & typeof GLOBAL_OPTIONS }>> {
  return parseArgs({ args, allowPositionals, strict: true, options: { ...options, ...GLOBAL_OPTIONS } }) as never;
}

/**
 * --json and --help as parseArgs will take them, known before a command parses its arguments
 * (the usage is shown, or an error printed as JSON, even when that parse fails): the tokens
 * before `--`. A value position cannot hold them, as said above, so this scan agrees with it.
 */
export function globalFlags(args: readonly string[]): { json: boolean; help: boolean } {
  const end = args.indexOf('--');
  const flags = end === -1 ? args : args.slice(0, end);
  return { json: flags.includes('--json'), help: flags.some((arg) => HELP_TOKENS.includes(arg)) };
}

/** `args` without the --help tokens before `--` (a command with subcommands reads help itself). */
export function withoutHelp(args: readonly string[]): string[] {
  const end = args.indexOf('--');
  return args.filter((arg, index) => !(HELP_TOKENS.includes(arg) && (end === -1 || index < end)));
}

/** The first word that is not one of the global flags (before `--`), and the others around it. */
export function splitCommandWord(args: readonly string[]): { word: string | undefined; rest: string[] } {
  const end = args.indexOf('--');
  const index = args.findIndex((arg, at) => (end === -1 || at < end) && arg !== '--json' && !HELP_TOKENS.includes(arg));
  if (index === -1) return { word: undefined, rest: [...args] };
  return { word: args[index], rest: [...args.slice(0, index), ...args.slice(index + 1)] };
}

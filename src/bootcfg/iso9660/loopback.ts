/**
 * What a config needs for a boot from an image file, and what it adds for one. The
 * loopback.cfg convention (https://www.supergrubdisk.org/wiki/Loopback.cfg) guarantees one
 * variable: the boot loader that found the image as a file sets `iso_path` to the file's path on
 * its file system, exports it, and runs /boot/grub/loopback.cfg with the image as root. Each
 * distribution turns it into its own kernel arguments: `iso-scan/filename=${iso_path}` (Debian's
 * installer, Ubuntu's casper), `findiso=${iso_path}` (Debian live-boot), `img_loop=${iso_path}`
 * with `img_dev=UUID=...` (Arch, whose config asks GRUB's `probe --fs-uuid` for the file
 * system's UUID). Some grub.cfg files test `${iso_path}` themselves. Rather than knowing each
 * distribution, the configs are run with and without `iso_path` and the words that differ are
 * what a boot from the file adds. Pure.
 */
import { parseGrubScript, type Statement, type Word } from '../grub/parse.js';
import type { BootEntry } from '../types.js';

/** A `probe --fs-uuid --set VAR` in a config: GRUB would put the file system's UUID in VAR. */
export interface FsUuidProbe {
  variable: string;
  line: number;
}

/** The literal text of a word, variables left as NUL (never part of an option name). */
function literal(word: Word): string {
  return word.map((part) => (part.kind === 'text' ? part.text : '\0')).join('');
}

function probeOf(words: Word[], line: number): FsUuidProbe | undefined {
  const argv = words.map(literal);
  if (argv[0] !== 'probe') return undefined;
  let variable: string | undefined;
  let fsUuid = false;
  for (let index = 1; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === '--fs-uuid' || arg === '-u') fsUuid = true;
    else if ((arg === '--set' || arg === '-s') && argv[index + 1] !== undefined) variable = argv[++index];
    else if (arg.startsWith('--set=')) variable = arg.slice('--set='.length);
  }
  return fsUuid && variable !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(variable) ? { variable, line } : undefined;
}

/** Every `probe --fs-uuid --set VAR` of a GRUB script, however deeply nested. */
export function fsUuidProbes(text: string): FsUuidProbe[] {
  const probes: FsUuidProbe[] = [];
  const visit = (statements: Statement[]): void => {
    for (const statement of statements) {
      switch (statement.kind) {
        case 'command': {
          const probe = probeOf(statement.words, statement.line);
          if (probe !== undefined) probes.push(probe);
          break;
        }
        case 'if':
          for (const branch of statement.branches) {
            visit(branch.condition);
            visit(branch.body);
          }
          if (statement.otherwise) visit(statement.otherwise);
          break;
        case 'loop':
          visit(statement.condition);
          visit(statement.body);
          break;
        case 'for':
        case 'function':
        case 'menu':
          visit(statement.body);
          break;
      }
    }
  };
  visit(parseGrubScript(text).statements);
  return probes;
}

/**
 * A kernel command line's arguments as the kernel splits them (lib/cmdline.c, next_arg):
 * at blanks, except inside double quotes, which stay part of the argument.
 */
export function commandLineArgs(cmdline: string): string[] {
  const args: string[] = [];
  let current = '';
  let quoted = false;
  for (const char of cmdline) {
    if (char === '"') quoted = !quoted;
    if (!quoted && /\s/.test(char)) {
      if (current !== '') args.push(current);
      current = '';
      continue;
    }
    current += char;
  }
  if (current !== '') args.push(current);
  return args;
}

/** Arguments of `withPath` that `without` lacks (as a multiset), in order. */
export function addedArgs(withPath: string, without: string): string[] {
  const remaining = new Map<string, number>();
  for (const arg of commandLineArgs(without)) remaining.set(arg, (remaining.get(arg) ?? 0) + 1);
  const added: string[] = [];
  for (const arg of commandLineArgs(withPath)) {
    const left = remaining.get(arg) ?? 0;
    if (left > 0) remaining.set(arg, left - 1);
    else added.push(arg);
  }
  return added;
}

function entryKey(entry: BootEntry): string {
  return [entry.source.file, entry.source.line, entry.id, ...(entry.menuPath ?? [])].join('\0');
}

/**
 * For each entry of the run with `iso_path` set, the arguments it has that the same entry (same
 * file, line, id and submenu) lacks in the run without. An entry only the first run has (a
 * config that adds entries for a file boot) gets the arguments that mention the path or UUID.
 */
export function loopbackArgsByEntry(withPath: readonly BootEntry[], without: readonly BootEntry[], mentions: readonly string[]): string[][] {
  const plain = new Map<string, BootEntry>();
  for (const entry of without) if (!plain.has(entryKey(entry))) plain.set(entryKey(entry), entry);
  return withPath.map((entry) => {
    const counterpart = plain.get(entryKey(entry));
    if (counterpart !== undefined) return addedArgs(entry.cmdline, counterpart.cmdline);
    return commandLineArgs(entry.cmdline).filter((arg) => mentions.some((text) => text !== '' && arg.includes(text)));
  });
}

/**
 * GRUB's commands as the interpreter runs them: those that change variables, positional
 * parameters or control flow (set, unset, export, shift, setparams, eval, break, continue,
 * return, exit, test, true, false), read files (load_env, source, configfile, blscfg), print
 * (echo, to the interpreter's output hook), and, in a menu entry's body, the boot commands
 * that are recorded (linux, initrd, devicetree, chainloader...). The rest succeed and change
 * nothing (HARMLESS_COMMANDS), answer "no" (FALSE_COMMANDS), or are unknown: a warning, and
 * they fail as GRUB's "can't find command" does. Semantics from the GRUB manual ("Shell-like
 * scripting", "Command-line and menu entry commands") and grub-core/script/execute.c.
 */
import { WarningSink } from '../text.js';
import { BootConfigWarningCode } from '../types.js';
import {
  echoText,
  evaluateTest,
  FALSE_COMMANDS,
  HARMLESS_COMMANDS,
  INITRD_COMMANDS,
  KERNEL_COMMANDS,
  nonLinuxBootCommand,
  parseSearchArguments,
  recordBootCommand,
  type EntryActions,
} from './commands.js';
import type { Context, Frame } from './context.js';
import { ControlSignal, LoopSignal, parseCount } from './control.js';
import type { GrubFiles } from './files.js';
import { parseGrubenv } from './grubenv.js';

/** What the commands need of the interpreter running them. */
export interface BuiltinHost {
  readonly files: GrubFiles;
  readonly sink: WarningSink;
  readonly currentFile: string;
  /** `$?`: the status of the last command. */
  readonly lastStatus: number;
  /** Loops enclosing the command in the current function (or top level). */
  readonly activeLoops: number;
  /** Set while a menu entry's body runs: where its boot commands are recorded. */
  readonly recording: { actions: EntryActions; title: string } | undefined;
  /** Receives what `echo` prints. */
  readonly output: ((text: string) => void) | undefined;
  setVariable(context: Context, name: string, value: string): void;
  sourceFile(path: string | undefined, context: Context, line: number): number;
  evalScript(text: string, context: Context, frame: Frame, line: number): number;
  blscfg(context: Context): void;
  /** Reports an unknown command once per place it appears. */
  warnUnknownCommand(name: string, line: number): void;
}

export function runBuiltin(host: BuiltinHost, name: string, args: string[], context: Context, frame: Frame, line: number): number {
  if (host.recording && recordBootCommand(host.recording.actions, name, args, host.recording.title, line)) return 0;
  switch (name) {
    case 'set': {
      const assignment = args[0];
      if (assignment === undefined) return 0;
      const equals = assignment.indexOf('=');
      if (equals < 0) return 0;
      host.setVariable(context, assignment.slice(0, equals), assignment.slice(equals + 1));
      return 0;
    }
    case 'unset':
      for (const variable of args) context.vars.delete(variable);
      return 0;
    case 'export':
      for (const variable of args) context.exported.add(variable);
      return 0;
    case '[':
      // GRUB evaluates it all the same; a missing `]` is most likely a typo worth seeing.
      if (args[args.length - 1] !== ']') host.sink.add(BootConfigWarningCode.SYNTAX_ERROR, '"[" without a closing "]"', host.currentFile, line);
      return evaluateTest(args, host.files.tests()) ? 0 : 1;
    case 'test':
      return evaluateTest(args, host.files.tests()) ? 0 : 1;
    case 'true':
      return 0;
    case 'false':
      return 1;
    case 'echo':
      host.output?.(echoText(args));
      return 0;
    case 'eval':
      return host.evalScript(args.join(' '), context, frame, line);
    case 'return': {
      const status = args.length > 1 ? undefined : parseCount(args[0], host.lastStatus);
      if (status === undefined) return badCount(host, name, args, line);
      throw new ControlSignal('return', status);
    }
    case 'break':
    case 'continue': {
      const count = args.length > 1 ? undefined : parseCount(args[0], 1);
      if (count === undefined || count === 0) return badCount(host, name, args, line);
      const loops = Math.min(count, host.activeLoops);
      // Outside a loop GRUB's break does nothing and succeeds.
      if (loops === 0) return 0;
      throw new LoopSignal(name, loops);
    }
    case 'exit':
      throw new ControlSignal('exit', parseCount(args[0], 0) ?? 0);
    case 'shift': {
      const count = args.length > 1 ? undefined : parseCount(args[0], 1);
      // Shifting past `$#` fails and shifts nothing (GRUB and POSIX sh alike).
      if (count === undefined || count > frame.positional.length) return 1;
      frame.positional = frame.positional.slice(count);
      return 0;
    }
    case 'setparams':
      frame.positional = [...args];
      return 0;
    case 'load_env':
      return loadEnv(host, args, context);
    case 'search': {
      const search = parseSearchArguments(args);
      if (search.variable !== undefined && search.key !== undefined) {
        // The device cannot be known without the disks; keep what was searched for.
        host.setVariable(context, search.variable, `${search.kind}=${search.key}`);
      }
      return 0;
    }
    case 'search.fs_uuid':
    case 'search.fs_label':
    case 'search.file': {
      // The short forms Debian's and Ubuntu's ESP stubs use: `search.fs_uuid UUID VARIABLE [HINT...]`.
      const kind = name === 'search.fs_uuid' ? 'fs-uuid' : name === 'search.fs_label' ? 'label' : 'file';
      if (args[0] !== undefined && args[1] !== undefined) host.setVariable(context, args[1], `${kind}=${args[0]}`);
      return 0;
    }
    case 'source':
    case 'configfile':
      return host.sourceFile(args[0], context, line);
    case 'blscfg':
      host.blscfg(context);
      return 0;
    default:
      break;
  }
  if (HARMLESS_COMMANDS.has(name)) return 0;
  if (FALSE_COMMANDS.has(name)) return 1;
  if (KERNEL_COMMANDS.has(name) || INITRD_COMMANDS.has(name) || nonLinuxBootCommand(name, args, '') || name === 'devicetree') {
    return 0; // Boot commands outside an entry load nothing we can offer.
  }
  host.warnUnknownCommand(name, line);
  return 1;
}

function badCount(host: BuiltinHost, name: string, args: readonly string[], line: number): number {
  host.sink.add(BootConfigWarningCode.SYNTAX_ERROR, `${name}: bad count "${args.join(' ')}"`, host.currentFile, line);
  return 1;
}

function loadEnv(host: BuiltinHost, args: readonly string[], context: Context): number {
  let file: string | undefined;
  const names: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index]!;
    if (arg === '-f' || arg === '--file') file = args[++index];
    else if (arg.startsWith('--file=')) file = arg.slice('--file='.length);
    else if (arg.startsWith('-')) continue;
    else names.push(arg);
  }
  const found = host.files.read(file ?? `${context.vars.get('prefix') ?? ''}/grubenv`);
  if (found === undefined) return 1;
  const variables = parseGrubenv(found.text, found.file);
  for (const [name, value] of variables) {
    if (names.length === 0 || names.includes(name)) host.setVariable(context, name, value);
  }
  return 0;
}

/**
 * Runs a parsed grub.cfg the way GRUB's normal mode does, far enough to know its menu: the
 * top-level script runs first (variables, functions, `load_env`, `if` on GRUB's feature flags,
 * `source`), registering menu entries; then each entry's body runs against the variables as
 * they stand when the menu is shown, which is what GRUB does when an entry is chosen. A
 * submenu's body runs in a new context that sees only exported variables
 * (grub-core/kern/env.c, grub_env_context_open). Nothing touches the machine: files come
 * through the reader, and commands that would draw, probe hardware or boot are recorded or
 * ignored. Unknown commands become warnings and fail, as they do in GRUB.
 */
import { BOOTCFG_LIMITS } from '../../limits.js';
import { assertConfigSize, WarningSink } from '../text.js';
import { BootConfigWarningCode, type BootFileReader } from '../types.js';
import {
  evaluateTest,
  FALSE_COMMANDS,
  HARMLESS_COMMANDS,
  INITRD_COMMANDS,
  KERNEL_COMMANDS,
  nonLinuxBootCommand,
  recordBootCommand,
  parseMenuentryArguments,
  parseSearchArguments,
  type EntryActions,
} from './commands.js';

import { copyContext, expandWords, lookupVariable, type Context, type Frame } from './context.js';
import { GrubFiles } from './files.js';
import { parseGrubenv } from './grubenv.js';
import { GrubParseCache, type Statement, type Word } from './parse.js';

export interface PendingMenuItem {
  kind: 'entry' | 'submenu';
  title: string;
  id: string | undefined;
  positional: string[];
  body: Statement[];
  file: string;
  line: number;
  /** Set for entries `blscfg` made: their paths are relative to the BLS partition. */
  pathBases?: string[];
  version?: string;
}

class ControlSignal {
  constructor(readonly kind: 'return' | 'break' | 'continue' | 'exit', readonly status: number) {}
}
class BudgetExhausted {}

export interface InterpreterOptions {
  /** Where relative-to-device paths may live in the reader's namespace (default `['/', '/boot']`). */
  pathBases: string[];
  /** Variables GRUB would have at start-up, merged over the built-in ones. */
  variables: Record<string, string>;
  /** Called by `blscfg`: the BLS entries to add to the current menu. */
  blscfg: (interpreter: GrubInterpreter, context: Context) => PendingMenuItem[];
}

export class GrubInterpreter {
  readonly functions = new Map<string, Statement[]>();
  private commandsExecuted = 0;
  private lastStatus = 0;
  private depth = 0;
  private readonly fileStack: string[] = [];
  private readonly parses = new GrubParseCache();
  private menu: PendingMenuItem[] = [];
  private recorder: EntryActions | undefined;
  private recorderTitle = '';
  private itemCount = 0;
  private readonly warnedCommands = new Set<string>();
  private truncatedValue = false;

  readonly files: GrubFiles;

  constructor(
    readonly reader: BootFileReader,
    readonly sink: WarningSink,
    readonly options: InterpreterOptions,
  ) {
    this.files = new GrubFiles(reader, options.pathBases);
  }

  get currentFile(): string {
    return this.fileStack[this.fileStack.length - 1] ?? 'grub.cfg';
  }

  /** Parses and runs a file at top level or through `source`, adding its entries to `menu`. */
  runFile(text: string, file: string, context: Context, menu: PendingMenuItem[]): void {
    if (this.fileStack.length >= BOOTCFG_LIMITS.includeDepth) {
      this.sink.add(BootConfigWarningCode.LIMIT_REACHED, `files sourced deeper than ${BOOTCFG_LIMITS.includeDepth}; ${file} not read`, this.currentFile);
      return;
    }
    assertConfigSize(text, 'grub.cfg', file);
    const parsed = this.parses.parse(text, file);
    for (const problem of parsed.problems) this.sink.add(BootConfigWarningCode.SYNTAX_ERROR, problem.message, file, problem.line);
    const savedMenu = this.menu;
    this.menu = menu;
    this.fileStack.push(file);
    try {
      this.runGuarded(parsed.statements, context, { positional: [] });
    } finally {
      this.fileStack.pop();
      this.menu = savedMenu;
    }
  }

  /** Runs statements; the command budget running out stops them with a warning, never a throw. */
  runGuarded(statements: Statement[], context: Context, frame: Frame): void {
    try {
      this.runList(statements, context, frame);
    } catch (error) {
      if (error instanceof ControlSignal) return;
      if (error instanceof BudgetExhausted) {
        if (this.commandsExecuted === BOOTCFG_LIMITS.grubCommandsExecuted + 1) {
          this.sink.add(BootConfigWarningCode.LIMIT_REACHED, `stopped after ${BOOTCFG_LIMITS.grubCommandsExecuted} commands (a loop that does not end?)`, this.currentFile);
          this.commandsExecuted++;
        }
        return;
      }
      throw error;
    }
  }

  /** Runs an entry's body in a copy of `context` and reports what it would boot. */
  runEntryBody(item: PendingMenuItem, context: Context): EntryActions {
    const actions: EntryActions = { kernelArgs: [], initrds: [] };
    const savedRecorder = this.recorder;
    this.recorder = actions;
    this.recorderTitle = item.title;
    this.fileStack.push(item.file);
    try {
      this.runGuarded(item.body, copyContext(context, false), { positional: item.positional });
    } finally {
      this.fileStack.pop();
      this.recorder = savedRecorder;
    }
    return actions;
  }

  /** Runs a submenu's body in a new context of exported variables and returns its items. */
  runSubmenuBody(item: PendingMenuItem, context: Context): { items: PendingMenuItem[]; context: Context } {
    const inner = copyContext(context, true);
    const items: PendingMenuItem[] = [];
    const savedMenu = this.menu;
    this.menu = items;
    this.fileStack.push(item.file);
    try {
      this.runGuarded(item.body, inner, { positional: item.positional });
    } finally {
      this.fileStack.pop();
      this.menu = savedMenu;
    }
    return { items, context: inner };
  }

  /** Word expansion with this interpreter's variables and `$?`. */
  expandWords(words: readonly Word[], context: Context, frame: Frame): string[] {
    return expandWords(words, (name) => lookupVariable(name, context, frame, this.lastStatus), () => this.warnTruncated());
  }

  private runList(statements: Statement[], context: Context, frame: Frame): number {
    let status = 0;
    for (const statement of statements) status = this.runStatement(statement, context, frame);
    return status;
  }

  private runStatement(statement: Statement, context: Context, frame: Frame): number {
    if (++this.commandsExecuted > BOOTCFG_LIMITS.grubCommandsExecuted) throw new BudgetExhausted();
    switch (statement.kind) {
      case 'command': {
        const status = this.runCommand(statement.words, context, frame, statement.line);
        this.lastStatus = statement.negated ? (status === 0 ? 1 : 0) : status;
        return this.lastStatus;
      }
      case 'if':
        for (const branch of statement.branches) {
          if (this.runList(branch.condition, context, frame) === 0) return this.runList(branch.body, context, frame);
        }
        return statement.otherwise ? this.runList(statement.otherwise, context, frame) : 0;
      case 'loop':
        for (;;) {
          const conditionHolds = this.runList(statement.condition, context, frame) === 0;
          if (conditionHolds === statement.until) return 0;
          if (this.runLoopBody(statement.body, context, frame) === 'break') return 0;
        }
      case 'for':
        for (const item of this.expandWords(statement.items, context, frame)) {
          context.vars.set(statement.variable, item);
          if (this.runLoopBody(statement.body, context, frame) === 'break') break;
        }
        return 0;
      case 'function':
        this.functions.set(statement.name, statement.body);
        return 0;
      case 'menu':
        this.registerMenuItem(statement, context, frame);
        return 0;
    }
  }

  private runLoopBody(body: Statement[], context: Context, frame: Frame): 'break' | 'next' {
    try {
      this.runList(body, context, frame);
    } catch (error) {
      if (error instanceof ControlSignal && error.kind === 'break') return 'break';
      if (error instanceof ControlSignal && error.kind === 'continue') return 'next';
      throw error;
    }
    return 'next';
  }

  private registerMenuItem(statement: Extract<Statement, { kind: 'menu' }>, context: Context, frame: Frame): void {
    const command = statement.submenu ? 'submenu' : 'menuentry';
    const args = parseMenuentryArguments(this.expandWords(statement.words, context, frame));
    for (const option of args.unknownOptions) {
      this.sink.add(BootConfigWarningCode.UNKNOWN_KEY, `${command}: unknown option ${option}`, this.currentFile, statement.line);
    }
    if (args.title === undefined) {
      this.sink.add(BootConfigWarningCode.SYNTAX_ERROR, `${command} without a title`, this.currentFile, statement.line);
      return;
    }
    this.addMenuItem({
      kind: statement.submenu ? 'submenu' : 'entry',
      title: args.title,
      id: args.id,
      positional: args.extra,
      body: statement.body,
      file: this.currentFile,
      line: statement.line,
    });
  }

  addMenuItem(item: PendingMenuItem): void {
    if (++this.itemCount > BOOTCFG_LIMITS.entries) {
      if (this.itemCount === BOOTCFG_LIMITS.entries + 1) {
        this.sink.add(BootConfigWarningCode.LIMIT_REACHED, `more than ${BOOTCFG_LIMITS.entries} menu items; the rest are ignored`, item.file, item.line);
      }
      return;
    }
    this.menu.push(item);
  }

  private runCommand(words: Word[], context: Context, frame: Frame, line: number): number {
    const first = words[0]?.[0];
    // `name=value` is an assignment (GRUB manual, "Shell-like scripting").
    if (first?.kind === 'text' && !first.quoted && /^[A-Za-z_][A-Za-z0-9_]*=/.test(first.text)) {
      const argv = this.expandWords(words.slice(0, 1), context, frame);
      const assignment = argv[0] ?? '';
      const equals = assignment.indexOf('=');
      this.setVariable(context, assignment.slice(0, equals), assignment.slice(equals + 1));
      return 0;
    }
    const argv = this.expandWords(words, context, frame);
    const name = argv[0];
    if (name === undefined) return 0;
    const args = argv.slice(1);
    const body = this.functions.get(name);
    if (body) return this.callFunction(body, args, context);
    return this.runBuiltin(name, args, context, frame, line);
  }

  private callFunction(body: Statement[], args: string[], context: Context): number {
    if (++this.depth > BOOTCFG_LIMITS.nestingDepth) {
      this.depth--;
      this.sink.add(BootConfigWarningCode.LIMIT_REACHED, `function calls nested deeper than ${BOOTCFG_LIMITS.nestingDepth}`, this.currentFile);
      return 1;
    }
    try {
      return this.runList(body, context, { positional: args });
    } catch (error) {
      if (error instanceof ControlSignal && error.kind === 'return') return error.status;
      throw error;
    } finally {
      this.depth--;
    }
  }

  private runBuiltin(name: string, args: string[], context: Context, frame: Frame, line: number): number {
    if (this.recorder && recordBootCommand(this.recorder, name, args, this.recorderTitle, line)) return 0;
    switch (name) {
      case 'set': {
        const assignment = args[0];
        if (assignment === undefined) return 0;
        const equals = assignment.indexOf('=');
        if (equals < 0) return 0;
        this.setVariable(context, assignment.slice(0, equals), assignment.slice(equals + 1));
        return 0;
      }
      case 'unset':
        for (const variable of args) context.vars.delete(variable);
        return 0;
      case 'export':
        for (const variable of args) context.exported.add(variable);
        return 0;
      case '[':
        if (args[args.length - 1] !== ']') {
          this.sink.add(BootConfigWarningCode.SYNTAX_ERROR, '"[" without a closing "]"', this.currentFile, line);
          return 1;
        }
        return evaluateTest(args.slice(0, -1), this.files.tests()) ? 0 : 1;
      case 'test':
        return evaluateTest(args, this.files.tests()) ? 0 : 1;
      case 'true':
        return 0;
      case 'false':
        return 1;
      case 'return':
        throw new ControlSignal('return', args[0] === undefined ? this.lastStatus : Number.parseInt(args[0], 10) || 0);
      case 'break':
        throw new ControlSignal('break', 0);
      case 'continue':
        throw new ControlSignal('continue', 0);
      case 'exit':
        throw new ControlSignal('exit', 0);
      case 'shift':
        frame.positional.shift();
        return 0;
      case 'setparams':
        frame.positional = [...args];
        return 0;
      case 'load_env':
        return this.loadEnv(args, context);
      case 'search': {
        const search = parseSearchArguments(args);
        if (search.variable !== undefined && search.key !== undefined) {
          // The device cannot be known without the disks; keep what was searched for.
          this.setVariable(context, search.variable, `${search.kind}=${search.key}`);
        }
        return 0;
      }
      case 'source':
      case 'configfile':
        return this.sourceFile(args[0], context, line);
      case 'blscfg':
        for (const item of this.options.blscfg(this, context)) this.addMenuItem(item);
        return 0;
      default:
        break;
    }
    if (HARMLESS_COMMANDS.has(name)) return 0;
    if (FALSE_COMMANDS.has(name)) return 1;
    if (KERNEL_COMMANDS.has(name) || INITRD_COMMANDS.has(name) || nonLinuxBootCommand(name, args, '') || name === 'devicetree') {
      return 0; // Boot commands outside an entry load nothing we can offer.
    }
    const key = `${this.currentFile}:${line}:${name}`;
    if (!this.warnedCommands.has(key)) {
      this.warnedCommands.add(key);
      this.sink.add(BootConfigWarningCode.UNKNOWN_COMMAND, `unknown command "${name}" (treated as failing)`, this.currentFile, line);
    }
    return 1;
  }

  private setVariable(context: Context, name: string, value: string): void {
    if (value.length > BOOTCFG_LIMITS.grubValueChars) {
      this.warnTruncated();
      value = value.slice(0, BOOTCFG_LIMITS.grubValueChars);
    }
    context.vars.set(name, value);
  }

  private warnTruncated(): void {
    if (this.truncatedValue) return;
    this.truncatedValue = true;
    this.sink.add(BootConfigWarningCode.LIMIT_REACHED, `a value longer than ${BOOTCFG_LIMITS.grubValueChars} characters was cut`, this.currentFile);
  }

  private loadEnv(args: string[], context: Context): number {
    let file: string | undefined;
    const names: string[] = [];
    for (let index = 0; index < args.length; index++) {
      const arg = args[index]!;
      if (arg === '-f' || arg === '--file') file = args[++index];
      else if (arg.startsWith('--file=')) file = arg.slice('--file='.length);
      else if (arg.startsWith('-')) continue;
      else names.push(arg);
    }
    const found = this.files.read(file ?? `${context.vars.get('prefix') ?? ''}/grubenv`);
    if (found === undefined) return 1;
    const variables = parseGrubenv(found.text, found.file);
    for (const [name, value] of variables) {
      if (names.length === 0 || names.includes(name)) this.setVariable(context, name, value);
    }
    return 0;
  }

  private sourceFile(path: string | undefined, context: Context, line: number): number {
    if (path === undefined) return 1;
    const found = this.files.read(path);
    if (found === undefined) {
      this.sink.add(BootConfigWarningCode.FILE_NOT_FOUND, `${path} not found; its entries are missing`, this.currentFile, line);
      return 1;
    }
    this.runFile(found.text, found.file, context, this.menu);
    return 0;
  }
}

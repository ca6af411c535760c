/**
 * Runs a parsed grub.cfg the way GRUB's normal mode does, far enough to know its menu: the
 * top-level script runs first (variables, functions, `load_env`, `if` on GRUB's feature flags,
 * `source`), registering menu entries; then each entry's body runs against the variables as
 * they stand when the menu is shown, which is what GRUB does when an entry is chosen. A
 * submenu's body runs in a new context that sees only exported variables
 * (grub-core/kern/env.c, grub_env_context_open). Nothing touches the machine: files come
 * through the reader, and commands that would draw, probe hardware or boot are recorded or
 * ignored (builtins.ts says which). Unknown commands become warnings and fail, as in GRUB.
 * Statements, loops, functions and menus are here; the commands in builtins.ts; how
 * return/break/continue leave statements in control.ts.
 */
import { BOOTCFG_LIMITS } from '../../limits.js';
import { assertConfigSize, WarningSink } from '../text.js';
import { BootConfigWarningCode, type BootFileReader } from '../types.js';
import { runBuiltin, type BuiltinHost } from './builtins.js';
import { parseMenuentryArguments, type EntryActions } from './commands.js';
import { copyContext, expandWords, lookupVariable, type Context, type Frame } from './context.js';
import { BudgetExhausted, ControlSignal, LoopSignal, loopOutcome } from './control.js';
import { GrubFiles } from './files.js';
import { GrubParseCache, parseGrubScript, type Statement, type Word } from './parse.js';

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

/**
 * `eval` parses text the command budget does not see; each eval is charged one command per
 * this many characters of it, so evaluating a long value in a loop stays bounded by the budget.
 */
const EVAL_CHARACTERS_PER_COMMAND = 64;

export interface InterpreterOptions {
  /** Where relative-to-device paths may live in the reader's namespace (default `['/', '/boot']`). */
  pathBases: string[];
  /** Variables GRUB would have at start-up, merged over the built-in ones. */
  variables: Record<string, string>;
  /** Called by `blscfg`: the BLS entries to add to the current menu. */
  blscfg: (interpreter: GrubInterpreter, context: Context) => PendingMenuItem[];
  /** Receives what `echo` prints, as GRUB would print it on its console. Default: discarded. */
  output?: (text: string) => void;
}

export class GrubInterpreter implements BuiltinHost {
  readonly functions = new Map<string, Statement[]>();
  private commandsExecuted = 0;
  private status = 0;
  private loops = 0;
  private depth = 0;
  private readonly fileStack: string[] = [];
  private readonly parses = new GrubParseCache();
  private menu: PendingMenuItem[] = [];
  private recorder: { actions: EntryActions; title: string } | undefined;
  private itemCount = 0;
  private readonly warnedCommands = new Set<string>();
  private truncatedValue = false;
  private budgetReported = false;
  private nestingReported = false;

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

  /** `$?`: the status of the last command run. */
  get lastStatus(): number {
    return this.status;
  }

  get activeLoops(): number {
    return this.loops;
  }

  get recording(): { actions: EntryActions; title: string } | undefined {
    return this.recorder;
  }

  get output(): ((text: string) => void) | undefined {
    return this.options.output;
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
      if (error instanceof ControlSignal || error instanceof LoopSignal) return;
      if (error instanceof BudgetExhausted) {
        if (!this.budgetReported) {
          this.budgetReported = true;
          this.sink.add(BootConfigWarningCode.LIMIT_REACHED, `stopped after ${BOOTCFG_LIMITS.grubCommandsExecuted} commands (a loop that does not end?)`, this.currentFile);
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
    this.recorder = { actions, title: item.title };
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
    return expandWords(words, (name) => lookupVariable(name, context, frame, this.status), () => this.warnTruncated(), frame.positional);
  }

  private runList(statements: Statement[], context: Context, frame: Frame): number {
    let status = 0;
    for (const statement of statements) status = this.runStatement(statement, context, frame);
    return status;
  }

  private runStatement(statement: Statement, context: Context, frame: Frame): number {
    this.charge(1);
    switch (statement.kind) {
      case 'command': {
        const status = this.runCommand(statement.words, context, frame, statement.line);
        this.status = statement.negated ? (status === 0 ? 1 : 0) : status;
        return this.status;
      }
      case 'if':
        for (const branch of statement.branches) {
          if (this.runList(branch.condition, context, frame) === 0) return this.runList(branch.body, context, frame);
        }
        return statement.otherwise ? this.runList(statement.otherwise, context, frame) : 0;
      case 'loop':
        return this.inLoop(() => {
          // As GRUB's cmdwhile: the loop's status is its condition's when that ends it.
          for (;;) {
            const condition = this.runList(statement.condition, context, frame);
            if ((condition === 0) === statement.until) return condition;
            const round = this.runLoopBody(statement.body, context, frame);
            if (round.stop) return round.status;
          }
        });
      case 'for':
        return this.inLoop(() => {
          let status = 0;
          for (const item of this.expandWords(statement.items, context, frame)) {
            context.vars.set(statement.variable, item);
            const round = this.runLoopBody(statement.body, context, frame);
            status = round.status;
            if (round.stop) break;
          }
          return status;
        });
      case 'function':
        this.functions.set(statement.name, statement.body);
        return 0;
      case 'menu':
        this.registerMenuItem(statement, context, frame);
        return 0;
    }
  }

  private charge(commands: number): void {
    this.commandsExecuted += commands;
    if (this.commandsExecuted > BOOTCFG_LIMITS.grubCommandsExecuted) throw new BudgetExhausted();
  }

  private inLoop(run: () => number): number {
    this.loops++;
    try {
      return run();
    } finally {
      this.loops--;
    }
  }

  private runLoopBody(body: Statement[], context: Context, frame: Frame): { status: number; stop: boolean } {
    try {
      return { status: this.runList(body, context, frame), stop: false };
    } catch (error) {
      if (!(error instanceof LoopSignal)) throw error;
      return { status: 0, stop: loopOutcome(error) === 'stop' };
    }
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
    return runBuiltin(this, name, args, context, frame, line);
  }

  private callFunction(body: Statement[], args: string[], context: Context): number {
    return this.nested('function calls', () => {
      // A function starts outside any loop: its `break` cannot leave the caller's (execute.c).
      const savedLoops = this.loops;
      this.loops = 0;
      try {
        return this.runList(body, context, { positional: args });
      } catch (error) {
        if (error instanceof ControlSignal && error.kind === 'return') return error.status;
        throw error;
      } finally {
        this.loops = savedLoops;
      }
    });
  }

  private nested(what: string, run: () => number): number {
    if (this.depth >= BOOTCFG_LIMITS.nestingDepth) {
      // Once: a recursion retried in a loop would otherwise warn on every round.
      if (!this.nestingReported) this.sink.add(BootConfigWarningCode.LIMIT_REACHED, `${what} nested deeper than ${BOOTCFG_LIMITS.nestingDepth}`, this.currentFile);
      this.nestingReported = true;
      return 1;
    }
    this.depth++;
    try {
      return run();
    } finally {
      this.depth--;
    }
  }

  /** `eval`: the text parsed and run here, in the caller's variables and parameters. */
  evalScript(text: string, context: Context, frame: Frame, line: number): number {
    this.charge(Math.floor(text.length / EVAL_CHARACTERS_PER_COMMAND));
    const parsed = parseGrubScript(text);
    for (const problem of parsed.problems) this.sink.add(BootConfigWarningCode.SYNTAX_ERROR, `eval: ${problem.message}`, this.currentFile, line);
    if (parsed.problems.length > 0) return 1;
    return this.nested('eval', () => this.runList(parsed.statements, context, frame));
  }

  blscfg(context: Context): void {
    for (const item of this.options.blscfg(this, context)) this.addMenuItem(item);
  }

  warnUnknownCommand(name: string, line: number): void {
    const key = `${this.currentFile}:${line}:${name}`;
    if (this.warnedCommands.has(key)) return;
    this.warnedCommands.add(key);
    this.sink.add(BootConfigWarningCode.UNKNOWN_COMMAND, `unknown command "${name}" (treated as failing)`, this.currentFile, line);
  }

  setVariable(context: Context, name: string, value: string): void {
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

  sourceFile(path: string | undefined, context: Context, line: number): number {
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

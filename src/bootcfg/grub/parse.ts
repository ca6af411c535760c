/**
 * GRUB script parser: tokens -> statements (commands, if/elif/else/fi, while/until, for,
 * function, menuentry/submenu with their bodies). Grammar from the GRUB manual ("Shell-like
 * scripting") and grub-core/script/parser.y. Keywords count only as the unquoted first word of
 * a command. Like GRUB, which parses and runs a config one statement at a time, a statement
 * with a syntax error is dropped with a problem report and parsing goes on after it.
 */
import { BOOTCFG_LIMITS } from '../../limits.js';
import { lexGrubScript, plainWordText, type Token, type WordPart } from './lex.js';

export type Word = WordPart[];

export type Statement =
  | { kind: 'command'; words: Word[]; negated: boolean; line: number }
  | { kind: 'if'; branches: { condition: Statement[]; body: Statement[] }[]; otherwise: Statement[] | undefined; line: number }
  | { kind: 'loop'; until: boolean; condition: Statement[]; body: Statement[]; line: number }
  | { kind: 'for'; variable: string; items: Word[]; body: Statement[]; line: number }
  | { kind: 'function'; name: string; body: Statement[]; line: number }
  | { kind: 'menu'; submenu: boolean; words: Word[]; body: Statement[]; line: number };

export interface ParseResult {
  statements: Statement[];
  problems: { message: string; line: number }[];
}

class SyntaxProblem extends Error {
  constructor(message: string, readonly line: number) {
    super(message);
  }
}

const BLOCK_KEYWORDS = new Set(['if', 'while', 'until', 'for', 'function', 'menuentry', 'submenu']);

class Parser {
  private position = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[]) {}

  parseProgram(problems: ParseResult['problems']): Statement[] {
    const statements: Statement[] = [];
    for (;;) {
      this.skipSeparators();
      const token = this.peek();
      if (!token) return statements;
      const start = this.position;
      try {
        if (token.kind === 'close-brace' || token.kind === 'open-brace') {
          throw new SyntaxProblem(`unexpected "${token.kind === 'close-brace' ? '}' : '{'}"`, token.line);
        }
        const keyword = plainWordText(token);
        if (keyword !== undefined && ['then', 'elif', 'else', 'fi', 'do', 'done'].includes(keyword)) {
          throw new SyntaxProblem(`unexpected "${keyword}"`, token.line);
        }
        statements.push(this.parseStatement());
      } catch (error) {
        if (!(error instanceof SyntaxProblem)) throw error;
        problems.push({ message: error.message, line: error.line });
        // Resume at the next line after the one where the bad statement started.
        this.position = Math.max(this.position, start + 1);
        this.skipToNextLine();
      }
    }
  }

  private peek(): Token | undefined {
    return this.tokens[this.position];
  }

  private skipSeparators(): void {
    while (this.peek()?.kind === 'separator') this.position++;
  }

  private skipToNextLine(): void {
    while (this.position < this.tokens.length) {
      const token = this.tokens[this.position]!;
      this.position++;
      if (token.kind === 'separator' && token.separator === 'newline') return;
    }
  }

  /** Statements until one of `terminators` (a keyword word, or `}`), which is not consumed. */
  private parseList(terminators: readonly string[], opener: string, openLine: number): Statement[] {
    if (++this.depth > BOOTCFG_LIMITS.nestingDepth) {
      throw new SyntaxProblem(`blocks nested deeper than ${BOOTCFG_LIMITS.nestingDepth}`, openLine);
    }
    const statements: Statement[] = [];
    for (;;) {
      this.skipSeparators();
      const token = this.peek();
      if (!token) throw new SyntaxProblem(`"${opener}" is never closed (expected ${terminators.join(' or ')})`, openLine);
      if (token.kind === 'close-brace') {
        if (terminators.includes('}')) break;
        throw new SyntaxProblem('unexpected "}"', token.line);
      }
      if (token.kind === 'open-brace') throw new SyntaxProblem('unexpected "{"', token.line);
      const keyword = plainWordText(token);
      if (keyword !== undefined && terminators.includes(keyword)) break;
      if (keyword !== undefined && ['then', 'elif', 'else', 'fi', 'do', 'done'].includes(keyword)) {
        throw new SyntaxProblem(`unexpected "${keyword}"`, token.line);
      }
      statements.push(this.parseStatement());
    }
    this.depth--;
    return statements;
  }

  private expectKeyword(keyword: string, opener: string, openLine: number): void {
    this.skipSeparators();
    const token = this.peek();
    if (!token || plainWordText(token) !== keyword) {
      throw new SyntaxProblem(`"${opener}" expects "${keyword}"`, token?.line ?? openLine);
    }
    this.position++;
  }

  private expectBrace(kind: 'open-brace' | 'close-brace', opener: string, openLine: number): void {
    const token = this.peek();
    if (!token || token.kind !== kind) {
      throw new SyntaxProblem(`"${opener}" expects "${kind === 'open-brace' ? '{' : '}'}"`, token?.line ?? openLine);
    }
    this.position++;
  }

  private parseStatement(): Statement {
    const first = this.peek()!;
    const keyword = plainWordText(first);
    if (keyword !== undefined && BLOCK_KEYWORDS.has(keyword)) {
      this.position++;
      switch (keyword) {
        case 'if':
          return this.parseIf(first.line);
        case 'while':
        case 'until':
          return this.parseLoop(keyword === 'until', first.line);
        case 'for':
          return this.parseFor(first.line);
        case 'function':
          return this.parseFunction(first.line);
        default:
          return this.parseMenu(keyword === 'submenu', first.line);
      }
    }
    let negated = false;
    if (keyword === '!') {
      negated = true;
      this.position++;
    }
    const words: Word[] = [];
    for (;;) {
      const token = this.peek();
      if (!token || token.kind === 'separator') break;
      // A `}` ends the enclosing block even without a separator before it.
      if (token.kind === 'close-brace') break;
      if (token.kind === 'open-brace') throw new SyntaxProblem('unexpected "{"', token.line);
      words.push(token.parts);
      this.position++;
    }
    if (words.length === 0) throw new SyntaxProblem('"!" without a command', first.line);
    return { kind: 'command', words, negated, line: first.line };
  }

  private parseIf(line: number): Statement {
    const branches: { condition: Statement[]; body: Statement[] }[] = [];
    let otherwise: Statement[] | undefined;
    let opener = 'if';
    for (;;) {
      const condition = this.parseList(['then'], opener, line);
      this.expectKeyword('then', opener, line);
      const body = this.parseList(['elif', 'else', 'fi'], opener, line);
      branches.push({ condition, body });
      const next = plainWordText(this.peek()!);
      this.position++;
      if (next === 'fi') break;
      if (next === 'else') {
        otherwise = this.parseList(['fi'], 'else', line);
        this.expectKeyword('fi', 'else', line);
        break;
      }
      opener = 'elif';
    }
    return { kind: 'if', branches, otherwise, line };
  }

  private parseLoop(until: boolean, line: number): Statement {
    const opener = until ? 'until' : 'while';
    const condition = this.parseList(['do'], opener, line);
    this.expectKeyword('do', opener, line);
    const body = this.parseList(['done'], opener, line);
    this.expectKeyword('done', opener, line);
    return { kind: 'loop', until, condition, body, line };
  }

  private parseFor(line: number): Statement {
    const nameToken = this.peek();
    const variable = nameToken ? plainWordText(nameToken) : undefined;
    if (variable === undefined || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable)) {
      throw new SyntaxProblem('"for" expects a variable name', nameToken?.line ?? line);
    }
    this.position++;
    const items: Word[] = [];
    if (this.peek() && plainWordText(this.peek()!) === 'in') {
      this.position++;
      while (this.peek()?.kind === 'word') items.push((this.peek() as Extract<Token, { kind: 'word' }>).parts), this.position++;
    }
    this.expectKeyword('do', 'for', line);
    const body = this.parseList(['done'], 'for', line);
    this.expectKeyword('done', 'for', line);
    return { kind: 'for', variable, items, body, line };
  }

  private parseFunction(line: number): Statement {
    const nameToken = this.peek();
    const name = nameToken ? plainWordText(nameToken) : undefined;
    if (name === undefined || name === '') throw new SyntaxProblem('"function" expects a name', nameToken?.line ?? line);
    this.position++;
    this.skipSeparators();
    this.expectBrace('open-brace', 'function', line);
    const body = this.parseList(['}'], 'function', line);
    this.expectBrace('close-brace', 'function', line);
    return { kind: 'function', name, body, line };
  }

  private parseMenu(submenu: boolean, line: number): Statement {
    const opener = submenu ? 'submenu' : 'menuentry';
    const words: Word[] = [];
    while (this.peek()?.kind === 'word') {
      words.push((this.peek() as Extract<Token, { kind: 'word' }>).parts);
      this.position++;
    }
    this.expectBrace('open-brace', opener, line);
    const body = this.parseList(['}'], opener, line);
    this.expectBrace('close-brace', opener, line);
    return { kind: 'menu', submenu, words, body, line };
  }
}

export function parseGrubScript(source: string): ParseResult {
  const lexed = lexGrubScript(source);
  const problems = [...lexed.problems];
  const statements = new Parser(lexed.tokens).parseProgram(problems);
  return { statements, problems };
}

/**
 * A file's parse, made once per file: a config that sources the same file thousands of times
 * (`configfile` repeated, or `source` in a loop) would otherwise parse it each time, work the
 * interpreter's command budget does not count. The same text for the same file gives the same parse.
 */
export class GrubParseCache {
  private readonly byFile = new Map<string, { text: string; parsed: ReturnType<typeof parseGrubScript> }>();

  parse(text: string, file: string): ReturnType<typeof parseGrubScript> {
    const cached = this.byFile.get(file);
    if (cached !== undefined && cached.text === text) return cached.parsed;
    const parsed = parseGrubScript(text);
    this.byFile.set(file, { text, parsed });
    return parsed;
  }
}

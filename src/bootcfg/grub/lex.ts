/**
 * GRUB script lexer: grub.cfg text -> words and separators, following the GRUB manual's
 * "Shell-like scripting" quoting rules (and grub-core/script/yylex.l):
 * - words are split on blanks; `;` and newlines end a command; `{` and `}` are tokens;
 * - `'...'` is literal; `"..."` keeps blanks and expands variables, where `\` escapes only
 *   `$`, `"`, `\` and a newline; outside quotes `\` escapes any character and `\`+newline
 *   continues the line;
 * - `$name`, `${name}`, `$1`..., `$#`, `$?`, `$@`, `$*` are variable references, expanded
 *   later; unquoted ones are split into several words at expansion (quoted ones are not);
 * - `$"..."` is a string GRUB translates with gettext; untranslated it is `"..."`;
 * - an empty quoted string (`""`, `''`) is still a word, as in the shell;
 * - `#` at the start of a word comments out the rest of the line.
 * Pure: text in, tokens out. Problems (an unterminated quote) become warnings.
 */

export type WordPart =
  | { kind: 'text'; text: string; quoted: boolean }
  | { kind: 'variable'; name: string; quoted: boolean };

export type Token =
  | { kind: 'word'; parts: WordPart[]; line: number }
  | { kind: 'separator'; separator: 'newline' | ';'; line: number }
  | { kind: 'open-brace'; line: number }
  | { kind: 'close-brace'; line: number };

export interface LexResult {
  tokens: Token[];
  problems: { message: string; line: number }[];
}

const VARIABLE_NAME_CHAR = /[A-Za-z0-9_]/;
const SPECIAL_VARIABLES = new Set(['#', '?', '@', '*']);
const BLANK = new Set([' ', '\t', '\r', '\f', '\v']);

/** A word's literal text when it has no variables and no quotes, else undefined (keywords need it). */
export function plainWordText(token: Token): string | undefined {
  if (token.kind !== 'word') return undefined;
  let text = '';
  for (const part of token.parts) {
    if (part.kind !== 'text' || part.quoted) return undefined;
    text += part.text;
  }
  return text;
}

export function lexGrubScript(source: string): LexResult {
  const tokens: Token[] = [];
  const problems: LexResult['problems'] = [];
  let index = 0;
  let line = 1;
  let parts: WordPart[] | undefined;
  let wordLine = 1;

  const appendText = (text: string, quoted: boolean): void => {
    parts ??= [];
    const last = parts[parts.length - 1];
    if (last && last.kind === 'text' && last.quoted === quoted) last.text += text;
    else parts.push({ kind: 'text', text, quoted });
  };
  const startWord = (): void => {
    if (!parts) {
      parts = [];
      wordLine = line;
    }
  };
  const endWord = (): void => {
    if (parts) tokens.push({ kind: 'word', parts, line: wordLine });
    parts = undefined;
  };

  /** At `$`: reads a variable reference, or returns false when `$` is literal. */
  const readVariable = (quoted: boolean): boolean => {
    const next = source[index + 1];
    if (next === '{') {
      const close = source.indexOf('}', index + 2);
      if (close < 0) return false;
      const name = source.slice(index + 2, close);
      for (const char of name) if (char === '\n') line++;
      parts!.push({ kind: 'variable', name, quoted });
      index = close + 1;
      return true;
    }
    if (next !== undefined && SPECIAL_VARIABLES.has(next)) {
      parts!.push({ kind: 'variable', name: next, quoted });
      index += 2;
      return true;
    }
    if (next !== undefined && VARIABLE_NAME_CHAR.test(next)) {
      let end = index + 1;
      // `$1x` is `$1` then `x` in GRUB: positional names are digits only.
      if (next >= '0' && next <= '9') {
        while (end < source.length && source[end]! >= '0' && source[end]! <= '9') end++;
      } else {
        while (end < source.length && VARIABLE_NAME_CHAR.test(source[end]!)) end++;
      }
      parts!.push({ kind: 'variable', name: source.slice(index + 1, end), quoted });
      index = end;
      return true;
    }
    return false;
  };

  while (index < source.length) {
    const char = source[index]!;
    if (BLANK.has(char)) {
      endWord();
      index++;
      continue;
    }
    if (char === '\n' || char === ';') {
      endWord();
      tokens.push({ kind: 'separator', separator: char === '\n' ? 'newline' : ';', line });
      if (char === '\n') line++;
      index++;
      continue;
    }
    if (char === '#' && !parts) {
      while (index < source.length && source[index] !== '\n') index++;
      continue;
    }
    if (char === '{' || char === '}') {
      endWord();
      tokens.push({ kind: char === '{' ? 'open-brace' : 'close-brace', line });
      index++;
      continue;
    }
    if (char === '\\') {
      const next = source[index + 1];
      if (next === '\n') {
        line++;
        index += 2;
        continue;
      }
      startWord();
      if (next !== undefined) appendText(next, true);
      index += 2;
      continue;
    }
    if (char === "'") {
      startWord();
      const close = source.indexOf("'", index + 1);
      const end = close < 0 ? source.length : close;
      const text = source.slice(index + 1, end);
      // Appended even when empty: `''` is an empty argument, not none.
      appendText(text, true);
      if (close < 0) problems.push({ message: 'unterminated single quote', line });
      for (const inner of text) if (inner === '\n') line++;
      index = end + 1;
      continue;
    }
    if (char === '"') {
      startWord();
      const openLine = line;
      const partsBefore = parts!.length;
      index++;
      let closed = false;
      while (index < source.length) {
        const inner = source[index]!;
        if (inner === '"') {
          closed = true;
          index++;
          break;
        }
        if (inner === '\\' && index + 1 < source.length && '$"\\\n'.includes(source[index + 1]!)) {
          const escaped = source[index + 1]!;
          if (escaped === '\n') line++;
          else appendText(escaped, true);
          index += 2;
          continue;
        }
        if (inner === '$' && readVariable(true)) continue;
        if (inner === '\n') line++;
        appendText(inner, true);
        index++;
      }
      // `""` is an empty argument: give the word a part so expansion keeps it.
      if (parts!.length === partsBefore) parts!.push({ kind: 'text', text: '', quoted: true });
      // GRUB would reject the statement; keep what was read so the rest of the file still counts.
      if (!closed) problems.push({ message: 'unterminated double quote', line: openLine });
      continue;
    }
    if (char === '$') {
      startWord();
      // `$"..."`: the `$` only asks for translation; the quoted text follows as usual.
      if (source[index + 1] === '"') {
        index++;
        continue;
      }
      if (readVariable(false)) continue;
    }
    startWord();
    appendText(char, false);
    index++;
  }
  endWord();
  return { tokens, problems };
}

import { LIMITS } from '../../limits.js';

/**
 * os-release(5): "a newline-separated list of environment-like shell-compatible variable
 * assignments"; values with special characters are double- or single-quoted, shell special
 * characters ($, quotes, backslash, backtick) escaped with a backslash; no variable expansion,
 * no concatenation of quoted strings; lines starting with "#" are comments.
 * Used for a UKI's .osrel section and for .profile sections, which share the syntax (UKI spec,
 * "Multi-Profile UKIs").
 */

export type OsReleaseWarningCode =
  | 'INVALID_ASSIGNMENT'
  | 'UNTERMINATED_QUOTE'
  | 'TEXT_AFTER_QUOTED_VALUE'
  | 'UNQUOTED_WHITESPACE'
  | 'DUPLICATE_KEY'
  | 'LINE_LIMIT_REACHED';

export interface OsReleaseWarning {
  code: OsReleaseWarningCode;
  /** 1-based. */
  line: number;
}

export interface OsReleaseEntry {
  key: string;
  value: string;
  line: number;
}

export interface OsRelease {
  /** Last assignment wins, as when the file is sourced by a shell. */
  fields: Record<string, string>;
  /** Every assignment, in file order (repeated keys included). */
  entries: OsReleaseEntry[];
  warnings: OsReleaseWarning[];
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Inside double quotes a backslash escapes only these (POSIX shell, "Double-Quotes"). */
const DOUBLE_QUOTE_ESCAPABLE = new Set(['"', '\\', '$', '`']);

export function parseOsRelease(text: string): OsRelease {
  const fields: Record<string, string> = Object.create(null) as Record<string, string>;
  const entries: OsReleaseEntry[] = [];
  const warnings: OsReleaseWarning[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const lineNumber = index + 1;
    if (index === LIMITS.osReleaseLines) {
      warnings.push({ code: 'LINE_LIMIT_REACHED', line: lineNumber });
      break;
    }
    const line = (lines[index] ?? '').replace(/\r$/, '').trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const equals = line.indexOf('=');
    const key = equals === -1 ? '' : line.slice(0, equals).trimEnd();
    if (!KEY.test(key)) {
      warnings.push({ code: 'INVALID_ASSIGNMENT', line: lineNumber });
      continue;
    }
    const value = parseValue(line.slice(equals + 1).trimStart(), (code) => warnings.push({ code, line: lineNumber }));
    if (key in fields) warnings.push({ code: 'DUPLICATE_KEY', line: lineNumber });
    fields[key] = value;
    entries.push({ key, value, line: lineNumber });
  }
  return { fields, entries, warnings };
}

function parseValue(raw: string, warn: (code: OsReleaseWarningCode) => void): string {
  const quote = raw[0];
  if (quote === '"' || quote === "'") {
    let value = '';
    for (let position = 1; position < raw.length; position++) {
      const character = raw[position] as string;
      if (character === quote) {
        if (raw.slice(position + 1).trim() !== '') warn('TEXT_AFTER_QUOTED_VALUE');
        return value;
      }
      const next = raw[position + 1];
      if (quote === '"' && character === '\\' && next !== undefined && DOUBLE_QUOTE_ESCAPABLE.has(next)) {
        value += next;
        position++;
        continue;
      }
      value += character;
    }
    warn('UNTERMINATED_QUOTE');
    return value;
  }
  // Unquoted: a backslash takes the next character literally; unescaped trailing blanks are not
  // part of the value, and unescaped inner ones would split it into words in a shell.
  let value = '';
  let pendingBlanks = '';
  let innerBlank = false;
  for (let position = 0; position < raw.length; position++) {
    let character = raw[position] as string;
    const escaped = character === '\\' && position + 1 < raw.length;
    if (escaped) character = raw[++position] as string;
    else if (/\s/.test(character)) {
      pendingBlanks += character;
      continue;
    }
    if (pendingBlanks !== '') innerBlank = true;
    value += pendingBlanks + character;
    pendingBlanks = '';
  }
  if (innerBlank) warn('UNQUOTED_WHITESPACE');
  return value;
}

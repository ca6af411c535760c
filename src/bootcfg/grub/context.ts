/**
 * GRUB's variables: the context a script runs in, what GRUB sets at start-up, and word
 * expansion (GRUB manual, "Shell-like scripting": a quoted variable stays one word, an unquoted
 * one is split at blanks). Pure.
 */
import { BOOTCFG_LIMITS } from '../../limits.js';
import { dirName } from '../text.js';
import type { Word } from './parse.js';

export interface Context {
  vars: Map<string, string>;
  /** Exported names: the only ones a submenu's new context receives. */
  exported: Set<string>;
}

/** Positional parameters of a function call or a menu entry's body. */
export interface Frame {
  positional: string[];
}

export function copyContext(context: Context, exportedOnly: boolean): Context {
  const vars = new Map<string, string>();
  for (const [name, value] of context.vars) {
    if (!exportedOnly || context.exported.has(name)) vars.set(name, value);
  }
  return { vars, exported: new Set(context.exported) };
}

/** GRUB's start-up variables: the `feature_*` flags a 2.06 build sets, platform, prefix. */
export function initialContext(configFile: string, platform: 'efi' | 'pc', extra: Record<string, string>): Context {
  const vars = new Map<string, string>([
    ['prefix', dirName(configFile)],
    ['root', ''],
    ['grub_platform', platform],
    ['grub_cpu', platform === 'efi' ? 'x86_64' : 'i386'],
    ['feature_chainloader_bpb', 'y'],
    ['feature_ntldr', 'y'],
    ['feature_platform_search_hint', 'y'],
    ['feature_default_font_path', 'y'],
    ['feature_all_video_module', 'y'],
    ['feature_menuentry_id', 'y'],
    ['feature_menuentry_options', 'y'],
    ['feature_200_final', 'y'],
    ['feature_nativedisk_cmd', 'y'],
    ['feature_timeout_style', 'y'],
  ]);
  for (const [name, value] of Object.entries(extra)) vars.set(name, value);
  return { vars, exported: new Set(['root', 'prefix']) };
}

/** `(hd0,msdos1)/vmlinuz` -> `/vmlinuz`: the device cannot be known without the disks. */
export function stripDevice(path: string): string {
  if (!path.startsWith('(')) return path;
  const close = path.indexOf(')');
  if (close < 0) return path;
  const rest = path.slice(close + 1);
  return rest === '' ? '/' : rest;
}

/** `$1`, `$#`, `$?`, `$@`, `$*` and named variables; unset ones are empty. */
export function lookupVariable(name: string, context: Context, frame: Frame, lastStatus: number): string {
  if (/^\d+$/.test(name)) return name === '0' ? '' : frame.positional[Number(name) - 1] ?? '';
  switch (name) {
    case '#': return String(frame.positional.length);
    case '?': return String(lastStatus);
    case '@':
    case '*': return frame.positional.join(' ');
    default: return context.vars.get(name) ?? '';
  }
}

/**
 * Words -> arguments. A quoted `$@` gives one argument per positional parameter, the first
 * joined to the text before it and the last to the text after (`a"$@"b` with `1 2` is `a1`,
 * `2b`), as in the shell; with no parameters it adds nothing. Fields longer than
 * BOOTCFG_LIMITS.grubValueChars are cut and `onCut` is called, so a value doubled line after
 * line cannot take the memory.
 */
export function expandWords(words: readonly Word[], lookup: (name: string) => string, onCut: () => void, positional: readonly string[] = []): string[] {
  const fields: string[] = [];
  const cut = (field: string): string => {
    if (field.length <= BOOTCFG_LIMITS.grubValueChars) return field;
    onCut();
    return field.slice(0, BOOTCFG_LIMITS.grubValueChars);
  };
  for (const word of words) {
    let current: string | undefined;
    for (const part of word) {
      if (part.kind === 'text') {
        current = (current ?? '') + part.text;
        continue;
      }
      if (part.quoted && part.name === '@') {
        positional.forEach((parameter, index) => {
          if (index > 0) fields.push(cut(current ?? ''));
          current = (index === 0 ? current ?? '' : '') + parameter;
        });
        continue;
      }
      const value = lookup(part.name);
      if (part.quoted) {
        current = (current ?? '') + value;
        continue;
      }
      value.split(/[ \t\n]+/).forEach((piece, index) => {
        if (index > 0) {
          if (current !== undefined && current !== '') fields.push(current);
          current = undefined;
        }
        if (piece !== '') current = (current ?? '') + piece;
      });
      if (current !== undefined) current = cut(current);
    }
    if (current !== undefined) fields.push(cut(current));
  }
  return fields;
}

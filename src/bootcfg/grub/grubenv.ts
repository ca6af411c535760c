/**
 * GRUB's environment block (`grubenv`, written by grub-editenv and `save_env`): a 1024-byte
 * file starting `# GRUB Environment Block`, then `name=value` lines, padded with `#`. In a
 * value a backslash makes the next character literal (grub-core/lib/envblk.c escapes `\` and
 * newline that way). Pure.
 */
import { assertConfigSize } from '../text.js';

export function parseGrubenv(text: string, file: string): Map<string, string> {
  assertConfigSize(text, 'grubenv', file);
  const variables = new Map<string, string>();
  let index = 0;
  while (index < text.length) {
    if (text[index] === '#' || text[index] === '\n') {
      const newline = text.indexOf('\n', index);
      index = newline < 0 ? text.length : newline + 1;
      continue;
    }
    const equals = text.indexOf('=', index);
    const newline = text.indexOf('\n', index);
    if (equals < 0 || (newline >= 0 && newline < equals)) {
      index = newline < 0 ? text.length : newline + 1;
      continue;
    }
    const name = text.slice(index, equals);
    let value = '';
    index = equals + 1;
    while (index < text.length && text[index] !== '\n') {
      if (text[index] === '\\' && index + 1 < text.length) {
        value += text[index + 1];
        index += 2;
      } else {
        value += text[index];
        index++;
      }
    }
    index++;
    variables.set(name, value);
  }
  return variables;
}

/**
 * `test EXPRESSION` and `[ EXPRESSION ]` as grub-core/commands/test.c evaluates them, which is
 * not quite the shell's:
 * - the words are read left to right; at each place a three-word comparison is tried first
 *   (`a = b`, `==`, `!=`, `<`, `<=`, `>`, `>=` on bytes; `-eq -ne -lt -le -gt -ge` on numbers
 *   read as C does with base 0, so `0x10` is 16 and `010` is 8; GRUB's `-pgt`/`-plt`, numbers
 *   after a common prefix, for versions; `-nt`/`-ot`), then a two-word one (`-n -z -e -f -d -s`),
 *   then `( ... )`, `!` (inverts the next test), `-a`, `-o`; any other word is true when non-empty;
 * - tests side by side are and-ed, `-a` is only a separator, `-o` binds looser than and;
 * - a final `]` is dropped for `test` and `[` alike.
 * One deviation, kept on purpose: no words at all (`[ ${unset} ]`) is false here, as in the
 * shell, where test.c answers true. Live images write `if [ ${iso_path} ]` meaning "booted from
 * an ISO file", and the entries we offer keep to that reading (see docs/grub-commands.md).
 * Pure: file tests go through `files`.
 */

export interface FileTests {
  exists(path: string): boolean;
  isFile(path: string): boolean;
  isDirectory(path: string): boolean;
  isNonEmpty(path: string): boolean;
}

/** Parentheses nested deeper than this stop the test, as test.c's MAX_TEST_RECURSION_DEPTH. */
const MAX_TEST_DEPTH = 100;

export function evaluateTest(argv: readonly string[], files: FileTests): boolean {
  const args = argv[argv.length - 1] === ']' ? argv.slice(0, -1) : argv;
  if (args.length === 0) return false;
  let position = 0;
  let depth = 0;

  const parse = (): boolean => {
    let and = true;
    let or = false;
    let invert = false;
    const update = (value: boolean): void => {
      and = and && (invert ? !value : value);
      invert = false;
    };
    while (position < args.length) {
      const word = args[position]!;
      if (position + 2 < args.length) {
        const value = compareThree(word, args[position + 1]!, args[position + 2]!, files);
        if (value !== undefined) {
          update(value);
          position += 3;
          continue;
        }
      }
      if (position + 1 < args.length) {
        const value = testTwo(word, args[position + 1]!, files);
        if (value !== undefined) {
          update(value);
          position += 2;
          continue;
        }
      }
      position++;
      if (word === ')') {
        if (depth > 0) depth--;
        return or || and;
      }
      if (word === '(') {
        // test.c stops reading deeper parentheses; the words after them are read at this level.
        if (++depth > MAX_TEST_DEPTH) return or || and;
        update(parse());
        continue;
      }
      if (word === '!') invert = !invert;
      else if (word === '-o') {
        or = or || and;
        and = true;
      } else if (word !== '-a') update(word !== '');
    }
    return or || and;
  };
  return parse();
}

function compareThree(left: string, operator: string, right: string, files: FileTests): boolean | undefined {
  switch (operator) {
    case '=':
    case '==': return left === right;
    case '!=': return left !== right;
    case '<': return compareBytes(left, right) < 0;
    case '<=': return compareBytes(left, right) <= 0;
    case '>': return compareBytes(left, right) > 0;
    case '>=': return compareBytes(left, right) >= 0;
    case '-eq': return cInteger(left) === cInteger(right);
    case '-ne': return cInteger(left) !== cInteger(right);
    case '-lt': return cInteger(left) < cInteger(right);
    case '-le': return cInteger(left) <= cInteger(right);
    case '-gt': return cInteger(left) > cInteger(right);
    case '-ge': return cInteger(left) >= cInteger(right);
    case '-pgt':
    case '-plt': {
      const start = numberAfterCommonPrefix(left, right);
      const a = cInteger(left.slice(start));
      const b = cInteger(right.slice(start));
      return operator === '-pgt' ? a > b : a < b;
    }
    default:
      break;
  }
  // `-nt`/`-ot` (with an optional bias, `-nt5`) compare modification times, which a reader does
  // not give: what remains is test.c's answer when only one of the files exists.
  if (operator.startsWith('-nt')) return files.exists(left) && !files.exists(right);
  if (operator.startsWith('-ot')) return !files.exists(left) && files.exists(right);
  return undefined;
}

function testTwo(operator: string, operand: string, files: FileTests): boolean | undefined {
  switch (operator) {
    case '-d': return files.isDirectory(operand);
    case '-e': return files.exists(operand);
    case '-f': return files.isFile(operand);
    case '-s': return files.isNonEmpty(operand);
    case '-n': return operand !== '';
    case '-z': return operand === '';
    default: return undefined;
  }
}

/** grub_strcmp: unsigned bytes of UTF-8, which is the order of code points. */
function compareBytes(left: string, right: string): number {
  const a = [...left];
  const b = [...right];
  for (let index = 0; index < Math.min(a.length, b.length); index++) {
    const difference = a[index]!.codePointAt(0)! - b[index]!.codePointAt(0)!;
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

/** strtol with base 0, as grub_strtosl reads it: `0x` hex, a leading `0` octal, else decimal; junk is 0. */
export function cInteger(text: string): number {
  const match = /^[ \t\n\r\f\v]*([-+]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  if (!match) return 0;
  const digits = match[2]!;
  const value = /^0[xX]/.test(digits) ? Number.parseInt(digits.slice(2), 16) : digits.startsWith('0') ? Number.parseInt(digits, 8) : Number.parseInt(digits, 10);
  return match[1] === '-' ? -value : value;
}

/**
 * Where `-pgt`/`-plt` start reading numbers: after the common prefix of both words, backed up
 * to the start of the run of digits it ends in (so `vmlinuz-2` and `vmlinuz-11` compare 2 and
 * 11). Like test.c, a run reaching the first character keeps that character out.
 */
function numberAfterCommonPrefix(left: string, right: string): number {
  let index = 0;
  while (index < left.length && left[index] === right[index]) index++;
  index--;
  while (index > 0 && /[0-9]/.test(left[index]!)) index--;
  return index + 1;
}

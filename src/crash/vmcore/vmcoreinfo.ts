import { ErrorCode, ParseError } from '../../errors.js';
import { CRASH_LIMITS } from '../../limits.js';

/**
 * VMCOREINFO: the KEY=VALUE lines the crashed kernel leaves in its ELF note so that tools can
 * read its memory without vmlinux (Documentation/admin-guide/kdump/vmcoreinfo.rst;
 * kernel/crash_core.c and arch/x86/kernel/crash_core_64.c write them). Unknown keys are kept,
 * and a line we cannot read becomes a warning: a newer kernel must not make the dump unreadable.
 */
export interface Vmcoreinfo {
  readonly osrelease: string | undefined;
  readonly buildId: string | undefined;
  readonly pageSize: number | undefined;
  /** KERNELOFFSET: the KASLR offset of the kernel image (x86_64, arm64, ...). */
  readonly kernelOffset: bigint | undefined;
  /** CRASHTIME: seconds since the epoch when the kernel crashed. */
  readonly crashTime: number | undefined;
  /** SYMBOL(name)=hex: addresses (virtual, except where vmcoreinfo.rst says otherwise). */
  readonly symbols: Readonly<Record<string, bigint>>;
  /** SIZE(type)=bytes. */
  readonly sizes: Readonly<Record<string, number>>;
  /** OFFSET(struct.member)=bytes, keyed "struct.member". */
  readonly offsets: Readonly<Record<string, number>>;
  /** NUMBER(name)=value: signed (PAGE_BUDDY_MAPCOUNT_VALUE is negative, phys_base may be). */
  readonly numbers: Readonly<Record<string, bigint>>;
  /** LENGTH(name)=count: array lengths. */
  readonly lengths: Readonly<Record<string, number>>;
  /** CONFIG_X=y lines. */
  readonly configs: Readonly<Record<string, string>>;
  /** Keys this parser has no rule for, kept as text (forward compatible). */
  readonly other: Readonly<Record<string, string>>;
  readonly warnings: readonly VmcoreinfoWarning[];
}

export interface VmcoreinfoWarning {
  readonly code: 'VMCOREINFO_BAD_LINE' | 'VMCOREINFO_BAD_VALUE' | 'VMCOREINFO_DUPLICATE';
  readonly line: number;
  readonly message: string;
}

const FORMAT = 'VMCOREINFO';
const KEYED = /^(SYMBOL|SIZE|OFFSET|NUMBER|LENGTH)\(([^()]+)\)$/;

function parseUnsigned(text: string, radix: 10 | 16): bigint | undefined {
  const body = radix === 16 ? text.replace(/^0x/i, '') : text;
  if (radix === 16 ? !/^[0-9a-f]+$/i.test(body) : !/^[0-9]+$/.test(body)) {
    // Some architectures print decimal keys in hex (arm64's NUMBER(kimage_voffset)=0x...).
    if (radix === 10 && /^0x[0-9a-f]+$/i.test(text)) return BigInt(text);
    return undefined;
  }
  return radix === 16 ? BigInt(`0x${body}`) : BigInt(body);
}

function parseSigned(text: string): bigint | undefined {
  if (/^-[0-9]+$/.test(text)) return BigInt(text);
  return parseUnsigned(text, 10);
}

function smallNumber(value: bigint | undefined): number | undefined {
  return value !== undefined && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
}

/** Parses the note's text (NUL padding and a missing final newline are fine). */
export function parseVmcoreinfo(text: string): Vmcoreinfo {
  if (text.length > CRASH_LIMITS.vmcoreinfoBytes) {
    throw new ParseError(ErrorCode.FORMAT_LIMIT_EXCEEDED, FORMAT, `${text.length} bytes, more than the ${CRASH_LIMITS.vmcoreinfoBytes} read`);
  }
  const symbols: Record<string, bigint> = {};
  const sizes: Record<string, number> = {};
  const offsets: Record<string, number> = {};
  const numbers: Record<string, bigint> = {};
  const lengths: Record<string, number> = {};
  const configs: Record<string, string> = {};
  const other: Record<string, string> = {};
  const warnings: VmcoreinfoWarning[] = [];
  let osrelease: string | undefined;
  let buildId: string | undefined;
  let pageSize: number | undefined;
  let kernelOffset: bigint | undefined;
  let crashTime: number | undefined;

  // The NUL padding stripped by a scan from the end: the regex /\0+$/ retries at every NUL of a
  // run that is not at the end, quadratic in a note of NULs with one other byte last.
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0) end--;
  const lines = text.slice(0, end).split('\n');
  lines.forEach((raw, index) => {
    const lineNumber = index + 1;
    const line = raw.replace(/\0/g, '').trim();
    if (line === '') return;
    const equals = line.indexOf('=');
    if (equals <= 0) {
      warnings.push({ code: 'VMCOREINFO_BAD_LINE', line: lineNumber, message: `no KEY=VALUE: ${JSON.stringify(line.slice(0, 80))}` });
      return;
    }
    const key = line.slice(0, equals);
    const value = line.slice(equals + 1);
    const bad = (): void => {
      warnings.push({ code: 'VMCOREINFO_BAD_VALUE', line: lineNumber, message: `${key} has an unreadable value ${JSON.stringify(value.slice(0, 80))}` });
    };
    const keyed = KEYED.exec(key);
    if (keyed) {
      const [, kind, name] = keyed as unknown as [string, string, string];
      const table: Record<string, unknown> = { SYMBOL: symbols, SIZE: sizes, OFFSET: offsets, NUMBER: numbers, LENGTH: lengths }[kind]!;
      if (Object.prototype.hasOwnProperty.call(table, name)) {
        warnings.push({ code: 'VMCOREINFO_DUPLICATE', line: lineNumber, message: `${key} appears again; the first value is kept` });
        return;
      }
      if (kind === 'SYMBOL') {
        const parsed = parseUnsigned(value, 16);
        if (parsed === undefined) return bad();
        symbols[name] = parsed;
      } else if (kind === 'NUMBER') {
        const parsed = parseSigned(value);
        if (parsed === undefined) return bad();
        numbers[name] = parsed;
      } else {
        const parsed = smallNumber(parseUnsigned(value, 10));
        if (parsed === undefined) return bad();
        (kind === 'SIZE' ? sizes : kind === 'OFFSET' ? offsets : lengths)[name] = parsed;
      }
      return;
    }
    switch (key) {
      case 'OSRELEASE':
        osrelease ??= value;
        return;
      case 'BUILD-ID':
        buildId ??= value;
        return;
      case 'PAGESIZE': {
        const parsed = smallNumber(parseUnsigned(value, 10));
        if (parsed === undefined || parsed === 0 || (parsed & (parsed - 1)) !== 0) return bad();
        pageSize ??= parsed;
        return;
      }
      case 'KERNELOFFSET': {
        const parsed = parseUnsigned(value, 16);
        if (parsed === undefined) return bad();
        kernelOffset ??= parsed;
        return;
      }
      case 'CRASHTIME': {
        const parsed = smallNumber(parseUnsigned(value, 10));
        if (parsed === undefined) return bad();
        crashTime ??= parsed;
        return;
      }
      default:
        if (key.startsWith('CONFIG_')) configs[key] ??= value;
        else other[key] ??= value;
    }
  });
  return { osrelease, buildId, pageSize, kernelOffset, crashTime, symbols, sizes, offsets, numbers, lengths, configs, other, warnings };
}

/** Throws a ParseError naming the VMCOREINFO entry `what` needs and the dump lacks. */
export function missingVmcoreinfo(key: string, what: string): ParseError {
  return new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, `${what} needs ${key}, which the crashed kernel did not export`, { field: key });
}

export function requireSymbol(info: Vmcoreinfo, name: string, what: string): bigint {
  const value = info.symbols[name];
  if (value === undefined) throw missingVmcoreinfo(`SYMBOL(${name})`, what);
  return value;
}

export function requireSize(info: Vmcoreinfo, name: string, what: string): number {
  const value = info.sizes[name];
  if (value === undefined) throw missingVmcoreinfo(`SIZE(${name})`, what);
  return value;
}

export function requireOffset(info: Vmcoreinfo, name: string, what: string): number {
  const value = info.offsets[name];
  if (value === undefined) throw missingVmcoreinfo(`OFFSET(${name})`, what);
  return value;
}

export function requireNumber(info: Vmcoreinfo, name: string, what: string): bigint {
  const value = info.numbers[name];
  if (value === undefined) throw missingVmcoreinfo(`NUMBER(${name})`, what);
  return value;
}

export function requireLength(info: Vmcoreinfo, name: string, what: string): number {
  const value = info.lengths[name];
  if (value === undefined) throw missingVmcoreinfo(`LENGTH(${name})`, what);
  return value;
}

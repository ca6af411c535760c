import { ErrorCode, ParseError } from '../../errors.js';
import { splitCmdline } from '../../handoff/cmdline.js';
import { parseMemSize } from './memory-size.js';

/**
 * The crashkernel= parameter, read by the rules of the kernel's own parser (kernel/crash_core.c
 * in 6.1, crash_reserve.c since 6.9; Documentation/admin-guide/kdump/kdump.rst):
 *
 *   crashkernel=size[@offset]                      a fixed size, optionally at a fixed address
 *   crashkernel=start-[end]:size[,...][@offset]    the size depends on the machine's RAM
 *   crashkernel=size,high / crashkernel=size,low   x86 and arm64: above 4 GiB, plus low memory
 *   crashkernel=size,cma                           6.16+: extra capture memory taken from CMA
 */
export type CrashkernelSpec =
  | { readonly form: 'size'; readonly text: string; readonly sizeBytes: bigint; readonly offsetBytes: bigint | undefined }
  | { readonly form: 'ranges'; readonly text: string; readonly ranges: readonly CrashkernelRange[]; readonly offsetBytes: bigint | undefined }
  | { readonly form: 'high' | 'low' | 'cma'; readonly text: string; readonly sizeBytes: bigint };

export interface CrashkernelRange {
  readonly startBytes: bigint;
  /** Exclusive; undefined for an open range ("2G-"). */
  readonly endBytes: bigint | undefined;
  readonly sizeBytes: bigint;
}

const FORMAT = 'crashkernel=';
const NAME = 'crashkernel=';
const SUFFIXES = ['high', 'low', 'cma'] as const;

/**
 * Parses the value of one crashkernel= parameter (what follows the "="). Throws a ParseError
 * (FORMAT_INVALID) for what the kernel itself would refuse, with the kernel's own complaint.
 */
export function parseCrashkernel(value: string): CrashkernelSpec {
  const suffix = SUFFIXES.find((candidate) => value.endsWith(`,${candidate}`));
  if (suffix !== undefined) {
    // parse_crashkernel_suffix(): a size, the suffix, then nothing.
    const size = parseMemSize(value);
    if (size.length === 0) throw invalid(value, 'memory value expected', 0);
    if (size.length !== value.length - suffix.length - 1) throw invalid(value, `unrecognized char: ${value[size.length]}`, size.length);
    return { form: suffix, text: value, sizeBytes: size.bytes };
  }
  // __parse_crashkernel(): a ':' means the extended (ranges) syntax.
  return value.includes(':') ? parseRanges(value) : parseSimple(value);
}

/** parse_crashkernel_simple(): size, then '@offset' or the end. */
function parseSimple(value: string): CrashkernelSpec {
  const size = parseMemSize(value);
  if (size.length === 0) throw invalid(value, 'memory value expected', 0);
  let offsetBytes: bigint | undefined;
  if (value[size.length] === '@') {
    const offset = parseMemSize(value, size.length + 1);
    if (offset.length === 0) throw invalid(value, "memory value expected after '@'", size.length + 1);
    if (size.length + 1 + offset.length !== value.length) throw invalid(value, `unrecognized char: ${value[size.length + 1 + offset.length]}`, size.length + 1 + offset.length);
    offsetBytes = offset.bytes;
  } else if (size.length !== value.length) {
    throw invalid(value, `unrecognized char: ${value[size.length]}`, size.length);
  }
  return { form: 'size', text: value, sizeBytes: size.bytes, offsetBytes };
}

/** parse_crashkernel_mem(): "start-[end]:size" entries separated by ',', then an optional '@offset'. */
function parseRanges(value: string): CrashkernelSpec {
  const ranges: CrashkernelRange[] = [];
  let at = 0;
  for (;;) {
    const start = parseMemSize(value, at);
    if (start.length === 0) throw invalid(value, 'memory value expected', at);
    at += start.length;
    if (value[at] !== '-') throw invalid(value, "'-' expected", at);
    at += 1;
    let endBytes: bigint | undefined;
    if (value[at] !== ':') {
      const end = parseMemSize(value, at);
      if (end.length === 0) throw invalid(value, 'memory value expected', at);
      at += end.length;
      if (end.bytes <= start.bytes) throw invalid(value, 'end <= start', at);
      endBytes = end.bytes;
    }
    if (value[at] !== ':') throw invalid(value, "':' expected", at);
    at += 1;
    const size = parseMemSize(value, at);
    if (size.length === 0) throw invalid(value, 'memory value expected', at);
    at += size.length;
    ranges.push({ startBytes: start.bytes, endBytes, sizeBytes: size.bytes });
    if (value[at] !== ',') break;
    at += 1;
  }
  let offsetBytes: bigint | undefined;
  if (value[at] === '@') {
    const offset = parseMemSize(value, at + 1);
    if (offset.length === 0) throw invalid(value, "memory value expected after '@'", at + 1);
    at += 1 + offset.length;
    offsetBytes = offset.bytes;
  }
  if (at !== value.length) throw invalid(value, `unrecognized char: ${value[at]}`, at);
  return { form: 'ranges', text: value, ranges, offsetBytes };
}

function invalid(value: string, why: string, offset: number): ParseError {
  return new ParseError(ErrorCode.FORMAT_INVALID, FORMAT, `"${value}": ${why}`, { offset }, {
    remedy: 'Write it as crashkernel=256M, crashkernel=512M-2G:128M,2G-:256M, or crashkernel=256M,high (Documentation/admin-guide/kdump/kdump.rst), then reboot.',
  });
}

/** The crashkernel= parameters on a command line that the kernel would use, by kind. */
export interface CrashkernelParameters {
  /** The last crashkernel= without a known suffix (get_last_crashkernel(..., NULL)). */
  readonly main: string | undefined;
  readonly high: string | undefined;
  readonly low: string | undefined;
  readonly cma: string | undefined;
  /** Every crashkernel= as written, in order (what a capture command line must drop). */
  readonly all: readonly string[];
}

/**
 * Finds the crashkernel= values the kernel would read: the last one of each kind, as
 * get_last_crashkernel() does (the kernel searches the raw line; parameters are compared
 * whole here, which is the same for every line a boot loader writes).
 */
export function findCrashkernelParameters(cmdline: string): CrashkernelParameters {
  const all = splitCmdline(cmdline).filter((parameter) => parameter.startsWith(NAME));
  const values = all.map((parameter) => parameter.slice(NAME.length));
  const last = (test: (value: string) => boolean) => values.filter(test).at(-1);
  const suffixOf = (value: string) => SUFFIXES.find((suffix) => value.endsWith(`,${suffix}`));
  return {
    main: last((value) => suffixOf(value) === undefined),
    high: last((value) => suffixOf(value) === 'high'),
    low: last((value) => suffixOf(value) === 'low'),
    cma: last((value) => suffixOf(value) === 'cma'),
    all,
  };
}

/** What crashkernel= asks of this machine. */
export interface CrashkernelRequest {
  /** The parameter that decided it, as written (e.g. "crashkernel=512M-2G:64M,2G-:128M"). */
  readonly parameter: string;
  readonly spec: CrashkernelSpec;
  /** The main region's size for this much RAM; 0 when no range matches. */
  readonly sizeBytes: bigint;
  /** The extra low region of a ,high reservation (x86: 256 MiB unless crashkernel=Y,low says). */
  readonly lowSizeBytes: bigint | undefined;
  readonly offsetBytes: bigint | undefined;
  /** For a ranges form: the range that matched, and the RAM figure compared. */
  readonly matchedRange: CrashkernelRange | undefined;
  readonly comparedRamBytes: bigint | undefined;
}

const SIZE_128M = 128n << 20n;
/** arch/x86/kernel/setup.c: DEFAULT_CRASH_KERNEL_LOW_SIZE, max(swiotlb + 8M, 256M) with the default 64 MiB swiotlb. */
const X86_DEFAULT_LOW_BYTES = 256n << 20n;

/**
 * What the kernel would reserve for this command line on a machine with `systemRamBytes` of RAM
 * (memblock_phys_mem_size(); from user space, the sum of "System RAM" in /proc/iomem), following
 * reserve_crashkernel(): the plain parameter first, else the ,high one with its low companion.
 * Undefined when the line has none. Throws the ParseError of an invalid parameter.
 */
export function requestedCrashkernel(cmdline: string, systemRamBytes: bigint | undefined): CrashkernelRequest | undefined {
  const found = findCrashkernelParameters(cmdline);
  if (found.main !== undefined) {
    const spec = parseCrashkernel(found.main);
    if (spec.form === 'size') {
      return { parameter: `${NAME}${found.main}`, spec, sizeBytes: spec.sizeBytes, lowSizeBytes: undefined, offsetBytes: spec.offsetBytes, matchedRange: undefined, comparedRamBytes: undefined };
    }
    if (spec.form === 'ranges') {
      // parse_crashkernel_mem() rounds RAM up to 128 MiB ("firmware reserves some memory") and
      // takes the first range with start <= RAM < end.
      const ram = systemRamBytes === undefined ? undefined : ((systemRamBytes + SIZE_128M - 1n) / SIZE_128M) * SIZE_128M;
      const matched = ram === undefined ? undefined : spec.ranges.find((range) => ram >= range.startBytes && (range.endBytes === undefined || ram < range.endBytes));
      return {
        parameter: `${NAME}${found.main}`,
        spec,
        sizeBytes: matched?.sizeBytes ?? 0n,
        lowSizeBytes: undefined,
        offsetBytes: matched === undefined ? undefined : spec.offsetBytes,
        matchedRange: matched,
        comparedRamBytes: ram,
      };
    }
  }
  if (found.high !== undefined) {
    const spec = parseCrashkernel(found.high);
    const low = found.low === undefined ? undefined : parseCrashkernel(found.low);
    return {
      parameter: `${NAME}${found.high}`,
      spec,
      sizeBytes: spec.form === 'high' ? spec.sizeBytes : 0n,
      lowSizeBytes: low !== undefined && low.form === 'low' ? low.sizeBytes : X86_DEFAULT_LOW_BYTES,
      offsetBytes: undefined,
      matchedRange: undefined,
      comparedRamBytes: undefined,
    };
  }
  return undefined;
}

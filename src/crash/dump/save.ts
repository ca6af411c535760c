import { ErrorCode, UsageError } from '../../errors.js';
import type { Vmcore } from '../vmcore/vmcore.js';
import { writeElfDump } from './elf-writer.js';
import { writeKdumpDump } from './kdump-writer.js';
import { DumpWriteError } from './errors.js';
import { openDumpTarget, INCOMPLETE_SUFFIX, type DumpDestination } from './output.js';
import { COMPRESSIONS, createPageCompressor, type Compression } from './page-compress.js';
import { MAX_DUMP_LEVEL, type ExclusionCounts, type UnappliedExclusion } from './dump-level.js';
import { ProgressMeter, type ProgressListener } from './progress.js';
import { prepareDump } from './scan.js';

export type DumpFormat = 'elf' | 'kdump' | 'flat';

export interface SaveOptions {
  /** A path (written as PATH.incomplete, fsynced, renamed), or a stream for the flattened form. */
  out: DumpDestination;
  /** 'kdump' (kdump-compressed, the default), 'elf', or 'flat' (kdump-compressed, flattened for a pipe). */
  format?: DumpFormat;
  /** Also flatten an 'elf' dump (makedumpfile -F -E); always on for 'flat' and for a stream. */
  flatten?: boolean;
  /** Per-page codec of a kdump-compressed dump: 'zlib' (the default), 'lzo', 'snappy', 'zstd', 'none'. */
  compress?: Compression;
  /** makedumpfile -d: 1 zero pages, 2 cache, 4 cache and private, 8 user data, 16 free pages. Default 31. */
  dumpLevel?: number;
  /** Overwrite an existing complete dump at `out`. */
  force?: boolean;
  onProgress?: ProgressListener;
  /** Page frames classified per cycle (bounded memory); tests make it small. */
  cyclePages?: number;
  /** ELF only: the most PT_LOADs to write (65533 keeps e_phnum below PN_XNUM). */
  maxElfSegments?: number;
}

export interface SaveResult {
  /** The final path (or the stream's name). */
  path: string;
  format: DumpFormat;
  flattened: boolean;
  compress: Compression;
  /** The dump level asked for. */
  dumpLevel: number;
  /** The dump level applied (also in the dump's header): dumpLevel less the bits in notApplied. */
  appliedDumpLevel: number;
  /** Exclusions this kernel's dump could not decide: their pages were kept. */
  notApplied: readonly UnappliedExclusion[];
  bytesWritten: number;
  durationMs: number;
  pageSize: number;
  /** Page frames in the dump's range (makedumpfile's max_mapnr). */
  maxPfn: number;
  /** Pages whose data is in the dump. */
  pagesWritten: number;
  /** Pages left out, by reason. */
  excluded: ExclusionCounts;
  /** ELF: the PT_LOADs written; kdump: undefined. */
  elfSegments: number | undefined;
}

/**
 * Saves the crashed kernel's memory to a file (or a stream), leaving out what the dump level
 * says, page by page and never holding the dump in memory. A file under the final name is
 * always complete; on failure a DumpWriteError says how much was written.
 */
export async function saveDump(vmcore: Vmcore, options: SaveOptions): Promise<SaveResult> {
  const format = options.format ?? 'kdump';
  const compress = options.compress ?? (format === 'elf' ? 'none' : 'zlib');
  const dumpLevel = options.dumpLevel ?? MAX_DUMP_LEVEL;
  if (!['elf', 'kdump', 'flat'].includes(format)) throw new UsageError(`unknown dump format ${JSON.stringify(format)}: elf, kdump or flat`);
  if (!COMPRESSIONS.includes(compress)) throw new UsageError(`unknown compression ${JSON.stringify(compress)}: ${COMPRESSIONS.join(', ')}`);
  if (format === 'elf' && compress !== 'none') throw new UsageError('an ELF dump is not compressed: use format kdump (or flat) to compress');
  // The PT_LOADs of an ELF dump carry the virtual addresses readers start from (vmcore-dmesg
  // finds SYMBOL(prb) through them); a kdump-compressed dump has only physical pages.
  if (format === 'elf' && !vmcore.loads) throw new UsageError(`${vmcore.name} is kdump-compressed: it can be saved again as kdump or flat, not as ELF (it has no PT_LOADs to keep)`);
  if (!Number.isInteger(dumpLevel) || dumpLevel < 0 || dumpLevel > MAX_DUMP_LEVEL) throw new UsageError(`dump level ${dumpLevel} is not 0-${MAX_DUMP_LEVEL}`);
  const flattened = format === 'flat' || options.flatten === true || typeof options.out !== 'string';

  const context = await prepareDump(vmcore, { dumpLevel, ...(options.cyclePages !== undefined ? { cyclePages: options.cyclePages } : {}) });
  const target = await openDumpTarget(options.out, { force: options.force === true, flatten: flattened });
  const compressor = createPageCompressor(compress);
  const meter = new ProgressMeter(options.onProgress, context.maxPfn * context.pageSize, () => target.bytesWritten);
  try {
    let pagesWritten: number;
    let excluded: ExclusionCounts;
    let elfSegments: number | undefined;
    if (format === 'elf') {
      const stats = await writeElfDump(context, target, meter, { maxSegments: options.maxElfSegments });
      pagesWritten = stats.pagesWritten;
      excluded = stats.excluded;
      elfSegments = stats.segments;
    } else {
      const stats = await writeKdumpDump(context, target, compressor, meter);
      pagesWritten = stats.storedPages;
      excluded = stats.excluded;
    }
    await target.commit();
    return {
      path: target.name,
      format,
      flattened,
      compress,
      dumpLevel,
      appliedDumpLevel: context.exclusions.appliedLevel,
      notApplied: context.exclusions.notApplied,
      bytesWritten: target.bytesWritten,
      durationMs: Math.round(meter.elapsedMs),
      pageSize: context.pageSize,
      maxPfn: context.maxPfn,
      pagesWritten,
      excluded,
      elfSegments,
    };
  } catch (error) {
    // A write failure keeps the partial dump (its error names it); one of the input leaves nothing.
    await target.abort(error instanceof DumpWriteError);
    // A write failure is a DumpWriteError; one while reading (a ParseError from a corrupt
    // vmcore) keeps its own type.
    if (error instanceof DumpWriteError && error.code === ErrorCode.DUMP_NO_SPACE) {
      throw new DumpWriteError({ ...error, what: 'writing', smaller: howToShrink(format, dumpLevel, compress) }, { cause: error.cause });
    }
    throw error;
  } finally {
    await compressor.close();
  }
}

/** What would make the dump smaller than these settings do, or undefined when nothing would. */
function howToShrink(format: DumpFormat, dumpLevel: number, compress: Compression): string | undefined {
  if (format === 'elf') return 'a kdump-compressed dump (--format kdump) is much smaller than an ELF one';
  if (dumpLevel !== MAX_DUMP_LEVEL) return `dump level ${MAX_DUMP_LEVEL} (--dump-level ${MAX_DUMP_LEVEL}) leaves out more pages than ${dumpLevel}`;
  if (compress === 'none') return 'compressing the pages (--compress zlib or zstd) makes the dump smaller';
  return undefined;
}

export { INCOMPLETE_SUFFIX };

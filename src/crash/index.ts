/**
 * Crash dumps: read a vmcore, save it smaller, read the crashed kernel's log.
 *
 * ```ts
 * const vmcore = await openVmcore('/proc/vmcore');   // or any ELF vmcore, or a kdump-compressed dump
 * try {
 *   vmcore.vmcoreinfo.osrelease;                      // typed VMCOREINFO (SYMBOL/SIZE/OFFSET/NUMBER/LENGTH...)
 *   const result = await saveDump(vmcore, {
 *     out: '/var/crash/dump',                         // written as dump.incomplete, fsynced, then renamed
 *     format: 'kdump',                                // 'kdump' (default) | 'elf' (ELF sources only) | 'flat' (makedumpfile -F, for pipes)
 *     compress: 'zstd',                               // kdump/flat: 'zlib' (default) | 'lzo' | 'snappy' | 'zstd' | 'none'
 *     dumpLevel: 31,                                  // makedumpfile -d (default 31): 1 zero, 2 cache, 4 cache+private, 8 user, 16 free
 *     force: false,                                   // an existing dump is never clobbered without it
 *     onProgress: ({ bytesRead, bytesTotal, bytesWritten, bytesPerSecond }) => {},
 *   });                                               // -> SaveResult: sizes, page counts, duration
 *   const lines = await extractDmesg(vmcore);         // string[] like makedumpfile --dump-dmesg
 * } finally {
 *   await vmcore.close();
 * }
 * await reassembleFlattened('dump.flat', 'dump');     // makedumpfile -R (the input may be a stream)
 * ```
 *
 * `out` may also be `{ stream }` (stdout, a socket): the dump then goes out flattened.
 *
 * Errors: readers throw ParseError only; saveDump throws DumpWriteError (DUMP_NO_SPACE,
 * DUMP_WRITE_FAILED, with bytesWritten) and DumpExistsError (DUMP_EXISTS) — never leaving a file
 * under the final name that is not complete.
 */
export { openVmcore, readVmcore, DEFAULT_VMCORE_PATH } from './vmcore/open.js';
export type { Vmcore, PhysicalRange } from './vmcore/vmcore.js';
export { openFileSource, memorySource, type RandomAccessSource } from './vmcore/source.js';
export { parseVmcoreinfo, type Vmcoreinfo, type VmcoreinfoWarning } from './vmcore/vmcoreinfo.js';
export type { CpuNote } from './vmcore/prstatus.js';
export type { PtLoad } from './vmcore/elf-core.js';
export type { KdumpHeader } from './vmcore/kdump-file.js';
export { PageNotInDumpError } from './vmcore/errors.js';
export { x86_64Memory, type VirtualMemory } from './vmcore/x86-64.js';
export {
  extractDmesg,
  readKernelLog,
  kernelLogLines,
  formatRecord,
  formatRecords,
  type DmesgStyle,
  type ExtractDmesgOptions,
  type KernelLog,
  type PrintkRecord,
} from './dmesg/index.js';
export { saveDump, type SaveOptions, type SaveResult, type DumpFormat } from './dump/save.js';
export { reassembleFlattened, type ReassembleOptions, type ReassembleResult } from './dump/reassemble.js';
export { DumpExistsError, DumpWriteError, outputPathError } from './dump/errors.js';
export { dmesgPathFor, makeOutputDirectory, refuseExisting, writeCompleteFile } from './dump/output.js';
export { COMPRESSIONS, type Compression } from './dump/page-compress.js';
export type { SaveProgress, ProgressListener } from './dump/progress.js';
export type { DumpDestination } from './dump/output.js';
export {
  DL_EXCLUDE_ZERO,
  DL_EXCLUDE_CACHE,
  DL_EXCLUDE_CACHE_PRI,
  DL_EXCLUDE_USER_DATA,
  DL_EXCLUDE_FREE,
  MAX_DUMP_LEVEL,
  DUMP_LEVEL_RULES,
  describeUnapplied,
  planExclusions,
  type ExclusionCounts,
  type ExclusionPlan,
  type UnappliedExclusion,
} from './dump/dump-level.js';

// Arming the capture kernel (kexec-ts crash load|unload|status|initrd): the reservation, the
// capture command line, the fit of kernel + initrd + capture userspace, the capture initramfs.
export {
  parseCrashkernel,
  findCrashkernelParameters,
  requestedCrashkernel,
  type CrashkernelSpec,
  type CrashkernelRange,
  type CrashkernelParameters,
  type CrashkernelRequest,
} from './arm/crashkernel.js';
export { parseIomem, crashKernelRanges, systemRamBytes, runningKernelImageBytes, type Iomem, type IomemResource } from './arm/iomem.js';
export { assessReservation, type CrashReservation, type ReservationSources } from './arm/reservation.js';
export { buildCaptureCmdline, rootfsIsTmpfs, CRASH_SAVE_UNIT, type CaptureEnvironment, type CaptureCmdlineOptions, type CaptureCmdline, type CmdlineChange } from './arm/capture-cmdline.js';
export { measureInitrd, ENTRY_OVERHEAD_BYTES, type InitrdReader, type InitrdMeasurement, type InitrdSegment, type MeasureOptions } from './arm/initrd-measure.js';
export { kernelFootprint, type KernelFootprint } from './arm/kernel-footprint.js';
export { assessFit, fitError, CAPTURE_MEMORY_MODEL, type FitInput, type FitReport, type FitCheck } from './arm/fit.js';
export { planCaptureKernel, combineMeasurements, type CaptureKernelOptions, type CaptureKernelPlan } from './arm/plan.js';
export { armCaptureKernel, disarmCaptureKernel, crashStatus, LOADED_RECORD_PATH, type ArmOptions, type ArmResult, type CrashStatus, type LoadedRecord } from './arm/arm.js';
export { buildCaptureInitrd, type CaptureInitrdOptions, type CaptureInitrdResult } from './arm/capture-initrd/build.js';
export { captureInitScript, captureConfigText, DEFAULT_SAVE_ARGUMENTS, type CaptureConfig, type CaptureAction } from './arm/capture-initrd/init-script.js';

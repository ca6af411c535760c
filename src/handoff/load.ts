import { closeSync, readdirSync, writeSync } from 'node:fs';
import { openIso, type Iso } from '../bootcfg/iso9660/iso.js';
import { openIsoFile, type IsoFileSource } from '../bootcfg/iso9660/file-source.js';
import { join } from 'node:path';
import { ErrorCode, SyscallError, ValidationError } from '../errors.js';
import { assessStatus } from './status.js';
import type { MachineFacts } from './machine-facts.js';
import type { AddonFile } from '../image/uki/index.js';
import type { ProgressListener } from '../image/codecs/index.js';
import { LIMITS } from '../limits.js';
import { KEXEC_FILE_DEBUG, KEXEC_FILE_FLAG_SINCE, KEXEC_FILE_NO_INITRAMFS, KEXEC_FILE_ON_CRASH, MFD_CLOEXEC, kernelArchOf, releaseAtLeast } from '../syscall/numbers.js';
import { validateCmdline } from './cmdline.js';
import type { FailedCall } from './explain.js';
import { callWithKernelLog, hostEnvironment, type HandoffEnvironment } from './environment.js';
import { concatenateInitrds, memfdFromBytes, type InitrdPart } from './memfd-image.js';
import { closeImage, openImage, readHead, readWholeImage, type OpenedImage } from './open-image.js';
import { planKernel, type KernelPlan } from './plan-kernel.js';
import { preflightInitrd, preflightKernel } from './preflight.js';
import { detectCodec } from '../image/codecs/index.js';
import { chooseLoadSyscall, type KexecLoadChoice, type LoadSyscall } from './kexec-load/choose.js';
import { kexecLoadSegments } from './kexec-load/load-segments.js';

export interface LoadOptions {
  readonly kernel: string;
  /** One initrd, or several: they are concatenated (each 4-byte aligned) into one memfd. */
  readonly initrd?: string | readonly string[];
  /**
   * The new kernel's command line. May be left out only for an image that carries its own
   * (a UKI's .cmdline); '' is an empty command line.
   */
  readonly cmdline?: string;
  /** Load as the crash (kdump) kernel, run by the kernel itself on panic. */
  readonly crash?: boolean;
  /**
   * An ISO 9660 image that `kernel` and `initrd` are paths inside: they are read straight from
   * the image (no mount) into memfds.
   */
  readonly isoImage?: string;
  /** A multi-profile UKI's profile (@N), 0 by default. */
  readonly ukiProfile?: number;
  /**
   * Do everything but the syscall: open and check the files, unpack and decompress, build the
   * memfds, run every preflight check; the result says what would have been loaded.
   */
  readonly dryRun?: boolean;
  /**
   * Ask the kernel to log how it places the segments (KEXEC_FILE_DEBUG). Sent only to kernels
   * that know the flag (6.8+); older ones would refuse the whole load with EINVAL.
   */
  readonly kernelDebug?: boolean;
  /** Told how decompressing a compressed image advances (compressed bytes read, bytes produced). */
  readonly onProgress?: ProgressListener;
  /**
   * Skip kexec-ts's own look at the kernel image: no format check and no unpacking; the file
   * goes to the kernel as it is (for formats newer than kexec-ts). The file checks still run.
   */
  readonly skipPreflight?: boolean;
  /**
   * kexec_load(2) instead of kexec_file_load: `auto` (default) only where the running kernel has
   * no kexec_file_load (Debian's arm64 kernels), `force` always, `never` not at all.
   */
  readonly kexecLoad?: KexecLoadChoice;
}

/** Enough of an initrd to tell cpio, a compressed archive, or a filesystem image (ext2's magic is at 1080). */
const INITRD_HEAD_BYTES = 4096;

type FileDescription = { readonly path: string; readonly realPath: string; readonly sizeBytes: number };

export interface LoadResult {
  readonly kernel: FileDescription;
  readonly initrd: FileDescription | undefined;
  readonly cmdline: string;
  readonly crash: boolean;
  /** Which syscall loaded it (or would have, in a dry run). */
  readonly syscall: LoadSyscall;
  readonly flags: number;
  /** True when nothing was loaded (LoadOptions.dryRun). */
  readonly dryRun: boolean;
  /**
   * A dry run's finding that this machine cannot kexec at all, whatever the files (no
   * CONFIG_KEXEC_FILE, kexec_load_disabled, no loads left), as `status` words it; empty otherwise.
   */
  readonly machineBlockers: readonly string[];
  /** What kexec-ts did to the image before loading it (unpacking a UKI, ...), for the user. */
  readonly notes: readonly string[];
  /** What the kernel logged during the successful call (often nothing). */
  readonly kernelLog: readonly string[];
  /** Time inside kexec_file_load itself: the kernel reading, checking and placing the segments. */
  readonly durationMs: number;
  /**
   * About how many bytes the purgatory checks with SHA-256 at the hand-off, before the new
   * kernel runs: the kernel and initrd segments (boot parameters and command line are small).
   * It is most of the jump's cost (VM-TESTING.md: ~1.2 s for ~19 MB under TCG); a smaller
   * initrd shortens it.
   */
  readonly checksummedBytes: number;
}

/**
 * Loads a kernel (and initrd) with kexec_file_load(2). Everything that can be checked is checked
 * first; files are opened once and those descriptors (or memfds made from them, for what the
 * kernel cannot take as it is) are what the kernel reads.
 */
export async function load(options: LoadOptions, env: HandoffEnvironment = hostEnvironment()): Promise<LoadResult> {
  const arch = kernelArchOf(process.arch);
  if (options.cmdline !== undefined && arch !== undefined) validateCmdline(options.cmdline, arch);
  const crash = options.crash === true;
  const initrdPaths = options.initrd === undefined ? [] : typeof options.initrd === 'string' ? [options.initrd] : [...options.initrd];
  const toClose: OpenedImage[] = [];
  const closers: Array<() => void> = [];
  const keep = (image: OpenedImage) => (toClose.push(image), image);
  // The machine's facts, read once for every decision of this load (they read /proc/config.gz).
  let factsRead: MachineFacts | undefined;
  const facts = (): MachineFacts => (factsRead ??= env.readFacts());
  try {
    const iso = options.isoImage === undefined ? undefined : openIsoImage(options.isoImage);
    if (iso !== undefined) closers.push(() => iso.source.close());
    const kernelFile = keep(iso === undefined ? openImage(options.kernel, 'kernel') : memfdFromIso(iso.iso, options.kernel, 'kernel', env.syscalls));
    const plan = options.skipPreflight === true ? undefined : await planFor(kernelFile, options, facts);
    const cmdline = options.cmdline ?? plan?.imageCmdline;
    if (cmdline === undefined) {
      throw new ValidationError(ErrorCode.CMDLINE_MISSING, `No command line given, and ${options.kernel} carries none of its own.`, {
        path: options.kernel,
        remedy: "Give one (--append '...'), keep this boot's (--reuse-cmdline), or '' for an empty one.",
      });
    }
    if (arch !== undefined) validateCmdline(cmdline, arch);
    const notes = [...(plan?.notes ?? [])];
    const choice = options.kexecLoad ?? 'auto';
    let decision = chooseLoadSyscall(facts(), choice, { crash });
    // The image is judged by the loader that will read it: the kernel's, or kexec-ts's own.
    if (plan !== undefined && arch !== undefined) notes.push(...preflightKernel(plan.image, arch, cmdline, options.kernel, decision.syscall));

    const kernel = plan?.replacement !== undefined ? keep(memfdFromBytes(plan.replacement, 'kernel', env.syscalls)) : kernelFile;
    const initrdParts: InitrdPart[] = [...(plan?.initrdPrefix ?? [])];
    for (const path of initrdPaths) {
      const part = keep(iso === undefined ? openImage(path, 'initrd') : memfdFromIso(iso.iso, path, 'initrd', env.syscalls));
      if (options.skipPreflight !== true) preflightInitrd(readHead(part, INITRD_HEAD_BYTES), path, (head) => detectCodec(head) !== undefined);
      initrdParts.push(part);
    }
    const onlyPart = initrdParts.length === 1 ? initrdParts[0]! : undefined;
    const initrd =
      initrdParts.length === 0
        ? undefined
        : onlyPart !== undefined && 'fd' in onlyPart
          ? onlyPart
          : keep(initrdParts.length === 1 ? memfdFromBytes(onlyPart as { path: string; bytes: Uint8Array }, 'initrd', env.syscalls) : concatenateInitrds(initrdParts, env.syscalls));

    const dryRun = options.dryRun === true;
    if (decision.syscall === 'kexec_load') notes.push(`${dryRun ? 'would load' : 'loaded'} with kexec_load: ${decision.reason}`);
    const fileFlags = (crash ? KEXEC_FILE_ON_CRASH : 0) | (initrd === undefined ? KEXEC_FILE_NO_INITRAMFS : 0) | (options.kernelDebug === true && decision.syscall === 'kexec_file_load' ? debugFlag(facts(), notes) : 0);
    const call: FailedCall = { operation: crash ? 'crash-load' : 'load', kernelPath: options.kernel, ...(initrd !== undefined ? { initrdPath: initrd.path } : {}) };
    const machineBlockers = dryRun && !crash ? whyKexecCannotRunHere(facts()) : [];
    let durationMs = 0;
    let flags = fileFlags;
    // kexec_load's segments are built before the call (in a dry run too: placing them is a check).
    const segmentLoad = (): ReturnType<typeof kexecLoadSegments> => kexecLoadSegments(env, facts().arch, { kernel, ...(initrd !== undefined ? { initrd } : {}), cmdline });
    let prepared = decision.syscall === 'kexec_load' && (!dryRun || facts().uid === 0) ? segmentLoad() : undefined;
    const kernelLog = dryRun ? [] : callWithKernelLog(env, { ...call, ...(prepared !== undefined ? { segments: prepared.described } : {}) }, () => {
      const started = performance.now();
      if (prepared === undefined) {
        try {
          // -1 is what the kernel's own loaders get for "no initrd" alongside KEXEC_FILE_NO_INITRAMFS.
          env.syscalls.kexecFileLoad(kernel.fd, initrd?.fd ?? -1, cmdline, fileFlags);
          durationMs = performance.now() - started;
          return;
        } catch (error) {
          // A kernel whose config could not be read says it lacks kexec_file_load only now.
          if (!(error instanceof SyscallError) || error.errnoName !== 'ENOSYS' || choice !== 'auto') throw error;
          decision = chooseLoadSyscall(facts(), choice, { crash, kexecFileMissing: true });
          notes.push(`loaded with kexec_load: ${decision.reason}`);
          prepared = segmentLoad();
        }
      }
      env.syscalls.kexecLoad(prepared.plan.entry, prepared.plan.segments, prepared.flags);
      durationMs = performance.now() - started;
    });
    if (prepared !== undefined) flags = prepared.flags;
    const checksummedBytes = decision.syscall === 'kexec_load' ? 0 : kernel.sizeBytes + (initrd?.sizeBytes ?? 0) + Buffer.byteLength(cmdline) + 1;
    return { kernel: { ...describe(kernel), path: options.kernel }, initrd: initrd === undefined ? undefined : describe(initrd), cmdline, crash, syscall: decision.syscall, flags, dryRun, machineBlockers, notes, kernelLog, durationMs, checksummedBytes };
  } finally {
    for (const image of toClose) closeImage(image);
    for (const close of closers) close();
  }
}

function openIsoImage(file: string): { iso: Iso; source: IsoFileSource } {
  let source: IsoFileSource;
  try {
    source = openIsoFile(file);
  } catch (cause) {
    throw new ValidationError(ErrorCode.INPUT_NOT_FOUND, `The ISO image ${file} cannot be opened (${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}).`, {
      path: file,
      cause,
      remedy: 'Check the path of the image.',
    });
  }
  try {
    return { iso: openIso(source), source };
  } catch (error) {
    source.close();
    throw error;
  }
}

/**
 * A file inside an ISO image, copied chunk by chunk into a memfd: the descriptor the kernel
 * reads, as for any file kexec-ts prepares. Missing or not a regular file: the same errors as
 * for a file on disk.
 */
function memfdFromIso(iso: Iso, path: string, role: 'kernel' | 'initrd', syscalls: HandoffEnvironment['syscalls']): OpenedImage {
  const what = role === 'kernel' ? 'kernel image' : 'initrd';
  const info = iso.stat(path);
  if (info === undefined || info.kind !== 'file') {
    throw new ValidationError(ErrorCode.INPUT_NOT_FOUND, `The ${what} ${path} is not a file in the ISO image.`, { path, remedy: 'kexec-ts list --iso FILE shows what the image boots.' });
  }
  const size = info.sizeBytes;
  if (size === 0) throw new ValidationError(ErrorCode.INPUT_EMPTY, `The ${what} ${path} in the ISO image is empty.`, { path });
  const fd = syscalls.memfdCreate(`kexec-ts-${role}`, MFD_CLOEXEC);
  try {
    let written = 0;
    for (const chunk of iso.chunks(path, { maxBytes: LIMITS.kernelFileBytes })) {
      let offset = 0;
      while (offset < chunk.length) offset += writeSync(fd, chunk, offset, chunk.length - offset);
      written += chunk.length;
    }
    return { role, path, realPath: `memfd:kexec-ts-${role} (${path} in the ISO image)`, fd, sizeBytes: written };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/**
 * A dry run checks the machine too: its files passing is no promise where the kernel cannot
 * kexec at all. Privilege is left out (a dry run as a user tells what root would get).
 */
function whyKexecCannotRunHere(facts: MachineFacts): readonly string[] {
  return assessStatus({ ...facts, hasCapSysBoot: true }).blockers;
}

function planFor(kernelFile: OpenedImage, options: LoadOptions, facts: () => MachineFacts): Promise<KernelPlan> {
  const bytes = readWholeImage(kernelFile);
  // Addons and the machine's facts matter only for a UKI: both are read when the plan asks.
  return planKernel(bytes, options.kernel, {
    ...(options.ukiProfile !== undefined ? { ukiProfile: options.ukiProfile } : {}),
    ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
    get addons() {
      return readAddons(kernelFile.realPath);
    },
    get signaturesEnforced() {
      const { lockdown, secureBoot } = facts();
      return (lockdown !== undefined && lockdown !== 'none') || secureBoot === true;
    },
  });
}

/**
 * The UKI's own PE addons, where systemd-stub looks for them: <uki>.extra.d/*.addon.efi beside
 * the file. Which of them apply, and in which order, is the UKI parser's decision.
 */
function readAddons(realPath: string): AddonFile[] {
  const directory = `${realPath}.extra.d`;
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return [];
  }
  const addons: AddonFile[] = [];
  for (const fileName of names.slice(0, LIMITS.ukiAddonFiles)) {
    let image: OpenedImage | undefined;
    try {
      image = openImage(join(directory, fileName), 'kernel');
      addons.push({ fileName, bytes: readWholeImage(image) });
    } catch {
      // A directory, a FIFO or an unreadable file there is not an addon; the stub skips it too.
    } finally {
      closeImage(image);
    }
  }
  return addons;
}

function debugFlag(facts: MachineFacts, notes: string[]): number {
  const release = facts.kernelRelease;
  if (releaseAtLeast(release, KEXEC_FILE_FLAG_SINCE.KEXEC_FILE_DEBUG!) === true) return KEXEC_FILE_DEBUG;
  notes.push(`KEXEC_FILE_DEBUG not sent: the running kernel (${release ?? 'release unknown'}) is older than 6.8 and would refuse the load for an unknown flag`);
  return 0;
}

function describe(image: OpenedImage): FileDescription {
  return { path: image.path, realPath: image.realPath, sizeBytes: image.sizeBytes };
}

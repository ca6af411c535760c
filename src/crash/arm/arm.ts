import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { isKexecError, KexecError } from '../../errors.js';
import { hostEnvironment, load, unload, type HandoffEnvironment, type LoadResult } from '../../handoff/handoff.js';
import { fitError } from './fit.js';
import { noReservationError, planCaptureKernel, type CaptureKernelOptions, type CaptureKernelPlan } from './plan.js';
import { assessReservation, type CrashReservation } from './reservation.js';

/**
 * `crash load`, `crash unload`, `crash status`: the capture kernel armed with
 * KEXEC_FILE_ON_CRASH after every check of plan.ts passed, and a record of what was armed in
 * /run (tmpfs: gone at the next boot, like the load itself), since the kernel tells only
 * whether something is loaded, not what.
 */

/** Where `crash load` notes what it loaded (kdump-tools keeps its kexec command line in a file the same way). */
export const LOADED_RECORD_PATH = 'run/kexec-ts/crash-loaded.json';

export interface LoadedRecord {
  readonly loadedAt: string;
  /** /proc/sys/kernel/random/boot_id: a record from another boot says nothing about this one. */
  readonly bootId: string | undefined;
  readonly kernel: string;
  readonly initrds: readonly string[];
  readonly cmdline: string;
  readonly environment: string;
  readonly reservationBytes: number | undefined;
  readonly fits: boolean | undefined;
}

export interface ArmOptions extends CaptureKernelOptions {
  /** Load even when the fit check says it will not work (the kernel still refuses what does not load). */
  readonly ignoreFit?: boolean;
}

export interface ArmResult {
  readonly plan: CaptureKernelPlan;
  readonly load: LoadResult;
}

export async function armCaptureKernel(options: ArmOptions = {}, env: HandoffEnvironment = hostEnvironment()): Promise<ArmResult> {
  const plan = await planCaptureKernel(options);
  if (plan.reservation.mainBytes === 0) throw noReservationError(plan.reservation);
  if (plan.fit !== undefined && !plan.fit.fits && options.ignoreFit !== true) {
    throw fitError(plan.fit, { parameter: plan.reservation.parameter, initrdPath: plan.initrds.at(-1)?.path });
  }
  const result = await load(
    {
      kernel: plan.kernel.path,
      ...(plan.initrdFiles.length > 0 ? { initrd: plan.initrdFiles } : {}),
      cmdline: plan.cmdline.cmdline,
      crash: true,
      ...(options.onProgress !== undefined ? { onProgress: options.onProgress } : {}),
    },
    env,
  );
  writeLoadedRecord(options.root ?? '/', plan);
  return { plan, load: result };
}

export function disarmCaptureKernel(options: { root?: string } = {}, env: HandoffEnvironment = hostEnvironment()): void {
  unload({ crash: true }, env);
  rmSync(join(options.root ?? '/', LOADED_RECORD_PATH), { force: true });
}

export interface CrashStatus {
  readonly reservation: CrashReservation;
  /** /sys/kernel/kexec_crash_loaded. */
  readonly loaded: boolean | undefined;
  /** What kexec-ts crash load armed in this boot, when it was kexec-ts and the kernel still has it. */
  readonly loadedRecord: LoadedRecord | undefined;
  /** What crash load would do now (with the same options), and whether it fits. */
  readonly plan: CaptureKernelPlan | undefined;
  /** Why no plan could be made (no kernel in /boot, an unreadable initrd, ...). */
  readonly planError: KexecError | undefined;
}

export async function crashStatus(options: CaptureKernelOptions = {}): Promise<CrashStatus> {
  const root = options.root ?? '/';
  let plan: CaptureKernelPlan | undefined;
  let planError: KexecError | undefined;
  try {
    plan = await planCaptureKernel(options);
  } catch (error) {
    if (!isKexecError(error)) throw error;
    planError = error;
  }
  const reservation = plan?.reservation ?? reservationOnly(options);
  const loadedText = readText(join(root, 'sys/kernel/kexec_crash_loaded'))?.trim();
  const loaded = loadedText === '1' ? true : loadedText === '0' ? false : undefined;
  const record = readLoadedRecord(root);
  const bootId = readText(join(root, 'proc/sys/kernel/random/boot_id'))?.trim();
  const current = record !== undefined && loaded === true && record.bootId === bootId ? record : undefined;
  return { reservation, loaded, loadedRecord: current, plan, planError };
}

function reservationOnly(options: CaptureKernelOptions): CrashReservation {
  const root = options.root ?? '/';
  return assessReservation({
    procCmdline: readText(join(root, 'proc/cmdline'))?.trim(),
    kexecCrashSize: readText(join(root, 'sys/kernel/kexec_crash_size')),
    procIomem: readText(join(root, 'proc/iomem')),
  });
}

function writeLoadedRecord(root: string, plan: CaptureKernelPlan): void {
  const record: LoadedRecord = {
    loadedAt: new Date().toISOString(),
    bootId: readText(join(root, 'proc/sys/kernel/random/boot_id'))?.trim(),
    kernel: plan.kernel.path,
    initrds: plan.initrds.map((part) => part.path),
    cmdline: plan.cmdline.cmdline,
    environment: plan.environment,
    reservationBytes: plan.reservation.totalBytes,
    fits: plan.fit?.fits,
  };
  const path = join(root, LOADED_RECORD_PATH);
  try {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(`${path}.tmp`, `${JSON.stringify(record, null, 2)}\n`);
    renameSync(`${path}.tmp`, path);
  } catch {
    // The record only helps `crash status` say what is loaded; the load itself succeeded.
  }
}

function readLoadedRecord(root: string): LoadedRecord | undefined {
  const text = readText(join(root, LOADED_RECORD_PATH));
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as LoadedRecord;
  } catch {
    return undefined;
  }
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * The library calls under `list --all-disks` and `reboot --all-disks`: each runs the reading
 * process (child.ts) with Node's own binary, waits for its one JSON answer, and returns it, or
 * throws the error it reported as the same class. Nothing is mounted in this process.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { rootRequired, type DiskLoadOutcome, type DiskRequest, type DiskResponse } from './protocol.js';
import { errorFromTransport } from './transport.js';
import type { AllDisksReport } from './types.js';

const CHILD_SCRIPT = fileURLToPath(new URL('./child.js', import.meta.url));

export interface AllDisksOptions {
  /** Folders, relative to each file system's root, whose *.iso files are listed too. */
  readonly isoDirs?: readonly string[];
}

/** Every block device's file systems, read-only in a private mount namespace, with their boot entries. Root only. */
export async function readAllDisks(options: AllDisksOptions = {}): Promise<AllDisksReport> {
  const response = await ask({ kind: 'list', isoDirs: options.isoDirs ?? [] });
  if (!('report' in response)) throw new Error('the disk reader answered a list request without a report');
  return response.report;
}

export interface LoadFromDiskOptions extends AllDisksOptions {
  /** DEVICE or DEVICE:ID: a UUID, PARTUUID, LABEL or /dev path, and an entry id, title, index or glob on it. */
  readonly spec: string;
  readonly append?: string;
  /** The command line to boot with instead of the entry's (--reuse-cmdline: this boot's, trimmed). */
  readonly reusedCmdline?: string;
  readonly dryRun?: boolean;
}

/**
 * Loads (or with dryRun checks) an entry of another disk, while that file system is mounted in
 * the reading process; the loaded kernel stays loaded after it exits, ready for exec().
 */
export async function loadFromDisk(options: LoadFromDiskOptions): Promise<DiskLoadOutcome> {
  const response = await ask({
    kind: 'load',
    isoDirs: options.isoDirs ?? [],
    spec: options.spec,
    ...(options.append !== undefined ? { append: options.append } : {}),
    ...(options.reusedCmdline !== undefined ? { reusedCmdline: options.reusedCmdline } : {}),
    dryRun: options.dryRun === true,
  });
  if (!('loaded' in response)) throw new Error('the disk reader answered a load request without a result');
  return response.loaded;
}

async function ask(request: DiskRequest): Promise<Extract<DiskResponse, { ok: true }>> {
  if (process.geteuid?.() !== 0) throw rootRequired('Reading every disk');
  const { stdout, stderr, code, signal } = await new Promise<{ stdout: string; stderr: string; code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD_SCRIPT, JSON.stringify(request)], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (exitCode, exitSignal) => resolve({ stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), code: exitCode, signal: exitSignal }));
  });
  let response: DiskResponse;
  try {
    response = JSON.parse(stdout) as DiskResponse;
  } catch (cause) {
    throw new Error(`the disk reader (${CHILD_SCRIPT}) ended with ${signal ?? `exit code ${code}`} and no answer: ${stderr.trim()}`, { cause });
  }
  if (!response.ok) throw errorFromTransport(response.error);
  return response;
}

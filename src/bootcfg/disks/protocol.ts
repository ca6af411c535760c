/**
 * What the caller asks the reading process (child.ts) and what it answers, one JSON document
 * each way (the request as its one argument, the answer on its stdout). Pure types and checks.
 */
import { ErrorCode, ValidationError } from '../../errors.js';
import type { TransportedError } from './transport.js';
import type { AllDisksReport, DiskDevice } from './types.js';

export type DiskRequest =
  | { readonly kind: 'list'; readonly isoDirs: readonly string[] }
  | {
      readonly kind: 'load';
      readonly isoDirs: readonly string[];
      /** DEVICE or DEVICE:ID (select.ts). */
      readonly spec: string;
      readonly append?: string;
      /** This boot's command line, already trimmed (--reuse-cmdline): read by the caller. */
      readonly reusedCmdline?: string;
      readonly dryRun: boolean;
    };

/** What a load in the namespace did: the entry chosen and load()'s result, paths the file system's own. */
export interface DiskLoadOutcome {
  readonly device: DiskDevice;
  readonly entry: { readonly indexOnDevice: number; readonly id: string; readonly title: string; readonly origin: string };
  readonly load: {
    readonly kernel: { readonly path: string; readonly realPath: string; readonly sizeBytes: number };
    readonly initrd: { readonly path: string; readonly realPath: string; readonly sizeBytes: number } | null;
    readonly cmdline: string;
    readonly checksummedBytes: number;
    readonly notes: readonly string[];
    readonly machineBlockers: readonly string[];
    readonly kernelLog: readonly string[];
  };
}

export type DiskResponse =
  | { readonly ok: true; readonly report: AllDisksReport }
  | { readonly ok: true; readonly loaded: DiskLoadOutcome }
  | { readonly ok: false; readonly error: TransportedError };

/** Reading other disks mounts them: root (CAP_SYS_ADMIN) only. */
export function rootRequired(what: string): ValidationError {
  return new ValidationError(ErrorCode.PERMISSION_DENIED, `${what} needs root: it mounts every disk's file systems (read-only, in a private mount namespace), which takes CAP_SYS_ADMIN.`, {
    remedy: 'Run it as root (sudo kexec-ts ...); without root, `kexec-ts list --root DIR` reads a file system you have mounted yourself.',
  });
}

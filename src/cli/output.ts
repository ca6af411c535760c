import { KexecError, KexecRefusedError, ValidationError } from '../errors.js';

/** Where a command writes; main.ts passes the process's streams, tests pass buffers. */
export interface CommandOutput {
  readonly json: boolean;
  out(text: string): void;
  err(text: string): void;
}

/**
 * undefined becomes null so every documented key is always present; a 64-bit field (bigint)
 * becomes a number when exact, else a decimal string; bytes are not dumped, only their length.
 */
function jsonValue(this: Record<string, unknown>, key: string, member: unknown): unknown {
  // JSON.stringify calls a Buffer's toJSON before the replacer sees it (an array of every byte:
  // gigabytes of text for a UKI's sections); the holder still has the bytes themselves.
  const raw = this[key];
  if (raw instanceof Uint8Array) return { sizeBytes: raw.length };
  if (member === undefined) return null;
  if (typeof member === 'bigint') return member <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(member) : member.toString();
  return member;
}

export function writeJson(output: CommandOutput, value: unknown): void {
  output.out(`${JSON.stringify(value, jsonValue, 2)}\n`);
}

/** The `error` member of a failed command's --json output (shape documented in the README). */
export function errorToJson(error: unknown): Record<string, unknown> {
  if (!(error instanceof KexecError)) {
    return { code: 'INTERNAL_ERROR', name: 'Error', message: error instanceof Error ? error.message : String(error) };
  }
  return {
    code: error.code,
    name: error.name,
    message: error.message,
    ...(error instanceof KexecRefusedError
      ? { syscall: error.syscall, errno: error.errno, errnoName: error.errnoName, reason: error.reason, kernelLog: error.kernelLog }
      : {}),
    ...(error instanceof ValidationError && error.path !== undefined ? { path: error.path } : {}),
    ...(error.remedy !== undefined ? { remedy: error.remedy } : {}),
  };
}

/** A failure in plain words: what happened, why, what the kernel said, what to do. */
export function formatErrorText(error: unknown): string {
  if (!(error instanceof KexecError)) {
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    return `kexec-ts: internal error, please report it with this output:\n${detail}\n`;
  }
  const rows: Array<[string, string]> = [];
  if (error instanceof KexecRefusedError) {
    rows.push(['what happened', `${error.syscall} failed with ${error.errnoName} (${error.errno})`]);
    rows.push(['why', error.reason]);
    if (error.kernelLog.length > 0) {
      error.kernelLog.forEach((line, index) => rows.push([index === 0 ? 'kernel said' : '', line]));
    } else {
      rows.push(['kernel said', 'nothing in its log during the call']);
    }
  }
  if (error.remedy !== undefined) rows.push(['what to do', error.remedy]);
  rows.push(['error code', error.code]);
  const width = Math.max(...rows.map(([label]) => label.length));
  const body = rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`).join('\n');
  return `kexec-ts: ${error.message}\n${body}\n`;
}

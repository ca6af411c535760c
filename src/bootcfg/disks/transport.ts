/**
 * An error thrown in the reading process, carried to the caller as JSON and thrown there again
 * as the same class with the same code, message, remedy and facts, so the CLI prints and exits
 * for it exactly as if it had happened in its own process. Pure.
 */
import { ErrorCode, KexecError, KexecRefusedError, SyscallError, UnsupportedError, UsageError, ValidationError } from '../../errors.js';

export interface TransportedError {
  readonly name: string;
  readonly code: string;
  readonly message: string;
  readonly remedy?: string;
  readonly path?: string;
  readonly syscall?: string;
  readonly errno?: number;
  readonly errnoName?: string;
  readonly reason?: string;
  readonly kernelLog?: readonly string[];
  readonly platform?: string;
  readonly arch?: string;
  readonly stack?: string;
}

export function errorForTransport(error: unknown): TransportedError {
  if (!(error instanceof KexecError)) {
    return { name: 'Error', code: 'INTERNAL_ERROR', message: error instanceof Error ? error.message : String(error), ...(error instanceof Error && error.stack !== undefined ? { stack: error.stack } : {}) };
  }
  return {
    name: error.name,
    code: error.code,
    message: error.message,
    ...(error.remedy !== undefined ? { remedy: error.remedy } : {}),
    ...(error instanceof ValidationError && error.path !== undefined ? { path: error.path } : {}),
    ...(error instanceof KexecRefusedError || error instanceof SyscallError ? { syscall: error.syscall, errno: error.errno, errnoName: error.errnoName } : {}),
    ...(error instanceof KexecRefusedError ? { reason: error.reason, kernelLog: error.kernelLog } : {}),
    ...(error instanceof UnsupportedError ? { platform: error.platform, arch: error.arch } : {}),
  };
}

const KNOWN_CODES = new Set<string>(Object.values(ErrorCode));

/** The error again, as its class; an unknown code or a non-KexecError comes back as a plain Error (a bug: exit 1). */
export function errorFromTransport(sent: TransportedError): Error {
  if (!KNOWN_CODES.has(sent.code)) {
    const error = new Error(sent.message);
    if (sent.stack !== undefined) error.stack = sent.stack;
    return error;
  }
  const code = sent.code as ErrorCode;
  const details = sent.remedy !== undefined ? { remedy: sent.remedy } : {};
  switch (sent.name) {
    case 'ValidationError':
      return new ValidationError(code, sent.message, { ...details, ...(sent.path !== undefined ? { path: sent.path } : {}) });
    case 'UsageError':
      return new UsageError(sent.message, details);
    case 'UnsupportedError':
      return new UnsupportedError(sent.message, { platform: sent.platform ?? 'unknown', arch: sent.arch ?? 'unknown' }, details);
    case 'KexecRefusedError':
      return new KexecRefusedError(code, sent.message, { syscall: sent.syscall ?? '', errno: sent.errno ?? 0, errnoName: sent.errnoName ?? '', reason: sent.reason ?? '', kernelLog: sent.kernelLog ?? [] }, details);
    case 'SyscallError':
      return new SyscallError(sent.syscall ?? '', sent.errno ?? 0, sent.errnoName ?? '', details);
    case 'ParseError':
    case 'ConfigError': {
      // Their message already carries the format or file and place: keep it as it was.
      const error = new KexecError(code, sent.message, details);
      error.name = sent.name;
      return error;
    }
    default:
      return new KexecError(code, sent.message, details);
  }
}

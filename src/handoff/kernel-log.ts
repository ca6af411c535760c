import { closeSync, constants, openSync, readSync } from 'node:fs';
import type { KexecSyscalls } from '../syscall/index.js';
import { formatKernelLogRecord, parseKmsgRecord, type KernelLogRecord } from './kmsg-record.js';
import { LIMITS } from '../limits.js';

/**
 * What the kernel logs while one syscall runs. Opened just before the call and positioned at
 * the end of the ring buffer (SEEK_END on /dev/kmsg), so afterwards every record read back was
 * logged during the call (or by something else at that same moment; those are rare and
 * harmless to show).
 */
export interface KernelLogCapture {
  /** Why nothing can be captured (e.g. dmesg_restrict without CAP_SYSLOG); undefined when capturing. */
  readonly unavailableReason: string | undefined;
  /** The records logged since the capture began, formatted as dmesg shows them. */
  collect(): string[];
  close(): void;
}

export function startKernelLogCapture(syscalls: KexecSyscalls, devKmsgPath = '/dev/kmsg'): KernelLogCapture {
  let fd: number;
  try {
    fd = openSync(devKmsgPath, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'EPERM' || code === 'EACCES'
        ? 'the kernel log is not readable by this user (kernel.dmesg_restrict=1 needs CAP_SYSLOG)'
        : `${devKmsgPath} cannot be opened (${code})`;
    return { unavailableReason: reason, collect: () => [], close: () => {} };
  }
  try {
    syscalls.seekEnd(fd);
  } catch {
    // Without the seek we read the whole buffer; keep only what comes after this moment by
    // draining now.
    readRecords(fd);
  }
  return {
    unavailableReason: undefined,
    collect: () => readRecords(fd).map(formatKernelLogRecord),
    close: () => closeSync(fd),
  };
}

/** Reads records until the buffer is drained (EAGAIN). Each read(2) returns one record. */
function readRecords(fd: number): KernelLogRecord[] {
  const records: KernelLogRecord[] = [];
  const buffer = Buffer.alloc(LIMITS.kmsgRecordBytes);
  for (let reads = 0; reads < LIMITS.kmsgRecordsPerCapture; reads++) {
    let length: number;
    try {
      length = readSync(fd, buffer, 0, buffer.length, null);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // EPIPE: records were overwritten before we read them; the next read goes on after them.
      if (code === 'EPIPE') continue;
      break; // EAGAIN: nothing more; anything else: stop quietly, the log is a bonus.
    }
    if (length === 0) break;
    const record = parseKmsgRecord(buffer.toString('utf8', 0, length));
    if (record !== undefined) records.push(record);
  }
  return records;
}

import { SyscallError } from '../errors.js';
import { hostSyscalls, type KexecSyscalls } from '../syscall/index.js';
import { explainKexecFailure, type FailedCall } from './explain.js';
import { startKernelLogCapture } from './kernel-log.js';
import { readMachineFacts, type MachineFacts } from './machine-facts.js';
import { readMachineDescription, type MachineDescription } from './kexec-load/machine-description.js';

/** Where the library meets the machine; tests and non-default roots replace these. */
export interface HandoffEnvironment {
  readonly syscalls: KexecSyscalls;
  readonly readFacts: () => MachineFacts;
  readonly devKmsgPath: string;
  /** The memory map and device tree kexec_load places segments by; absent, the host's are read. */
  readonly readMachineDescription?: () => MachineDescription;
}

export function hostEnvironment(): HandoffEnvironment {
  return { syscalls: hostSyscalls(), readFacts: () => readMachineFacts(), devKmsgPath: '/dev/kmsg', readMachineDescription: () => readMachineDescription() };
}

/**
 * Runs one kexec syscall while capturing the kernel's log; on failure, reads the machine's
 * facts and throws the explained refusal with the log attached.
 */
export function callWithKernelLog(env: HandoffEnvironment, call: FailedCall, syscall: () => void): string[] {
  const capture = startKernelLogCapture(env.syscalls, env.devKmsgPath);
  try {
    try {
      syscall();
    } catch (error) {
      if (!(error instanceof SyscallError)) throw error;
      throw explainKexecFailure(error, call, env.readFacts(), capture.collect());
    }
    return capture.collect();
  } finally {
    capture.close();
  }
}

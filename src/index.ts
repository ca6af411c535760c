/**
 * The pure API: importable on any OS, never loads the FFI. Parsers and the logic that weighs
 * facts live here; ./node adds the calls that touch the machine.
 */
export * from './errors.js';
export { LIMITS } from './limits.js';
export { parseKernelConfig, configEnabled, KEXEC_RELEVANT_OPTIONS, type KernelConfig } from './image/kernel-config.js';
export { CMDLINE_LIMITS, validateCmdline, reusableCmdline, splitCmdline, type CmdlineLimit } from './handoff/cmdline.js';
export { explainKexecFailure, type FailedCall } from './handoff/explain.js';
export { parseKmsgRecord, formatKernelLogRecord, type KernelLogRecord } from './handoff/kmsg-record.js';
export { assessStatus, type KexecStatus, type StatusCheck } from './handoff/status.js';
export { parseLockdown, CAP_SYS_BOOT, type MachineFacts, type LockdownMode } from './handoff/machine-facts.js';
export {
  SYSCALL_NUMBERS,
  kernelArchOf,
  KEXEC_FILE_UNLOAD,
  KEXEC_FILE_ON_CRASH,
  KEXEC_FILE_NO_INITRAMFS,
  LINUX_REBOOT_CMD_KEXEC,
  type KernelArch,
} from './syscall/numbers.js';
export { errnoName, errnoDescription, errnoNumber } from './syscall/errno.js';
export * from './bootcfg/index.js';

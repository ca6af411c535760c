/**
 * The full API for Node on Linux: the pure one plus the calls that touch the machine. On any
 * other platform this still imports; the calls then throw UnsupportedError.
 */
export * from './index.js';
export { syscallsFor, hostSyscalls, type KexecSyscalls } from './syscall/index.js';
export {
  load,
  unload,
  exec,
  loadAndExec,
  hostEnvironment,
  type LoadOptions,
  type LoadResult,
  type ExecOptions,
  type ExecOutcome,
  type HandoffEnvironment,
} from './handoff/handoff.js';
export { status } from './handoff/status.js';
export { readAllDisks, loadFromDisk, type AllDisksOptions, type LoadFromDiskOptions } from './bootcfg/disks/all-disks.js';
export { readMachineDescription, type MachineDescription } from './handoff/kexec-load/machine-description.js';
export { readMachineFacts } from './handoff/machine-facts.js';
export { openImage, closeImage, type OpenedImage, type ImageRole } from './handoff/open-image.js';
export { startKernelLogCapture, type KernelLogCapture } from './handoff/kernel-log.js';
// kdump: arming the capture kernel (touches the machine) and the dump readers and writers
// (which read /proc/vmcore or dump files).
export * from './crash/index.js';

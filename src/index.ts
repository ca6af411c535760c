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
export { inspect, detectFormat, type InspectedImage, type ImageFormat } from './image/detect.js';
export { parseBzImage, probeBzImage, type BzImage } from './image/bzimage/parse.js';
export { parseElf, probeElf, type ElfImage, type ElfProgramHeader } from './image/elf/parse.js';
export { parseArm64Image, probeArm64Image, type Arm64Image } from './image/arm64/parse.js';
export { parseRiscvImage, probeRiscvImage, type RiscvImage } from './image/riscv/parse.js';
export { parseZboot, probeZboot, type ZbootImage } from './image/zboot/parse.js';
export { detectInitrdKind, type InitrdKind } from './image/cpio.js';
export { extractEmbeddedConfig } from './image/ikconfig.js';
export { CODECS, detectCodec, decompress, decompressStream, type Codec, type DecompressOptions } from './image/codecs/index.js';
export * from './image/pe/index.js';
export * from './image/uki/index.js';
export { planKernel, type KernelPlan, type PlanOptions } from './handoff/plan-kernel.js';
export { preflightKernel, preflightInitrd } from './handoff/preflight.js';
export { selectBootEntry } from './bootcfg/select.js';
export * from './devicetree/index.js';
export { parseBlkidUdev, classifyDevice, explainMountError, parseDiskEntrySpec, DiskSkipCode, type BlkidProbe, type DiskEntrySpec, type AllDisksReport, type DiskDevice, type DiskEntry, type DiskVolume, type SkippedDevice } from './bootcfg/disks/index.js';
export { chooseLoadSyscall, loadPathHere, KEXEC_LOAD_ARCHES, type KexecLoadChoice, type LoadSyscall, type LoadSyscallDecision } from './handoff/kexec-load/choose.js';
export { planArm64KexecLoad, nextBootFdt, type Arm64KexecLoadInput, type KexecLoadPlan } from './handoff/kexec-load/arm64.js';
export { planRiscv64KexecLoad, deviceTreeReservations, type Riscv64KexecLoadInput } from './handoff/kexec-load/riscv64.js';
export { imageLoadability, type Loadability } from './handoff/loadability.js';
export { usableRam, placeSegments, type SegmentRequest, type SegmentPlacement } from './handoff/kexec-load/placement.js';
export { arm64Purgatory, ARM64_PURGATORY_CODE } from './handoff/kexec-load/purgatory-arm64.js';
export { ukiBootEntries, type UkiFile } from './bootcfg/uki-entries.js';

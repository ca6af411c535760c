/**
 * The reading process of `list --all-disks` and `reboot --all-disks`, started by all-disks.ts
 * with one argument, the request (protocol.ts), and answering with one JSON document on stdout.
 *
 * It exists so that the mounts cannot outlive their use: it unshares its mount namespace, makes
 * it private and mounts there; the machine's mounts never see them, and when this process ends
 * (answer given, an error, SIGINT, SIGKILL) the namespace and whatever is still mounted in it go
 * with it. A load happens here too, while the file system is mounted: load() opens the kernel
 * and initrd once and hands those descriptors to kexec_file_load, and the kernel keeps its copy
 * of the segments, so nothing is needed from the disk once this process has exited and the
 * caller runs exec.
 */
import { cmdlineForEntry } from '../../handoff/cmdline.js';
import { hostEnvironment } from '../../handoff/environment.js';
import { mountSyscallsFor } from '../../syscall/index.js';
import type { MountSyscalls } from '../../syscall/types.js';
import { selectBootEntry } from '../select.js';
import { ErrorCode, KexecError, SyscallError } from '../../errors.js';
import { rootRequired, type DiskLoadOutcome, type DiskRequest, type DiskResponse } from './protocol.js';
import { volumeRelative } from './report.js';
import { DiskNamespace, probeAllDevices, readVolume, scanAllDisks } from './scan.js';
import { parseDiskEntrySpec } from './select.js';
import { errorForTransport } from './transport.js';

/** A refused unshare or mount is the root requirement (or a container without CAP_SYS_ADMIN). */
function withPermission(syscalls: MountSyscalls): MountSyscalls {
  const guard = <A extends unknown[]>(call: (...args: A) => void) => (...args: A): void => {
    try {
      call(...args);
    } catch (error) {
      if (error instanceof SyscallError && error.errnoName === 'EPERM' && (error.syscall === 'unshare' || args[0] === null || args[0] === 'kexec-ts-disks')) {
        throw rootRequired('Reading every disk');
      }
      throw error;
    }
  };
  return { unshare: guard(syscalls.unshare), mount: guard(syscalls.mount), umount2: syscalls.umount2 };
}

async function loadFromDisk(request: Extract<DiskRequest, { kind: 'load' }>, syscalls: MountSyscalls): Promise<DiskLoadOutcome> {
  const probed = probeAllDevices();
  const spec = parseDiskEntrySpec(request.spec, probed.map((candidate) => candidate.device));
  const chosen = probed.find((candidate) => candidate.device === spec.device)!;
  if (chosen.decision.action !== 'mount') {
    const why = chosen.decision.action === 'skip' ? chosen.decision.reason : 'it holds a partition table; name one of its partitions';
    throw new KexecError(ErrorCode.NO_BOOT_ENTRY, `${chosen.device.path} is not read: ${why}.`, { remedy: '`kexec-ts list --all-disks` shows what each device holds.' });
  }
  const namespace = new DiskNamespace(syscalls);
  const mounted = namespace.mount(chosen);
  if (!('mountDir' in mounted)) throw new KexecError(ErrorCode.INPUT_UNREADABLE, `${chosen.device.path}: ${mounted.reason}.`, { remedy: 'Check the device (dmesg says more).' });
  try {
    const { list } = readVolume(mounted.mountDir, chosen.device, request.isoDirs);
    const entry = selectBootEntry(list.entries, spec.entry);
    if (entry.unbootableReason !== undefined) {
      throw new KexecError(ErrorCode.NO_BOOT_ENTRY, `The entry '${entry.title}' cannot be booted with kexec: ${entry.unbootableReason.message}.`, {
        remedy: 'Pick another entry (kexec-ts list --all-disks shows them all).',
      });
    }
    const cmdline = cmdlineForEntry(entry, { append: request.append, reused: request.reusedCmdline });
    // Only a load needs the image and codec modules: a list does not pay for them.
    const { load } = await import('../../handoff/load.js');
    const result = await load({
      kernel: entry.kernelFile!,
      initrd: entry.initrdFiles,
      ...(entry.iso?.imageFile !== undefined ? { isoImage: entry.iso.imageFile } : {}),
      ...(cmdline !== undefined ? { cmdline } : {}),
      dryRun: request.dryRun,
    }, hostEnvironment());
    const outcome: DiskLoadOutcome = {
      device: chosen.device,
      entry: { indexOnDevice: list.entries.indexOf(entry), id: entry.id, title: entry.title, origin: entry.origin },
      load: {
        kernel: result.kernel,
        initrd: result.initrd ?? null,
        cmdline: result.cmdline,
        checksummedBytes: result.checksummedBytes,
        notes: result.notes,
        machineBlockers: result.machineBlockers,
        kernelLog: result.kernelLog,
      },
    };
    return volumeRelative(outcome, mounted.mountDir, chosen.device);
  } catch (error) {
    // Messages name the mount point, which exists only here: say the device instead.
    if (error instanceof KexecError) error.message = volumeRelative(error.message, mounted.mountDir, chosen.device);
    throw error;
  } finally {
    namespace.unmount(mounted.mountDir);
  }
}

async function answer(request: DiskRequest): Promise<DiskResponse> {
  if (process.geteuid?.() !== 0) throw rootRequired('Reading every disk');
  const syscalls = withPermission(mountSyscallsFor());
  if (request.kind === 'list') return { ok: true, report: scanAllDisks({ isoDirs: request.isoDirs }, syscalls) };
  return { ok: true, loaded: await loadFromDisk(request, syscalls) };
}

let response: DiskResponse;
try {
  response = await answer(JSON.parse(process.argv[2] ?? '') as DiskRequest);
} catch (error) {
  response = { ok: false, error: errorForTransport(error) };
}
process.stdout.write(`${JSON.stringify(response)}\n`);

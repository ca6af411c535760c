import { splitCmdline } from '../../handoff/cmdline.js';
import type { KernelArch } from '../../syscall/numbers.js';

/**
 * The capture kernel's command line, made the way the distributions' kdump services make it:
 * start from this boot's line, drop what must not reach a kernel running in a small, borrowed
 * reservation on hardware the crashed kernel left behind, and add what makes it boot there.
 *
 * Debian's kdump-tools (kdump-config): /proc/cmdline minus crashkernel=, hugepages=,
 * hugepagesz= and abm=, plus "reset_devices systemd.unit=kdump-tools-dump.service nr_cpus=1
 * irqpoll usbcore.nousb". Fedora's kdump-utils (kdumpctl prepare_cmdline and the per-arch
 * KDUMP_COMMANDLINE_REMOVE/APPEND of gen-kdump-sysconfig.sh): always minus crashkernel= and
 * panic_on_warn=, minus "hugepages hugepagesz slub_debug quiet log_buf_len swiotlb cma
 * hugetlb_cma", plus a per-arch list led by "irqpoll nr_cpus=1 reset_devices". We take Fedora's
 * lists (the longer-tested, per-arch ones) and Debian's idea of booting straight into the dump
 * unit; usbcore.nousb is left out, as it would make a USB disk unusable as the dump target.
 */

/** Where the capture kernel's userspace comes from; it decides the root= and unit rules. */
export type CaptureEnvironment =
  /** The system's own initrd, which mounts the real root; systemd then runs the save unit. */
  | 'system'
  /** An initramfs from `kexec-ts crash initrd`: its /init saves the dump; there is no real root. */
  | 'capture-initrd';

/** The systemd unit (contrib/systemd/) the capture boot of a 'system' environment runs alone. */
export const CRASH_SAVE_UNIT = 'kexec-ts-crash-save.service';

export interface CaptureCmdlineOptions {
  /** This boot's command line (/proc/cmdline), or the one to start from. */
  readonly base: string;
  readonly arch: KernelArch;
  readonly environment: CaptureEnvironment;
  /** Add the default parameters for the arch (true unless the caller wants only its own). */
  readonly defaults?: boolean;
  /** More parameter names to drop; "rd.*" drops every name with that prefix. */
  readonly remove?: readonly string[];
  /** Added last, so it wins over anything above (the kernel takes the last of most parameters). */
  readonly append?: string;
  /** Make the initramfs's rootfs a ramfs (rootfstype=ramfs): no tmpfs cap of half the memory. */
  readonly rootfsRamfs?: boolean;
}

export interface CmdlineChange {
  readonly parameter: string;
  readonly why: string;
}

export interface CaptureCmdline {
  readonly cmdline: string;
  readonly removed: readonly CmdlineChange[];
  readonly added: readonly CmdlineChange[];
}

/** Dropped from every capture line: name -> why. */
const ALWAYS_REMOVED: Readonly<Record<string, string>> = {
  crashkernel: 'the capture kernel must not reserve memory out of the little it runs in',
  BOOT_IMAGE: "names this boot's kernel file, not the capture kernel's",
  initrd: "names this boot's initrd file; the capture initrd is passed by kexec",
  hugepages: 'huge pages reserved at boot would take most of the reservation',
  hugepagesz: 'goes with hugepages=',
  default_hugepagesz: 'goes with hugepages=',
  hugetlb_cma: 'a CMA area for huge pages would take most of the reservation',
  cma: 'a CMA area would take most of the reservation',
  log_buf_len: 'a large log buffer is allocated out of the reservation',
  slub_debug: 'debug metadata on every allocation costs memory the capture kernel does not have',
  swiotlb: "this boot's bounce-buffer size would be allocated again out of the reservation",
  panic_on_warn: 'a warning in the capture kernel (likely on hardware in an odd state) must not stop the dump',
  quiet: "the capture kernel's messages are what tells why a dump failed",
  'systemd.unit': 'the capture boot runs the dump, not the usual target',
};

/** Dropped only when the capture initrd does the work: there is no real root to mount or init to run. */
const CAPTURE_INITRD_REMOVED: Readonly<Record<string, string>> = {
  root: 'a root= makes the kernel unpack the initramfs into ramfs and look for a real root; the capture initrd has none',
  rootfstype: "this boot's root filesystem type; the capture initramfs's rootfs is chosen below",
  rootflags: "this boot's root mount options",
  rootwait: "waits for this boot's root device",
  rootdelay: "waits for this boot's root device",
  ro: "this boot's root mount mode",
  rw: "this boot's root mount mode",
  init: "this boot's init; the capture initrd's /init must run",
  rdinit: "this boot's initramfs init; the capture initrd's /init must run",
  resume: 'resuming from hibernation has no place in a capture boot',
};

const COMMON_REASONS: Readonly<Record<string, string>> = {
  irqpoll: 'interrupts the crashed kernel left pending or misrouted are polled instead of lost',
  'nr_cpus=1': 'one CPU: less per-CPU memory, and no other CPUs to bring up from an unknown state',
  reset_devices: 'drivers reset their devices instead of trusting the state the crashed kernel left',
  'cgroup_disable=memory': "the memory controller's per-page bookkeeping costs memory",
  'udev.children-max=2': 'udev starts fewer workers in the small memory',
  'panic=10': 'if the capture kernel panics, the machine reboots after 10 s instead of hanging',
  'transparent_hugepage=never': 'no huge-page allocations in the small memory',
  novmcoredd: 'no device dumps added to /proc/vmcore (they are copied into memory first)',
  'cma=0': 'no CMA area',
  'hugetlb_cma=0': 'no CMA area for huge pages',
};

/**
 * Per-arch defaults: Fedora's KDUMP_COMMANDLINE_APPEND for the arch (kdump-utils
 * gen-kdump-sysconfig.sh), in its order. riscv64 has none there; it gets the common core.
 */
const ARCH_DEFAULTS: Readonly<Record<KernelArch, readonly string[]>> = {
  x86_64: ['irqpoll', 'nr_cpus=1', 'reset_devices', 'cgroup_disable=memory', 'mce=off', 'numa=off', 'udev.children-max=2', 'panic=10', 'acpi_no_memhotplug', 'transparent_hugepage=never', 'nokaslr', 'hest_disable', 'novmcoredd', 'cma=0', 'hugetlb_cma=0', 'pcie_ports=compat'],
  aarch64: ['irqpoll', 'nr_cpus=1', 'reset_devices', 'cgroup_disable=memory', 'udev.children-max=2', 'panic=10', 'swiotlb=noforce', 'novmcoredd', 'cma=0', 'hugetlb_cma=0'],
  riscv64: ['irqpoll', 'nr_cpus=1', 'reset_devices', 'cgroup_disable=memory', 'udev.children-max=2', 'panic=10', 'novmcoredd', 'cma=0', 'hugetlb_cma=0'],
};

const ARCH_REASONS: Readonly<Record<string, string>> = {
  'mce=off': 'machine-check errors left from the crashed kernel are not handled again',
  'numa=off': 'one node: less per-node memory',
  acpi_no_memhotplug: 'no memory hotplug handling in the capture kernel',
  nokaslr: 'the kernel runs where kexec placed it in the reservation',
  hest_disable: 'no APEI hardware-error-source handling of errors the crashed kernel left',
  'pcie_ports=compat': 'PCIe port services (AER, DPC) stay off: their recovery resets links mid-dump',
  'swiotlb=noforce': 'no forced bounce buffer, which would come out of the reservation',
};

/** Builds the capture command line; pure. */
export function buildCaptureCmdline(options: CaptureCmdlineOptions): CaptureCmdline {
  const { kernelParameters, initArguments } = splitInitArguments(splitCmdline(options.base));
  const additions: CmdlineChange[] = [];
  if (options.defaults !== false) {
    for (const parameter of ARCH_DEFAULTS[options.arch]) {
      if (parameter === 'udev.children-max=2' && options.environment !== 'system') continue;
      additions.push({ parameter, why: COMMON_REASONS[parameter] ?? ARCH_REASONS[parameter] ?? ARCH_REASONS[nameOf(parameter)] ?? '' });
    }
  }
  if (options.environment === 'system') {
    additions.push({ parameter: `systemd.unit=${CRASH_SAVE_UNIT}`, why: 'the capture boot mounts the root filesystem and runs only the dump unit, as kdump-tools does with its own' });
  }
  if (options.rootfsRamfs === true) {
    additions.push({ parameter: 'rootfstype=ramfs', why: 'the capture initramfs unpacks into ramfs: a tmpfs rootfs is capped at half the capture memory, too little for it' });
  }
  const userAdditions = options.append === undefined ? [] : splitCmdline(options.append);
  for (const parameter of userAdditions) additions.push({ parameter, why: 'asked for' });

  const removalReasons: Record<string, string> = { ...ALWAYS_REMOVED, ...(options.environment === 'capture-initrd' ? CAPTURE_INITRD_REMOVED : {}) };
  const userPatterns = options.remove ?? [];
  const addedNames = new Set(additions.map((change) => nameOf(change.parameter)));
  const removed: CmdlineChange[] = [];
  const kept: string[] = [];
  for (const parameter of kernelParameters) {
    const name = nameOf(parameter);
    const why =
      removalReasons[name] ??
      (userPatterns.some((pattern) => matches(pattern, name)) ? 'asked for' : undefined) ??
      (addedNames.has(name) ? 'replaced by the value below' : undefined);
    if (why === undefined) kept.push(parameter);
    else removed.push({ parameter, why });
  }
  // Parameters after "--" go to init, not the kernel: additions must come before it.
  const parameters = [...kept, ...additions.map((change) => change.parameter), ...(initArguments.length > 0 ? ['--', ...initArguments] : [])];
  return { cmdline: parameters.join(' '), removed, added: additions };
}

/** The parameter's name: what comes before "=" (quotes are part of values, not names). */
export function nameOf(parameter: string): string {
  const equals = parameter.indexOf('=');
  return (equals === -1 ? parameter : parameter.slice(0, equals)).replace(/"/g, '');
}

function matches(pattern: string, name: string): boolean {
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : nameOf(pattern) === name;
}

function splitInitArguments(parameters: string[]): { kernelParameters: string[]; initArguments: string[] } {
  const separator = parameters.indexOf('--');
  return separator === -1
    ? { kernelParameters: parameters, initArguments: [] }
    : { kernelParameters: parameters.slice(0, separator), initArguments: parameters.slice(separator + 1) };
}

/** Whether a command line makes the initramfs's rootfs a tmpfs (init/do_mounts.c init_rootfs()). */
export function rootfsIsTmpfs(cmdline: string): boolean {
  const parameters = splitInitArguments(splitCmdline(cmdline)).kernelParameters;
  const rootfstype = parameters.filter((parameter) => nameOf(parameter) === 'rootfstype').at(-1);
  const hasRoot = parameters.some((parameter) => nameOf(parameter) === 'root' && parameter.length > 'root='.length);
  // With CONFIG_TMPFS: tmpfs when neither root= nor rootfstype= is given, or rootfstype names tmpfs.
  if (rootfstype !== undefined) return rootfstype.slice('rootfstype='.length).includes('tmpfs');
  return !hasRoot;
}

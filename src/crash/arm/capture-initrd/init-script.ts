import { UsageError } from '../../../errors.js';
import { CAPTURE_CONFIG_PATH, CAPTURE_DUMP_MOUNT, CAPTURE_MODULES_DIR, CAPTURE_POST_HOOKS_DIR, CAPTURE_PRE_HOOKS_DIR, CAPTURE_PROJECT_DIR } from './layout.js';

/**
 * The capture initramfs's /init and its configuration: what runs in the capture kernel after a
 * crash. The flow is the distributions' (kdump-tools' savecore, dracut's kdump.sh): mount the
 * kernel's filesystems, load the modules the dump target needs, run the pre-save hooks, wait
 * for the dump device, mount it, save /proc/vmcore with kexec-ts crash save into a dated
 * directory, run the post-save hooks, then reboot (or what on_failure says when the save failed).
 */

export type CaptureAction = 'reboot' | 'poweroff' | 'shell';

export interface CaptureConfig {
  /** Where dumps go: "UUID=...", "LABEL=..." (resolved with findfs) or a device path; undefined: nothing is saved. */
  readonly dumpDevice: string | undefined;
  /** The filesystem type to mount it as; undefined: let mount probe it. */
  readonly dumpFstype: string | undefined;
  readonly dumpMountOptions: string;
  /** Directory on that filesystem; each dump gets a dated directory under it. */
  readonly dumpDir: string;
  /** Passed to `kexec-ts crash save --dir DIR`: format, compression, dump level. */
  readonly saveArguments: readonly string[];
  /** Module files in CAPTURE_MODULES_DIR, in the order they are loaded (dependencies first). */
  readonly modules: readonly string[];
  /** How long /init waits for the dump device to appear. */
  readonly deviceTimeoutSeconds: number;
  readonly onFailure: CaptureAction;
  readonly finalAction: CaptureAction;
}

/** makedumpfile -c -d 31 as kdump-tools runs it: zlib, and only the kernel's own pages. */
export const DEFAULT_SAVE_ARGUMENTS = ['--format', 'kdump', '--compress', 'zlib', '--dump-level', '31'] as const;

/** The configuration file: shell assignments /init sources; every value single-quoted. */
export function captureConfigText(config: CaptureConfig): string {
  const entries: Array<[string, string]> = [
    ['DUMP_DEVICE', config.dumpDevice ?? ''],
    ['DUMP_FSTYPE', config.dumpFstype ?? ''],
    ['DUMP_MOUNT_OPTIONS', config.dumpMountOptions],
    ['DUMP_DIR', config.dumpDir],
    ['SAVE_ARGS', config.saveArguments.join(' ')],
    ['MODULES', config.modules.join(' ')],
    ['DEVICE_TIMEOUT', String(config.deviceTimeoutSeconds)],
    ['ON_FAILURE', config.onFailure],
    ['FINAL_ACTION', config.finalAction],
  ];
  for (const [name, value] of entries) {
    if (/[\n\0]/.test(value)) throw new UsageError(`The capture setting ${name} cannot hold a newline or NUL: ${JSON.stringify(value)}.`);
  }
  for (const argument of [...config.saveArguments, ...config.modules]) {
    if (/\s|['"\\$`]/.test(argument)) throw new UsageError(`"${argument}" cannot be passed through the capture /init: no spaces, quotes, $ or backslashes.`);
  }
  if (!config.dumpDir.startsWith('/')) throw new UsageError(`The dump directory must be absolute (on the dump filesystem), not "${config.dumpDir}".`);
  return `# Written by kexec-ts crash initrd; read by /init in the capture kernel.\n${entries.map(([name, value]) => `${name}=${shellQuote(value)}`).join('\n')}\n`;
}

export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The /init script (busybox sh). */
export function captureInitScript(): string {
  return `#!/bin/busybox sh
# The capture initramfs's init, written by kexec-ts crash initrd. It runs in the capture kernel
# after a crash: saves /proc/vmcore to the configured filesystem, then reboots.
/bin/busybox mkdir -p /proc /sys /dev /tmp /run ${CAPTURE_DUMP_MOUNT}
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
# Hard links, not symlinks: on a ramfs rootfs every symlink takes a page of its own.
/bin/busybox --install /bin
export PATH=/usr/bin:/bin HOME=/root
. /${CAPTURE_CONFIG_PATH}

say() { echo "kexec-ts capture: $*"; }

finish() {
  sync
  # What is still in the UART's buffer would be lost to an immediate reset.
  sleep 1
  case "$1" in
    shell) say "starting a shell; leaving it reboots"; setsid cttyhack sh; reboot -f ;;
    poweroff) poweroff -f ;;
    *) reboot -f ;;
  esac
  sleep 3600
}

run_hooks() {
  for hook in /$1/*; do
    [ -x "$hook" ] || continue
    say "running $hook"
    "$hook" || say "$hook failed with exit status $?"
  done
}

if [ ! -e /proc/vmcore ]; then
  say "no /proc/vmcore: this is not a capture boot"
  finish "$FINAL_ACTION"
fi

for module in $MODULES; do
  insmod "/${CAPTURE_MODULES_DIR}/$module" || say "insmod $module failed"
done

export KEXEC_TS_VMCORE=/proc/vmcore
run_hooks ${CAPTURE_PRE_HOOKS_DIR}

status=0
if [ -n "$DUMP_DEVICE" ]; then
  device=
  waited=0
  while :; do
    case "$DUMP_DEVICE" in
      UUID=*|LABEL=*) device=$(findfs "$DUMP_DEVICE" 2>/dev/null) ;;
      *) [ -b "$DUMP_DEVICE" ] && device=$DUMP_DEVICE ;;
    esac
    [ -n "$device" ] && break
    [ "$waited" -ge "$DEVICE_TIMEOUT" ] && break
    sleep 1
    waited=$((waited + 1))
  done
  if [ -z "$device" ]; then
    say "the dump device $DUMP_DEVICE did not appear within $DEVICE_TIMEOUT s"
    status=1
  elif ! mount \${DUMP_FSTYPE:+-t "$DUMP_FSTYPE"} -o "$DUMP_MOUNT_OPTIONS" "$device" ${CAPTURE_DUMP_MOUNT}; then
    say "cannot mount $device"
    status=1
  else
    say "saving /proc/vmcore to $device, directory $DUMP_DIR"
    /usr/bin/kexec-ts crash save --dir "${CAPTURE_DUMP_MOUNT}$DUMP_DIR" $SAVE_ARGS
    status=$?
    sync
    umount ${CAPTURE_DUMP_MOUNT} || say "cannot unmount $device"
  fi
else
  say "no dump device configured: nothing is saved"
fi

export KEXEC_TS_SAVE_STATUS=$status
run_hooks ${CAPTURE_POST_HOOKS_DIR}
if [ "$status" -ne 0 ]; then
  say "the save failed (exit status $status)"
  finish "$ON_FAILURE"
fi
finish "$FINAL_ACTION"
`;
}

/** /usr/bin/kexec-ts in the initramfs. */
export function captureLauncherScript(): string {
  return `#!/bin/sh\nexec /usr/bin/node /${CAPTURE_PROJECT_DIR}/dist/src/cli/main.js "$@"\n`;
}

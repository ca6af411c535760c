import { UsageError } from '../../errors.js';
import type { CaptureEnvironment } from '../../crash/arm/capture-cmdline.js';
import type { CaptureKernelOptions } from '../../crash/arm/plan.js';
import { parseSizeOption } from './crash-report.js';

/** The options crash load and crash status share: what to arm, and how its command line is made. */
export const PLAN_OPTIONS = {
  kernel: { type: 'string' },
  initrd: { type: 'string', multiple: true },
  'no-initrd': { type: 'boolean' },
  append: { type: 'string' },
  remove: { type: 'string', multiple: true },
  'no-default-params': { type: 'boolean' },
  'base-cmdline': { type: 'string' },
  cmdline: { type: 'string' },
  environment: { type: 'string' },
  'userspace-reserve': { type: 'string' },
} as const;

export const PLAN_OPTIONS_USAGE = `  --kernel FILE             the capture kernel (default: /boot/vmlinuz-RELEASE of the running kernel)
  --initrd FILE             its initrd; repeat to concatenate several (default: the running kernel's
                            initrd in /boot, as kdump-tools does; or one from kexec-ts crash initrd)
  --no-initrd               no initrd
  --append PARAMS           parameters added last to the capture command line
  --remove NAME             drop NAME= from it (repeatable; "rd.*" drops a prefix)
  --no-default-params       add none of the default parameters (irqpoll nr_cpus=1 reset_devices ...)
  --base-cmdline LINE       start from LINE instead of /proc/cmdline
  --cmdline LINE            use exactly LINE: none of the rules apply
  --environment ENV         system | capture-initrd (default: capture-initrd when the initrd was
                            built by kexec-ts crash initrd, else system)
  --userspace-reserve SIZE  memory the capture userspace needs beyond its rootfs (e.g. 64M)`;

export interface PlanOptionValues {
  kernel?: string | undefined;
  initrd?: string[] | undefined;
  'no-initrd'?: boolean | undefined;
  append?: string | undefined;
  remove?: string[] | undefined;
  'no-default-params'?: boolean | undefined;
  'base-cmdline'?: string | undefined;
  cmdline?: string | undefined;
  environment?: string | undefined;
  'userspace-reserve'?: string | undefined;
}

export function planOptionsFrom(values: PlanOptionValues): CaptureKernelOptions {
  if (values['no-initrd'] === true && values.initrd !== undefined) throw new UsageError('--no-initrd and --initrd exclude each other.');
  if (values.environment !== undefined && values.environment !== 'system' && values.environment !== 'capture-initrd') {
    throw new UsageError(`--environment is system or capture-initrd, not '${values.environment}'.`);
  }
  if (values.cmdline !== undefined && (values.append !== undefined || values.remove !== undefined || values['base-cmdline'] !== undefined || values['no-default-params'] === true)) {
    throw new UsageError('--cmdline gives the whole line; it excludes --append, --remove, --base-cmdline and --no-default-params.');
  }
  return {
    ...(values.kernel !== undefined ? { kernel: values.kernel } : {}),
    ...(values['no-initrd'] === true ? { initrd: [] } : values.initrd !== undefined ? { initrd: values.initrd } : {}),
    ...(values.append !== undefined ? { cmdlineAppend: values.append } : {}),
    ...(values.remove !== undefined ? { cmdlineRemove: values.remove } : {}),
    ...(values['no-default-params'] === true ? { cmdlineDefaults: false } : {}),
    ...(values['base-cmdline'] !== undefined ? { cmdlineBase: values['base-cmdline'] } : {}),
    ...(values.cmdline !== undefined ? { cmdline: values.cmdline } : {}),
    ...(values.environment !== undefined ? { environment: values.environment as CaptureEnvironment } : {}),
    ...(values['userspace-reserve'] !== undefined ? { userspaceBytes: parseSizeOption('userspace-reserve', values['userspace-reserve']) } : {}),
  };
}

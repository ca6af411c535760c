/**
 * Where things live inside the capture initramfs `kexec-ts crash initrd` builds. Names are
 * relative to the archive's root, as newc stores them.
 */

/** The capture configuration /init reads; its presence is also how `crash load` recognises the initrd. */
export const CAPTURE_CONFIG_PATH = 'etc/kexec-ts/capture.conf';
/** kexec-ts itself: package.json, dist/src, and its runtime node_modules. */
export const CAPTURE_PROJECT_DIR = 'opt/kexec-ts';
/** Scripts run before and after the save, in name order (kdump.conf's kdump_pre / kdump_post). */
export const CAPTURE_PRE_HOOKS_DIR = 'etc/kexec-ts/pre-save.d';
export const CAPTURE_POST_HOOKS_DIR = 'etc/kexec-ts/post-save.d';
/** Kernel modules, already decompressed, loaded in this order by /init. */
export const CAPTURE_MODULES_DIR = 'lib/kexec-ts-modules';
/** Where /init mounts the dump target. */
export const CAPTURE_DUMP_MOUNT = '/mnt/dump';

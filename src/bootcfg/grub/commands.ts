/**
 * The parts of GRUB's commands that need no interpreter state: `echo`'s text, menuentry/submenu
 * option parsing (GRUB manual, "menuentry"), `search` options, and what each boot command
 * means for kexec; `test`/`[` live in test-expression.ts. Pure.
 */
import { UnbootableCode, type UnbootableReason } from '../types.js';
import { stripDevice } from './context.js';

export { evaluateTest, type FileTests } from './test-expression.js';

export interface MenuentryArguments {
  title: string | undefined;
  id: string | undefined;
  /** Arguments after the title: the body sees them as $1, $2, ... */
  extra: string[];
  unknownOptions: string[];
}

/** Options that take a value, as `--opt value` or `--opt=value`. */
const MENUENTRY_VALUE_OPTIONS = new Set(['--class', '--users', '--hotkey', '--id', '--source']);
const MENUENTRY_FLAGS = new Set(['--unrestricted']);

export function parseMenuentryArguments(argv: readonly string[]): MenuentryArguments {
  const result: MenuentryArguments = { title: undefined, id: undefined, extra: [], unknownOptions: [] };
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    // Options may come before or after the title: Debian writes
    // `menuentry 'Debian' --class debian $menuentry_id_option 'gnulinux-simple-UUID'`.
    if (arg.startsWith('--')) {
      const equals = arg.indexOf('=');
      const name = equals < 0 ? arg : arg.slice(0, equals);
      if (MENUENTRY_VALUE_OPTIONS.has(name)) {
        const value = equals < 0 ? argv[++index] : arg.slice(equals + 1);
        if (name === '--id' && value !== undefined) result.id = value;
        continue;
      }
      if (MENUENTRY_FLAGS.has(name)) continue;
      if (result.title === undefined) {
        result.unknownOptions.push(arg);
        continue;
      }
    }
    if (result.title === undefined) result.title = arg;
    else result.extra.push(arg);
  }
  return result;
}

/** `search [--set[=VAR]] [--file|--label|--fs-uuid] ... KEY`: which variable it sets, with what key. */
export function parseSearchArguments(argv: readonly string[]): { variable: string | undefined; kind: string; key: string | undefined } {
  let variable: string | undefined;
  let kind = 'file';
  let key: string | undefined;
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    if (arg === '--set' || arg === '-s') variable = 'root';
    else if (arg.startsWith('--set=')) variable = arg.slice('--set='.length);
    else if (arg === '--fs-uuid' || arg === '-u') kind = 'fs-uuid';
    else if (arg === '--label' || arg === '-l') kind = 'label';
    else if (arg === '--file' || arg === '-f') kind = 'file';
    else if (arg.startsWith('-')) continue;
    else key = arg;
  }
  return { variable, kind, key };
}

/** Commands that hand the machine to something other than a Linux kernel, and why kexec cannot. */
export function nonLinuxBootCommand(command: string, argv: readonly string[], title: string): UnbootableReason | undefined {
  const target = argv[0] ?? '';
  switch (command) {
    case 'chainloader':
      if (/windows/i.test(title) || /bootmgfw|bootmgr|ntldr/i.test(target)) {
        return { code: UnbootableCode.OTHER_OS, message: `Windows, chainloaded from ${target || 'another loader'}` };
      }
      return { code: UnbootableCode.CHAINLOADER, message: `chainloads ${target || 'another boot loader'}` };
    case 'multiboot':
    case 'multiboot2':
      return { code: UnbootableCode.MULTIBOOT, message: `a multiboot kernel (${target}), not a Linux image` };
    case 'kfreebsd':
    case 'knetbsd':
    case 'kopenbsd':
      return { code: UnbootableCode.OTHER_OS, message: `${command.slice(1)} kernel ${target}` };
    case 'ntldr':
      return { code: UnbootableCode.OTHER_OS, message: `Windows, through ntldr ${target}` };
    case 'appleloader':
      return { code: UnbootableCode.OTHER_OS, message: 'Mac OS through Apple firmware' };
    case 'fwsetup':
      return { code: UnbootableCode.FIRMWARE_ACTION, message: 'enters the UEFI firmware setup (a UEFI-only action)' };
    case 'reboot':
    case 'halt':
      return { code: UnbootableCode.FIRMWARE_ACTION, message: `${command}s the machine` };
    default:
      return undefined;
  }
}

export function looksLikeMemtest(kernel: string | undefined, title: string): boolean {
  return /memtest/i.test(kernel ?? '') || /memtest/i.test(title);
}

/**
 * `echo [-n] [-e] ARG...` as grub-core/commands/echo.c prints it: options only before the first
 * argument (`-ne` too; anything else is text), arguments joined by one space, a newline unless
 * `-n`. With `-e`, `\\ \a \f \n \r \t \v` are escapes, `\c` drops the final newline, and any other
 * escaped character is dropped with its backslash.
 */
export function echoText(argv: readonly string[]): string {
  let newline = true;
  let escapes = false;
  let first = 0;
  for (; first < argv.length && /^-[ne]+$/.test(argv[first]!); first++) {
    if (argv[first]!.includes('n')) newline = false;
    if (argv[first]!.includes('e')) escapes = true;
  }
  const words = argv.slice(first);
  if (escapes) {
    for (let index = 0; index < words.length; index++) {
      words[index] = words[index]!.replace(/\\([\s\S]?)/g, (_match, escaped: string) => {
        if (escaped === 'c') newline = false;
        return ECHO_ESCAPES[escaped] ?? '';
      });
    }
  }
  return words.join(' ') + (newline ? '\n' : '');
}

const ECHO_ESCAPES: Readonly<Record<string, string>> = { '\\': '\\', a: '\x07', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** Commands that only draw, probe or configure GRUB itself: they succeed and change nothing we read. */
export const HARMLESS_COMMANDS = new Set([
  'insmod', 'rmmod', 'terminal_output', 'terminal_input', 'terminal', 'serial', 'loadfont',
  'background_image', 'background_color', 'play', 'sleep', 'clear', 'font', 'save_env', 'set_background',
  'videoinfo', 'cryptomount', 'boot', 'lsmod', 'ls', 'cat', 'usb', 'nativedisk', 'password',
  'password_pbkdf2', 'gettext', 'tr', 'sendkey', 'hello', 'lsfonts', 'load_env_sig', 'verify_detached',
  'trust', 'distrust', 'list_env', 'gfxmode', 'badram', 'cutmem', 'acpi', 'outb', 'outw', 'outl',
  'initrdefi_sig', 'tpm2_key_protector_init', 'tpm2_key_protector_clear', 'export_env',
  // Companions of the non-Linux loaders; the entry is already marked by kfreebsd/knetbsd/multiboot.
  'module', 'module2', 'kfreebsd_loadenv', 'kfreebsd_module', 'kfreebsd_module_elf', 'knetbsd_module',
  'knetbsd_module_elf', 'kopenbsd_ramdisk', 'drivemap', 'parttool', 'loopback',
]);

/** Conditions GRUB evaluates against hardware or keys: we answer "no", as an idle machine would. */
export const FALSE_COMMANDS = new Set(['keystatus', 'cpuid', 'probe', 'regexp', 'smbios', 'test_blockarg']);

export const KERNEL_COMMANDS = new Set(['linux', 'linuxefi', 'linux16', 'kernel']);
export const INITRD_COMMANDS = new Set(['initrd', 'initrdefi', 'initrd16']);

/** What an entry's body did that matters for booting it. */
export interface EntryActions {
  kernel?: string;
  kernelArgs: string[];
  kernelLine?: number;
  initrds: string[];
  devicetree?: string;
  unbootable?: UnbootableReason;
  bootCommandLine?: number;
}

/**
 * Inside an entry's body: records what a boot command loads (kernel, initrds, device tree) or
 * why kexec cannot boot it. False when `name` is no boot command.
 */
export function recordBootCommand(actions: EntryActions, name: string, args: readonly string[], title: string, line: number): boolean {
  if (KERNEL_COMMANDS.has(name)) {
    if (args[0] === undefined) return false;
    actions.kernel = stripDevice(args[0]);
    actions.kernelArgs = args.slice(1);
    actions.kernelLine = line;
    return true;
  }
  if (INITRD_COMMANDS.has(name)) {
    // One `initrd` replaces the previous one; its files are concatenated in order.
    actions.initrds = args.filter((arg) => !arg.startsWith('--')).map(stripDevice);
    return true;
  }
  if (name === 'devicetree') {
    if (args[0] !== undefined) actions.devicetree = stripDevice(args[0]);
    return true;
  }
  const reason = name === 'configfile'
    ? { code: UnbootableCode.OTHER_MENU, message: `opens the menu in ${args[0] ?? 'another file'}` }
    : nonLinuxBootCommand(name, args, title);
  if (!reason) return false;
  actions.unbootable ??= reason;
  actions.bootCommandLine ??= line;
  return true;
}

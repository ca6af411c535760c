/**
 * How GRUB's `linux` command turns its arguments into the kernel command line
 * (grub-core/lib/cmdline.c, grub_create_loader_cmdline, GRUB 2.06 as Debian 12 ships it):
 * arguments joined by one space; an argument containing a space is wrapped in double quotes;
 * `\`, `'` and `"` get a backslash, except a `\xHH` escape, which is passed through.
 * GRUB also prepends `BOOT_IMAGE=<kernel>`; we leave that out, as kexec-tools strips it when a
 * command line is reused.
 */
export function grubLoaderCmdline(args: readonly string[]): string {
  return args
    .map((arg) => {
      let out = '';
      for (let index = 0; index < arg.length; index++) {
        const char = arg[index]!;
        if (char === '\\' && arg[index + 1] === 'x' && /^[0-9A-Fa-f]{2}$/.test(arg.slice(index + 2, index + 4))) {
          out += arg.slice(index, index + 4);
          index += 3;
          continue;
        }
        if (char === '\\' || char === "'" || char === '"') out += '\\';
        out += char;
      }
      return arg.includes(' ') ? `"${out}"` : out;
    })
    .join(' ');
}

/**
 * A GRUB script run on its own, as GRUB's `source` runs a file: what it printed with `echo`,
 * the status of its last command and the warnings, without building a menu. For scripts that
 * are not a whole grub.cfg (a distribution's snippet, a test case); parseGrubConfig is the
 * entry point for configs. Pure: files through the reader.
 */
import { WarningSink } from '../text.js';
import { memoryBootFileReader, type BootConfigWarning, type BootFileReader } from '../types.js';
import { initialContext } from './context.js';
import { GrubInterpreter, type PendingMenuItem } from './evaluate.js';

export interface GrubScriptOptions {
  /** The file name the script is known by (warnings, `$prefix`). Default `/boot/grub/grub.cfg`. */
  file?: string;
  /** Resolves `source`, `load_env` and file tests. Default: no files. */
  reader?: BootFileReader;
  platform?: 'efi' | 'pc';
  /** Start-up variables, over GRUB's own. */
  variables?: Record<string, string>;
  /** Where the device-relative paths may live in the reader's namespace. Default `['/', '/boot']`. */
  pathBases?: string[];
  /** Called with each piece `echo` prints, as it is printed. */
  output?: (text: string) => void;
}

export interface GrubScriptResult {
  /** Everything `echo` printed, in order. */
  output: string;
  /** `$?` after the script: the status of its last command. */
  status: number;
  /** Menu entries and submenus the script registered (not run). */
  menuItems: number;
  warnings: BootConfigWarning[];
}

export function runGrubScript(text: string, options: GrubScriptOptions = {}): GrubScriptResult {
  const file = options.file ?? '/boot/grub/grub.cfg';
  const sink = new WarningSink();
  let output = '';
  const interpreter = new GrubInterpreter(options.reader ?? memoryBootFileReader({}), sink, {
    pathBases: options.pathBases ?? ['/', '/boot'],
    variables: options.variables ?? {},
    // Without a boot partition's entries in view there is nothing for blscfg to add.
    blscfg: () => [],
    output: (piece) => {
      output += piece;
      options.output?.(piece);
    },
  });
  const menu: PendingMenuItem[] = [];
  interpreter.runFile(text, file, initialContext(file, options.platform ?? 'efi', options.variables ?? {}), menu);
  return { output, status: interpreter.lastStatus, menuItems: menu.length, warnings: sink.warnings };
}

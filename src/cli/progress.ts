import cliProgress from 'cli-progress';
import type { CommandOutput } from './output.js';

/** Only work that lasts longer than this gets a progress bar: a quick step should print nothing. */
const SHOW_AFTER_MS = 500;

function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/**
 * Whether a progress bar may be drawn on `stream`: a terminal that can redraw a line. Not for
 * --json, a pipe or a log, nor a terminal that says it is dumb (TERM=dumb: a serial console a
 * unit writes to, where each redraw would be another line of the boot log).
 */
export function canDrawProgress(output: CommandOutput, stream: NodeJS.WriteStream = process.stderr, env: NodeJS.ProcessEnv = process.env): boolean {
  return !output.json && stream.isTTY === true && env.TERM !== 'dumb';
}

/**
 * A progress listener that draws a bar on stderr once the work has taken more than a moment:
 * bytes produced and the rate. Nothing at all when stderr is not a terminal or --json is on,
 * so scripts and logs see only the result. Call the returned listener with (inBytes, outBytes).
 */
export function progressOnTerminal(output: CommandOutput, label: string): ((inBytes: number, outBytes: number) => void) | undefined {
  if (!canDrawProgress(output)) return undefined;
  const startedAt = performance.now();
  let bar: cliProgress.SingleBar | undefined;
  process.once('exit', () => bar?.stop());
  return (_inBytes, outBytes) => {
    const elapsedMs = performance.now() - startedAt;
    if (bar === undefined) {
      if (elapsedMs < SHOW_AFTER_MS) return;
      bar = new cliProgress.SingleBar(
        { format: `${label} {produced} at {rate}`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(0, 0, { produced: '', rate: '' });
    }
    const rate = outBytes / Math.max(elapsedMs / 1000, 0.001);
    bar.update(0, { produced: formatBytes(outBytes), rate: `${formatBytes(rate)}/s` });
  };
}

/** `{ onProgress }` for a library call's options when a bar is to be drawn, else `{}`. */
export function progressOption(output: CommandOutput, label: string): { onProgress?: (inBytes: number, outBytes: number) => void } {
  const listener = progressOnTerminal(output, label);
  return listener === undefined ? {} : { onProgress: listener };
}

import cliProgress from 'cli-progress';
import { canDrawProgress } from '../progress.js';
import type { CommandOutput } from '../output.js';

/**
 * A progress bar for long byte-counted work with a known total (saving a dump: gigabytes of
 * memory): phase, bytes done of the total, rate and ETA, redrawn on stderr. Like
 * progressOnTerminal in ../progress.ts it shows only after a moment, only on a terminal, and
 * never with --json, so scripts and logs (the capture kernel's journal) see just the result.
 */

const SHOW_AFTER_MS = 500;

export interface ByteProgress {
  readonly phase: string;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly bytesPerSecond: number;
}

export function byteProgressOnTerminal(output: CommandOutput, stream: NodeJS.WriteStream = process.stderr): ((progress: ByteProgress) => void) & { stop(): void } {
  const silent = Object.assign((_progress: ByteProgress) => undefined, { stop: () => undefined });
  if (!canDrawProgress(output, stream)) return silent;
  const startedAt = performance.now();
  let bar: cliProgress.SingleBar | undefined;
  let phase: string | undefined;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  process.once('exit', stop);
  const update = (progress: ByteProgress) => {
    if (bar === undefined && performance.now() - startedAt < SHOW_AFTER_MS) return;
    if (bar === undefined || progress.phase !== phase) {
      stop();
      phase = progress.phase;
      bar = new cliProgress.SingleBar(
        {
          // Short enough for an 80-column serial console, where the capture kernel shows it.
          format: `${progress.phase} [{bar}] {percentage}% {done}/{size} {rate}/s ETA {eta_formatted}`,
          barsize: 20,
          stream,
          hideCursor: true,
          clearOnComplete: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(progress.bytesTotal, 0, { done: formatBytes(0), size: formatBytes(progress.bytesTotal), rate: formatBytes(0) });
    }
    bar.update(progress.bytesDone, { done: formatBytes(progress.bytesDone), size: formatBytes(progress.bytesTotal), rate: formatBytes(progress.bytesPerSecond) });
  };
  return Object.assign(update, { stop });
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KiB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  return `${(bytes / (1024 * 1024 * 1024)).toFixed(2)} GiB`;
}

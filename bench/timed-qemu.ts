// QEMU with every serial-console line stamped on the host as it arrives (performance.now()), for
// timings that span a reboot: the guest's own clocks restart with each kernel, the host's does not.
// test/vm/harness.ts's runQemu hands the console back only when QEMU exits.
import { spawn } from 'node:child_process';
import fs from 'node:fs';

const QEMU_BINARY = 'qemu-system-x86_64';
/** Keeps QEMU from outliving this process even if it dies by SIGKILL (util-linux). */
const SETPRIV_BINARY = '/usr/bin/setpriv';
/**
 * Terminal control sequences (OVMF and the kernel clear the screen with ESC c and CSI sequences)
 * can start a line; they are dropped before matching.
 */
const TERMINAL_ESCAPE_SEQUENCE = /\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-~])/g;

export interface TimedLine {
  /** performance.now() when the line's first byte arrived. */
  atMs: number;
  text: string;
}

export interface TimedQemuRun {
  lines: TimedLine[];
  timedOut: boolean;
  /** performance.now() when QEMU was spawned. */
  startedAtMs: number;
  durationMs: number;
  exitCode: number | null;
  qemuStderr: string;
}

/**
 * Runs QEMU until it exits or `timeoutMs` passes. `onLine` sees each complete line as it comes
 * (progress output for a run of many minutes).
 */
export function runTimedQemu(qemuArgs: string[], timeoutMs: number, onLine?: (line: TimedLine) => void, qemuBinary: string = QEMU_BINARY): Promise<TimedQemuRun> {
  const [command, args] = fs.existsSync(SETPRIV_BINARY)
    ? [SETPRIV_BINARY, ['--pdeathsig', 'KILL', '--', qemuBinary, ...qemuArgs]]
    : [qemuBinary, qemuArgs];
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const vm = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: TimedLine[] = [];
    const stderrChunks: Buffer[] = [];
    let partial: TimedLine | undefined;
    let timedOut = false;
    const finishLine = (line: TimedLine): void => {
      const clean = { atMs: line.atMs, text: line.text.replace(TERMINAL_ESCAPE_SEQUENCE, '').replace(/\r/g, '') };
      lines.push(clean);
      onLine?.(clean);
    };
    vm.stdout.setEncoding('utf8');
    vm.stdout.on('data', (chunk: string) => {
      const atMs = performance.now();
      const pieces = chunk.split('\n');
      pieces.forEach((piece, index) => {
        partial ??= { atMs, text: '' };
        partial.text += piece;
        if (index < pieces.length - 1) {
          finishLine(partial);
          partial = undefined;
        }
      });
      if (partial?.text === '') partial = undefined;
    });
    vm.stderr.on('data', (chunk: Buffer) => stderrChunks.push(chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      vm.kill('SIGKILL');
    }, timeoutMs);
    const killOnExit = (): void => {
      vm.kill('SIGKILL');
    };
    process.on('exit', killOnExit);
    vm.on('error', (error) => {
      clearTimeout(timer);
      process.off('exit', killOnExit);
      reject(new Error(`could not run ${qemuBinary}`, { cause: error }));
    });
    vm.on('close', (exitCode) => {
      clearTimeout(timer);
      process.off('exit', killOnExit);
      if (partial !== undefined) finishLine(partial);
      resolve({
        lines,
        timedOut,
        startedAtMs: startedAt,
        durationMs: Math.round(performance.now() - startedAt),
        exitCode,
        qemuStderr: Buffer.concat(stderrChunks).toString('utf8'),
      });
    });
  });
}

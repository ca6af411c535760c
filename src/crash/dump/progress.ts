/** What saveDump reports while it works. */
export interface SaveProgress {
  /** 'scan': deciding which pages to keep (and, for ELF, finding zero pages); 'write': writing them. */
  readonly phase: 'scan' | 'write';
  /** Bytes of memory gone through in this phase, out of bytesTotal. */
  readonly bytesDone: number;
  readonly bytesTotal: number;
  /** Bytes read from the vmcore so far (both phases). */
  readonly bytesRead: number;
  /** Bytes written to the dump so far. */
  readonly bytesWritten: number;
  /** bytesRead per second since the start. */
  readonly bytesPerSecond: number;
  readonly elapsedMs: number;
}

export type ProgressListener = (progress: SaveProgress) => void;

/** Counts and reports at most every `intervalMs` (and once at the end of each phase). */
export class ProgressMeter {
  private readonly startedAt = performance.now();
  private lastReport = -Infinity;
  private phase: SaveProgress['phase'] = 'scan';
  private done = 0;
  bytesRead = 0;

  constructor(
    private readonly listener: ProgressListener | undefined,
    private readonly bytesTotal: number,
    private readonly bytesWritten: () => number,
    private readonly intervalMs = 200,
  ) {}

  startPhase(phase: SaveProgress['phase']): void {
    this.phase = phase;
    this.done = 0;
  }

  advance(memoryBytes: number, readBytes: number): void {
    this.done += memoryBytes;
    this.bytesRead += readBytes;
    const now = performance.now();
    if (now - this.lastReport >= this.intervalMs) this.report(now);
  }

  finishPhase(): void {
    this.done = this.bytesTotal;
    this.report(performance.now());
  }

  get elapsedMs(): number {
    return performance.now() - this.startedAt;
  }

  private report(now: number): void {
    this.lastReport = now;
    if (!this.listener) return;
    const elapsedMs = now - this.startedAt;
    this.listener({
      phase: this.phase,
      bytesDone: Math.min(this.done, this.bytesTotal),
      bytesTotal: this.bytesTotal,
      bytesRead: this.bytesRead,
      bytesWritten: this.bytesWritten(),
      bytesPerSecond: elapsedMs > 0 ? Math.round((this.bytesRead * 1000) / elapsedMs) : 0,
      elapsedMs: Math.round(elapsedMs),
    });
  }
}

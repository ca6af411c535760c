/** The command line every load benchmark passes: a typical distribution one. */
export const CMDLINE = 'console=ttyS0 root=/dev/vda1 ro quiet';

export function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

export function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 0.5);
}

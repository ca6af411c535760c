// The command run in this process, its output caught: what the CLI tests call.
import { main } from '../../src/cli/cli.js';

export interface MainRun {
  readonly exitCode: number;
  readonly out: string;
  readonly err: string;
}

export async function runMain(...argv: string[]): Promise<MainRun> {
  let out = '';
  let err = '';
  const exitCode = await main(argv, { out: (text) => void (out += text), err: (text) => void (err += text) });
  return { exitCode, out, err };
}

// The command line driven in process: main(argv, io) with its output collected.
import { main } from '../../compiler/cli/main.ts';
import type { Io } from '../../compiler/cli/errors.ts';

export interface CliResult {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs `nabla <argv>`; with `io` given, output goes there instead of into the result. */
export async function runCli(argv: readonly string[], io?: Io): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, io ?? { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

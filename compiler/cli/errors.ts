// The CLI's two kinds of failure: a bad command line (exit 2, with usage) and anything else the
// user can fix, such as a bad file (exit 1, one line, no stack trace).

/** The command line itself is wrong: unknown command or flag, a flag value of the wrong kind. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    /** The command whose usage to show; undefined for the top-level usage. */
    readonly command?: string,
  ) {
    super(message);
  }
}

/** A problem with the user's files or data, reported as `nabla: <message>`. */
export class CliError extends Error {
  override name = 'CliError';
}

/** Where the CLI writes; tests pass their own to capture output. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

export const consoleIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

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
  /** A line that the next one replaces (progress within an epoch): present only on a terminal. */
  readonly status?: (line: string) => void;
  /** --verbose was given: every epoch's line, not one every few. */
  readonly verbose?: boolean;
}

/** stdout is a terminal: a status line is written over with a carriage return, and cleared before the next line. */
const terminal = process.stdout.isTTY === true;
let statusShown = false;
const clearStatus = (): void => {
  if (statusShown) process.stdout.write('\r\x1b[K');
  statusShown = false;
};

export const consoleIo: Io = {
  out: (line) => {
    clearStatus();
    process.stdout.write(`${line}\n`);
  },
  err: (line) => {
    clearStatus();
    process.stderr.write(`${line}\n`);
  },
  ...(terminal
    ? {
        status: (line: string) => {
          process.stdout.write(`\r${line.slice(0, (process.stdout.columns ?? 100) - 1)}\x1b[K`);
          statusShown = true;
        },
      }
    : {}),
};

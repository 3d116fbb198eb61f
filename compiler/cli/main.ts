// The `nabla` command: dispatch to a subcommand, and turn every failure into one line on stderr
// with exit code 1 (bad files, specs, data) or usage and exit code 2 (bad command line).
import { pathToFileURL } from 'node:url';
import { NABLA_VERSION } from '../version.ts';
import { SpecError } from '../model/spec_error.ts';
import { ShapeError } from '../ops/op.ts';
import { InputError } from '../../runtime/errors.ts';
import { ManifestError } from '../../runtime/manifest.ts';
import { NonFiniteError } from '../../runtime/guard.ts';
import { CliError, UsageError, consoleIo, type Io } from './errors.ts';
import { commandNames, usage, type CommandName } from './usage.ts';

const isCommand = (name: string): name is CommandName => (commandNames as readonly string[]).includes(name);

async function dispatch(argv: readonly string[], io: Io): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('missing command');
  if (command === '-h' || command === '--help') return io.out(usage.main);
  if (command === '-v' || command === '--version') return io.out(NABLA_VERSION);
  if (!isCommand(command)) throw new UsageError(command.startsWith('-') ? `unknown option '${command}'` : `unknown command '${command}'`);
  // Commands load lazily: `nabla inspect` and `nabla help` never load the compiler.
  switch (command) {
    case 'help': {
      const topic = rest[0];
      if (rest.length > 1) throw new UsageError(`help: unexpected argument '${rest[1]}'`, 'help');
      if (topic === undefined) return io.out(usage.main);
      if (!isCommand(topic)) throw new UsageError(`help: unknown command '${topic}'`);
      return io.out(usage[topic]);
    }
    case 'compile':
      return (await import('./compile.ts')).compileCommand(rest, io);
    case 'train':
      return (await import('./train.ts')).trainCommand(rest, io);
    case 'predict':
      return (await import('./predict.ts')).predictCommand(rest, io);
    case 'evaluate':
      return (await import('./evaluate.ts')).evaluateCommand(rest, io);
    case 'gradcheck':
      return (await import('./gradcheck.ts')).gradcheckCommand(rest, io);
    case 'inspect':
      return (await import('./inspect.ts')).inspectCommand(rest, io);
    case 'import':
      return (await import('./import.ts')).importCommand(rest, io);
    case 'export':
      return (await import('./export.ts')).exportCommand(rest, io);
  }
}

/** Exit codes: usage (bad command line), user error (bad files, specs, data), internal error (a bug: EX_SOFTWARE). */
export const EXIT = { usage: 2, user: 1, internal: 70 } as const;

/** Runs the CLI on `argv` (without node and script) and returns the exit code. */
export async function main(argv: readonly string[], io: Io = consoleIo): Promise<number> {
  // --verbose, anywhere on the line, shows the stack of an internal error.
  const verbose = argv.includes('--verbose') || Boolean(process.env.NABLA_DEBUG);
  try {
    await dispatch(argv.filter((arg) => arg !== '--verbose'), argv.includes('--verbose') ? { ...io, verbose: true } : io);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`nabla: ${err.message}`);
      io.err('');
      io.err(usage[err.command as CommandName] ?? usage.main);
      return EXIT.usage;
    }
    if (err instanceof CliError || err instanceof SpecError || err instanceof InputError || err instanceof ManifestError || err instanceof ShapeError || err instanceof NonFiniteError) {
      io.err(`nabla: ${err.message}`);
      return EXIT.user;
    }
    // A bug in nabla, not in the user's input: say so, with its own exit code, and keep the stack for the report.
    io.err(`nabla: internal error: ${err instanceof Error ? err.message : String(err)}`);
    if (verbose) io.err(err instanceof Error ? (err.stack ?? '') : '');
    else io.err('This is a bug in nabla: please report it with the output of the same command run with --verbose (it adds the stack trace).');
    return EXIT.internal;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await main(process.argv.slice(2));
}

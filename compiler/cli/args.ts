// node:util parseArgs with its errors turned into UsageError, and checked numeric flag values.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses one command's arguments; `positionals` names the ones it takes, all required. */
export function parseCommand<O extends Options>(command: string, args: readonly string[], options: O, positionals: readonly string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args: attachNegativeValues(args, options), options, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs's messages end with advice about '--' that does not apply here.
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    throw new UsageError(`${command}: ${message.charAt(0).toLowerCase()}${message.slice(1)}`, command);
  }
  const values = parsed.values as { [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : string };
  if ((values as { help?: boolean }).help) return { help: true as const, values, positionals: parsed.positionals };
  const missing = positionals[parsed.positionals.length];
  if (missing !== undefined) throw new UsageError(`${command}: missing ${missing}`, command);
  if (parsed.positionals.length > positionals.length) {
    throw new UsageError(`${command}: unexpected argument '${parsed.positionals[positionals.length]}'`, command);
  }
  return { help: false as const, values, positionals: parsed.positionals };
}

/**
 * `--epochs -1` as `--epochs=-1`: parseArgs reads a value that starts with '-' as an option
 * ("argument is ambiguous"), so a negative number never reached the flag's own check and its
 * message. Only values that look like numbers are attached.
 */
function attachNegativeValues(args: readonly string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    const long = arg.startsWith('--') && !arg.includes('=') ? options[arg.slice(2)] : undefined;
    const short = /^-[a-zA-Z]$/.test(arg) ? Object.entries(options).find(([, o]) => o.short === arg.slice(1)) : undefined;
    const option = long ?? short?.[1];
    const name = long ? arg.slice(2) : short?.[0];
    if (option?.type === 'string' && next !== undefined && /^-(\d|\.\d|Infinity|NaN)/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

export function positiveInt(flag: string, text: string | undefined, command: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`${flag}: expected a positive integer, got '${text}'`, command);
  return Number(text);
}

export function nonNegativeInt(flag: string, text: string | undefined, command: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new UsageError(`${flag}: expected an integer ≥ 0, got '${text}'`, command);
  return Number(text);
}

export function seedValue(flag: string, text: string | undefined, command: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) > 0xffffffff) throw new UsageError(`${flag}: expected an integer in [0, 2^32), got '${text}'`, command);
  return Number(text);
}

/** A fraction in [0, 1). */
export function fraction(flag: string, text: string | undefined, command: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !(value >= 0 && value < 1)) throw new UsageError(`${flag}: expected a fraction in [0, 1), got '${text}'`, command);
  return value;
}

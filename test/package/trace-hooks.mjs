// The module-resolution hook of trace.mjs (it runs on Node's loader thread).
import { appendFileSync } from 'node:fs';

export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(process.env.NABLA_TRACE, `${resolved.url}\n`);
  return resolved;
}

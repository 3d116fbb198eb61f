// The message a refused spec gets (parseSpec's error), for tests that check what it names.
import { parseSpec } from '../../compiler/model/spec.ts';

export function specRefusal(spec: unknown): string {
  try {
    parseSpec(spec);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the spec to be refused');
}

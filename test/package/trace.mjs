// `node --import ./trace.mjs ...`: appends the URL of every module the program loads to the file
// named by NABLA_TRACE, so a test can tell what a command loaded (the compiler or not).
import { register } from 'node:module';

register('./trace-hooks.mjs', import.meta.url);

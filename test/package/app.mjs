// The consumer's program under plain `node`, `deno run` and `bun`: prints the job's result as JSON.
import { runJob } from './job.mjs';

console.log(JSON.stringify(await runJob()));

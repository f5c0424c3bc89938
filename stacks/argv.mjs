// Runs one program from a JSON argv, without a shell. The Pulumi stack gives
// @pulumi/command this file as `interpreter` and the argv as the command text,
// so lab file paths and modes from stack config never pass through `sh -c`.
//   node stacks/argv.mjs '["node","dist/svclab.mjs","run","labs/clusterip-db.yaml"]'
import { spawn } from 'node:child_process';

const argv = JSON.parse(process.argv.at(-1) ?? '[]');
if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === 'string')) {
  console.error('argv.mjs: expected one JSON array of strings');
  process.exit(2);
}
const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit' });
child.on('error', (err) => {
  console.error(`argv.mjs: ${argv[0]}: ${err.message}`);
  process.exit(127);
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)));

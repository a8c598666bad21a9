// Bundles the workflow code once for the whole test run (tests pass the path to their workers).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

const root = fileURLToPath(new URL('../..', import.meta.url));
const out = process.argv[2] ?? path.join(root, '.ferry', 'workflow-bundle.js');
const { code } = await bundleWorkflowCode({ workflowsPath: path.join(root, 'src', 'workflows', 'index.ts'), logger: undefined });
await mkdir(path.dirname(out), { recursive: true });
await writeFile(out, code);
console.log(`workflow bundle: ${out} (${(code.length / 1024).toFixed(0)} KiB)`);

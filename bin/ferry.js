#!/usr/bin/env node
// Runs the TypeScript CLI in this process through tsx's loader, so ferry.config.ts needs no
// build step. One process, not a child: Ctrl-C (SIGINT) reaches the CLI once, whether it
// comes from the terminal (the whole process group) or from `kill -INT <pid>`.
import 'tsx';

const { main } = await import('../src/client.ts');
process.exitCode = await main(process.argv);

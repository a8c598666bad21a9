import { register } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let registered = false;

/**
 * Makes `import()` of a TypeScript config work. Under tsx (development, the
 * tests) ferry's own files are TypeScript and tsx already loads configs; the
 * compiled ferry (dist/, `npm ci --omit=dev`) has no tsx, so it registers its
 * small esbuild-based hooks (typescript-hooks.ts) once, before the first
 * TypeScript config is imported. JavaScript configs (.js/.mjs) need neither.
 */
export function ensureTypeScriptConfigs(file: string): void {
  if (registered || !/\.m?ts$/.test(file)) return;
  registered = true;
  const self = fileURLToPath(import.meta.url);
  if (path.extname(self) === '.ts') return; // running under tsx
  register('./typescript-hooks.js', import.meta.url);
}

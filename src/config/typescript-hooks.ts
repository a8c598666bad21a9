/**
 * Node module hooks that let the compiled ferry (dist/) import a user's
 * TypeScript config without tsx: `.ts`/`.mts` files are transpiled by esbuild
 * (types stripped, nothing checked), and `./x.js` in a TypeScript file finds
 * `./x.ts`, as TypeScript's ESM convention writes it. Registered by
 * typescript-loader.ts only when a config file is TypeScript and ferry itself
 * runs compiled.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

interface ResolveContext {
  parentURL?: string | undefined;
  conditions: string[];
}
interface ResolveResult {
  url: string;
  format?: string | null;
  shortCircuit?: boolean;
}
interface LoadResult {
  format: string;
  source?: string | ArrayBuffer | Uint8Array;
  shortCircuit?: boolean;
}
type NextResolve = (specifier: string, context?: ResolveContext) => Promise<ResolveResult>;
type NextLoad = (url: string, context?: { format?: string | null }) => Promise<LoadResult>;

const typescriptFile = /\.m?ts$/;

export async function resolve(specifier: string, context: ResolveContext, next: NextResolve): Promise<ResolveResult> {
  try {
    return await next(specifier, context);
  } catch (err) {
    const relative = specifier.startsWith('./') || specifier.startsWith('../');
    const fromTypeScript = context.parentURL !== undefined && typescriptFile.test(context.parentURL);
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && relative && fromTypeScript && /\.m?js$/.test(specifier)) {
      return next(specifier.replace(/\.(m?)js$/, '.$1ts'), context);
    }
    throw err;
  }
}

export async function load(url: string, context: { format?: string | null }, next: NextLoad): Promise<LoadResult> {
  if (!url.startsWith('file:') || !typescriptFile.test(url)) return next(url, context);
  const file = fileURLToPath(url);
  const { code } = await transform(await readFile(file, 'utf8'), { loader: 'ts', format: 'esm', target: 'node20', sourcefile: file, sourcemap: 'inline' });
  return { format: 'module', source: code, shortCircuit: true };
}

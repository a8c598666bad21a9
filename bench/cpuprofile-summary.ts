// Summarises a V8 .cpuprofile (node --cpu-prof; BENCH_CPU_PROF=dir npm run bench):
// self time per function and per package/file, and inclusive time of chosen functions.
//   npx tsx bench/cpuprofile-summary.ts worker.cpuprofile [top=30] [fn1,fn2,...]
import { readFile } from 'node:fs/promises';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const file = process.argv[2];
if (!file) throw new Error('usage: cpuprofile-summary.ts FILE [top] [fn,...]');
const top = Number(process.argv[3] ?? 30);
const focus = (process.argv[4] ?? '').split(',').filter(Boolean);
const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const total = profile.endTime - profile.startTime;

const where = (url: string) => {
  if (!url) return '(native)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1] as string;
  const src = /\/(src|bench|test)\/(.*)$/.exec(url);
  if (src) return `${src[1]}/${src[2]}`;
  return url.replace(/^.*\//, '');
};

const fnSelf = new Map<string, number>();
const pkgSelf = new Map<string, number>();
for (const [id, us] of selfUs) {
  const n = byId.get(id) as Node;
  const name = `${n.callFrame.functionName || '(anonymous)'} ${where(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
  fnSelf.set(name, (fnSelf.get(name) ?? 0) + us);
  const pkg = n.callFrame.url ? where(n.callFrame.url).replace(/^(src|bench|test)\/.*/, '$1/…') : n.callFrame.functionName.startsWith('(') ? n.callFrame.functionName : '(native)';
  pkgSelf.set(pkg, (pkgSelf.get(pkg) ?? 0) + us);
}
const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(7)} ms ${((us / total) * 100).toFixed(1).padStart(5)}%`;
console.log(`profile: ${(total / 1e6).toFixed(1)} s`);
console.log('\nself time by package / area:');
for (const [k, v] of [...pkgSelf].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`${ms(v)}  ${k}`);
console.log(`\nself time, top ${top} functions:`);
for (const [k, v] of [...fnSelf].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${ms(v)}  ${k}`);

if (focus.length) {
  // inclusive time: samples whose stack contains the function (counted once per sample)
  console.log('\ninclusive time:');
  for (const f of focus) {
    let us = 0;
    profile.samples.forEach((id, i) => {
      let cur: number | undefined = id;
      while (cur !== undefined) {
        if ((byId.get(cur) as Node).callFrame.functionName === f) {
          us += profile.timeDeltas[i] ?? 0;
          return;
        }
        cur = parent.get(cur);
      }
    });
    console.log(`${ms(us)}  ${f}`);
  }
}

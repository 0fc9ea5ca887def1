/**
 * The secretcache benchmarks.
 *
 *   npm run bench          # full run (a few minutes): prints every table and writes bench/RESULTS.md
 *   npm run bench:quick    # brief run of every scenario (CI): asserts correctness only, writes nothing
 *
 * Options: `--quick`; `--only=warm,fleet` runs some scenarios only (never writes RESULTS.md).
 *
 * Each scenario checks what it reads (values, call counts) before it times anything and throws if something is
 * wrong; this script then exits non-zero. Targets are printed as met/MISSED but never fail the run.
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { coldstart } from './coldstart.js';
import { fleet } from './fleet.js';
import { herd } from './herd.js';
import { live } from './live.js';
import { memory } from './memory.js';
import { startup } from './startup.js';
import { type BenchContext, gc, type ScenarioResult, type Target, targetTable } from './support.js';
import { warm } from './warm.js';

const scenarios: Readonly<Record<string, (context: BenchContext) => Promise<ScenarioResult>>> = {
  warm,
  live,
  herd,
  startup,
  fleet,
  memory,
  coldstart,
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const only = args
    .find((arg) => arg.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',');
  for (const name of only ?? []) {
    if (!(name in scenarios))
      throw new Error(`Unknown scenario "${name}"; known: ${Object.keys(scenarios).join(', ')}`);
  }
  gc(); // throws early without --expose-gc

  const started = Date.now();
  const cpus = os.cpus();
  const environment = [
    `- Date: ${new Date(started).toISOString()}`,
    `- Node: ${process.version} (V8 ${process.versions.v8}), ${process.platform}/${process.arch}`,
    `- CPU: ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores (available parallelism ${os.availableParallelism()})`,
    `- Run: ${quick ? 'quick (--quick): timings are indicative only' : 'full'}`,
  ].join('\n');
  console.log(`# secretcache benchmarks\n\n${environment}\n`);

  const results: ScenarioResult[] = [];
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (only !== undefined && !only.includes(name)) continue;
    const t0 = Date.now();
    console.log(`## running: ${name}${quick ? ' (quick)' : ''}\n`);
    const result = await scenario({ quick });
    results.push(result);
    console.log(`## ${result.title}\n\n${result.markdown}\n\n(${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    gc();
  }

  const targets: Target[] = results.flatMap((r) => r.targets);
  const summary = targetTable(targets);
  const elapsed = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `## Targets${quick ? ' (quick run: not meaningful)' : ''}\n\n${summary}\n\nTotal: ${elapsed} s`,
  );

  if (quick || only !== undefined) {
    console.log('\nbench/RESULTS.md not written (quick or partial run).');
    return;
  }
  const met = targets.filter((t) => t.met).length;
  const markdown = [
    '# secretcache benchmark results',
    '',
    'Written by `npm run bench` (`bench/run.ts`); do not edit by hand. `npm run bench:quick` checks the same',
    'scenarios briefly and writes nothing.',
    '',
    environment,
    `- Duration: ${elapsed} s`,
    '',
    `## Targets: ${met} of ${targets.length} met`,
    '',
    summary,
    '',
    ...results.flatMap((r) => [`## ${r.title}`, '', r.markdown, '']),
  ].join('\n');
  const path = fileURLToPath(new URL('./RESULTS.md', import.meta.url));
  writeFileSync(path, markdown);
  console.log(`\nWrote ${path}`);
}

main().then(
  // Peers leave timers behind (middy's cache refresh); the results are in, so leave now.
  () => process.exit(0),
  (error: unknown) => {
    console.error('\nBENCHMARK FAILED:', error);
    process.exit(1);
  },
);

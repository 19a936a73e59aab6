import { parseArgs } from 'node:util';
import { fuzz, TARGET_NAMES, type TargetReport } from './run.js';

/**
 * pnpm fuzz [--cases 10000] [--target png,npz] [--seed 1] [--from 0] [--case-timeout-ms 5000] [--max-rss-mb 1536] [--json]
 *
 * Mutates valid seed files of every format and feeds them to the parsers.
 * Each case must end in a VitkitError or a result, within the per-case time
 * limit and the memory limit; the exit status is 1 when any case did not.
 */
const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' },
    target: { type: 'string' },
    seed: { type: 'string', default: '1' },
    from: { type: 'string', default: '0' },
    'case-timeout-ms': { type: 'string', default: '5000' },
    'max-rss-mb': { type: 'string', default: '1536' },
    json: { type: 'boolean', default: false },
  },
});

const targets = values.target ? values.target.split(',') : TARGET_NAMES;
const started = performance.now();
const pad = (s: string | number, n: number) => String(s).padStart(n);
const line = (r: TargetReport) =>
  `${r.target.padEnd(18)}${pad(r.cases, 7)}${pad(r.ok, 7)}${pad(r.typed, 7)}${pad(r.failures.length, 9)}${pad(r.seconds.toFixed(1), 9)}${pad(r.slowest.ms.toFixed(0), 10)}${pad(r.peakRssMb, 10)}`;
if (!values.json) console.log(`${'target'.padEnd(18)}${pad('cases', 7)}${pad('ok', 7)}${pad('typed', 7)}${pad('failures', 9)}${pad('time s', 9)}${pad('slowest', 10)}${pad('peak MiB', 10)}`);
const reports: TargetReport[] = [];
for (const target of targets) {
  const [r] = await fuzz({
    cases: Number(values.cases),
    from: Number(values.from),
    seed: Number(values.seed),
    targets: [target],
    caseTimeoutMs: Number(values['case-timeout-ms']),
    maxRssMb: Number(values['max-rss-mb']),
  });
  reports.push(r!);
  if (!values.json) {
    console.log(line(r!));
    for (const f of r!.failures.slice(0, 5)) console.log(`  case ${f.index} ${f.kind}: ${f.error}\n    (${f.how})`);
  }
}
const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
const failures = reports.reduce((n, r) => n + r.failures.length, 0);
if (values.json) console.log(JSON.stringify({ reports, maxRssMb, seconds: (performance.now() - started) / 1000 }));
else console.log(`\n${reports.reduce((n, r) => n + r.cases, 0)} cases in ${((performance.now() - started) / 1000).toFixed(1)} s, process peak RSS ${maxRssMb} MiB, ${failures} failures`);
process.exitCode = failures > 0 ? 1 : 0;

// Reads `redocly lint --format=json` output (file in argv[2]), prints one
// line per problem and exits 1 if there is any error or warning: the spec is
// held to zero warnings, and redocly.yaml is where a rule is relaxed, with
// the reason beside it.
import { readFileSync } from 'node:fs';

let report;
try {
  report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
} catch (e) {
  console.error(`lint: cannot read the linter's report: ${e.message}`);
  process.exit(1);
}
const { errors = 0, warnings = 0, ignored = 0 } = report.totals ?? {};
for (const p of report.problems ?? []) {
  const where = p.location?.[0]?.pointer ?? '';
  console.error(`lint: ${p.severity} ${p.ruleId} at ${where}: ${p.message}`);
}
console.log(`lint: redocly ${report.version}: ${errors} errors, ${warnings} warnings, ${ignored} ignored`);
process.exit(errors || warnings ? 1 : 0);

// The cross-platform workflow's smoke check (.github/workflows/cross-platform.yml): reads a
// `dbdoctor diagnose --format json` report on stdin and exits 1 unless its verdict is the expected
// cause, read from a real look at this machine ("localServers" a list, never "not inspected"),
// with a fix that contains each given text. Usage:
//   node bin/dbdoctor.js diagnose --format json URL | node scripts/smoke-check.mjs wrong_port [--port 5432] [--fix 'brew services start']
import { readFileSync } from 'node:fs';

const [cause, ...rest] = process.argv.slice(2);
const wantedPorts = [];
const wantedFixes = [];
for (let index = 0; index < rest.length; index += 2) {
  if (rest[index] === '--port') wantedPorts.push(Number(rest[index + 1]));
  else if (rest[index] === '--fix') wantedFixes.push(rest[index + 1] ?? '');
  else throw new Error(`unknown argument ${rest[index]}`);
}
const report = JSON.parse(readFileSync(0, 'utf8'));
const target = report.targets?.[0];
const problems = [];
if (target?.verdict?.cause !== cause) problems.push(`verdict ${target?.verdict?.cause}: ${target?.verdict?.message}`);
const details = target?.verdict?.details ?? {};
if (!Array.isArray(details.localServers))
  problems.push(`this machine was not read: localServers is ${JSON.stringify(details.localServers)} (${JSON.stringify(details.hostView ?? {})})`);
for (const port of wantedPorts)
  if (!(details.listeningPorts ?? []).includes(port)) problems.push(`port ${port} not among ${JSON.stringify(details.listeningPorts)}`);
const commands = (target?.verdict?.remediation ?? []).map((fix) => fix.command ?? '').join('\n');
for (const fix of wantedFixes) if (!commands.includes(fix)) problems.push(`no fix with "${fix}" in:\n${commands}`);
process.stdout.write(`${target?.verdict?.step}/${target?.verdict?.cause}: ${target?.verdict?.message}\n`);
if (problems.length > 0) {
  process.stderr.write(`smoke check failed (${report.environment?.platform ?? '?'}):\n  ${problems.join('\n  ')}\n`);
  process.exit(1);
}

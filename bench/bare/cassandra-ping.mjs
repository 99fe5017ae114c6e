// The least a user would write instead of dbdoctor for Cassandra: connect with cassandra-driver,
// read the server's release, shut down. bench/engines.ts times it beside `dbdoctor diagnose`
// (issue 15: dbdoctor within 1.5× of this). Takes dbdoctor's URL: cassandra://user:pass@host:port/keyspace?dc=…
import cassandra from 'cassandra-driver';

const url = new URL(process.argv[2]);
const client = new cassandra.Client({
  contactPoints: [`${url.hostname}:${url.port || 9042}`],
  localDataCenter: url.searchParams.get('dc') ?? 'datacenter1',
  ...(url.username ? { credentials: { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } } : {}),
  ...(url.pathname.length > 1 ? { keyspace: decodeURIComponent(url.pathname.slice(1)) } : {}),
});
try {
  await client.connect();
  const result = await client.execute('SELECT release_version FROM system.local');
  process.stdout.write(`ok ${result.first()?.release_version}\n`);
} finally {
  await client.shutdown();
}

// Makes one connection attempt with a Node.js database client and logs the error the way an
// application does (console.error(error)). Used by ../capture.ts.
//
//   node clients.mjs <client> '<json case>'     client: pg | mongodb | cassandra
const [client, json] = process.argv.slice(2);
const c = JSON.parse(json);
const timeout = c.timeoutMs ?? 3000;
try {
  if (client === 'pg') {
    const { default: pg } = await import('pg');
    const connection = new pg.Client({ connectionString: c.url, connectionTimeoutMillis: timeout });
    await connection.connect();
    // "sql": statements to run once connected ("@sleep <ms>" pauses), for faults inside a session.
    for (const statement of c.sql ?? []) {
      if (statement.startsWith('@sleep ')) await new Promise((resolve) => setTimeout(resolve, Number(statement.split(' ')[1])));
      else await connection.query(statement);
    }
    await connection.end();
  } else if (client === 'mongodb') {
    const { MongoClient } = await import('mongodb');
    const mongo = new MongoClient(c.url, { serverSelectionTimeoutMS: timeout, connectTimeoutMS: timeout });
    await mongo.connect();
    // "command": the admin command to run once connected (ping needs no login; listDatabases does).
    await mongo.db('admin').command({ [c.command ?? 'ping']: 1 });
    await mongo.close();
  } else if (client === 'cassandra') {
    const { Client, auth, types } = await import('cassandra-driver');
    const { readFileSync } = await import('node:fs');
    const cassandra = new Client({
      contactPoints: [`${c.host}:${c.port}`],
      localDataCenter: c.dc ?? 'datacenter1',
      ...(c.keyspace ? { keyspace: c.keyspace } : {}),
      ...(c.protocolVersion ? { protocolOptions: { maxVersion: c.protocolVersion } } : {}),
      socketOptions: { connectTimeout: timeout, readTimeout: timeout },
      ...(c.user ? { authProvider: new auth.PlainTextAuthProvider(c.user, c.password) } : {}),
      ...(c.tls ? { sslOptions: { ...(c.caFile ? { ca: [readFileSync(c.caFile)] } : {}), servername: c.host } } : {}),
    });
    await cassandra.connect();
    // "cql": one statement once connected, at "consistency" (a name such as LOCAL_QUORUM).
    if (c.cql) {
      const level = types.consistencies[(c.consistency ?? 'LOCAL_ONE').toLowerCase().replace(/_(\w)/g, (_, letter) => letter.toUpperCase())];
      await cassandra.execute(c.cql, [], { consistency: level });
    }
    await cassandra.shutdown();
  } else {
    throw new Error(`unknown client ${client}`);
  }
  console.log('connected');
  process.exit(0);
} catch (error) {
  console.error(error);
  process.exit(1);
}

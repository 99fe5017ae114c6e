// The least a user would write instead of dbdoctor for MongoDB: connect with the driver, ping, close.
// bench/engines.ts times it beside `dbdoctor diagnose` (issue 15: dbdoctor within 1.5× of this).
import { MongoClient } from 'mongodb';

const client = new MongoClient(process.argv[2], { serverSelectionTimeoutMS: 10_000 });
try {
  await client.connect();
  await client.db('admin').command({ ping: 1 });
  process.stdout.write('ok\n');
} finally {
  await client.close();
}

/**
 * Child process: runs PGlite's initdb into the directory given as argv[2] and exits, so the
 * ~750 MB the WASM heap grows to during initdb is returned to the OS with the process.
 */
import { PGlite } from '@electric-sql/pglite';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: pglite-initdb <dataDir>');
  process.exit(2);
}
const db = await PGlite.create({ dataDir: dir });
await db.query('SELECT 1');
await db.close();
process.exit(0);

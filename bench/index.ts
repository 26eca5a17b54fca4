// `npm run bench -- <name> [options]`: runs one benchmark; its last output line is one JSON object.
import * as causal from './causal';
import * as cliUpload from './cli-upload';
import * as faults from './faults';
import * as features from './features';
import * as icl from './icl';
import * as importArrays from './import';
import * as leaderboard from './leaderboard';
import * as nsdImport from './nsd-import';
import * as ridge from './ridge';
import * as rsa from './rsa';
import * as sites from './sites';

const benches: Record<string, { main: (args: string[]) => Promise<void> }> = { ridge, causal, import: importArrays, leaderboard, icl, 'cli-upload': cliUpload, sites, features, 'nsd-import': nsdImport, faults, rsa };

async function run(): Promise<void> {
  const [name, ...args] = process.argv.slice(2);
  const load = name ? benches[name] : undefined;
  if (!load) {
    console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [--small]`);
    process.exit(2);
  }
  await load.main(args);
}

run().catch((err) => {
  console.error(err);
  process.exit(1);
});

// Prisma CLI configuration. The native schema engine is never downloaded: migration commands
// run through scripts/schema-engine (the published WASM engine), which also works air-gapped.
import path from 'node:path';
import { defineConfig } from 'prisma/config';

process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= path.join(__dirname, 'scripts', 'schema-engine');

export default defineConfig({
  schema: path.join(__dirname, 'prisma', 'schema.prisma'),
  migrations: { path: path.join(__dirname, 'prisma', 'migrations') },
  datasource: {
    url: process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/brainalign',
    shadowDatabaseUrl: process.env.SHADOW_DATABASE_URL,
  },
});

// Result types of the dashboard's operations (web/src/graphql), generated from the same SDL as the
// server's resolver types, so a schema change that breaks a page fails `tsc -p web`.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'src/schema/*.graphql',
  documents: 'web/src/graphql/*.ts',
  generates: {
    'web/src/generated/graphql.ts': {
      plugins: ['typescript-operations'],
      config: {
        onlyOperationTypes: true,
        enumsAsTypes: true,
        avoidOptionals: true,
        scalars: { DateTime: 'string', JSON: 'unknown', BigInt: 'string' },
      },
    },
  },
};
export default config;

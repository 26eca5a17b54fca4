import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

export const DateTime = new GraphQLScalarType({
  name: 'DateTime',
  serialize: (v) => (v instanceof Date ? v.toISOString() : new Date(v as string).toISOString()),
  parseValue: (v) => parseDate(v),
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

function parseDate(v: unknown): Date {
  const d = new Date(typeof v === 'string' ? v : NaN);
  if (Number.isNaN(d.getTime())) throw new GraphQLError('Expected an ISO-8601 date-time string', { extensions: { code: 'BAD_USER_INPUT' } });
  return d;
}

export const JSON = new GraphQLScalarType({
  name: 'JSON',
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: function literal(ast): unknown {
    switch (ast.kind) {
      case Kind.STRING:
      case Kind.BOOLEAN:
        return ast.value;
      case Kind.INT:
      case Kind.FLOAT:
        return Number(ast.value);
      case Kind.NULL:
        return null;
      case Kind.LIST:
        return ast.values.map(literal);
      case Kind.OBJECT:
        return Object.fromEntries(ast.fields.map((f) => [f.name.value, literal(f.value)]));
      default:
        throw new GraphQLError('Variables are not allowed inside JSON literals', { extensions: { code: 'BAD_USER_INPUT' } });
    }
  },
});

/** Sizes travel as decimal strings: JSON numbers lose precision above 2^53. */
export const BigInt_ = new GraphQLScalarType({
  name: 'BigInt',
  serialize: (v) => String(v),
  parseValue: (v) => parseBig(v),
  parseLiteral: (ast) => parseBig(ast.kind === Kind.STRING || ast.kind === Kind.INT ? ast.value : undefined),
});

function parseBig(v: unknown): bigint {
  if ((typeof v === 'string' && /^\d+$/.test(v)) || (typeof v === 'number' && Number.isSafeInteger(v))) return BigInt(v);
  throw new GraphQLError('Expected a non-negative integer (as a string or number)', { extensions: { code: 'BAD_USER_INPUT' } });
}

// `nameContains` means "contains this text": PostgreSQL's LIKE (which Prisma's `contains` uses,
// without escaping) would read % and _ in it as wildcards, so "%" matched every name.

/** `text` with LIKE's wildcards and its escape character (backslash, PostgreSQL's default) escaped. */
export function likeLiteral(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

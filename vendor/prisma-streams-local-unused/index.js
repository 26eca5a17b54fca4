// `prisma dev` starts a local durable-streams server from this package; the real one needs
// Node.js 22 and BrainAlign runs its own PostgreSQL instead, so the command is not supported here.
exports.startLocalDurableStreamsServer = async () => {
  throw new Error('`prisma dev` is not supported in BrainAlign: use `npm start` (embedded PostgreSQL) or DATABASE_URL.');
};

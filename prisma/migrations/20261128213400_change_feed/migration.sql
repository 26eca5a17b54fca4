-- Change feed for response caches (src/db/change-feed.ts): every committed change to what a
-- leaderboard shows sends one notification per transaction and table. Not modelled by Prisma.
CREATE FUNCTION brainalign_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('brainalign_data_changed', TG_TABLE_NAME);
  RETURN NULL;
END $$;

CREATE TRIGGER "Score_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Score"
  FOR EACH STATEMENT EXECUTE FUNCTION brainalign_notify_change();
-- Runs change progress many times a second while they work; only what a board shows matters.
CREATE TRIGGER "Run_inserted_deleted" AFTER INSERT OR DELETE OR TRUNCATE ON "Run"
  FOR EACH STATEMENT EXECUTE FUNCTION brainalign_notify_change();
CREATE TRIGGER "Run_changed" AFTER UPDATE OF status, visibility, "sharedWith", "labId", provenance, "benchmarkId", "modelId", "subjectId" ON "Run"
  FOR EACH STATEMENT EXECUTE FUNCTION brainalign_notify_change();
CREATE TRIGGER "Benchmark_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Benchmark"
  FOR EACH STATEMENT EXECUTE FUNCTION brainalign_notify_change();
CREATE TRIGGER "Model_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Model"
  FOR EACH STATEMENT EXECUTE FUNCTION brainalign_notify_change();
CREATE TRIGGER "Subject_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Subject"
  FOR EACH STATEMENT EXECUTE FUNCTION brainalign_notify_change();
CREATE TRIGGER "Roi_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Roi"
  FOR EACH STATEMENT EXECUTE FUNCTION brainalign_notify_change();
CREATE TRIGGER "Dataset_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Dataset"
  FOR EACH STATEMENT EXECUTE FUNCTION brainalign_notify_change();
CREATE TRIGGER "Lab_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "Lab"
  FOR EACH STATEMENT EXECUTE FUNCTION brainalign_notify_change();
CREATE TRIGGER "ImportedScore_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "ImportedScore"
  FOR EACH STATEMENT EXECUTE FUNCTION brainalign_notify_change();
CREATE TRIGGER "TrustedSite_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "TrustedSite"
  FOR EACH STATEMENT EXECUTE FUNCTION brainalign_notify_change();
-- Cached token resolutions (src/auth/token-cache.ts) end with any change to who a token is.
CREATE TRIGGER "ApiToken_changed" AFTER UPDATE OF "revokedAt", "expiresAt", "secretHash", "userId", prefix ON "ApiToken"
  FOR EACH STATEMENT EXECUTE FUNCTION brainalign_notify_change();
CREATE TRIGGER "ApiToken_deleted" AFTER DELETE OR TRUNCATE ON "ApiToken"
  FOR EACH STATEMENT EXECUTE FUNCTION brainalign_notify_change();
CREATE TRIGGER "User_changed" AFTER UPDATE OR DELETE OR TRUNCATE ON "User"
  FOR EACH STATEMENT EXECUTE FUNCTION brainalign_notify_change();
CREATE TRIGGER "LabMembership_changed" AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "LabMembership"
  FOR EACH STATEMENT EXECUTE FUNCTION brainalign_notify_change();

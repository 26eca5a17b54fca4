-- A run's visibility follows every input it read, not its dataset alone.
ALTER TABLE "Run" ADD COLUMN     "ownerReads" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN     "ownVisibility" "Visibility" NOT NULL DEFAULT 'PUBLIC',
ADD COLUMN     "ownSharedWith" UUID[] DEFAULT ARRAY[]::UUID[],
ADD COLUMN     "inputDatasetIds" UUID[] DEFAULT ARRAY[]::UUID[],
ADD COLUMN     "inputModelIds" UUID[] DEFAULT ARRAY[]::UUID[],
ADD COLUMN     "inputRunIds" UUID[] DEFAULT ARRAY[]::UUID[];

CREATE INDEX "Run_inputDatasetIds_idx" ON "Run" USING GIN ("inputDatasetIds");
CREATE INDEX "Run_inputModelIds_idx" ON "Run" USING GIN ("inputModelIds");
CREATE INDEX "Run_inputRunIds_idx" ON "Run" USING GIN ("inputRunIds");

-- Existing runs: what was set on them becomes their own visibility; their inputs are what the
-- catalog still names (model, subject's dataset, benchmark's dataset or VQA images, sweep parent,
-- causal encoder run).
UPDATE "Run" r SET "ownVisibility" = r.visibility, "ownSharedWith" = r."sharedWith",
  "inputModelIds" = CASE WHEN r."modelId" IS NULL THEN ARRAY[]::UUID[] ELSE ARRAY[r."modelId"] END,
  "inputDatasetIds" = ARRAY(
    SELECT DISTINCT x FROM (
      SELECT s."datasetId" AS x FROM "Subject" s WHERE s.id = r."subjectId"
      UNION SELECT b."datasetId" FROM "Benchmark" b WHERE b.id = r."benchmarkId" AND b."datasetId" IS NOT NULL
      UNION SELECT ss."datasetId" FROM "VqaSource" v JOIN "StimulusSet" ss ON ss.id = v."stimulusSetId" WHERE v."benchmarkId" = r."benchmarkId"
    ) d),
  "inputRunIds" = ARRAY(
    SELECT x FROM (
      SELECT r."parentRunId" AS x WHERE r."parentRunId" IS NOT NULL
      UNION SELECT e.id FROM "Run" e WHERE e.id::text = r.params->>'encoderRunId'
    ) p);

-- Conservatively narrow runs that read something less visible than they are: a run readable more
-- widely than any input becomes private to its lab (the API re-derives exactly on the next change).
UPDATE "Run" r SET visibility = 'PRIVATE', "sharedWith" = ARRAY[]::UUID[]
WHERE r.visibility <> 'PRIVATE' AND (
  EXISTS (SELECT 1 FROM "Dataset" d WHERE d.id = ANY(r."inputDatasetIds") AND (d.visibility = 'PRIVATE' OR (d.visibility = 'SHARED' AND r.visibility = 'PUBLIC') OR (d.visibility = 'SHARED' AND NOT (r."sharedWith" <@ d."sharedWith"))))
  OR EXISTS (SELECT 1 FROM "Model" m WHERE m.id = ANY(r."inputModelIds") AND (m.visibility = 'PRIVATE' OR (m.visibility = 'SHARED' AND r.visibility = 'PUBLIC') OR (m.visibility = 'SHARED' AND NOT (r."sharedWith" <@ m."sharedWith")))));

-- Then runs that read a narrowed run (a causal test's encoder, a sweep child's parent), until none is left.
DO $$
BEGIN
  LOOP
    UPDATE "Run" r SET visibility = 'PRIVATE', "sharedWith" = ARRAY[]::UUID[]
    WHERE r.visibility <> 'PRIVATE' AND EXISTS (SELECT 1 FROM "Run" e WHERE e.id = ANY(r."inputRunIds")
      AND (e.visibility = 'PRIVATE' OR (e.visibility = 'SHARED' AND r.visibility = 'PUBLIC') OR (e.visibility = 'SHARED' AND NOT (r."sharedWith" <@ e."sharedWith"))));
    EXIT WHEN NOT FOUND;
  END LOOP;
END $$;

-- Leaderboard caches also end when a run's derived access changes only in whether its lab reads it.
DROP TRIGGER "Run_changed" ON "Run";
CREATE TRIGGER "Run_changed" AFTER UPDATE OF status, visibility, "sharedWith", "ownerReads", "labId", provenance, "benchmarkId", "modelId", "subjectId" ON "Run"
  FOR EACH STATEMENT EXECUTE FUNCTION brainalign_notify_change();

-- Lab admins invite members by name with a one-time code instead of adding existing users
-- directly, so the answer never reveals whether a user of that name exists.
CREATE TABLE "LabInvitation" (
    "id" UUID NOT NULL,
    "labId" UUID NOT NULL,
    "userName" TEXT NOT NULL,
    "role" "LabRole" NOT NULL,
    "codeHash" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "LabInvitation_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "LabInvitation_codeHash_key" ON "LabInvitation"("codeHash");

-- CreateIndex
CREATE UNIQUE INDEX "LabInvitation_labId_userName_key" ON "LabInvitation"("labId", "userName");

-- CreateIndex
CREATE INDEX "LabInvitation_expiresAt_idx" ON "LabInvitation"("expiresAt");

-- AddForeignKey
ALTER TABLE "LabInvitation" ADD CONSTRAINT "LabInvitation_labId_fkey" FOREIGN KEY ("labId") REFERENCES "Lab"("id") ON DELETE CASCADE ON UPDATE CASCADE;
